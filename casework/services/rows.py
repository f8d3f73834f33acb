"""Adding a row that a unique key may already hold: one statement, without an error, on both databases."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from casework.extensions import db


def insert_new(model: type[db.Model], **values: Any) -> int | None:
    """INSERT ... ON CONFLICT DO NOTHING: the new row's id, or None when a unique key of the table already holds such
    a row. A row another transaction is writing counts once it commits (PostgreSQL waits for it; SQLite writers take
    turns), so of two concurrent adds exactly one gets an id. Other constraints (CHECK, NOT NULL) still raise."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(model).values(**values).on_conflict_do_nothing().returning(model.id)
    return db.session.execute(statement).scalar_one_or_none()
