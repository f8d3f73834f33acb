"""Evidence persistence: raw records appended to a case's hash chain, decoded transfers linked to
them, and verification of the whole chain (optionally against the chain itself)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from eth_utils import to_checksum_address
from sqlalchemy import select

from casework.extensions import db
from casework.models import (
    AddressRole,
    Case,
    CaseEvent,
    EventKind,
    EvidenceRecord,
    IncidentType,
    SlaMetric,
    TheftPattern,
    Transfer,
    TransferKind,
    User,
)
from casework.services import sla_clocks
from evidence.canonical import CANONICAL_VERSION, GENESIS_CHAIN_HASH, EvidenceLink, chain_hash, verify_links
from evidence.models import Capture, Decoded, Movement, RawRecord
from evidence.patterns import label_thefts


@dataclass(frozen=True)
class Verification:
    """The outcome of verifying a case's evidence: ok, or the first bad record and why."""

    ok: bool
    checked: int
    first_bad_sequence: int | None = None
    reason: str | None = None
    legacy_records: int = 0  # records in canonical form version 1 (captured before RFC 8785)


def _lock_case(case: Case) -> None:
    # Appends to one case's chain are serialised: the next sequence number and previous hash must
    # not be read by two writers at once (row lock on PostgreSQL; SQLite serialises writers). FOR NO KEY
    # UPDATE, not FOR UPDATE: rows that merely point at the case (a victim's message, an event) still go in.
    # Jobs take this lock only in their final transaction, after their network calls.
    db.session.execute(select(Case.id).where(Case.id == case.id).with_for_update(key_share=True))


def last_record(case: Case) -> EvidenceRecord | None:
    """The newest record of a case's evidence chain."""
    query = select(EvidenceRecord).where(EvidenceRecord.case_id == case.id)
    return db.session.scalar(query.order_by(EvidenceRecord.sequence.desc()).limit(1))


def append_records(
    case: Case,
    records: Sequence[RawRecord],
    *,
    actor: User | None,
    confirmations: Callable[[RawRecord], int | None] = lambda record: None,
) -> dict[str, EvidenceRecord]:
    """Hash and chain raw records onto the case's evidence, in order; returns them by sha256.

    Nothing is committed here: the caller commits the records together with whatever was decoded
    from them, so a failure leaves no partial evidence.
    """
    _lock_case(case)
    previous = last_record(case)
    sequence = previous.sequence + 1 if previous else 0
    prev_hash = previous.chain_hash if previous else GENESIS_CHAIN_HASH
    stored: dict[str, EvidenceRecord] = {}
    for record in records:
        canonical = record.canonical_json()
        digest = record.sha256
        prev_hash = chain_hash(prev_hash, digest)
        row = EvidenceRecord(
            case_id=case.id,
            sequence=sequence,
            kind=record.kind,
            chain_id=record.chain_id,
            canonical_json=canonical.decode("utf-8"),
            canonical_version=CANONICAL_VERSION,
            source_host=record.source,
            source_method=record.method,
            captured_at=record.captured_at,
            captured_by_id=actor.id if actor is not None else None,
            confirmations=confirmations(record),
            sha256=digest,
            chain_hash=prev_hash,
        )
        db.session.add(row)
        stored.setdefault(digest, row)
        sequence += 1
    db.session.flush()
    return stored


def _checksummed(address: str | None) -> str:
    return to_checksum_address(address) if address else ""


def store_movements(case: Case, movements: Iterable[Movement], records: dict[str, EvidenceRecord]) -> list[Transfer]:
    """Store decoded movements as Transfer rows linked to the raw record each came from.

    A movement already stored for the case (same chain, tx, log index and kind) is not stored twice: the caller holds
    the case's append lock (append_records), and the unique index uq_transfers_movement, where a native movement's
    missing log index counts as a value, refuses a copy whatever path it takes.
    """
    existing = {
        (t.chain_id, t.tx_hash, t.log_index, t.kind)
        for t in db.session.scalars(select(Transfer).where(Transfer.case_id == case.id))
    }
    added = []
    for movement in movements:
        kind = TransferKind(movement.kind)
        key = (movement.chain_id, movement.tx_hash, movement.log_index, kind)
        if key in existing:
            continue
        source = records.get(movement.source_record) or db.session.scalar(
            select(EvidenceRecord).where(
                EvidenceRecord.case_id == case.id, EvidenceRecord.sha256 == movement.source_record
            )
        )
        if source is None:
            raise ValueError(f"Movement in {movement.tx_hash} cites a record that is not stored for the case.")
        transfer = Transfer(
            case_id=case.id,
            evidence_record_id=source.id,
            chain_id=movement.chain_id,
            tx_hash=movement.tx_hash,
            log_index=movement.log_index,
            kind=kind,
            token_address=_checksummed(movement.token) or None,
            symbol=movement.symbol,
            decimals=movement.decimals,
            from_address=_checksummed(movement.from_address),
            to_address=_checksummed(movement.to_address),
            amount_raw=movement.value,
            block_number=movement.block_number,
            block_time=movement.timestamp,
            tx_status=movement.tx_status,
        )
        db.session.add(transfer)
        existing.add(key)
        added.append(transfer)
    return added


def label_patterns(case: Case, decoded: Decoded) -> int:
    """Mark each movement out of a victim address with the theft pattern the records show; returns how many.

    A victim who reports an investment scam sent the funds on purpose (scam_payment); otherwise a
    transfer the victim's key signed is a direct_drain, and one someone else moved an approval_drain.
    """
    victims = {a.address.lower() for a in case.addresses if a.role is AddressRole.VICTIM}
    voluntary = case.incident_type is IncidentType.INVESTMENT_SCAM
    found = [
        label
        for victim in sorted(victims)
        for label in label_thefts(decoded.movements, victim, calls=decoded.calls, voluntary=voluntary)
    ]
    if not found:
        return 0
    rows = {
        (t.chain_id, t.tx_hash, t.log_index): t
        for t in db.session.scalars(select(Transfer).where(Transfer.case_id == case.id))
        if t.kind is not TransferKind.APPROVAL
    }
    for label in found:
        row = rows.get((label.chain_id, label.tx_hash, label.log_index))
        if row is not None:
            row.pattern, row.approval_tx_hash = TheftPattern(label.pattern), label.approval_tx_hash
    return len(found)


def record_capture(case: Case, capture: Capture, decoded: Decoded, *, actor: User | None) -> list[Transfer]:
    """Store a capture's raw records, its decoded transfers and an 'evidence' event (uncommitted)."""
    blocks = {
        record.sha256: int(record.result["number"], 16)
        for record in capture.records
        if record.kind == "block" and record.result
    }
    tx_blocks = {
        record.sha256: int(record.result["blockNumber"], 16)
        for record in capture.records
        if record.kind in ("transaction", "receipt") and record.result and record.result.get("blockNumber")
    }
    block_of = {**blocks, **tx_blocks}

    def confirmations(record: RawRecord) -> int | None:
        number = block_of.get(record.sha256)
        return capture.confirmations(number) if number is not None else None

    stored = append_records(case, capture.records, actor=actor, confirmations=confirmations)
    transfers = store_movements(case, decoded.movements, stored)
    label_patterns(case, decoded)
    if capture.found:
        sla_clocks.fulfil(case, SlaMetric.EVIDENCE_CAPTURED)
    CaseEvent.record(
        case,
        actor,
        EventKind.EVIDENCE,
        records=len(capture.records),
        transfers=len(transfers),
        found=list(capture.found),
        not_found=list(capture.not_found),
        pending=list(capture.pending),
    )
    return transfers


def transfers_for(case: Case) -> list[Transfer]:
    """A case's decoded value movements in chain order."""
    return list(
        db.session.scalars(
            select(Transfer).where(Transfer.case_id == case.id).order_by(Transfer.block_number, Transfer.log_index)
        )
    )


def case_records(case: Case) -> list[EvidenceRecord]:
    """A case's evidence records in chain order."""
    return list(
        db.session.scalars(
            select(EvidenceRecord).where(EvidenceRecord.case_id == case.id).order_by(EvidenceRecord.sequence)
        )
    )


def verify_case(case: Case, *, refetch: Callable[[RawRecord], object | None] | None = None) -> Verification:
    """Recompute every record's hash (in the canonical version it was written in) and the chain; with refetch,
    also compare each record's result with what the chain returns now for the same method and params
    (blocks, receipts, transactions). Read-only: before asking the chain again it ends its read transaction, so no
    transaction stays open while the provider answers."""
    rows = case_records(case)
    for expected, row in enumerate(rows):
        if row.sequence != expected:
            return Verification(False, expected, expected, f"record {expected} is missing from the sequence.")
    links = [
        EvidenceLink(row.canonical_json.encode("utf-8"), row.sha256, row.chain_hash, row.canonical_version)
        for row in rows
    ]
    result = verify_links(links)
    if not result.ok:
        return Verification(False, result.checked, result.first_bad_index, result.reason)
    legacy_records = sum(row.canonical_version == 1 for row in rows)
    if refetch is not None:
        records = [(row.sequence, RawRecord.from_canonical_json(row.canonical_json, row.canonical_version))
                   for row in rows]
        db.session.rollback()  # nothing was written: end the read before the network calls
        for sequence, record in records:
            if record.kind not in ("transaction", "receipt", "block") or record.result is None:
                continue
            current = refetch(record)
            if json.dumps(current, sort_keys=True) != json.dumps(record.result, sort_keys=True):
                reason = f"record {sequence} ({record.method}) differs from what the chain returns now."
                return Verification(False, sequence, sequence, reason)
    return Verification(True, len(rows), legacy_records=legacy_records)
