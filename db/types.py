"""Column types that keep one schema valid on SQLite, PostgreSQL and MySQL/MariaDB."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import JSON, DateTime, Float, String
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
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
    return String().with_variant(String(MYSQL_VARCHAR_LENGTH), "mysql", "mariadb")  # type: ignore[return-value]


def UtcDateTime() -> DateTime:  # noqa: N802
    """Naive-UTC DATETIME; microsecond precision on MySQL, where DATETIME would drop it."""
    return DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")  # type: ignore[return-value]


def Double() -> Float:  # noqa: N802
    """FLOAT on SQLite/PostgreSQL; DOUBLE on MySQL, whose FLOAT is single precision."""
    return Float().with_variant(mysql.DOUBLE(asdecimal=False), "mysql", "mariadb")  # type: ignore[return-value]


class LenientJSON(TypeDecorator[Any]):
    """JSON that never raises on read: text that is not JSON comes back as `InvalidJSON`.

    SQLite stores JSON as TEXT (the backend's own migration even declares `details` TEXT),
    so a malformed value must not break a query or a page.
    """

    impl = JSON
    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        if dialect.name == "postgresql":
            return self.impl_instance.dialect_impl(dialect).result_processor(dialect, coltype)

        def process(value: Any) -> Any:
            if isinstance(value, bytes):
                value = value.decode("utf-8", errors="replace")
            if not isinstance(value, str):
                return value
            try:
                return json.loads(value)
            except ValueError:
                return InvalidJSON(value)

        return process


def parse_json_text(value: Any) -> Any:
    """Parse JSON read as text (raw SQL paths); malformed text becomes `InvalidJSON`."""
    if value is None or not isinstance(value, (str, bytes)):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return InvalidJSON(value if isinstance(value, str) else value.decode("utf-8", "replace"))
