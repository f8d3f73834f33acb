"""Benchmark: the scheduler's polls of the outbox and the evidence-job queue, with 1,000 and 100,000 finished rows.

Run: .venv/bin/python bench/queues.py

Sent e-mails and finished jobs stay in their tables with a past next_attempt_at. The polls (mail.send_pending and
jobs.claim_next, run as the scheduler runs them, every few seconds) must cost the same however much history there
is: they read partial indexes of the rows still to do. For each database, SQLite (a temporary file) and PostgreSQL
(CASEWORK_BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/casework_bench, created if missing; this
benchmark drops and recreates two schemas in it, queues_small and queues_large), two migrated databases are filled
alike with rows still to do (e-mails waiting for a retry, jobs queued for later and jobs running under a live lease:
nothing is due, as between two bursts of work) and with finished rows: 1,000 in one, 100,000 in the other
(PostgreSQL then ANALYZEs them, as autovacuum would). Polls alternate between the two in ROUNDS rounds of POLLS
polls each. It prints the median poll time of each and EXPLAIN of the statements a poll runs, then does the same
(with fewer polls) with the index the polls used before, on next_attempt_at alone, for comparison. Updates this
benchmark's section of bench/RESULTS.md, and exits 1 when a poll over 100,000 finished rows takes more than 1.5x
the poll over 1,000, or a poll's plan does not use its index.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)

from flask import Flask  # noqa: E402
from sqlalchemy import event, insert, text  # noqa: E402

from bench.apps import postgres_app, sqlite_app  # noqa: E402
from bench.results import write_section  # noqa: E402

SIZES = {"small": 1_000, "large": 100_000}
TO_DO = 50  # rows of each queue still to do, none of them due
ROUNDS = 6
POLLS = 150
BEFORE_POLLS = 30  # the slow polls of the old index, for comparison only
MAX_RATIO = 1.5
INDEXES = {"outbox": "ix_notifications_pending", "jobs": "ix_evidence_jobs_to_do"}
OLD_INDEXES = {"outbox": ("notifications", "ix_notifications_next_attempt_at"),
               "jobs": ("evidence_jobs", "ix_evidence_jobs_next_attempt_at")}


def fill(app: Flask, finished: int) -> None:
    """Migrate, then add TO_DO rows still to do in each queue and `finished` sent e-mails and finished jobs."""
    from flask_migrate import upgrade

    from casework.extensions import db
    from casework.models import Case, EvidenceJob, IncidentType, JobStatus, Notification, OutboxStatus

    with app.app_context():
        upgrade()
        case = Case(reference="CW-2026-900001", incident_type=IncidentType.OTHER, access_token_hash="0" * 64)
        db.session.add(case)
        db.session.commit()
        now = datetime.now(UTC)
        later, past = now + timedelta(hours=1), now - timedelta(days=30)
        mail = {"recipient": "victim@example.org", "subject": "Your case", "body_text": "Body", "created_at": past}
        job = {"case_id": case.id, "kind": "capture", "params": {"chain_id": 1}, "created_at": past}
        db.session.execute(insert(Notification), [
            {**mail, "status": OutboxStatus.PENDING, "attempts": 1, "next_attempt_at": later} for _ in range(TO_DO)])
        db.session.execute(insert(EvidenceJob), [
            {**job, "status": JobStatus.QUEUED, "next_attempt_at": later} for _ in range(TO_DO // 2)] + [
            {**job, "status": JobStatus.RUNNING, "attempts": 1, "next_attempt_at": past, "locked_until": later,
             "lease_token": "f" * 32} for _ in range(TO_DO - TO_DO // 2)])
        for start in range(0, finished, 10_000):
            batch = range(start, min(finished, start + 10_000))
            db.session.execute(insert(Notification), [
                {**mail, "status": OutboxStatus.SENT, "attempts": 1, "next_attempt_at": past - timedelta(seconds=n),
                 "sent_at": past} for n in batch])
            db.session.execute(insert(EvidenceJob), [
                {**job, "status": JobStatus.DONE, "attempts": 1, "next_attempt_at": past - timedelta(seconds=n),
                 "finished_at": past} for n in batch])
            db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE notifications"))
            db.session.execute(text("ANALYZE evidence_jobs"))
        db.session.commit()


def _polls() -> dict[str, Callable[[], object]]:
    from casework.services import jobs, mail

    return {"outbox": mail.send_pending, "jobs": jobs.claim_next}


def time_polls(app: Flask, poll: str, polls: int) -> list[float]:
    """Runs of one poll, in seconds each; none finds work."""
    from casework.extensions import db

    run = _polls()[poll]
    times = []
    with app.app_context():
        for _ in range(polls):
            started = time.perf_counter()
            result = run()
            times.append(time.perf_counter() - started)
            assert not result, f"the {poll} poll found work: the benchmark's rows are wrong"
        db.session.remove()
    return times


def explain(app: Flask, poll: str) -> list[str]:
    """The query plan of every statement one poll runs (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL)."""
    from casework.extensions import db

    with app.app_context():
        statements: list[tuple[str, object]] = []

        def keep(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith(("SELECT", "UPDATE")):
                statements.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", keep)
        try:
            _polls()[poll]()
        finally:
            event.remove(db.engine, "before_cursor_execute", keep)
        prefix = "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN "
        plans = []
        with db.engine.connect() as connection:
            for statement, parameters in statements:
                rows = connection.exec_driver_sql(prefix + statement, parameters).all()
                lines = [str(row[-1]).strip() for row in rows]
                plans.append(" / ".join(line for line in lines if "Scan" in line or "SEARCH" in line or "SCAN" in line))
        db.session.remove()
    return plans


def use_old_index(app: Flask) -> None:
    """Replace the partial indexes with the plain next_attempt_at indexes the polls read before."""
    from casework.extensions import db

    with app.app_context():
        for queue, (table, old) in OLD_INDEXES.items():
            db.session.execute(text(f"DROP INDEX {INDEXES[queue]}"))
            db.session.execute(text(f"CREATE INDEX {old} ON {table} (next_attempt_at)"))
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE notifications"))
            db.session.execute(text("ANALYZE evidence_jobs"))
        db.session.commit()


def measure(apps: dict[str, Flask], polls: int) -> dict[str, dict[str, float]]:
    """Median poll time per queue and size, in ROUNDS rounds alternating between the two databases."""
    times: dict[str, dict[str, list[float]]] = {poll: {size: [] for size in apps} for poll in INDEXES}
    for poll in INDEXES:
        for size in apps:
            time_polls(apps[size], poll, polls)  # warm-up
    for _ in range(ROUNDS):
        for poll in INDEXES:
            for size, app in apps.items():
                times[poll][size] += time_polls(app, poll, polls)
    return {poll: {size: statistics.median(values) for size, values in by_size.items()}
            for poll, by_size in times.items()}


def run_backend(name: str, apps: dict[str, Flask]) -> tuple[list[str], list[tuple[bool, str]], list[str]]:
    """Fill, measure and explain one database kind; returns table rows, checks and plans."""
    for size, app in apps.items():
        fill(app, SIZES[size])
    rows, checks, plans = [], [], []
    medians = measure(apps, POLLS)
    for poll, index in INDEXES.items():
        small, large = medians[poll]["small"], medians[poll]["large"]
        ratio = large / small
        plan = explain(apps["large"], poll)
        uses = index in " ".join(plan)
        rows.append(f"| {name} | {poll} | {small * 1e3:.3f} ms | {large * 1e3:.3f} ms | {ratio:.2f}x | "
                    f"{'yes' if uses else 'NO'} |")
        checks.append((ratio <= MAX_RATIO, f"{name}, {poll} poll: {ratio:.2f}x with 100,000 finished rows "
                                           f"(target at most {MAX_RATIO}x)"))
        checks.append((uses, f"{name}, {poll} poll reads {index}"))
        plans += [f"{name}, {poll}: {line}" for line in plan]
    for app in apps.values():
        use_old_index(app)
    before = measure(apps, BEFORE_POLLS)
    for poll in INDEXES:
        small, large = before[poll]["small"], before[poll]["large"]
        rows.append(f"| {name}, index on next_attempt_at alone (before) | {poll} | {small * 1e3:.3f} ms | "
                    f"{large * 1e3:.3f} ms | {large / small:.2f}x | — |")
    for app in apps.values():
        with app.app_context():
            from casework.extensions import db

            db.engine.dispose()
    return rows, checks, plans


def main() -> int:
    """Measure both databases, report, and return 0 when every target is met."""
    rows: list[str] = []
    checks: list[tuple[bool, str]] = []
    plans: list[str] = []
    with tempfile.TemporaryDirectory() as directory:
        for name, apps in (
            ("SQLite", {size: sqlite_app(directory, size) for size in SIZES}),
            ("PostgreSQL", {size: postgres_app(f"queues_{size}") for size in SIZES}),
        ):
            backend_rows, backend_checks, backend_plans = run_backend(name, apps)
            rows += backend_rows
            checks += backend_checks
            plans += backend_plans
    verdicts = [f"{'met' if passed else 'MISSED'}: {what}" for passed, what in checks]
    header = ["| Database | Poll | 1,000 finished rows | 100,000 finished rows | Ratio | Plan uses the index |",
              "|---|---|---|---|---|---|"]
    print("\n".join([*header, *rows, "", *verdicts, "", *plans]))
    write_section("queues.py", [
        "## Scheduler polls: outbox and evidence jobs over finished history (bench/queues.py)",
        "",
        f"Rerun: `.venv/bin/python bench/queues.py` (last run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; PostgreSQL "
        "from CASEWORK_BENCH_DATABASE_URL). Median time of one poll as the scheduler runs it (`mail.send_pending`, "
        f"`jobs.claim_next`), with {TO_DO} rows still to do in each queue and none due, over two databases that "
        f"differ only in their finished rows (sent e-mails, done jobs); {ROUNDS} rounds of {POLLS} polls "
        f"alternating between them ({BEFORE_POLLS} per round with the old index). The machine has "
        f"{os.cpu_count()} CPUs, shared with whatever else runs.",
        "",
        *header,
        *rows,
        "",
        *[f"- {verdict}" for verdict in verdicts],
        "",
        "Plans of the statements a poll runs (100,000 finished rows):",
        "",
        *[f"- `{plan}`" for plan in plans],
    ])
    return 0 if all(passed for passed, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
