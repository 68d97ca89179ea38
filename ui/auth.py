"""Who is using the console: Streamlit's OIDC login, or local / read-only mode without it."""

from __future__ import annotations

from typing import Any

import streamlit as st

from db.auth import MODE_ANONYMOUS, Identity, identity_for, local_identity, readonly_identity
from db.settings import load_settings

LOCAL_ADDRESSES = {"localhost", "127.0.0.1", "::1"}


def login_configured() -> bool:
    """True when secrets hold an `[auth]` section (st.login is usable)."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all
        return False


def bound_to_localhost() -> bool:
    """True when the server only listens on the loopback interface."""
    address = st.get_option("server.address") or ""
    return address in LOCAL_ADDRESSES


def _groups(user: Any) -> list[str]:
    raw = user.get("groups") if hasattr(user, "get") else None
    if isinstance(raw, str):
        return [g.strip() for g in raw.split(",") if g.strip()]
    if isinstance(raw, list | tuple):
        return [str(g) for g in raw]
    return []


def current_identity() -> Identity:
    """The identity of this session (deny by default)."""
    user = st.user
    if user.get("is_logged_in"):
        name = str(user.get("email") or user.get("name") or user.get("sub") or "user")
        return identity_for(name, _groups(user), load_settings().role_groups)
    if login_configured():
        return Identity(user="anonymous", mode=MODE_ANONYMOUS)
    return local_identity() if bound_to_localhost() else readonly_identity()
