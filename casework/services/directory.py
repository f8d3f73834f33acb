"""The directory of organisations: who can freeze what, who may ask them, by which channel, and the deadlines
their answer sets off. The route a referral takes comes from here (`route_for`), never from a second table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from casework.extensions import db
from casework.models import ChannelKind, Organisation, OrganisationKind, ReferralKind, Requester


@dataclass(frozen=True)
class Route:
    """How a request to one organisation goes.

    `kind`: the referral to draft now (an exchange that takes victims' requests: an exchange freeze; one that
    takes only police: the police package first). `can_act`: False for an organisation that cannot freeze or
    act (a self-custody wallet's maker): nothing is ever proposed or sent to it. `police_report_due`: how long
    a courtesy hold lasts unless a police report follows (None: no such deadline).
    """

    organisation: Organisation
    kind: ReferralKind
    can_act: bool
    requester: Requester
    channel_kind: ChannelKind
    channel: str | None
    police_report_due: timedelta | None
    follow_up: timedelta


def _norm(name: str) -> str:
    return " ".join(name.casefold().split())


def organisation_for_name(name: str | None) -> Organisation | None:
    """The active entry whose name, slug or one of whose aliases is this name (a label's or trace's exchange name,
    compared case-insensitively); also matches a label such as "Harbour Exchange: Deposit" by its part before
    the colon. None when the directory has no such entry."""
    if not name:
        return None
    wanted = {_norm(name), _norm(name.split(":", 1)[0])}
    for organisation in db.session.scalars(select(Organisation).where(Organisation.active.is_(True))):
        names = {_norm(organisation.name), _norm(organisation.slug), *(_norm(a) for a in organisation.aliases or ())}
        if wanted & names:
            return organisation
    return None


def route_for(organisation: Organisation) -> Route:
    """The route a request to this organisation takes (see Route)."""
    can_act = organisation.requester is not Requester.NOBODY and organisation.active
    if organisation.kind is OrganisationKind.STABLECOIN_ISSUER:
        kind = ReferralKind.STABLECOIN_ISSUER if organisation.requester is Requester.VICTIM else ReferralKind.POLICE
    elif organisation.kind is OrganisationKind.EXCHANGE:
        kind = ReferralKind.EXCHANGE_FREEZE if organisation.requester is Requester.VICTIM else ReferralKind.POLICE
    elif organisation.kind is OrganisationKind.CONSUMER_AGENCY:
        kind = ReferralKind.CONSUMER_AGENCY
    elif organisation.kind is OrganisationKind.LAWYER:
        kind = ReferralKind.LAWYER
    else:
        kind = ReferralKind.POLICE
    hold = organisation.courtesy_hold_days
    return Route(
        organisation=organisation, kind=kind, can_act=can_act, requester=organisation.requester,
        channel_kind=organisation.channel_kind, channel=organisation.channel,
        police_report_due=timedelta(days=hold) if hold else None,
        follow_up=timedelta(days=organisation.follow_up_days or 2),
    )
