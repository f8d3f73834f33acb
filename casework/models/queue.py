"""Work the scheduler process does: evidence jobs and the mail outbox (SLA clocks are in casework.models.sla)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from casework.extensions import db
from casework.messages import words
from casework.models.enums import JobKind, JobStatus, OutboxStatus
from casework.models.types import UTCDateTime, enum_column, utcnow

# What the polls read: only rows still to do are in their indexes, so sent mail and finished jobs (which keep
# a past next_attempt_at forever) cost a poll nothing. The polls repeat these exact predicates as literal SQL:
# SQLite uses a partial index only when the query's WHERE holds the index's terms, never with bound parameters.
JOBS_TO_DO = text(f"status IN ('{JobStatus.QUEUED.value}', '{JobStatus.RUNNING.value}')")
OUTBOX_PENDING = text(f"status = '{OutboxStatus.PENDING.value}'")


class EvidenceJob(db.Model):
    """A queued capture, discovery or tracing job, run by the scheduler and resumable after a crash.

    `lease_token` names the worker holding a running job; its writes commit only while the token is still its.
    """

    __tablename__ = "evidence_jobs"
    __table_args__ = (
        Index("ix_evidence_jobs_to_do", "next_attempt_at", postgresql_where=JOBS_TO_DO, sqlite_where=JOBS_TO_DO),
        # A job queued at most once per case (NULL: no limit), e.g. the first-hour trace of a chain.
        Index("uq_evidence_jobs_once", "case_id", "once_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[JobKind] = mapped_column(enum_column(JobKind, "job_kind", length=32))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[JobStatus] = mapped_column(enum_column(JobStatus, "job_status"), default=JobStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    # What the job is doing or did, and why it last failed, as messages (casework.messages) put into words for
    # each reader. Rows written before messages keep their text (in the language of whoever ran the job), which
    # is shown when there is no message; every write of a message clears it.
    progress_message: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    error_message: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    progress_text: Mapped[str] = mapped_column("progress", String(200), default="")
    error_text: Mapped[str | None] = mapped_column("last_error", Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    once_key: Mapped[str | None] = mapped_column(String(64))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def progress(self) -> str:
        """What the job is doing or did, in the reader's language."""
        return words(self.progress_message) or self.progress_text or ""

    @property
    def last_error(self) -> str | None:
        """Why the job last failed, in the reader's language (None when it has not failed or has since finished)."""
        return words(self.error_message) or self.error_text


class Notification(db.Model):
    """An e-mail waiting in the outbox; written in the transaction that caused it, sent by the scheduler.

    A sender claims a row by counting an attempt and moving next_attempt_at past its lease; `attempts` then
    names that claim, and only the sender holding it records the row sent or failed.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_pending", "next_attempt_at", postgresql_where=OUTBOX_PENDING,
              sqlite_where=OUTBOX_PENDING),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    body_text: Mapped[str] = mapped_column(Text)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
