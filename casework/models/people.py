"""Staff users (victims never have accounts) and the victim's contact record."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.extensions import db
from casework.models.enums import Role, SlaWarnings
from casework.models.types import UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from casework.models.case import Case


class User(UserMixin, db.Model):
    """A staff account: handler, supervisor, legal or admin."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lowercase"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    preferred_language: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # On duty: told (in the console and by e-mail) about urgent news on cases nobody is assigned to.
    on_duty: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # An IANA zone the console shows times in; None: the configured STAFF_TIMEZONE (casework.timezones).
    time_zone: Mapped[str | None] = mapped_column(String(64))
    # SLA warnings by e-mail one by one, or in one daily digest (casework.services.sla_digest).
    sla_warnings: Mapped[SlaWarnings] = mapped_column(enum_column(SlaWarnings, "sla_warnings"),
                                                      default=SlaWarnings.EMAIL, server_default=SlaWarnings.EMAIL.value)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sessions of deactivated staff
        return self.active

    def has_role(self, *roles: Role) -> bool:
        """True when the user holds one of roles (admins hold every role)."""
        return self.role is Role.ADMIN or self.role in roles

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value}>"


class Reporter(db.Model):
    """The victim who filed a case: contact details, language, jurisdiction, consents."""

    __tablename__ = "reporters"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    country: Mapped[str | None] = mapped_column(String(2))
    preferred_language: Mapped[str] = mapped_column(String(16), default="en")
    jurisdiction: Mapped[str | None] = mapped_column(String(120))
    consent_law_enforcement: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_exchanges: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_consumer_agencies: Mapped[bool] = mapped_column(Boolean, default=False)

    case: Mapped[Case] = relationship(back_populates="reporter")
