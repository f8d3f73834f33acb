"""Benchmark: the evidence dossier of cases with 20, 200 and 1,000 transactions against bare WeasyPrint.

Run: .venv/bin/python bench/dossier.py

Each size gets its own migrated SQLite database (a temporary file) holding one filed case whose evidence is written
by the services that write it in production: N theft transactions from the victim (ERC-20 USDT transfers and native
ETH, ten per block) as raw JSON-RPC records (transaction, receipt, block, the token's metadata calls) decoded by
evidence.decode and recorded with casework.services.evidence.record_capture (canonical JSON, SHA-256, chain hash);
a trace of the attacker's funds to two deposit addresses at an exchange stored by casework.services.tracing
(N/10 flow edges over four hops, their receipts in the evidence chain, the freeze referrals it proposes); two
exhibits. Then, interleaved in ROUNDS rounds (median reported):

- dossier: `dossiers.issue` of the English evidence dossier by a legal user, the full path (assembling the view-model
  from the database, Jinja, WeasyPrint layout as PDF/A-3b, the four attachments, the stored file);
- assembly: `dossier_content.build_evidence_dossier` alone (database to view-model);
- render: `reports.dossier.render_evidence_dossier` alone on a view-model built beforehand (template, layout,
  attachments);
- bare table: WeasyPrint `HTML(string=...).write_pdf()` of a plain <table> of the same N rows and columns (chain,
  hash, block, time, from, to, token, amount, link) in the dossier's fonts.

Peak memory: a fresh subprocess issues the 1,000-transaction dossier once (ru_maxrss of RUSAGE_CHILDREN, read before
any other child runs); a second subprocess lays out the bare 1,000-row table, for comparison. Target: the
200-transaction dossier within 2x of the bare table, the 1,000-transaction one under 500 MB. Prints the figures,
updates this benchmark's section of bench/RESULTS.md, and exits 1 when a target is missed.
"""

from __future__ import annotations

import html
import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)

from flask import Flask  # noqa: E402

from bench.results import write_section  # noqa: E402

SIZES = (20, 200, 1_000)
# Rounds per size: the 1,000-transaction dossier takes minutes on this machine, so it is timed once, in the
# peak-memory child (its bare table and assembly in this process).
ROUNDS = {20: 3, 200: 3, 1_000: 1}
MAX_RATIO = 2.0
TARGET_SIZE = 200
MAX_PEAK_MB = 500
PEAK_SIZE = 1_000
CHAIN_ID = 1
TXS_PER_BLOCK = 10
FIRST_BLOCK = 21_000_000
SECRET_KEY = "bench-secret-key"
USDT = "0xdac17f958d2ee523a2206206994597c13d831ec7"
VICTIM = "0x1111111111111111111111111111111111111111"
ATTACKER = "0x2222222222222222222222222222222222222222"
HOT_WALLET = "0x28c6c06298d514db089934071355e5743bf21d60"
DEPOSITS = ("0x3333333333333333333333333333333333333333", "0x4444444444444444444444444444444444444444")
NODE_HOST = "eth-mainnet.bench.example"
TOPIC_TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
COLUMNS = ("Chain", "Transaction hash", "Block", "Time (UTC)", "From", "To", "Token", "Amount", "Explorer link")


def _word(value: int | str) -> str:
    """A 32-byte ABI word: an integer, or an address left-padded."""
    number = int(value, 16) if isinstance(value, str) else value
    return f"{number:064x}"


def _hash(*parts: object) -> str:
    import hashlib

    return "0x" + hashlib.sha256(repr(parts).encode()).hexdigest()


def _app(directory: str, name: str) -> Flask:
    from bench.apps import sqlite_app

    return sqlite_app(directory, name, SECRET_KEY=SECRET_KEY, UPLOAD_DIR=f"{directory}/uploads-{name}")


def _reply(method: str, params: list, result: object, captured_at: datetime):
    """A node's answer as the transport hands it over (text as sent, parsed value beside it)."""
    import json

    from evidence.rpc import RpcReply

    return RpcReply(method, tuple(params), json.dumps(result), None, NODE_HOST, captured_at, result=result)


def _token_records(captured_at: datetime) -> list:
    """USDT's metadata calls (symbol, name, decimals, ERC-721 support) as capture records them."""
    from eth_abi import encode

    from evidence.models import RawRecord
    from evidence.tokens import METADATA_CALLS

    answers = {"symbol": "0x" + encode(["string"], ["USDT"]).hex(),
               "name": "0x" + encode(["string"], ["Tether USD"]).hex(),
               "decimals": "0x" + _word(6), "is_erc721": "0x" + _word(0)}
    return [RawRecord.from_reply("token_call", CHAIN_ID, _reply("eth_call", [{"to": USDT, "data": data},
                                                                              hex(FIRST_BLOCK)],
                                                                 answers[name], captured_at))
            for name, data in METADATA_CALLS.items()]


def _theft_records(count: int, start: datetime, captured_at: datetime) -> tuple[list, list[str]]:
    """count theft transactions from the victim (three in four USDT transfers, the rest ETH), ten per block: their
    transaction, receipt and block records, and their hashes."""
    from evidence.models import RawRecord

    records, hashes = _token_records(captured_at), []
    for first in range(0, count, TXS_PER_BLOCK):
        number = FIRST_BLOCK + first // TXS_PER_BLOCK
        block_hash = _hash("block", number)
        timestamp = int((start + timedelta(seconds=12 * (first // TXS_PER_BLOCK))).timestamp())
        in_block = []
        for index, n in enumerate(range(first, min(count, first + TXS_PER_BLOCK))):
            tx_hash = _hash("tx", n)
            token = n % 4 != 3
            amount = (1_000 + n) * 10**6 if token else 10**17 + n
            tx = {"hash": tx_hash, "blockHash": block_hash, "blockNumber": hex(number), "transactionIndex": hex(index),
                  "from": VICTIM if not token else ATTACKER, "to": USDT if token else ATTACKER,
                  "value": "0x0" if token else hex(amount), "nonce": hex(n), "gas": hex(90_000),
                  "gasPrice": hex(20 * 10**9), "type": "0x0", "chainId": "0x1", "v": "0x25",
                  "r": _hash("r", n), "s": _hash("s", n),
                  "input": ("0x23b872dd" + _word(VICTIM) + _word(ATTACKER) + _word(amount)) if token else "0x"}
            logs = [{"address": USDT, "topics": [TOPIC_TRANSFER, "0x" + _word(VICTIM), "0x" + _word(ATTACKER)],
                     "data": "0x" + _word(amount), "blockNumber": hex(number), "blockHash": block_hash,
                     "transactionHash": tx_hash, "transactionIndex": hex(index), "logIndex": hex(index),
                     "removed": False}] if token else []
            receipt = {"transactionHash": tx_hash, "blockHash": block_hash, "blockNumber": hex(number),
                       "transactionIndex": hex(index), "from": tx["from"], "to": tx["to"], "status": "0x1",
                       "gasUsed": hex(52_000), "cumulativeGasUsed": hex(52_000 * (index + 1)),
                       "effectiveGasPrice": hex(20 * 10**9), "contractAddress": None, "logs": logs,
                       "logsBloom": "0x" + "00" * 256, "type": "0x0"}
            records.append(RawRecord.from_reply("transaction", CHAIN_ID, _reply(
                "eth_getTransactionByHash", [tx_hash], tx, captured_at)))
            records.append(RawRecord.from_reply("receipt", CHAIN_ID, _reply(
                "eth_getTransactionReceipt", [tx_hash], receipt, captured_at)))
            in_block.append(tx_hash)
            hashes.append(tx_hash)
        block = {"number": hex(number), "hash": block_hash, "parentHash": _hash("block", number - 1),
                 "timestamp": hex(timestamp), "miner": "0x" + "95" * 20, "gasLimit": hex(30_000_000),
                 "gasUsed": hex(52_000 * len(in_block)), "baseFeePerGas": hex(10**9), "transactions": in_block}
        records.append(RawRecord.from_reply("block", CHAIN_ID, _reply(
            "eth_getBlockByNumber", [hex(number), False], block, captured_at)))
    return records, hashes


def _trace(edges_wanted: int, start: datetime, captured_at: datetime):
    """A four-hop trace from the attacker to two deposit addresses at one exchange (then its hot wallet), with a
    receipt record behind each edge and a freeze proposal per deposit address."""
    from evidence.models import RawRecord
    from evidence.trace import FlowEdge, FlowGraph, FlowNode, FreezeProposal

    middles = [f"0x{(0x5000 + n):040x}" for n in range(max(1, edges_wanted // 3))]
    records, edges = [], []

    def edge(hop: int, sender: str, recipient: str, n: int) -> None:
        number = FIRST_BLOCK + 10_000 + n
        tx_hash = _hash("hop", n)
        amount = (500 + n) * 10**6
        receipt = {"transactionHash": tx_hash, "blockHash": _hash("block", number), "blockNumber": hex(number),
                   "transactionIndex": "0x0", "from": sender, "to": USDT, "status": "0x1", "gasUsed": hex(52_000),
                   "logs": [{"address": USDT, "topics": [TOPIC_TRANSFER, "0x" + _word(sender), "0x" + _word(recipient)],
                             "data": "0x" + _word(amount), "logIndex": "0x0", "transactionHash": tx_hash}]}
        record = RawRecord.from_reply("receipt", CHAIN_ID, _reply("eth_getTransactionReceipt", [tx_hash], receipt,
                                                                  captured_at))
        records.append(record)
        edges.append(FlowEdge(sender, recipient, "erc20", USDT, "USDT", 6, amount, tx_hash, 0, number,
                              start + timedelta(hours=1, seconds=12 * n), hop, record.sha256))

    n = 0
    for middle in middles:  # hop 1: the attacker spreads the funds
        edge(1, ATTACKER, middle, n)
        n += 1
    while n < edges_wanted - 2:  # hops 2 and 3: intermediaries pay into the deposit addresses
        middle = middles[n % len(middles)]
        edge(2 + n % 2, middle, DEPOSITS[n % 2], n)
        n += 1
    for deposit in DEPOSITS:  # hop 4: the deposit addresses sweep to the exchange's hot wallet
        edge(4, deposit, HOT_WALLET, n)
        n += 1
    nodes = (FlowNode(ATTACKER, None, None, None, False, "seed", 0),
             *(FlowNode(m, None, None, None, False, "intermediary", 1) for m in middles),
             *(FlowNode(d, None, None, None, False, "exchange_deposit", 3, exchange="Harbour Exchange")
               for d in DEPOSITS),
             FlowNode(HOT_WALLET, "Harbour Exchange: Hot Wallet", "exchange_hot_wallet", "bench label book", True,
                      "endpoint", 4))
    proposals = tuple(FreezeProposal("exchange_freeze", "Harbour Exchange", d, CHAIN_ID, USDT, "USDT", 6,
                                     sum(e.value for e in edges if e.to_address == d),
                                     tuple(e.tx_hash for e in edges if e.to_address == d),
                                     "Funds traced to a deposit address at Harbour Exchange.") for d in DEPOSITS)
    return FlowGraph(CHAIN_ID, (ATTACKER,), FIRST_BLOCK, FIRST_BLOCK + 20_000, 4, 5, nodes, tuple(edges), proposals,
                     tuple(records))


def stage(app: Flask, transactions: int) -> str:
    """Migrate; file a case and record its evidence, trace, referrals and exhibits; returns the case reference."""
    from flask_migrate import upgrade

    from casework.extensions import db
    from casework.models import AddressRole, IncidentType, Role
    from casework.services import evidence as evidence_service
    from casework.services import filing, tracing, uploads, users
    from evidence.capture import Capture
    from evidence.decode import decode_records
    from evidence.labels import LabelBook

    with app.app_context():
        upgrade()
        users.create_user("legal@bench.example", "bench password 1", Role.LEGAL, "Bench Legal")
        now = datetime.now(UTC).replace(microsecond=0)
        start = now - timedelta(days=2)
        report = filing.NewReport(
            incident_type=IncidentType.APPROVAL_PHISHING,
            reporter=filing.ReporterInput(name="李伟 Li Wei", email="victim@bench.example",
                                          preferred_language="zh_Hans_CN"),
            summary="我在一个假空投网站上签了名，钱包里的USDT被转走了。 I signed on a fake airdrop site and my USDT "
                    "was taken, then more and more transfers left my wallet.",
            incident_at=start, discovered_at=start + timedelta(hours=3), victim_timezone="Asia/Shanghai",
            wallet_app="imToken", chain_ids=(CHAIN_ID,),
            losses=(filing.LossInput(chain_id=CHAIN_ID, asset_symbol="USDT", amount_raw=transactions * 1_500 * 10**6,
                                     decimals=6),),
            addresses=(filing.AddressInput(chain_id=CHAIN_ID, address=VICTIM, role=AddressRole.VICTIM),
                       filing.AddressInput(chain_id=CHAIN_ID, address=ATTACKER, role=AddressRole.ATTACKER)),
            transactions=(),
        )
        case = filing.file_case(report, first_hour_work=False).case
        db.session.commit()
        records, hashes = _theft_records(transactions, start, now - timedelta(hours=1))
        capture = Capture(CHAIN_ID, FIRST_BLOCK + transactions // TXS_PER_BLOCK + 64, tuple(records), tuple(hashes),
                          (), captured_at=now - timedelta(hours=1))
        decoded = decode_records(records, native_symbol="ETH")
        stored = evidence_service.record_capture(case, capture, decoded, actor=None)
        assert len(stored) == transactions, f"{len(stored)} transfers stored, not {transactions}"
        graph = _trace(max(4, transactions // 10), start, now - timedelta(minutes=30))
        plan = tracing.TracePlan(CHAIN_ID, (), 4, 5, LabelBook([]))
        tracing.store_trace(case, plan, graph, actor=None)
        for number in range(2):
            uploads.store_upload(f"Chat log {number} with the fake airdrop site.\n".encode() * 200,
                                 f"chat-log-{number}.txt", case=case)
        db.session.commit()
        reference = case.reference
        db.session.remove()
        db.engine.dispose()
    return reference


def bare_table_html(transactions: int) -> str:
    """A plain HTML table of the dossier's rows and columns, in the dossier's fonts, without any of its parts."""
    rows = []
    start = datetime(2026, 11, 20, tzinfo=UTC)
    for n in range(transactions):
        token = n % 4 != 3
        tx_hash = _hash("tx", n)
        cells = ("Ethereum", tx_hash, str(FIRST_BLOCK + n // TXS_PER_BLOCK),
                 f"{start + timedelta(seconds=12 * (n // TXS_PER_BLOCK)):%Y-%m-%d %H:%M:%S} UTC",
                 VICTIM, ATTACKER, "USDT" if token else "ETH",
                 f"{1_000 + n:,}" if token else f"0.1{n:016d}", f"https://etherscan.io/tx/{tx_hash}")
        rows.append("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells) + "</tr>")
    head = "".join(f"<th>{name}</th>" for name in COLUMNS)
    return ("<!doctype html><html><head><meta charset='utf-8'><style>"
            "@page { size: A4 landscape; margin: 15mm; } "
            "html { font-family: 'Noto Sans CJK SC', 'Noto Sans', 'DejaVu Sans', sans-serif; font-size: 8.5pt; } "
            "table { width: 100%; border-collapse: collapse; } "
            "</style></head><body><table><thead><tr>" + head + "</tr></thead><tbody>" + "".join(rows) +
            "</tbody></table></body></html>")


def bare_table(source: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=source).write_pdf()


class Subject:
    """One staged case and the three timed paths over it."""

    def __init__(self, app: Flask, reference: str, transactions: int) -> None:
        self.app, self.reference, self.transactions = app, reference, transactions
        self.table = bare_table_html(transactions)
        self.pages = 0

    def _case_and_legal(self):
        from sqlalchemy import select

        from casework.extensions import db
        from casework.models import Case, User

        return (db.session.scalar(select(Case).where(Case.reference == self.reference)),
                db.session.scalar(select(User).where(User.email == "legal@bench.example")))

    def issue(self) -> float:
        from casework.extensions import db
        from casework.models import DocumentAudience
        from casework.services import dossiers

        with self.app.app_context():
            case, legal = self._case_and_legal()
            started = time.perf_counter()
            issued = dossiers.issue(case, DocumentAudience.EVIDENCE, language="en", actor=legal)
            db.session.commit()
            elapsed = time.perf_counter() - started
            db.session.remove()
        self.pdf = issued.pdf
        return elapsed

    def view_model(self):
        from flask_babel import force_locale

        from casework.services import dossier_content

        with self.app.app_context(), force_locale("en"):
            case, _legal = self._case_and_legal()
            started = time.perf_counter()
            dossier = dossier_content.build_evidence_dossier(case, code="ABCDE-FGHIJ", verify_link="http://x/verify",
                                                             prepared_by="Bench Legal, Legal, for Casework")
            return dossier, time.perf_counter() - started

    def assemble(self) -> float:
        return self.view_model()[1]

    def render(self) -> float:
        from flask_babel import force_locale, get_translations

        from reports.dossier import render_evidence_dossier

        dossier, _elapsed = self.view_model()
        with self.app.app_context(), force_locale("en"):
            translations = get_translations()
            started = time.perf_counter()
            render_evidence_dossier(dossier, translations=translations)
            return time.perf_counter() - started

    def render_fixed(self, static_dir: Path) -> float:
        """render() with the tables laid out with `table-layout: fixed` (a diagnostic, not the shipped CSS)."""
        from flask_babel import force_locale, get_translations

        from reports.dossier import (
            EXHIBITS_FILE,
            RECORDS_FILE,
            TEMPLATE,
            TRANSFERS_CSV,
            TRANSFERS_XLSX,
            exhibits_csv,
            records_json,
        )
        from reports.render import PDF_A, PdfAttachment, StaticOnlyFetcher, render_pdf
        from reports.spreadsheet import transfers_csv, transfers_xlsx

        dossier, _elapsed = self.view_model()
        with self.app.app_context(), force_locale("en"):
            translations = get_translations()
            started = time.perf_counter()
            attachments = (PdfAttachment(RECORDS_FILE, records_json(dossier), "records"),
                           PdfAttachment(EXHIBITS_FILE, exhibits_csv(dossier), "exhibits"),
                           PdfAttachment(TRANSFERS_CSV, transfers_csv(dossier.transfers_sheet), "csv"),
                           PdfAttachment(TRANSFERS_XLSX, transfers_xlsx(dossier.transfers_sheet), "xlsx"))
            render_pdf(TEMPLATE, dossier, translations=translations, attachments=attachments, pdf_variant=PDF_A,
                       fetcher=StaticOnlyFetcher(static_dir))
            return time.perf_counter() - started

    def bare(self) -> float:
        started = time.perf_counter()
        bare_table(self.table)
        return time.perf_counter() - started


def peak_child(directory: str, name: str, reference: str) -> None:
    """In a fresh process: issue the staged case's dossier once; print how long that took and this process's own
    peak RSS."""
    from casework.extensions import db
    from casework.models import DocumentAudience
    from casework.services import dossiers

    app = _app(directory, name)
    subject = Subject.__new__(Subject)
    subject.app, subject.reference = app, reference
    with app.app_context():
        case, legal = subject._case_and_legal()
        started = time.perf_counter()
        dossiers.issue(case, DocumentAudience.EVIDENCE, language="en", actor=legal)
        db.session.commit()
        elapsed = time.perf_counter() - started
    print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def bare_peak_child(transactions: int) -> None:
    """In a fresh process: the bare table of that many rows, and this process's own peak RSS."""
    bare_table(bare_table_html(transactions))
    print(0.0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _child(*args: str) -> tuple[float, int]:
    """Run this script in a child process with args: the seconds and peak RSS in kB it printed."""
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True, cwd=ROOT)
    seconds, kb = done.stdout.split()[-2:]
    return float(seconds), int(kb)


def fixed_layout_static(directory: str) -> Path:
    """A copy of reports/static whose dossier.css also says `table { table-layout: fixed; }`."""
    import shutil

    from reports.render import STATIC_DIR

    target = Path(directory, "static-fixed")
    shutil.copytree(STATIC_DIR, target)
    css = target / "dossier.css"
    css.write_text(css.read_text(encoding="utf-8") + "\ntable { table-layout: fixed; }\n", encoding="utf-8")
    return target


def _seconds(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s" if values else "—"


def main() -> int:
    from pypdf import PdfReader

    load_before = os.getloadavg()
    paths = ("bare", "dossier", "assembly", "render", "render_fixed")
    runs: dict[int, dict[str, list[float]]] = {n: {path: [] for path in paths} for n in SIZES}
    with tempfile.TemporaryDirectory(prefix="dossier-bench-") as directory:
        subjects = {}
        for n in SIZES:
            started = time.perf_counter()
            name = f"dossier_{n}"
            subjects[n] = Subject(_app(directory, name), stage(_app(directory, name), n), n)
            print(f"staged {n} transactions in {time.perf_counter() - started:.1f} s", flush=True)
        # Peak memory first, so that RUSAGE_CHILDREN holds this child alone.
        started = time.perf_counter()
        peak_seconds, peak_self_kb = _child("--peak", directory, f"dossier_{PEAK_SIZE}",
                                            subjects[PEAK_SIZE].reference)
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(f"peak child: {peak_kb / 1024:.0f} MB in {time.perf_counter() - started:.1f} s", flush=True)
        _bare_seconds, bare_peak_kb = _child("--bare-peak", str(PEAK_SIZE))
        # The largest dossier takes minutes here: the peak-memory child's issue is its timed run.
        runs[PEAK_SIZE]["dossier"].append(peak_seconds)
        static_fixed = fixed_layout_static(directory)
        subjects[SIZES[0]].bare()  # warm-up: fonts, templates, imports
        subjects[SIZES[0]].issue()
        for round_ in range(max(ROUNDS.values())):
            for n, subject in subjects.items():
                if round_ >= ROUNDS[n]:
                    continue
                runs[n]["bare"].append(subject.bare())
                if n != PEAK_SIZE:
                    runs[n]["dossier"].append(subject.issue())
                runs[n]["assembly"].append(subject.assemble())
                if n != PEAK_SIZE:
                    runs[n]["render"].append(subject.render())
                    runs[n]["render_fixed"].append(subject.render_fixed(static_fixed))
                print(f"round {round_ + 1}, {n}: " + ", ".join(f"{path} {values[-1]:.2f} s"
                                                             for path, values in runs[n].items() if values), flush=True)
        pages = {n: len(PdfReader(io.BytesIO(s.pdf)).pages) for n, s in subjects.items() if n != PEAK_SIZE}
        pages[PEAK_SIZE] = len(PdfReader(next(Path(directory, f"uploads-dossier_{PEAK_SIZE}", "documents")
                                              .rglob("*.pdf"))).pages)
        bare_pages = {n: len(PdfReader(io.BytesIO(bare_table(s.table))).pages) for n, s in subjects.items()}
    load_after = os.getloadavg()
    median = {n: {path: statistics.median(values) for path, values in by_path.items() if values}
              for n, by_path in runs.items()}
    ratios = {n: [d / b for d, b in zip(runs[n]["dossier"], runs[n]["bare"], strict=True)] for n in SIZES}
    peak_note = (f"The {PEAK_SIZE:,}-transaction dossier was timed once, in the fresh process that measured its "
                 "memory, against one bare table in this process.")
    rows = [f"| {n:,} | {ROUNDS[n]} | {pages[n]} / {bare_pages[n]} | {_seconds(runs[n]['bare'])} | "
            f"{_seconds(runs[n]['dossier'])} | {_seconds(runs[n]['assembly'])} | {_seconds(runs[n]['render'])} | "
            f"{_seconds(runs[n]['render_fixed'])} | {median[n]['dossier'] / median[n]['bare']:.2f}x "
            f"({', '.join(f'{r:.2f}' for r in ratios[n])}) |"
            for n in SIZES]
    ratio = median[TARGET_SIZE]["dossier"] / median[TARGET_SIZE]["bare"]
    peak_mb = peak_kb / 1024
    checks = [
        (ratio <= MAX_RATIO, f"the {TARGET_SIZE}-transaction dossier takes {ratio:.2f}x the bare table "
                             f"({median[TARGET_SIZE]['dossier']:.2f} s vs {median[TARGET_SIZE]['bare']:.2f} s; "
                             f"target at most {MAX_RATIO:.0f}x)"),
        (peak_mb < MAX_PEAK_MB, f"peak memory issuing the {PEAK_SIZE:,}-transaction dossier: {peak_mb:.0f} MB "
                                f"(target under {MAX_PEAK_MB} MB)"),
    ]
    verdicts = [f"{'met' if ok else 'missed'}: {text}" for ok, text in checks]
    lines = [
        "## Evidence dossier: 20, 200 and 1,000 transactions against a bare WeasyPrint table (bench/dossier.py)",
        "",
        f"Rerun: `.venv/bin/python bench/dossier.py` (last run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC). One case "
        "per size in its own migrated SQLite database, its evidence written by the services (raw JSON-RPC "
        "transaction, receipt and block records, three in four USDT transfers, decoded by evidence.decode and "
        "recorded by services.evidence.record_capture with canonical JSON, SHA-256 and chain hash; a trace to two "
        "deposit addresses with N/10 edges stored by services.tracing, proposing two freeze referrals; two "
        "exhibits). *Dossier*: `dossiers.issue` of the English evidence dossier (assembly from the database, Jinja, "
        "WeasyPrint PDF/A-3b, four attachments, the stored file, the Document row); *assembly*: "
        "`dossier_content.build_evidence_dossier` alone; *render*: `render_evidence_dossier` alone on a prepared "
        "view-model; *render, fixed layout*: the same with `table { table-layout: fixed; }` added to a copy of "
        "dossier.css (a diagnostic, not shipped); *bare*: `HTML(string=...).write_pdf()` of a plain table of the "
        "same rows and columns (chain, hash, block, time, from, to, token, amount, link) in the same fonts on A4 "
        "landscape. Medians of the rounds given, the paths interleaved per size and round; the ratio is the "
        "dossier's over the bare table's, each round's in brackets. The machine has "
        f"{os.cpu_count()} CPUs, shared with a test-suite run: load average {load_before[0]:.2f} at the start, "
        f"{load_after[0]:.2f} at the end.",
        "",
        "| Transactions | Rounds | Pages (dossier / bare) | Bare table | Dossier | Assembly | Render | "
        "Render, fixed layout | Dossier / bare |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Peak RSS issuing the {PEAK_SIZE:,}-transaction dossier in a fresh process (RUSAGE_CHILDREN): "
        f"{peak_mb:.0f} MB (the child's own RUSAGE_SELF: {peak_self_kb / 1024:.0f} MB); the bare {PEAK_SIZE:,}-row "
        f"table in a fresh process: {bare_peak_kb / 1024:.0f} MB. {peak_note}",
        "",
        *[f"- {verdict}" for verdict in verdicts],
    ]
    write_section("dossier.py", lines)
    print("\n".join(lines))
    return 0 if all(ok for ok, _text in checks) else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--peak"]:
        peak_child(*sys.argv[2:5])
    elif sys.argv[1:2] == ["--bare-peak"]:
        bare_peak_child(int(sys.argv[2]))
    else:
        sys.exit(main())
