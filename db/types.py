"""Column types that keep one schema valid on SQLite, PostgreSQL and MySQL/MariaDB."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, String
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement, Null
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator

# MySQL needs a length on VARCHAR; SQLite and PostgreSQL keep the backend's bare VARCHAR.
MYSQL_VARCHAR_LENGTH = 255


class InvalidJSON(str):
    """Text stored in a JSON column that does not parse: shown as text with a marker."""

    __slots__ = ()


def Str(length: int | None = None) -> String:  # noqa: N802 - reads like a type
    """A VARCHAR that is bare on SQLite/PostgreSQL (as the backend creates it) and bounded on MySQL."""
    if length is not None:
        return String(length)
    return String().with_variant(String(MYSQL_VARCHAR_LENGTH), "mysql", "mariadb")


def UtcDateTime() -> DateTime:  # noqa: N802
    """Naive-UTC DATETIME; microsecond precision on MySQL, where DATETIME would drop it."""
    return DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def naive_utc(value: datetime) -> datetime:
    """A datetime as the naive UTC the backend stores (an aware one converted, a naive one kept)."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo is not None else value


def Double() -> Float:  # noqa: N802
    """FLOAT on SQLite/PostgreSQL; DOUBLE on MySQL, whose FLOAT is single precision."""
    return Float().with_variant(mysql.DOUBLE(asdecimal=False), "mysql", "mariadb")


def loads_lenient(text: str) -> Any:
    """Parsed JSON, or `InvalidJSON(text)` when it does not parse or nests too deep for Python's parser
    (about 1,000 levels: json.loads raises RecursionError, which must not break a page or a write)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return InvalidJSON(text)


def dumps_deep(value: Any, *, default: Callable[[Any], Any] | None = None) -> str:
    """Compact JSON text of a value nested however deep, without recursion (json.dumps stops near
    1,000 levels). Scalars go through json.dumps (so `default` and its errors apply)."""
    out: list[str] = []
    todo: list[Any] = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, _Raw):
            out.append(item.text)
        elif isinstance(item, dict):
            out.append("{")
            todo.append(_Raw("}"))
            pairs = list(item.items())
            for i in range(len(pairs) - 1, -1, -1):
                todo.append(pairs[i][1])
                key = (
                    pairs[i][0] if isinstance(pairs[i][0], str) else json.dumps(pairs[i][0])
                )  # as json.dumps does
                todo.append(_Raw(("," if i else "") + json.dumps(key) + ":"))
        elif isinstance(item, list | tuple):
            out.append("[")
            todo.append(_Raw("]"))
            for i in range(len(item) - 1, -1, -1):
                todo.append(item[i])
                if i:
                    todo.append(_Raw(","))
        else:
            out.append(json.dumps(item, default=default))
    return "".join(out)


@dataclass(frozen=True)
class _Raw:
    text: str


def dumps_json(value: Any, *, default: Callable[[Any], Any] | None = None) -> str:
    """json.dumps, or for a value nested too deep for it, the same text made without recursion."""
    try:
        return json.dumps(value, default=default)
    except RecursionError:
        return dumps_deep(value, default=default)


class LenientJSON(TypeDecorator[Any]):
    """JSON that never raises: text that is not JSON (or nests deeper than Python can parse) comes
    back as `InvalidJSON`, and such a value is written back as the same text; a value nested too
    deep for json.dumps is still written.

    SQLite stores JSON as TEXT (the backend's own migration even declares `details` TEXT),
    so a malformed value must not break a query or a page. On PostgreSQL the column is read as
    text (the driver would otherwise parse it itself and raise on deep nesting).
    """

    impl = JSON
    cache_ok = True

    def column_expression(self, col: ColumnElement[Any]) -> ColumnElement[Any] | None:
        return _TextOnPostgres(col, self)

    def bind_processor(self, dialect: Dialect) -> Any:
        none_as_null = bool(getattr(self.impl_instance, "none_as_null", False))
        if dialect.name == "postgresql" and hasattr(dialect, "_psycopg_Json"):
            wrap = dialect._psycopg_Json  # psycopg: send our own text as the json value

            def to_db(text: str) -> Any:
                return wrap(text, dumps=_same)
        else:
            string_process = String().bind_processor(dialect)

            def to_db(text: str) -> Any:
                return string_process(text) if string_process else text

        def process(value: Any) -> Any:
            if value is JSON.NULL:
                value = None
            elif isinstance(value, Null) or (value is None and none_as_null):
                return None
            return to_db(str(value) if isinstance(value, InvalidJSON) else dumps_json(value))

        return process

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        def process(value: Any) -> Any:
            if isinstance(value, bytes):
                value = value.decode("utf-8", errors="replace")
            if not isinstance(value, str):
                return value
            return loads_lenient(value)

        return process


def _same(text: str) -> str:
    return text


class _TextOnPostgres(ColumnElement[Any]):
    """A JSON column read as text on PostgreSQL (psycopg would parse json itself, and raise on deep
    nesting); the column unchanged on the other engines."""

    inherit_cache = True
    _traverse_internals = [("col", InternalTraversal.dp_clauseelement)]

    def __init__(self, col: ColumnElement[Any], type_: TypeDecorator[Any]) -> None:
        self.col = col
        self.type = type_


@compiles(_TextOnPostgres)
def _text_elsewhere(element: _TextOnPostgres, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.col, **kw))


@compiles(_TextOnPostgres, "postgresql")
def _text_on_postgres(element: _TextOnPostgres, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(element.col, **kw)} AS TEXT)"


def parse_json_text(value: Any) -> Any:
    """Parse JSON read as text (raw SQL paths); malformed or too deeply nested text becomes `InvalidJSON`."""
    if value is None or not isinstance(value, (str, bytes)):
        return value
    return loads_lenient(value if isinstance(value, str) else value.decode("utf-8", "replace"))
