"""Column types shared by the models: aware UTC datetimes, string-valued enums, uint256 amounts."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum, String
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("Naive datetimes are refused: use an aware UTC datetime.")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_column(enum_cls: type[enum.Enum], name: str, *, length: int | None = None) -> Enum:
    """An Enum column stored as its string values, with a CHECK constraint (ck_<table>_<name>) on every backend.

    `length` keeps a column wider than today's longest value, for kinds that grow.
    """
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=length or max(len(m.value) for m in enum_cls),
        values_callable=lambda cls: [m.value for m in cls],
    )


class UInt256(TypeDecorator):
    """A non-negative integer up to 2**256-1 (token amounts), kept exact as decimal text.

    SQLite would turn a large NUMERIC into a float, so the value is stored as digits.
    """

    impl = String(78)
    cache_ok = True

    def process_bind_param(self, value: int | None, dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value >= 2**256:
            raise ValueError("Amounts are non-negative integers in base units below 2**256.")
        return str(value)

    def process_result_value(self, value: str | None, dialect) -> int | None:
        return None if value is None else int(value)
