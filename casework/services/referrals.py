"""Referrals: the one table of allowed moves and `update_referral`, the one way a status changes; drafting, sending,
follow-ups and referrals opened by hand.

A referral follows a request to a third party: proposed (by the trace, or opened by a handler) -> drafted (the
directory's route chose its kind and the request's text is written) -> sent -> acknowledged by the target -> funds
frozen or declined -> returned -> closed. An exchange's compliance desk (through the API) or a handler records each
answer. Every change needs Permission.WORK_CASES (the first-hour work drafts without a person: actor None), writes a
REFERRAL CaseEvent (target, before, after, note), and is a compare-and-set on the status the caller saw: of two
changes made at once one applies and the other is refused as stale.

The directory decides the route (casework.services.directory.route_for): a target it marks as unable to act is
never drafted for nor sent to; an exchange or issuer that takes only police requests gets the police package first
(a POLICE referral carrying the same target and amounts, while the freeze request waits for the police).
Amounts frozen and returned are in casework.services.recoveries.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select, update
from werkzeug.exceptions import NotFound

from casework.extensions import db
from casework.models import (
    CaseEvent,
    ChannelKind,
    EventKind,
    Organisation,
    OrganisationKind,
    RecoveryKind,
    Referral,
    ReferralKind,
    ReferralStatus,
    SlaMetric,
    User,
    utcnow,
)
from casework.services import directory, mail, referral_drafts, sla_clocks, victim_news
from casework.services.access import Permission, require
from casework.services.workflow import StaleChange, WorkflowError
from forms.secrets import find_secret, secret_warning

R = ReferralStatus
# Requests that ask a target to freeze funds: sending the first one meets the SLA clock for freeze requests.
FREEZE_KINDS = frozenset({ReferralKind.EXCHANGE_FREEZE, ReferralKind.STABLECOIN_ISSUER})
ALLOWED_MOVES: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    R.PROPOSED: frozenset({R.DRAFTED, R.SENT, R.CLOSED}),
    R.DRAFTED: frozenset({R.SENT, R.CLOSED}),
    R.SENT: frozenset({R.ACKNOWLEDGED, R.FROZEN, R.DECLINED, R.RETURNED, R.CLOSED}),
    R.ACKNOWLEDGED: frozenset({R.FROZEN, R.DECLINED, R.RETURNED, R.CLOSED}),
    R.FROZEN: frozenset({R.RETURNED, R.CLOSED}),
    R.DECLINED: frozenset({R.SENT, R.CLOSED}),
    R.RETURNED: frozenset({R.CLOSED}),
    R.CLOSED: frozenset(),
}
# Where a handler may (re)write the request's text, and from where it may be sent.
DRAFTABLE = frozenset({R.PROPOSED, R.DRAFTED})
SENDABLE = frozenset({R.DRAFTED, R.DECLINED})
# Referrals still waiting on someone: their due dates count.
AWAITING = frozenset({R.SENT, R.ACKNOWLEDGED, R.FROZEN})
# The statuses that are news for the victim (victim_news), with what happened to the funds.
FUNDS_NEWS = {R.FROZEN: RecoveryKind.FROZEN, R.RETURNED: RecoveryKind.RETURNED}
NOTE_MAX_CHARS = 2_000
SUBJECT_MAX_CHARS = 300
BODY_MAX_CHARS = 20_000
SENT_TO_MAX_CHARS = 500
MAX_FOLLOW_UP_DAYS = 365
# The follow-up of a referral whose target the directory does not know.
DEFAULT_FOLLOW_UP = timedelta(days=2)
_ORDER = list(ReferralStatus)
# The route a police package takes when the victim's country has no police entry in the directory.
POLICE_TARGET = "Police"


class CannotAct(WorkflowError):
    """The directory says this target cannot act on a request (or has no entry): nothing is drafted or sent."""


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


def referral_on(user: User, case, referral_id: int) -> Referral:
    """The referral with this id on this case, for a user who works cases; a WorkflowError when there is none."""
    require(user, Permission.WORK_CASES)
    referral = db.session.get(Referral, referral_id) if 0 < referral_id < 2**31 else None
    if referral is None or referral.case_id != case.id:
        raise WorkflowError(_("This case has no referral %(id)s: reload the page.", id=referral_id))
    return referral


def referrals_of(user: User, case) -> list[Referral]:
    """A case's referrals, oldest first, for a user who may see cases."""
    require(user, Permission.VIEW_CASES)
    return list(db.session.scalars(select(Referral).where(Referral.case_id == case.id).order_by(Referral.id)))


def checked_text(text: str | None, max_chars: int = NOTE_MAX_CHARS) -> str:
    """Free text a handler wrote, stripped; refused when it holds a recovery phrase or key, or is too long."""
    text = (text or "").strip()
    finding = find_secret(text)
    if finding is not None:
        raise WorkflowError(secret_warning(finding.kind))
    if len(text) > max_chars:
        raise WorkflowError(ngettext("Keep it under %(num)d character.", "Keep it under %(num)d characters.",
                                     max_chars))
    return text


def _status(value: ReferralStatus | str) -> ReferralStatus:
    try:
        return ReferralStatus(value)
    except ValueError:
        raise WorkflowError(_("Choose a referral status from the list.")) from None


def update_referral(user: User | None, referral: Referral, status: ReferralStatus | str, *, note: str | None = None,
                    expected: ReferralStatus | str | None = None, values: dict | None = None,
                    details: dict | None = None, tell_victim: bool = True) -> CaseEvent:
    """Move referral to `status` (setting `values`, other columns, in the same compare-and-set; `details` go into
    the event, e.g. change="sent" and where, see casework.messages), or raise
    WorkflowError (StaleChange when it changed since `expected`, the status the caller saw; AccessDenied for a role
    that may not). user None: the system (the first-hour work), never a request. A referral that becomes sent
    without a follow-up date in `values` (a status change, not `send_referral`) gets one from its sending. Its SLA
    clocks follow the change (sla_clocks.on_referral_change). Funds frozen or returned are e-mailed to the victim
    (tell_victim=False: the caller tells them itself, with the amount). The caller commits."""
    if user is not None:
        require(user, Permission.WORK_CASES)
    status = _status(status)
    note = checked_text(note)
    seen = expected_status(referral, expected)
    if status not in ALLOWED_MOVES[seen]:
        allowed = next_statuses(referral)
        if not allowed:
            raise WorkflowError(_("A referral in status “%(src)s” cannot change status.", src=seen.title))
        raise WorkflowError(_("A referral in status “%(src)s” can become: %(allowed)s.", src=seen.title,
                              allowed=_(", ").join(state.title for state in allowed)))
    if status is R.SENT:
        _refuse_unable(referral)
    values = {"status": status, **(values or {})}
    if status is R.SENT and "sent_at" not in values:
        values["sent_at"] = utcnow()
    if status is R.SENT and "follow_up_due_at" not in values:
        values["follow_up_due_at"] = values["sent_at"] + _follow_up_after(referral)
    _compare_and_set(referral, seen, values)
    if status is R.SENT and referral.kind in FREEZE_KINDS:  # the "freeze requests sent" clock is met
        sla_clocks.fulfil(referral.case, SlaMetric.FREEZE_SENT, at=values["sent_at"])
    sla_clocks.on_referral_change(referral, at=values["sent_at"] if status is R.SENT else utcnow())
    if tell_victim and status in FUNDS_NEWS:
        victim_news.tell_funds(referral.case, FUNDS_NEWS[status])
    return CaseEvent.record(referral.case, user, EventKind.REFERRAL, summary=note, target=referral.target_name,
                            before=seen, after=status, note=note, **(details or {}))


def _follow_up_after(referral: Referral) -> timedelta:
    """How long after sending the target is followed up: the directory's follow-up for it."""
    organisation = referral.organisation or directory.organisation_for_name(referral.target_name)
    return directory.route_for(organisation).follow_up if organisation is not None else DEFAULT_FOLLOW_UP


def _refuse_unable(referral: Referral) -> None:
    """CannotAct when the directory knows the target and says it cannot act (an unknown target may still have been
    written to by hand)."""
    organisation = referral.organisation or directory.organisation_for_name(referral.target_name)
    if organisation is not None and not directory.route_for(organisation).can_act:
        raise CannotAct(_cannot_act(organisation))


def _cannot_act(organisation: Organisation) -> str:
    return _("%(target)s cannot freeze or return funds (the directory says: %(who)s), so nothing is drafted or sent "
             "to it. Tell the victim, and look for the exchange or issuer the funds reached.",
             target=organisation.name, who=organisation.requester.title)


def expected_status(referral: Referral, expected: ReferralStatus | str | None) -> ReferralStatus:
    """The status the caller saw (refused as stale when the referral has moved on since); its status without one."""
    if not expected:
        return referral.status
    seen = _status(expected)
    if seen is not referral.status:
        raise _stale(referral)
    return seen


def _compare_and_set(referral: Referral, seen: ReferralStatus, values: dict, *also) -> None:
    """Set values if the referral is still in the status the caller saw (and the `also` conditions hold), else
    StaleChange."""
    changed = db.session.execute(
        update(Referral).where(Referral.id == referral.id, Referral.status == seen, *also).values(**values)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if changed != 1:
        db.session.refresh(referral)
        raise _stale(referral)
    db.session.refresh(referral)


def _stale(referral: Referral) -> StaleChange:
    return StaleChange(_("Someone else changed this referral after you read it: it is now %(status)s. Nothing was "
                         "changed.", status=referral.status.title))


# Drafting


def route_of(referral: Referral) -> directory.Route:
    """The directory's route for this referral's target, or CannotAct with what to do instead."""
    organisation = referral.organisation or directory.organisation_for_name(referral.target_name)
    if organisation is None:
        raise CannotAct(_("The directory has no entry for “%(target)s”: ask an administrator to add it, or open a "
                          "referral by hand to an entry of the directory.", target=referral.target_name))
    route = directory.route_for(organisation)
    if not route.can_act:
        raise CannotAct(_cannot_act(organisation))
    return route


def route_if_known(referral: Referral) -> directory.Route | None:
    """The route of a referral; None for a police referral without a directory entry (the handler says where it
    went), CannotAct for any other target the directory cannot route."""
    if referral.kind is ReferralKind.POLICE and referral.organisation is None:
        return None
    return route_of(referral)


def draft_referral(user: User | None, referral: Referral, *, expected: ReferralStatus | str | None = None) -> Referral:
    """Write the request's text for the route the directory gives the referral's target, moving a proposed referral
    to drafted (a drafted one gets its text written again). An exchange or issuer that takes only police requests
    gets a police referral drafted instead (returned), the freeze request staying proposed until then. Raises
    CannotAct for a target that cannot act, WorkflowError otherwise. user None: the first-hour work."""
    if user is not None:
        require(user, Permission.WORK_CASES)
    seen = expected_status(referral, expected)
    if seen not in DRAFTABLE:
        raise WorkflowError(_("A referral in status “%(status)s” is past drafting.", status=seen.title))
    route = route_if_known(referral)
    if route is not None and route.kind is ReferralKind.POLICE and referral.kind is not ReferralKind.POLICE:
        return _draft_police_package(user, referral, route)
    referral.organisation = route.organisation if route is not None else referral.organisation
    return _write_draft(user, referral, route, seen)


def _write_draft(user: User | None, referral: Referral, route: directory.Route | None,
                 seen: ReferralStatus) -> Referral:
    draft = referral_drafts.compose(referral, route)
    values = {"draft_subject": draft.subject[:SUBJECT_MAX_CHARS], "draft_body": draft.body,
              "personal_data_shared": draft.personal_data_shared,
              "organisation_id": route.organisation.id if route is not None else referral.organisation_id}
    if seen is R.PROPOSED:
        update_referral(user, referral, R.DRAFTED, expected=seen, values=values)
    else:
        _compare_and_set(referral, seen, values)
        CaseEvent.record(referral.case, user, EventKind.REFERRAL, target=referral.target_name, before=seen,
                         after=seen, note="", change="redrafted")
    return referral


def _draft_police_package(user: User | None, freeze: Referral, route: directory.Route) -> Referral:
    """The police referral for a target that acts only on police requests: one per target address (or per target,
    without an address), carrying the freeze request's amounts so the police know what to ask for."""
    freeze.organisation = route.organisation
    police = db.session.scalar(select(Referral).where(
        Referral.case_id == freeze.case_id, Referral.kind == ReferralKind.POLICE,
        Referral.chain_id.is_(None) if freeze.chain_id is None else Referral.chain_id == freeze.chain_id,
        Referral.target_address.is_(None) if freeze.target_address is None
        else Referral.target_address == freeze.target_address))
    if police is None:
        force = _police_for(freeze.case)
        police = Referral(
            case=freeze.case, kind=ReferralKind.POLICE, status=R.PROPOSED, organisation=force,
            target_name=(force.name if force else POLICE_TARGET)[:200], target_address=freeze.target_address,
            chain_id=freeze.chain_id, token_address=freeze.token_address, symbol=freeze.symbol,
            decimals=freeze.decimals, amount_raw=freeze.amount_raw, tx_hashes=freeze.tx_hashes,
        )
        db.session.add(police)
        db.session.flush()
    if police.status not in DRAFTABLE:
        raise WorkflowError(_("%(target)s acts only on requests from the police, and the police referral is already "
                              "%(status)s.", target=route.organisation.name, status=police.status.title))
    police_route = directory.route_for(police.organisation) if police.organisation else None
    return _write_draft(user, police, police_route, police.status)


def _police_for(case) -> Organisation | None:
    """The directory's police entry for the victim's country (or one acting worldwide), if it has one."""
    country = case.reporter.country if case.reporter else None
    forces = db.session.scalars(select(Organisation).where(
        Organisation.kind == OrganisationKind.POLICE, Organisation.active.is_(True)).order_by(Organisation.id)).all()
    return next((f for f in forces if country and f.country == country), None) or next(
        (f for f in forces if f.country is None), None)


def draft_proposed(case, *, actor: User | None = None) -> list[Referral]:
    """Draft every referral the trace only proposed, for the route the directory gives its target; returns the
    referrals drafted now (a police package in place of a freeze request its target takes only from the police).
    A target the directory marks as unable to act, or does not know, gets nothing drafted. actor None: the
    first-hour work (no person), otherwise a handler. The caller commits."""
    if actor is not None:
        require(actor, Permission.WORK_CASES)
    drafted = []
    proposed = db.session.scalars(select(Referral).where(Referral.case_id == case.id, Referral.status == R.PROPOSED)
                                  .order_by(Referral.id)).all()
    for referral in proposed:
        if referral.status is not R.PROPOSED:  # a police package drafted for an earlier one
            continue
        try:
            written = draft_referral(actor, referral, expected=R.PROPOSED)
        except CannotAct:
            continue
        if written not in drafted:
            drafted.append(written)
    return drafted


def edit_draft(user: User, referral: Referral, subject: str, body: str, *, expected: ReferralStatus | str | None
               ) -> CaseEvent | None:
    """Save the handler's own wording of the request (checked for secrets and length); a proposed referral becomes
    drafted. Returns the event written for a status change, None for a drafted one."""
    require(user, Permission.WORK_CASES)
    seen = expected_status(referral, expected)
    if seen not in DRAFTABLE:
        raise WorkflowError(_("A referral in status “%(status)s” is past drafting.", status=seen.title))
    route_if_known(referral)  # refuses a target that cannot act
    subject, body = checked_text(subject, SUBJECT_MAX_CHARS), checked_text(body, BODY_MAX_CHARS)
    if not subject or not body:
        raise WorkflowError(_("Write both the subject and the text of the request."))
    values = {"draft_subject": subject, "draft_body": body}
    if seen is R.PROPOSED:
        return update_referral(user, referral, R.DRAFTED, expected=seen, values=values)
    _compare_and_set(referral, seen, values)
    return CaseEvent.record(referral.case, user, EventKind.REFERRAL, target=referral.target_name, before=seen,
                            after=seen, note="", change="edited")


# Sending and following up


def send_referral(user: User, referral: Referral, *, sent_to: str | None = None,
                  expected: ReferralStatus | str | None = None, now: datetime | None = None) -> CaseEvent:
    """Send the drafted request. By e-mail: queued in the outbox to the directory's address. By web form, portal
    or other channel: the handler sent it there and says where (`sent_to`, e.g. the form's ticket number). Sets the
    next follow-up date (the route's follow-up) and, for an exchange's courtesy hold, the date the police report
    must reach it (sent_at + the route's police_report_due). The caller commits."""
    require(user, Permission.WORK_CASES)
    seen = expected_status(referral, expected)
    if seen not in SENDABLE:
        raise WorkflowError(_("Draft this request before sending it.") if seen is R.PROPOSED else
                            _("A referral in status “%(status)s” cannot be sent.", status=seen.title))
    if not (referral.draft_subject and referral.draft_body):
        raise WorkflowError(_("Draft this request before sending it."))
    for text in (referral.draft_subject, referral.draft_body):
        checked_text(text, BODY_MAX_CHARS)
    route = route_if_known(referral)
    sent_at = now or utcnow()
    follow_up = route.follow_up if route is not None else DEFAULT_FOLLOW_UP
    values = {"sent_at": sent_at, "follow_up_due_at": sent_at + follow_up, "police_report_due_at": None}
    if route is not None and route.channel_kind is ChannelKind.EMAIL and route.channel:
        values["sent_to"] = route.channel
    else:
        where = checked_text(sent_to, SENT_TO_MAX_CHARS) or (route.channel if route is not None else "")
        if not where:
            raise WorkflowError(_("Say where you sent it (the web form's address, the portal, the ticket number)."))
        values["sent_to"] = where
    if (route is not None and route.police_report_due is not None
            and referral.kind in (ReferralKind.EXCHANGE_FREEZE, ReferralKind.STABLECOIN_ISSUER)):
        values["police_report_due_at"] = sent_at + route.police_report_due
    event = update_referral(user, referral, R.SENT, expected=seen, values=values,
                            details={"change": "sent", "where": values["sent_to"]})
    if route is not None and route.channel_kind is ChannelKind.EMAIL and route.channel:
        mail.queue_email(route.channel, referral.draft_subject, referral.draft_body, case_id=referral.case_id)
    victim_news.tell_police_report_due(referral)
    return event


def record_follow_up(user: User, referral: Referral, note: str, next_on: date | None, *,
                     expected: ReferralStatus | str | None = None, today: date | None = None) -> CaseEvent:
    """Record a follow-up with the target (what was said) and the next follow-up date (None: none planned). The
    caller commits."""
    require(user, Permission.WORK_CASES)
    seen = expected_status(referral, expected)
    if seen not in AWAITING and seen is not R.DECLINED:
        raise WorkflowError(_("Follow up on a referral once it is sent."))
    note = checked_text(note)
    if not note:
        raise WorkflowError(_("Write what the target said or what you did."))
    today = today or utcnow().date()
    due = None
    if next_on is not None:
        if not today < next_on <= today + timedelta(days=MAX_FOLLOW_UP_DAYS):
            raise WorkflowError(_("Choose a next follow-up date after today and within a year."))
        due = datetime.combine(next_on, time(9), tzinfo=UTC)
    _compare_and_set(referral, seen, {"follow_up_due_at": due})
    sla_clocks.on_referral_change(referral)  # the follow-up clock moves to the new date (or is fulfilled)
    return CaseEvent.record(referral.case, user, EventKind.REFERRAL, summary=note, target=referral.target_name,
                            before=seen, after=seen, note=note, change="follow_up",
                            follow_up=due.isoformat() if due else None)


def awaits_police_report(referral: Referral) -> bool:
    """A courtesy hold waiting on its target whose police report has not been recorded as delivered."""
    return (referral.status in AWAITING and referral.police_report_due_at is not None
            and referral.police_report_sent_at is None)


def record_police_report(user: User, referral: Referral, note: str, *, expected: ReferralStatus | str | None = None,
                         now: datetime | None = None) -> CaseEvent:
    """Record that the police report reached the target of a courtesy hold (the handler sent it there, or the
    target confirmed it): the hold's condition is met and its SLA clock fulfilled. `note`: what was sent and how
    (e.g. the report's number). The caller commits."""
    require(user, Permission.WORK_CASES)
    seen = expected_status(referral, expected)
    if not awaits_police_report(referral):
        raise WorkflowError(_("Only a courtesy hold that waits on its police report can record one."))
    note = checked_text(note)
    if not note:
        raise WorkflowError(_("Say what was sent and how (e.g. the report's number and the address)."))
    at = now or utcnow()
    _compare_and_set(referral, seen, {"police_report_sent_at": at}, Referral.police_report_sent_at.is_(None))
    sla_clocks.on_referral_change(referral, at=at)
    return CaseEvent.record(referral.case, user, EventKind.REFERRAL, summary=note, target=referral.target_name,
                            before=seen, after=seen, note=note, change="police_report")


def open_referral(user: User, case, organisation_id: int | None, *, note: str | None = None) -> Referral:
    """Open a referral by hand to a directory entry (a consumer-protection complaint, a police report, a lawyer's
    handover, an exchange the trace did not reach), drafted at once for its route. The caller commits."""
    require(user, Permission.WORK_CASES)
    organisation = db.session.get(Organisation, organisation_id) if organisation_id and 0 < organisation_id < 2**31 \
        else None
    if organisation is None or not organisation.active:
        raise WorkflowError(_("Choose an entry of the directory."))
    note = checked_text(note)
    route = directory.route_for(organisation)
    if not route.can_act:
        raise CannotAct(_cannot_act(organisation))
    open_already = db.session.scalar(select(Referral.id).where(
        Referral.case_id == case.id, Referral.organisation_id == organisation.id, Referral.kind == route.kind,
        Referral.target_address.is_(None), Referral.status.not_in((R.CLOSED, R.DECLINED))).limit(1))
    if open_already is not None:
        raise WorkflowError(_("This case already has an open referral to %(target)s.", target=organisation.name))
    referral = Referral(case=case, kind=route.kind, status=R.PROPOSED, organisation=organisation,
                        target_name=organisation.name[:200], reason=note or None)
    db.session.add(referral)
    db.session.flush()
    CaseEvent.record(case, user, EventKind.REFERRAL, summary=note, target=referral.target_name, before=R.PROPOSED,
                     after=R.PROPOSED, note=note, change="opened")
    return _write_draft(user, referral, route, R.PROPOSED)
