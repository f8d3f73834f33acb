"""A referral's status: the one table of allowed moves and `update_referral`, the one way it changes.

A referral follows a request to a third party: proposed (by the trace) -> drafted -> sent -> acknowledged by the
target -> funds frozen or declined -> closed. An exchange's compliance desk (through the API) or a handler records
each answer. Every change needs Permission.WORK_CASES, writes a REFERRAL CaseEvent (target, before, after, note),
and is a compare-and-set on the status the caller saw: of two changes made at once one applies and the other is
refused as stale.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select, update
from werkzeug.exceptions import NotFound

from casework.extensions import db
from casework.models import CaseEvent, EventKind, Referral, ReferralStatus, User, utcnow
from casework.services.access import Permission, require
from casework.services.workflow import StaleChange, WorkflowError
from forms.secrets import find_secret, secret_warning

R = ReferralStatus
ALLOWED_MOVES: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    R.PROPOSED: frozenset({R.DRAFTED, R.SENT, R.CLOSED}),
    R.DRAFTED: frozenset({R.SENT, R.CLOSED}),
    R.SENT: frozenset({R.ACKNOWLEDGED, R.FROZEN, R.DECLINED, R.CLOSED}),
    R.ACKNOWLEDGED: frozenset({R.FROZEN, R.DECLINED, R.CLOSED}),
    R.FROZEN: frozenset({R.CLOSED}),
    R.DECLINED: frozenset({R.SENT, R.CLOSED}),
    R.RETURNED: frozenset({R.CLOSED}),
    R.CLOSED: frozenset(),
}
NOTE_MAX_CHARS = 2_000
_ORDER = list(ReferralStatus)


def next_statuses(referral: Referral) -> list[ReferralStatus]:
    """Where this referral may move now, in the order of the lifecycle."""
    return sorted(ALLOWED_MOVES[referral.status], key=_ORDER.index)


def get_referral_for(user: User, referral_id: int) -> Referral:
    """The referral with this id if user may see cases; 404 when there is none."""
    require(user, Permission.VIEW_CASES)
    referral = db.session.get(Referral, referral_id) if 0 < referral_id < 2**31 else None
    if referral is None:
        raise NotFound(_("There is no referral %(id)s.", id=referral_id))
    return referral


def referrals_of(user: User, case) -> list[Referral]:
    """A case's referrals, oldest first, for a user who may see cases."""
    require(user, Permission.VIEW_CASES)
    return list(db.session.scalars(select(Referral).where(Referral.case_id == case.id).order_by(Referral.id)))


def _checked_note(note: str | None) -> str:
    note = (note or "").strip()
    finding = find_secret(note)
    if finding is not None:
        raise WorkflowError(secret_warning(finding.kind))
    if len(note) > NOTE_MAX_CHARS:
        raise WorkflowError(ngettext("Keep it under %(num)d character.", "Keep it under %(num)d characters.",
                                     NOTE_MAX_CHARS))
    return note


def update_referral(user: User, referral: Referral, status: ReferralStatus | str, *, note: str | None = None,
                    expected: ReferralStatus | str | None = None) -> CaseEvent:
    """Move referral to `status`, or raise WorkflowError (StaleChange when it changed since `expected`, the status
    the caller saw; AccessDenied for a role that may not). The caller commits."""
    require(user, Permission.WORK_CASES)
    try:
        status = ReferralStatus(status)
    except ValueError:
        raise WorkflowError(_("Choose a referral status from the list.")) from None
    note = _checked_note(note)
    seen = referral.status
    if expected:
        try:
            seen = ReferralStatus(expected)
        except ValueError:
            raise WorkflowError(_("Choose a referral status from the list.")) from None
        if seen is not referral.status:
            raise _stale(referral)
    if status not in ALLOWED_MOVES[seen]:
        allowed = next_statuses(referral)
        if not allowed:
            raise WorkflowError(_("A referral in status “%(src)s” cannot change status.", src=seen.title))
        raise WorkflowError(_("A referral in status “%(src)s” can become: %(allowed)s.", src=seen.title,
                              allowed=_(", ").join(state.title for state in allowed)))
    values: dict = {"status": status}
    if status is R.SENT:
        values["sent_at"] = utcnow()
    changed = db.session.execute(
        update(Referral).where(Referral.id == referral.id, Referral.status == seen).values(**values)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if changed != 1:
        db.session.refresh(referral)
        raise _stale(referral)
    return CaseEvent.record(referral.case, user, EventKind.REFERRAL, summary=note, target=referral.target_name,
                            before=seen, after=status, note=note)


def _stale(referral: Referral) -> StaleChange:
    return StaleChange(_("Someone else changed this referral after you read it: it is now %(status)s. Nothing was "
                         "changed.", status=referral.status.title))


def draft_proposed(case, *, actor: User | None = None) -> list[Referral]:
    """Draft every referral the trace only proposed, for the route the directory gives its target; returns the
    referrals drafted now. A target the directory marks as unable to act gets nothing drafted. actor None: the
    first-hour work (no person), otherwise a handler. The caller commits.

    Groundwork: the full drafting (the request's text, the courtesy hold's deadline, consent) is built in
    casework.services.referrals by the referrals work; callers depend only on this signature.
    """
    from casework.services import directory

    if actor is not None:
        require(actor, Permission.WORK_CASES)
    drafted = []
    for referral in db.session.scalars(select(Referral).where(Referral.case_id == case.id,
                                                              Referral.status == R.PROPOSED).order_by(Referral.id)):
        organisation = referral.organisation or directory.organisation_for_name(referral.target_name)
        if organisation is None or not directory.route_for(organisation).can_act:
            continue
        referral.organisation = organisation
        referral.status = R.DRAFTED
        CaseEvent.record(case, actor, EventKind.REFERRAL, target=referral.target_name, before=R.PROPOSED,
                         after=R.DRAFTED, note="")
        drafted.append(referral)
    return drafted
