"""The audit log has one shape: every kind of event is an EventKind with its title (and, when the victim sees it, its
sentence), every entry is built by one builder, and the database takes only the kinds the code knows; the other
kind columns are constrained the same way."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from casework.extensions import db
from casework.models import (
    CaseEvent,
    Escalation,
    EscalationLevel,
    EventKind,
    EvidenceJob,
    JobKind,
    RecordKind,
    Role,
    SlaClock,
    SlaEvent,
    SlaEventKind,
    SlaMetric,
    utcnow,
)
from casework.services import evidence, jobs
from evidence.models import RECORD_KINDS
from tests.casework.test_duplicate_keys import _native_movement, _transaction_record


def test_every_kind_of_event_can_be_stored_and_has_a_title(app, make_case, make_user):
    """Also keeps the CHECK on case_events.action in step with EventKind: a kind without its migration fails here."""
    case, handler = make_case().case, make_user(Role.HANDLER)
    for kind in EventKind:
        CaseEvent.record(case, handler, kind, summary=kind.value)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)).all()
    assert [event.action for event in stored] == [EventKind.SUBMITTED, *EventKind]
    for event in stored:
        assert event.title and event.title != event.action.value


def test_an_unknown_kind_is_refused_by_the_builder_and_by_the_database(app, make_case):
    case = make_case().case
    with pytest.raises(ValueError):
        CaseEvent.record(case, None, "sla_breach")
    row = CaseEvent.row(EventKind.NOTE)
    with pytest.raises(IntegrityError, match="ck_case_events_event_kind|CHECK constraint failed"):
        db.session.execute(text("INSERT INTO case_events (case_id, actor_label, action, summary, data, created_at) "
                                "VALUES (:id, 'system', 'sla_breach', '', '{}', :at)"),
                           {"id": case.id, "at": row["created_at"]})
    db.session.rollback()


def test_the_staff_timeline_names_discovery_theft_confirmation_and_trace(client, make_case, make_user, login):
    filed, handler = make_case(), make_user(Role.HANDLER)
    for kind in (EventKind.DISCOVERY, EventKind.THEFT_CONFIRMED, EventKind.TRACE):
        CaseEvent.record(filed.case, handler, kind)
    db.session.commit()
    login(handler)
    page = client.get(f"/staff/cases/{filed.case.reference}").get_data(as_text=True)
    for title in ("Outgoing transfers discovered", "Theft confirmed", "Funds traced"):
        assert title in page
    for code in ("— discovery", "— theft_confirmed", "— trace"):
        assert code not in page


def test_the_filing_fast_path_writes_the_event_the_builder_makes(app, make_case):
    event = make_case().case.events[0]
    built = CaseEvent.row(EventKind.SUBMITTED, actor_label="victim", created_at=event.created_at,
                          priority=event.case.priority, incident_type=event.case.incident_type)
    assert {column: getattr(event, column) for column in built} == built


def test_what_the_victim_sees_of_each_kind_is_said_by_the_kind(app):
    visible = {kind for kind in EventKind if kind.victim_visible}
    assert EventKind.NOTE not in visible and EventKind.THEFT_CONFIRMED not in visible
    assert EventKind.MESSAGE.for_victim(by_victim=True) == "You sent a message."
    assert EventKind.MESSAGE.for_victim(by_victim=False) == "Your case handler sent you a message."
    assert EventKind.STATUS.for_victim(by_victim=False, status="Closed") == "Your case is now: Closed"


# The other kind columns


def test_record_kinds_are_the_evidence_package_kinds(app):
    assert [kind.value for kind in RecordKind] == list(RECORD_KINDS)


def _sla_rows(case):
    # Filing started the other clocks; this case names no exchange, so it has no freeze clock yet.
    clock = SlaClock(case_id=case.id, metric=SlaMetric.FREEZE_SENT, due_at=utcnow())
    db.session.add(clock)
    db.session.flush()
    db.session.add_all([SlaEvent(case_id=case.id, metric=SlaMetric.FREEZE_SENT, kind=SlaEventKind.STARTED),
                        Escalation(clock_id=clock.id, level=EscalationLevel.WARNING, due_at=utcnow())])
    job = jobs.enqueue(case, "capture", {"chain_id": 1, "tx_hashes": ["0x" + "ab" * 32]}, actor=None)
    db.session.commit()
    return job


@pytest.mark.parametrize("model, column", [
    (SlaClock, "metric"), (SlaEvent, "kind"), (Escalation, "level"), (EvidenceJob, "kind"),
])
def test_unknown_kinds_are_refused_by_the_database(app, make_case, model, column):
    job = _sla_rows(make_case().case)
    assert job.kind == "capture" and job.kind is JobKind.CAPTURE
    table = model.__table__
    with pytest.raises(IntegrityError):
        db.session.execute(update(table).values({table.c[column]: text("'bogus'")}))
    db.session.rollback()


def test_unknown_record_kinds_and_theft_patterns_are_refused_by_the_database(app, make_case):
    case = make_case().case
    record = _transaction_record()
    evidence.store_movements(case, [_native_movement(record)], evidence.append_records(case, [record], actor=None))
    db.session.commit()
    for statement in ("UPDATE evidence_records SET kind = 'bogus'", "UPDATE transfers SET pattern = 'bogus'"):
        with pytest.raises(IntegrityError):
            db.session.execute(text(statement))
        db.session.rollback()
