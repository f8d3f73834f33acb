"""The outbox: e-mails queued with what caused them, sent by the scheduler's job over real SMTP, each recorded
as soon as the server accepts it, one bad row failing alone, never taken by two senders."""

from datetime import timedelta

from sqlalchemy import create_engine, text

from casework.extensions import db
from casework.models import Notification, OutboxStatus, utcnow
from casework.services import mail
from evidence.devnet.anvil import free_port
from tests.fixtures.factories import at_once
from tests.fixtures.mail import Mailbox, serving


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


def _queue(count: int, *, prefix: str = "Case update") -> None:
    for number in range(count):
        mail.queue_email(f"victim{number}@example.org", f"{prefix} {number}", f"Body {number}")
    db.session.commit()


def _rows() -> list[Notification]:
    db.session.expire_all()
    return db.session.scalars(db.select(Notification).order_by(Notification.id)).all()


def test_a_poison_row_fails_alone_and_the_good_ones_are_sent_once(app, smtp_server):
    _use_server(app, smtp_server.host, smtp_server.port)
    mail.queue_email("first@example.org", "Your case", "Body")
    # A header that cannot be built (a line break in the subject) raises while the message is made.
    mail.queue_email("second@example.org", "Your case\nBcc: everyone@example.org", "Body")
    mail.queue_email("third@example.org", "Your case", "Body")
    db.session.commit()
    now = utcnow()
    assert mail.send_pending(now) == 2
    assert mail.send_pending(now) == 0  # the good ones are not sent again; the bad one waits for its retry
    assert sorted(m["To"] for m in smtp_server.messages) == ["first@example.org", "third@example.org"]
    first, poison, third = _rows()
    assert first.status is third.status is OutboxStatus.SENT
    assert poison.status is OutboxStatus.PENDING and poison.attempts == 1 and poison.next_attempt_at > now
    assert poison.last_error.startswith("ValueError: ") and "linefeed" in poison.last_error
    moment = now
    for _ in range(mail.MAX_ATTEMPTS):
        moment += timedelta(days=1)
        mail.send_pending(moment)
    assert _rows()[1].status is OutboxStatus.FAILED and len(smtp_server.messages) == 2


def test_the_message_id_is_derived_from_the_notification(app, smtp_server):
    _use_server(app, smtp_server.host, smtp_server.port)
    _queue(2)
    assert mail.send_pending() == 2
    first, second = _rows()
    received = [m["Message-ID"] for m in smtp_server.messages]
    assert received == [mail.message_id(first), mail.message_id(second)]
    assert received[0].startswith(f"<{first.id}.") and received[0].endswith("@example.org>")
    assert received[0] != received[1] and mail.message_id(first) == received[0]


def test_senders_running_at_once_send_each_message_once(app, smtp_server):
    _use_server(app, smtp_server.host, smtp_server.port)
    _queue(6)
    counts = at_once(app, mail.send_pending, 3)
    assert sum(counts) == 6
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(f"victim{n}@example.org" for n in range(6))
    assert all(row.status is OutboxStatus.SENT and row.attempts == 1 for row in _rows())


class RecordChecker(Mailbox):
    """An SMTP server that, as each message arrives, counts the outbox rows already recorded as sent."""

    def __init__(self, database_url: str) -> None:
        super().__init__(host="127.0.0.1", port=free_port())
        self.engine = create_engine(database_url)
        self.sent_before: list[int] = []

    async def handle_DATA(self, server, session, envelope):
        with self.engine.connect() as connection:
            self.sent_before.append(
                connection.scalar(text("SELECT count(*) FROM notifications WHERE status = 'sent'")))
        return await super().handle_DATA(server, session, envelope)


def test_each_e_mail_is_recorded_as_sent_before_the_next_goes_out(app, database_url):
    with serving(RecordChecker(database_url)) as server:
        _use_server(app, server.host, server.port)
        _queue(4)
        assert mail.send_pending() == 4
    server.engine.dispose()
    assert server.sent_before == [0, 1, 2, 3]


def test_an_e_mail_whose_sender_died_on_every_attempt_fails_instead_of_going_out_again(app, smtp_server, caplog):
    _use_server(app, smtp_server.host, smtp_server.port)
    _queue(1)
    moment = utcnow()
    for _ in range(mail.MAX_ATTEMPTS):
        # A sender claims the row, then dies (SIGKILL) before it can record anything.
        assert mail._claim_next(moment) is not None
        moment += timedelta(seconds=app.config["OUTBOX_LEASE_SECONDS"] + 1)
    assert mail.send_pending(moment) == 0
    [row] = _rows()
    assert row.status is OutboxStatus.FAILED and "stopped while sending this e-mail" in row.last_error
    assert smtp_server.messages == []
