"""The config validator at the edges where pydantic's own rules differ from JSON's: bool vs int,
NaN and Infinity, keys it does not know, wrong types nested anywhere, numbers too large for a
float. Each gives the form's message for the key, and nothing raises past the validator."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db.errors import ValidationFailed
from domain import config_schema as cs


def errors(config: dict[str, Any] | str) -> dict[str, list[str]]:
    text = config if isinstance(config, str) else json.dumps(config)
    _, report = cs.validate(name="n", strategy_id="S", user_id="u", config_json=text)
    return report.errors


NUMBER = "must be a number, e.g. 0.15"
WHOLE = "must be a whole number"
PAIR = "must be two whole numbers [min, max], e.g. [7, 21]"
POSITIVE = "must contain only positive numbers"
NOT_FINITE = "contains a NUL character or a non-finite number"


def test_a_bool_is_not_a_number() -> None:
    found = errors(
        {
            "trading": {
                "target_dte_range": [True, 21],
                "delta_target": True,
                "max_positions": True,
                "wing_widths": [5, False],
            },
            "risk": {"profit_target": False, "loss_limit": True},
            "universe": {"primary_symbols": ["SPY", True], "universe_name": True},
        }
    )
    assert found == {
        "trading.target_dte_range": [PAIR],
        "trading.delta_target": [NUMBER],
        "trading.max_positions": [WHOLE],
        "trading.wing_widths": [POSITIVE],
        "risk.profit_target": ["must be a number (a fraction of the credit, e.g. 0.5)"],
        "risk.loss_limit": ["must be a number (a multiple of the credit, e.g. 2.0)"],
        "universe.primary_symbols": ["has values that are not upper-case tickers: True"],
        "universe.universe_name": ["must be a non-empty text"],
    }


def test_a_whole_float_is_not_a_whole_number_but_an_int_is_a_number() -> None:
    assert errors({"trading": {"max_positions": 5.0, "target_dte_range": [7.0, 21]}}) == {
        "trading.max_positions": [WHOLE],
        "trading.target_dte_range": [PAIR],
    }
    assert errors({"risk": {"profit_target": 1, "loss_limit": -2}}) == {}


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ('{"trading": {"delta_target": NaN}}', "config_data", "NaN is not allowed"),
        ('{"trading": {"wing_widths": [-Infinity]}}', "config_data", "-Infinity is not allowed"),
        # A literal too large for a float reads as infinity: refused where it is and at its key.
        ('{"trading": {"delta_target": 1e400}}', "config_data.trading.delta_target", NOT_FINITE),
        ('{"trading": {"delta_target": 1e400}}', "trading.delta_target", NUMBER),
        ('{"trading": {"wing_widths": [5, -1e999]}}', "trading.wing_widths", POSITIVE),
        ('{"risk": {"loss_limit": 1e400}}', "config_data.risk.loss_limit", NOT_FINITE),
    ],
)
def test_nan_and_infinity_are_refused(text: str, key: str, message: str) -> None:
    assert any(message in m for m in errors(text).get(key, [])), errors(text)


def test_non_finite_python_values_are_refused_by_require_valid() -> None:
    for bad in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(ValidationFailed) as info:
            cs.require_valid(
                name="n", strategy_id="S", user_id="u", config_data={"risk": {"loss_limit": bad}}
            )
        assert info.value.errors == {ROOT: ["is not JSON-serialisable or holds NaN/Infinity"]}


ROOT = cs.ROOT


def test_unknown_keys_are_kept_as_they_are_and_listed() -> None:
    data = {
        "trading": {"max_positions": 3, "wing_widths": [5, 10], "max_positions_x": "anything"},
        "risk": {"trailing_stop": {"on": True, "pct": [1, None]}},
        "universe": {"symbol_type": None},
        "trading ": {"delta_target": 7},  # not the section: a key with a space, unknown
        "scoring": [1, "two", {"3": None}],
    }
    draft, report = cs.validate(
        name="n", strategy_id="S", user_id="u", config_json=json.dumps(data)
    )
    assert report.errors == {} and draft is not None
    assert draft.config_data == data  # not coerced: ints stay ints, unknown values untouched
    assert [type(w) for w in draft.config_data["trading"]["wing_widths"]] == [int, int]
    assert report.unknown_keys == [
        "trading ",
        "scoring",
        "trading.max_positions_x",
        "risk.trailing_stop",
        "universe.symbol_type",
    ]
    assert report.keys_checked == 2 + 3 + 1 + 1


@pytest.mark.parametrize(
    ("config", "key", "message"),
    [
        ({"trading": [1]}, "trading", "must be a JSON object"),
        ({"risk": "x"}, "risk", "must be a JSON object"),
        ({"universe": 5}, "universe", "must be a JSON object"),
        ({"risk": True}, "risk", "must be a JSON object"),
        ({"trading": {"delta_target": None}}, "trading.delta_target", NUMBER),
        ({"trading": {"delta_target": {"value": 0.1}}}, "trading.delta_target", NUMBER),
        ({"trading": {"delta_target": [0.1]}}, "trading.delta_target", NUMBER),
        ({"trading": {"target_dte_range": [[7], [21]]}}, "trading.target_dte_range", PAIR),
        (
            {"trading": {"target_dte_range": {"min": 7, "max": 21}}},
            "trading.target_dte_range",
            PAIR,
        ),
        ({"trading": {"target_dte_range": [7, 14, 21]}}, "trading.target_dte_range", PAIR),
        ({"trading": {"target_dte_range": "7-21"}}, "trading.target_dte_range", PAIR),
        ({"trading": {"max_positions": "3"}}, "trading.max_positions", WHOLE),
        ({"trading": {"wing_widths": [[5]]}}, "trading.wing_widths", POSITIVE),
        (
            {"trading": {"wing_widths": {"a": 5}}},
            "trading.wing_widths",
            "must be a non-empty list of numbers, e.g. [5, 10, 15]",
        ),
        (
            {"universe": {"primary_symbols": [["SPY"], {"s": 1}]}},
            "universe.primary_symbols",
            "has values that are not upper-case tickers: ['SPY'], {'s': 1}",
        ),
        (
            {"universe": {"universe_name": ["x"]}},
            "universe.universe_name",
            "must be a non-empty text",
        ),
    ],
)
def test_nested_wrong_types_get_the_keys_message(
    config: dict[str, Any], key: str, message: str
) -> None:
    assert errors(config) == {key: [message]}


def test_a_null_section_counts_as_absent() -> None:
    assert errors({"trading": None, "risk": None, "universe": None}) == {}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (10**400, "must be between 0 and 1 (exclusive)"),  # a number, too large for a float
        (-(10**400), "must be between 0 and 1 (exclusive)"),
        (10**30, "must be between 0 and 1 (exclusive)"),
    ],
)
def test_huge_integers_are_out_of_range(value: int, message: str) -> None:
    assert errors({"trading": {"delta_target": value}}) == {"trading.delta_target": [message]}


def test_huge_integers_elsewhere() -> None:
    huge = 10**400
    assert errors(
        {
            "trading": {"max_positions": huge, "target_dte_range": [0, huge]},
            "risk": {"profit_target": huge, "loss_limit": -huge},
        }
    ) == {
        "trading.max_positions": ["must be between 1 and 1000"],
        "trading.target_dte_range": ["must lie between 0 and 3650 days"],
        "risk.profit_target": ["must be above 0 and at most 10"],
        "risk.loss_limit": ["must be non-zero and between -100 and 100"],
    }
    with pytest.raises(ValidationFailed) as info:
        cs.require_valid(
            name="n", strategy_id="S", user_id="u", config_data={"trading": {"delta_target": huge}}
        )
    assert info.value.errors == {"trading.delta_target": ["must be between 0 and 1 (exclusive)"]}


def test_integers_too_long_for_python_to_read_are_infinite_not_a_crash() -> None:
    # Python refuses to read an int of more than 4300 digits (ValueError, not a JSON error).
    digits = "9" * 5000
    found = errors(f'{{"trading": {{"max_positions": {digits}}}, "other": -{digits}}}')
    assert found == {
        "config_data.trading.max_positions": [NOT_FINITE],
        "config_data.other": [NOT_FINITE],
        "trading.max_positions": [WHOLE],
    }


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        # The first listed problem of a key wins, as before the models: range before order ...
        ("trading.target_dte_range", [-1, 9999], "must lie between 0 and 3650 days"),
        ("trading.target_dte_range", [3651, 3650], "must be increasing"),
        ("trading.target_dte_range", [7.5, -1], PAIR),
        # ... too many before a bad element, a bad element before a repeated one.
        ("trading.wing_widths", ["x"] * 21, "must have at most 20 widths"),
        ("universe.primary_symbols", ["aapl"] * 501, "must have at most 500 symbols"),
        ("universe.primary_symbols", ["aapl", "aapl"], "tickers: 'aapl', 'aapl'"),
        ("universe.universe_name", " " * 150, "must be a non-empty text"),
        ("risk.loss_limit", 0.0, "must be non-zero"),
        ("risk.loss_limit", -100, None),
        ("trading.target_dte_range", [0, 3650], None),
    ],
)
def test_which_message_wins(key: str, value: object, message: str | None) -> None:
    section, _, sub = key.partition(".")
    found = errors({section: {sub: value}})
    if message is None:
        assert found == {}
    else:
        assert list(found) == [key] and message in found[key][0], found


def test_a_ticker_with_a_line_break_is_refused() -> None:
    # The hand-written check (re.match with "$") let "AAPL\n" through; the model's pattern does not.
    assert errors({"universe": {"primary_symbols": ["AAPL\n"]}}) == {
        "universe.primary_symbols": ["has values that are not upper-case tickers: 'AAPL\\n'"]
    }


def test_names_count_the_stripped_text() -> None:
    _, report = cs.validate(
        name="  " + "x" * 201 + "  ", strategy_id=0, user_id="a\x00b", config_json="{}"
    )
    assert report.errors == {
        "name": ["must be at most 200 characters (it has 201)"],
        "strategy_id": ["is required"],
        "user_id": ["contains a NUL character"],
    }


def _template(message: str) -> re.Pattern[str]:
    return re.compile(".+".join(map(re.escape, re.split(r"\{\w+\}", message))) + r"\Z", re.S)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(["SPY", "QQQ", "aapl", " "]),
    lambda inner: st.lists(inner, max_size=25) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=20,
)
sections = st.fixed_dictionaries(
    {},
    optional={
        section: st.dictionaries(st.sampled_from([*keys, "other"]), json_values) | json_values
        for section, keys in cs.KNOWN_KEYS.items()
    },
)


@settings(max_examples=100, deadline=None)
@given(sections)
def test_any_value_at_a_known_key_gets_one_of_its_messages(config: dict[str, Any]) -> None:
    for key, messages in errors(config).items():
        if key.startswith(f"{ROOT}."):  # a NUL or non-finite value where it is (any key)
            assert messages == [NOT_FINITE]
            continue
        assert key in cs.MESSAGES, key  # otherwise only sections and their known keys
        templates = [_template(m) for m in cs.MESSAGES[key].values()]
        assert len(messages) == 1 and any(t.match(messages[0]) for t in templates), messages


def test_the_documented_example_is_a_complete_valid_config() -> None:
    example = json.loads(cs.__doc__.split("reads it:", 1)[1].split("\n\n", 2)[1])  # type: ignore[union-attr]
    draft, report = cs.validate(
        name="n", strategy_id="S", user_id="u", config_json=json.dumps(example)
    )
    assert report.errors == {} and report.unknown_keys == [] and draft is not None
    assert {s: tuple(body) for s, body in example.items()} == cs.KNOWN_KEYS


def test_every_known_key_is_documented() -> None:
    schema = cs.ConfigData.model_json_schema()
    for section, keys in cs.KNOWN_KEYS.items():
        model = schema["$defs"][cs.MODELS[section].__name__]
        assert model["description"].startswith(f"`{section}`")
        for key in keys:
            assert model["properties"][key]["description"], f"{section}.{key}"
            assert model["properties"][key]["messages"] == cs.MESSAGES[f"{section}.{key}"]
