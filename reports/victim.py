"""The victim's own copy of their case: the view-model of templates/reports/victim_report.html.

Every field is plain, already-translated text (the casework service builds it in the victim's language); the
template escapes all of it.
"""

from __future__ import annotations

from dataclasses import dataclass

TEMPLATE = "victim_report.html"


@dataclass(frozen=True)
class LossLine:
    amount: str
    asset: str
    chain: str
    token_address: str | None = None
    fiat: str | None = None
    decimals: str | None = None  # "6 decimals", for a token named by its contract: what its amount was read with


@dataclass(frozen=True)
class AddressLine:
    role: str
    address: str
    chain: str
    label: str = ""


@dataclass(frozen=True)
class TransactionLine:
    tx_hash: str
    chain: str
    note: str = ""


@dataclass(frozen=True)
class FileLine:
    name: str
    size: str
    sha256: str
    added_at: str


@dataclass(frozen=True)
class TimelineEntry:
    when: str
    when_iso: str
    title: str
    detail: str = ""


@dataclass(frozen=True)
class MessageLine:
    when: str
    when_iso: str
    author: str
    from_victim: bool
    body: str


@dataclass(frozen=True)
class ContactLine:
    name: str
    email: str | None
    phone: str | None
    country: str | None
    language: str


@dataclass(frozen=True)
class VictimReport:
    """What the victim reported and what has happened since, in the victim's language."""

    reference: str
    language: str  # BCP 47 tag for <html lang>, e.g. "en" or "zh-Hans"
    generated_at: str
    status_title: str
    status_explanation: str
    incident_type: str
    submitted_at: str
    incident_at: str | None
    discovered_at: str | None
    time_zone: str | None
    wallet_app: str | None
    first_contact: str | None
    chains: tuple[str, ...]
    statement: str
    losses: tuple[LossLine, ...] = ()
    addresses: tuple[AddressLine, ...] = ()
    transactions: tuple[TransactionLine, ...] = ()
    files: tuple[FileLine, ...] = ()
    additions: tuple[TimelineEntry, ...] = ()
    timeline: tuple[TimelineEntry, ...] = ()
    messages: tuple[MessageLine, ...] = ()
    contact: ContactLine | None = None
    consents: tuple[str, ...] = ()
