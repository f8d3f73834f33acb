"""Who works a case: a handler takes an unassigned case, a supervisor assigns, reassigns (with a reason) or
unassigns one.

The handler is changed with a compare-and-set on the handler the caller saw (`expected_handler_id`, as
workflow.transition_case does on the status): of two takes at once, or a form submitted twice, one applies and the
other is refused with who holds the case now. Each change writes an ASSIGNED CaseEvent (before/after: display
names, reason). A handler assigned by someone else is e-mailed through the outbox in their language. Taking a
submitted case also moves it to triage (through workflow.transition_case) and, like any assignment, adds the
incident type's checklist (tasks.add_checklist) in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import update

from casework.extensions import db
from casework.models import Case, CaseEvent, CaseStatus, EventKind, User
from casework.services import links, mail, portal, tasks, workflow
from casework.services.access import Permission, can, require
from casework.services.workflow import WorkflowError

REASON_MAX_CHARS = 500
# The "assign to" form's value for nobody (unassign).
NOBODY = "none"


@dataclass(frozen=True)
class AssignmentSection:
    """The assignment forms on the case page, as plain values."""

    handler: str | None
    expected_handler_id: str
    can_take: bool
    can_assign: bool
    # (user id, display name) of the active handlers and supervisors, for the "assign to" select.
    choices: list[tuple[str, str]]


def assignment_section(user: User, case: Case) -> AssignmentSection:
    """What the case page's assignment forms offer user on case."""
    can_assign = can(user, Permission.ASSIGN_CASES) and case.status is not CaseStatus.CLOSED
    return AssignmentSection(
        handler=case.assigned_handler.display_name if case.assigned_handler else None,
        expected_handler_id=str(case.assigned_handler_id or ""),
        can_take=(can(user, Permission.WORK_CASES) and case.assigned_handler_id is None
                  and case.status is not CaseStatus.CLOSED),
        can_assign=can_assign,
        choices=[(str(h.id), h.display_name) for h in tasks.assignable_staff()] if can_assign else [],
    )


def handler_for(user: User, value: str | int | None) -> User | None:
    """The staff member an "assign to" form names (NOBODY: None), for a user who may assign; WorkflowError for an
    unknown one."""
    require(user, Permission.ASSIGN_CASES)
    if value == NOBODY:
        return None
    handler_id = tasks.parse_user_id(value)
    handler = db.session.get(User, handler_id) if handler_id is not None else None
    if handler is None:
        raise WorkflowError(_("Choose a handler from the list."))
    return handler


def take_case(user: User, case: Case, *, expected_handler_id: str | int | None) -> CaseEvent:
    """user (a handler or supervisor) takes an unassigned case; a submitted case moves to triage and the checklist
    is added. WorkflowError when someone holds it already or it changed since the caller's page (expected_handler_id:
    the holder it showed, as an id or as the form sent it). The caller commits."""
    require(user, Permission.WORK_CASES)
    expected_handler_id = tasks.parse_user_id(expected_handler_id)
    _refuse_closed(case)
    if case.assigned_handler_id is not None or expected_handler_id is not None:
        raise _held(case, user)
    event = _set_handler(case, user, user, expected=None, reason="")
    if case.status is CaseStatus.SUBMITTED:
        # The reason is stored as written, in the taker's language, like a reason a handler types.
        workflow.transition_case(case, CaseStatus.TRIAGE, actor=user, expected=CaseStatus.SUBMITTED,
                                 reason=_("Taken by %(name)s", name=user.display_name))
    tasks.add_checklist(user, case)
    return event


def assign_case(user: User, case: Case, handler: User | None, *, reason: str,
                expected_handler_id: str | int | None) -> CaseEvent:
    """A supervisor assigns case to handler (None: unassigns it). Reassigning or unassigning needs a reason. The
    handler is e-mailed unless they assigned themselves. The caller commits."""
    require(user, Permission.ASSIGN_CASES)
    expected_handler_id = tasks.parse_user_id(expected_handler_id)
    _refuse_closed(case)
    reason = portal.checked_text(reason or "", REASON_MAX_CHARS, required=False)
    if handler is not None and not (handler.active and handler.role in tasks.ASSIGNABLE_ROLES):
        raise WorkflowError(_("Choose an active handler or supervisor."))
    if case.assigned_handler_id != expected_handler_id:
        raise _stale(case)
    if handler is not None and handler.id == case.assigned_handler_id:
        raise WorkflowError(_("The case is already assigned to %(name)s.", name=handler.display_name))
    if handler is None and case.assigned_handler_id is None:
        raise WorkflowError(_("The case is not assigned to anyone."))
    if case.assigned_handler_id is not None and not reason:
        raise WorkflowError(_("Give a reason for the reassignment."))
    event = _set_handler(case, user, handler, expected=expected_handler_id, reason=reason)
    if handler is not None:
        tasks.add_checklist(user, case)
        if handler.id != user.id:
            _tell_handler(case, handler, user, reason)
    return event


def _refuse_closed(case: Case) -> None:
    if case.status is CaseStatus.CLOSED:
        raise WorkflowError(_("This case is closed: reopen it before assigning it."))


def _set_handler(case: Case, actor: User, handler: User | None, *, expected: int | None, reason: str) -> CaseEvent:
    before = case.assigned_handler.display_name if case.assigned_handler else None
    seen = Case.assigned_handler_id.is_(None) if expected is None else Case.assigned_handler_id == expected
    # Compare-and-set: a change made since the case was read (another take, a second click) matches no row.
    changed = db.session.execute(
        update(Case).where(Case.id == case.id, seen)
        .values(assigned_handler_id=handler.id if handler else None)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if changed != 1:
        db.session.refresh(case)
        raise _held(case, actor) if expected is None else _stale(case)
    db.session.refresh(case, ["assigned_handler"])
    return CaseEvent.record(case, actor, EventKind.ASSIGNED, summary=reason, before=before,
                            after=handler.display_name if handler else None, reason=reason)


def _held(case: Case, user: User) -> WorkflowError:
    if case.assigned_handler_id == user.id:
        return WorkflowError(_("You already hold this case."))
    if case.assigned_handler is None:
        return _stale(case)
    return WorkflowError(_("%(name)s already holds this case. Nothing was changed; ask a supervisor to reassign "
                           "it if you should work on it.", name=case.assigned_handler.display_name))


def _stale(case: Case) -> WorkflowError:
    holder = case.assigned_handler.display_name if case.assigned_handler else _("nobody")
    return WorkflowError(_("Someone else changed this case's handler after you opened it: it is now held by "
                           "%(name)s. Nothing was changed; look at the case again before you choose.", name=holder))


def _tell_handler(case: Case, handler: User, by: User, reason: str) -> None:
    with force_locale(handler.preferred_language or "en"):
        subject = _("Case %(reference)s is assigned to you", reference=case.reference)
        body = _("%(name)s assigned case %(reference)s to you.", name=by.display_name, reference=case.reference)
        if reason:
            body += "\n\n" + _("Reason: %(reason)s", reason=reason)
        body += "\n\n" + links.public_url(workflow.STAFF_CASE_PATH + case.reference)
    mail.queue_email(handler.email, subject, body, case_id=case.id)
