"""E-mail through an outbox: queued in the transaction that causes it, sent later by the scheduler.

The delivery promise is at least once. A sender claims one row at a time with a compare-and-set (it counts an
attempt and moves the row's next_attempt_at past OUTBOX_LEASE_SECONDS, `FOR UPDATE SKIP LOCKED` on PostgreSQL;
one UPDATE statement on SQLite), so two senders never take the same row, and it records the row as sent in
its own commit as soon as the SMTP server has accepted the message. An e-mail goes out twice only when a
sender dies (or loses its database) in the moment between the server's acceptance and that commit: at most the
one message in flight per crash, sent again once its lease has run out. Its Message-ID is derived from the
notification, so the copy is recognisable as the same message. A row that cannot be built or sent fails alone,
with its error, and is retried with backoff; the others go out.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr

from flask import current_app
from sqlalchemy import insert, select, update

from casework.extensions import db
from casework.models import Notification, OutboxStatus, utcnow
from casework.models.queue import OUTBOX_PENDING

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
SENT_BODY = "[sent; the body is not kept because it may hold a private link]"
SEND_BATCH = 50
ABANDONED = "the sender stopped while sending this e-mail {n} times; it is not sent again"


def queue_email(recipient: str, subject: str, body_text: str, *, case_id: int | None = None) -> None:
    """Put an e-mail in the outbox: one INSERT in the caller's transaction, committed with what caused it."""
    db.session.connection().execute(
        _QUEUE, {"case_id": case_id, "recipient": recipient, "subject": subject, "body_text": body_text}
    )


def queue_emails(emails: list[tuple[str, str, str, int | None]]) -> None:
    """Several e-mails (recipient, subject, body, case id) in the outbox: one statement, as queue_email."""
    if emails:
        db.session.connection().execute(_QUEUE, [
            {"recipient": recipient, "subject": subject, "body_text": body, "case_id": case_id}
            for recipient, subject, body, case_id in emails
        ])


_QUEUE = insert(Notification.__table__)


def mask_address(address: str) -> str:
    """An e-mail address fit for a log line: v***@example.org."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def message_id(notification: Notification) -> str:
    """The Message-ID of a notification's e-mail, the same every time it is sent: <id.digest@sender-domain>."""
    domain = parseaddr(current_app.config["MAIL_SENDER"])[1].rpartition("@")[2] or "casework.local"
    seed = f"{notification.id}|{notification.created_at.isoformat()}|{notification.recipient}"
    return f"<{notification.id}.{hashlib.sha256(seed.encode()).hexdigest()[:20]}@{domain}>"


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def _build_message(notification: Notification) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_SENDER"]
    message["To"] = notification.recipient
    message["Subject"] = notification.subject
    message["Message-ID"] = message_id(notification)
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


@dataclass(frozen=True)
class _Claim:
    id: int
    attempts: int  # the attempt this sender counted; only it may record the row


def _due(now: datetime):
    return (OUTBOX_PENDING, Notification.next_attempt_at <= now)


def _claim_next(now: datetime) -> _Claim | None:
    """Take the next due row for this sender (committed), or None."""
    lease = timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    candidate = (
        select(Notification.id)
        .where(*_due(now), Notification.attempts < MAX_ATTEMPTS)
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    # The conditions are repeated outside the subquery: a row another sender took meanwhile no longer matches.
    row = db.session.execute(
        update(Notification)
        .where(Notification.id == candidate, *_due(now), Notification.attempts < MAX_ATTEMPTS)
        .values(attempts=Notification.attempts + 1, next_attempt_at=now + lease)
        .returning(Notification.id, Notification.attempts)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    db.session.commit()
    return _Claim(row.id, row.attempts) if row is not None else None


def _fail_abandoned(now: datetime) -> None:
    """Rows whose sender died on their last attempt (a claim never recorded) fail instead of going out again."""
    failed = db.session.execute(
        update(Notification)
        .where(*_due(now), Notification.attempts >= MAX_ATTEMPTS)
        .values(status=OutboxStatus.FAILED, last_error=ABANDONED.format(n=MAX_ATTEMPTS))
        .returning(Notification.id)
        .execution_options(synchronize_session=False)
    ).scalars().all()
    db.session.commit()
    for notification_id in failed:
        log.error("E-mail %d failed for good: its sender stopped %d times while sending it.", notification_id,
                  MAX_ATTEMPTS)


def _record(claim: _Claim, **values) -> bool:
    """Write the outcome of this sender's attempt (committed); False if the row is no longer its claim."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.id == claim.id, Notification.attempts == claim.attempts, OUTBOX_PENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def send_pending(now: datetime | None = None) -> int:
    """Send up to SEND_BATCH due outbox e-mails, each recorded at once; returns how many the server accepted."""
    now = now or utcnow()
    _fail_abandoned(now)
    sent = 0
    connection: smtplib.SMTP | None = None
    try:
        for _ in range(SEND_BATCH):
            claim = _claim_next(now)
            if claim is None:
                break
            if connection is None:
                try:
                    connection = _smtp()
                except (OSError, smtplib.SMTPException) as exc:
                    _record_failure(claim, exc, now)
                    log.warning("Mail server unreachable (%s); the outbox waits for a retry.", type(exc).__name__)
                    break
            try:
                connection.send_message(_build_message(db.session.get(Notification, claim.id)))
            except Exception as exc:  # noqa: BLE001 - whatever one row does, it fails alone
                db.session.rollback()
                _record_failure(claim, exc, now)
                if isinstance(exc, (OSError, smtplib.SMTPServerDisconnected)):
                    _close(connection)
                    connection = None  # the next e-mail connects again
                continue
            # Bodies carry private links (tracking and resume tokens): once sent, they are not kept.
            if not _record(claim, status=OutboxStatus.SENT, sent_at=now, body_text=SENT_BODY, last_error=None):
                log.warning("E-mail %d was sent after its claim ran out; another sender may send it again.",
                            claim.id)
            sent += 1
    finally:
        if connection is not None:
            _close(connection)
    return sent


def _close(connection: smtplib.SMTP) -> None:
    try:
        connection.quit()
    except (OSError, smtplib.SMTPException):
        connection.close()


def _record_failure(claim: _Claim, exc: Exception, now: datetime) -> None:
    error = f"{type(exc).__name__}: {exc}"[:500]
    if claim.attempts >= MAX_ATTEMPTS:
        _record(claim, status=OutboxStatus.FAILED, last_error=error)
        recipient = db.session.scalar(select(Notification.recipient).where(Notification.id == claim.id))
        log.error("E-mail %d to %s failed for good.", claim.id, mask_address(recipient or ""))
    else:
        _record(claim, last_error=error, next_attempt_at=now + _retry_delay(claim.attempts))
        log.warning("E-mail %d was not sent (%s); it will be retried.", claim.id, type(exc).__name__)
