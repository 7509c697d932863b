"""Signing in the Agency's staff (no page of its own): the administrator (loads data files, edits the plan)
and the « éditeur » role (edits the plan d'actions, never loads data). Each role has its PBKDF2 hash in
`.streamlit/secrets.toml`:

    [admin]
    password_hash = "pbkdf2_sha256$..."
    [editeur]
    password_hash = "pbkdf2_sha256$..."

`python -m indicators hash-password` prints a hash. The name typed at sign-in goes to the import journal
and to the plan's history.
"""
from __future__ import annotations

import math
import time

import streamlit as st
from streamlit.errors import StreamlitAPIException

from indicators import auth, format as fmt

SIGNED_IN = "_admin_nom"
SIGNED_IN_AT = "_admin_depuis"
ROLE = "_role"
SESSION_HOURS = 2
ROLES = {"admin": "administrateur", "editeur": "éditeur"}


def configured_hash(role: str = "admin") -> str | None:
    try:
        section = st.secrets.get(role)
    except (FileNotFoundError, StreamlitAPIException, ValueError):  # no secrets file, or unreadable
        return None
    value = section.get("password_hash") if hasattr(section, "get") else None
    return value if isinstance(value, str) and value.strip() else None


def hashes() -> dict[str, str]:
    """role -> valid configured hash (a malformed one is left out)."""
    out = {}
    for role in ROLES:
        h = configured_hash(role)
        if h is None:
            continue
        try:
            auth.parse(h)
        except auth.BadHash:
            continue
        out[role] = h
    return out


def signed_in() -> tuple[str, str] | None:
    """(name, role) of the signed-in person of this session, or None."""
    name, since = st.session_state.get(SIGNED_IN), st.session_state.get(SIGNED_IN_AT, 0.0)
    if name and time.time() - since < SESSION_HOURS * 3600:
        return name, st.session_state.get(ROLE, "admin")
    st.session_state.pop(SIGNED_IN, None)
    return None


def sign_out(*extra_keys: str) -> None:
    for k in (SIGNED_IN, SIGNED_IN_AT, ROLE, *extra_keys):
        st.session_state.pop(k, None)


def sign_in_form(stored: dict[str, str], key: str = "connexion",
                 name_label: str = "Votre nom (inscrit au journal des imports)") -> None:
    """Name and password; the password says the role (administrateur, else éditeur)."""
    with st.form(key, clear_on_submit=True):
        name = st.text_input(name_label, max_chars=80)
        password = st.text_input("Mot de passe", type="password", max_chars=auth.MAX_PASSWORD_LENGTH)
        submitted = st.form_submit_button("Se connecter", icon=":material/login:")
    if not submitted:
        return
    if not name.strip():
        st.error(fmt.typeset("Indiquez votre nom : il est inscrit au journal et à l'historique des modifications."))
        return
    address, accounts = client_address(), [r for r in ("admin", "editeur") if stored.get(r)]
    wait = auth.THROTTLE.wait(accounts, address)
    if wait > 0:   # refused before the password is even checked
        st.error(fmt.typeset(f"Trop de tentatives de connexion échouées : réessayez dans {math.ceil(wait)} s."))
        return
    for role in ("admin", "editeur"):
        h = stored.get(role)
        if h and auth.verify(password, h):
            auth.THROTTLE.succeeded(address)
            st.session_state[SIGNED_IN] = " ".join(name.split())[:80]
            st.session_state[SIGNED_IN_AT] = time.time()
            st.session_state[ROLE] = role
            st.rerun()
    auth.THROTTLE.failed(accounts, address)
    st.error("Mot de passe incorrect.")


_LOCAL = ("127.0.0.1", "::1", "localhost")


def client_address() -> str:
    """The client's address for sign-in throttling: Streamlit's `st.context.ip_address`; behind a reverse
    proxy on the same machine (loopback address), the last hop of X-Forwarded-For, which that proxy sets.
    « inconnue » when neither is known (all such clients then share one count)."""
    ip = getattr(st.context, "ip_address", None)
    if ip in _LOCAL or ip is None:
        try:
            forwarded = st.context.headers.get("X-Forwarded-For") or ""
        except Exception:  # noqa: BLE001 (no request context: tests, scripts)
            forwarded = ""
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-1][:64]
    return str(ip)[:64] if ip else "inconnue"
