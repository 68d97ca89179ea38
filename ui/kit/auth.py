"""Who is using the console: Streamlit's OIDC login, or local / read-only mode without it.

Fail closed (issue 12):
- secrets that do not parse, or an [auth] or [roles] section that is malformed, stop every page
  with a clear message: the console never runs with less protection than its settings ask for;
- a signed-in user's roles come only from [roles] (no built-in group names stand in for it);
- local mode (every permission) needs a server bound to localhost AND a browser that reached it
  by a localhost name: a DNS-rebound name (Host: evil.example) gets read-only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from db.auth import MODE_ANONYMOUS, Identity, identity_for, local_identity, readonly_identity
from db.settings import load_settings, parse_problem, role_groups_from, secrets_problems

log = logging.getLogger("console.auth")

LOCAL_ADDRESSES = {"localhost", "127.0.0.1", "::1"}
STOPPED = (
    "The console is stopped: its sign-in settings are broken (secrets.toml), and it does not "
    "run with less protection than they ask for. Fix what is listed below and reload the page."
)
NO_ROLE_MAP = "No role: the settings map no identity-provider group to a console role ([roles])."
NO_ROLE_MATCH = (
    "No role: none of your groups is mapped to a console role ([roles] in the settings)."
)
NOT_LOCAL = (
    "View only: this page was opened through an address that is not localhost, so local mode "
    "(every permission) does not apply."
)


@dataclass(frozen=True)
class SignIn:
    """The sign-in settings as Streamlit reads them (the same files `st.login` uses)."""

    # True when [auth] is there (or the secrets could not be read: then nobody is trusted as local).
    configured: bool
    # [roles]: the groups that grant each role ({} when missing, empty or malformed).
    role_groups: dict[str, list[str]]
    # Why the console may not run; empty when nothing is wrong.
    problems: tuple[str, ...]


def _streamlit_secrets() -> tuple[dict[str, Any], str | None]:
    """The secrets Streamlit parsed, and why they cannot be used (a file that does not parse)."""
    try:
        return st.secrets.to_dict(), None
    except StreamlitSecretNotFoundError as exc:
        if getattr(exc, "error_id", None) == "no-secrets-found":
            return {}, None
        return {}, parse_problem(str(exc))
    except Exception:  # noqa: BLE001 - unreadable (permissions, encoding) is not "no secrets" either
        log.exception(
            "the secrets could not be read"
        )  # the detail goes to the server log, never the page
        return {}, parse_problem("")


def sign_in() -> SignIn:
    """The sign-in settings of this run, with every problem of Streamlit's secrets and of ours."""
    secrets, unreadable = _streamlit_secrets()
    problems = [
        *load_settings().problems,
        *([unreadable] if unreadable else []),
        *secrets_problems(secrets),
    ]
    return SignIn(
        configured="auth" in secrets or unreadable is not None,
        role_groups=role_groups_from(secrets.get("roles"))[0],
        problems=tuple(dict.fromkeys(problems)),
    )


def login_configured() -> bool:
    """True when secrets hold an `[auth]` section (st.login is usable), or could not be read."""
    return sign_in().configured


def refuse_if_misconfigured() -> None:
    """Stop this run with a clear message when the sign-in settings are broken (on every page)."""
    problems = sign_in().problems
    if not problems:
        return
    log.error("console stopped, its settings are broken: %s", " ".join(problems))
    st.error(STOPPED, icon="⛔")
    st.code("\n".join(problems), language=None)  # plain text: section and key names from the file
    st.stop()


def bound_to_localhost() -> bool:
    """True when the server only listens on the loopback interface."""
    address = st.get_option("server.address") or ""
    return address in LOCAL_ADDRESSES


def _hostname(value: str | None) -> str | None:
    """The host name of a Host header or an Origin, lower case, without port or final dot."""
    if not value:
        return None
    try:
        name = urlsplit(value if "//" in value else f"//{value}").hostname
    except ValueError:
        return None
    return name.rstrip(".") if name else None


def request_is_local() -> bool:
    """True when this session's browser reached the server by a localhost name (Host and Origin).

    A DNS-rebinding page at evil.example, its name pointed at 127.0.0.1, sends Host and Origin
    evil.example: same-origin for Streamlit's own check. `server.allowedHosts` refuses it in
    config.toml; this keeps local mode closed if that list is opened (for a proxy, say)."""
    headers = st.context.headers
    if not headers:
        return True  # no browser connection at all: a script run in this process (AppTest)
    origin = headers.get("Origin")
    return _hostname(headers.get("Host")) in LOCAL_ADDRESSES and (
        origin is None or _hostname(origin) in LOCAL_ADDRESSES
    )


def _groups(user: Any) -> list[str]:
    raw = user.get("groups") if hasattr(user, "get") else None
    if isinstance(raw, str):
        return [g.strip() for g in raw.split(",") if g.strip()]
    if isinstance(raw, list | tuple):
        return [str(g) for g in raw]
    return []


def current_identity() -> Identity:
    """The identity of this session (deny by default); stops the run when the settings are broken."""
    config = sign_in()
    if config.problems:
        refuse_if_misconfigured()
    user = st.user
    if user.get("is_logged_in"):
        name = str(user.get("email") or user.get("name") or user.get("sub") or "user")
        who = identity_for(name, _groups(user), config.role_groups)
        return (
            who
            if who.roles
            else replace(who, note=NO_ROLE_MATCH if config.role_groups else NO_ROLE_MAP)
        )
    if config.configured:
        return Identity(user="anonymous", mode=MODE_ANONYMOUS)
    if not bound_to_localhost():
        return readonly_identity()
    return local_identity() if request_is_local() else replace(readonly_identity(), note=NOT_LOCAL)


def show_note(identity: Identity) -> None:
    """Say in the sidebar why this identity has less power than its mode usually gives."""
    if identity.note:
        st.sidebar.caption("🔒 " + identity.note)
