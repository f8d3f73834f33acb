"""The referrals panel of the staff case page, as plain values in the reader's language: each referral with its
target, status, draft, dates (due in / overdue by), amounts and what may be done with it now, the directory entries a
referral may be opened to, and the case's frozen and returned amounts per asset."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from casework.extensions import db
from casework.models import Case, ChannelKind, Organisation, Referral, ReferralKind, ReferralStatus, User, utcnow
from casework.services import recoveries, referrals
from casework.services.access import Permission, can
from casework.services.referrals import AWAITING, DRAFTABLE, SENDABLE, CannotAct
from casework.web import format_amount

# The directory helper's entry page, linked when the application serves it.
DIRECTORY_ENTRY_RULE = "/staff/organisations/<int:organisation_id>"


@dataclass(frozen=True)
class Due:
    """A due date and how far off it is, e.g. "due in 3 days" or "overdue by 5 hours"."""

    at: datetime
    text: str
    overdue: bool


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class RecoveryLine:
    kind: str
    amount: str
    recorded_at: datetime
    note: str | None


@dataclass(frozen=True)
class Failed:
    """A referral form the handler sent that was refused: shown again with what they wrote and why."""

    referral_id: int | None
    form: str
    data: dict[str, str]
    error: str


@dataclass(frozen=True)
class PanelLine:
    id: int
    kind: str
    target: str
    target_url: str | None
    target_address: str | None
    chain_id: int | None
    status_code: str
    status: str
    next_statuses: list[Choice]
    traced_amount: str | None
    channel: str | None
    channel_kind: str | None
    by_email: bool
    refusal: str | None
    draft_subject: str | None
    draft_body: str | None
    personal_data_shared: bool
    sent_at: datetime | None
    sent_to: str | None
    follow_up: Due | None
    police_report: Due | None
    # When the police report reached the target of a courtesy hold (a handler recorded it).
    police_report_sent_at: datetime | None
    recoveries: list[RecoveryLine]
    assets: list[Choice]
    can_draft: bool
    can_edit: bool
    can_send: bool
    can_follow_up: bool
    can_record: bool
    can_record_police_report: bool
    reason: str | None
    # Its target acts only on police requests: "draft" writes the police referral instead.
    waits_for_police: bool


@dataclass(frozen=True)
class ReferralPanel:
    lines: list[PanelLine]
    totals: list[recoveries.AssetTotal]
    organisations: list[Choice]
    recovery_kinds: list[Choice]
    works: bool
    failed: Failed | None = None
    nearest_due: Due | None = field(default=None)


def due(at: datetime | None, now: datetime | None = None) -> Due | None:
    """How far a due date is from now, in days (or hours within two days)."""
    if at is None:
        return None
    now = now or utcnow()
    seconds = (at - now).total_seconds()
    hours = round(abs(seconds) / 3600)
    if hours >= 48:
        span = ngettext("%(num)d day", "%(num)d days", round(hours / 24))
    elif hours >= 1:
        span = ngettext("%(num)d hour", "%(num)d hours", hours)
    else:
        span = _("less than an hour")
    if seconds < 0:
        return Due(at, _("overdue by %(span)s", span=span), True)
    return Due(at, _("due in %(span)s", span=span), False)


def nearest_due_date(referral_list) -> datetime | None:
    """The nearest follow-up or police-report date (until the report reached the target) among referrals still
    waiting on their target."""
    dates = [d for r in referral_list if r.status in AWAITING
             for d in (r.follow_up_due_at, r.police_report_due_at if r.police_report_sent_at is None else None)
             if d is not None]
    return min(dates, default=None)


def panel(user: User, case: Case, failed: Failed | None = None) -> ReferralPanel:
    """The referrals panel for this case."""
    works = can(user, Permission.WORK_CASES)
    now = utcnow()
    entries = db.session.scalars(select(Organisation).where(Organisation.active.is_(True))
                                 .order_by(Organisation.kind, Organisation.name)).all()
    return ReferralPanel(
        lines=[_line(referral, works, now) for referral in referrals.referrals_of(user, case)],
        totals=recoveries.case_totals(case),
        organisations=[Choice(str(o.id), _("%(name)s (%(kind)s)", name=o.name, kind=o.kind.title))
                       for o in entries],
        recovery_kinds=[Choice("frozen", _("Frozen")), Choice("returned", _("Returned"))],
        works=works, failed=failed, nearest_due=due(nearest_due_date(case.referrals), now),
    )


def _line(referral: Referral, works: bool, now: datetime) -> PanelLine:
    try:
        route = referrals.route_if_known(referral)
        refusal = None
    except CannotAct as problem:
        route, refusal = None, problem.message
    status = referral.status
    return PanelLine(
        id=referral.id, kind=referral.kind.title,
        # A police package without a directory entry is addressed to "Police": shown in the reader's words.
        target=ReferralKind.POLICE.title if referral.target_name == referrals.POLICE_TARGET and referral.organisation
        is None else referral.target_name,
        target_url=_entry_url(referral.organisation_id), target_address=referral.target_address,
        chain_id=referral.chain_id, status_code=status.value, status=status.title,
        next_statuses=[Choice(s.value, s.title) for s in referrals.next_statuses(referral)],
        traced_amount=(f"{format_amount(referral.amount_raw, referral.decimals or 0)} {referral.symbol or ''}".strip()
                       if referral.amount_raw is not None else None),
        channel=route.channel if route else None, channel_kind=route.channel_kind.title if route else None,
        by_email=route is not None and route.channel_kind is ChannelKind.EMAIL and bool(route.channel),
        refusal=refusal, draft_subject=referral.draft_subject, draft_body=referral.draft_body,
        personal_data_shared=referral.personal_data_shared, sent_at=referral.sent_at, sent_to=referral.sent_to,
        follow_up=due(referral.follow_up_due_at, now) if status in AWAITING | {ReferralStatus.DECLINED} else None,
        police_report=due(referral.police_report_due_at, now) if referrals.awaits_police_report(referral) else None,
        police_report_sent_at=referral.police_report_sent_at,
        recoveries=[RecoveryLine(r.kind.title, f"{format_amount(r.amount_raw, r.decimals)} {r.symbol}", r.recorded_at,
                                 r.note) for r in referral.recoveries],
        assets=[Choice(a.key, a.label) for a in recoveries.asset_choices(referral)],
        can_draft=works and refusal is None and status in DRAFTABLE,
        can_edit=works and refusal is None and status in DRAFTABLE,
        can_send=works and refusal is None and status in SENDABLE and bool(referral.draft_body),
        can_follow_up=works and status in AWAITING | {ReferralStatus.DECLINED},
        can_record=works and status in {ReferralStatus.SENT, ReferralStatus.ACKNOWLEDGED, ReferralStatus.FROZEN,
                                        ReferralStatus.RETURNED},
        can_record_police_report=works and referrals.awaits_police_report(referral),
        reason=referral.reason or _police_reason(referral),
        waits_for_police=route is not None and route.kind is ReferralKind.POLICE
        and referral.kind is not ReferralKind.POLICE,
    )


def _police_reason(referral: Referral) -> str | None:
    """Why a police package was drafted: the target its freeze request waits for acts only on police requests."""
    if referral.kind is not ReferralKind.POLICE or not referral.target_address:
        return None
    waiting = next((r for r in referral.case.referrals if r.kind is not ReferralKind.POLICE and r.organisation
                    and r.target_address == referral.target_address), None)
    if waiting is None:
        return None
    return _("%(target)s acts only on requests from the police: ask them to send the freeze request.",
             target=waiting.organisation.name)


def _entry_url(organisation_id: int | None) -> str | None:
    if organisation_id is None:
        return None
    for rule in current_app.url_map.iter_rules():
        if rule.rule == DIRECTORY_ENTRY_RULE:
            return url_for(rule.endpoint, organisation_id=organisation_id)
    return None
