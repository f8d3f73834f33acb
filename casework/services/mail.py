"""E-mail through an outbox: queued in the transaction that causes it, sent later by the scheduler."""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app
from sqlalchemy import insert, select

from casework.extensions import db
from casework.models import Notification, OutboxStatus, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
SENT_BODY = "[sent; the body is not kept because it may hold a private link]"
SEND_BATCH = 50


def queue_email(recipient: str, subject: str, body_text: str, *, case_id: int | None = None) -> None:
    """Put an e-mail in the outbox: one INSERT in the caller's transaction, committed with what caused it."""
    db.session.connection().execute(
        _QUEUE, {"case_id": case_id, "recipient": recipient, "subject": subject, "body_text": body_text}
    )


_QUEUE = insert(Notification.__table__)


def mask_address(address: str) -> str:
    """An e-mail address fit for a log line: v***@example.org."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def _build_message(notification: Notification) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_SENDER"]
    message["To"] = notification.recipient
    message["Subject"] = notification.subject
    message["Message-ID"] = make_msgid(domain="casework.local")
    message.set_content(notification.body_text)
    return message


def _smtp() -> smtplib.SMTP:
    config = current_app.config
    connection = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=20)
    if config["MAIL_USE_TLS"]:
        connection.starttls()
    if config["MAIL_USERNAME"]:
        connection.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
    return connection


def send_pending(now: datetime | None = None) -> int:
    """Send due outbox e-mails; failures are retried with backoff. Returns how many were sent.

    Rows are claimed with SKIP LOCKED on PostgreSQL, so two schedulers never send one e-mail twice.
    """
    now = now or utcnow()
    due = db.session.scalars(
        select(Notification)
        .where(Notification.status == OutboxStatus.PENDING, Notification.next_attempt_at <= now)
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(SEND_BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    if not due:
        db.session.rollback()
        return 0
    sent = 0
    try:
        connection = _smtp()
    except (OSError, smtplib.SMTPException) as exc:
        for notification in due:
            _record_failure(notification, exc, now)
        db.session.commit()
        log.warning("Mail server unreachable (%s); %d e-mails wait for a retry.", type(exc).__name__, len(due))
        return 0
    with connection:
        for notification in due:
            try:
                connection.send_message(_build_message(notification))
            except (OSError, smtplib.SMTPException) as exc:
                _record_failure(notification, exc, now)
                continue
            notification.status = OutboxStatus.SENT
            notification.sent_at = now
            notification.attempts += 1
            # Bodies carry private links (tracking and resume tokens): once sent, they are not kept.
            notification.body_text = SENT_BODY
            sent += 1
    db.session.commit()
    return sent


def _record_failure(notification: Notification, exc: Exception, now: datetime) -> None:
    notification.attempts += 1
    notification.last_error = f"{type(exc).__name__}: {exc}"[:500]
    if notification.attempts >= MAX_ATTEMPTS:
        notification.status = OutboxStatus.FAILED
        log.error("E-mail %d to %s failed for good.", notification.id, mask_address(notification.recipient))
    else:
        notification.next_attempt_at = now + _retry_delay(notification.attempts)
