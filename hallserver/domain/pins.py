"""Officer PINs, stored only as salted PBKDF2 hashes.

Pure computation (hashlib), so the engine can check a PIN without any I/O.
"""

import hashlib
import hmac
import secrets

_ALGO = "pbkdf2_sha256"
_ITERATIONS = 60_000


def hash_pin(pin: str, salt: str | None = None, iterations: int = _ITERATIONS) -> str:
    salt = salt or secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt.encode(), iterations).hex()
    return f"{_ALGO}${iterations}${salt}${digest}"


def verify_pin(stored: str, pin: str) -> bool:
    try:
        algo, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    if algo != _ALGO:
        return False
    candidate = hash_pin(pin, salt, int(iterations)).split("$")[3]
    return hmac.compare_digest(candidate, digest)
