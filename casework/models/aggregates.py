"""SQL the two databases spell differently, for aggregate queries: exact sums of token amounts, and UTC days.

Token amounts are stored as decimal digits (UInt256: up to 2**256-1, beyond any SQL integer). PostgreSQL sums them
exactly as NUMERIC; SQLite has no exact type that wide (its SUM overflows at 2**63, or turns to a float), so it gets
an aggregate written in Python, registered on each connection (register_sqlite_functions), that adds them as
Python integers and answers in digits again. Either way the result is read back with int().
"""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

SQLITE_EXACT_SUM = "casework_exact_sum"


class exact_sum(FunctionElement):  # noqa: N801 - used like a SQL function
    """SUM of a column of base-unit amounts (digits), exact on both databases; NULL when no value is not NULL."""

    type = String()
    inherit_cache = True


@compiles(exact_sum, "postgresql")
def _exact_sum_postgresql(element, compiler, **kw) -> str:
    return f"CAST(SUM(CAST({compiler.process(element.clauses, **kw)} AS NUMERIC)) AS TEXT)"


@compiles(exact_sum, "sqlite")
def _exact_sum_sqlite(element, compiler, **kw) -> str:
    return f"{SQLITE_EXACT_SUM}({compiler.process(element.clauses, **kw)})"


class utc_day(FunctionElement):  # noqa: N801 - used like a SQL function
    """The calendar day (in UTC) of a UTCDateTime column, as ISO text (YYYY-MM-DD) on both databases."""

    type = String()
    inherit_cache = True


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element, compiler, **kw) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"to_char(({column}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


@compiles(utc_day, "sqlite")
def _utc_day_sqlite(element, compiler, **kw) -> str:
    # SQLite keeps UTCDateTime values as naive UTC text.
    return f"date({compiler.process(element.clauses, **kw)})"


class _ExactSum:
    """The SQLite aggregate behind exact_sum: adds decimal digits as Python integers."""

    def __init__(self) -> None:
        self.total: int | None = None

    def step(self, value) -> None:
        if value is not None:
            self.total = (self.total or 0) + int(value)

    def finalize(self) -> str | None:
        return None if self.total is None else str(self.total)


def register_sqlite_functions(dbapi_connection, _connection_record) -> None:
    """Give a new SQLite connection the functions above (an engine "connect" listener)."""
    dbapi_connection.create_aggregate(SQLITE_EXACT_SUM, 1, _ExactSum)

