"""`python -m scheduler`: run the periodic jobs until interrupted."""

from __future__ import annotations

import logging
import sys

import click

from casework import create_app
from scheduler.jobs import build_scheduler

log = logging.getLogger("scheduler")


def main() -> int:
    try:
        app = create_app()
    except click.ClickException as exc:
        print(f"scheduler: {exc.format_message()}", file=sys.stderr)
        return 2
    # APScheduler logs every run at INFO; keep its warnings and errors only.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    scheduler = build_scheduler(app)
    log.info("Scheduler started with jobs: %s", ", ".join(job.id for job in scheduler.get_jobs()))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("Scheduler stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
