"""The case and what the victim told us: losses, addresses, transactions."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.extensions import db
from casework.models.enums import AddressRole, CaseStatus, IncidentType, Priority, Resolution
from casework.models.types import UInt256, UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from casework.models.activity import CaseEvent, Message, Note, Referral
    from casework.models.people import Reporter, User


# Most urgent first (Priority.rank) as SQL: the expression of the index ix_cases_urgency, which a query repeats
# (literal values, no parameters) for the index to serve its ORDER BY.
URGENCY_SQL = "CASE priority " + " ".join(f"WHEN '{p.value}' THEN {p.rank}" for p in Priority) + " END"


class ReferenceCounter(db.Model):
    """The last case number handed out per year (CW-YYYY-NNNNNN)."""

    __tablename__ = "reference_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Case(db.Model):
    """A stolen-funds case. The reference is public; access for the victim needs the secret token."""

    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(
            "(status = 'closed') = (resolution IS NOT NULL)", name="resolution_iff_closed"
        ),
        Index("ix_cases_queue", "status", "priority", "submitted_at"),
        # The queue's orders, read in order (casework/services/queue.py): a page costs what it holds. Urgency is
        # the expression index ix_cases_urgency on (URGENCY_SQL, submitted_at, id), made by migration a1c3e5f7b9d0
        # and not declared here: PostgreSQL gives its expression back reworded, so Alembic would see a difference.
        Index("ix_cases_submitted", "submitted_at", "id"),
        Index("ix_cases_updated", "updated_at", "id"),
        Index("ix_cases_reference_pattern", "reference", postgresql_ops={"reference": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus, "case_status"), default=CaseStatus.SUBMITTED)
    resolution: Mapped[Resolution | None] = mapped_column(enum_column(Resolution, "resolution"))
    priority: Mapped[Priority] = mapped_column(enum_column(Priority, "priority"), default=Priority.NORMAL)
    incident_type: Mapped[IncidentType] = mapped_column(enum_column(IncidentType, "incident_type"))
    chain_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    summary: Mapped[str] = mapped_column(Text, default="")
    wallet_app: Mapped[str | None] = mapped_column(String(60))
    first_contact: Mapped[str | None] = mapped_column(String(200))
    incident_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    discovered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    victim_timezone: Mapped[str | None] = mapped_column(String(64))
    # SHA-256 of the victim's secret token; the token itself is never stored.
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    assigned_handler_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # A supervisor set the priority by hand (with a reason, in a PRIORITY event): recomputing from the facts keeps it.
    priority_overridden: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # A duplicate merged into another case points at it; its history, reporter and private link stay its own.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"), index=True)
    # The nearest deadline of the case's running SLA clocks (services.sla_clocks keeps it), for the queue's order.
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    reporter: Mapped[Reporter | None] = relationship(back_populates="case", uselist=False, cascade="all, delete-orphan")
    assigned_handler: Mapped[User | None] = relationship()
    merged_into: Mapped[Case | None] = relationship(remote_side="Case.id")
    losses: Mapped[list[ReportedLoss]] = relationship(back_populates="case", cascade="all, delete-orphan")
    addresses: Mapped[list[CaseAddress]] = relationship(back_populates="case", cascade="all, delete-orphan")
    transactions: Mapped[list[ReportedTransaction]] = relationship(back_populates="case", cascade="all, delete-orphan")
    events: Mapped[list[CaseEvent]] = relationship(back_populates="case", order_by="CaseEvent.id")
    messages: Mapped[list[Message]] = relationship(back_populates="case", order_by="Message.id")
    notes: Mapped[list[Note]] = relationship(back_populates="case", order_by="Note.id")
    referrals: Mapped[list[Referral]] = relationship(back_populates="case", order_by="Referral.id")

    def __repr__(self) -> str:
        return f"<Case {self.reference} {self.status.value}>"


class ReportedLoss(db.Model):
    """One asset the victim lost, as reported: raw integer amount plus decimals, never a float."""

    __tablename__ = "reported_losses"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    chain_id: Mapped[int] = mapped_column(Integer)
    asset_symbol: Mapped[str] = mapped_column(String(32))
    token_address: Mapped[str | None] = mapped_column(String(42))
    amount_raw: Mapped[int] = mapped_column(UInt256)
    decimals: Mapped[int] = mapped_column(Integer)
    fiat_value_cents: Mapped[int | None] = mapped_column(BigInteger)
    fiat_currency: Mapped[str | None] = mapped_column(String(3))

    case: Mapped[Case] = relationship(back_populates="losses")

    __table_args__ = (CheckConstraint("decimals >= 0 AND decimals <= 77", name="decimals_range"),)


class CaseAddress(db.Model):
    """An address that matters to a case, with its role (victim, attacker, exchange deposit, ...)."""

    __tablename__ = "case_addresses"
    __table_args__ = (
        UniqueConstraint("case_id", "chain_id", "address", "role", name="uq_case_addresses_role"),
        CheckConstraint("length(address) = 42", name="address_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    chain_id: Mapped[int] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(42), index=True)
    role: Mapped[AddressRole] = mapped_column(enum_column(AddressRole, "address_role"))
    label: Mapped[str | None] = mapped_column(String(200))

    case: Mapped[Case] = relationship(back_populates="addresses")


class ReportedTransaction(db.Model):
    """A transaction hash the victim gave us, before evidence capture."""

    __tablename__ = "reported_transactions"
    __table_args__ = (
        UniqueConstraint("case_id", "chain_id", "tx_hash", name="uq_reported_transactions_hash"),
        CheckConstraint("length(tx_hash) = 66", name="tx_hash_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    chain_id: Mapped[int] = mapped_column(Integer)
    tx_hash: Mapped[str] = mapped_column(String(66), index=True)
    note: Mapped[str | None] = mapped_column(String(500))

    case: Mapped[Case] = relationship(back_populates="transactions")
