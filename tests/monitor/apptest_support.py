"""AppTest helpers of the monitor tests: run a page through app.py on a given database."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 60


def run_page(
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    page: str,
    *,
    state: dict | None = None,
    **params: str,
) -> AppTest:
    """Open `pages/<page>.py` with URL parameters (and session state), as a fresh session would."""
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("DATABASE_READ_URL", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    for k, v in params.items():
        at.query_params[k] = v
    for k, v in (state or {}).items():
        at.session_state[k] = v
    at.switch_page(f"pages/{page}.py")
    at.run()
    return at


def texts(at: AppTest) -> str:
    """Every plain text, code block, caption, markdown and alert of the page, joined (for assertions)."""
    parts = [t.value for t in at.text] + [c.value for c in at.code] + [c.value for c in at.caption]
    parts += (
        [m.value for m in at.markdown] + [e.value for e in at.info] + [e.value for e in at.warning]
    )
    parts += [e.value for e in at.success] + [e.value for e in at.error]
    return "\n".join(str(p) for p in parts)


def no_exceptions(at: AppTest) -> None:
    """The run raised nothing."""
    assert not at.exception, [e.value for e in at.exception]
