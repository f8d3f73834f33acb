"""Benchmark: the report wizard's final submit under gunicorn (2 workers) against a bare Flask endpoint.

Run: .venv/bin/python bench/intake.py

Creates a scratch PostgreSQL database (CASEWORK_BENCH_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/casework_bench, dropped and recreated; the production backend), migrates it,
and prepares complete drafts: one filled in through the real wizard, with a screenshot, and reviewed (as every
victim does before the submit button), copied under fresh resume tokens, each with its own signed session. It then
starts gunicorn with 2 workers serving the application, and another with 2 workers serving a bare Flask endpoint,
both on loopback, and sends the same bounded load to each: CONCURRENCY clients posting SUBMITS requests (final
submits of distinct drafts; plain form posts to the bare endpoint). The load goes in ROUNDS alternating rounds,
one to each server in turn, so that whatever else this shared machine is doing weighs on both alike.
Rate limits are switched off for the run: all the load comes from one address.
Prints submits per second and p50/p99 latency of each, updates this benchmark's section of bench/RESULTS.md,
and exits 1 when a target is missed.
"""

from __future__ import annotations

import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)

import requests  # noqa: E402
from flask import Flask, request, session  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.results import write_section  # noqa: E402

DATABASE_URL = os.environ.get("CASEWORK_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/casework_bench")
SECRET_KEY = "bench-secret-key"
WORKERS = 2
CONCURRENCY = 8
SUBMITS = 600
WARMUP = 40
ROUNDS = 6
MIN_RATIO = 1 / 3
MAX_P99_SECONDS = 0.250


def bare_app() -> Flask:
    """A Flask app with one endpoint that reads a posted form and redirects, as the submit does: the baseline."""
    app = Flask("bare")

    @app.post("/submit")
    def submit():
        return "", 302, {"Location": "/done", "X-Fields": str(len(request.form))}

    return app


def casework_app() -> Flask:
    """The application as production builds it, but without rate limits: one address sends the whole load here."""
    from casework import create_app

    return create_app({"RATELIMIT_ENABLED": False})


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _recreate_database(url: str) -> str:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres", drivername="postgresql+psycopg"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    return url


def _environment(upload_dir: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CASEWORK_")}
    env.update(CASEWORK_DATABASE_URL=DATABASE_URL, CASEWORK_SECRET_KEY=SECRET_KEY, CASEWORK_UPLOAD_DIR=upload_dir,
               CASEWORK_LOG_LEVEL="WARNING")
    return env


def prepare_drafts(count: int, upload_dir: str) -> list[tuple[str, str]]:
    """`count` complete drafts; for each, the session cookie that holds it and a CSRF token for the submit."""
    os.environ.update(_environment(upload_dir))
    from flask_migrate import upgrade
    from flask_wtf.csrf import generate_csrf

    from casework import create_app
    from casework.extensions import db
    from casework.models import CaseFile, ReportDraft
    from casework.services import drafts
    from tests.casework.test_report_wizard import PNG, answers, fill_wizard, post_step

    app = create_app({"WTF_CSRF_ENABLED": True})
    with app.app_context():
        upgrade()
        victim = app.test_client()
        fill_wizard(victim)
        # A screenshot, as victims are asked to send: the submit moves it from the draft to the case.
        post_step(victim, 6, {**answers()[6], "files": [(io.BytesIO(PNG), "wallet.png")]},
                  content_type="multipart/form-data")
        # The submit button is on the review page: every real submit follows a review of the same answers.
        assert victim.get("/report/review").status_code == 200
        template = db.session.scalars(db.select(ReportDraft)).one()
        screenshot = db.session.scalars(db.select(CaseFile)).one()
        tokens = []
        for _ in range(count):
            draft, token = drafts.new_draft(template.locale)
            draft.answers, draft.completed_steps = template.answers, template.completed_steps
            draft.reviewed_digest, draft.reviewed_report = template.reviewed_digest, template.reviewed_report
            db.session.add(CaseFile(stored_file_id=screenshot.stored_file_id, draft_id=draft.id,
                                    original_name=screenshot.original_name, uploaded_at=screenshot.uploaded_at))
            tokens.append(token)
        db.session.commit()
        db.engine.dispose()
    sessions = []
    serializer = app.session_interface.get_signing_serializer(app)
    for token in tokens:
        # A fresh app context each time: Flask-WTF caches the CSRF token in `g`.
        with app.app_context(), app.test_request_context("/report/review"):
            session["report_draft"] = token
            csrf = generate_csrf()
            sessions.append((serializer.dumps(dict(session)), csrf))
    return sessions


def _count_filed() -> tuple[int, int]:
    """How many cases were filed, and how many of them hold their screenshot."""
    engine = create_engine(make_url(DATABASE_URL).set(drivername="postgresql+psycopg"))
    with engine.connect() as connection:
        cases = connection.execute(text("SELECT count(*) FROM cases")).scalar_one()
        with_file = connection.execute(text("SELECT count(DISTINCT case_id) FROM case_files")).scalar_one()
    engine.dispose()
    return cases, with_file


class Gunicorn:
    """gunicorn with WORKERS workers serving `app_spec` on a free loopback port, until stopped."""

    def __init__(self, app_spec: str, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "--workers", str(WORKERS), "--bind", f"127.0.0.1:{self.port}",
             "--chdir", str(ROOT), "--log-level", "warning", app_spec],
            env=env, cwd=ROOT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/", timeout=10)
                return
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not start for {app_spec}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def load(url: str, jobs: list[dict]) -> tuple[float, list[float], int]:
    """Post every job with CONCURRENCY clients; returns (wall seconds, latencies, responses other than a 302)."""
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    queue = list(reversed(jobs))

    def client() -> None:
        with requests.Session() as http:
            while True:
                with lock:
                    if not queue:
                        return
                    job = queue.pop()
                started = time.perf_counter()
                response = http.post(url, data=job["data"], headers={"Cookie": f"session={job['session']}"},
                                     allow_redirects=False, timeout=30)
                elapsed = time.perf_counter() - started
                http.cookies.clear()  # each job is another victim: never send back a cookie the server set
                with lock:
                    latencies.append(elapsed)
                    if response.status_code != 302 or not response.headers["Location"].endswith("/done"):
                        failures[0] += 1

    threads = [threading.Thread(target=client) for _ in range(CONCURRENCY)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, failures[0]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def write_results(rows: list[tuple[str, float, float, float, int]], verdicts: list[str], rounds: str) -> None:
    """Replace this benchmark's section in bench/RESULTS.md (creating the file if needed)."""
    lines = [
        "## Report wizard: final submit under gunicorn (bench/intake.py)",
        "",
        f"Rerun: `.venv/bin/python bench/intake.py` (last run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC). gunicorn with "
        f"{WORKERS} sync workers on loopback, PostgreSQL, {CONCURRENCY} concurrent clients, {SUBMITS} requests each "
        f"after {WARMUP} warm-up requests, in {ROUNDS} rounds alternating between the two servers; every submit "
        "files a complete, reviewed seven-step draft with a screenshot (the report "
        "validated at review reused while the answers are unchanged, case, reporter, loss, addresses, "
        "transactions, event, the screenshot moved to the case, outbox e-mail, draft deleted) in one "
        f"transaction. The machine has {os.cpu_count()} CPUs, shared by the clients and the servers.",
        "",
        "| Endpoint | Requests/s | p50 | p99 | Errors |",
        "|---|---|---|---|---|",
        *[f"| {name} | {rate:.0f} | {p50 * 1000:.1f} ms | {p99 * 1000:.1f} ms | {errors} |"
          for name, rate, p50, p99, errors in rows],
        "",
        *[f"- {verdict}" for verdict in verdicts],
        "",
        rounds.capitalize() + ".",
    ]
    write_section("intake.py", lines)


def main() -> int:
    """Prepare, measure, report; 0 when every target is met."""
    _recreate_database(DATABASE_URL)
    with tempfile.TemporaryDirectory() as upload_dir:
        sessions = prepare_drafts(WARMUP + SUBMITS, upload_dir)
        jobs = [{"data": {"csrf_token": csrf}, "session": cookie} for cookie, csrf in sessions]
        env = _environment(upload_dir)
        app_server = Gunicorn("bench.intake:casework_app()", env)
        bare_server = Gunicorn("bench.intake:bare_app()", env)
        endpoints = {"app": app_server.url + "/report/submit", "bare": bare_server.url + "/submit"}
        seconds = {"app": 0.0, "bare": 0.0}
        latencies: dict[str, list[float]] = {"app": [], "bare": []}
        errors = {"app": 0, "bare": 0}
        round_ratios = []
        try:
            for url in endpoints.values():
                load(url, jobs[:WARMUP])
            per_round = SUBMITS // ROUNDS
            for start in range(WARMUP, WARMUP + SUBMITS, per_round):
                rates = {}
                for name, url in endpoints.items():
                    # The bare endpoint gets the same requests (same cookie and form); they file nothing there.
                    took, times, failed = load(url, jobs[start:start + per_round])
                    seconds[name] += took
                    latencies[name] += times
                    errors[name] += failed
                    rates[name] = len(times) / took
                round_ratios.append(rates["app"] / rates["bare"])
        finally:
            app_server.stop()
            bare_server.stop()
    rows = [
        (name, len(latencies[key]) / seconds[key], statistics.median(latencies[key]),
         percentile(latencies[key], 0.99), errors[key])
        for name, key in (("final submit (/report/submit)", "app"), ("bare Flask endpoint", "bare"))
    ]
    app_errors = errors["app"]
    ratio = rows[0][1] / rows[1][1]
    filed, with_file = _count_filed()
    checks = [
        (app_errors == 0 and filed == with_file == WARMUP + SUBMITS,
         f"every submit filed its case with its screenshot: {filed - WARMUP} cases ({with_file - WARMUP} with the "
         f"file) for {SUBMITS} submits, {app_errors} errors"),
        (ratio >= MIN_RATIO, f"submit throughput is {ratio:.2f} of the bare endpoint's (target at least 1/3)"),
        (rows[0][3] <= MAX_P99_SECONDS,
         f"submit p99 {rows[0][3] * 1000:.0f} ms (target under {MAX_P99_SECONDS * 1000:.0f} ms)"),
    ]
    verdicts = [f"{'met' if passed else 'MISSED'}: {text_}" for passed, text_ in checks]
    rounds = "submit/bare throughput in each round: " + ", ".join(f"{value:.2f}" for value in round_ratios)
    for name, rate, p50, p99, failed in rows:
        print(f"{name:>32}: {rate:7.1f}/s  p50 {p50 * 1000:6.1f} ms  p99 {p99 * 1000:6.1f} ms  errors {failed}")
    print("\n".join([*verdicts, rounds]))
    write_results(rows, verdicts, rounds)
    return 0 if all(passed for passed, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
