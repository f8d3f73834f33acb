"""A case's priority after filing: recomputed by the intake's rule when the facts change, set by a supervisor by hand
(an override, which recomputing keeps), and handed back to the rule.

The rule is `filing.priority_from_facts`, fed here with the stored case's facts. The theft's age is measured at the
case's submission, as the intake measured it: a new loss or a new exchange address changes the priority, the mere
passing of days does not (the SLA clocks are what make an old case urgent).

Every change writes a PRIORITY event (before, after, reason, override). A supervisor's form carries the state it
was loaded with (`priority_state`): a change made since, or the same form sent twice, is refused and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select, update

from casework.extensions import db
from casework.models import Case, CaseAddress, CaseEvent, EventKind, Priority, ReportedLoss, ReportExtras, User
from casework.services import sla_clocks
from casework.services.access import Permission, can, require
from casework.services.filing import FREEZABLE_ROLES, priority_from_facts, usd_estimate
from casework.services.workflow import REASON_MAX_CHARS, WorkflowError, checked_reason

OVERRIDDEN = "override"


@dataclass(frozen=True)
class PriorityOptions:
    """The priority form of the case page (supervisors only), as plain values."""

    current: str
    current_title: str
    overridden: bool
    state: str
    choices: list[tuple[str, str]]


def priority_state(case: Case) -> str:
    """What a priority form was loaded with: the priority and whether it was set by hand ("high", "high+override")."""
    return case.priority.value + (f"+{OVERRIDDEN}" if case.priority_overridden else "")


def computed_priority(case: Case) -> Priority:
    """The intake's rule on the case's stored facts (incident time, losses, exchanges), as of its submission."""
    losses = db.session.scalars(select(ReportedLoss).where(ReportedLoss.case_id == case.id))
    usd = sum((usd_estimate(loss) or Decimal(0) for loss in losses), Decimal(0))
    exchanges = db.session.scalar(select(ReportExtras.exchanges).where(ReportExtras.case_id == case.id))
    freezable = bool(exchanges) or db.session.scalar(
        select(CaseAddress.id).where(CaseAddress.case_id == case.id, CaseAddress.role.in_(FREEZABLE_ROLES)).limit(1)
    ) is not None
    return priority_from_facts(happened_at=case.incident_at or case.discovered_at, usd_loss=usd,
                               freezable=freezable, now=case.submitted_at)


def _set(case: Case, *, seen: tuple[Priority, bool], to: Priority, overridden: bool) -> bool:
    """Compare-and-set: True when the case still had `seen` (priority, overridden) and now has the new values."""
    changed = db.session.execute(
        update(Case).where(Case.id == case.id, Case.priority == seen[0], Case.priority_overridden == seen[1])
        .values(priority=to, priority_overridden=overridden)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if changed == 1:
        sla_clocks.on_priority_change(case)
    return changed == 1


def recompute_priority(case: Case, *, actor: User | None = None, reason: str = "") -> CaseEvent | None:
    """The facts of case changed: apply the rule and write a PRIORITY event if the priority changes. Nothing happens
    while a supervisor's override stands, nor on a merged duplicate (its target carries the case on). The caller
    commits."""
    db.session.flush()
    if case.priority_overridden or case.merged_into_id is not None:
        return None
    before = case.priority
    after = computed_priority(case)
    if after is before or not _set(case, seen=(before, False), to=after, overridden=False):
        return None
    return CaseEvent.record(case, actor, EventKind.PRIORITY, before=before, after=after, reason=reason,
                            override=False)


def _stale(case: Case) -> WorkflowError:
    return WorkflowError(_("Someone else changed the priority after you opened the case: it is now %(priority)s. "
                           "Nothing was changed; look at the case again before you choose.",
                           priority=case.priority.title))


def _checked(user: User, case: Case, reason: str, expected: str) -> str:
    require(user, Permission.OVERRIDE_PRIORITY)
    if case.merged_into_id is not None:
        raise WorkflowError(_("This case was merged into another one: change the priority there."))
    reason = checked_reason(reason, REASON_MAX_CHARS)
    if expected != priority_state(case):
        raise _stale(case)
    return reason


def override_priority(user: User, case: Case, priority: Priority | str, *, reason: str, expected: str) -> CaseEvent:
    """A supervisor sets the priority by hand, with a reason; recomputing keeps it until `clear_override`.
    `expected` is `priority_state` as the form showed it. The caller commits."""
    try:
        to = Priority(priority)
    except ValueError:
        raise WorkflowError(_("Choose a priority from the list.")) from None
    reason = _checked(user, case, reason, expected)
    before = case.priority
    if case.priority_overridden and to is before:
        raise WorkflowError(_("The priority is already set to %(priority)s.", priority=to.title))
    if not _set(case, seen=(before, case.priority_overridden), to=to, overridden=True):
        db.session.refresh(case)
        raise _stale(case)
    return CaseEvent.record(case, user, EventKind.PRIORITY, before=before, after=to, reason=reason, override=True)


def clear_override(user: User, case: Case, *, reason: str, expected: str) -> CaseEvent:
    """Hand the priority back to the rule: the override is removed and the priority recomputed from the facts
    (a PRIORITY event, override False, even when the priority stays). The caller commits."""
    reason = _checked(user, case, reason, expected)
    if not case.priority_overridden:
        raise WorkflowError(_("The priority already follows the facts of the case."))
    before = case.priority
    after = computed_priority(case)
    if not _set(case, seen=(before, True), to=after, overridden=False):
        db.session.refresh(case)
        raise _stale(case)
    return CaseEvent.record(case, user, EventKind.PRIORITY, before=before, after=after, reason=reason, override=False)


def priority_options(user: User, case: Case) -> PriorityOptions | None:
    """The priority form for user on case; None for a role that may not override (or a merged duplicate)."""
    if not can(user, Permission.OVERRIDE_PRIORITY) or case.merged_into_id is not None:
        return None
    return PriorityOptions(
        current=case.priority.value, current_title=case.priority.title, overridden=case.priority_overridden,
        state=priority_state(case), choices=Priority.choices(),
    )
