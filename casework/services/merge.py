"""Merging a duplicate case into another: the duplicate is closed as a duplicate and points at the case that carries
on; nothing is deleted, and each victim keeps their own case, private link and portal.

`merge_case` checks the supervisor's permission and every refusal, closes the duplicate through
workflow.transition_case (a SUBMITTED duplicate is moved to TRIAGE first: the table closes a case from triage on),
with a summary for its victim in their language, and writes MERGED on the duplicate (its victim sees that sentence,
which names no other case) and DUPLICATE_MERGED on the target, in the caller's one transaction.

After the merge the duplicate's victim may still write in their portal: what they send stays on their own case (the
other victim never sees it) and the handler of the case it was merged into is e-mailed (`tell_target_handler`), with
a link to the duplicate's page.
"""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update

from casework.extensions import db
from casework.models import Case, CaseEvent, CaseStatus, EventKind, Resolution, User
from casework.services import links, mail
from casework.services.access import Permission, require
from casework.services.workflow import STAFF_CASE_PATH, WorkflowError, checked_reason, open_referrals, transition_case


def _victim_summary(case: Case) -> str:
    """What the duplicate's victim reads as the closing summary, in their language (naming no other case)."""
    language = case.reporter.preferred_language if case.reporter else "en"
    with force_locale(language or "en"):
        return _("Another report of the same theft reached us, so we joined your report to it: one team now works on "
                 "both. Nothing you sent us is lost. Your private link keeps working, and you can still write to us "
                 "and add information here.")


def _refuse(user: User, duplicate: Case, target: Case | None, expected_status: str | None) -> None:
    require(user, Permission.MERGE_CASES)
    if target is None:
        raise WorkflowError(_("Choose the case to merge this one into (its reference, such as CW-2026-000123)."))
    if expected_status is not None and expected_status != duplicate.status.value:
        raise WorkflowError(_("Someone else changed this case after you opened it: it is now %(status)s. Nothing was "
                              "changed; look at the case again before you choose.", status=duplicate.status.title))
    if target.id == duplicate.id:
        raise WorkflowError(_("A case cannot be merged into itself: choose the other case."))
    if duplicate.merged_into_id is not None:
        raise WorkflowError(_("%(reference)s was already merged into %(target)s.", reference=duplicate.reference,
                              target=duplicate.merged_into.reference))
    if target.merged_into_id is not None:
        raise WorkflowError(_("%(target)s was itself merged into %(other)s: merge into %(other)s instead.",
                              target=target.reference, other=target.merged_into.reference))
    if target.status is CaseStatus.CLOSED:
        raise WorkflowError(_("%(target)s is closed: merge into an open case, or have a supervisor reopen it first.",
                              target=target.reference))
    if duplicate.status is CaseStatus.CLOSED:
        raise WorkflowError(_("%(reference)s is already closed: reopen it first if it should be merged.",
                              reference=duplicate.reference))
    if db.session.scalar(select(Case.id).where(Case.merged_into_id == duplicate.id).limit(1)) is not None:
        raise WorkflowError(_("Other cases were merged into %(reference)s: merge %(target)s into it instead.",
                              reference=duplicate.reference, target=target.reference))
    if open_referrals(duplicate):
        raise WorkflowError(_("%(reference)s has referrals under way: close or move them before merging it.",
                              reference=duplicate.reference))


def find_target(reference: str | None) -> Case | None:
    """The case a merge form names (its reference as typed), or None."""
    wanted = (reference or "").strip().upper()
    return db.session.scalar(select(Case).where(Case.reference == wanted)) if wanted else None


def merge_case(user: User, duplicate: Case, target: Case | None, *, reason: str,
               expected_status: str | None) -> CaseEvent:
    """Merge duplicate into target, or raise WorkflowError (AccessDenied for a role that may not) with the message
    to show. `expected_status` is the duplicate's status as the form showed it. Returns the MERGED event; the caller
    commits."""
    _refuse(user, duplicate, target, expected_status)
    reason = checked_reason(reason)
    # Compare-and-set: of two merges at once (or a form sent twice) one points the duplicate and the other is refused.
    pointed = db.session.execute(
        update(Case).where(Case.id == duplicate.id, Case.merged_into_id.is_(None))
        .values(merged_into_id=target.id)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if pointed != 1:
        db.session.refresh(duplicate)
        raise WorkflowError(_("Someone else changed this case after you opened it: it is now %(status)s. Nothing was "
                              "changed; look at the case again before you choose.", status=duplicate.status.title))
    if duplicate.status is CaseStatus.SUBMITTED:
        transition_case(duplicate, CaseStatus.TRIAGE, actor=user, reason=reason, expected=CaseStatus.SUBMITTED)
    transition_case(duplicate, CaseStatus.CLOSED, actor=user, reason=reason, resolution=Resolution.DUPLICATE,
                    victim_summary=_victim_summary(duplicate), expected=duplicate.status,
                    # The merge is the supervisor's word that the duplicate's open tasks go on in the target.
                    confirm_open_tasks=True)
    event = CaseEvent.record(duplicate, user, EventKind.MERGED, into=target.reference, reason=reason)
    CaseEvent.record(target, user, EventKind.DUPLICATE_MERGED, duplicate=duplicate.reference, reason=reason)
    return event


def tell_target_handler(case: Case) -> None:
    """The victim of a merged duplicate wrote or added something on their own case: e-mail the handler of the case
    it was merged into (else the duplicate's own handler). Nothing for a case that was not merged. The caller
    commits (the e-mail goes through the outbox)."""
    target = case.merged_into
    if target is None:
        return
    handler = target.assigned_handler or case.assigned_handler
    if handler is None or not handler.active:
        return
    with force_locale(handler.preferred_language or "en"):
        subject = _("Case %(reference)s (merged into %(target)s): the victim wrote", reference=case.reference,
                    target=target.reference)
        body = _(
            "The victim of case %(reference)s, which was merged into %(target)s, wrote to their case or added "
            "information to it. It stays on %(reference)s; read it there:\n\n%(url)s",
            reference=case.reference, target=target.reference,
            url=links.public_url(STAFF_CASE_PATH + case.reference),
        )
    mail.queue_email(handler.email, subject, body, case_id=case.id)
