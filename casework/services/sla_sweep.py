"""The SLA sweep: escalate the clocks whose next level has come, each level once per deadline, and the compliance
report.

A sweep reads only clocks whose `escalate_at` has passed (its index): the cost follows the clocks with something
to do, not the open cases. It claims them in batches, `FOR UPDATE SKIP LOCKED` on PostgreSQL (so sweepers running
at once take different clocks; on SQLite the database's single writer makes them take turns), writes each level
as an Escalation with INSERT ... ON CONFLICT DO NOTHING on its unique key (clock, level, due_at), and only for a
row it did insert writes the log entry, the console alerts and the e-mails (the outbox), in the same transaction.
So whatever runs at once or again, a level of a deadline is told once.

Levels: a warning to the assigned handler (the on-duty staff when nobody is assigned) before the deadline, the
breach to them and the supervisors, the head of the team (the administrators) after the policy's delay. A level
that falls while a business-hours calendar is closed waits for its next opening; once the deadline has passed, a
warning not yet given is dropped (a sweep after downtime gives the breach, once). Each clock leaves a batch with
its `escalate_at` moved to its next level (or NULL), so a sweep always ends.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from casework.extensions import db
from casework.messages import say, words
from casework.models import (
    Case,
    Escalation,
    EscalationLevel,
    Priority,
    Referral,
    Role,
    SlaClock,
    SlaEvent,
    SlaEventKind,
    SlaMetric,
    SlaWarnings,
    User,
    utcnow,
)
from casework.services import alerts, links, mail, sla, sla_policies

log = logging.getLogger(__name__)

BATCH = 500
SUPERVISORS = (Role.SUPERVISOR,)
HEADS = (Role.ADMIN,)


@dataclass(frozen=True)
class Escalated:
    """One level told: for which case and metric, which deadline, and to how many staff."""

    reference: str
    metric: SlaMetric
    level: EscalationLevel
    due_at: datetime
    recipients: int


class _Staff:
    """The sweep's readers of alerts, looked up once per sweep."""

    def __init__(self) -> None:
        active = select(User).where(User.active.is_(True)).order_by(User.id)
        self.by_id = {user.id: user for user in db.session.scalars(active)}
        self.on_duty = alerts.on_duty_staff()
        self.supervisors = [u for u in self.by_id.values() if u.role in SUPERVISORS]
        self.heads = [u for u in self.by_id.values() if u.role in HEADS] or self.supervisors

    def for_level(self, case: Case, level: EscalationLevel) -> list[User]:
        handler = self.by_id.get(case.assigned_handler_id) if case.assigned_handler_id else None
        first = [handler] if handler else self.on_duty
        if level is EscalationLevel.WARNING:
            chosen = first
        elif level is EscalationLevel.BREACH:
            chosen = first + self.supervisors
        else:
            chosen = self.heads
        return list({user.id: user for user in chosen}.values())


def _insert_escalations(rows: list[tuple[int, EscalationLevel, datetime]]) -> set[tuple[int, EscalationLevel]]:
    """One INSERT ... ON CONFLICT DO NOTHING of (clock, level, due_at) rows; returns the (clock, level) pairs this
    statement wrote, which are the ones to tell."""
    if not rows:
        return set()
    connection = db.session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    table = Escalation.__table__
    now = utcnow()
    statement = (
        dialect.insert(table)
        .values([{"clock_id": clock_id, "level": level, "due_at": due_at, "created_at": now}
                 for clock_id, level, due_at in rows])
        .on_conflict_do_nothing(index_elements=["clock_id", "level", "due_at"])
        .returning(table.c.clock_id, table.c.level)
    )
    return {(clock_id, EscalationLevel(level)) for clock_id, level in connection.execute(statement)}


def _tell(case: Case, clock: SlaClock, level: EscalationLevel, staff: _Staff,
          emails: list[tuple[str, str, str, int | None]]) -> int:
    message = say("sla.escalated", level=level.value, metric=clock.metric.value, reference=case.reference,
                  due_at=clock.due_at.isoformat(), **_target_of(clock))
    readers = staff.for_level(case, level)
    url = links.public_url(f"/staff/cases/{case.reference}")
    for user in readers:
        alerts.alert(message, case=case, user=user)
        if level is EscalationLevel.WARNING and user.sla_warnings is SlaWarnings.DIGEST:
            continue  # the alert at once, the e-mail in their daily digest (casework.services.sla_digest)
        with force_locale(user.preferred_language or "en"):
            subject = _("SLA %(level)s: case %(reference)s", level=level.title, reference=case.reference)
            body = _("%(what)s\n\nOpen the case: %(url)s", what=words(message), url=url)
        emails.append((user.email, subject, body, case.id))
    return len(readers)


def _target_of(clock: SlaClock) -> dict[str, str]:
    """A referral's clock names the referral's target in its message."""
    referral = db.session.get(Referral, clock.referral_id) if clock.referral_id else None
    return {"target": referral.target_name} if referral is not None else {}


def _claim(now: datetime, limit: int):
    query = (
        select(SlaClock, Case)
        .join(Case, Case.id == SlaClock.case_id)
        .where(SlaClock.escalate_at <= now)
        .order_by(SlaClock.escalate_at)
        .limit(limit)
    )
    if db.session.connection().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=SlaClock)
    return db.session.execute(query).all()


def _levels(clock: SlaClock, case: Case, now: datetime) -> list[EscalationLevel]:
    """The levels of the clock a sweep at `now` tries to write, with the clock's escalate_at moved on."""
    if clock.due_at is None:
        clock.escalate_at = None
        return []
    policy = sla_policies.policy_for(clock.metric, case.priority)
    levels, next_at = sla.levels_due(clock.due_at, policy.warning, policy.head_after, now)
    if levels and not policy.calendar.around_the_clock:
        opening = sla.next_opening(policy.calendar, now)
        if opening > now:  # never at night: the levels wait for the morning
            clock.escalate_at = opening
            return []
    clock.escalate_at = next_at
    return levels


def _escalate_batch(rows, now: datetime, staff: _Staff) -> list[Escalated]:
    wanted = [(clock, case, level) for clock, case in rows for level in _levels(clock, case, now)]
    written = _insert_escalations([(clock.id, level, clock.due_at) for clock, _case, level in wanted])
    told, emails = [], []
    for clock, case, level in wanted:
        if (clock.id, level) not in written:
            continue  # another sweeper, or an earlier sweep, told this level of this deadline
        kind = SlaEventKind.WARNED if level is EscalationLevel.WARNING else SlaEventKind.BREACHED
        db.session.add(SlaEvent(case_id=case.id, metric=clock.metric, referral_id=clock.referral_id, kind=kind, at=now,
                                data={"level": level.value, "due_at": clock.due_at.isoformat()}))
        if level is EscalationLevel.BREACH and clock.breached_at is None:
            clock.breached_at = clock.due_at
        told.append(Escalated(case.reference, clock.metric, level, clock.due_at, _tell(case, clock, level, staff,
                                                                                       emails)))
        log.info("SLA %s of %s for case %s (due %s)", level.value, clock.metric.value, case.reference,
                 clock.due_at.isoformat())
    mail.queue_emails(emails)
    return told


def sweep(now: datetime | None = None, *, batch: int = BATCH) -> list[Escalated]:
    """Escalate every clock whose next level has come, committing batch by batch; returns what was told."""
    now = now or utcnow()
    staff = _Staff()
    told: list[Escalated] = []
    while True:
        rows = _claim(now, batch)
        told.extend(_escalate_batch(rows, now, staff))
        db.session.commit()
        if len(rows) < batch:
            return told


@dataclass(frozen=True)
class Compliance:
    """How a metric did at a priority: clocks started, met (fulfilled in time), breached, still running."""

    metric: SlaMetric
    priority: Priority
    started: int
    met: int
    breached: int
    running: int

    @property
    def compliance(self) -> float | None:
        """Met over decided (met or breached); None before any is decided."""
        decided = self.met + self.breached
        return self.met / decided if decided else None

    def as_dict(self) -> dict:
        values = asdict(self)
        values.update(metric=self.metric.value, priority=self.priority.value, compliance=self.compliance)
        return values


def report(*, since: datetime | None = None, until: datetime | None = None,
           now: datetime | None = None) -> list[Compliance]:
    """Compliance per metric and priority of the clocks started from `since` (included) to `until` (excluded);
    either bound may be None (no bound). A clock past its deadline counts as breached even before a sweep records
    it."""
    now = now or utcnow()
    # Written so that no term is NULL (a NULL would make NOT breached unknown, and so false).
    breached = SlaClock.breached_at.is_not(None) | (SlaClock.due_at.is_not(None) & (SlaClock.due_at < now))
    met = SlaClock.fulfilled_at.is_not(None) & ~breached
    running = SlaClock.due_at.is_not(None) & ~breached
    query = (
        select(SlaClock.metric, Case.priority, func.count(),
               func.sum(sql_case((met, 1), else_=0)), func.sum(sql_case((breached, 1), else_=0)),
               func.sum(sql_case((running, 1), else_=0)))
        .join(Case, Case.id == SlaClock.case_id)
        .group_by(SlaClock.metric, Case.priority)
    )
    if since is not None:
        query = query.where(SlaClock.started_at >= since)
    if until is not None:
        query = query.where(SlaClock.started_at < until)
    figures: dict[tuple[SlaMetric, Priority], Compliance] = {}
    for metric, priority, started, met_count, breached_count, running_count in db.session.execute(query):
        figures[(metric, priority)] = Compliance(metric, priority, started, int(met_count or 0),
                                                 int(breached_count or 0), int(running_count or 0))
    return [figures[key] for key in ((metric, priority) for metric in SlaMetric for priority in Priority)
            if key in figures]
