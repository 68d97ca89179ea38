"""Sign-in end to end: a local mock OIDC provider, `streamlit run app.py` with an [auth] section, and
Chromium signing a user in; the groups claim must arrive as console roles in the page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from db.engine import make_engine
from db.models import Base
from db.own_models import OwnBase
from harness.server import free_port, running_server
from tests.sandbox.sandbox_rows import add_config

pytestmark = pytest.mark.browser
START_WAIT_S = 60  # waiting for servers to come up, not a speed assertion
USERS = {"dev@example.com": ["strategy-developers", "ops"], "ann@example.com": ["analysts"]}


@pytest.fixture
def provider() -> Iterator[int]:
    oidc = pytest.importorskip("oidc_provider_mock")
    users = [
        oidc.User(sub=sub, claims={"email": sub, "groups": groups}) for sub, groups in USERS.items()
    ]
    with oidc.run_server_in_thread(port=0, user_claims=users) as server:
        yield int(server.server_port)


@pytest.fixture
def console(tmp_path: Path, provider: int) -> Iterator[tuple[str, str]]:
    url = f"sqlite:///{tmp_path / 'console.db'}"
    eng = make_engine(url, read_timeout=False)
    Base.metadata.create_all(eng)
    OwnBase.metadata.create_all(eng)
    cid = add_config(eng)
    eng.dispose()
    port = free_port()  # the redirect URI names it before the server starts
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        'cookie_secret = "a-long-random-test-cookie-secret-0123456789"\n'
        'client_id = "console"\n'
        'client_secret = "console-secret"\n'
        f'server_metadata_url = "http://127.0.0.1:{provider}/.well-known/openid-configuration"\n'
        "[roles]\n"
        'analyst = ["analysts"]\n'
        'strategy_developer = ["strategy-developers"]\n'
        'ops = ["ops"]\n'
        'admin = ["admins"]\n'
    )
    with running_server(
        url, tmp_path / "streamlit.log", port=port, args=("--secrets.files", str(secrets))
    ) as srv:
        yield srv.base_url, cid


@pytest.mark.parametrize(
    ("user", "roles", "may_edit"),
    [
        ("dev@example.com", "Roles: ops, strategy_developer", True),
        ("ann@example.com", "Roles: analyst", False),
    ],
)
def test_sign_in_through_the_provider_gives_roles_from_groups(
    browser: Any, console: tuple[str, str], user: str, roles: str, may_edit: bool
) -> None:
    base, cid = console
    page = browser.new_page()
    try:
        page.goto(base + "/sandbox")
        # Login configured and nobody signed in: nothing but the sign-in prompt.
        page.get_by_text("Sign in to use the console.").wait_for(timeout=START_WAIT_S * 1000)
        page.get_by_role("button", name="Sign in").click()
        # The provider's form: sign in as the predefined user (whose claims carry the groups).
        page.locator("input[name=sub]").wait_for(timeout=START_WAIT_S * 1000)
        page.locator("input[name=sub]").fill(user)
        page.get_by_role("button", name="Authorize").click()
        page.get_by_text(roles).wait_for(timeout=START_WAIT_S * 1000)
        sidebar = page.locator("[data-testid=stSidebar]").inner_text()
        assert user in sidebar
        assert "Local mode" not in sidebar and "Read-only" not in sidebar
        page.get_by_role("button", name="Sign out").wait_for(timeout=START_WAIT_S * 1000)
        # Only a role with edit permission gets an enabled save button.
        page.goto(f"{base}/sandbox?config={cid}")
        save = page.get_by_role("button", name="Save new version")
        save.wait_for(timeout=START_WAIT_S * 1000)
        assert save.is_enabled() is may_edit
        assert roles in page.locator("[data-testid=stSidebar]").inner_text()
    finally:
        page.close()
