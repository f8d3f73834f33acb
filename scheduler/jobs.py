"""The jobs the scheduler runs; each is safe to run twice at once (two schedulers may be started, on PostgreSQL
or SQLite): evidence jobs and outbox e-mails are claimed by compare-and-set (see casework.services.jobs and
casework.services.mail for what holds), and expiring drafts only deletes what has expired."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from casework.extensions import db
from casework.services import drafts, mail, sla_digest, sla_sweep, submissions, uploads
from casework.services import jobs as evidence_jobs

log = logging.getLogger(__name__)

SLA_SWEEP_SECONDS = 60
# How often the scheduler looks for staff whose daily SLA digest hour has come: a digest leaves at most this late.
SLA_DIGEST_SECONDS = 300


def in_app_context(app: Flask, job: Callable[[], object], name: str) -> Callable[[], None]:
    """Wrap a job so it runs in an app context, logs failures and never kills the scheduler."""

    def run() -> None:
        with app.app_context():
            try:
                job()
            except Exception:
                db.session.rollback()
                log.exception("Scheduled job %s failed; it will run again at its next interval.", name)
            finally:
                db.session.remove()

    run.__name__ = name
    return run


def build_scheduler(app: Flask) -> BlockingScheduler:
    """A blocking scheduler with every periodic job registered."""
    scheduler = BlockingScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    scheduler.add_job(
        in_app_context(app, mail.send_pending, "send_outbox"),
        "interval",
        seconds=app.config["OUTBOX_INTERVAL_SECONDS"],
        id="send_outbox",
        name="send_outbox",
        next_run_time=datetime.now(UTC),  # drain what waited while the scheduler was down
    )
    scheduler.add_job(
        in_app_context(app, evidence_jobs.run_due_jobs, "run_evidence_jobs"),
        "interval",
        seconds=app.config["EVIDENCE_INTERVAL_SECONDS"],
        id="run_evidence_jobs",
        name="run_evidence_jobs",
        next_run_time=datetime.now(UTC),  # resume jobs a stopped scheduler left behind
    )
    scheduler.add_job(
        in_app_context(app, sla_sweep.sweep, "sla_sweep"),
        "interval",
        seconds=SLA_SWEEP_SECONDS,
        id="sla_sweep",
        name="sla_sweep",
        # After downtime: run at once, and the runs missed while stopped become one (coalesce), however late
        # (no grace limit): the sweep escalates every level that fell meanwhile, each once.
        next_run_time=datetime.now(UTC),
        coalesce=True,
        misfire_grace_time=None,
    )
    scheduler.add_job(
        in_app_context(app, sla_digest.send_digests, "sla_digest"),
        "interval",
        seconds=SLA_DIGEST_SECONDS,
        id="sla_digest",
        name="sla_digest",
        # As the sweep: at once after downtime, the missed runs as one, however late. A day's digest is due from its
        # hour until it is written, so a scheduler that was down at 08:00 sends it when it returns, once.
        next_run_time=datetime.now(UTC),
        coalesce=True,
        misfire_grace_time=None,
    )
    scheduler.add_job(
        in_app_context(app, expire_drafts, "expire_drafts"),
        "interval",
        hours=1,
        id="expire_drafts",
        name="expire_drafts",
        next_run_time=datetime.now(UTC),
    )
    return scheduler


def expire_drafts() -> int:
    """Delete report drafts left alone for 30 days (their links already stopped working), the keys of forms sent
    more than two days ago, then the uploaded files no draft or case uses any more."""
    removed = drafts.expire_drafts()
    submissions.purge_old_keys()
    db.session.commit()
    uploads.purge_unused_files()
    return removed
