"""Staff alerts: the notices shown in the console's header, for one staff member or for the on-duty queue.

An alert's text is a message (casework.messages.say: a key and its values), written in the transaction of the change
it tells about and put into words in the reader's language when shown. The first-hour work tells the assigned
handler (or the on-duty staff when nobody is assigned) that a freeze request waits to be checked; the SLA sweep
uses the same function for its warnings. E-mail goes separately, through the outbox (casework.services.mail).
"""

from __future__ import annotations

from sqlalchemy import or_, select, update

from casework.extensions import db
from casework.messages import Message
from casework.models import Case, Role, StaffAlert, User, utcnow


def alert(message: Message, *, case: Case | None = None, user: User | None = None) -> StaffAlert:
    """Add an alert for user, or for the on-duty queue when user is None (the caller commits)."""
    row = StaffAlert(user_id=user.id if user else None, case_id=case.id if case else None, message=message)
    db.session.add(row)
    return row


def on_duty_staff() -> list[User]:
    """Who hears about cases nobody is assigned to: the active staff marked on duty, else the supervisors."""
    active = select(User).where(User.active.is_(True)).order_by(User.id)
    staff = list(db.session.scalars(active.where(User.on_duty.is_(True))))
    return staff or list(db.session.scalars(active.where(User.role.in_((Role.SUPERVISOR, Role.ADMIN)))))


def _visible_to(user: User):
    mine = StaffAlert.user_id == user.id
    if user.on_duty or user.has_role(Role.SUPERVISOR):
        return or_(mine, StaffAlert.user_id.is_(None))
    return mine


def unread_for(user: User, limit: int = 20) -> list[StaffAlert]:
    """The user's unread alerts (with the on-duty queue's, for staff on duty and supervisors), newest first."""
    return list(db.session.scalars(
        select(StaffAlert).where(_visible_to(user), StaffAlert.read_at.is_(None))
        .order_by(StaffAlert.id.desc()).limit(limit)
    ))


def mark_read(user: User, alert_ids: list[int] | None = None) -> int:
    """Mark the user's alerts read (all of them, or those ids); returns how many (the caller commits)."""
    query = update(StaffAlert).where(_visible_to(user), StaffAlert.read_at.is_(None))
    if alert_ids is not None:
        query = query.where(StaffAlert.id.in_(alert_ids))
    return db.session.execute(query.values(read_at=utcnow()).execution_options(synchronize_session=False)).rowcount
