"""A real `streamlit run app.py` server attacked as the issue did: a websocket whose Host is not
localhost (DNS rebinding) and a session against a secrets file that does not parse. Both used to get
local mode, every permission, without any cookie (issue 12, Security)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from db.engine import make_engine
from db.models import Base
from db.own_models import OwnBase
from harness.server import running_server

websockets = pytest.importorskip("websockets")
sync_client = pytest.importorskip("websockets.sync.client")
ANSWER_WAIT_S = 60
LOCAL = "Local mode"
STOPPED = "The console is stopped: its sign-in settings are broken"


@contextmanager
def _server(tmp_path: Path, *args: str) -> Iterator[tuple[int, Path]]:
    """The README's server on an empty console database, with no secrets file unless `args` name one."""
    db = tmp_path / "console.db"
    if not db.exists():
        eng = make_engine(f"sqlite:///{db}", read_timeout=False)
        Base.metadata.create_all(eng)
        OwnBase.metadata.create_all(eng)
        eng.dispose()
    with running_server(
        f"sqlite:///{db}",
        tmp_path / "streamlit.log",
        args=("--secrets.files", str(tmp_path / "none.toml"), *args),
    ) as srv:
        yield srv.port, srv.log_path


def _texts(raw: bytes) -> list[str]:
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    fm = ForwardMsg.FromString(raw)
    if fm.WhichOneof("type") != "delta" or fm.delta.WhichOneof("type") != "new_element":
        return []
    el = fm.delta.new_element
    kind = el.WhichOneof("type")
    body = getattr(getattr(el, kind), "body", None) if kind else None
    return [body] if isinstance(body, str) else []


def _run(port: int, host: str, origin: str | None) -> list[str]:
    """Connect as a browser that reached 127.0.0.1:`port` through the name `host` would, run the
    first page, and return every text the server sent (raises if the handshake is refused)."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    texts: list[str] = []
    with sync_client.connect(
        f"ws://{host}:{port}/_stcore/stream",
        sock=socket.create_connection(("127.0.0.1", port), timeout=30),
        origin=origin,
        subprotocols=["streamlit"],
        max_size=None,
        open_timeout=30,
    ) as ws:
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        msg.rerun_script.page_name = ""
        ws.send(msg.SerializeToString())
        while True:
            raw = ws.recv(timeout=ANSWER_WAIT_S)
            raw = raw if isinstance(raw, bytes) else raw.encode()
            texts += _texts(raw)
            fm = ForwardMsg.FromString(raw)
            if (
                fm.WhichOneof("type") == "script_finished"
                and fm.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN
            ):
                return texts


def test_a_websocket_whose_host_is_not_localhost_is_refused(tmp_path: Path) -> None:
    with _server(tmp_path) as (port, log):
        # The page a person opens: localhost works (local mode, every permission).
        assert any(LOCAL in t for t in _run(port, "localhost", f"http://localhost:{port}"))
        assert any(LOCAL in t for t in _run(port, "127.0.0.1", f"http://127.0.0.1:{port}"))
        # DNS rebinding: evil.example resolves to 127.0.0.1; the browser sends its own name as
        # Host and Origin (same-origin, so the Origin check alone lets it through).
        for origin in (f"http://evil.example:{port}", None):
            with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
                _run(port, "evil.example", origin)
            assert refused.value.response.status_code == 403
        assert "Rejecting WebSocket connection with disallowed Origin or Host" in log.read_text(
            errors="replace"
        )


def test_local_mode_checks_the_host_itself_when_the_allow_list_is_opened(tmp_path: Path) -> None:
    # An operator who opens server.allowedHosts (e.g. for a proxy) must not open local mode with it.
    with _server(tmp_path, "--server.allowedHosts", "*") as (port, _log):
        texts = _run(port, "evil.example", f"http://evil.example:{port}")
        assert not any(LOCAL in t for t in texts)
        assert any("Read-only" in t for t in texts)
        # A page of another site on a localhost websocket (Origin not local) is refused by Streamlit.
        with pytest.raises(websockets.exceptions.InvalidStatus):
            _run(port, "localhost", "http://evil.example")
        assert any(LOCAL in t for t in _run(port, "localhost", f"http://localhost:{port}"))


def test_a_secrets_file_that_does_not_parse_stops_a_session_without_cookie(tmp_path: Path) -> None:
    broken = tmp_path / "secrets.toml"
    broken.write_text(
        '[auth]\nredirect_uri = "http://localhost/oauth2callback"\nclient_id = "c\n',
        encoding="utf-8",
    )
    with _server(tmp_path, "--secrets.files", str(broken)) as (port, log):
        texts = _run(port, "localhost", f"http://localhost:{port}")
        assert any(STOPPED in t for t in texts), texts
        assert not any(LOCAL in t for t in texts)
        assert "Traceback" not in log.read_text(errors="replace")
