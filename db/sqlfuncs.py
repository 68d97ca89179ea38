"""Dialect helpers: one small construct per concept where SQLite, PostgreSQL and MySQL differ.

- `epoch_bucket(col, seconds)`: the start of a time bucket as Unix seconds (UTC).
- `safe_number(col)`: text such as '123', ' 4.5 ', '$0.0003' as a number; anything else NULL.
- `json_text(col, key)`: a top-level key of a JSON column as text; NULL if absent or invalid.
- `exact(col)`: the column compared and grouped byte for byte (MariaDB's collation is not).
- `likely(cond, p)`: a hint to SQLite's planner (which has no histograms) that `cond` is usually true.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Integer, String, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal

UNITS_S: dict[str, int] = {"minute": 60, "hour": 3600, "day": 86400}


class epoch_seconds(FunctionElement[int]):  # noqa: N801 - SQL function naming
    """A naive-UTC datetime column as integer Unix seconds."""

    type = Integer()
    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(epoch_seconds, "postgresql")
def _epoch_pg(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    # FLOOR: a plain cast rounds, which would put 13:59:59.6 into the next hour's bucket.
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})) AS BIGINT)"


@compiles(epoch_seconds, "mysql")
def _epoch_mysql(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    # TIMESTAMPDIFF does not depend on the session time zone, unlike UNIX_TIMESTAMP.
    return (
        f"TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', {compiler.process(element.clauses, **kw)})"
    )


def epoch_bucket(col: Any, seconds: int) -> ColumnElement[int]:
    """Start of the `seconds`-wide bucket holding `col`, as Unix seconds."""
    if seconds <= 0:
        raise ValueError("bucket width must be positive")
    e = epoch_seconds(col)
    return e - (e % seconds)


def time_bucket(col: Any, unit: str) -> ColumnElement[int]:
    """Start of the minute, hour or day holding `col`, as Unix seconds."""
    return epoch_bucket(col, UNITS_S[unit])


class safe_number(FunctionElement[float]):  # noqa: N801
    """Numeric text ('12', ' 3.5', '$0.0003', '-2') as a float; any other text NULL, never 0."""

    type = Float()
    inherit_cache = True


_NUM_RE = r"^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)$"


def _stripped(compiler: SQLCompiler, element: FunctionElement[Any], **kw: Any) -> str:
    return f"TRIM(REPLACE({compiler.process(element.clauses, **kw)}, '$', ''))"


@compiles(safe_number, "sqlite")
def _num_sqlite(element: safe_number, compiler: SQLCompiler, **kw: Any) -> str:
    return _sqlite_number(compiler.process(element.clauses, **kw))


def _sqlite_number(arg: str) -> str:
    """SQLite has no regex: the same rule as _NUM_RE from GLOBs (`arg` appears several times)."""
    v = f"TRIM(REPLACE({arg}, '$', ''))"
    body = f"LTRIM({v}, '+-')"
    return (
        f"(CASE WHEN {body} <> '' AND {body} NOT GLOB '*[^0-9.]*' AND {body} GLOB '*[0-9]*' "
        f"AND {body} NOT GLOB '*.*.*' AND LENGTH({v}) - LENGTH({body}) <= 1 "
        f"THEN CAST({v} AS REAL) END)"
    )


@compiles(safe_number, "postgresql")
def _num_pg(element: safe_number, compiler: SQLCompiler, **kw: Any) -> str:
    v = _stripped(compiler, element, **kw)
    return f"(CASE WHEN {v} ~ '{_NUM_RE}' THEN CAST({v} AS DOUBLE PRECISION) END)"


@compiles(safe_number, "mysql")
def _num_mysql(element: safe_number, compiler: SQLCompiler, **kw: Any) -> str:
    v = _stripped(compiler, element, **kw)
    pattern = _NUM_RE.replace("\\", "\\\\")
    return f"(CASE WHEN {v} REGEXP '{pattern}' THEN CAST({v} AS DOUBLE) END)"


class _KeyedJSON(FunctionElement[Any]):
    """A function of (column, literal key). The key is written into the SQL as a literal (so
    expression indexes can match it), so it must be part of the statement cache key: otherwise
    SQLAlchemy would reuse the SQL compiled for one key for every other key."""

    inherit_cache = True
    _traverse_internals = [
        *FunctionElement._traverse_internals,
        ("json_key", InternalTraversal.dp_string),
    ]

    def __init__(self, col: Any, key: Any) -> None:
        k = str(getattr(key, "value", key))
        if not k.replace("_", "").isalnum():
            raise ValueError(f"unsupported JSON key: {k!r}")
        self.json_key = k
        super().__init__(col, k)


class json_text(_KeyedJSON):  # noqa: N801
    """`json_text(col, 'key')`: a top-level key of a JSON column as text, NULL when absent/invalid."""

    type = String()
    inherit_cache = True


def _json_key(element: _KeyedJSON) -> tuple[Any, str]:
    col = list(element.clauses)[0]
    return col, element.json_key


@compiles(json_text, "sqlite")
def _json_sqlite(element: json_text, compiler: SQLCompiler, **kw: Any) -> str:
    col, k = _json_key(element)
    c = compiler.process(col, **kw)
    path = f"'$.\"{k}\"'"
    # json_extract raises on malformed text, so guard it; a key path finds nothing in arrays and
    # scalars (NULL). Strings come unquoted; other values as their JSON text (`->`), like
    # PostgreSQL's ->>: 'true', exact numbers. Each JSON call parses the document: keep them few.
    return (
        f"(CASE WHEN json_valid({c}) THEN "
        f"CASE json_type({c}, {path}) WHEN 'text' THEN json_extract({c}, {path}) WHEN 'null' THEN NULL "
        f"ELSE ({c} -> {path}) END END)"
    )


@compiles(json_text, "postgresql")
def _json_pg(element: json_text, compiler: SQLCompiler, **kw: Any) -> str:
    col, k = _json_key(element)
    c = compiler.process(col, **kw)
    return f"(CASE WHEN json_typeof({c}) = 'object' THEN ({c} ->> '{k}') END)"


@compiles(json_text, "mysql")
def _json_mysql(element: json_text, compiler: SQLCompiler, **kw: Any) -> str:
    col, k = _json_key(element)
    c = compiler.process(col, **kw)
    path = f"'$.\"{k}\"'"
    # A JSON null would come back as the text 'null'; the other engines give SQL NULL.
    return (
        f"(CASE WHEN JSON_VALID({c}) AND JSON_TYPE({c}) = 'OBJECT' "
        f"AND JSON_TYPE(JSON_EXTRACT({c}, {path})) <> 'NULL' "
        f"THEN JSON_UNQUOTE(JSON_EXTRACT({c}, {path})) END)"
    )


class _json_number(_KeyedJSON):  # noqa: N801
    type = Float()
    inherit_cache = True


def json_number(col: Any, key: str) -> ColumnElement[float]:
    """A top-level JSON key read as a number (safe_number of its text)."""
    return _json_number(col, key)


@compiles(_json_number)
def _json_number_default(element: _json_number, compiler: SQLCompiler, **kw: Any) -> str:
    col, key = _json_key(element)
    return compiler.process(safe_number(json_text(col, key)), **kw)


@compiles(_json_number, "sqlite")
def _json_number_sqlite(element: _json_number, compiler: SQLCompiler, **kw: Any) -> str:
    col, k = _json_key(element)
    c = compiler.process(col, **kw)
    path = f"'$.\"{k}\"'"
    # JSON numbers directly (exact, one parse); only JSON strings go through the text rule.
    return (
        f"(CASE WHEN json_valid({c}) THEN CASE json_type({c}, {path}) "
        f"WHEN 'integer' THEN json_extract({c}, {path}) WHEN 'real' THEN json_extract({c}, {path}) "
        f"WHEN 'text' THEN {_sqlite_number(f'json_extract({c}, {path})')} END END)"
    )


class exact(FunctionElement[str]):  # noqa: N801
    """The column with byte-exact comparison and grouping (a no-op outside MySQL/MariaDB)."""

    type = String()
    inherit_cache = True


@compiles(exact, "mysql")
def _exact_mysql(element: exact, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)} COLLATE utf8mb4_bin)"


class likely(FunctionElement[bool]):  # noqa: N801
    """`likely(cond, probability)`: a planner hint that `cond` is usually true (SQLite's
    likelihood(); the condition unchanged elsewhere, where the planners have histograms)."""

    # no Boolean type: SQLAlchemy would append "= 1" on SQLite, hiding the term from the planner
    inherit_cache = True
    _traverse_internals = [
        *FunctionElement._traverse_internals,
        ("probability", InternalTraversal.dp_plain_obj),
    ]

    def __init__(self, cond: Any, probability: float) -> None:
        if not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        self.probability = float(probability)
        super().__init__(cond)


def _as_is(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
    """The wrapped expression unchanged: exact() and likely() on the engines that need neither."""
    return compiler.process(element.clauses, **kw)


compiles(exact)(_as_is)
compiles(likely)(_as_is)


@compiles(likely, "sqlite")
def _likely_sqlite(element: likely, compiler: SQLCompiler, **kw: Any) -> str:
    # a literal: SQLite wants a constant probability
    return f"likelihood({compiler.process(element.clauses, **kw)}, {element.probability!r})"


def exact_eq(col: Any, value: Any) -> ColumnElement[bool]:
    """col = value, case- and accent-sensitive everywhere; the plain `=` keeps indexes usable."""
    return (col == value) & (exact(col) == value)


def exact_in(col: Any, values: list[Any]) -> ColumnElement[bool]:
    """col IN values, byte-exact on every engine."""
    return col.in_(values) & exact(col).in_(values)


__all__ = [
    "epoch_bucket",
    "epoch_seconds",
    "exact",
    "exact_eq",
    "exact_in",
    "json_number",
    "json_text",
    "likely",
    "literal_column",
    "safe_number",
    "time_bucket",
]
