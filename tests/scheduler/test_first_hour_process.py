"""The first hour run by a real scheduler process (`python -m scheduler`) on the test database and the session's
anvil: a case filed with only the victim's address ends with a drafted freeze request and its e-mail sent."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from casework.extensions import db
from casework.models import AddressRole, IncidentType, Notification, OutboxStatus, Referral, ReferralStatus, Role
from casework.services import demo, filing
from evidence.devnet import staging
from evidence.devnet.anvil import free_port
from tests.fixtures.mail import Mailbox, serving

ROOT = Path(__file__).resolve().parents[2]


def _wait_for(condition, process: subprocess.Popen, log: Path, what: str) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        assert process.poll() is None, f"the scheduler exited while waiting for {what}:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"gave up waiting for {what}:\n{log.read_text()}"
        time.sleep(0.1)


def _drafted() -> bool:
    db.session.rollback()
    return db.session.scalar(select(Referral.status)) is ReferralStatus.DRAFTED


def _sent() -> list[Notification]:
    db.session.rollback()
    return list(db.session.scalars(select(Notification).where(Notification.status == OutboxStatus.SENT)))


def test_the_scheduler_process_takes_a_case_from_submit_to_a_drafted_request(app, database_url, devnet,
                                                                             staged_thefts, make_user, tmp_path):
    demo.import_devnet_labels(staged_thefts)
    demo.load_directory()
    supervisor = make_user(Role.SUPERVISOR)
    theft = staged_thefts.theft(staging.APPROVAL_PHISHING)
    filing.file_case(filing.NewReport(
        incident_type=IncidentType.APPROVAL_PHISHING,
        reporter=filing.ReporterInput(name="Chen Jing", email="chen@example.org"),
        incident_at=datetime.fromtimestamp(theft.steps[0].timestamp, UTC) - timedelta(minutes=5),
        chain_ids=(staged_thefts.chain_id,),
        addresses=(filing.AddressInput(staged_thefts.chain_id, theft.address_of("victim"), AddressRole.VICTIM),),
    ))
    db.session.commit()
    log = tmp_path / "scheduler.log"
    with serving(Mailbox(host="127.0.0.1", port=free_port())) as server, log.open("w") as output:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CASEWORK_DATABASE_URL": database_url,
               "CASEWORK_SECRET_KEY": "first-hour-test", "CASEWORK_UPLOAD_DIR": str(tmp_path / "uploads"),
               "CASEWORK_DEVNET_RPC_URL": devnet.rpc_url, "CASEWORK_MAIL_SERVER": server.host,
               "CASEWORK_MAIL_PORT": str(server.port), "CASEWORK_EVIDENCE_INTERVAL_SECONDS": "1",
               "CASEWORK_OUTBOX_INTERVAL_SECONDS": "1"}
        scheduler = subprocess.Popen([sys.executable, "-m", "scheduler"], cwd=ROOT, env=env, stdout=output,
                                     stderr=subprocess.STDOUT)
        try:
            _wait_for(_drafted, scheduler, log, "a drafted freeze request")
            _wait_for(lambda: any(n.recipient == supervisor.email for n in _sent()), scheduler, log, "the e-mail")
        finally:
            scheduler.terminate()
            scheduler.wait(timeout=60)
    assert [message["To"] for message in server.messages] == [supervisor.email]
