"""The scheduler process killed with SIGKILL in the middle of sending the outbox, then started again: every
e-mail arrives, and an e-mail sent twice carries the same Message-ID both times."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from email import message_from_bytes
from pathlib import Path

from sqlalchemy import func, select

from casework.extensions import db
from casework.models import Notification, OutboxStatus
from casework.services import mail
from evidence.devnet.anvil import free_port
from tests.fixtures.mail import Mailbox, serving

ROOT = Path(__file__).resolve().parents[2]
SENDER = "Casework <cases@example.org>"
EMAILS = 12


class SlowMailbox(Mailbox):
    """Keeps every message it receives, and takes a while to accept each, so that a kill lands mid-batch."""

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        await asyncio.sleep(0.3)
        return "250 Message accepted for delivery"


def _start_scheduler(database_url: str, server: Mailbox, tmp_path: Path, run: int) -> subprocess.Popen:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "CASEWORK_DATABASE_URL": database_url,
        "CASEWORK_SECRET_KEY": "crash-test-secret",
        "CASEWORK_UPLOAD_DIR": str(tmp_path / "uploads"),
        "CASEWORK_MAIL_SERVER": server.host,
        "CASEWORK_MAIL_PORT": str(server.port),
        "CASEWORK_MAIL_SENDER": SENDER,
        "CASEWORK_OUTBOX_INTERVAL_SECONDS": "1",
        "CASEWORK_OUTBOX_LEASE_SECONDS": "2",
    }
    log = (tmp_path / f"scheduler-{run}.log").open("w")
    return subprocess.Popen([sys.executable, "-m", "scheduler"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)


def _wait_for(condition, process: subprocess.Popen, tmp_path: Path, what: str) -> None:
    """Poll until condition() holds; fail if the scheduler exits or nothing happens for a long while."""
    deadline = time.monotonic() + 180
    while not condition():
        logs = "\n".join(path.read_text() for path in sorted(tmp_path.glob("scheduler-*.log")))
        assert process.poll() is None, f"the scheduler exited while waiting for {what}:\n{logs}"
        assert time.monotonic() < deadline, f"gave up waiting for {what}:\n{logs}"
        time.sleep(0.05)


def _sent() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).where(Notification.status == OutboxStatus.SENT))


def test_a_scheduler_killed_mid_batch_and_restarted_delivers_every_e_mail_recognisably(app, database_url,
                                                                                      tmp_path):
    app.config["MAIL_SENDER"] = SENDER
    for number in range(EMAILS):
        mail.queue_email(f"victim{number}@example.org", f"Your case, update {number}", f"Body {number}")
    db.session.commit()
    expected = {mail.message_id(row) for row in db.session.scalars(select(Notification))}
    with serving(SlowMailbox(host="127.0.0.1", port=free_port())) as server:
        first = _start_scheduler(database_url, server, tmp_path, 1)
        try:
            _wait_for(lambda: len(server.messages) >= 3, first, tmp_path, "the first e-mails")
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=60)
        assert 0 < _sent() < EMAILS  # the kill landed in the middle of the batch
        second = _start_scheduler(database_url, server, tmp_path, 2)
        try:
            _wait_for(lambda: _sent() == EMAILS, second, tmp_path, "every e-mail to be recorded as sent")
        finally:
            second.terminate()
            second.wait(timeout=60)
    received = Counter(message["Message-ID"] for message in server.messages)
    assert set(received) == expected  # every e-mail arrived, and nothing arrived that was not one of them
    # At most the one e-mail in flight at the kill went out twice, under the same Message-ID.
    assert sum(received.values()) - len(received) <= 1, received
