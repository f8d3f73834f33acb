"""The audit log is append-only in the database itself: raw SQL cannot change or delete a case_events row, on
PostgreSQL and on SQLite, while new entries are still written and the test suite can still empty the tables."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from casework.extensions import db
from casework.models import CaseEvent, EventKind, Role


def _refused(statement: str, **values) -> str:
    with pytest.raises(DBAPIError) as refused:
        db.session.execute(text(statement), values)
    db.session.rollback()
    return str(refused.value)


def test_raw_sql_cannot_update_an_audit_entry(app, make_case):
    event_id = make_case().case.events[0].id
    message = _refused("UPDATE case_events SET summary = 'rewritten history' WHERE id = :id", id=event_id)
    assert "append-only" in message
    assert db.session.get(CaseEvent, event_id).summary != "rewritten history"


def test_raw_sql_cannot_delete_an_audit_entry(app, make_case):
    case_id = make_case().case_id
    assert "append-only" in _refused("DELETE FROM case_events WHERE case_id = :id", id=case_id)
    assert db.session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id)) == 1


def test_an_update_that_matches_nothing_is_not_an_error_and_new_entries_are_written(app, make_case, make_user):
    case = make_case().case
    db.session.execute(text("UPDATE case_events SET summary = 'x' WHERE id = -1"))
    CaseEvent.record(case, make_user(Role.HANDLER), EventKind.NOTE, summary="appended")
    db.session.commit()
    assert [event.summary for event in case.events][-1] == "appended"


def test_the_triggers_are_in_the_migrated_schema(app):
    if db.engine.dialect.name == "postgresql":
        names = db.session.scalars(text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'case_events'::regclass AND NOT tgisinternal")).all()
        assert names == ["case_events_append_only"]
    else:
        names = db.session.scalars(text(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'case_events' ORDER BY name")).all()
        assert names == ["case_events_no_delete", "case_events_no_update"]
