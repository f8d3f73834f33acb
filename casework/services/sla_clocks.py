"""SLA clocks: started at filing, paused while the case awaits the victim, fulfilled by the work they measure,
stopped at closing, and recomputed when the priority or the policies change.

Every change appends to the clock's log (sla_events, never updated) and then recomputes the clock's stored times
from the whole log with `sla.clock_times` under the policy now in force: so a recompute counts from the original
start minus the paused time, and a breach already recorded (`breached_at`, the escalations) is never moved or
deleted. Everything here runs in the caller's transaction; the caller commits.

Hooks: filing (`filing_rows`, children of the case's INSERT), workflow.transition_case (`on_status_change`),
thread.reply_to_victim (first response and victim update fulfilled), evidence.record_capture (evidence captured),
priority (`on_priority_change`). The referrals work calls `start_clock(case, SlaMetric.FREEZE_SENT)` when a
freezable endpoint becomes known and `fulfil(case, SlaMetric.FREEZE_SENT)` when a freeze request is sent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from casework.extensions import db
from casework.models import Case, CaseStatus, Priority, SlaClock, SlaEvent, SlaEventKind, SlaMetric, utcnow
from casework.services import sla, sla_policies
from casework.services.sla_policies import Policy

# The clocks every case starts with; FREEZE_SENT starts once a freezable endpoint is known.
AT_FILING = (SlaMetric.FIRST_RESPONSE, SlaMetric.TRIAGE, SlaMetric.EVIDENCE_CAPTURED, SlaMetric.VICTIM_UPDATE,
             SlaMetric.RESOLUTION)
TRIAGE_STATES = frozenset({CaseStatus.SUBMITTED, CaseStatus.TRIAGE})
Log = list[tuple[SlaEventKind, datetime]]


def first_escalation(due_at: datetime | None, policy: Policy) -> datetime | None:
    """When the sweep first has something to do for a deadline: its earliest level."""
    if due_at is None:
        return None
    return sla.level_times(due_at, policy.warning, policy.head_after)[0][1]


def filing_rows(priority: Priority, now: datetime, *, freezable: bool) -> tuple[list[dict[str, Any]],
                                                                               list[dict[str, Any]]]:
    """The clock rows and their STARTED events for a case being filed (filing.write_case adds them as children of
    the case's INSERT): plain values, without case_id."""
    metrics = AT_FILING + ((SlaMetric.FREEZE_SENT,) if freezable else ())
    clocks, events = [], []
    for metric in metrics:
        policy = sla_policies.policy_for(metric, priority)
        times = sla.clock_times([(SlaEventKind.STARTED, now)], policy.target, policy.calendar,
                                recurring=policy.recurring)
        clocks.append({"metric": metric, "started_at": now, "cycle_started_at": now, "due_at": times.due_at,
                       "escalate_at": first_escalation(times.due_at, policy)})
        events.append({"metric": metric, "kind": SlaEventKind.STARTED, "at": now,
                       "data": {"priority": priority.value}})
    return clocks, events


def clocks_of(case: Case) -> dict[SlaMetric, SlaClock]:
    return {clock.metric: clock for clock in db.session.scalars(select(SlaClock).where(SlaClock.case_id == case.id))}


def _logs(case: Case) -> dict[SlaMetric, Log]:
    db.session.flush()
    rows = db.session.execute(
        select(SlaEvent.metric, SlaEvent.kind, SlaEvent.at).where(SlaEvent.case_id == case.id).order_by(SlaEvent.id)
    )
    logs: dict[SlaMetric, Log] = defaultdict(list)
    for metric, kind, at in rows:
        logs[metric].append((kind, at))
    return logs


def _record(case: Case, metric: SlaMetric, kind: SlaEventKind, at: datetime, **data: Any) -> None:
    db.session.add(SlaEvent(case_id=case.id, metric=metric, kind=kind, at=at, data=data))


def _recompute(case: Case, clocks: Iterable[SlaClock]) -> None:
    logs = _logs(case)
    for clock in clocks:
        policy = sla_policies.policy_for(clock.metric, case.priority)
        times = sla.clock_times(logs[clock.metric], policy.target, policy.calendar, recurring=policy.recurring)
        clock.started_at, clock.cycle_started_at = times.started_at, times.cycle_started_at
        clock.paused_at, clock.fulfilled_at, clock.stopped_at = times.paused_at, times.fulfilled_at, times.stopped_at
        clock.due_at = times.due_at
        clock.escalate_at = first_escalation(times.due_at, policy)
    db.session.flush()
    case.next_due_at = db.session.scalar(select(func.min(SlaClock.due_at)).where(SlaClock.case_id == case.id))


def _finished(clock: SlaClock) -> bool:
    return clock.stopped_at is not None or (clock.fulfilled_at is not None and clock.metric
                                            not in sla_policies.RECURRING)


def start_clock(case: Case, metric: SlaMetric, *, at: datetime | None = None) -> SlaClock:
    """Start the case's clock for metric, or start it again if it was fulfilled or stopped; a running clock is left
    as it is."""
    at = at or utcnow()
    clock = clocks_of(case).get(metric)
    if clock is not None and not _finished(clock):
        return clock
    if clock is None:
        clock = SlaClock(case_id=case.id, metric=metric, started_at=at, cycle_started_at=at)
        db.session.add(clock)
        db.session.flush()
    _record(case, metric, SlaEventKind.STARTED, at, priority=case.priority.value)
    _recompute(case, [clock])
    return clock


def fulfil(case: Case, metric: SlaMetric, *, at: datetime | None = None) -> SlaClock | None:
    """The work the clock measures is done (a recurring clock starts its next cycle); a fulfilment after the deadline
    is a breach. Nothing happens for a clock that is not running (none, already fulfilled or stopped)."""
    at = at or utcnow()
    clock = clocks_of(case).get(metric)
    if clock is None or _finished(clock):
        return None
    late = clock.due_at is not None and at > clock.due_at
    _record(case, metric, SlaEventKind.FULFILLED, at, late=late)
    if late and clock.breached_at is None:
        clock.breached_at = at
    _recompute(case, [clock])
    return clock


def _change_all(case: Case, kind: SlaEventKind, at: datetime, *, only=lambda clock: True, **data: Any) -> int:
    clocks = [clock for clock in clocks_of(case).values() if not _finished(clock) and only(clock)]
    for clock in clocks:
        _record(case, clock.metric, kind, at, **data)
    if clocks:
        _recompute(case, clocks)
    return len(clocks)


def on_status_change(case: Case, before: CaseStatus, after: CaseStatus, *, at: datetime | None = None) -> None:
    """The one hook of a status change: triage done when the case leaves triage for the work, a pause while the
    case awaits the victim, resolution fulfilled and the other clocks stopped at closing, restarted at reopening."""
    at = at or utcnow()
    if before in TRIAGE_STATES and after not in TRIAGE_STATES | {CaseStatus.AWAITING_VICTIM, CaseStatus.CLOSED}:
        fulfil(case, SlaMetric.TRIAGE, at=at)
    if after is CaseStatus.CLOSED:
        fulfil(case, SlaMetric.RESOLUTION, at=at)
        _change_all(case, SlaEventKind.STOPPED, at)
        return
    if before is CaseStatus.CLOSED:
        for metric in (SlaMetric.VICTIM_UPDATE, SlaMetric.RESOLUTION):
            start_clock(case, metric, at=at)
    if after is CaseStatus.AWAITING_VICTIM:
        _change_all(case, SlaEventKind.PAUSED, at, only=lambda clock: clock.paused_at is None)
    elif before is CaseStatus.AWAITING_VICTIM:
        _change_all(case, SlaEventKind.RESUMED, at, only=lambda clock: clock.paused_at is not None)


def on_staff_message(case: Case, *, at: datetime | None = None) -> None:
    """Staff wrote to the victim: the first response is done and the victim-update interval starts again."""
    at = at or utcnow()
    fulfil(case, SlaMetric.FIRST_RESPONSE, at=at)
    fulfil(case, SlaMetric.VICTIM_UPDATE, at=at)


def on_priority_change(case: Case, *, at: datetime | None = None) -> None:
    """The case's priority changed: its running clocks take the new priority's policy, counted from their start."""
    _change_all(case, SlaEventKind.POLICY_APPLIED, at or utcnow(), priority=case.priority.value)


def import_policies(text: str) -> int:
    """Replace the policies with a YAML file's (sla_policies.read_policy_file raises PolicyError with a message)
    and recompute every running clock under them; returns how many clocks were recomputed."""
    sla_policies.store(sla_policies.read_policy_file(text))
    now = utcnow()
    running = db.session.scalars(select(SlaClock.case_id).where(SlaClock.stopped_at.is_(None)).distinct()).all()
    return sum(_change_all(db.session.get_one(Case, case_id), SlaEventKind.POLICY_APPLIED, now, imported=True)
               for case_id in running)


@dataclass(frozen=True)
class ClockLine:
    """A clock as the case page shows it: the metric, its state (running, overdue, paused, fulfilled, stopped) and
    the sentence saying how it stands, in the reader's language."""

    metric: str
    state: str
    text: str
    due_at: datetime | None
    breached: bool


def span(length: timedelta) -> str:
    """A length of time as the clocks show it, in the reader's language: 2 d 3 h, 4 h 5 min, 6 min."""
    minutes = max(int(length.total_seconds() // 60), 0)
    days, hours, minutes = minutes // (24 * 60), minutes // 60 % 24, minutes % 60
    if days:
        return _("%(days)d d %(hours)d h", days=days, hours=hours)
    if hours:
        return _("%(hours)d h %(minutes)d min", hours=hours, minutes=minutes)
    return _("%(minutes)d min", minutes=minutes)


def clock_lines(case: Case, now: datetime | None = None) -> list[ClockLine]:
    """The case's clocks for its page, in the order of the metrics."""
    now = now or utcnow()
    clocks = clocks_of(case)
    lines = []
    for metric in SlaMetric:
        clock = clocks.get(metric)
        if clock is None:
            continue
        if clock.stopped_at is not None:
            state, text = "stopped", _("stopped")
        elif clock.paused_at is not None:
            state, text = "paused", _("paused while the case awaits the victim")
        elif clock.due_at is None:
            state, text = "fulfilled", _("fulfilled")
        elif clock.due_at <= now:
            state, text = "overdue", _("overdue by %(time)s", time=span(now - clock.due_at))
        else:
            state, text = "running", _("due in %(time)s", time=span(clock.due_at - now))
        lines.append(ClockLine(metric.title, state, text, clock.due_at, clock.breached_at is not None))
    return lines
