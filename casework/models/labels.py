"""Address labels (who an address belongs to) and traced fund-flow graphs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from casework.extensions import db
from casework.models.types import UTCDateTime, utcnow

ANY_CHAIN = 0  # chain_id of a label that holds on every EVM chain


class AddressLabel(db.Model):
    """A name and category for an address, from a source (an import file, a handler, the devnet)."""

    __tablename__ = "address_labels"
    __table_args__ = (
        UniqueConstraint("chain_id", "address", "source", name="uq_address_labels_source"),
        CheckConstraint("length(address) = 42 AND address = lower(address)", name="address_lowercase"),
        CheckConstraint("confidence_pct >= 0 AND confidence_pct <= 100", name="confidence_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chain_id: Mapped[int] = mapped_column(Integer, default=ANY_CHAIN)
    address: Mapped[str] = mapped_column(String(42), index=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(200))
    confidence_pct: Mapped[int] = mapped_column(Integer, default=50)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class TraceRun(db.Model):
    """One tracing of a case's funds on a chain: its parameters and the resulting graph (as JSON).

    The graph's edges are also stored as FlowEdge rows; its raw records are in the evidence chain.
    """

    __tablename__ = "trace_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    chain_id: Mapped[int] = mapped_column(Integer)
    graph: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
