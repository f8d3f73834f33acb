"""What reaches the logs: SQL errors name the statement, never the values of the row (a victim's name, e-mail or
phone would otherwise be printed with every traceback of a failed write): SQLAlchemy's rendering of the bound
values is off, and the row values a database quotes in its error details are blanked by the handlers' filter."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from casework.extensions import db
from casework.models import Role, User
from casework.security import DatabaseDetailFilter

PRIVATE = ("wang.private@example.org", "王小明")


def _failed_insert() -> IntegrityError:
    row = {"email": PRIVATE[0], "display_name": PRIVATE[1] + " Private", "password_hash": "x",
           "role": Role.HANDLER, "active": True}
    db.session.execute(insert(User), row)
    with pytest.raises(IntegrityError) as failure:
        db.session.execute(insert(User), row)
    db.session.rollback()
    return failure.value


def test_sql_errors_never_render_the_values_bound_to_the_statement(app):
    error = _failed_insert()
    assert "INSERT INTO users" in str(error) and "parameters hidden" in str(error)
    assert PRIVATE[1] not in str(error)  # the display name is no part of the key the database quotes


def test_a_logged_traceback_of_a_failed_write_carries_no_personal_data(app):
    error = _failed_insert()
    handlers = [h for h in logging.getLogger().handlers if any(isinstance(f, DatabaseDetailFilter) for f in h.filters)]
    assert handlers, "create_app puts the filter on the root logger's handlers"
    for handler in handlers:
        record = logging.LogRecord("casework.web", logging.ERROR, __file__, 1, "Unhandled error: %s", (error,),
                                   (type(error), error, error.__traceback__))
        assert handler.filter(record)
        printed = handler.format(record)
        assert "INSERT INTO users" in printed and "IntegrityError" in printed
        assert not any(value in printed for value in PRIVATE), printed


def test_the_filter_blanks_the_row_values_postgresql_quotes():
    filter_ = DatabaseDetailFilter()
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "%s", (
        'duplicate key value violates unique constraint "uq_users_email"\nDETAIL:  Key (email)=(li@example.org) '
        "already exists.\nDETAIL:  Failing row contains (7, 李雷, +8613800138000).\nDETAIL:  Key (case_id)=(42) is "
        'not present in table "cases".',), None)
    filter_.filter(record)
    assert record.getMessage() == (
        'duplicate key value violates unique constraint "uq_users_email"\nDETAIL:  Key (email)=([hidden]) already '
        'exists.\nDETAIL:  Failing row contains ([hidden]).\nDETAIL:  Key (case_id)=([hidden]) is not present in '
        'table "cases".')
