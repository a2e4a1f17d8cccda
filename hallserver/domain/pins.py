"""Officer PINs, stored only as salted PBKDF2 hashes.

Pure computation (hashlib), so the engine can check a PIN without any I/O. A check costs ~20 ms of
CPU; `prove` lets an adapter do it ahead, in a worker thread (PBKDF2 releases the GIL), so that the
morning's thousands of logins use every core and never hold up the other messages (hallserver/mqtt.py).
"""

import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict

_ALGO = "pbkdf2_sha256"
_ITERATIONS = 60_000
_PROOFS_MAX = 4096  # verdicts checked ahead and not yet used (each is used once, within milliseconds)
_proofs: "OrderedDict[tuple[str, str], list]" = OrderedDict()  # (stored, pin) -> [verdict, uses left]
_proofs_lock = threading.Lock()


def hash_pin(pin: str, salt: str | None = None, iterations: int = _ITERATIONS) -> str:
    salt = salt or secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt.encode(), iterations).hex()
    return f"{_ALGO}${iterations}${salt}${digest}"


def _check(stored: str, pin: str) -> bool:
    try:
        algo, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    if algo != _ALGO:
        return False
    candidate = hash_pin(pin, salt, int(iterations)).split("$")[3]
    return hmac.compare_digest(candidate, digest)


def verify_pin(stored: str, pin: str) -> bool:
    """Whether `pin` matches `stored`: the verdict `prove` made ahead if there is one (used once),
    else checked now."""
    key = (stored, pin)
    with _proofs_lock:
        proof = _proofs.get(key)
        if proof is not None:
            proof[1] -= 1
            if proof[1] == 0:
                del _proofs[key]
    return _check(stored, pin) if proof is None else proof[0]


def prove(stored: str, pin: str) -> bool:
    """Check now (any thread) and keep the verdict for one more `verify_pin` of the same pair."""
    verdict = _check(stored, pin)
    with _proofs_lock:
        proof = _proofs.setdefault((stored, pin), [verdict, 0])
        proof[1] += 1
        while len(_proofs) > _PROOFS_MAX:
            _proofs.popitem(last=False)
    return verdict


def proved(stored: str, pin: str) -> bool:
    """Whether a verdict for this pair is waiting (so `verify_pin` will not compute)."""
    with _proofs_lock:
        return (stored, pin) in _proofs
