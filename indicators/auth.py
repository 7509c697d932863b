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

# Online guessing is throttled per client address and per account (indicators/auth.Throttle, staff sign-in).
WINDOW_S = 300                 # failures older than this are forgotten
ADDRESS_FREE_FAILURES = 3      # failures of one address before it must wait between attempts
ACCOUNT_FREE_FAILURES = 10     # failures of one account (from several addresses) before it must wait
ADDRESS_SHARE = 3              # at most this many failures of one address count against an account
MAX_WAIT_S = 60.0


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
    return ok


def _wait(n_over: int) -> float:
    """Seconds between attempts once `n_over` failures are over the free ones (1 s, 2 s, 4 s… at most 60 s)."""
    return min(MAX_WAIT_S, 2.0 ** min(n_over, 16))


class Throttle:
    """Failed sign-ins of the process, by client address and by account (role).

    An address that failed `ADDRESS_FREE_FAILURES` times waits before its next attempt is even checked
    (1 s, then doubling, at most 60 s): one guesser is slowed down without touching anyone else. An account
    that failed `ACCOUNT_FREE_FAILURES` times waits too, whatever the address: many sessions or addresses
    cannot share the guessing of one account. One address adds at most `ADDRESS_SHARE` failures to an account,
    so a single guesser can never make the account wait for everyone. A waiting attempt is refused, not slept:
    parallel sessions do not get more attempts. `clock` (seconds) is injectable for tests."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._address: dict[str, list[float]] = {}
        self._account: dict[str, list[tuple[float, str]]] = {}

    def _prune(self, now: float) -> None:
        for d in (self._address, self._account):
            for k in list(d):
                d[k] = [e for e in d[k] if now - (e if isinstance(e, float) else e[0]) < WINDOW_S]
                if not d[k]:
                    del d[k]

    def wait(self, accounts, address: str) -> float:
        """Seconds before an attempt from `address` on `accounts` may be checked (0: now)."""
        now = self._clock()
        with self._lock:
            self._prune(now)
            waits = [0.0]
            mine = self._address.get(address, [])
            if len(mine) >= ADDRESS_FREE_FAILURES:
                waits.append(mine[-1] + _wait(len(mine) - ADDRESS_FREE_FAILURES) - now)
            for account in accounts:
                entries = self._account.get(account, [])
                per_address: dict[str, int] = {}
                for _, a in entries:
                    per_address[a] = per_address.get(a, 0) + 1
                n = sum(min(c, ADDRESS_SHARE) for c in per_address.values())
                if n >= ACCOUNT_FREE_FAILURES:
                    waits.append(entries[-1][0] + _wait(n - ACCOUNT_FREE_FAILURES) - now)
            return max(waits)

    def failed(self, accounts, address: str) -> None:
        now = self._clock()
        with self._lock:
            self._address.setdefault(address, []).append(now)
            for account in accounts:
                self._account.setdefault(account, []).append((now, address))

    def succeeded(self, address: str) -> None:
        """A right password: the address starts afresh (the accounts' counts stay)."""
        with self._lock:
            self._address.pop(address, None)

    def reset(self) -> None:
        with self._lock:
            self._address.clear()
            self._account.clear()


THROTTLE = Throttle()


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
