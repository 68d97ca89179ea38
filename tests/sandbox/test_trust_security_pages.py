"""The console with broken sign-in settings, through app.py with AppTest: it stops with a clear
message on every page, and a signed-in user without a [roles] mapping gets no role (issue 12)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from ui.kit.nav import SECTIONS

GOOD_AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a-long-random-cookie-secret-0123456789",
    "client_id": "console",
    "client_secret": "s3cret",
    "server_metadata_url": "https://idp.example.internal/.well-known/openid-configuration",
}
ROLES = {
    "analyst": ["analysts"],
    "strategy_developer": ["strategy-developers"],
    "ops": ["ops"],
    "admin": ["admins"],
}
ADMIN_USER = {"is_logged_in": True, "email": "root@example.com", "groups": ["admins"]}
STOPPED = "The console is stopped: its sign-in settings are broken"
PAGES = [p.path for specs in SECTIONS.values() for p in specs]


@pytest.fixture(autouse=True)
def _fresh(fresh_caches: None) -> None:
    return None


@pytest.fixture
def secrets_file(tmp_path: Path) -> Iterator[Callable[[str], None]]:
    """Point Streamlit's own secrets (`secrets.files`, what st.login reads) at a file of the test's."""
    from streamlit import config
    from streamlit.runtime.secrets import secrets_singleton

    before = config.get_option("secrets.files")
    path = tmp_path / "secrets.toml"

    def use(text: str) -> None:
        path.write_text(text, encoding="utf-8")
        config.set_option("secrets.files", [str(path)])
        secrets_singleton._reset()

    yield use
    config.set_option("secrets.files", before)
    secrets_singleton._reset()


def _run(
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    *,
    page: str | None = None,
    secrets: dict[str, Any] | None = None,
    user: dict[str, Any] | None = None,
) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("DATABASE_READ_URL", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in (secrets or {}).items():
        at.secrets[key] = value
    if user:
        at.user = user  # type: ignore[assignment]
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _all_text(at: AppTest) -> str:
    kinds = ("title", "caption", "markdown", "text", "error", "warning", "info", "code")
    return "\n".join(str(e.value) for kind in kinds for e in getattr(at, kind))


@pytest.mark.parametrize("page", PAGES)
def test_a_secrets_file_that_does_not_parse_stops_every_page(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, secrets_file: Callable[[str], None], page: str
) -> None:
    # Sign-in was meant to be on; the typo used to put the console in local mode (every permission).
    secrets_file(
        '[auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\nclient_id = "c\n[roles]\n'
    )
    at = _run(monkeypatch, sqlite_url, page=page)
    shown = _all_text(at)
    assert STOPPED in shown
    assert "does not parse (line 3, column 15)" in shown
    assert "Local mode" not in shown and "Read-only" not in shown
    # Nothing to look at, nothing to press (a page Streamlit runs on its own draws the shell's time
    # range and timezone first: they read nothing).
    assert not at.title and not at.button and not at.dataframe and not at.text_input


def test_the_console_runs_again_when_the_file_is_fixed(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, secrets_file: Callable[[str], None]
) -> None:
    secrets_file("not [ toml")
    assert STOPPED in _all_text(_run(monkeypatch, sqlite_url))
    secrets_file('[database]\nnote = "fixed"\n')
    shown = _all_text(_run(monkeypatch, sqlite_url))
    assert STOPPED not in shown and "Local mode" in shown


@pytest.mark.parametrize(
    ("auth", "problem"),
    [
        ({"redirect_uri": GOOD_AUTH["redirect_uri"]}, "[auth] has no cookie_secret."),
        ({**GOOD_AUTH, "client_secret": ""}, "[auth] has no client_secret."),
        ("on", "[auth] must be a section"),
    ],
)
def test_a_malformed_auth_section_stops_the_console(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, auth: Any, problem: str
) -> None:
    at = _run(monkeypatch, sqlite_url, secrets={"auth": auth, "roles": ROLES})
    shown = _all_text(at)
    assert STOPPED in shown and problem in shown
    assert "Sign in to use the console." not in shown and "Local mode" not in shown
    assert not at.button  # not even a sign-in button that could only fail


@pytest.mark.parametrize("roles", [None, {}])
def test_signed_in_without_a_roles_mapping_is_no_role(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, roles: dict[str, list[str]] | None
) -> None:
    # Before: the built-in group names applied and "admins" was admin of the console.
    secrets: dict[str, Any] = {"auth": GOOD_AUTH} | ({} if roles is None else {"roles": roles})
    at = _run(monkeypatch, sqlite_url, secrets=secrets, user=ADMIN_USER)
    sidebar = "\n".join(str(e.value) for e in at.sidebar.caption)
    assert "Roles: none" in sidebar
    assert (
        "No role: the settings map no identity-provider group to a console role ([roles])."
        in sidebar
    )
    assert "has no role in this console" in _all_text(at)
    assert not at.dataframe


def test_a_malformed_roles_section_stops_the_console(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    at = _run(
        monkeypatch,
        sqlite_url,
        secrets={"auth": GOOD_AUTH, "roles": {"admin": "admins"}},
        user=ADMIN_USER,
    )
    shown = _all_text(at)
    assert STOPPED in shown and "[roles] admin must be a list of group names" in shown
    assert "Roles: admin" not in shown


def test_roles_come_only_from_the_roles_section(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    at = _run(
        monkeypatch,
        sqlite_url,
        secrets={"auth": GOOD_AUTH, "roles": {"admin": ["platform"]}},
        user={**ADMIN_USER, "groups": ["platform", "admins"]},
    )
    sidebar = "\n".join(str(e.value) for e in at.sidebar.caption)
    assert "Roles: admin" in sidebar and "No role" not in sidebar
    at = _run(
        monkeypatch,
        sqlite_url,
        secrets={"auth": GOOD_AUTH, "roles": {"admin": ["platform"]}},
        user=ADMIN_USER,
    )
    assert "Roles: none" in "\n".join(str(e.value) for e in at.sidebar.caption)


def test_a_signed_in_user_without_sign_in_configured_gets_roles_only_from_the_mapping(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    # No [auth] and no [roles]: a user Streamlit reports as signed in (a proxy's trusted headers)
    # gets no role from a built-in list of group names.
    at = _run(monkeypatch, sqlite_url, user=ADMIN_USER)
    assert "Roles: none" in "\n".join(str(e.value) for e in at.sidebar.caption)
    at = _run(monkeypatch, sqlite_url, secrets={"roles": ROLES}, user=ADMIN_USER)
    assert "Roles: admin" in "\n".join(str(e.value) for e in at.sidebar.caption)


def test_local_mode_without_any_secrets_is_unchanged(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    shown = _all_text(_run(monkeypatch, sqlite_url))
    assert "Local mode" in shown and STOPPED not in shown
