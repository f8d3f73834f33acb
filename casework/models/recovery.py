"""The routes to recovery: the directory of organisations, what targets froze or returned, and staff alerts."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.extensions import db
from casework.messages import words
from casework.models.enums import ChannelKind, OrganisationKind, RecoveryKind, Requester
from casework.models.types import UInt256, UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from casework.models.activity import Referral


class Organisation(db.Model):
    """An entry of the directory: an exchange, stablecoin issuer, wallet maker, agency, police force or lawyer.

    What it takes to make it act: who may ask (`requester`), by which channel, what it requires, how long it
    usually takes, and the deadlines its answer sets off (a courtesy hold lasts `courtesy_hold_days` unless a
    police report follows). `facts` holds each fact's source and the date it was checked, as a list of
    {"field", "text", "source", "checked_on"}. `aliases` are the names labels and traces use for it (matched
    case-insensitively), so a trace's "Harbour Exchange" finds its entry.
    """

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(enum_column(OrganisationKind, "organisation_kind", length=24))
    # ISO 3166-1 alpha-2 of the country it serves, None for one that acts worldwide.
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    requester: Mapped[Requester] = mapped_column(enum_column(Requester, "requester", length=16))
    channel_kind: Mapped[ChannelKind] = mapped_column(enum_column(ChannelKind, "channel_kind", length=16))
    channel: Mapped[str | None] = mapped_column(String(500))
    requirements: Mapped[str | None] = mapped_column(Text)
    turnaround: Mapped[str | None] = mapped_column(String(200))
    courtesy_hold_days: Mapped[int | None] = mapped_column(Integer)
    follow_up_days: Mapped[int] = mapped_column(Integer, default=2)
    can_freeze: Mapped[bool] = mapped_column(Boolean, default=False)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    facts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The admin who last changed the entry; None while it is as the directory import left it (an import keeps an
    # entry an admin changed unless told to replace it).
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<Organisation {self.slug}>"


class Recovery(db.Model):
    """An amount a referral's target froze or returned, in one asset, as a handler or the target's desk recorded
    it. Rows are added, never changed: the case's recovered figures are their sums."""

    __tablename__ = "recoveries"
    __table_args__ = (Index("ix_recoveries_case_kind", "case_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    kind: Mapped[RecoveryKind] = mapped_column(enum_column(RecoveryKind, "recovery_kind", length=16))
    chain_id: Mapped[int | None] = mapped_column(Integer)
    token_address: Mapped[str | None] = mapped_column(String(42))
    symbol: Mapped[str] = mapped_column(String(64))
    decimals: Mapped[int] = mapped_column(Integer)
    amount_raw: Mapped[int] = mapped_column(UInt256)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    referral: Mapped[Referral] = relationship(back_populates="recoveries")


class StaffAlert(db.Model):
    """A notice in the console's header: for one staff member, or (user_id None) for the on-duty queue.

    The text is a message (casework.messages: a key and its values), put into words in the reader's language.
    """

    __tablename__ = "staff_alerts"
    __table_args__ = (Index("ix_staff_alerts_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    message: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def text(self) -> str:
        return words(self.message) or ""
