"""The scheduler process: its jobs run in an app context and survive a failing run."""

from casework.extensions import db
from casework.models import Notification, OutboxStatus
from casework.services import mail
from scheduler.jobs import build_scheduler, in_app_context


def test_the_scheduler_registers_the_outbox_evidence_sla_and_draft_jobs(app):
    scheduler = build_scheduler(app)
    assert {job.id for job in scheduler.get_jobs()} == {"send_outbox", "run_evidence_jobs", "sla_sweep",
                                                        "sla_digest", "expire_drafts"}


def test_the_draft_expiry_job_removes_only_expired_drafts_and_their_files(app):
    from datetime import timedelta

    from casework.models import ReportDraft, StoredFile, utcnow
    from casework.services import drafts, uploads

    old, _token = drafts.new_draft("en")
    fresh, _token = drafts.new_draft("zh_Hans_CN")
    old.expires_at = utcnow() - timedelta(minutes=1)
    screenshot = uploads.store_upload(b"GIF89a" + b"\x01" * 40, "chat.gif", draft=old).file
    screenshot.stored.stored_at = utcnow() - timedelta(days=30)
    path = uploads.path_for(screenshot.stored.sha256)
    db.session.commit()
    build_scheduler(app).get_job("expire_drafts").func()
    remaining = db.session.scalars(db.select(ReportDraft.id)).all()
    assert remaining == [fresh.id]
    assert db.session.scalars(db.select(StoredFile)).all() == [] and not path.exists()


def test_the_outbox_job_sends_through_the_scheduler_wrapper(app, smtp_server):
    app.config.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)
    mail.queue_email("victim@example.org", "Subject", "Body")
    db.session.commit()
    job = build_scheduler(app).get_job("send_outbox")
    job.func()
    assert len(smtp_server.messages) == 1
    db.session.expire_all()
    assert db.session.scalars(db.select(Notification)).one().status is OutboxStatus.SENT


def test_a_failing_job_is_logged_and_does_not_raise(app, caplog):
    def broken() -> None:
        raise RuntimeError("boom")

    in_app_context(app, broken, "broken")()
    assert "Scheduled job broken failed" in caplog.text


def test_python_dash_m_scheduler_reports_bad_configuration_in_one_line(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "scheduler"],
        env={"CASEWORK_MAIL_PROT": "25", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "scheduler: Unknown configuration variable CASEWORK_MAIL_PROT. Did you mean CASEWORK_MAIL_PORT? "
        "See docs/configuration.md."
    ]


def test_the_outbox_interval_comes_from_the_configuration(app):
    from datetime import timedelta

    app.config["OUTBOX_INTERVAL_SECONDS"] = 3
    assert build_scheduler(app).get_job("send_outbox").trigger.interval == timedelta(seconds=3)
