"""A case's lifecycle: the one table of allowed status changes and `transition_case`, the one way a status changes.

Views, the portal, the CLI and jobs all call `transition_case`; it checks who may make the move, refuses an illegal
one with a message that names what is allowed instead, writes the status CaseEvent (before, after, the reason) and
tells the victim when the change is one they should know about (their portal timeline through the event, and an
e-mail through the outbox in their language).

"Awaiting victim" remembers where the case came from: the status event that moved it there holds it as `before`,
and the case goes back there, and nowhere else open, when the victim answers (`victim_answered`) or a handler
resumes it. Closing needs a Resolution and a short summary for the victim, and an explicit confirmation while
referrals are still open. Reopening a closed case is a supervisor's action.

The status is changed with a compare-and-set on the status the caller saw, so of two changes made at once (or a
form submitted twice) one applies and the other is refused with "someone else changed this case".
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from casework.extensions import db
from casework.models import Case, CaseEvent, CaseStatus, EventKind, ReferralStatus, Resolution, Task, User
from casework.services import links, mail, sla_clocks
from casework.services.access import AccessDenied, Permission, can, require
from casework.services.victim_report import CLOSED_EXPLANATIONS, VICTIM_STATUS
from forms.secrets import find_secret, secret_warning

S = CaseStatus
OPEN_STATES = frozenset({S.SUBMITTED, S.TRIAGE, S.INVESTIGATING, S.ESCALATED, S.RECOVERY})

# Every allowed move. From AWAITING_VICTIM the open states listed are where a case may return to; a given case
# returns only to the state it came from (see next_states).
ALLOWED_TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    S.SUBMITTED: frozenset({S.TRIAGE, S.AWAITING_VICTIM}),
    S.TRIAGE: frozenset({S.INVESTIGATING, S.AWAITING_VICTIM, S.CLOSED}),
    S.INVESTIGATING: frozenset({S.ESCALATED, S.RECOVERY, S.AWAITING_VICTIM, S.CLOSED}),
    S.ESCALATED: frozenset({S.INVESTIGATING, S.RECOVERY, S.AWAITING_VICTIM, S.CLOSED}),
    S.RECOVERY: frozenset({S.INVESTIGATING, S.AWAITING_VICTIM, S.CLOSED}),
    S.AWAITING_VICTIM: OPEN_STATES | {S.CLOSED},
    S.CLOSED: frozenset({S.TRIAGE, S.INVESTIGATING}),
}
# The moves the victim is e-mailed about (every status change reaches their portal timeline).
TELL_VICTIM_BY_EMAIL = frozenset({S.INVESTIGATING, S.RECOVERY, S.AWAITING_VICTIM, S.CLOSED})
OPEN_REFERRALS = frozenset({ReferralStatus.PROPOSED, ReferralStatus.DRAFTED, ReferralStatus.SENT,
                            ReferralStatus.ACKNOWLEDGED, ReferralStatus.FROZEN})
REASON_MAX_CHARS = 2_000
VICTIM_SUMMARY_MAX_CHARS = 2_000
STAFF_CASE_PATH = "/staff/cases/"
_ORDER = list(CaseStatus)


class WorkflowError(ValueError):
    """A status change that cannot be made; the message is translated and says what to do instead."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StaleChange(WorkflowError):
    """The case (or referral) changed after the caller read it: nothing was changed (the API answers 409)."""


@dataclass(frozen=True)
class StatusOptions:
    """What the status form on the case page offers this user for this case, as plain values."""

    current: str
    choices: list[tuple[str, str]]
    resolutions: list[tuple[str, str]]
    open_referrals: int
    open_tasks: int = 0


def _titles(states) -> str:
    return _(", ").join(state.title for state in sorted(states, key=_ORDER.index))


def returns_to(case: Case) -> CaseStatus | None:
    """Where a case waiting for the victim goes back to: the status it had before the move to AWAITING_VICTIM
    (TRIAGE if no status event says so, for a case put there outside this module). None if it is not waiting."""
    if case.status is not S.AWAITING_VICTIM:
        return None
    latest = db.session.scalar(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == EventKind.STATUS)
        .order_by(CaseEvent.id.desc()).limit(1)
    )
    data = latest.data if latest is not None else {}
    try:
        before = CaseStatus(data.get("before")) if data.get("after") == S.AWAITING_VICTIM.value else None
    except ValueError:
        before = None
    return before if before in OPEN_STATES else S.TRIAGE


def next_states(case: Case, actor: User | None) -> list[CaseStatus]:
    """The statuses this case may move to now, by this actor (None: the application itself), in lifecycle order."""
    allowed = set(ALLOWED_TRANSITIONS[case.status])
    if case.status is S.AWAITING_VICTIM:
        allowed = (allowed - OPEN_STATES) | {returns_to(case)}
    if case.status is S.CLOSED and not can(actor, Permission.REOPEN_CASES):
        allowed = set()
    return sorted(allowed, key=_ORDER.index)


def open_referrals(case: Case) -> int:
    """How many of the case's referrals are still under way (proposed, drafted, sent, acknowledged, frozen)."""
    return sum(1 for referral in case.referrals if referral.status in OPEN_REFERRALS)


def open_tasks(case: Case) -> int:
    """How many of the case's tasks are not done."""
    return db.session.scalar(select(func.count()).select_from(Task)
                             .where(Task.case_id == case.id, Task.done_at.is_(None))) or 0


def status_options(user: User, case: Case) -> StatusOptions:
    """The status form's choices for user on case (none for a role that cannot change it)."""
    choices = next_states(case, user) if can(user, Permission.WORK_CASES) else []
    return StatusOptions(
        current=case.status.value,
        choices=[(state.value, state.title) for state in choices],
        resolutions=Resolution.choices(),
        open_referrals=open_referrals(case),
        open_tasks=open_tasks(case),
    )


def _refuse_illegal(case: Case, to: CaseStatus, actor: User | None) -> None:
    if to in next_states(case, actor):
        return
    if case.status is S.CLOSED and to in ALLOWED_TRANSITIONS[S.CLOSED]:
        raise AccessDenied(_("Only a supervisor can reopen a closed case."))
    allowed = next_states(case, actor)
    if not allowed:
        raise WorkflowError(_("A case in status “%(src)s” cannot change status.", src=case.status.title))
    raise WorkflowError(_("A case in status “%(src)s” can become: %(allowed)s.", src=case.status.title,
                          allowed=_titles(allowed)))


def _checked_text(text: str | None, max_chars: int, missing: str) -> str:
    text = (text or "").strip()
    finding = find_secret(text)
    if finding is not None:
        raise WorkflowError(secret_warning(finding.kind))
    if not text:
        raise WorkflowError(missing)
    if len(text) > max_chars:
        raise WorkflowError(ngettext("Keep it under %(num)d character.", "Keep it under %(num)d characters.",
                                     max_chars))
    return text


def transition_case(
    case: Case,
    to: CaseStatus | str,
    *,
    actor: User | None,
    reason: str,
    resolution: Resolution | str | None = None,
    victim_summary: str | None = None,
    expected: CaseStatus | str | None = None,
    confirm_open_referrals: bool = False,
    confirm_open_tasks: bool = False,
    actor_label: str | None = None,
) -> CaseEvent:
    """Move case to `to`, or raise WorkflowError (AccessDenied for a role that may not) with a message to show.

    `actor` None is the application itself acting for the victim or a job (`actor_label` "victim" or "system");
    its reason may be empty. `expected` is the status the caller's form showed: if the case has moved on since, the
    change is refused. Closing while referrals or tasks are open needs confirm_open_referrals or confirm_open_tasks.
    The caller commits.
    """
    try:
        to = CaseStatus(to)
    except ValueError:
        raise WorkflowError(_("Choose a status from the list.")) from None
    if actor is not None:
        require(actor, Permission.WORK_CASES)
        reason = _checked_text(reason, REASON_MAX_CHARS, _("Give a reason for the change."))
    seen = _status_or_none(expected) if expected else case.status
    if seen is not case.status:
        raise _stale(case)
    _refuse_illegal(case, to, actor)
    closing = to is S.CLOSED
    if closing:
        resolution, victim_summary = _closing_details(case, resolution, victim_summary, confirm_open_referrals,
                                                         confirm_open_tasks)
    else:
        resolution, victim_summary = None, None
    # Compare-and-set: a change made since the case was read (another handler, a second click) matches no row.
    changed = db.session.execute(
        update(Case).where(Case.id == case.id, Case.status == seen)
        .values(status=to, resolution=resolution)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if changed != 1:
        db.session.refresh(case)
        raise _stale(case)
    sla_clocks.on_status_change(case, seen, to)  # clocks pause, resume, are fulfilled or stop here, nowhere else
    details = {"resolution": resolution, "victim_summary": victim_summary} if closing else {}
    event = CaseEvent.record(case, actor, EventKind.STATUS, summary=reason or "", before=seen, after=to,
                             actor_label=actor_label, reason=reason or "", **details)
    # The victim is not e-mailed about the change their own answer made.
    if actor_label != "victim" and (to in TELL_VICTIM_BY_EMAIL or seen is S.CLOSED):
        _tell_victim(case, reopened=seen is S.CLOSED)
    return event


def _status_or_none(value: CaseStatus | str) -> CaseStatus | None:
    try:
        return CaseStatus(value)
    except ValueError:
        return None


def _stale(case: Case) -> WorkflowError:
    return StaleChange(_("Someone else changed this case after you opened it: it is now %(status)s. Nothing was "
                           "changed; look at the case again before you choose.", status=case.status.title))


def _closing_details(case: Case, resolution, victim_summary, referrals_confirmed: bool,
                     tasks_confirmed: bool) -> tuple[Resolution, str]:
    if not resolution:
        raise WorkflowError(_("Choose a resolution before closing the case."))
    try:
        resolution = Resolution(resolution)
    except ValueError:
        raise WorkflowError(_("Choose a resolution from the list.")) from None
    victim_summary = _checked_text(victim_summary, VICTIM_SUMMARY_MAX_CHARS,
                                   _("Write a short summary for the victim before closing the case."))
    referrals = open_referrals(case) if not referrals_confirmed else 0
    tasks = open_tasks(case) if not tasks_confirmed else 0
    if referrals and tasks:
        raise WorkflowError(_("This case has %(referrals)s and %(tasks)s. Confirm that you want to close it anyway.",
                              referrals=ngettext("%(num)d open referral", "%(num)d open referrals", referrals),
                              tasks=ngettext("%(num)d open task", "%(num)d open tasks", tasks)))
    if referrals:
        raise WorkflowError(ngettext(
            "This case has %(num)d open referral. Confirm that you want to close it anyway.",
            "This case has %(num)d open referrals. Confirm that you want to close it anyway.", referrals))
    if tasks:
        raise WorkflowError(ngettext(
            "This case has %(num)d open task. Confirm that you want to close it anyway.",
            "This case has %(num)d open tasks. Confirm that you want to close it anyway.", tasks))
    return resolution, victim_summary


def _tell_victim(case: Case, *, reopened: bool) -> None:
    reporter = case.reporter
    if reporter is None or not reporter.email:
        return
    with force_locale(reporter.preferred_language or "en"):
        title, explanation = VICTIM_STATUS[case.status]
        if case.status is S.CLOSED:
            explanation = _("%(explanation)s Your case handler's summary is in your case portal.",
                            explanation=CLOSED_EXPLANATIONS.get(case.resolution, explanation))
        elif reopened:
            explanation = _("Your case has been reopened. %(explanation)s", explanation=explanation)
        subject = _("Your case %(reference)s: %(status)s", reference=case.reference, status=title)
        body = _(
            "The status of your case %(reference)s is now: %(status)s.\n\n%(explanation)s\n\n"
            "To read more, open the private link you received when you filed your report, or go to %(url)s and "
            "enter your case reference and access code.\n\n"
            "Casework will never ask for your recovery phrase, your private key or any fee.",
            reference=case.reference, status=title, explanation=explanation,
            url=links.public_url("/track"),
        )
    mail.queue_email(reporter.email, subject, body, case_id=case.id)


def victim_answered(case: Case) -> CaseEvent | None:
    """The victim wrote or added something: a case waiting for them goes back to where it was and its handler is
    e-mailed. Nothing happens for a case that was not waiting. The caller commits."""
    back = returns_to(case)
    if back is None:
        return None
    event = transition_case(case, back, actor=None, reason="", actor_label="victim")
    _tell_handler(case)
    return event


def _tell_handler(case: Case) -> None:
    handler = case.assigned_handler
    if handler is None or not handler.active:
        return
    with force_locale(handler.preferred_language or "en"):
        subject = _("Case %(reference)s: the victim answered", reference=case.reference)
        body = _(
            "The victim wrote to case %(reference)s or added information to it. The case was waiting for them and "
            "is back in %(status)s.\n\n%(url)s",
            reference=case.reference, status=case.status.title,
            url=links.public_url(STAFF_CASE_PATH + case.reference),
        )
    mail.queue_email(handler.email, subject, body, case_id=case.id)



def checked_reason(text: str | None, max_chars: int = REASON_MAX_CHARS) -> str:
    """A staff member's reason for a change, as every service that takes one checks it: no secret, not empty, not
    too long (WorkflowError with the message)."""
    return _checked_text(text, max_chars, _("Give a reason for the change."))
