"""Every validation message of the console's forms reached at least once, through the forms
themselves (AppTest on app.py): the sandbox config form and the errors resolve form. A meta
test fails when a validation rule gains a message that no case here reaches; a write that the
database refuses (busy) keeps the draft and writes nothing."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from robust_support import ROOT, all_texts, exceptions, leaks, prepare_database
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

OK = {"trading": {"target_dte_range": [7, 21], "delta_target": 0.15, "max_positions": 3, "wing_widths": [5, 10]},
      "risk": {"profit_target": 0.5, "loss_limit": 2.0}, "universe": {"primary_symbols": ["SPY", "QQQ"]}}


def _with(section: str, key: str, value: Any) -> str:
    import json

    data = {k: dict(v) for k, v in OK.items()}
    data[section][key] = value
    return json.dumps(data)


# (case id, field values for the form, expected message fragment)
CONFIG_CASES: list[tuple[str, dict[str, str], str]] = [
    ("syntax", {"json": "{not json"}, "JSON syntax error at line 1"),
    ("empty", {"json": "  "}, "is empty: write a JSON object"),
    ("duplicate", {"json": '{"risk": {}, "risk": {}}'}, "appears twice in one object"),
    ("nan", {"json": '{"risk": {"profit_target": NaN}}'}, "is not allowed (JSON numbers must be finite)"),
    ("nul-raw", {"json": '{"a": "x\x00"}'}, "contains a NUL character (\\0)"),
    ("nul-escaped", {"json": '{"a": "x\\u0000"}'}, "contains a NUL character or a non-finite number"),
    ("too-large", {"json": '{"a": "' + "x" * (65 * 1024) + '"}'}, "is larger than 64 KiB"),
    ("too-deep", {"json": '{"a": ' * 9 + "1" + "}" * 9}, "is nested more than 8 levels deep"),
    ("not-object", {"json": "[1, 2]"}, "the top level must be a JSON object"),
    ("section-type", {"json": '{"trading": 5}'}, "must be a JSON object"),
    ("dotted", {"json": '{"universe.primary_symbols": ["SPY"]}'}, "is a dotted top-level key"),
    ("dte-shape", {"json": _with("trading", "target_dte_range", [7])}, "must be two whole numbers [min, max]"),
    ("dte-range", {"json": _with("trading", "target_dte_range", [-1, 5])}, "must lie between 0 and 3650 days"),
    ("dte-order", {"json": _with("trading", "target_dte_range", [9, 7])}, "must be increasing"),
    ("delta-type", {"json": _with("trading", "delta_target", "x")}, "must be a number, e.g. 0.15"),
    ("delta-range", {"json": _with("trading", "delta_target", 1.5)}, "must be between 0 and 1 (exclusive)"),
    ("positions-type", {"json": _with("trading", "max_positions", 1.5)}, "must be a whole number"),
    ("positions-range", {"json": _with("trading", "max_positions", 0)}, "must be between 1 and 1000"),
    ("wings-empty", {"json": _with("trading", "wing_widths", [])}, "must be a non-empty list of numbers"),
    ("wings-many", {"json": _with("trading", "wing_widths", list(range(1, 23)))}, "must have at most 20 widths"),
    ("wings-sign", {"json": _with("trading", "wing_widths", [5, -1])}, "must contain only positive numbers"),
    ("profit-type", {"json": _with("risk", "profit_target", "x")}, "must be a number (a fraction of the credit"),
    ("profit-range", {"json": _with("risk", "profit_target", 11)}, "must be above 0 and at most 10"),
    ("loss-type", {"json": _with("risk", "loss_limit", "x")}, "must be a number (a multiple of the credit"),
    ("loss-range", {"json": _with("risk", "loss_limit", 0)}, "must be non-zero and between -100 and 100"),
    ("symbols-empty", {"json": _with("universe", "primary_symbols", [])}, "must be a non-empty list of ticker symbols"),
    ("symbols-many", {"json": _with("universe", "primary_symbols", [f"S{i}" for i in range(501)])},
     "must have at most 500 symbols"),
    ("symbols-case", {"json": _with("universe", "primary_symbols", ["aapl"])}, "are not upper-case tickers"),
    ("symbols-twice", {"json": _with("universe", "primary_symbols", ["SPY", "SPY"])}, "lists some symbols twice"),
    ("universe-empty", {"json": _with("universe", "universe_name", " ")}, "must be a non-empty text"),
    ("universe-long", {"json": _with("universe", "universe_name", "u" * 101)}, "must be at most 100 characters"),
    ("name-required", {"name": " "}, "name: is required"),
    ("name-long", {"name": "n" * 201}, "must be at most 200 characters (it has 201)"),
    ("strategy-nul", {"strategy": "Theta\x00Crop"}, "strategy_id: contains a NUL character"),
    ("user-long", {"user": "u" * 51}, "must be at most 50 characters"),
]
# Messages no form can reach, with the reason.
UNREACHABLE = {
    "is not JSON-serialisable or holds NaN/Infinity": "require_valid() only: the form always sends parsed text",
}


@pytest.fixture(scope="module")
def form_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('forms') / 'forms.db'}"
    prepare_database(url, demo=True)
    return url


def _app(url: str, page: str, params: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = v
    at.switch_page(page)
    return at.run()


def _field(at: AppTest, kind: str, label: str) -> Any:
    found = [w for w in getattr(at, kind) if w.label == label]
    assert found, f"no {kind} labelled {label!r}: {[w.label for w in getattr(at, kind)]}"
    return found[0]


def _submit(at: AppTest, label: str) -> AppTest:
    buttons = [b for b in at.button if b.label == label]
    assert buttons, f"no button {label!r}: {[b.label for b in at.button]}"
    return buttons[0].click().run()


def _fill_config_form(at: AppTest, values: dict[str, str]) -> None:
    _field(at, "text_input", "Name").set_value(values.get("name", "Form test"))
    _field(at, "text_input", "Strategy id").set_value(values.get("strategy", "ThetaCropWeekly"))
    _field(at, "text_input", "User").set_value(values.get("user", "default_user"))
    import json

    _field(at, "text_area", "config_data (JSON)").set_value(values.get("json", json.dumps(OK)))


def _shown(at: AppTest) -> str:
    return "\n".join(s for _, s in all_texts(at))


@pytest.mark.parametrize(("values", "expected"), [(v, e) for _, v, e in CONFIG_CASES],
                         ids=[c for c, _, _ in CONFIG_CASES])
def test_config_form_validation_message(form_db: str, monkeypatch: pytest.MonkeyPatch,
                                        values: dict[str, str], expected: str) -> None:
    from db.engine import make_engine
    from db.models import SandboxStrategyConfig

    at = _app(form_db, "pages/sandbox.py", {"config": "new"}, monkeypatch)
    _fill_config_form(at, values)
    at = _submit(at, "Create config")
    assert not exceptions(at), exceptions(at)
    assert any("Not saved" in str(e.value) for e in at.error), [e.value for e in at.error]
    assert expected in _shown(at), f"{expected!r} not shown; shown: {_shown(at)[-800:]}"
    engine = make_engine(form_db)
    with engine.connect() as conn:
        names = conn.execute(select(SandboxStrategyConfig.name)).scalars().all()
    engine.dispose()
    assert values.get("name", "Form test") not in names, "an invalid config was written"


def _literal_prefixes(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        head = node.values[0] if node.values else None
        if isinstance(head, ast.Constant) and isinstance(head.value, str) and head.value.strip():
            return [head.value]
        tail = [v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
        return [max(tail, key=len)] if tail else []
    if isinstance(node, ast.IfExp):
        return _literal_prefixes(node.body) + _literal_prefixes(node.orelse)
    return []


def _schema_messages() -> list[str]:
    """Message fragments of db/config_schema.py: returned by a rule, or passed to report.add / ValidationFailed."""
    tree = ast.parse((ROOT / "db" / "config_schema.py").read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Return) and node.value is not None:
            found += _literal_prefixes(node.value)
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add" and len(node.args) == 2:
            found += _literal_prefixes(node.args[1])
        if isinstance(node, ast.Dict):
            for value in node.values:
                if isinstance(value, ast.List):
                    for item in value.elts:
                        found += _literal_prefixes(item)
    return [m.strip() for m in found if len(m.strip()) > 8 and " " in m.strip()]


def test_every_config_validation_message_has_a_case() -> None:
    covered = [e for _, _, e in CONFIG_CASES]
    messages = _schema_messages()
    assert len(messages) >= 25, messages
    missing = [m for m in messages if not any(m[:30] in e or e in m for e in covered)
               and not any(m.startswith(u[:30]) for u in UNREACHABLE)]
    assert not missing, f"validation messages no form test reaches: {missing}"


# --- the errors resolve form ----------------------------------------------------------------------

def _group_params(url: str) -> dict[str, str]:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy.orm import Session

    from db.engine import make_engine
    from db.queries import errors as eq

    engine = make_engine(url)
    with Session(engine) as s:
        now = datetime.now(UTC)
        groups = eq.error_groups(s, since=now - timedelta(days=30), until=now + timedelta(minutes=1))
    engine.dispose()
    assert not groups.empty
    return {"range": "30d", "group": str(groups.iloc[0]["fingerprint"])}


ERROR_CASES = [
    ("note-required", "", "Resolve whole group", "A note is required"),
    ("no-selection", "a reason", "Resolve selected (0)", "Select at least one error"),
]


@pytest.mark.parametrize(("note", "button", "expected"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES])
def test_resolve_form_validation_message(form_db: str, monkeypatch: pytest.MonkeyPatch,
                                         note: str, button: str, expected: str) -> None:
    at = _app(form_db, "pages/errors.py", _group_params(form_db), monkeypatch)
    _field(at, "text_area", "Note (required)").set_value(note)
    at = _submit(at, button)
    assert not exceptions(at), exceptions(at)
    errors = [str(e.value) for e in at.error]
    assert any(expected in e for e in errors), errors


def test_every_resolve_validation_message_has_a_case() -> None:
    source = (ROOT / "db" / "commands" / "errors.py").read_text(encoding="utf-8")
    body = source[source.index("def _validate"):source.index("def _chunks")]
    messages = [m.split("{")[0].strip() for m in re.findall(r'\[f?"([^"]+)"\]', body) if " " in m]
    covered = [c[3] for c in ERROR_CASES]
    # Not reachable through the form: "At most 10,000 errors per action" (one page holds at most
    # PAGE_SIZE rows) and "The note is longer than ..." (the text area's max_chars stops the input).
    reachable = [m for m in messages if not m.startswith(("At most", "The note is longer"))]
    assert len(reachable) == 2, messages
    assert reachable and all(any(m[:25] in c or c in m for c in covered) for m in reachable), (messages, covered)


# --- the database busy while a save runs: message, draft kept, nothing written --------------------

HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


def test_config_save_while_database_busy_keeps_the_draft(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from db.auth import local_identity
    from db.commands.sandbox import create_config
    from db.engine import make_engine
    from db.models import SandboxStrategyConfig
    from db.own_models import AuditLog

    path = tmp_path / "busy.db"
    url = f"sqlite:///{path}"
    prepare_database(url, demo=False)
    engine = make_engine(url, read_timeout=False)
    cid = create_config(engine, identity=local_identity(), name="Busy test", strategy_id="ThetaCropWeekly",
                        user_id="default_user", config_data=OK)
    monkeypatch.setenv("CONSOLE_SQLITE_BUSY_TIMEOUT_S", "0.3")
    at = _app(url, "pages/sandbox.py", {"config": cid}, monkeypatch)
    _field(at, "text_input", "Name").set_value("My unsaved edit")
    _field(at, "text_input", "Note (why this change)").set_value("renamed")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), "3"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        at = _submit(at, "Save new version")
    finally:
        holder.wait(timeout=30)
    assert not exceptions(at), exceptions(at)
    shown = _shown(at)
    assert "database is busy" in shown.lower() and "try again" in shown.lower(), shown[-600:]
    assert "database is locked" not in shown and not leaks(all_texts(at)), leaks(all_texts(at))
    assert _field(at, "text_input", "Name").value == "My unsaved edit", "the draft was lost"
    with engine.connect() as conn:
        row = conn.execute(select(SandboxStrategyConfig.version, SandboxStrategyConfig.name)
                           .where(SandboxStrategyConfig.id == cid)).one()
        audits = conn.execute(select(func.count()).select_from(AuditLog)).scalar_one()
    assert (row.version, row.name, audits) == (1, "Busy test", 1)  # only the create's audit row
    at = _submit(at, "Save new version")  # the lock is gone: the kept draft saves
    assert any("Saved as version 2" in str(s.value) for s in at.success), [s.value for s in at.success]
    engine.dispose()
