"""The outbox: e-mails queued with what caused them, sent by the scheduler's job over real SMTP."""

from datetime import timedelta

from casework.extensions import db
from casework.models import Notification, OutboxStatus, utcnow
from casework.services import mail
from evidence.devnet.anvil import free_port


def _use_server(app, host, port):
    app.config.update(MAIL_SERVER=host, MAIL_PORT=port, MAIL_SENDER="Casework <cases@example.org>")


def test_queued_mail_is_sent_once_over_smtp(app, smtp_server, make_case):
    _use_server(app, smtp_server.host, smtp_server.port)
    filed = make_case()
    mail.queue_email("victim@example.org", "Your case CW", "Your case is registered.\n你的案件已登记。",
                     case_id=filed.case_id)
    db.session.commit()
    assert mail.send_pending() == 1
    assert mail.send_pending() == 0
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["To"] == "victim@example.org" and message["Subject"] == "Your case CW"
    assert "你的案件已登记" in message.get_payload(decode=True).decode("utf-8")
    notification = db.session.scalars(db.select(Notification)).one()
    assert notification.status is OutboxStatus.SENT and notification.sent_at is not None
    assert notification.body_text == mail.SENT_BODY  # private links are not kept once sent


def test_an_unreachable_mail_server_keeps_the_mail_for_a_later_retry(app, smtp_server):
    _use_server(app, "127.0.0.1", free_port())  # nothing listens there
    mail.queue_email("victim@example.org", "Hello", "Body")
    db.session.commit()
    now = utcnow()
    assert mail.send_pending(now) == 0
    notification = db.session.scalars(db.select(Notification)).one()
    assert notification.status is OutboxStatus.PENDING and notification.attempts == 1
    assert notification.next_attempt_at > now
    assert "ConnectionRefusedError" in notification.last_error
    # Not due yet: nothing is tried; once due and the server is back, it goes out.
    _use_server(app, smtp_server.host, smtp_server.port)
    assert mail.send_pending(now) == 0
    assert mail.send_pending(now + timedelta(hours=1)) == 1
    assert len(smtp_server.messages) == 1


def test_mail_that_keeps_failing_is_marked_failed_and_logged_without_the_address(app, caplog):
    _use_server(app, "127.0.0.1", free_port())
    mail.queue_email("private.person@example.org", "Hello", "Body")
    db.session.commit()
    moment = utcnow()
    for _ in range(mail.MAX_ATTEMPTS):
        mail.send_pending(moment)
        moment += timedelta(days=1)
    notification = db.session.scalars(db.select(Notification)).one()
    assert notification.status is OutboxStatus.FAILED
    assert "private.person" not in caplog.text
    assert "p***@example.org" in caplog.text
