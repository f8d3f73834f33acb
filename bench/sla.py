"""Benchmark: one SLA sweep over 10,000 and over 100,000 open cases, on SQLite and PostgreSQL in the same run.

Run: .venv/bin/python bench/sla.py

Each database (SQLite: a temporary file; PostgreSQL: the databases <name>_sla_small and <name>_sla_large next to
CASEWORK_BENCH_DATABASE_URL's, default postgresql://postgres@127.0.0.1:5432/casework_bench, which this benchmark
drops and creates again) is migrated and filled with open cases, each with the five clocks filing starts
(their next escalation days ahead), assigned to a handler, with a supervisor and an administrator on the team.
DUE cases (1% of 10,000) have their evidence-capture clock past its deadline: a sweep escalates each breach once
(the escalation, its log entry, an alert and an e-mail for the handler and for the supervisor). The same DUE cases
are due in both databases, so the comparison isolates the open cases the sweep must not read: at 100,000 the sweep
must take at most 1.5x its time at 10,000. A third row, 1% of the 100,000 due, shows the cost following the due
cases. Between runs the escalations and what they wrote are deleted and the clocks set due again (not timed); runs
alternate between the databases in ROUNDS rounds. Prints the median sweep of each and the claim query's plan,
updates this benchmark's section of bench/RESULTS.md, and exits 1 when the target is missed, a sweep escalates the
wrong number of clocks, or the claim does not read ix_sla_clocks_escalate_at.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)

from flask import Flask  # noqa: E402
from sqlalchemy import create_engine, event, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.queues import _sqlite_app  # noqa: E402
from bench.results import write_section  # noqa: E402

DATABASE_URL = os.environ.get("CASEWORK_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/casework_bench")
SIZES = {"small": 10_000, "large": 100_000}
DUE = 100  # 1% of 10,000
ROUNDS = 5
MAX_RATIO = 1.5
INDEX = "ix_sla_clocks_escalate_at"
NOW = datetime(2026, 6, 8, 12, 0, tzinfo=UTC)
METRICS = ("first_response", "triage", "evidence_captured", "victim_update", "resolution")


def _postgres_app(size: str) -> Flask:
    """A fresh database named after the benchmark database and the size (dropped and created again)."""
    from casework import create_app
    from casework.config import normalise_database_url

    url = make_url(normalise_database_url(DATABASE_URL))
    url = url.set(database=f"{url.database}_sla_{size}")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    return create_app({"SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False)})


def fill(app: Flask, cases: int) -> None:
    """Migrate; add the team and `cases` low-priority open cases with their five clocks, none due."""
    from flask_migrate import upgrade

    from casework.extensions import db
    from casework.models import Case, IncidentType, Priority, Role
    from casework.services import users

    with app.app_context():
        upgrade()
        handler = users.create_user("handler@example.org", "bench password 1", Role.HANDLER)
        users.create_user("supervisor@example.org", "bench password 2", Role.SUPERVISOR)
        users.create_user("head@example.org", "bench password 3", Role.ADMIN)
        db.session.commit()
        start, later = NOW - timedelta(hours=1), NOW + timedelta(days=3)
        for first in range(0, cases, 10_000):
            db.session.execute(insert(Case), [
                {"reference": f"CW-2026-{n:06d}", "incident_type": IncidentType.OTHER, "priority": Priority.LOW,
                 "access_token_hash": f"{n:064x}", "assigned_handler_id": handler.id, "submitted_at": start,
                 "updated_at": start}
                for n in range(first + 1, min(cases, first + 10_000) + 1)])
        metrics = " UNION ALL ".join(f"SELECT '{metric}' AS metric" for metric in METRICS)
        every_clock = f"SELECT cases.id, m.metric, :s, :s, :l, :l FROM cases CROSS JOIN ({metrics}) AS m"  # noqa: S608
        db.session.execute(text("INSERT INTO sla_clocks (case_id, metric, started_at, cycle_started_at, due_at, "
                                "escalate_at) " + every_clock), {"s": start, "l": later})
        db.session.execute(text(
            "INSERT INTO sla_events (case_id, metric, kind, at, data) "
            "SELECT case_id, metric, 'started', started_at, '{}' FROM sla_clocks"))
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            for table in ("cases", "sla_clocks", "sla_events"):
                db.session.execute(text(f"ANALYZE {table}"))
            db.session.commit()


def make_due(app: Flask, due: int) -> None:
    """Remove what earlier sweeps wrote and put the evidence clocks of `due` cases past their deadline."""
    from casework.extensions import db

    with app.app_context():
        for table in ("escalations", "staff_alerts", "notifications"):
            db.session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - our own table names
        db.session.execute(text("DELETE FROM sla_events WHERE kind <> 'started'"))
        db.session.execute(text(
            "UPDATE sla_clocks SET due_at = :due, escalate_at = :due, breached_at = NULL "
            "WHERE metric = 'evidence_captured' AND case_id <= :count"
        ), {"due": NOW - timedelta(minutes=5), "count": due})
        db.session.commit()


def time_sweep(app: Flask, due: int) -> float:
    from casework.extensions import db
    from casework.services import sla_sweep

    make_due(app, due)
    with app.app_context():
        started = time.perf_counter()
        told = sla_sweep.sweep(NOW)
        elapsed = time.perf_counter() - started
        db.session.remove()
    assert len(told) == due, f"the sweep escalated {len(told)} clocks, not {due}"
    return elapsed


def claim_plan(app: Flask) -> str:
    """The query plan of the sweep's claim, as a sweep with nothing due runs it (EXPLAIN QUERY PLAN on SQLite,
    EXPLAIN on PostgreSQL)."""
    from casework.extensions import db
    from casework.services import sla_sweep

    statements: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if "escalate_at <=" in statement:
            statements.append((statement, parameters))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", keep)
        try:
            assert sla_sweep.sweep(NOW) == [], "nothing should be due after the timed sweeps"
        finally:
            event.remove(db.engine, "before_cursor_execute", keep)
        prefix = "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN "
        statement, parameters = statements[0]
        with db.engine.connect() as connection:
            rows = connection.exec_driver_sql(prefix + statement, parameters).all()
        db.session.remove()
    return " / ".join(str(row[-1]).strip() for row in rows)


def run_backend(name: str, apps: dict[str, Flask]) -> tuple[list[str], list[tuple[bool, str]], str]:
    for size, app in apps.items():
        fill(app, SIZES[size])
    runs: dict[str, list[float]] = {"small": [], "large": [], "large_1pct": []}
    for app in apps.values():
        time_sweep(app, DUE)  # warm-up
    for _ in range(ROUNDS):
        runs["small"].append(time_sweep(apps["small"], DUE))
        runs["large"].append(time_sweep(apps["large"], DUE))
        runs["large_1pct"].append(time_sweep(apps["large"], SIZES["large"] // 100))
    small, large, large_1pct = (statistics.median(runs[key]) for key in ("small", "large", "large_1pct"))
    ratio = large / small
    plan = claim_plan(apps["large"])
    rows = [
        f"| {name} | 10,000 | {DUE} | {small * 1000:.1f} ms | {small / DUE * 1000:.2f} ms | 1.00x |",
        f"| {name} | 100,000 | {DUE} | {large * 1000:.1f} ms | {large / DUE * 1000:.2f} ms | {ratio:.2f}x |",
        f"| {name} | 100,000 | {SIZES['large'] // 100:,} | {large_1pct * 1000:.1f} ms | "
        f"{large_1pct / (SIZES['large'] // 100) * 1000:.2f} ms | {large_1pct / small:.2f}x |",
    ]
    checks = [
        (ratio <= MAX_RATIO, f"{name}: the sweep over 100,000 open cases takes {ratio:.2f}x its time over 10,000 "
                             f"(target at most {MAX_RATIO}x)"),
        (INDEX in plan, f"{name}: the claim reads {INDEX}"),
    ]
    print(f"{name}: 10k {small * 1000:.1f} ms, 100k {large * 1000:.1f} ms ({ratio:.2f}x), "
          f"100k with 1% due {large_1pct * 1000:.1f} ms; plan: {plan}")
    return rows, checks, plan


def main() -> int:
    from casework.config import normalise_database_url

    results = []
    with tempfile.TemporaryDirectory() as directory:
        results.append(("SQLite", *run_backend("SQLite", {size: _sqlite_app(directory, size) for size in SIZES})))
    results.append(("PostgreSQL", *run_backend("PostgreSQL", {size: _postgres_app(size) for size in SIZES})))
    checks = [check for _name, _rows, backend_checks, _plan in results for check in backend_checks]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    database = make_url(normalise_database_url(DATABASE_URL)).database + "_sla_*"
    lines = [
        "## SLA sweep over open cases (bench/sla.py)",
        "",
        f"Rerun: `.venv/bin/python bench/sla.py` (last run {stamp} UTC; PostgreSQL databases {database}). One "
        "`sla_sweep.sweep()` over migrated databases of low-priority open cases with the five clocks filing "
        f"starts (none due) and {DUE} cases (1% of 10,000) whose evidence-capture clock is past its deadline: each "
        "sweep escalates those breaches once (escalation, log entry, an alert and an e-mail for the handler and the "
        f"supervisor). Median of {ROUNDS} sweeps alternating between the databases; the last row has 1% of the "
        "100,000 due. The machine has 2 CPUs, shared with whatever else runs.",
        "",
        "| Database | Open cases | Due | Sweep | Per due case | vs 10,000 |",
        "|---|---|---|---|---|---|",
        *(row for _name, rows, _checks, _plan in results for row in rows),
        "",
        *(f"- {'met' if ok else 'MISSED'}: {text_}" for ok, text_ in checks),
        "",
        *(f"Claim plan, {name}: `{plan}`" for name, _rows, _checks, plan in results),
    ]
    write_section("sla.py", lines)
    print("\n".join(lines))
    return 0 if all(ok for ok, _text in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
