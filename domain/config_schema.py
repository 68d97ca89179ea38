"""Validation of a sandbox config draft (name, strategy, user, config_data) before any write.

The shape of config_data is the pydantic models below, one per section. As the backend reads it:

    {
      "trading": {"target_dte_range": [7, 21], "delta_target": 0.15,
                  "max_positions": 3, "wing_widths": [5, 10, 15]},
      "risk": {"profit_target": 0.5, "loss_limit": -2.0},
      "universe": {"primary_symbols": ["SPY", "QQQ"], "universe_name": "thetacrop"}
    }

Every section and key is optional; other keys (top level or in a section) are kept as they are
and listed as unknown. The backend's dotted keys (`"universe.primary_symbols"`) are flagged with a
fix. Every problem is reported per key, in the words of MESSAGES, so the form shows each message
next to what caused it. The JSON text itself is read by a strict parser first: pydantic's would not
give the line and column of a syntax error, nor refuse duplicate keys or NaN.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
)
from pydantic.config import JsonDict
from pydantic_core import ErrorDetails, PydanticCustomError

from db.errors import ValidationFailed
from domain.jsondiff import canonical, depth

MAX_JSON_BYTES = 64 * 1024  # a config is a few hundred bytes; 64 KiB leaves room, refuses dumps
MAX_JSON_CHARS = MAX_JSON_BYTES  # the raw-JSON editor takes at most this many characters
FIELD_MAX_CHARS = 8 * 1024  # one structured field (500 symbols fit)
NOTE_MAX = 2000  # the note saved with a version ("why this change")
INDENT_DEPTH = 50  # deeper documents are shown on one line (json.dumps recurses per level)
MAX_DEPTH = 8  # nesting levels of objects/arrays
NAME_MAX = 200  # sandbox_strategy_configs.name is String(200)
STRATEGY_MAX = 100  # strategy_id is String(100)
USER_MAX = 50  # user_id is String(50)
MAX_SYMBOLS = 500
MAX_WINGS = 20
MAX_DTE = 3650
TICKER = r"^[A-Z0-9][A-Z0-9.\-^/]{0,9}$"
ROOT = "config_data"


# --- the shape of a config ------------------------------------------------------------------------


def says(problem: str, limit: int | None = None, **others: str) -> Any:
    """An optional key and what the form says of it: `problem` when its type or shape is wrong;
    `others` per kind of problem ("range", "too_long", "item": one element of a list, or a custom
    kind), the first listed winning. {values} and {n} are filled in from what was found."""
    messages: JsonDict = {"type": problem, **others}
    return Field(default=None, max_length=limit, json_schema_extra={"messages": messages})


def _refuse(kind: str, found: Callable[[Any], Any], *, before: bool = False) -> Any:
    """A rule beyond pydantic's constraints: refused as `kind` when `found` returns something."""

    def check(value: Any) -> Any:
        if hit := found(value):
            raise PydanticCustomError(kind, kind, {"values": hit})
        return value

    return BeforeValidator(check) if before else AfterValidator(check)


def _repeated(symbols: list[str]) -> str:
    return ", ".join(sorted({s for s in symbols if symbols.count(s) > 1})[:5])


# JSON numbers: an int is a number, a bool is not; NaN and Infinity are not.
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Whole = Annotated[int, Strict()]
Ticker = Annotated[str, Strict(), Field(pattern=TICKER)]


class _Section(BaseModel):
    """A section's known keys are checked when present; keys it does not know are kept."""

    model_config = ConfigDict(extra="allow", use_attribute_docstrings=True)


class Trading(_Section):
    """`trading`: which option spreads the backend opens, and how many at once."""

    target_dte_range: Annotated[
        tuple[Annotated[Whole, Field(ge=0)], Annotated[Whole, Field(le=MAX_DTE)]],
        _refuse("order", lambda pair: pair[0] >= pair[1]),
    ] = says(
        "must be two whole numbers [min, max], e.g. [7, 21]",
        range=f"must lie between 0 and {MAX_DTE} days",
        order="must be increasing: the first number smaller than the second",
    )
    """Days to expiry of the options opened, [min, max]."""
    delta_target: Annotated[Number, Field(gt=0, lt=1)] = says(
        "must be a number, e.g. 0.15", range="must be between 0 and 1 (exclusive)"
    )
    """Delta of the short options."""
    max_positions: Annotated[Whole, Field(ge=1, le=1000)] = says(
        "must be a whole number", range="must be between 1 and 1000"
    )
    """Positions open at the same time."""
    wing_widths: Annotated[list[Annotated[Number, Field(gt=0)]], Field(min_length=1)] = says(
        "must be a non-empty list of numbers, e.g. [5, 10, 15]",
        MAX_WINGS,
        too_long=f"must have at most {MAX_WINGS} widths",
        item="must contain only positive numbers",
    )
    """Distances between the short and the long strike tried, in dollars."""


class Risk(_Section):
    """`risk`: when an open position is closed."""

    profit_target: Annotated[Number, Field(gt=0, le=10)] = says(
        "must be a number (a fraction of the credit, e.g. 0.5)",
        range="must be above 0 and at most 10",
    )
    """Take the profit at this fraction of the credit."""
    # The backend's own UI writes -2.0, its JSON files 2.0 or 0.9: the sign is accepted either way.
    loss_limit: Annotated[Number, Field(ge=-100, le=100), _refuse("range", lambda v: v == 0)] = (
        says(
            "must be a number (a multiple of the credit, e.g. 2.0)",
            range="must be non-zero and between -100 and 100",
        )
    )
    """Stop the loss at this multiple of the credit."""


class Universe(_Section):
    """`universe`: the underlyings scanned."""

    primary_symbols: Annotated[
        list[Ticker], Field(min_length=1), _refuse("repeated", _repeated)
    ] = says(
        "must be a non-empty list of ticker symbols",
        MAX_SYMBOLS,
        too_long=f"must have at most {MAX_SYMBOLS} symbols",
        item="has values that are not upper-case tickers: {values}",
        repeated="lists some symbols twice: {values}",
    )
    """Upper-case tickers, each once."""
    universe_name: Annotated[
        str, Strict(), _refuse("type", lambda v: isinstance(v, str) and not v.strip(), before=True)
    ] = says("must be a non-empty text", 100, too_long="must be at most 100 characters")
    """A label for the list of symbols."""


class ConfigData(BaseModel):
    """config_data: the three known sections (null counts as absent); other keys are kept."""

    model_config = ConfigDict(extra="allow")

    trading: Trading | None = says("must be a JSON object")
    risk: Risk | None = says("must be a JSON object")
    universe: Universe | None = says("must be a JSON object")


Text = Annotated[
    str,
    Field(min_length=1),
    _refuse("nul", lambda text: "\x00" in text),
    BeforeValidator(lambda value: str(value or "").strip()),
]


def _text(limit: int) -> Any:
    too_long = f"must be at most {limit} characters (it has {{n}})"
    return says("is required", limit, too_long=too_long, nul="contains a NUL character")


class Names(BaseModel):
    """The columns beside config_data, stripped; their limits are the columns' lengths."""

    name: Text = _text(NAME_MAX)
    strategy_id: Text = _text(STRATEGY_MAX)
    user_id: Text = _text(USER_MAX)


MODELS: dict[str, type[BaseModel]] = {"trading": Trading, "risk": Risk, "universe": Universe}
SECTIONS = tuple(MODELS)
KNOWN_KEYS = {section: tuple(model.model_fields) for section, model in MODELS.items()}


# What the form shows, per key and kind of problem (see `says`): the models' own words.
_PREFIXED: list[tuple[str, type[BaseModel]]] = [("", Names), ("", ConfigData)]
MESSAGES: dict[str, dict[str, str]] = {
    prefix + key: cast(Any, info.json_schema_extra)["messages"]
    for prefix, model in _PREFIXED + [(f"{s}.", m) for s, m in MODELS.items()]
    for key, info in model.model_fields.items()
}

_RANGE = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
_TOO_LONG = {"too_long", "string_too_long"}


def _kind(error: ErrorDetails, messages: dict[str, str], *, item: bool) -> str:
    """The MESSAGES kind of one pydantic error."""
    kind = error["type"]
    if item and "item" in messages:
        kind = "item"
    elif kind in _RANGE or (kind == "float_type" and _is_int(error["input"])):
        kind = "range"  # an int too large for a float is out of range, not "not a number"
    elif kind in _TOO_LONG:
        kind = "too_long"
    return kind if kind in messages else "type"


def _message(key: str, errors: list[ErrorDetails], *, item_at: int) -> str:
    """One message for `key`: the first kind of MESSAGES[key] among its errors, filled in."""
    messages = MESSAGES[key]
    kinds = [_kind(e, messages, item=len(e["loc"]) > item_at) for e in errors]
    kind = next(k for k in messages if k in kinds)
    found = [e for e, k in zip(errors, kinds, strict=True) if k == kind]
    context = dict(found[0].get("ctx") or {})
    if kind == "item":
        context["values"] = ", ".join(repr(e["input"]) for e in found[:5])
    context.setdefault("n", context.get("actual_length", len(str(found[0]["input"]))))
    return messages[kind].format(**context)


def _report(exc: ValidationError, report: Report, *, item_at: int) -> None:
    """Each key's errors as one message; a key is the first `item_at` parts of the error's place."""
    by_key: dict[str, list[ErrorDetails]] = {}
    for error in exc.errors():
        by_key.setdefault(".".join(map(str, error["loc"][:item_at])), []).append(error)
    for key, errors in by_key.items():
        report.add(key, _message(key, errors, item_at=item_at))


# --- the report -----------------------------------------------------------------------------------


@dataclass
class Report:
    """The outcome of validating a draft: errors per key, unknown and dotted keys, the parsed data."""

    errors: dict[str, list[str]] = field(default_factory=dict)
    unknown_keys: list[str] = field(default_factory=list)
    dotted_keys: list[str] = field(default_factory=list)
    data: Any = None
    # keys of config_data looked at: top-level ones outside the sections, and each section's
    keys_checked: int = 0

    def unknown_messages(self) -> dict[str, str]:
        """One warning per unknown key (allowed and kept: the backend's own configs carry some)."""
        return {
            key: f"unknown key {key}: the console does not check it and keeps it as it is "
            "(is it a typo, or a key the backend ignores?)"
            for key in self.unknown_keys
        }

    @property
    def ok(self) -> bool:
        """True when nothing blocks the save."""
        return not self.errors

    def add(self, key: str, message: str) -> None:
        """Record `message` against `key`."""
        self.errors.setdefault(key, []).append(message)


# --- JSON text ------------------------------------------------------------------------------------


class _Duplicate(ValueError):  # noqa: N818 - internal signal, not an error for users
    pass


class _NonFinite(ValueError):  # noqa: N818
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(key)
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise _NonFinite(name)


def _int(digits: str) -> int | float:
    """A JSON integer; one too long for Python to read (over 4300 digits) is infinite, as in a float."""
    try:
        return int(digits)
    except ValueError:
        return float(digits)


def parse_json(text: str, report: Report) -> Any:
    """Parse config JSON strictly; problems go into `report` under 'config_data'."""
    if "\x00" in text:
        report.add(ROOT, "contains a NUL character (\\0), which PostgreSQL cannot store")
        return None
    if len(text.encode("utf-8")) > MAX_JSON_BYTES:
        report.add(ROOT, f"is larger than {MAX_JSON_BYTES // 1024} KiB")
        return None
    if not text.strip():
        report.add(ROOT, "is empty: write a JSON object such as {}")
        return None
    try:
        return json.loads(
            text, object_pairs_hook=_pairs, parse_constant=_no_constant, parse_int=_int
        )
    except _Duplicate as exc:
        report.add(ROOT, f"the key {exc.args[0]!r} appears twice in one object")
    except _NonFinite as exc:
        report.add(ROOT, f"{exc.args[0]} is not allowed (JSON numbers must be finite)")
    except json.JSONDecodeError as exc:
        report.add(ROOT, f"JSON syntax error at line {exc.lineno}, column {exc.colno}: {exc.msg}")
    except RecursionError:
        report.add(ROOT, f"is nested more than {MAX_DEPTH} levels deep")
    return None


def _walk_strings(value: Any, path: str) -> list[str]:
    """Paths of strings (keys or values) holding NUL; of floats that are not finite."""
    bad: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if "\x00" in str(k):
                bad.append(f"{path}.{k!r}")
            bad += _walk_strings(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            bad += _walk_strings(v, f"{path}[{i}]")
    elif isinstance(value, str) and "\x00" in value:
        bad.append(path)
    elif isinstance(value, float) and not math.isfinite(value):
        bad.append(path)
    return bad


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


# --- validation -----------------------------------------------------------------------------------


def _other_keys(data: dict[str, Any], report: Report) -> None:
    """Count the keys looked at; list the dotted (as errors) and the unknown ones."""
    sections = [body for key, body in data.items() if key in SECTIONS and isinstance(body, dict)]
    report.keys_checked += sum(1 for key in data if key not in SECTIONS)
    report.keys_checked += sum(len(body) for body in sections)
    for key in data:
        section, dot, sub = key.partition(".")
        if dot and section in SECTIONS:
            report.dotted_keys.append(key)
            report.add(
                f'"{key}"',
                f'is a dotted top-level key; it belongs inside "{section}" as "{sub}" '
                "(use 'Fix dotted keys')",
            )
        elif key not in SECTIONS:
            report.unknown_keys.append(key)
    for section in SECTIONS:
        body = data.get(section)
        if isinstance(body, dict):
            report.unknown_keys += [f"{section}.{k}" for k in body if k not in KNOWN_KEYS[section]]


def check_config_data(data: Any, report: Report) -> None:
    """Structure, known keys' types and ranges, unknown and dotted keys of parsed config_data."""
    if not isinstance(data, dict):
        report.add(ROOT, f"the top level must be a JSON object {{...}}, not {type(data).__name__}")
        return
    if depth(data, stop_at=MAX_DEPTH + 1) > MAX_DEPTH:
        report.add(ROOT, f"is nested more than {MAX_DEPTH} levels deep")
        return
    for path in _walk_strings(data, ROOT):
        report.add(path, "contains a NUL character or a non-finite number")
    _other_keys(data, report)
    try:
        ConfigData.model_validate(data)
    except ValidationError as exc:
        _report(exc, report, item_at=2)


@dataclass(frozen=True)
class Draft:
    """A validated config, ready to write."""

    name: str
    strategy_id: str
    user_id: str
    config_data: dict[str, Any]


def _names(report: Report, **values: Any) -> Names | None:
    try:
        return Names.model_validate(values)
    except ValidationError as exc:
        _report(exc, report, item_at=1)
        return None


def validate(
    *, name: Any, strategy_id: Any, user_id: Any, config_json: str
) -> tuple[Draft | None, Report]:
    """Validate every field of a draft; the Draft is None when any error was found."""
    report = Report()
    names = _names(report, name=name, strategy_id=strategy_id, user_id=user_id)
    data = parse_json(config_json, report)
    if ROOT not in report.errors:
        report.data = data
        check_config_data(data, report)
    if names is None or not report.ok:
        return None, report
    return Draft(names.name, names.strategy_id, names.user_id, data), report


def readable_version(value: Any) -> int | None:
    """A stored version as a number: NULL reads as 1 (the backend's default); text that is not a
    whole number (SQLite keeps what it was sent) as None."""
    if value is None:
        return 1
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    return int(text) if text.isdigit() else None


def require_valid(*, name: Any, strategy_id: Any, user_id: Any, config_data: Any) -> Draft:
    """The Draft for already-parsed values, or ValidationFailed with messages per key."""
    if depth(config_data, stop_at=MAX_DEPTH + 1) > MAX_DEPTH:
        raise ValidationFailed({ROOT: [f"is nested more than {MAX_DEPTH} levels deep"]})
    try:
        text = json.dumps(config_data, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        raise ValidationFailed({ROOT: ["is not JSON-serialisable or holds NaN/Infinity"]}) from None
    draft, report = validate(name=name, strategy_id=strategy_id, user_id=user_id, config_json=text)
    if draft is None:
        raise ValidationFailed(report.errors)
    return draft


def fix_dotted_keys(data: dict[str, Any]) -> dict[str, Any]:
    """Move `"section.key"` top-level keys into their section (the dotted value is the newer one)."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for key in [k for k in data if "." in k]:
        section, _, sub = key.partition(".")
        if section not in SECTIONS:
            continue
        body = out.get(section)
        if not isinstance(body, dict):
            body = {}
        body[sub] = out.pop(key)
        out[section] = body
    return out


def to_json_text(data: Any) -> str:
    """config_data as the text the raw-JSON editor shows (one line when nested too deep to indent)."""
    if depth(data, stop_at=INDENT_DEPTH + 1) > INDENT_DEPTH:
        return canonical(data)
    return json.dumps(data, indent=2, ensure_ascii=False)


# --- structured fields <-> config_data -------------------------------------------------------

FIELD_KINDS: dict[str, str] = {
    "trading.target_dte_range": "pair",
    "trading.delta_target": "number",
    "trading.max_positions": "int",
    "trading.wing_widths": "numbers",
    "risk.profit_target": "number",
    "risk.loss_limit": "number",
    "universe.primary_symbols": "symbols",
    "universe.universe_name": "text",
}


def fields_from_data(data: Any) -> dict[str, str]:
    """The structured fields of config_data as the text the form shows (lists as '5, 10, 15')."""
    out: dict[str, str] = {}
    for path, kind in FIELD_KINDS.items():
        section, _, sub = path.partition(".")
        body = data.get(section) if isinstance(data, dict) else None
        value = body.get(sub) if isinstance(body, dict) else None
        if value is None:
            out[path] = ""
        elif kind in ("numbers", "symbols", "pair") and isinstance(value, list):
            out[path] = ", ".join(v if isinstance(v, str) else json.dumps(v) for v in value)
        elif kind == "text" and isinstance(value, str):
            out[path] = value
        else:
            out[path] = json.dumps(value, ensure_ascii=False)
    return out


def _number_or_text(token: str) -> Any:
    try:
        return int(token)
    except ValueError:
        pass
    try:
        number = float(token)
    except ValueError:
        return token  # kept as text so the rules report it
    return number if math.isfinite(number) else token


def _split(text: str) -> list[str]:
    return [t for t in re.split(r"[,\s]+", text.strip()) if t]


def _field_value(kind: str, raw: Any) -> Any:
    """A field's text as the JSON value it stands for; None (remove the key) when empty."""
    text = "" if raw is None else str(raw).strip()
    if not text:
        return None
    if kind == "text":
        return text
    if kind in ("number", "int"):
        value = _number_or_text(text)
        return (
            int(value)
            if kind == "int" and isinstance(value, float) and value.is_integer()
            else value
        )
    tokens = _split(text)
    if kind == "symbols":
        return [t.upper() for t in tokens]
    return [_number_or_text(t) for t in tokens]


def apply_fields(data: Any, fields: dict[str, Any]) -> dict[str, Any]:
    """config_data with the structured fields written in; empty fields remove their key.

    Unknown keys (top level and inside the sections) are kept as they are.
    """
    out = {
        k: (dict(v) if isinstance(v, dict) else v)
        for k, v in (data if isinstance(data, dict) else {}).items()
    }
    for path, kind in FIELD_KINDS.items():
        if path not in fields:
            continue
        section, _, sub = path.partition(".")
        value = _field_value(kind, fields[path])
        body = out.get(section)
        if not isinstance(body, dict):
            if value is None:
                continue
            body = {}
        if value is None:
            body.pop(sub, None)
        else:
            body[sub] = value
        out[section] = body
    return out
