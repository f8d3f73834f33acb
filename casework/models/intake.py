"""The report wizard's server-side draft, what a victim adds beyond the case's own columns, and uploaded files."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from casework.extensions import db
from casework.models.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from casework.models.case import Case


class ReportDraft(db.Model):
    """A report being written: answers per step (secrets already removed), kept until submitted or expired.

    The victim reaches it through a private resume link; only the SHA-256 of that link's token is stored.
    """

    __tablename__ = "report_drafts"
    # AUTOINCREMENT: SQLite would otherwise give a deleted draft's id to the next draft (PostgreSQL never does).
    __table_args__ = (CheckConstraint("step >= 1", name="step_positive"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    resume_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # {"incident": {...}, "wallet": {...}, ...}: each step's answers as the form holds them (strings, lists).
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Names of the steps whose saved answers passed validation.
    completed_steps: Mapped[list[str]] = mapped_column(JSON, default=list)
    step: Mapped[int] = mapped_column(Integer, default=1)  # the step the victim was last on
    locale: Mapped[str] = mapped_column(String(16), default="en")
    resume_link_emailed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Moved forward at every save: a draft left alone for 30 days expires.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # Written by the review page once every step passed validation: the report it built, and a digest of what
    # else the validation depended on (language, chains offered). The submit reuses the report while the digest
    # still matches; new answers void it (below).
    reviewed_digest: Mapped[str | None] = mapped_column(String(64))
    reviewed_report: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    @validates("answers")
    def _void_review(self, key: str, answers: dict[str, Any]) -> dict[str, Any]:
        """New answers void the report validated at review: the review page or the submit validates again."""
        self.reviewed_digest = self.reviewed_report = None
        return answers

    def __repr__(self) -> str:
        return f"<ReportDraft {self.id} step {self.step}>"


class ReportExtras(db.Model):
    """What a report says beyond the case's columns: the other side's contacts, exchanges, reports made elsewhere."""

    __tablename__ = "report_extras"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    # {"websites": [...], "phones": [...], "emails": [...], "social": [...], "apps": [...]}
    scammer_contacts: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    exchanges: Mapped[list[str]] = mapped_column(JSON, default=list)
    # {"police_report_number": ..., "police_agency": ..., "platform_ticket": ...}
    prior_reports: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)

    case: Mapped[Case] = relationship()


class StoredFile(db.Model):
    """File content, stored once under UPLOAD_DIR by its SHA-256 (never under a name the user chose)."""

    __tablename__ = "stored_files"
    __table_args__ = (
        CheckConstraint("length(sha256) = 64", name="sha256_length"),
        CheckConstraint("size > 0", name="size_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))  # detected from the content, not the name
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseFile(db.Model):
    """An upload as the victim (or staff) gave it: its original name, attached to a draft or, once filed, a case."""

    __tablename__ = "case_files"
    __table_args__ = (
        CheckConstraint("(draft_id IS NOT NULL) OR (case_id IS NOT NULL)", name="attached"),
        UniqueConstraint("draft_id", "stored_file_id", name="uq_case_files_draft_file"),
        UniqueConstraint("case_id", "stored_file_id", name="uq_case_files_case_file"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stored_file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id", ondelete="RESTRICT"), index=True)
    # Checked at commit: the final submit deletes (claims) the draft first and moves its files to the case later
    # in the same transaction. Whoever deletes a draft deletes or moves its files.
    draft_id: Mapped[int | None] = mapped_column(
        ForeignKey("report_drafts.id", deferrable=True, initially="DEFERRED"), index=True
    )
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    stored: Mapped[StoredFile] = relationship(lazy="joined")

    @property
    def sha256(self) -> str:
        return self.stored.sha256

    @property
    def size(self) -> int:
        return self.stored.size

    @property
    def content_type(self) -> str:
        return self.stored.content_type
