"""Benchmark: the staff queue (/staff/cases) with 1,000 and with 100,000 cases in PostgreSQL, in the same run.

Run: .venv/bin/python bench/console.py

Two schemas of one PostgreSQL database (CASEWORK_BENCH_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/casework_bench, created if missing; this benchmark drops and recreates the
schemas console_small and console_large in it) are migrated and filled alike, by COPY, with 1,000 and 100,000 cases:
a realistic mix of statuses (a third closed), priorities, incident types, chains and handlers (20, a third of the
cases unassigned), Chinese and Latin reporter names, e-mails, two addresses and a transaction hash per case, scammer
phones and websites on some, each case with its search document as filing writes it; then VACUUM ANALYZE, as
autovacuum would after so many inserts. A handler signed in through the test client fetches three pages, alternating
between the two sizes in ROUNDS rounds of REQUESTS requests: the queue (the open cases, most urgent first), a
filtered queue (high priority, submitted, in triage or investigating) and the search (in turn a Chinese name, a
Latin name, an address by its first 12 characters, a transaction hash by its first 14, an e-mail and a phone number,
each of a real case). Prints p50 and p95 per page and size, and EXPLAIN of every SELECT each page runs at 100,000
cases (the search: one URL of each kind); updates this benchmark's section of bench/RESULTS.md, and exits 1 when the
queue or the filtered queue at 100,000 takes more than 1.5x its p50 at 1,000, the search more than 3x, or a plan
reads cases, reporters, case_addresses or case_search by a sequential scan.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)

from flask import Flask  # noqa: E402
from sqlalchemy import event, text  # noqa: E402

from bench.apps import postgres_app  # noqa: E402
from bench.results import write_section  # noqa: E402

SIZES = {"small": 1_000, "large": 100_000}
ROUNDS = 5
REQUESTS = 20
HANDLERS = 20
TARGETS = {"queue": 1.5, "filtered": 1.5, "search": 3.0}
WATCHED_TABLES = ("cases", "reporters", "case_addresses", "case_search")
PASSWORD = "bench password 1234"
# Fills a page at both sizes (about 80 cases of 1,000), so both pages render as many lines.
FILTERED = "/staff/cases?priority=high&status=submitted&status=triage&status=investigating"
SURNAMES_ZH = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN_ZH = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
            "秀英", "华", "建国"]
FIRST_EN = ["James", "Mary", "John", "Linda", "Michael", "Sarah", "David", "Emma", "Daniel", "Olivia", "Lucas",
            "Sofia", "Noah", "Mia", "Ethan", "Anna", "Omar", "Priya", "Kenji", "Fatima"]
LAST_EN = ["Smith", "Johnson", "Brown", "Garcia", "Miller", "Davis", "Martinez", "Lopez", "Wilson", "Anderson",
           "Thomas", "Moore", "Jackson", "Martin", "Lee", "Nguyen", "Kim", "Silva", "Rossi", "Schmidt"]
STATUSES = ["submitted"] * 12 + ["triage"] * 10 + ["investigating"] * 18 + ["escalated"] * 5 + ["recovery"] * 5 + \
    ["awaiting_victim"] * 15 + ["closed"] * 35
PRIORITIES = ["critical"] * 5 + ["high"] * 20 + ["normal"] * 50 + ["low"] * 25
INCIDENTS = ["approval_phishing"] * 30 + ["leaked_secret"] * 15 + ["fake_support"] * 15 + ["investment_scam"] * 20 + \
    ["fake_wallet"] * 8 + ["sim_swap"] * 4 + ["account_takeover"] * 5 + ["other"] * 3
RESOLUTIONS = ["recovered", "partially_recovered", "unrecoverable", "unrecoverable", "withdrawn"]
CHAINS = [[1]] * 80 + [[56]] * 10 + [[137]] * 5 + [[1, 56]] * 5


def _hex(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(length))


def fill(app: Flask, count: int) -> dict[str, list[str]]:
    """Migrate, create the handlers and COPY count cases with their rows in; returns search texts of real cases."""
    from flask_migrate import upgrade

    from casework.extensions import db
    from casework.models import Role
    from casework.services import search_index, users

    rng = random.Random(20261202)
    with app.app_context():
        upgrade()
        staff = [users.create_user(f"handler{n}@bench.example", PASSWORD,
                                   Role.SUPERVISOR if n % 5 == 0 else Role.HANDLER, display_name=f"Handler {n}")
                 for n in range(HANDLERS)]
        db.session.commit()
        staff_ids = [user.id for user in staff]
        now = datetime.now(UTC)
        rows: dict[str, list[tuple]] = {name: [] for name in (
            "cases", "reporters", "reported_losses", "case_addresses", "reported_transactions", "report_extras",
            "case_search")}
        probes: dict[str, list[str]] = {"zh": [], "en": [], "address": [], "hash": [], "email": [], "phone": []}
        for case_id in range(1, count + 1):
            status = rng.choice(STATUSES)
            submitted = now - timedelta(seconds=rng.randrange(730 * 86400))
            updated = min(now, submitted + timedelta(seconds=rng.randrange(30 * 86400)))
            handler = None if rng.random() < 0.33 else rng.choice(staff_ids)
            chinese = rng.random() < 0.5
            if chinese:
                name = rng.choice(SURNAMES_ZH) + rng.choice(GIVEN_ZH)
                email = f"user{case_id}@qq.example"
            else:
                first, last = rng.choice(FIRST_EN), rng.choice(LAST_EN)
                name, email = f"{first} {last}", f"{first.lower()}.{last.lower()}{case_id}@mail.example"
            addresses = ["0x" + _hex(rng, 40), "0x" + _hex(rng, 40)]
            tx_hash = "0x" + _hex(rng, 64)
            contacts = {}
            if rng.random() < 0.3:
                contacts = {"phones": [f"+86 1{rng.randrange(30, 99)} {rng.randrange(1000, 9999)} "
                                       f"{rng.randrange(1000, 9999)}"],
                            "websites": [f"https://claim-{_hex(rng, 6)}.example/airdrop"]}
            rows["cases"].append((
                case_id, f"CW-{submitted.year}-{case_id:06d}", status,
                rng.choice(RESOLUTIONS) if status == "closed" else None, rng.choice(PRIORITIES),
                rng.choice(INCIDENTS), str(rng.choice(CHAINS)).replace(" ", ""), "Funds were taken.",
                hashlib.sha256(f"bench-{case_id}".encode()).hexdigest(), handler, submitted, updated))
            rows["reporters"].append((case_id, name, email, "zh_Hans_CN" if chinese else "en", False, False, False))
            rows["reported_losses"].append((case_id, 1, "USDT", str(rng.randrange(100, 50_000) * 10**6), 6))
            rows["case_addresses"] += [(case_id, 1, addresses[0].lower(), "victim"),
                                       (case_id, 1, addresses[1].lower(), "attacker")]
            rows["reported_transactions"].append((case_id, 1, tx_hash))
            if contacts:
                rows["report_extras"].append((case_id, json.dumps(contacts), "[]", "{}"))
            rows["case_search"].append((case_id, search_index.build_document(
                name=name, email=email, addresses=addresses, tx_hashes=[tx_hash], scammer_contacts=contacts)))
            if case_id % max(1, count // 50) == 0:
                probes["zh" if chinese else "en"].append(name)
                probes["address"].append(addresses[1][:12])
                probes["hash"].append(tx_hash[:14])
                probes["email"].append(email)
                if contacts:
                    probes["phone"].append(contacts["phones"][0])
        columns = {
            "cases": "id, reference, status, resolution, priority, incident_type, chain_ids, summary, "
                     "access_token_hash, assigned_handler_id, submitted_at, updated_at",
            "reporters": "case_id, name, email, preferred_language, consent_law_enforcement, consent_exchanges, "
                         "consent_consumer_agencies",
            "reported_losses": "case_id, chain_id, asset_symbol, amount_raw, decimals",
            "case_addresses": "case_id, chain_id, address, role",
            "reported_transactions": "case_id, chain_id, tx_hash",
            "report_extras": "case_id, scammer_contacts, exchanges, prior_reports",
            "case_search": "case_id, document",
        }
        connection = db.session.connection().connection.driver_connection
        with connection.cursor() as cursor:
            for table, values in rows.items():
                with cursor.copy(f"COPY {table} ({columns[table]}) FROM STDIN") as copy:
                    for row in values:
                        copy.write_row(row)
            cursor.execute("SELECT setval(pg_get_serial_sequence('cases', 'id'), %s)", (count,))
        db.session.commit()
        db.session.remove()
        with db.engine.connect() as autocommit:
            autocommit = autocommit.execution_options(isolation_level="AUTOCOMMIT")
            for table in (*rows, "users"):
                autocommit.execute(text(f"VACUUM ANALYZE {table}"))
    return probes


def _signed_in(app: Flask):
    client = app.test_client()
    response = client.post("/staff/login", data={"email": "handler1@bench.example", "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def _search_urls(probes: dict[str, list[str]]) -> list[str]:
    from urllib.parse import urlencode

    kinds = ["zh", "en", "address", "hash", "email", "phone"]
    return [f"/staff/cases?{urlencode({'q': probes[kind][n % len(probes[kind])]})}"
            for n in range(len(kinds) * 4) for kind in [kinds[n % len(kinds)]]]


def time_pages(client, urls: list[str], requests: int) -> list[float]:
    times = []
    for n in range(requests):
        started = time.perf_counter()
        response = client.get(urls[n % len(urls)])
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (urls[n % len(urls)], response.status_code)
    return times


def explain(app: Flask, client, url: str) -> list[str]:
    """EXPLAIN of every SELECT the page runs (the plan's scan lines)."""
    from casework.extensions import db

    statements: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", keep)
    try:
        client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    plans = []
    with engine.connect() as connection:
        for statement, parameters in statements:
            rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters).all()
            lines = [str(row[0]).strip() for row in rows]
            plans.append(" / ".join(line.split("  (cost")[0] for line in lines if "Scan" in line))
    return plans


def main() -> int:
    apps = {size: postgres_app(f"console_{size}", RATELIMIT_ENABLED=False, WTF_CSRF_ENABLED=False) for size in SIZES}
    probes = {}
    for size, app in apps.items():
        started = time.perf_counter()
        probes[size] = fill(app, SIZES[size])
        print(f"filled {SIZES[size]:,} cases in {time.perf_counter() - started:.1f} s", flush=True)
    clients = {size: _signed_in(app) for size, app in apps.items()}
    pages = {size: {"queue": ["/staff/cases"], "filtered": [FILTERED], "search": _search_urls(probes[size])}
             for size in SIZES}
    times: dict[str, dict[str, list[float]]] = {page: {size: [] for size in SIZES} for page in TARGETS}
    for page in TARGETS:
        for size in SIZES:
            time_pages(clients[size], pages[size][page], 5)  # warm-up
    for _ in range(ROUNDS):
        for page in TARGETS:
            for size in SIZES:
                times[page][size] += time_pages(clients[size], pages[size][page], REQUESTS)
    rows, checks, plans, scans = [], [], [], []
    for page, target in TARGETS.items():
        small, large = times[page]["small"], times[page]["large"]
        p50 = {size: statistics.median(values) for size, values in times[page].items()}
        p95 = {size: statistics.quantiles(values, n=20)[-1] for size, values in times[page].items()}
        ratio = p50["large"] / p50["small"]
        rows.append(f"| {page} | {p50['small'] * 1e3:.1f} ms | {p95['small'] * 1e3:.1f} ms | "
                    f"{p50['large'] * 1e3:.1f} ms | {p95['large'] * 1e3:.1f} ms | {ratio:.2f}x | {target}x |")
        checks.append((ratio <= target, f"{page}: p50 at 100,000 cases is {ratio:.2f}x its p50 at 1,000 "
                                        f"(target at most {target}x; {len(small)} and {len(large)} requests)"))
        for url in list(dict.fromkeys(pages["large"][page]))[:6]:  # the search: one URL of each kind
            for plan in explain(apps["large"], clients["large"], url):
                seq = [table for table in WATCHED_TABLES if f"Seq Scan on {table} " in plan + " "]
                plans.append(f"{page} `{url}`: {plan}")
                scans += [f"{page} `{url}` reads {table} by a sequential scan" for table in seq]
    checks.append((not scans, "no plan at 100,000 cases reads cases, reporters, case_addresses or case_search by a "
                              "sequential scan" + (f" ({'; '.join(scans)})" if scans else "")))
    verdicts = [f"{'met' if passed else 'MISSED'}: {what}" for passed, what in checks]
    header = ["| Page | p50, 1,000 cases | p95, 1,000 | p50, 100,000 cases | p95, 100,000 | Ratio of p50s | Target |",
              "|---|---|---|---|---|---|---|"]
    print("\n".join([*header, *rows, "", *verdicts, "", *plans]))
    write_section("console.py", [
        "## Staff queue: the queue, a filtered queue and the search at 1,000 and 100,000 cases (bench/console.py)",
        "",
        f"Rerun: `.venv/bin/python bench/console.py` (last run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; PostgreSQL "
        "from CASEWORK_BENCH_DATABASE_URL, schemas console_small and console_large). Whole pages through the test "
        f"client as a signed-in handler, {ROUNDS} rounds of {REQUESTS} requests per page alternating between the "
        "two sizes; the search rotates over a Chinese name, a Latin name, an address prefix, a hash prefix, an "
        f"e-mail and a phone number of real cases. Filtered: `{FILTERED}`. The machine has {os.cpu_count()} CPUs, "
        "shared with whatever else runs.",
        "",
        *header,
        *rows,
        "",
        *[f"- {verdict}" for verdict in verdicts],
        "",
        "Scans in the plans of the SELECTs each page runs at 100,000 cases:",
        "",
        *[f"- {plan}" for plan in plans],
    ])
    for app in apps.values():
        with app.app_context():
            from casework.extensions import db

            db.engine.dispose()
    return 0 if all(passed for passed, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
