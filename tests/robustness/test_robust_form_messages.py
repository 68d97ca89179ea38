"""Every validation message of the console's forms reached at least once, through the forms
themselves (AppTest on app.py): the sandbox config editor and the Errors page's resolve actions. A
meta test fails when a validation rule gains a message that no case here reaches; a message that no
control can produce is listed with the reason, and a test here shows that reason holds (the limit
on the widget, the disabled button). A write that the database refuses (busy) keeps the draft and
writes nothing."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from robust_support import ROOT, all_texts, exceptions, leaks, prepare_database
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from db.commands.errors import MAX_NOTE_CHARS
from db.engine import make_engine
from db.models import CriticalErrorLog as E
from db.own_models import AuditLog, ErrorResolution
from db.queries import errors as eq
from db.queries.errors import MAX_IDS
from domain import config_schema as cs
from domain.fingerprint import fingerprint

OK = {
    "trading": {
        "target_dte_range": [7, 21],
        "delta_target": 0.15,
        "max_positions": 3,
        "wing_widths": [5, 10],
    },
    "risk": {"profit_target": 0.5, "loss_limit": 2.0},
    "universe": {"primary_symbols": ["SPY", "QQQ"]},
}


def _with(section: str, key: str, value: Any) -> str:
    import json

    data = {k: dict(v) for k, v in OK.items()}
    data[section][key] = value
    return json.dumps(data)


# (case id, field values for the editor, expected message). Where the message has variable parts
# (an f-string), the expected text holds the whole message as shown, so that the meta test can tell
# messages with the same opening apart ("must be at most {} characters (it has {})" is not "must be at
# most 100 characters").
CONFIG_CASES: list[tuple[str, dict[str, str], str]] = [
    (
        "syntax",
        {"json": "{not json"},
        "JSON syntax error at line 1, column 2: Expecting property name enclosed in double quotes",
    ),
    ("empty", {"json": "  "}, "is empty: write a JSON object"),
    (
        "duplicate",
        {"json": '{"risk": {}, "risk": {}}'},
        "the key 'risk' appears twice in one object",
    ),
    (
        "nan",
        {"json": '{"risk": {"profit_target": NaN}}'},
        "NaN is not allowed (JSON numbers must be finite)",
    ),
    ("nul-raw", {"json": '{"a": "x\x00"}'}, "contains a NUL character (\\0)"),
    (
        "nul-escaped",
        {"json": '{"a": "x\\u0000"}'},
        "contains a NUL character or a non-finite number",
    ),
    # Under the text area's max_chars (characters) but over the size limit (UTF-8 bytes): 2 bytes each.
    (
        "too-large",
        {"json": '{"a": "' + "é" * (cs.MAX_JSON_BYTES // 2 + 10) + '"}'},
        "is larger than 64 KiB",
    ),
    ("too-deep", {"json": '{"a": ' * 9 + "1" + "}" * 9}, "is nested more than 8 levels deep"),
    ("not-object", {"json": "[1, 2]"}, "the top level must be a JSON object {...}, not list"),
    ("section-type", {"json": '{"trading": 5}'}, "must be a JSON object"),
    (
        "dotted",
        {"json": '{"universe.primary_symbols": ["SPY"]}'},
        'is a dotted top-level key; it belongs inside "universe" as "primary_symbols" (use \'Fix dotted keys\')',
    ),
    (
        "dte-shape",
        {"json": _with("trading", "target_dte_range", [7])},
        "must be two whole numbers [min, max]",
    ),
    (
        "dte-range",
        {"json": _with("trading", "target_dte_range", [-1, 5])},
        "must lie between 0 and 3650 days",
    ),
    ("dte-order", {"json": _with("trading", "target_dte_range", [9, 7])}, "must be increasing"),
    ("delta-type", {"json": _with("trading", "delta_target", "x")}, "must be a number, e.g. 0.15"),
    (
        "delta-range",
        {"json": _with("trading", "delta_target", 1.5)},
        "must be between 0 and 1 (exclusive)",
    ),
    ("positions-type", {"json": _with("trading", "max_positions", 1.5)}, "must be a whole number"),
    (
        "positions-range",
        {"json": _with("trading", "max_positions", 0)},
        "must be between 1 and 1000",
    ),
    (
        "wings-empty",
        {"json": _with("trading", "wing_widths", [])},
        "must be a non-empty list of numbers",
    ),
    (
        "wings-many",
        {"json": _with("trading", "wing_widths", list(range(1, 23)))},
        "must have at most 20 widths",
    ),
    (
        "wings-sign",
        {"json": _with("trading", "wing_widths", [5, -1])},
        "must contain only positive numbers",
    ),
    (
        "profit-type",
        {"json": _with("risk", "profit_target", "x")},
        "must be a number (a fraction of the credit",
    ),
    (
        "profit-range",
        {"json": _with("risk", "profit_target", 11)},
        "must be above 0 and at most 10",
    ),
    (
        "loss-type",
        {"json": _with("risk", "loss_limit", "x")},
        "must be a number (a multiple of the credit",
    ),
    (
        "loss-range",
        {"json": _with("risk", "loss_limit", 0)},
        "must be non-zero and between -100 and 100",
    ),
    (
        "symbols-empty",
        {"json": _with("universe", "primary_symbols", [])},
        "must be a non-empty list of ticker symbols",
    ),
    (
        "symbols-many",
        {"json": _with("universe", "primary_symbols", [f"S{i}" for i in range(501)])},
        "must have at most 500 symbols",
    ),
    (
        "symbols-case",
        {"json": _with("universe", "primary_symbols", ["aapl"])},
        "has values that are not upper-case tickers: 'aapl'",
    ),
    (
        "symbols-twice",
        {"json": _with("universe", "primary_symbols", ["SPY", "SPY"])},
        "lists some symbols twice: SPY",
    ),
    (
        "universe-empty",
        {"json": _with("universe", "universe_name", " ")},
        "must be a non-empty text",
    ),
    (
        "universe-long",
        {"json": _with("universe", "universe_name", "u" * 101)},
        "must be at most 100 characters",
    ),
    ("name-required", {"name": " "}, "name: is required"),
    ("strategy-nul", {"strategy": "Theta\x00Crop"}, "strategy_id: contains a NUL character"),
]
# Text over a column's length cannot be typed (the inputs' max_chars cut it, see
# test_config_inputs_cut_what_is_typed_at_their_limit), but a stored config may hold it: SQLite does not
# enforce VARCHAR lengths, so a row the backend (or anyone) wrote can carry a longer name. Editing it
# must refuse the save with the message rather than write or cut the value silently.
STORED_CASES: list[tuple[str, dict[str, str], list[str]]] = [
    (
        "name-long",
        {"name": "n" * (cs.NAME_MAX + 50)},
        [f"name: must be at most {cs.NAME_MAX} characters (it has {cs.NAME_MAX + 50})"],
    ),
    (
        "strategy-user-long",
        {"strategy_id": "s" * (cs.STRATEGY_MAX + 1), "user_id": "u" * (cs.USER_MAX + 9)},
        [
            f"strategy_id: must be at most {cs.STRATEGY_MAX} characters (it has {cs.STRATEGY_MAX + 1})",
            f"user_id: must be at most {cs.USER_MAX} characters (it has {cs.USER_MAX + 9})",
        ],
    ),
]
# A version the backend wrote may hold a bare Infinity token (its NAKED_OPTION rows do, see issue 12):
# the editor refuses it as typed text ("nan" case), a roll back to it through the History view gets
# the command's own check of already-parsed data.
ROLLBACK_CASES: list[tuple[str, str, str]] = [
    (
        "rollback-infinity",
        '{"trading": {"max_positions": 3}, "risk": {"loss_limit": Infinity}}',
        "version 1: cannot be restored: config_data: is not JSON-serialisable or holds NaN/Infinity",
    ),
]
# Messages no control can reach, with the reason (keys: the message as the meta test reads it, "{}"
# for a variable part). Empty: each message of domain/config_schema.py has a case above.
UNREACHABLE: dict[str, str] = {}


@pytest.fixture(scope="module")
def form_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('forms') / 'forms.db'}"
    prepare_database(url, demo=True)
    return url


def _app(
    url: str,
    page: str,
    params: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    *,
    state: dict[str, Any] | None = None,
) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = v
    for k, v in (
        state or {}
    ).items():  # what the page keeps between runs, e.g. a selection made earlier
        at.session_state[k] = v
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


def _configs(url: str) -> list[tuple[str, str, str, str, int]]:
    """Every stored config as (id, name, strategy, user, version): what an invalid save must leave alone."""
    from db.models import SandboxStrategyConfig as C

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(C.id, C.name, C.strategy_id, C.user_id, C.version).order_by(C.id)
            ).all()
    finally:
        engine.dispose()
    return [tuple(r) for r in rows]


def _codes(at: AppTest) -> list[str]:
    """The problems the editor shows at their fields (plain-text code blocks, "key: message")."""
    return [str(c.value) for c in at.code]


@pytest.mark.parametrize(
    ("values", "expected"),
    [(v, e) for _, v, e in CONFIG_CASES],
    ids=[c for c, _, _ in CONFIG_CASES],
)
def test_config_form_validation_message(
    form_db: str, monkeypatch: pytest.MonkeyPatch, values: dict[str, str], expected: str
) -> None:
    before = _configs(form_db)
    at = _app(form_db, "pages/sandbox.py", {"config": "new"}, monkeypatch)
    _fill_config_form(at, values)
    at = _submit(at, "Create config")
    assert not exceptions(at), exceptions(at)
    assert any("Not saved" in str(e.value) for e in at.error), [e.value for e in at.error]
    assert any(expected in c for c in _codes(at)), (
        f"{expected!r} not shown at a field; shown: {_codes(at)}"
    )
    assert _configs(form_db) == before, "an invalid config was written"


def _stored_config(url: str, **columns: str) -> str:
    from db.models import SandboxStrategyConfig, new_uuid

    cid = new_uuid()
    row = {"name": "Stored", "strategy_id": "ThetaCropWeekly", "user_id": "default_user", **columns}
    engine = make_engine(url, read_timeout=False)
    try:
        with engine.begin() as conn:
            conn.execute(
                SandboxStrategyConfig.__table__.insert().values(
                    id=cid, config_data=OK, version=1, is_active=False, **row
                )
            )
    finally:
        engine.dispose()
    return cid


@pytest.mark.parametrize(
    ("stored", "expected"),
    [(v, e) for _, v, e in STORED_CASES],
    ids=[c for c, _, _ in STORED_CASES],
)
def test_config_stored_too_long_is_refused_not_cut(
    form_db: str, monkeypatch: pytest.MonkeyPatch, stored: dict[str, str], expected: list[str]
) -> None:
    cid = _stored_config(form_db, **stored)
    before = _configs(form_db)
    at = _app(form_db, "pages/sandbox.py", {"config": cid}, monkeypatch)
    at = _submit(at, "Save new version")
    assert not exceptions(at), exceptions(at)
    assert any("Not saved" in str(e.value) for e in at.error), [e.value for e in at.error]
    assert all(m in _codes(at) for m in expected), (expected, _codes(at))
    assert _configs(form_db) == before, "a config over its column lengths was written (or cut)"


@pytest.mark.parametrize(
    ("stored", "expected"),
    [(v, e) for _, v, e in ROLLBACK_CASES],
    ids=[c for c, _, _ in ROLLBACK_CASES],
)
def test_config_rollback_to_an_invalid_version_is_refused(
    form_db: str, monkeypatch: pytest.MonkeyPatch, stored: str, expected: str
) -> None:
    from db.auth import local_identity
    from db.commands.sandbox import save_config

    cid = _stored_config(form_db)
    engine = make_engine(form_db, read_timeout=False)
    try:
        with engine.begin() as conn:  # as the backend left it: the text as it is
            conn.execute(
                text("UPDATE sandbox_strategy_configs SET config_data = :d WHERE id = :i"),
                {"d": stored, "i": cid},
            )
        save_config(
            engine,
            identity=local_identity(),
            config_id=cid,
            loaded_version=1,
            name="Stored",
            strategy_id="ThetaCropWeekly",
            user_id="default_user",
            config_data=OK,
        )  # version 1 -> history
    finally:
        engine.dispose()
    before = _configs(form_db)
    at = _app(form_db, "pages/sandbox.py", {"config": cid}, monkeypatch)
    at.button_group[0].set_value("history").run()
    at = _submit(at, "Roll back to version 1 (makes version 3)")
    assert not exceptions(at), exceptions(at)
    assert "Nothing was changed." in [str(e.value) for e in at.error], [e.value for e in at.error]
    assert expected in [str(t.value) for t in at.text], [t.value for t in at.text]
    assert _configs(form_db) == before


def test_config_inputs_cut_what_is_typed_at_their_limit(
    form_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why the typed "too long" messages need a stored row: each input carries max_chars, and a longer
    value (a paste; a client that ignores the browser's limit) arrives cut to it, so no length message."""
    limits = {
        ("text_input", "Name"): cs.NAME_MAX,
        ("text_input", "Strategy id"): cs.STRATEGY_MAX,
        ("text_input", "User"): cs.USER_MAX,
        ("text_area", "config_data (JSON)"): cs.MAX_JSON_CHARS,
    }
    before = _configs(form_db)
    at = _app(form_db, "pages/sandbox.py", {"config": "new"}, monkeypatch)
    for (kind, label), limit in limits.items():
        assert _field(at, kind, label).proto.max_chars == limit, label
    _fill_config_form(
        at,
        {
            "name": "n" * (cs.NAME_MAX + 1),
            "strategy": "s" * (cs.STRATEGY_MAX + 1),
            "user": "u" * (cs.USER_MAX + 1),
            "json": '{"a": "' + "x" * cs.MAX_JSON_CHARS + '"}',
        },
    )
    at = _submit(at, "Create config")
    assert not exceptions(at), exceptions(at)
    for (kind, label), limit in limits.items():
        assert len(_field(at, kind, label).value) == limit, label
    shown = _codes(at)
    assert not any("must be at most" in c or "is larger than" in c for c in shown), shown
    assert any(c.startswith("config_data: JSON syntax error") for c in shown), (
        shown
    )  # the cut JSON string is open
    assert _configs(form_db) == before


# --- the meta test: every message of domain/config_schema.py has a case -------------------------------

HOLE = "\x00"  # stands for a variable part of an f-string message ("{}" can be literal text: "such as {}")


def _templates(node: ast.AST) -> list[str]:
    """The message text of a string or f-string node, each variable part as HOLE."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return ["".join(v.value if isinstance(v, ast.Constant) else HOLE for v in node.values)]
    if isinstance(node, ast.IfExp):
        return _templates(node.body) + _templates(node.orelse)
    return []


def _schema_messages() -> list[str]:
    """Message templates of domain/config_schema.py: its models' MESSAGES, or passed to report.add /
    ValidationFailed."""
    tree = ast.parse((ROOT / "domain" / "config_schema.py").read_text(encoding="utf-8"))
    # the models' messages: cs.MESSAGES, "{values}"/"{n}" standing for what was found
    found = [re.sub(r"\{\w+\}", HOLE, m) for kinds in cs.MESSAGES.values() for m in kinds.values()]
    for node in ast.walk(tree):
        if isinstance(node, ast.Return) and node.value is not None:
            found += _templates(node.value)
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", "") == "add"
            and len(node.args) == 2
        ):
            found += _templates(node.args[1])
        if isinstance(node, ast.Dict):
            for value in node.values:
                if isinstance(value, ast.List):
                    for item in value.elts:
                        found += _templates(item)
    return list(
        dict.fromkeys(
            m.strip()
            for m in found
            if len(m.replace(HOLE, "").strip()) > 8 and " " in m.replace(HOLE, "").strip()
        )
    )


def _shows(template: str, shown: str) -> bool:
    """True when `shown` ends with a whole message of `template` (any text in its variable parts; a
    "key: " before it), or is a piece of a message without variable parts. Ending, not containing: the
    message "must be at most 100 characters" is not shown by "... at most 100 characters (it has 101)"."""
    pattern = ".+?".join(re.escape(part) for part in template.split(HOLE)) + r"\Z"
    return re.search(pattern, shown) is not None or (HOLE not in template and shown in template)


def _readable(template: str) -> str:
    return template.replace(HOLE, "{}")


def test_message_matching_tells_apart_messages_with_the_same_opening() -> None:
    long_name = "must be at most " + HOLE + " characters (it has " + HOLE + ")"
    assert _shows(long_name, "name: must be at most 200 characters (it has 250)")
    assert not _shows(long_name, "must be at most 100 characters")
    assert not _shows(
        "must be at most 100 characters", "must be at most 200 characters (it has 250)"
    )
    assert not _shows(
        "must be at most 100 characters", "strategy_id: must be at most 100 characters (it has 101)"
    )
    assert not _shows("contains a NUL character", "contains a NUL character (\\0)")
    assert _shows("contains a NUL character", "strategy_id: contains a NUL character")
    assert not _shows("must have at most " + HOLE + " widths", "must have at most 500 symbols")
    assert _shows("is empty: write a JSON object such as {}", "is empty: write a JSON object")
    assert not _shows(
        "JSON syntax error at line " + HOLE + ", column " + HOLE, "JSON syntax error at line 1"
    )


def test_every_config_validation_message_has_a_case() -> None:
    covered = (
        [e for _, _, e in CONFIG_CASES]
        + [m for _, _, ms in STORED_CASES for m in ms]
        + [e for _, _, e in ROLLBACK_CASES]
    )
    messages = _schema_messages()
    assert len(messages) >= 30, messages
    readable = [_readable(m) for m in messages]
    stale = [u for u in UNREACHABLE if u not in readable]
    assert not stale, f"UNREACHABLE names messages domain/config_schema.py no longer has: {stale}"
    missing = [
        _readable(m)
        for m in messages
        if _readable(m) not in UNREACHABLE and not any(_shows(m, e) for e in covered)
    ]
    assert not missing, f"validation messages no form test reaches: {missing}"


# --- the errors resolve form ----------------------------------------------------------------------
# The note and the buttons live under the selected group's occurrences: "Resolve/Unresolve selected (n)"
# (at once, disabled while nothing is selected), "Resolve the N unresolved in <window>…" /
# "Unresolve the N resolved in <window>…" (what the tab shows) and "Resolve/Unresolve all N … in the
# group's history…", each bulk one asking to confirm its count before it writes.

NOTE_REQUIRED = "A note is required: say what was done or why."
BLANK_ID = (
    " "  # a primary key that is only a space: a VARCHAR key takes it on every engine (messy data)
)
BLANK_GROUP = ("robust_blank_id", "robust_svc", "an error whose id is blank")


@dataclass(frozen=True)
class Group:
    """The URL of one group's occurrences, and ids of its events in the window, by status."""

    params: dict[str, str]
    fp: str
    open_ids: list[str]
    done_ids: list[str]


def _window() -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(days=30), now + timedelta(minutes=1)


def _real_group(url: str) -> Group:
    """The biggest demo group with unresolved and resolved events in the last 30 days."""
    since, until = _window()
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            view = eq.error_view(s, since=since, until=until, bucket_s=3600)
            groups = eq.by_status(view.groups, "all")
            for _, g in groups.iterrows():
                key = {
                    "error_type": g["error_type"],
                    "service": g["service"],
                    "messages": tuple(g["messages"]),
                }
                open_ids = eq.occurrence_ids(
                    s, **key, status="unresolved", since=since, until=until
                )
                done_ids = eq.occurrence_ids(s, **key, status="resolved", since=since, until=until)
                if open_ids and done_ids and g["error_type"] != BLANK_GROUP[0]:
                    return Group(
                        {"range": "30d", "group": str(g["fingerprint"])},
                        str(g["fingerprint"]),
                        list(open_ids),
                        list(done_ids),
                    )
    finally:
        engine.dispose()
    raise AssertionError("the demo data holds no group with unresolved and resolved events")


@pytest.fixture(scope="module")
def blank_group(form_db: str) -> Group:
    """A group whose only event has a blank id (written once into the module's database)."""
    error_type, service, message = BLANK_GROUP
    engine = make_engine(form_db, read_timeout=False)
    try:
        with engine.begin() as conn:
            conn.execute(
                E.__table__.insert().values(
                    id=BLANK_ID,
                    error_type=error_type,
                    service=service,
                    message=message,
                    severity="HIGH",
                    details={},
                    created_at=datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1),
                )
            )
    finally:
        engine.dispose()
    fp = fingerprint(error_type, service, message)
    return Group({"range": "30d", "group": fp}, fp, [BLANK_ID], [])


def _writes(url: str) -> tuple[int, int, int]:
    """(resolved events, resolution history rows, audit rows): what any resolve or unresolve changes."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return (
                conn.execute(
                    select(func.count()).select_from(E).where(E.resolved_at.is_not(None))
                ).scalar_one(),
                conn.execute(select(func.count()).select_from(ErrorResolution)).scalar_one(),
                conn.execute(select(func.count()).select_from(AuditLog)).scalar_one(),
            )
    finally:
        engine.dispose()


def _selection(group: Group, kind: str) -> list[str]:
    if kind == "open":
        return group.open_ids[:1]
    if kind == "done":
        return group.done_ids[:1]
    if (
        kind == "many"
    ):  # a selection is kept per group across pages (PAGE_SIZE rows each): 101 pages of it
        return group.open_ids + [
            f"kept-from-another-page-{i}" for i in range(MAX_IDS + 1 - len(group.open_ids))
        ]
    return []


def _asks_to_confirm(at: AppTest) -> bool:
    return any(b.key == "errors_confirm" for b in at.button) or any(
        "occurrences?" in str(w.value) or "occurrence?" in str(w.value) for w in at.warning
    )


# (case id, status tab, button key, note, what is selected, the message shown)
RESOLVE_CASES: list[tuple[str, str, str, str, str, str]] = [
    ("note-empty-selected", "unresolved", "errors_resolve_sel", "", "open", NOTE_REQUIRED),
    (
        "note-blank-unresolve-selected",
        "all",
        "errors_unresolve_sel",
        " \n\t ",
        "done",
        NOTE_REQUIRED,
    ),
    ("note-empty-shown", "unresolved", "errors_resolve_all", "", "", NOTE_REQUIRED),
    ("note-empty-shown-unresolve", "all", "errors_unresolve_all", "", "", NOTE_REQUIRED),
    ("note-empty-history", "unresolved", "errors_resolve_history", "", "", NOTE_REQUIRED),
    (
        "note-empty-history-unresolve",
        "unresolved",
        "errors_unresolve_history",
        "  ",
        "",
        NOTE_REQUIRED,
    ),
    (
        "too-many-selected",
        "unresolved",
        "errors_resolve_sel",
        "a reason",
        "many",
        f"At most {MAX_IDS:,} errors per action.",
    ),
    # The selection holds one row, but its id is blank: the command drops blank ids, so the user is told
    # to select something although "Resolve selected (1)" was clicked. Reported as an app defect; what
    # this case holds to is the refusal in words and that nothing is written.
    (
        "blank-id-selected",
        "unresolved",
        "errors_resolve_sel",
        "a reason",
        "blank",
        "Select at least one error.",
    ),
]
# Messages the command has that no control of the page can produce, with the reason (and its test).
RESOLVE_UNREACHABLE = {
    "The note is longer than {} characters.": "the note's text area has max_chars=MAX_NOTE_CHARS: a longer note arrives cut "
    "(test_resolve_note_is_cut_at_its_limit)",
    "The table {} (the history of resolutions, which keeps every earlier note) does not exist in this database "
    "yet. Create it with: {}. Nothing was written.": "every resolve button is disabled while the history table is missing, and the page names the "
    "migrate command instead (test_resolve_buttons_are_off_without_the_history_table)",
}


@pytest.mark.parametrize(
    ("tab", "button", "note", "selected", "expected"),
    [c[1:] for c in RESOLVE_CASES],
    ids=[c[0] for c in RESOLVE_CASES],
)
def test_resolve_form_validation_message(
    form_db: str,
    blank_group: Group,
    monkeypatch: pytest.MonkeyPatch,
    tab: str,
    button: str,
    note: str,
    selected: str,
    expected: str,
) -> None:
    group = blank_group if selected == "blank" else _real_group(form_db)
    chosen = _selection(group, "open" if selected == "blank" else selected)
    before = _writes(form_db)
    at = _app(
        form_db,
        "pages/errors.py",
        {**group.params, "tab": tab},
        monkeypatch,
        state={"errors_selected": {group.fp: chosen}},
    )
    assert not exceptions(at), exceptions(at)
    clicked = at.button(key=button)
    assert not clicked.disabled, (
        f"{clicked.label!r} is disabled: the case does not reach the command"
    )
    if chosen:
        assert clicked.label.endswith(f"selected ({len(chosen)})"), clicked.label
    at.text_area(key="errors_note").set_value(note)
    at = clicked.click().run()
    assert not exceptions(at), exceptions(at)
    errors = [str(e.value) for e in at.error]
    assert expected in errors, errors
    assert not _asks_to_confirm(at), "a refused action went on to its confirmation"
    assert _writes(form_db) == before, "a refused action wrote"


def test_resolve_with_a_note_writes_what_the_refusals_did_not(
    form_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control for the cases above: with a note the same click writes one event (so _writes sees it)."""
    group = _real_group(form_db)
    resolved, history, audits = _writes(form_db)
    at = _app(
        form_db,
        "pages/errors.py",
        group.params,
        monkeypatch,
        state={"errors_selected": {group.fp: group.open_ids[:1]}},
    )
    at.text_area(key="errors_note").set_value("a reason")
    at = at.button(key="errors_resolve_sel").click().run()
    assert not exceptions(at) and not at.error, (exceptions(at), [e.value for e in at.error])
    assert "Resolved 1 error(s)." in [str(s.value) for s in at.success]
    assert _writes(form_db) == (resolved + 1, history + 1, audits + 1)


def test_resolve_selected_buttons_are_off_while_nothing_is_selected(
    form_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "Select at least one error" is no longer reached by clicking with nothing selected: the buttons say 0."""
    group = _real_group(form_db)
    at = _app(form_db, "pages/errors.py", {**group.params, "tab": "all"}, monkeypatch)
    for key, label in (
        ("errors_resolve_sel", "Resolve selected (0)"),
        ("errors_unresolve_sel", "Unresolve selected (0)"),
    ):
        assert (at.button(key=key).label, at.button(key=key).disabled) == (label, True)
    assert not at.button(
        key="errors_resolve_all"
    ).disabled  # the bulk buttons are on: the page is not just off


def test_resolve_note_is_cut_at_its_limit(form_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """ "The note is longer than ..." is unreachable: the text area keeps MAX_NOTE_CHARS characters of a longer note."""
    group = _real_group(form_db)
    before = _writes(form_db)
    at = _app(form_db, "pages/errors.py", group.params, monkeypatch)
    note = at.text_area(key="errors_note")
    assert note.proto.max_chars == MAX_NOTE_CHARS
    note.set_value("n" * (MAX_NOTE_CHARS + 1))
    at = at.button(key="errors_resolve_all").click().run()
    assert not exceptions(at) and not at.error, (exceptions(at), [e.value for e in at.error])
    assert _asks_to_confirm(at) and "n" * MAX_NOTE_CHARS in [
        str(c.value) for c in at.code
    ]  # cut, then staged
    at = at.button(key="errors_cancel").click().run()
    assert _writes(form_db) == before


def test_resolve_buttons_are_off_without_the_history_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'nohistory.db'}"
    prepare_database(url, demo=False)
    error_type, service, message = "robust_t", "robust_svc", "lost"
    now = datetime.now(UTC).replace(tzinfo=None)
    engine = make_engine(url, read_timeout=False)
    with engine.begin() as conn:
        conn.execute(
            E.__table__.insert(),
            [
                {
                    "id": "open-1",
                    "error_type": error_type,
                    "service": service,
                    "message": message,
                    "severity": "HIGH",
                    "details": {},
                    "created_at": now - timedelta(hours=1),
                },
                {
                    "id": "done-1",
                    "error_type": error_type,
                    "service": service,
                    "message": message,
                    "severity": "HIGH",
                    "details": {},
                    "created_at": now - timedelta(hours=2),
                    "resolved_at": now,
                    "resolution_notes": "x",
                },
            ],
        )
        conn.execute(text(f"DROP TABLE {ErrorResolution.__tablename__}"))
    engine.dispose()
    fp = fingerprint(error_type, service, message)
    at = _app(
        url,
        "pages/errors.py",
        {"group": fp, "tab": "all"},
        monkeypatch,
        state={"errors_selected": {fp: ["open-1", "done-1"]}},
    )
    assert not exceptions(at), exceptions(at)
    assert any(
        ErrorResolution.__tablename__ in str(w.value)
        and "python -m db.schema.migrate" in str(w.value)
        for w in at.warning
    ), [w.value for w in at.warning]
    keys = [
        f"errors_{a}"
        for a in (
            "resolve_sel",
            "unresolve_sel",
            "resolve_all",
            "unresolve_all",
            "resolve_history",
            "unresolve_history",
        )
    ]
    assert [at.button(key=k).disabled for k in keys] == [True] * len(keys)


def _command_messages() -> list[str]:
    """Message templates of db/commands/errors.py: every list of texts (the problems a ValidationFailed
    carries), module constants such as NO_HISTORY read through."""
    tree = ast.parse((ROOT / "db" / "commands" / "errors.py").read_text(encoding="utf-8"))
    constants = {
        t.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    }
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.List) and node.elts:
            items = [constants.get(e.id, e) if isinstance(e, ast.Name) else e for e in node.elts]
            found += [t for item in items for t in _templates(item)]
    return list(dict.fromkeys(m.strip() for m in found if " " in m))


def test_every_resolve_validation_message_has_a_case() -> None:
    messages = _command_messages()
    readable = [_readable(m) for m in messages]
    assert any(r.startswith("A note is required") for r in readable) and len(messages) >= 4, (
        readable
    )
    stale = [u for u in RESOLVE_UNREACHABLE if u not in readable]
    assert not stale, (
        f"RESOLVE_UNREACHABLE names messages db/commands/errors.py no longer has: {stale}"
    )
    covered = [c[5] for c in RESOLVE_CASES]
    missing = [
        _readable(m)
        for m in messages
        if _readable(m) not in RESOLVE_UNREACHABLE and not any(_shows(m, e) for e in covered)
    ]
    assert not missing, f"resolve messages no test reaches through the page: {missing}"


# --- the database busy while a save runs: message, draft kept, nothing written --------------------

HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


def test_config_save_while_database_busy_keeps_the_draft(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from db.auth import local_identity
    from db.commands.sandbox import create_config
    from db.models import SandboxStrategyConfig

    path = tmp_path / "busy.db"
    url = f"sqlite:///{path}"
    prepare_database(url, demo=False)
    engine = make_engine(url, read_timeout=False)
    cid = create_config(
        engine,
        identity=local_identity(),
        name="Busy test",
        strategy_id="ThetaCropWeekly",
        user_id="default_user",
        config_data=OK,
    )
    monkeypatch.setenv("CONSOLE_SQLITE_BUSY_TIMEOUT_S", "0.3")
    at = _app(url, "pages/sandbox.py", {"config": cid}, monkeypatch)
    _field(at, "text_input", "Name").set_value("My unsaved edit")
    _field(at, "text_input", "Note (why this change)").set_value("renamed")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), "3"], stdout=subprocess.PIPE, text=True
    )
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
        row = conn.execute(
            select(SandboxStrategyConfig.version, SandboxStrategyConfig.name).where(
                SandboxStrategyConfig.id == cid
            )
        ).one()
        audits = conn.execute(select(func.count()).select_from(AuditLog)).scalar_one()
    assert (row.version, row.name, audits) == (1, "Busy test", 1)  # only the create's audit row
    at = _submit(at, "Save new version")  # the lock is gone: the kept draft saves
    assert any("Saved as version 2" in str(s.value) for s in at.success), [
        s.value for s in at.success
    ]
    engine.dispose()
