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

A referral's deadlines are clocks too (`referral_id` names the referral; 0 is the case's own clocks): its
follow-up date and a courtesy hold's police-report date, fixed dates carried in the clock's log (STARTED and
MOVED entries, see `sla.clock_times`). The referrals service calls `on_referral_change` after every change of a
referral, which makes its clocks say what the referral says. They do not pause while the case awaits the victim
(the target's date does not wait); closing the case stops them, reopening it starts them again.
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
from casework.models import (
    Case,
    CaseStatus,
    Priority,
    Referral,
    ReferralStatus,
    SlaClock,
    SlaEvent,
    SlaEventKind,
    SlaMetric,
    utcnow,
)
from casework.services import sla, sla_policies
from casework.services.sla_policies import FIXED_DEADLINES, Policy

# The clocks every case starts with; FREEZE_SENT starts once a freezable endpoint is known.
AT_FILING = (SlaMetric.FIRST_RESPONSE, SlaMetric.TRIAGE, SlaMetric.EVIDENCE_CAPTURED, SlaMetric.VICTIM_UPDATE,
             SlaMetric.RESOLUTION)
TRIAGE_STATES = frozenset({CaseStatus.SUBMITTED, CaseStatus.TRIAGE})
# The referral_id of a case's own clocks.
CASE_CLOCK = 0
R = ReferralStatus
# A referral's follow-up date counts while it waits on its target, or was declined (the handler follows up or sends
# again); a courtesy hold's police-report date while it waits on its target (the case page shows them so).
FOLLOW_UP_RUNS = frozenset({R.SENT, R.ACKNOWLEDGED, R.FROZEN, R.DECLINED})
HOLD_RUNS = frozenset({R.SENT, R.ACKNOWLEDGED, R.FROZEN})
ClockKey = tuple[SlaMetric, int]  # (metric, referral_id)
Log = list[sla.LogEntry]
# Only these entries carry a fixed deadline in data["due_at"] (a warning's or breach's data names the deadline it
# told, not a new one).
SETS_DEADLINE = frozenset({SlaEventKind.STARTED, SlaEventKind.MOVED})


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


def all_clocks(case: Case) -> list[SlaClock]:
    """Every clock of the case, its own and its referrals', oldest first."""
    return list(db.session.scalars(select(SlaClock).where(SlaClock.case_id == case.id).order_by(SlaClock.id)))


def clocks_of(case: Case) -> dict[SlaMetric, SlaClock]:
    """The case's own clocks (not its referrals'), by metric."""
    return {clock.metric: clock for clock in all_clocks(case) if clock.referral_id == CASE_CLOCK}


def referral_clocks(referral: Referral) -> dict[SlaMetric, SlaClock]:
    """A referral's clocks, by metric."""
    return {clock.metric: clock for clock in db.session.scalars(select(SlaClock).where(
        SlaClock.case_id == referral.case_id, SlaClock.referral_id == referral.id))}


def _logs(case: Case) -> dict[ClockKey, Log]:
    db.session.flush()
    rows = db.session.execute(
        select(SlaEvent.metric, SlaEvent.referral_id, SlaEvent.kind, SlaEvent.at, SlaEvent.data)
        .where(SlaEvent.case_id == case.id).order_by(SlaEvent.id)
    )
    logs: dict[ClockKey, Log] = defaultdict(list)
    for metric, referral_id, kind, at, data in rows:
        given = (data or {}).get("due_at") if kind in SETS_DEADLINE else None
        logs[(metric, referral_id)].append((kind, at, datetime.fromisoformat(given) if given else None))
    return logs


def _record(case: Case, clock: SlaClock | SlaMetric, kind: SlaEventKind, at: datetime, **data: Any) -> None:
    """Append to a clock's log (a metric names the case's own clock)."""
    metric, referral_id = (clock, CASE_CLOCK) if isinstance(clock, SlaMetric) else (clock.metric, clock.referral_id)
    db.session.add(SlaEvent(case_id=case.id, metric=metric, referral_id=referral_id, kind=kind, at=at, data=data))


def _recompute(case: Case, clocks: Iterable[SlaClock]) -> None:
    logs = _logs(case)
    for clock in clocks:
        policy = sla_policies.policy_for(clock.metric, case.priority)
        times = sla.clock_times(logs[(clock.metric, clock.referral_id)], policy.target, policy.calendar,
                                recurring=policy.recurring)
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
    clock = clocks_of(case).get(metric)
    return _fulfil_clock(case, clock, at or utcnow())


def _fulfil_clock(case: Case, clock: SlaClock | None, at: datetime) -> SlaClock | None:
    if clock is None or _finished(clock):
        return None
    late = _late(clock, at)
    _record(case, clock, SlaEventKind.FULFILLED, at, late=late)
    _recompute(case, [clock])
    return clock


def _late(clock: SlaClock, at: datetime) -> bool:
    """Whether the clock's deadline passed before `at`; a late change is a breach (recorded once, at `at`)."""
    late = clock.due_at is not None and at > clock.due_at
    if late and clock.breached_at is None:
        clock.breached_at = at
    return late


def _change_all(case: Case, kind: SlaEventKind, at: datetime, *, only=lambda clock: True, **data: Any) -> int:
    clocks = [clock for clock in all_clocks(case) if not _finished(clock) and only(clock)]
    for clock in clocks:
        _record(case, clock, kind, at, **data)
    if clocks:
        _recompute(case, clocks)
    return len(clocks)


def on_status_change(case: Case, before: CaseStatus, after: CaseStatus, *, at: datetime | None = None) -> None:
    """The one hook of a status change: triage done when the case leaves triage for the work, a pause while the
    case awaits the victim (not the referrals' dates: a third party's date does not wait), resolution fulfilled and
    the other clocks stopped at closing, restarted at reopening (the referrals' clocks as their referrals say)."""
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
        for referral in db.session.scalars(select(Referral).where(Referral.case_id == case.id)
                                           .order_by(Referral.id)):
            on_referral_change(referral, at=at)
    if after is CaseStatus.AWAITING_VICTIM:
        _change_all(case, SlaEventKind.PAUSED, at,
                    only=lambda clock: clock.paused_at is None and clock.metric not in FIXED_DEADLINES)
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


def on_referral_change(referral: Referral, *, at: datetime | None = None) -> None:
    """Make the referral's clocks say what the referral now says (the referrals service calls this after every
    change). The follow-up clock runs to `follow_up_due_at` while the referral waits on its target or was declined,
    and moves when that date changes; it is fulfilled when the funds came back (returned) or no next follow-up is
    planned, stopped when the referral is closed. The police-report clock runs to `police_report_due_at` while the
    referral waits on its target; it is fulfilled when the police report reached the target
    (`police_report_sent_at`), stopped when the referral is declined, returned or closed. Nothing starts or moves
    on a closed case: closing stopped its clocks, and reopening calls this again."""
    at = at or utcnow()
    case = referral.case
    clocks = referral_clocks(referral)
    status = referral.status
    if status in FOLLOW_UP_RUNS and referral.follow_up_due_at is not None:
        _run_to(case, referral, SlaMetric.REFERRAL_FOLLOW_UP, referral.follow_up_due_at, at)
    elif status in FOLLOW_UP_RUNS or status is R.RETURNED:
        _fulfil_clock(case, clocks.get(SlaMetric.REFERRAL_FOLLOW_UP), at)
    elif status is R.CLOSED:
        _stop(case, clocks.get(SlaMetric.REFERRAL_FOLLOW_UP), at)
    if referral.police_report_sent_at is not None:
        _fulfil_clock(case, clocks.get(SlaMetric.POLICE_REPORT_DUE), referral.police_report_sent_at)
    elif status in HOLD_RUNS and referral.police_report_due_at is not None:
        _run_to(case, referral, SlaMetric.POLICE_REPORT_DUE, referral.police_report_due_at, at)
    elif status in (R.DECLINED, R.RETURNED, R.CLOSED):
        _stop(case, clocks.get(SlaMetric.POLICE_REPORT_DUE), at)


def _run_to(case: Case, referral: Referral, metric: SlaMetric, due_at: datetime, at: datetime) -> None:
    """The referral's clock for metric runs to `due_at`: started (again, if it had ended) or moved there. A move
    leaves the earlier deadline's breach and escalations as they are; the new deadline escalates on its own."""
    if case.status is CaseStatus.CLOSED:
        return
    clock = referral_clocks(referral).get(metric)
    new = clock is None
    if clock is None:
        clock = SlaClock(case_id=case.id, metric=metric, referral_id=referral.id, started_at=at, cycle_started_at=at)
        db.session.add(clock)
        db.session.flush()
    if new or _finished(clock):
        _record(case, clock, SlaEventKind.STARTED, at, priority=case.priority.value, due_at=due_at.isoformat())
    elif clock.due_at != due_at:
        before = clock.due_at.isoformat() if clock.due_at else None
        _record(case, clock, SlaEventKind.MOVED, at, due_at=due_at.isoformat(), before=before,
                late=_late(clock, at))
    else:
        return
    _recompute(case, [clock])


def _stop(case: Case, clock: SlaClock | None, at: datetime) -> None:
    if clock is not None and not _finished(clock):
        _record(case, clock, SlaEventKind.STOPPED, at)
        _recompute(case, [clock])


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
    # The referral's target, for a referral's clock (its follow-up, a courtesy hold's police report).
    target: str | None = None


def span(length: timedelta) -> str:
    """A length of time as the clocks show it, in the reader's language: 2 d 3 h, 4 h 5 min, 6 min."""
    minutes = max(int(length.total_seconds() // 60), 0)
    days, hours, minutes = minutes // (24 * 60), minutes // 60 % 24, minutes % 60
    if days:
        return _("%(days)d d %(hours)d h", days=days, hours=hours)
    if hours:
        return _("%(hours)d h %(minutes)d min", hours=hours, minutes=minutes)
    return _("%(minutes)d min", minutes=minutes)


def clock_state(clock: SlaClock, now: datetime) -> tuple[str, str]:
    """How a clock stands at `now`: its state (running, overdue, paused, fulfilled, stopped) and the sentence saying
    so, in the reader's language."""
    if clock.stopped_at is not None:
        return "stopped", _("stopped")
    if clock.paused_at is not None:
        return "paused", _("paused while the case awaits the victim")
    if clock.due_at is None:
        return "fulfilled", _("fulfilled")
    if clock.due_at <= now:
        return "overdue", _("overdue by %(time)s", time=span(now - clock.due_at))
    return "running", _("due in %(time)s", time=span(clock.due_at - now))


def clock_lines(case: Case, now: datetime | None = None) -> list[ClockLine]:
    """The case's clocks for its page, in the order of the metrics (a referral's after the case's own, by
    referral), each referral's clock named with its target."""
    now = now or utcnow()
    order = list(SlaMetric)
    clocks = sorted(all_clocks(case), key=lambda clock: (clock.referral_id, order.index(clock.metric)))
    targets = dict(db.session.execute(select(Referral.id, Referral.target_name).where(Referral.case_id == case.id)
                                      .where(Referral.id.in_({clock.referral_id for clock in clocks}))).all())
    lines = []
    for clock in clocks:
        state, text = clock_state(clock, now)
        lines.append(ClockLine(clock.metric.title, state, text, clock.due_at, clock.breached_at is not None,
                               targets.get(clock.referral_id)))
    return lines
