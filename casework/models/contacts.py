"""The scammer contacts of each case in their normalised form (forms.contacts), for finding linked cases."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from casework.extensions import db


class CaseContact(db.Model):
    """One normalised scammer contact of a case (kind: websites, phones, emails, social). Written with the report's
    extras at filing; the report's own words stay in ReportExtras."""

    __tablename__ = "case_contacts"
    __table_args__ = (
        UniqueConstraint("case_id", "kind", "value", name="uq_case_contacts_value"),
        Index("ix_case_contacts_kind_value", "kind", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(300))
