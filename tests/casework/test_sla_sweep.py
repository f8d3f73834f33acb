"""The SLA sweep: each level told once per deadline to the right people (alert and e-mail in their language, in
the sweep's transaction), never at night for business hours, nothing for a fulfilled or paused clock, a missed
breach told once after downtime, the outbox recovering from a failing SMTP server, sweepers at once (threads, and
four processes on PostgreSQL) telling each level exactly once; the CLI and the compliance report."""

from __future__ import annotations

import json
import multiprocessing
import os
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from casework.extensions import db
from casework.models import (
    Escalation,
    EscalationLevel,
    Notification,
    OutboxStatus,
    Role,
    SlaEvent,
    SlaEventKind,
    SlaMetric,
    StaffAlert,
)
from casework.services import mail, sla_clocks, sla_sweep
from evidence.devnet.anvil import free_port
from scheduler.jobs import build_scheduler
from tests.fixtures.factories import at_once
from tests.fixtures.sla import clock, sweep_in_process

H = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = datetime(2026, 6, 8, 8, 0, tzinfo=UTC)  # 10:00 in Berlin
W, B, HEAD = EscalationLevel.WARNING, EscalationLevel.BREACH, EscalationLevel.HEAD


@pytest.fixture
def team(make_user):
    return make_user(Role.HANDLER), make_user(Role.SUPERVISOR), make_user(Role.ADMIN)


@pytest.fixture
def assigned(file_at, team):
    case = file_at(MONDAY)
    case.assigned_handler_id = team[0].id
    db.session.commit()
    return case


def _told(told, metric=SlaMetric.EVIDENCE_CAPTURED):
    return [item.level for item in told if item.metric is metric]


def _mail_to(address, about="Evidence captured"):
    return db.session.scalars(select(Notification).where(Notification.recipient == address,
                                                         Notification.body_text.contains(about))
                              .order_by(Notification.id)).all()


def test_each_level_is_told_once_to_its_people(assigned, team):
    handler, supervisor, head = team
    # Evidence capture, low priority: due 8 hours after filing, warned 15 minutes before, the head 2 hours after.
    assert _told(sla_sweep.sweep(MONDAY + 7 * H)) == []
    assert _told(sla_sweep.sweep(MONDAY + 7 * H + 50 * MINUTE)) == [W]
    assert _told(sla_sweep.sweep(MONDAY + 7 * H + 55 * MINUTE)) == []
    assert [m.recipient for m in _mail_to(handler.email)] == [handler.email]
    assert _mail_to(supervisor.email) == []
    breach = sla_sweep.sweep(MONDAY + 8 * H)
    assert _told(breach) == [B] and breach[0].recipients == 2
    assert len(_mail_to(supervisor.email)) == 1 and _mail_to(head.email) == []
    assert _told(sla_sweep.sweep(MONDAY + 9 * H)) == []
    assert _told(sla_sweep.sweep(MONDAY + 10 * H)) == [HEAD]
    assert len(_mail_to(head.email)) == 1
    for later in (11, 24, 48, 24 * 7):
        assert _told(sla_sweep.sweep(MONDAY + later * H)) == []  # never a daily repeat
    evidence = clock(assigned, SlaMetric.EVIDENCE_CAPTURED)
    assert evidence.escalate_at is None and evidence.breached_at == MONDAY + 8 * H
    kinds = db.session.scalars(select(SlaEvent.kind).where(SlaEvent.metric == SlaMetric.EVIDENCE_CAPTURED)
                               .order_by(SlaEvent.id)).all()
    assert kinds == [SlaEventKind.STARTED, SlaEventKind.WARNED, SlaEventKind.BREACHED, SlaEventKind.BREACHED]


def test_the_alert_and_the_mail_are_in_the_readers_language(assigned, team):
    handler, supervisor, _head = team
    handler.preferred_language = "zh_Hans_CN"
    db.session.commit()
    sla_sweep.sweep(MONDAY + 8 * H)
    to_handler, to_supervisor = _mail_to(handler.email, "已固定证据")[-1], _mail_to(supervisor.email)[-1]
    assert assigned.reference in to_handler.subject and assigned.reference in to_supervisor.subject
    assert "overdue" in to_supervisor.body_text and "/staff/cases/" + assigned.reference in to_supervisor.body_text
    assert "逾期" in to_handler.body_text and "overdue" not in to_handler.body_text
    alerts = db.session.scalars(select(StaffAlert).where(StaffAlert.user_id == handler.id)).all()
    assert alerts and all(a.case_id == assigned.id for a in alerts)


def test_nobody_assigned_tells_the_on_duty_staff(file_at, make_user):
    on_duty = make_user(Role.HANDLER)
    on_duty.on_duty = True
    db.session.commit()
    file_at(MONDAY)
    assert W in _told(sla_sweep.sweep(MONDAY + 7 * H + 50 * MINUTE))
    assert _mail_to(on_duty.email)


def test_a_missed_breach_is_told_once_after_downtime_without_the_stale_warning(assigned, team):
    # The scheduler was down from filing until the next day: the first sweep gives the breach and the head level.
    told = sla_sweep.sweep(MONDAY + 20 * H)
    assert set(_told(told)) == {B, HEAD} and len(told) == 3  # and triage's breach
    assert _told(sla_sweep.sweep(MONDAY + 20 * H + MINUTE)) == []
    assert db.session.scalar(select(func.count()).select_from(Escalation).where(Escalation.level == W)) == 0


def test_business_hours_levels_wait_for_the_morning(assigned):
    # First response, low: eight Berlin office hours from Monday 10:00, due at closing (18:00); warned at 17:30.
    due = datetime(2026, 6, 8, 18, 0, tzinfo=BERLIN)
    assert _told(sla_sweep.sweep(due - 30 * MINUTE), SlaMetric.FIRST_RESPONSE) == [W]
    assert _told(sla_sweep.sweep(due + 5 * MINUTE), SlaMetric.FIRST_RESPONSE) == []  # 18:05: closed
    morning = datetime(2026, 6, 9, 9, 0, tzinfo=BERLIN)
    assert clock(assigned, SlaMetric.FIRST_RESPONSE).escalate_at == morning
    assert _told(sla_sweep.sweep(datetime(2026, 6, 9, 3, 0, tzinfo=BERLIN)), SlaMetric.FIRST_RESPONSE) == []
    assert _told(sla_sweep.sweep(morning), SlaMetric.FIRST_RESPONSE) == [B, HEAD]


def test_a_fulfilled_clock_stops_escalating_at_once(assigned):
    assert _told(sla_sweep.sweep(MONDAY + 7 * H + 50 * MINUTE)) == [W]
    sla_clocks.fulfil(assigned, SlaMetric.EVIDENCE_CAPTURED, at=MONDAY + 7 * H + 55 * MINUTE)
    db.session.commit()
    assert _told(sla_sweep.sweep(MONDAY + 12 * H)) == []
    assert clock(assigned, SlaMetric.EVIDENCE_CAPTURED).breached_at is None


def test_a_paused_clock_does_not_escalate_and_resumes_with_a_new_deadline(assigned):
    sla_clocks.on_status_change(assigned, assigned.status, assigned.status.AWAITING_VICTIM, at=MONDAY + H)
    db.session.commit()
    assert _told(sla_sweep.sweep(MONDAY + 12 * H)) == []
    sla_clocks.on_status_change(assigned, assigned.status.AWAITING_VICTIM, assigned.status, at=MONDAY + 12 * H)
    db.session.commit()
    assert clock(assigned, SlaMetric.EVIDENCE_CAPTURED).due_at == MONDAY + 19 * H
    assert _told(sla_sweep.sweep(MONDAY + 19 * H)) == [B]


def test_a_recurring_clock_escalates_again_for_its_next_deadline(assigned):
    # Victim update: every 24 hours; breached, then the handler writes, then the next interval runs out too.
    assert B in _told(sla_sweep.sweep(MONDAY + 25 * H), SlaMetric.VICTIM_UPDATE)
    sla_clocks.fulfil(assigned, SlaMetric.VICTIM_UPDATE, at=MONDAY + 26 * H)
    db.session.commit()
    assert _told(sla_sweep.sweep(MONDAY + 27 * H), SlaMetric.VICTIM_UPDATE) == []
    assert B in _told(sla_sweep.sweep(MONDAY + 51 * H), SlaMetric.VICTIM_UPDATE)
    update = clock(assigned, SlaMetric.VICTIM_UPDATE)
    dues = db.session.scalars(select(Escalation.due_at).where(Escalation.level == B,
                                                               Escalation.clock_id == update.id)).all()
    assert sorted(dues) == [MONDAY + 24 * H, MONDAY + 50 * H]


def test_the_outbox_sends_the_escalations_after_the_smtp_server_recovers(app, assigned, team, smtp_server):
    handler, supervisor, _head = team
    sla_sweep.sweep(MONDAY + 8 * H)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_SENDER="Casework <cases@example.org>")
    now = mail.utcnow()
    assert mail.send_pending(now) == 0  # nothing listens: kept for a retry
    pending = db.session.scalars(select(Notification).order_by(Notification.id)).all()
    assert pending[0].attempts == 1 and "ConnectionRefusedError" in pending[0].last_error
    assert all(n.status is OutboxStatus.PENDING for n in pending)
    app.config.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)
    assert mail.send_pending(now + H) == len(pending)
    assert mail.send_pending(now + 2 * H) == 0
    received = sorted(message["To"] for message in smtp_server.messages)
    assert received == sorted(n.recipient for n in pending)
    assert handler.email in received and supervisor.email in received


def test_sweepers_at_once_tell_each_level_exactly_once(app, file_at, team):
    cases = [file_at(MONDAY) for _ in range(6)]
    for case in cases:
        case.assigned_handler_id = team[0].id
    db.session.commit()
    results = at_once(app, lambda: sla_sweep.sweep(MONDAY + 8 * H, batch=2), 3)
    told = [item for result in results for item in result]
    assert len(told) == len({(i.reference, i.metric, i.level) for i in told})
    assert db.session.scalar(select(func.count()).select_from(Escalation)) == len(told)
    # Triage and evidence capture breached; the first response's breach at 18:00 in Berlin waits for the morning.
    assert sorted((i.metric.value, i.level.value) for i in told) == sorted(
        [("triage", "breach"), ("evidence_captured", "breach")] * len(cases))


@pytest.mark.skipif(not os.environ.get("CASEWORK_TEST_DATABASE_URL"),
                    reason="several sweeper processes need PostgreSQL")
def test_four_sweeper_processes_at_once_tell_each_level_exactly_once(app, file_at, team):
    for _ in range(40):
        file_at(MONDAY)
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(4), context.Queue()
    config = {key: app.config[key] for key in ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "UPLOAD_DIR")}
    workers = [context.Process(target=sweep_in_process, args=(config, MONDAY + 10 * H, barrier, results))
               for _ in range(4)]
    for worker in workers:
        worker.start()
    told = [item for _ in workers for item in results.get(timeout=120)]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    assert len(told) == len(set(told)) == db.session.scalar(select(func.count()).select_from(Escalation))
    # Per case: triage breached; evidence capture breached and its head level (10 hours after filing).
    assert len(told) == 40 * 3
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 40 * (2 * 2 + 1)


def test_the_sweep_command_prints_what_it_escalated_and_the_report_gives_compliance(app, assigned):
    sla_clocks.fulfil(assigned, SlaMetric.FIRST_RESPONSE, at=MONDAY + H)
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["sla", "sweep"])  # now: long after every deadline of a case filed in June
    assert result.exit_code == 0, result.output
    assert f"{assigned.reference} evidence_captured breach" in result.output
    assert f"{assigned.reference} first_response" not in result.output
    again = runner.invoke(args=["sla", "sweep"])
    assert again.exit_code == 0 and again.output.strip() == "0 escalations."
    report = runner.invoke(args=["sla", "report", "--json"])
    figures = {(row["metric"], row["priority"]): row for row in json.loads(report.output)}
    assert figures[("first_response", "low")]["met"] == 1 and figures[("first_response", "low")]["compliance"] == 1
    assert figures[("evidence_captured", "low")]["breached"] == 1
    assert figures[("evidence_captured", "low")]["compliance"] == 0
    table = runner.invoke(args=["sla", "report"])
    assert table.exit_code == 0 and "first_response" in table.output and "100.0%" in table.output


def test_the_scheduler_catches_up_after_downtime_once(app):
    job = build_scheduler(app).get_job("sla_sweep")
    assert job.coalesce is True and job.misfire_grace_time is None and job.next_run_time is not None
