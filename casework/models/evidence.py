"""Captured on-chain evidence: immutable raw records chained by hash, and what was decoded from them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from casework.extensions import db
from casework.models.enums import RecordKind, TheftPattern, TransferKind
from casework.models.types import UInt256, UTCDateTime, enum_column, utcnow
from evidence.canonical import CANONICAL_VERSION


class ImmutableRowError(RuntimeError):
    """Raised when code tries to change or delete an append-only row."""


class EvidenceRecord(db.Model):
    """A raw record exactly as captured, hashed and chained to the case's previous record."""

    __tablename__ = "evidence_records"
    __table_args__ = (
        UniqueConstraint("case_id", "sequence", name="uq_evidence_records_sequence"),
        CheckConstraint("length(sha256) = 64", name="sha256_length"),
        CheckConstraint("length(chain_hash) = 64", name="chain_hash_length"),
        CheckConstraint("canonical_version IN (1, 2)", name="canonical_version_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    kind: Mapped[RecordKind] = mapped_column(enum_column(RecordKind, "record_kind", length=32))
    chain_id: Mapped[int | None] = mapped_column(Integer)
    canonical_json: Mapped[str] = mapped_column(Text)
    # Which rules of evidence/canonical.py canonical_json follows: 2 (RFC 8785) for every record
    # written now, 1 for records captured before (the column's default fills those in).
    canonical_version: Mapped[int] = mapped_column(SmallInteger, default=CANONICAL_VERSION, server_default="1")
    source_host: Mapped[str | None] = mapped_column(String(255))
    source_method: Mapped[str | None] = mapped_column(String(64))
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    captured_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmations: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    chain_hash: Mapped[str] = mapped_column(String(64))


class Transfer(db.Model):
    """A decoded value movement (native, ERC-20, ERC-721, approval), linked to its raw record."""

    __tablename__ = "transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    evidence_record_id: Mapped[int] = mapped_column(ForeignKey("evidence_records.id"))
    chain_id: Mapped[int] = mapped_column(Integer)
    tx_hash: Mapped[str] = mapped_column(String(66), index=True)
    log_index: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[TransferKind] = mapped_column(enum_column(TransferKind, "transfer_kind"))
    token_address: Mapped[str | None] = mapped_column(String(42))
    symbol: Mapped[str | None] = mapped_column(String(64))
    decimals: Mapped[int | None] = mapped_column(Integer)
    from_address: Mapped[str] = mapped_column(String(42), index=True)
    to_address: Mapped[str] = mapped_column(String(42), index=True)
    amount_raw: Mapped[int] = mapped_column(UInt256)
    block_number: Mapped[int] = mapped_column(Integer)
    block_time: Mapped[datetime] = mapped_column(UTCDateTime)
    tx_status: Mapped[int | None] = mapped_column(Integer)
    # What the records show about this movement out of a victim address; for an approval drain, the approval it used.
    pattern: Mapped[TheftPattern | None] = mapped_column(enum_column(TheftPattern, "theft_pattern", length=20))
    approval_tx_hash: Mapped[str | None] = mapped_column(String(66))


# One row per movement. Native-coin movements have no log index; COALESCE makes their NULL collide as a value would
# (a plain unique key treats every NULL as different), on both databases.
Index(
    "uq_transfers_movement",
    Transfer.case_id, Transfer.chain_id, Transfer.tx_hash, func.coalesce(Transfer.log_index, -1), Transfer.kind,
    unique=True,
)


class FlowEdge(db.Model):
    """One traced hop of the fund-flow graph of a case."""

    __tablename__ = "flow_edges"
    # Linked cases: whose trace reached this address (services.linked).
    __table_args__ = (Index("ix_flow_edges_chain_to", "chain_id", "to_address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    trace_run_id: Mapped[int | None] = mapped_column(ForeignKey("trace_runs.id", ondelete="CASCADE"), index=True)
    evidence_record_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_records.id"))
    symbol: Mapped[str | None] = mapped_column(String(64))
    decimals: Mapped[int | None] = mapped_column(Integer)
    log_index: Mapped[int | None] = mapped_column(Integer)
    block_number: Mapped[int | None] = mapped_column(Integer)
    chain_id: Mapped[int] = mapped_column(Integer)
    hop: Mapped[int] = mapped_column(Integer)
    from_address: Mapped[str] = mapped_column(String(42))
    to_address: Mapped[str] = mapped_column(String(42))
    token_address: Mapped[str | None] = mapped_column(String(42))
    amount_raw: Mapped[int] = mapped_column(UInt256)
    tx_hash: Mapped[str] = mapped_column(String(66))
    block_time: Mapped[datetime] = mapped_column(UTCDateTime)
    transfer_id: Mapped[int | None] = mapped_column(ForeignKey("transfers.id"))


def refuse_change(mapper, connection, target) -> None:
    """Mapper hook that makes a model append-only at the ORM level."""
    raise ImmutableRowError(f"{type(target).__name__} rows are append-only.")


event.listen(EvidenceRecord, "before_update", refuse_change)
event.listen(EvidenceRecord, "before_delete", refuse_change)
