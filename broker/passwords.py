"""Mosquitto's password hashes (`$7$`, PBKDF2-HMAC-SHA512), made and checked in Python.

`mosquitto_passwd` writes `user:$7$<iterations>$<base64 salt>$<base64 hash>` (12-byte salt,
64-byte SHA-512 derived key, 101 iterations by default, standard base64 with padding). The
same file serves Mosquitto and the embedded broker, so the hall keeps one hash per device.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from pathlib import Path

__all__ = ["DEFAULT_ITERATIONS", "hash_password", "new_password", "read_password_file", "verify_password"]

DEFAULT_ITERATIONS = 101  # what mosquitto_passwd uses
_SALT_BYTES = 12
_KEY_BYTES = 64


def _derive(password: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations, _KEY_BYTES)


def hash_password(password: str, iterations: int = DEFAULT_ITERATIONS, salt: bytes | None = None) -> str:
    """The `$7$...` hash Mosquitto 2 accepts in a password_file."""
    if not password:
        raise ValueError("an empty password is not a password")
    salt = secrets.token_bytes(_SALT_BYTES) if salt is None else salt
    b64 = base64.b64encode
    return f"$7${iterations}${b64(salt).decode()}${b64(_derive(password, salt, iterations)).decode()}"


def verify_password(password: str, encoded: str) -> bool:
    """True when `password` matches a `$7$` hash; False for a wrong password or any other format."""
    parts = encoded.split("$")
    if len(parts) != 5 or parts[0] or parts[1] != "7" or not parts[2].isdigit():
        return False
    try:
        salt, want = base64.b64decode(parts[3], validate=True), base64.b64decode(parts[4], validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(_derive(password, salt, int(parts[2])), want)


def new_password() -> str:
    """A random device password (128 bits, URL-safe so it fits in mqtt://user:pass@host)."""
    return secrets.token_urlsafe(16)


def read_password_file(path: str | Path) -> dict[str, str]:
    """`user:hash` lines (comments and blank lines skipped) as a dict."""
    users: dict[str, str] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and ":" in line:
            user, _, encoded = line.partition(":")
            users[user] = encoded
    return users
