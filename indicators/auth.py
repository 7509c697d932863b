"""The administrator password of the import page: PBKDF2-SHA256 hashes, checked in constant time.

The hash lives in `.streamlit/secrets.toml` (never committed):

    [admin]
    password_hash = "pbkdf2_sha256$600000$<salt>$<hash>"

`python -m indicators hash-password` writes that line. No Streamlit here: the import page
reads `st.secrets` and passes the stored text to `verify`.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time

ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 600_000          # OWASP 2023 recommendation for PBKDF2-HMAC-SHA256
MIN_ITERATIONS = 1_000        # below this a stored hash is treated as malformed
MAX_ITERATIONS = 10_000_000   # a hostile secrets file must not hang the server
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024

# Failed attempts slow every later attempt of the process down (online guessing).
_FAILURES_WINDOW_S = 300
_failures: list[float] = []
_failures_lock = threading.Lock()


class BadHash(ValueError):
    """The configured hash is not in the expected format (French message)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def hash_password(password: str, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    if not MIN_ITERATIONS <= iterations <= MAX_ITERATIONS:
        raise ValueError(f"nombre d'itérations hors bornes ({MIN_ITERATIONS} à {MAX_ITERATIONS})")
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"{ALGORITHM}${iterations}${_b64(salt)}${_b64(digest)}"


def parse(stored: str) -> tuple[int, bytes, bytes]:
    """(iterations, salt, digest) of a stored hash; BadHash with the reason otherwise."""
    parts = str(stored).strip().split("$")
    if len(parts) != 4 or parts[0] != ALGORITHM:
        raise BadHash("l'empreinte doit avoir la forme « pbkdf2_sha256$itérations$sel$empreinte »")
    try:
        iterations = int(parts[1])
        salt, digest = _unb64(parts[2]), _unb64(parts[3])
    except ValueError:
        raise BadHash("l'empreinte contient des caractères invalides (itérations entières, sel et empreinte en base64)") from None
    if not MIN_ITERATIONS <= iterations <= MAX_ITERATIONS:
        raise BadHash(f"nombre d'itérations hors bornes ({MIN_ITERATIONS} à {MAX_ITERATIONS})")
    if len(salt) < 8 or len(digest) != 32:
        raise BadHash("sel trop court ou empreinte de mauvaise longueur")
    return iterations, salt, digest


def verify(password: str, stored: str) -> bool:
    """True when `password` matches `stored` (constant-time comparison; BadHash if `stored` is malformed)."""
    iterations, salt, digest = parse(stored)
    if not isinstance(password, str) or not password or len(password) > MAX_PASSWORD_LENGTH:
        ok = False
    else:
        ok = hmac.compare_digest(hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations), digest)
    if not ok:
        _record_failure()
    return ok


def _record_failure() -> None:
    now = time.monotonic()
    with _failures_lock:
        _failures[:] = [t for t in _failures if now - t < _FAILURES_WINDOW_S]
        _failures.append(now)


def delay_before_attempt() -> float:
    """Seconds to wait before checking a password: grows with the recent failures of the process (max 10 s)."""
    now = time.monotonic()
    with _failures_lock:
        recent = sum(1 for t in _failures if now - t < _FAILURES_WINDOW_S)
    return 0.0 if recent < 3 else min(10.0, 0.5 * 2 ** (recent - 3))


def check_strength(password: str) -> str | None:
    """A French reason when the password is too weak to protect the import page, else None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"mot de passe trop court : {MIN_PASSWORD_LENGTH} caractères au moins"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"mot de passe trop long : {MAX_PASSWORD_LENGTH} caractères au plus"
    if len(set(password)) < 5:
        return "mot de passe trop répétitif"
    return None


def secrets_snippet(stored: str) -> str:
    return f'[admin]\npassword_hash = "{stored}"\n'
