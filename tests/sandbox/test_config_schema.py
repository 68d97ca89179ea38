"""Every validation rule of a config draft, each message reached; fields <-> JSON kept in sync."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db.errors import ValidationFailed
from domain import config_schema as cs
from tests.sandbox.sandbox_rows import REAL_CONFIG


def check(
    config_json: str, *, name: str = "n", strategy_id: str = "S", user_id: str = "u"
) -> cs.Report:
    _, report = cs.validate(
        name=name, strategy_id=strategy_id, user_id=user_id, config_json=config_json
    )
    return report


def messages(report: cs.Report, key: str) -> str:
    return " | ".join(report.errors.get(key, []))


def test_real_backend_config_is_valid() -> None:
    draft, report = cs.validate(
        name="  ThetaCrop Weekly Test ",
        strategy_id=" thetacrop_weekly",
        user_id="default_user",
        config_json=json.dumps(REAL_CONFIG),
    )
    assert report.ok and draft is not None
    assert draft.name == "ThetaCrop Weekly Test" and draft.strategy_id == "thetacrop_weekly"
    assert draft.config_data == REAL_CONFIG and report.unknown_keys == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1,\n  "b" 2}', "JSON syntax error at line 2, column 7"),
        ("[1, 2]", "the top level must be a JSON object"),
        ('"text"', "not str"),
        ('{"a": NaN}', "NaN is not allowed (JSON numbers must be finite)"),
        ('{"a": Infinity}', "Infinity is not allowed"),
        ('{"a": -Infinity}', "-Infinity is not allowed"),
        ('{"a": 1, "a": 2}', "the key 'a' appears twice"),
        ('{"trading": {"x": 1, "x": 1}}', "the key 'x' appears twice"),
        ("   ", "is empty"),
        ('{"a": "\x00"}', "NUL character"),
        ('{"a": ' + "[" * 9 + "]" * 9 + "}", "is nested more than 8 levels deep"),
        ('{"a": "' + "x" * (cs.MAX_JSON_BYTES + 1) + '"}', "is larger than 64 KiB"),
        ('{"a": ' + "[" * 5000 + "]" * 5000 + "}", "nested more than 8 levels"),
    ],
)
def test_config_data_rules(text: str, expected: str) -> None:
    report = check(text)
    assert expected in messages(report, "config_data")
    assert not report.ok


def test_escaped_nul_inside_a_value_is_refused() -> None:
    report = check('{"universe": {"universe_name": "a\\u0000b"}}')
    assert "NUL" in messages(report, "config_data.universe.universe_name")


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("trading.target_dte_range", [7], "two whole numbers"),
        ("trading.target_dte_range", [7.5, 21], "two whole numbers"),
        ("trading.target_dte_range", [-1, 21], "must lie between 0 and 3650 days"),
        ("trading.target_dte_range", [21, 7], "must be increasing"),
        ("trading.delta_target", "0.2", "must be a number"),
        ("trading.delta_target", True, "must be a number"),
        ("trading.delta_target", 1.5, "between 0 and 1"),
        ("trading.max_positions", 2.5, "whole number"),
        ("trading.max_positions", 0, "between 1 and 1000"),
        ("trading.wing_widths", [], "non-empty list"),
        ("trading.wing_widths", list(range(1, 30)), "at most 20"),
        ("trading.wing_widths", [5, -10], "only positive numbers"),
        ("risk.profit_target", None, "must be a number"),
        ("risk.profit_target", 0, "above 0 and at most 10"),
        ("risk.loss_limit", "2", "must be a number"),
        ("risk.loss_limit", 0, "non-zero"),
        ("universe.primary_symbols", "AAPL", "non-empty list"),
        ("universe.primary_symbols", ["X"] * 501, "at most 500"),
        (
            "universe.primary_symbols",
            ["aapl", "MSFT"],
            "has values that are not upper-case tickers: 'aapl'",
        ),
        ("universe.primary_symbols", ["AAPL", "AAPL"], "lists some symbols twice: AAPL"),
        ("universe.universe_name", " ", "non-empty text"),
        ("universe.universe_name", "x" * 101, "at most 100"),
    ],
)
def test_known_key_rules(key: str, value: object, expected: str) -> None:
    section, _, sub = key.partition(".")
    report = check(json.dumps({section: {sub: value}}))
    assert expected in messages(report, key), report.errors


def test_accepted_backend_variants() -> None:
    # The backend's UI writes a negative loss limit; BRK-B is a real ticker of a real row.
    data = {
        "risk": {"loss_limit": -2.0, "profit_target": 0.5},
        "universe": {"primary_symbols": ["BRK-B", "META"], "universe_name": "thetacrop"},
    }
    assert check(json.dumps(data)).ok


def test_section_must_be_an_object() -> None:
    assert "must be a JSON object" in messages(check('{"risk": [1]}'), "risk")


def test_unknown_keys_are_allowed_but_listed() -> None:
    report = check(json.dumps({"scoring": {"w": 4.0}, "universe": {"symbol_type": "ETF"}}))
    assert report.ok
    assert report.unknown_keys == ["scoring", "universe.symbol_type"]


def test_dotted_keys_are_flagged_and_fixed() -> None:
    data = {
        "universe": {"universe_name": "x"},
        "universe.primary_symbols": ["SPY", "QQQ"],
        "trading.target_dte_range": [7, 28],
        "my.key": 1,
    }
    report = check(json.dumps(data))
    assert messages(report, '"universe.primary_symbols"') == (
        'is a dotted top-level key; it belongs inside "universe" as "primary_symbols" (use \'Fix dotted keys\')'
    )
    assert 'belongs inside "trading"' in messages(report, '"trading.target_dte_range"')
    assert report.dotted_keys == ["universe.primary_symbols", "trading.target_dte_range"]
    assert "my.key" in report.unknown_keys
    fixed = cs.fix_dotted_keys(data)
    assert fixed == {
        "universe": {"universe_name": "x", "primary_symbols": ["SPY", "QQQ"]},
        "trading": {"target_dte_range": [7, 28]},
        "my.key": 1,
    }
    assert check(json.dumps(fixed)).ok


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("name", "   ", "is required"),
        ("name", "x" * 201, "at most 200 characters (it has 201)"),
        ("name", "a\x00b", "NUL"),
        ("strategy_id", "", "is required"),
        ("strategy_id", "s" * 101, "at most 100"),
        ("user_id", None, "is required"),
        ("user_id", "u" * 51, "at most 50"),
    ],
)
def test_text_fields(field: str, value: object, expected: str) -> None:
    kwargs = {"name": "n", "strategy_id": "S", "user_id": "u", field: value}
    report = check("{}", **kwargs)  # type: ignore[arg-type]
    assert expected in messages(report, field)


def test_require_valid_raises_with_every_key() -> None:
    with pytest.raises(ValidationFailed) as info:
        cs.require_valid(
            name="", strategy_id="S", user_id="u", config_data={"trading": {"delta_target": 2}}
        )
    assert set(info.value.errors) == {"name", "trading.delta_target"}
    with pytest.raises(ValidationFailed) as info:
        cs.require_valid(name="n", strategy_id="S", user_id="u", config_data={"x": float("nan")})
    assert info.value.errors == {"config_data": ["is not JSON-serialisable or holds NaN/Infinity"]}


def test_fields_round_trip_keeps_unknown_keys() -> None:
    data = {
        **REAL_CONFIG,
        "scoring": {"w": 1},
        "universe": {"primary_symbols": ["SPY"], "symbol_type": "ETF"},
    }
    fields = cs.fields_from_data(data)
    assert (
        fields["trading.target_dte_range"] == "7, 21" and fields["trading.delta_target"] == "0.15"
    )
    assert cs.apply_fields(data, fields) == data


def test_fields_edit_and_clear() -> None:
    fields = cs.fields_from_data(REAL_CONFIG)
    fields.update(
        {
            "trading.max_positions": "5.0",
            "trading.wing_widths": "5 10, x",
            "universe.primary_symbols": "spy qqq",
            "risk.loss_limit": " ",
            "universe.universe_name": "u",
        }
    )
    out = cs.apply_fields(REAL_CONFIG, fields)
    assert out["trading"]["max_positions"] == 5
    assert out["trading"]["wing_widths"] == [5, 10, "x"]  # kept as typed, so the rule reports it
    assert out["universe"] == {"primary_symbols": ["SPY", "QQQ"], "universe_name": "u"}
    assert "loss_limit" not in out["risk"]
    assert "only positive numbers" in messages(check(json.dumps(out)), "trading.wing_widths")
    assert cs.apply_fields({}, cs.fields_from_data({})) == {}


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_validation_never_raises(text: str) -> None:
    draft, report = cs.validate(name="n", strategy_id="S", user_id="u", config_json=text)
    assert (draft is None) == (not report.ok)


def _messages() -> list[list[str]]:
    """Every message the validator can produce, as its fixed text pieces: the models' MESSAGES
    ({values} and {n} left out), and the texts the JSON and structure checks write themselves
    (report.add, ValidationFailed; f-string fields left out)."""
    import ast
    import re
    from pathlib import Path

    found = [
        re.split(r"\{\w+\}", text) for kinds in cs.MESSAGES.values() for text in kinds.values()
    ]
    for node in ast.walk(ast.parse(Path(cs.__file__).read_text())):
        values: list[ast.expr] = []
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add":
            values = node.args[1:2]
        elif isinstance(node, ast.Dict):
            values = [e for v in node.values if isinstance(v, ast.List) for e in v.elts]
        for value in values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found.append([value.value])
            elif isinstance(value, ast.JoinedStr):
                found.append([str(v.value) for v in value.values if isinstance(v, ast.Constant)])
    return found


def test_every_message_is_exercised_by_this_file() -> None:
    import ast
    from pathlib import Path

    source = Path(__file__).read_text().split("def _messages", 1)[0]
    expectations = {
        n.value
        for n in ast.walk(ast.parse(source))
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and len(n.value) >= 8
    }

    def hit(e: str, piece: str) -> bool:
        return e in piece or (len(piece.strip()) >= 6 and piece.strip() in e)

    missing = [
        m for m in _messages() if not any(hit(e, piece) for e in expectations for piece in m)
    ]
    assert len(_messages()) >= 25  # the walker sees the messages at all
    assert missing == [], f"validation messages without a test: {missing}"
