"""Filing a case: the one function that turns a victim's report into a Case, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from casework.extensions import db
from casework.models import (
    AddressRole,
    Case,
    CaseAddress,
    CaseEvent,
    IncidentType,
    Priority,
    ReportedLoss,
    ReportedTransaction,
    Reporter,
    utcnow,
)
from casework.services.cases import next_reference
from casework.services.tokens import new_access_token

# Tokens that track the US dollar closely enough to size a loss without a price feed.
USD_STABLECOINS = frozenset({"USDT", "USDC", "DAI", "BUSD", "FDUSD", "TUSD", "USDP", "CUSDT"})
LARGE_LOSS_USD = Decimal(10_000)
MEDIUM_LOSS_USD = Decimal(1_000)


@dataclass(frozen=True)
class LossInput:
    chain_id: int
    asset_symbol: str
    amount_raw: int
    decimals: int
    token_address: str | None = None
    fiat_value_cents: int | None = None
    fiat_currency: str | None = None

    def usd_estimate(self) -> Decimal | None:
        """The loss in US dollars when the report lets us tell without a price feed."""
        if self.fiat_value_cents is not None and (self.fiat_currency or "").upper() == "USD":
            return Decimal(self.fiat_value_cents) / 100
        if self.asset_symbol.upper() in USD_STABLECOINS:
            return Decimal(self.amount_raw).scaleb(-self.decimals)
        return None


@dataclass(frozen=True)
class AddressInput:
    chain_id: int
    address: str
    role: AddressRole
    label: str | None = None


@dataclass(frozen=True)
class TransactionInput:
    chain_id: int
    tx_hash: str
    note: str | None = None


@dataclass(frozen=True)
class ReporterInput:
    name: str
    email: str | None = None
    phone: str | None = None
    country: str | None = None
    preferred_language: str = "en"
    jurisdiction: str | None = None
    consent_law_enforcement: bool = False
    consent_exchanges: bool = False
    consent_consumer_agencies: bool = False


@dataclass(frozen=True)
class NewReport:
    """Everything a validated report holds, as plain values (built by the wizard or the demo)."""

    incident_type: IncidentType
    reporter: ReporterInput
    summary: str = ""
    incident_at: datetime | None = None
    discovered_at: datetime | None = None
    victim_timezone: str | None = None
    wallet_app: str | None = None
    first_contact: str | None = None
    chain_ids: tuple[int, ...] = ()
    losses: tuple[LossInput, ...] = ()
    addresses: tuple[AddressInput, ...] = ()
    transactions: tuple[TransactionInput, ...] = ()
    exchanges_involved: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class FiledCase:
    case: Case
    access_token: str  # shown to the victim once; only its hash is stored


def assess_priority(report: NewReport, now: datetime) -> Priority:
    """Priority from how recent the theft is, how large the loss is and whether funds may be freezable.

    - critical: stolen in the last 24 hours and either a large loss (>= 10,000 USD) or funds known
      to have reached an exchange (a freeze is still possible);
    - high: stolen in the last 72 hours, or a large loss, or an exchange involved;
    - normal: a loss of at least 1,000 USD, or stolen in the last 30 days;
    - low: everything else (old, small, or of unknown size and age).
    USD sizes come from stablecoin amounts or a USD fiat value; other assets count as unknown.
    """
    when = report.incident_at or report.discovered_at
    age = now - when if when else None
    usd = sum((loss.usd_estimate() or Decimal(0) for loss in report.losses), Decimal(0))
    freezable = bool(report.exchanges_involved) or any(
        a.role in (AddressRole.EXCHANGE_DEPOSIT, AddressRole.EXCHANGE_HOT_WALLET) for a in report.addresses
    )
    large = usd >= LARGE_LOSS_USD
    if age is not None and age <= timedelta(hours=24) and (large or freezable):
        return Priority.CRITICAL
    if (age is not None and age <= timedelta(hours=72)) or large or freezable:
        return Priority.HIGH
    if usd >= MEDIUM_LOSS_USD or (age is not None and age <= timedelta(days=30)):
        return Priority.NORMAL
    return Priority.LOW


def file_case(report: NewReport, *, now: datetime | None = None) -> FiledCase:
    """Create the case, its reporter, losses, addresses, transactions and the 'submitted' event.

    Everything is added to the current session; the caller commits once, so a failure leaves no
    half-case behind.
    """
    now = now or utcnow()
    token, token_hash = new_access_token()
    case = Case(
        reference=next_reference(now),
        incident_type=report.incident_type,
        priority=assess_priority(report, now),
        chain_ids=sorted(set(report.chain_ids)),
        summary=report.summary,
        wallet_app=report.wallet_app,
        first_contact=report.first_contact,
        incident_at=report.incident_at,
        discovered_at=report.discovered_at,
        victim_timezone=report.victim_timezone,
        access_token_hash=token_hash,
        submitted_at=now,
    )
    case.reporter = Reporter(**vars(report.reporter))
    case.losses = [ReportedLoss(**vars(loss)) for loss in report.losses]
    case.addresses = [CaseAddress(**vars(address)) for address in report.addresses]
    case.transactions = [ReportedTransaction(**vars(tx)) for tx in report.transactions]
    db.session.add(case)
    CaseEvent.record(
        case,
        None,
        "submitted",
        actor_label="victim",
        priority=case.priority,
        incident_type=case.incident_type,
    )
    return FiledCase(case=case, access_token=token)
