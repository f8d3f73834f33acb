"""Address labels: imported from the formats analysts keep, edited by handlers, used by tracing,
and the cross-case view of an address (the same attacker behind many victims)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from eth_utils import is_address
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from casework.extensions import db
from casework.models import ANY_CHAIN, AddressLabel, Case, CaseAddress, User
from casework.services import chains
from casework.services.access import Permission, require
from evidence import labels as evidence_labels

HANDLER_SOURCE = "Casework handlers"

# What each category of evidence/labels.py is called on staff pages; categories imported from
# elsewhere that are not listed keep the name their file gave them.
CATEGORY_TITLES = {
    "exchange_hot_wallet": _l("Exchange hot wallet"),
    "exchange": _l("Exchange"),
    "exchange_deposit": _l("Exchange deposit address"),
    "bridge": _l("Bridge"),
    "mixer": _l("Mixer"),
    "blacklisted": _l("Blacklisted"),
    "dex": _l("Decentralised exchange (DEX)"),
    "defi": _l("DeFi protocol"),
    "token_contract": _l("Token contract"),
    "issuer": _l("Token issuer"),
    "attacker": _l("Attacker"),
    "scam": _l("Scam"),
    "sanctioned": _l("Sanctioned"),
    "victim": _l("Victim"),
    "unknown": _l("Unknown"),
}


class LabelError(ValueError):
    """A label cannot be saved as given; the message says why."""


@dataclass(frozen=True)
class LabelLine:
    """One label as the labels page shows it."""

    address: str
    name: str
    category: str
    chain: str
    source: str
    confidence_pct: int


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    problems: tuple[evidence_labels.LabelProblem, ...]


def _confidence_pct(confidence: float) -> int:
    # Parsers give 0..1 as floats; the table keeps whole percentages so no float is stored.
    return int((Decimal(str(confidence)) * 100).to_integral_value())


def upsert(labels: Iterable[evidence_labels.AddressLabel], *, actor: User | None = None) -> tuple[int, int]:
    """Insert or update labels keyed by (chain, address, source); returns (added, updated). Caller commits."""
    added = updated = 0
    for label in labels:
        chain_id = label.chain_id if label.chain_id is not None else ANY_CHAIN
        row = db.session.scalar(
            select(AddressLabel).where(
                AddressLabel.chain_id == chain_id,
                AddressLabel.address == label.address.lower(),
                AddressLabel.source == label.source,
            )
        )
        if row is None:
            row = AddressLabel(chain_id=chain_id, address=label.address.lower(), source=label.source)
            db.session.add(row)
            added += 1
        else:
            updated += 1
        row.name, row.category = label.name[:200], label.category
        row.confidence_pct = _confidence_pct(label.confidence)
        row.updated_by_id = actor.id if actor is not None else None
        db.session.flush()
    return added, updated


def import_file(path: str | Path, *, chain_id: int | None = None) -> ImportResult:
    """Import a TagPack YAML, etherscan-labels JSON or CSV file (the caller commits)."""
    parsed = evidence_labels.load_labels(path, chain_id=chain_id)
    added, updated = upsert(parsed.labels)
    return ImportResult(added, updated, tuple(parsed.problems))


def save_label(actor: User, chain_id: int | None, address: str, name: str, category: str) -> AddressLabel:
    """A handler names an address (their label wins over imported ones of lower confidence)."""
    require(actor, Permission.WORK_CASES)
    address = address.strip()
    if not is_address(address):
        raise LabelError(_("That is not an address: an address is 0x followed by 40 characters 0-9 and a-f."))
    name = name.strip()
    if not name or len(name) > 200:
        raise LabelError(_("Give the label a name of at most 200 characters."))
    category = evidence_labels.normalise_category(category)
    label = evidence_labels.AddressLabel(chain_id, address.lower(), name, category, HANDLER_SOURCE, 1.0)
    upsert([label], actor=actor)
    return db.session.scalar(
        select(AddressLabel).where(
            AddressLabel.address == address.lower(),
            AddressLabel.source == HANDLER_SOURCE,
            AddressLabel.chain_id == (chain_id if chain_id is not None else ANY_CHAIN),
        )
    )


def _as_evidence(row: AddressLabel) -> evidence_labels.AddressLabel:
    return evidence_labels.AddressLabel(
        chain_id=None if row.chain_id == ANY_CHAIN else row.chain_id,
        address=row.address, name=row.name, category=row.category, source=row.source,
        confidence=row.confidence_pct / 100,
    )


def label_book(chain_id: int, addresses: Iterable[str] | None = None) -> evidence_labels.LabelBook:
    """The labels that hold on a chain (all of them, or only for the given addresses)."""
    query = select(AddressLabel).where(or_(AddressLabel.chain_id == chain_id, AddressLabel.chain_id == ANY_CHAIN))
    if addresses is not None:
        query = query.where(AddressLabel.address.in_([a.lower() for a in addresses]))
    return evidence_labels.LabelBook(_as_evidence(row) for row in db.session.scalars(query))


def category_title(category: str) -> str:
    """A category's name in the reader's language (an imported category without a title: as imported)."""
    return str(CATEGORY_TITLES.get(category, category))


def category_choices() -> list[tuple[str, str]]:
    """The known categories as (value, title) pairs, by title in the reader's language."""
    return sorted(((code, str(title)) for code, title in CATEGORY_TITLES.items()), key=lambda item: item[1])


def search(actor: User, text: str = "", limit: int = 200) -> list[LabelLine]:
    """Labels whose address, name or category contains text (all staff may read labels)."""
    require(actor, Permission.VIEW_CASES)
    query = select(AddressLabel).order_by(AddressLabel.name, AddressLabel.address).limit(limit)
    if text.strip():
        pattern = f"%{text.strip().lower()}%"
        # A category can be searched for by its title in the reader's language too.
        titled = [code for code, title in CATEGORY_TITLES.items() if text.strip().lower() in str(title).lower()]
        query = query.where(or_(AddressLabel.address.like(pattern), AddressLabel.name.ilike(pattern),
                                AddressLabel.category.like(pattern), AddressLabel.category.in_(titled)))
    return [
        LabelLine(row.address, row.name, category_title(row.category),
                  _("any") if row.chain_id == ANY_CHAIN else chains.chain_name(row.chain_id), row.source,
                  row.confidence_pct)
        for row in db.session.scalars(query)
    ]


def other_cases(case: Case) -> dict[str, list[str]]:
    """For each address of the case, the references of other cases that list it (lower-case keys)."""
    if not case.addresses:
        return {}
    rows = db.session.execute(
        select(CaseAddress.address, Case.reference)
        .join(Case, Case.id == CaseAddress.case_id)
        .where(CaseAddress.case_id != case.id)
        .where(CaseAddress.address.in_({a.address for a in case.addresses}))
        .distinct()
        .order_by(Case.reference)
    )
    found: dict[str, list[str]] = {}
    for address, reference in rows:
        found.setdefault(address.lower(), []).append(reference)
    return found
