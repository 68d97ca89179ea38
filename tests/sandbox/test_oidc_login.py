"""Sign-in end to end: a local mock OIDC provider, `streamlit run app.py` with an [auth] section, and
Chromium signing a user in; the groups claim must arrive as console roles in the page."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from db.engine import make_engine
from db.models import Base
from db.own_models import OwnBase
from tests.conftest import ROOT
from tests.sandbox.sandbox_rows import add_config

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
START_WAIT_S = 60  # waiting for servers to come up, not a speed assertion
USERS = {"dev@example.com": ["strategy-developers", "ops"], "ann@example.com": ["analysts"]}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_WAIT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early with {proc.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError("streamlit did not start")


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
    if not Path(CHROMIUM).exists() or shutil.which("streamlit") is None:
        pytest.skip("chromium or streamlit not available")
    url = f"sqlite:///{tmp_path / 'console.db'}"
    eng = make_engine(url, read_timeout=False)
    Base.metadata.create_all(eng)
    OwnBase.metadata.create_all(eng)
    cid = add_config(eng)
    eng.dispose()
    port = _free_port()
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
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("DATABASE_READ_URL", None)
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app.py"),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--secrets.files",
        str(secrets),
        "--browser.gatherUsageStats",
        "false",
    ]
    log = (tmp_path / "streamlit.log").open("wb")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for(port, proc)
        yield f"http://127.0.0.1:{port}", cid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.mark.parametrize(
    ("user", "roles", "may_edit"),
    [
        ("dev@example.com", "Roles: ops, strategy_developer", True),
        ("ann@example.com", "Roles: analyst", False),
    ],
)
def test_sign_in_through_the_provider_gives_roles_from_groups(
    console: tuple[str, str], user: str, roles: str, may_edit: bool
) -> None:
    base, cid = console
    sync_api = pytest.importorskip("playwright.sync_api")
    # In a thread of its own: the browser tests' session-wide Playwright (tests/browser/conftest.py)
    # keeps an asyncio loop running on this worker's main thread, and a second sync Playwright
    # refuses to start inside it.
    failure: list[BaseException] = []

    def run() -> None:
        try:
            _sign_in_and_check(sync_api, base, cid, user, roles, may_edit)
        except BaseException as exc:  # noqa: BLE001 - raised again on the test's thread
            failure.append(exc)

    worker = threading.Thread(target=run, name="oidc-browser")
    worker.start()
    worker.join(timeout=6 * START_WAIT_S)
    assert not worker.is_alive(), "the browser flow did not finish"
    if failure:
        raise failure[0]


def _sign_in_and_check(
    sync_api: Any, base: str, cid: str, user: str, roles: str, may_edit: bool
) -> None:
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
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
            browser.close()
