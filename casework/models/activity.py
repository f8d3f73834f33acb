"""What happens on a case: the append-only audit log, the victim thread, internal notes, referrals."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, UniqueConstraint, event, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.extensions import db
from casework.messages import words
from casework.models.enums import EventKind, MessageAuthor, ReferralKind, ReferralStatus
from casework.models.evidence import refuse_change
from casework.models.types import UInt256, UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from casework.models.case import Case
    from casework.models.people import User
    from casework.models.recovery import Organisation, Recovery


class CaseEvent(db.Model):
    """One entry of a case's audit log: who did what, with before/after. Never updated or deleted."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Who acted when it was not a staff member: "victim" or "system".
    actor_label: Mapped[str] = mapped_column(String(32))
    action: Mapped[EventKind] = mapped_column(enum_column(EventKind, "event_kind", length=64))
    summary: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    case: Mapped[Case] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()

    @property
    def title(self) -> str:
        """The event's name for the timeline, in the reader's language."""
        return self.action.title

    @property
    def staff_summary(self) -> str:
        """The event's summary for the staff timeline, in the reader's language: put into words from its data for
        kinds that have a staff message, else (and for entries written before their kind had one) as stored."""
        if self.action.staff_message is not None:
            said = words({"key": self.action.staff_message, "values": self.data or {}})
            if said is not None:
                return said
        return self.summary or ""

    @classmethod
    def record(
        cls,
        case: Case,
        actor: User | None,
        action: EventKind,
        *,
        summary: str = "",
        before: Any = None,
        after: Any = None,
        actor_label: str | None = None,
        **data: Any,
    ) -> CaseEvent:
        """Add an event to the session (the caller commits with the change it describes)."""
        entry = cls(case=case, actor=actor, **cls.row(action, actor=actor, actor_label=actor_label, summary=summary,
                                                      before=before, after=after, **data))
        db.session.add(entry)
        return entry

    @staticmethod
    def row(
        action: EventKind,
        *,
        actor: User | None = None,
        actor_label: str | None = None,
        summary: str = "",
        before: Any = None,
        after: Any = None,
        created_at: datetime | None = None,
        **data: Any,
    ) -> dict[str, Any]:
        """An event's column values (all but case_id): the one shape of every entry, whether the ORM writes it
        (`record`) or a plain INSERT does (the intake fast path). An unknown action raises ValueError."""
        return {
            "actor_id": actor.id if actor is not None else None,
            "actor_label": actor_label or ("staff" if actor is not None else "system"),
            "action": EventKind(action),
            "summary": summary,
            "data": _payload(before=before, after=after, **data),
            "created_at": created_at or utcnow(),
        }


def _payload(*, before: Any = None, after: Any = None, **data: Any) -> dict[str, Any]:
    """An event's `data` as JSON values: the named details, and before/after when either is given."""
    payload = {key: _plain(value) for key, value in data.items()}
    if before is not None or after is not None:
        payload["before"], payload["after"] = _plain(before), _plain(after)
    return payload


def _plain(value: Any) -> Any:
    """Enums and datetimes as JSON-friendly values."""
    if hasattr(value, "value") and hasattr(value, "name"):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    return value


event.listen(CaseEvent, "before_update", refuse_change)
event.listen(CaseEvent, "before_delete", refuse_change)


class FormSubmission(db.Model):
    """The key of a form that took effect once (forms.portal.SentOnce): a second post with it changes nothing. Kept
    for two days (the hourly purge), longer than any browser retries a request."""

    __tablename__ = "form_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Message(db.Model):
    """A message in the thread the victim sees (from the victim or from staff)."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author_kind: Mapped[MessageAuthor] = mapped_column(enum_column(MessageAuthor, "message_author"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="messages")
    author: Mapped[User | None] = relationship()


class Note(db.Model):
    """An internal note: staff only, never shown to the victim."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="notes")
    author: Mapped[User] = relationship()


class Referral(db.Model):
    """A recovery action aimed at a third party (freeze request, issuer, agency, police, lawyer)."""

    __tablename__ = "referrals"
    # The trace proposes one referral per case, kind, chain and target address and updates it while it is only
    # proposed. Referrals without a chain and address (police, a lawyer) are not limited by it.
    __table_args__ = (
        UniqueConstraint("case_id", "kind", "chain_id", "target_address", name="uq_referrals_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ReferralKind] = mapped_column(enum_column(ReferralKind, "referral_kind"))
    status: Mapped[ReferralStatus] = mapped_column(
        enum_column(ReferralStatus, "referral_status"), default=ReferralStatus.PROPOSED
    )
    target_name: Mapped[str] = mapped_column(String(200))
    target_address: Mapped[str | None] = mapped_column(String(42))
    chain_id: Mapped[int | None] = mapped_column()
    # What reached the target, for a freeze request: token (None for the native coin) and amount.
    token_address: Mapped[str | None] = mapped_column(String(42))
    symbol: Mapped[str | None] = mapped_column(String(64))
    decimals: Mapped[int | None] = mapped_column()
    amount_raw: Mapped[int | None] = mapped_column(UInt256)
    tx_hashes: Mapped[list[str] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    follow_up_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The directory entry it is aimed at (None until one is known, e.g. an exchange the directory lacks).
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"),
                                                        index=True)
    # A courtesy hold's deadline: the police report must reach the target by then or the hold lapses.
    police_report_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # When a handler recorded that the police report reached the target (the courtesy hold's condition met).
    police_report_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What is (to be) sent: the drafted request, where it went, and whether it carries the victim's personal data
    # (only with their consent for that kind of target).
    draft_subject: Mapped[str | None] = mapped_column(String(300))
    draft_body: Mapped[str | None] = mapped_column(Text)
    sent_to: Mapped[str | None] = mapped_column(String(500))
    personal_data_shared: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    case: Mapped[Case] = relationship(back_populates="referrals")
    organisation: Mapped[Organisation | None] = relationship()
    recoveries: Mapped[list[Recovery]] = relationship(back_populates="referral", order_by="Recovery.id")
