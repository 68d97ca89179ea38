"""Validation of a sandbox config draft (name, strategy, user, config_data) before any write.

Every rule reports per key, so the form can show each message next to what caused it:
JSON syntax (line and column), top level an object, no NaN/Infinity, no duplicate keys, bounded
size and depth, no NUL characters, types and ranges of the known keys, unknown keys listed,
and the backend's dotted keys (`"universe.primary_symbols"`) flagged with a fix.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from db.errors import ValidationFailed
from domain.jsondiff import canonical, depth

MAX_JSON_BYTES = 64 * 1024  # a config is a few hundred bytes; 64 KiB leaves room, refuses dumps
MAX_JSON_CHARS = (
    MAX_JSON_BYTES  # the raw-JSON editor takes at most this many characters (max_chars)
)
FIELD_MAX_CHARS = 8 * 1024  # one structured field (500 symbols fit)
NOTE_MAX = 2000  # the note saved with a version ("why this change")
INDENT_DEPTH = (
    50  # deeper documents are shown on one line (json.dumps with indent recurses per level)
)
MAX_DEPTH = 8  # nesting levels of objects/arrays
NAME_MAX = 200  # sandbox_strategy_configs.name is String(200)
STRATEGY_MAX = 100  # strategy_id is String(100)
USER_MAX = 50  # user_id is String(50)
MAX_SYMBOLS = 500
MAX_WINGS = 20
MAX_DTE = 3650
TICKER = re.compile(r"^[A-Z0-9][A-Z0-9.\-^/]{0,9}$")

SECTIONS = ("trading", "risk", "universe")
KNOWN_KEYS: dict[str, tuple[str, ...]] = {
    "trading": ("target_dte_range", "delta_target", "max_positions", "wing_widths"),
    "risk": ("profit_target", "loss_limit"),
    "universe": ("primary_symbols", "universe_name"),
}
ROOT = "config_data"


class _Duplicate(ValueError):  # noqa: N818 - internal signal, not an error for users
    pass


class _NonFinite(ValueError):  # noqa: N818
    pass


@dataclass
class Report:
    """The outcome of validating a draft: errors per key, unknown and dotted keys, the parsed data."""

    errors: dict[str, list[str]] = field(default_factory=dict)
    unknown_keys: list[str] = field(default_factory=list)
    dotted_keys: list[str] = field(default_factory=list)
    data: Any = None
    keys_checked: int = (
        0  # keys of config_data looked at: top-level ones outside the sections, and each section's
    )

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


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(key)
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise _NonFinite(name)


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
        return json.loads(text, object_pairs_hook=_pairs, parse_constant=_no_constant)
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


def _is_num(v: Any) -> bool:
    return (_is_int(v) or isinstance(v, float)) and math.isfinite(float(v))


def _dte(v: Any) -> str | None:
    if not isinstance(v, list) or len(v) != 2 or not all(_is_int(x) for x in v):
        return "must be two whole numbers [min, max], e.g. [7, 21]"
    if v[0] < 0 or v[1] > MAX_DTE:
        return f"must lie between 0 and {MAX_DTE} days"
    if v[0] >= v[1]:
        return "must be increasing: the first number smaller than the second"
    return None


def _delta(v: Any) -> str | None:
    if not _is_num(v):
        return "must be a number, e.g. 0.15"
    return None if 0 < v < 1 else "must be between 0 and 1 (exclusive)"


def _positions(v: Any) -> str | None:
    if not _is_int(v):
        return "must be a whole number"
    return None if 1 <= v <= 1000 else "must be between 1 and 1000"


def _wings(v: Any) -> str | None:
    if not isinstance(v, list) or not v:
        return "must be a non-empty list of numbers, e.g. [5, 10, 15]"
    if len(v) > MAX_WINGS:
        return f"must have at most {MAX_WINGS} widths"
    if not all(_is_num(x) and x > 0 for x in v):
        return "must contain only positive numbers"
    return None


def _profit(v: Any) -> str | None:
    if not _is_num(v):
        return "must be a number (a fraction of the credit, e.g. 0.5)"
    return None if 0 < v <= 10 else "must be above 0 and at most 10"


def _loss(v: Any) -> str | None:
    if not _is_num(v):
        return "must be a number (a multiple of the credit, e.g. 2.0)"
    # The backend's own UI writes -2.0, its JSON files 2.0 or 0.9: the sign is accepted either way.
    return None if v != 0 and abs(v) <= 100 else "must be non-zero and between -100 and 100"


def _symbols(v: Any) -> str | None:
    if not isinstance(v, list) or not v:
        return "must be a non-empty list of ticker symbols"
    if len(v) > MAX_SYMBOLS:
        return f"must have at most {MAX_SYMBOLS} symbols"
    bad = [s for s in v if not isinstance(s, str) or not TICKER.match(s)]
    if bad:
        return f"has values that are not upper-case tickers: {', '.join(map(repr, bad[:5]))}"
    dupes = sorted({s for s in v if v.count(s) > 1})
    return f"lists some symbols twice: {', '.join(dupes[:5])}" if dupes else None


def _universe_name(v: Any) -> str | None:
    if not isinstance(v, str) or not v.strip():
        return "must be a non-empty text"
    return None if len(v) <= 100 else "must be at most 100 characters"


RULES: dict[str, Callable[[Any], str | None]] = {
    "trading.target_dte_range": _dte,
    "trading.delta_target": _delta,
    "trading.max_positions": _positions,
    "trading.wing_widths": _wings,
    "risk.profit_target": _profit,
    "risk.loss_limit": _loss,
    "universe.primary_symbols": _symbols,
    "universe.universe_name": _universe_name,
}


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
    report.keys_checked += sum(1 for key in data if key not in SECTIONS)
    report.keys_checked += sum(
        len(body) for key, body in data.items() if key in SECTIONS and isinstance(body, dict)
    )
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
        if body is None:
            continue
        if not isinstance(body, dict):
            report.add(section, "must be a JSON object")
            continue
        report.unknown_keys += [f"{section}.{k}" for k in body if k not in KNOWN_KEYS[section]]
        for sub in KNOWN_KEYS[section]:
            if sub in body:
                problem = RULES[f"{section}.{sub}"](body[sub])
                if problem:
                    report.add(f"{section}.{sub}", problem)


def _text_field(report: Report, key: str, value: Any, limit: int) -> str:
    text = str(value or "").strip()
    if not text:
        report.add(key, "is required")
    elif len(text) > limit:
        report.add(key, f"must be at most {limit} characters (it has {len(text)})")
    elif "\x00" in text:
        report.add(key, "contains a NUL character")
    return text


@dataclass(frozen=True)
class Draft:
    """A validated config, ready to write."""

    name: str
    strategy_id: str
    user_id: str
    config_data: dict[str, Any]


def validate(
    *, name: Any, strategy_id: Any, user_id: Any, config_json: str
) -> tuple[Draft | None, Report]:
    """Validate every field of a draft; the Draft is None when any error was found."""
    report = Report()
    clean_name = _text_field(report, "name", name, NAME_MAX)
    clean_strategy = _text_field(report, "strategy_id", strategy_id, STRATEGY_MAX)
    clean_user = _text_field(report, "user_id", user_id, USER_MAX)
    data = parse_json(config_json, report)
    if ROOT not in report.errors:
        report.data = data
        check_config_data(data, report)
    if not report.ok:
        return None, report
    return Draft(clean_name, clean_strategy, clean_user, data), report


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
