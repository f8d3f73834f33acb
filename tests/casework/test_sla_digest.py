"""The daily digest of SLA warnings: a reader who chose it gets no single warning e-mail (the console alert still
comes at once, breaches are still e-mailed at once); once a day from the digest hour in their own zone one e-mail,
in their language, lists the warnings since their previous digest. Exactly one per reader and local day, across
repeated runs, runs at once (threads, and processes on PostgreSQL) and downtime; an empty digest is not sent."""

from __future__ import annotations

import multiprocessing
import os
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from casework.extensions import db
from casework.messages import say
from casework.models import (
    Case,
    EscalationLevel,
    Notification,
    Role,
    SlaDigest,
    SlaMetric,
    SlaWarnings,
    StaffAlert,
    User,
    utcnow,
)
from casework.services import alerts, sla_digest, sla_sweep
from casework.services.sla_digest import DigestDay
from scheduler.jobs import build_scheduler
from tests.fixtures.factories import at_once

H = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
W, B = EscalationLevel.WARNING, EscalationLevel.BREACH
# Shanghai has no daylight-saving time: 08:00 there is 00:00 UTC every day.
SHANGHAI_8AM = datetime(2026, 12, 8, 0, 0, tzinfo=UTC)
SUBJECT = "SLA digest for"


@pytest.fixture
def reader(make_user) -> User:
    user = make_user(Role.HANDLER)
    user.sla_warnings, user.time_zone = SlaWarnings.DIGEST, "Asia/Shanghai"
    db.session.commit()
    return user


@pytest.fixture
def case(file_at, reader) -> Case:
    filed = file_at(datetime(2026, 12, 1, tzinfo=UTC))
    filed.assigned_handler_id = reader.id
    db.session.commit()
    return filed


def told(user: User, case: Case, level: EscalationLevel, metric: SlaMetric, due_at: datetime, at: datetime) -> None:
    """An SLA level as the sweep tells it in the console (alerts.alert), told at `at`."""
    row = alerts.alert(say("sla.escalated", level=level.value, metric=metric.value, reference=case.reference,
                           due_at=due_at.isoformat()), case=case, user=user)
    row.created_at = at
    db.session.commit()


def digests_to(user: User) -> list[Notification]:
    return db.session.scalars(select(Notification).where(Notification.recipient == user.email,
                                                         Notification.subject.startswith(SUBJECT))
                              .order_by(Notification.id)).all()


def digests_to_zh(user: User) -> list[Notification]:
    return db.session.scalars(select(Notification).where(Notification.recipient == user.email)
                              .order_by(Notification.id)).all()


# The digest's day and period: pure functions.

def test_the_digest_is_due_from_the_local_hour_across_the_october_change():
    # Berlin, 08:00: 06:00 UTC in summer time (Saturday 24 October 2026), 07:00 UTC in winter time (Monday 26th).
    assert sla_digest.due_day(datetime(2026, 10, 24, 5, 59, tzinfo=UTC), "Europe/Berlin", 8) is None
    assert sla_digest.due_day(datetime(2026, 10, 24, 6, 0, tzinfo=UTC), "Europe/Berlin", 8) == DigestDay(
        date(2026, 10, 24), datetime(2026, 10, 24, 6, 0, tzinfo=UTC))
    assert sla_digest.due_day(datetime(2026, 10, 26, 6, 30, tzinfo=UTC), "Europe/Berlin", 8) is None
    assert sla_digest.due_day(datetime(2026, 10, 26, 7, 0, tzinfo=UTC), "Europe/Berlin", 8) == DigestDay(
        date(2026, 10, 26), datetime(2026, 10, 26, 7, 0, tzinfo=UTC))


def test_the_local_day_is_the_readers_not_utcs():
    # 23:30 UTC on 7 December is 07:30 on the 8th in Shanghai: the 8th's digest is not due yet, the 7th's was.
    late = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)
    assert sla_digest.due_day(late, "Asia/Shanghai", 8) is None
    assert sla_digest.due_day(late, "Asia/Shanghai", 7).local_date == date(2026, 12, 8)
    assert sla_digest.due_day(late, "UTC", 8).local_date == date(2026, 12, 7)


def test_a_period_runs_from_the_previous_digest_at_most_a_week_back():
    day = DigestDay(date(2026, 12, 8), SHANGHAI_8AM)
    assert sla_digest.period_start(day, None) == SHANGHAI_8AM - 24 * H
    assert sla_digest.period_start(day, SHANGHAI_8AM - 72 * H) == SHANGHAI_8AM - 72 * H  # three days down
    assert sla_digest.period_start(day, SHANGHAI_8AM - 30 * 24 * H) == SHANGHAI_8AM - 7 * 24 * H


# With the sweep: what is e-mailed at once and what waits for the digest.

def test_a_digest_reader_gets_the_warning_alert_at_once_but_no_warning_email(file_at, reader, make_user):
    make_user(Role.SUPERVISOR)
    # Filed 7 h 50 min ago: evidence capture (eight hours) is warned at 15 minutes before; triage (four) breached.
    filed = file_at(utcnow() - 7 * H - 50 * MINUTE)
    filed.assigned_handler_id = reader.id
    db.session.commit()
    told_now = {(item.metric, item.level) for item in sla_sweep.sweep()}
    assert {(SlaMetric.EVIDENCE_CAPTURED, W), (SlaMetric.TRIAGE, B)} <= told_now
    messages = db.session.scalars(select(StaffAlert.message).where(StaffAlert.user_id == reader.id)).all()
    assert {"evidence_captured", "warning"} <= {value for m in messages for value in m["values"].values()}
    mails = db.session.scalars(select(Notification).where(Notification.recipient == reader.email)).all()
    assert [m.subject for m in mails] == [f"SLA Breach: case {filed.reference}"]  # the breach at once, no warning
    assert "Triage" in mails[0].body_text


def test_a_reader_who_chose_email_still_gets_each_warning(file_at, make_user):
    handler = make_user(Role.HANDLER)
    filed = file_at(utcnow() - 7 * H - 50 * MINUTE)
    filed.assigned_handler_id = handler.id
    db.session.commit()
    sla_sweep.sweep()
    subjects = db.session.scalars(select(Notification.subject).where(Notification.recipient == handler.email)).all()
    assert f"SLA Warning: case {filed.reference}" in subjects


def test_the_warning_the_sweep_told_comes_in_the_next_digest_with_the_breach(app, file_at, reader, make_user):
    make_user(Role.SUPERVISOR)
    filed = file_at(utcnow() - 7 * H - 50 * MINUTE)
    filed.assigned_handler_id = reader.id
    db.session.commit()
    sla_sweep.sweep()
    # The digest hour: the first whole hour after now, in UTC for this reader; the digest runs half an hour later.
    soon = (utcnow() + H).replace(minute=0, second=0, microsecond=0)
    reader.time_zone = "UTC"
    app.config["SLA_DIGEST_HOUR"] = soon.hour
    db.session.commit()
    written = sla_digest.send_digests(soon + 30 * MINUTE)
    assert [(item.email, item.warnings) for item in written] == [(reader.email, 1)]
    (digest,) = digests_to(reader)
    assert digest.subject == f"SLA digest for {soon.date().isoformat()}: 1 warning"
    warnings, overdue = digest.body_text.split("Overdue in the same time")
    assert f"{filed.reference} · Evidence captured · due " in warnings and "(UTC)" in warnings
    assert f"/staff/cases/{filed.reference}" in warnings
    assert f"{filed.reference} · Triage" in overdue


# The digest itself.

def test_the_digest_lists_the_warnings_of_the_past_day_in_the_readers_zone(case, reader):
    due = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    told(reader, case, W, SlaMetric.EVIDENCE_CAPTURED, due, SHANGHAI_8AM - 14 * H)
    told(reader, case, W, SlaMetric.FIRST_RESPONSE, due + H, SHANGHAI_8AM - 13 * H)
    told(reader, case, W, SlaMetric.TRIAGE, due, SHANGHAI_8AM - 25 * H)  # before the past day: not listed
    sla_digest.send_digests(SHANGHAI_8AM + MINUTE)
    (digest,) = digests_to(reader)
    assert digest.subject == "SLA digest for 2026-12-08: 2 warnings"
    body = digest.body_text
    assert "2 SLA deadlines came near since your last digest (times in Asia/Shanghai):" in body
    assert f"- {case.reference} · Evidence captured · due 2026-12-07 18:00 (Asia/Shanghai)" in body
    assert f"- {case.reference} · First response · due 2026-12-07 19:00 (Asia/Shanghai)" in body
    assert "Triage" not in body and "Overdue" not in body
    assert "/staff/settings" in body


def test_one_digest_per_local_day_across_repeated_runs(case, reader):
    told(reader, case, W, SlaMetric.EVIDENCE_CAPTURED, SHANGHAI_8AM + H, SHANGHAI_8AM - 2 * H)
    assert sla_digest.send_digests(SHANGHAI_8AM - MINUTE) == []  # 07:59 in Shanghai
    for later in (0, 5, 60, 15 * 60, 24 * 60 - 1):  # 08:00 to 07:59 the next morning
        sla_digest.send_digests(SHANGHAI_8AM + later * MINUTE)
    assert len(digests_to(reader)) == 1
    # The next day's digest lists what came after the first one's period, and nothing twice.
    told(reader, case, W, SlaMetric.TRIAGE, SHANGHAI_8AM + 30 * H, SHANGHAI_8AM + 20 * H)
    sla_digest.send_digests(SHANGHAI_8AM + 24 * H)
    sla_digest.send_digests(SHANGHAI_8AM + 25 * H)
    first, second = digests_to(reader)
    assert "Evidence captured" in first.body_text and "Triage" not in first.body_text
    assert "Triage" in second.body_text and "Evidence captured" not in second.body_text
    days = db.session.scalars(select(SlaDigest.local_date).where(SlaDigest.user_id == reader.id)).all()
    assert sorted(days) == [date(2026, 12, 8), date(2026, 12, 9)]


def test_an_empty_digest_is_not_sent(case, reader):
    # Only a breach in the past day: it was e-mailed when it happened, and a digest without a warning is not sent.
    told(reader, case, B, SlaMetric.TRIAGE, SHANGHAI_8AM - 5 * H, SHANGHAI_8AM - 5 * H)
    written = sla_digest.send_digests(SHANGHAI_8AM + MINUTE)
    assert [(item.email, item.warnings) for item in written] == [(reader.email, 0)]
    assert digests_to(reader) == []
    assert sla_digest.send_digests(SHANGHAI_8AM + 2 * H) == []  # the day is done: not looked at again


def test_after_downtime_the_digest_is_sent_once_and_covers_the_days_missed(case, reader):
    told(reader, case, W, SlaMetric.TRIAGE, SHANGHAI_8AM - 60 * H, SHANGHAI_8AM - 61 * H)
    sla_digest.send_digests(SHANGHAI_8AM - 48 * H)  # the digest of 6 December; then the scheduler stops
    told(reader, case, W, SlaMetric.EVIDENCE_CAPTURED, SHANGHAI_8AM - 40 * H, SHANGHAI_8AM - 41 * H)  # 6 Dec.
    told(reader, case, W, SlaMetric.FIRST_RESPONSE, SHANGHAI_8AM - 10 * H, SHANGHAI_8AM - 11 * H)  # 7 Dec.
    back = SHANGHAI_8AM + 5 * H  # it returns at 13:00 on the 8th
    sla_digest.send_digests(back)
    sla_digest.send_digests(back + MINUTE)
    first, late = digests_to(reader)
    assert "Triage" in first.body_text
    assert late.subject == "SLA digest for 2026-12-08: 2 warnings"
    assert "Evidence captured" in late.body_text and "First response" in late.body_text
    assert "Triage" not in late.body_text


def test_the_digest_is_in_the_readers_language(case, reader):
    reader.preferred_language = "zh_Hans_CN"
    db.session.commit()
    told(reader, case, W, SlaMetric.EVIDENCE_CAPTURED, SHANGHAI_8AM + H, SHANGHAI_8AM - 2 * H)
    told(reader, case, B, SlaMetric.TRIAGE, SHANGHAI_8AM - H, SHANGHAI_8AM - H)
    sla_digest.send_digests(SHANGHAI_8AM)
    (digest,) = digests_to_zh(reader)
    assert digest.subject == "2026-12-08 的 SLA 汇总：1 条预警"
    assert "已固定证据" in digest.body_text and "截止 2026-12-08 09:00 (Asia/Shanghai)" in digest.body_text
    assert "已逾期" in digest.body_text
    assert "Evidence captured" not in digest.body_text and "warning" not in digest.body_text.lower()


def test_only_active_digest_readers_get_one(case, reader, make_user):
    emailed, gone = make_user(Role.HANDLER), make_user(Role.HANDLER)
    gone.sla_warnings, gone.active = SlaWarnings.DIGEST, False
    db.session.commit()
    for user in (reader, emailed, gone):
        told(user, case, W, SlaMetric.EVIDENCE_CAPTURED, SHANGHAI_8AM + H, SHANGHAI_8AM - 2 * H)
    written = sla_digest.send_digests(SHANGHAI_8AM)
    assert [item.email for item in written] == [reader.email]
    assert digests_to(emailed) == [] and digests_to(gone) == []


def test_runs_at_once_send_one_digest(app, case, reader):
    told(reader, case, W, SlaMetric.EVIDENCE_CAPTURED, SHANGHAI_8AM + H, SHANGHAI_8AM - 2 * H)
    results = at_once(app, lambda: sla_digest.send_digests(SHANGHAI_8AM + MINUTE), 4)
    assert sorted(len(result) for result in results) == [0, 0, 0, 1]
    assert len(digests_to(reader)) == 1
    assert db.session.scalar(select(func.count()).select_from(SlaDigest)) == 1


def digest_in_process(config: dict, now: datetime, barrier, results) -> None:
    """A scheduler's digest run in a process of its own, released with the others."""
    from casework import create_app

    app = create_app({"TESTING": True, "RATELIMIT_STORAGE_URI": "memory://", **config})
    with app.app_context():
        barrier.wait(timeout=60)
        results.put([item.email for item in sla_digest.send_digests(now)])


@pytest.mark.skipif(not os.environ.get("CASEWORK_TEST_DATABASE_URL"),
                    reason="several scheduler processes need PostgreSQL")
def test_two_scheduler_processes_at_once_send_each_digest_once(app, case, reader, make_user):
    others = [make_user(Role.HANDLER) for _ in range(5)]
    for user in [reader, *others]:
        user.sla_warnings, user.time_zone = SlaWarnings.DIGEST, "Asia/Shanghai"
        told(user, case, W, SlaMetric.EVIDENCE_CAPTURED, SHANGHAI_8AM + H, SHANGHAI_8AM - 2 * H)
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    config = {key: app.config[key] for key in ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "UPLOAD_DIR")}
    workers = [context.Process(target=digest_in_process, args=(config, SHANGHAI_8AM + MINUTE, barrier, results))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    written = [email for _ in workers for email in results.get(timeout=120)]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    assert sorted(written) == sorted(user.email for user in [reader, *others])
    for user in [reader, *others]:
        assert len(digests_to(user)) == 1


# The scheduler and the command line.

def test_the_scheduler_runs_the_digest_and_catches_up_after_downtime(app):
    job = build_scheduler(app).get_job("sla_digest")
    assert job.coalesce is True and job.misfire_grace_time is None and job.next_run_time is not None


def test_the_digest_command_writes_what_is_due_and_says_so(app, reader, case):
    midnight = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    told(reader, case, W, SlaMetric.EVIDENCE_CAPTURED, midnight + H, midnight - 2 * H)
    reader.time_zone = "UTC"
    app.config["SLA_DIGEST_HOUR"] = 0  # today's digest is due from midnight UTC, and covers the day before
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["sla", "digest"])
    assert result.exit_code == 0, result.output
    assert f"{reader.email} {utcnow().date().isoformat()}: 1 warnings, queued for sending" in result.output
    again = runner.invoke(args=["sla", "digest"])
    assert again.exit_code == 0 and again.output.strip() == "0 digests."
    assert len(digests_to(reader)) == 1
