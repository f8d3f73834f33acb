"""Documents we issued (dossiers rendered as PDF): what was rendered, for whom, by whom, and its hash and code."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.extensions import db
from casework.models.enums import DocumentAudience
from casework.models.evidence import refuse_change
from casework.models.types import UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from casework.models.case import Case
    from casework.models.people import User

VERIFICATION_CODE_LENGTH = 10


class Document(db.Model):
    """One issued PDF, as it left us: its SHA-256 (the bytes are kept under UPLOAD_DIR/documents by that hash) and a
    short verification code printed inside it. /verify answers from these rows. Never updated or deleted."""

    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint("length(sha256) = 64", name="sha256_length"),
        CheckConstraint(f"length(code) = {VERIFICATION_CODE_LENGTH}", name="code_length"),
        CheckConstraint("size > 0", name="size_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"), index=True)
    audience: Mapped[DocumentAudience] = mapped_column(enum_column(DocumentAudience, "document_audience", length=32))
    language: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    code: Mapped[str] = mapped_column(String(VERIFICATION_CODE_LENGTH), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    # A staff member, or None with a label saying who else rendered it ("cli", "victim").
    rendered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    rendered_by_label: Mapped[str] = mapped_column(String(32))
    rendered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The referral whose letter this is (the document its target received), for referral letters.
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"), index=True)

    case: Mapped[Case] = relationship()
    rendered_by: Mapped[User | None] = relationship()


event.listen(Document, "before_update", refuse_change)
event.listen(Document, "before_delete", refuse_change)
