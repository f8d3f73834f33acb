"""A case's facts as plain values for the systems around a team (the JSON API): what the case page shows, without
the victim's secret. The reporter's contact is included for the roles that see it on the case page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from casework.models import Case, Referral, User
from casework.services import referrals as referral_service
from casework.services.access import Permission, can
from casework.services.workflow import OPEN_REFERRALS
from casework.web import format_amount


@dataclass(frozen=True)
class Handler:
    id: int
    display_name: str


@dataclass(frozen=True)
class Loss:
    chain_id: int
    asset_symbol: str
    token_address: str | None
    amount_raw: str
    decimals: int
    amount: str


@dataclass(frozen=True)
class Address:
    chain_id: int
    address: str
    role: str
    label: str | None


@dataclass(frozen=True)
class Transaction:
    chain_id: int
    tx_hash: str
    note: str | None


@dataclass(frozen=True)
class Contact:
    name: str
    email: str | None
    phone: str | None
    country: str | None
    preferred_language: str
    jurisdiction: str | None
    consent_exchanges: bool
    consent_law_enforcement: bool
    consent_consumer_agencies: bool


@dataclass(frozen=True)
class ReferralCounts:
    total: int
    open: int
    by_status: dict[str, int]


@dataclass(frozen=True)
class CaseLine:
    """A case in a list."""

    reference: str
    status: str
    resolution: str | None
    priority: str
    incident_type: str
    chain_ids: list[int]
    handler: Handler | None
    submitted_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class CaseFacts(CaseLine):
    """One case in full."""

    summary: str
    priority_overridden: bool
    merged_into: str | None
    incident_at: datetime | None
    discovered_at: datetime | None
    losses: list[Loss]
    addresses: list[Address]
    transactions: list[Transaction]
    reporter: Contact | None
    referrals: ReferralCounts


@dataclass(frozen=True)
class RecoveryFacts:
    kind: str
    chain_id: int | None
    token_address: str | None
    symbol: str
    decimals: int
    amount_raw: str
    amount: str
    recorded_at: datetime


@dataclass(frozen=True)
class ReferralFacts:
    id: int
    case_reference: str
    kind: str
    status: str
    next_statuses: list[str]
    target_name: str
    target_address: str | None
    chain_id: int | None
    token_address: str | None
    symbol: str | None
    amount_raw: str | None
    decimals: int | None
    amount: str | None
    tx_hashes: list[str]
    follow_up_due_at: datetime | None
    created_at: datetime
    sent_at: datetime | None
    sent_to: str | None
    police_report_due_at: datetime | None
    organisation_id: int | None
    recoveries: list[RecoveryFacts]


def _handler(user: User | None) -> Handler | None:
    return Handler(user.id, user.display_name) if user is not None else None


def case_line(case: Case) -> CaseLine:
    """The list entry of a case (the caller has checked the reader may see it)."""
    return CaseLine(
        reference=case.reference, status=case.status.value,
        resolution=case.resolution.value if case.resolution else None, priority=case.priority.value,
        incident_type=case.incident_type.value, chain_ids=list(case.chain_ids or []),
        handler=_handler(case.assigned_handler), submitted_at=case.submitted_at, updated_at=case.updated_at,
    )


def sees_contact(user: User) -> bool:
    """Whether user is shown the reporter's contact details (every role that reads cases, as on the case page)."""
    return can(user, Permission.VIEW_CASES)


def case_facts(user: User, case: Case) -> CaseFacts:
    """Everything about a case a team system needs, for user (who may see it: cases.get_for checked)."""
    reporter = case.reporter if sees_contact(user) else None
    by_status: dict[str, int] = {}
    for referral in case.referrals:
        by_status[referral.status.value] = by_status.get(referral.status.value, 0) + 1
    return CaseFacts(
        **vars(case_line(case)),
        summary=case.summary or "", priority_overridden=bool(case.priority_overridden),
        merged_into=case.merged_into.reference if case.merged_into is not None else None,
        incident_at=case.incident_at, discovered_at=case.discovered_at,
        losses=[Loss(loss.chain_id, loss.asset_symbol, loss.token_address, str(loss.amount_raw), loss.decimals,
                     format_amount(loss.amount_raw, loss.decimals)) for loss in case.losses],
        addresses=[Address(a.chain_id, a.address, a.role.value, a.label) for a in case.addresses],
        transactions=[Transaction(t.chain_id, t.tx_hash, t.note) for t in case.transactions],
        reporter=None if reporter is None else Contact(
            name=reporter.name, email=reporter.email, phone=reporter.phone, country=reporter.country,
            preferred_language=reporter.preferred_language, jurisdiction=reporter.jurisdiction,
            consent_exchanges=reporter.consent_exchanges, consent_law_enforcement=reporter.consent_law_enforcement,
            consent_consumer_agencies=reporter.consent_consumer_agencies,
        ),
        referrals=ReferralCounts(total=len(case.referrals),
                                 open=sum(1 for r in case.referrals if r.status in OPEN_REFERRALS),
                                 by_status=by_status),
    )


def referral_facts(referral: Referral) -> ReferralFacts:
    """A referral as plain values, with the statuses it may move to now."""
    has_amount = referral.amount_raw is not None
    return ReferralFacts(
        id=referral.id, case_reference=referral.case.reference, kind=referral.kind.value,
        status=referral.status.value, next_statuses=[s.value for s in referral_service.next_statuses(referral)],
        target_name=referral.target_name, target_address=referral.target_address, chain_id=referral.chain_id,
        token_address=referral.token_address, symbol=referral.symbol,
        amount_raw=str(referral.amount_raw) if has_amount else None, decimals=referral.decimals,
        amount=format_amount(referral.amount_raw, referral.decimals or 0) if has_amount else None,
        tx_hashes=list(referral.tx_hashes or []), follow_up_due_at=referral.follow_up_due_at,
        created_at=referral.created_at, sent_at=referral.sent_at, sent_to=referral.sent_to,
        police_report_due_at=referral.police_report_due_at, organisation_id=referral.organisation_id,
        recoveries=[RecoveryFacts(r.kind.value, r.chain_id, r.token_address, r.symbol, r.decimals, str(r.amount_raw),
                                  format_amount(r.amount_raw, r.decimals), r.recorded_at) for r in referral.recoveries],
    )
