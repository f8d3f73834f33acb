"""A case's tasks (its checklist) and the per-incident-type template items a checklist is made from."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.extensions import db
from casework.models.enums import IncidentType
from casework.models.types import UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from casework.models.case import Case
    from casework.models.people import User

TITLE_MAX_CHARS = 200

# The shipped checklist items (seeded by migration b2d4f6a8c0e1 with these keys). An item or task that still has
# its shipped title stores the key and is shown in the reader's language; a title an admin writes replaces it and is
# shown as written.
DEFAULT_TASK_TITLES = {
    "confirm_approval_drain": _l("Confirm the approval and the drain on-chain"),
    "confirm_drain": _l("Confirm the drain on-chain"),
    "confirm_payments": _l("Confirm the victim's payments on-chain"),
    "trace_funds": _l("Trace the funds"),
    "identify_exchange": _l("Identify the receiving exchange"),
    "send_freeze_requests": _l("Send freeze requests"),
    "tell_revoke_approvals": _l("Tell the victim to revoke their approvals"),
    "tell_move_remaining": _l("Tell the victim to move what is left to a new wallet"),
    "warn_recovery_scams": _l("Warn the victim about fake \"recovery agents\""),
    "collect_scam_contacts": _l("Collect the scammer's contacts and the scam website"),
    "report_platform": _l("Report the scam website or app to its host"),
    "secure_accounts": _l("Tell the victim to secure their phone number and accounts"),
    "contact_exchange_security": _l("Contact the exchange's security team"),
    "review_case": _l("Review what the victim reported"),
}


class TaskTemplateItem(db.Model):
    """One item of the checklist for an incident type: its title (or shipped key), order and due days."""

    __tablename__ = "task_template_items"
    __table_args__ = (
        CheckConstraint("due_days IS NULL OR (due_days >= 0 AND due_days <= 365)", name="due_days_range"),
        CheckConstraint("key IS NOT NULL OR title IS NOT NULL", name="key_or_title"),
        Index("ix_task_template_items_type", "incident_type", "active", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_type: Mapped[IncidentType] = mapped_column(enum_column(IncidentType, "incident_type"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    key: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(String(TITLE_MAX_CHARS))
    # Days after the case's submission the task is due; None: no due date.
    due_days: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def display_title(self) -> str:
        """The title in the reader's language (a shipped item's key) or as an admin wrote it."""
        return task_title(self.key, self.title)


class Task(db.Model):
    """Something to do on a case, with an assignee and a due date; done or open."""

    __tablename__ = "tasks"
    __table_args__ = (
        # A checklist item is added to a case once, however often the checklist is asked for.
        UniqueConstraint("case_id", "template_item_id", name="uq_tasks_template_item"),
        CheckConstraint("(done_at IS NULL) = (done_by_id IS NULL)", name="done_by_iff_done"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX_CHARS))
    # The shipped key of a checklist task whose item kept its shipped title (shown in the reader's language; `title`
    # then holds the English words, for the record).
    key: Mapped[str | None] = mapped_column(String(64))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    due_on: Mapped[date | None] = mapped_column(Date)
    position: Mapped[int] = mapped_column(Integer, default=0)
    template_item_id: Mapped[int | None] = mapped_column(ForeignKey("task_template_items.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    case: Mapped[Case] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    done_by: Mapped[User | None] = relationship(foreign_keys=[done_by_id])

    @property
    def display_title(self) -> str:
        """The shipped title in the reader's language while the task has its key, else the title as written."""
        return task_title(self.key) if self.key in DEFAULT_TASK_TITLES else self.title


def task_title(key: str | None, title: str | None = None) -> str:
    """A title an admin wrote as it is; else the shipped key's title in the reader's language."""
    if title:
        return title
    return str(DEFAULT_TASK_TITLES[key]) if key in DEFAULT_TASK_TITLES else (key or "")
