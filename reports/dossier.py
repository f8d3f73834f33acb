"""The evidence dossier for lawyers and the police: its view-model, its annexes and its rendering as PDF/A-3b.

Every field is plain, already-translated text (casework.services.dossiers builds it in the language asked for); the
template escapes all of it. The one exception is `GraphFigure.svg`, the fund-flow drawing, which evidence.graph_svg
writes with every text XML-escaped and no link, image or script.

Files travel inside the PDF so that a recipient can check it without our system: the raw evidence records (each
record's canonical JSON exactly as hashed, its SHA-256 and chain hash) as JSON, the exhibits list as CSV, and the
transfers table as CSV and XLSX (reports.spreadsheet) for compliance desks.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from reports.spreadsheet import TransferSheet, inert, transfers_csv, transfers_xlsx
from reports.victim import FileLine, LossLine

TEMPLATE = "evidence_dossier.html"
RECORDS_FILE = "evidence-records.json"
EXHIBITS_FILE = "exhibits.csv"
TRANSFERS_CSV = "transfers.csv"
TRANSFERS_XLSX = "transfers.xlsx"
GENESIS_CHAIN_HASH = "0" * 64
CHAIN_RULES = (
    "sha256 = lowercase hex SHA-256 of the UTF-8 bytes of canonical_json (RFC 8785 for canonical_version 2; "
    "Python json.dumps(sort_keys=True, separators=(',', ':'), ensure_ascii=False) for version 1). "
    "chain_hash[i] = lowercase hex SHA-256 of the ASCII bytes of chain_hash[i-1] + sha256[i], "
    "chain_hash[-1] = 64 zeros."
)


@dataclass(frozen=True)
class Moment:
    """One time, in UTC and in the victim's zone, each with its zone written out."""

    utc: str
    local: str


@dataclass(frozen=True)
class Fact:
    label: str
    value: str


@dataclass(frozen=True)
class ChronologyEntry:
    when: Moment
    source: str  # "Reported by the victim", "On-chain", "Casework"
    title: str
    detail: str = ""


@dataclass(frozen=True)
class TransactionRow:
    """One value movement read from a raw record (record_sha256 names it)."""

    chain: str
    tx_hash: str
    block: int
    when: Moment
    from_address: str
    to_address: str
    token: str
    token_contract: str
    amount: str
    kind: str
    failed: bool
    explorer_url: str
    record_sha256: str


@dataclass(frozen=True)
class EdgeRow:
    hop: int
    from_address: str
    to_address: str
    amount: str
    tx_hash: str
    when: Moment


@dataclass(frozen=True)
class GraphFigure:
    chain: str
    svg: str  # evidence.graph_svg's drawing: every text escaped, no links
    edges: tuple[EdgeRow, ...]


@dataclass(frozen=True)
class LabelledAddress:
    """An address and what we say it is, with where that came from: a conclusion, never an on-chain fact."""

    address: str
    chain: str
    role: str
    label: str
    basis: str


@dataclass(frozen=True)
class ReferralRow:
    kind: str
    target: str
    status: str
    amount: str
    sent_at: str
    outcome: str


@dataclass(frozen=True)
class CustodyRow:
    """One raw evidence record: where it came from, when, by whom, and its hashes."""

    sequence: int
    kind: str
    source: str
    captured_at: str
    captured_by: str
    confirmations: str
    sha256: str
    chain_hash: str


@dataclass(frozen=True)
class RawRecord:
    """A record as it goes into the JSON annex: its canonical JSON exactly as it was hashed."""

    sequence: int
    kind: str
    chain_id: int | None
    canonical_version: int
    canonical_json: str
    sha256: str
    chain_hash: str
    captured_at: str
    source: str


@dataclass(frozen=True)
class EvidenceDossier:
    """The evidence dossier of one case, in one language."""

    reference: str
    language: str  # BCP 47 tag for <html lang>
    document_type: str
    issued_at: Moment
    prepared_by: str
    verification_code: str
    verify_url: str
    time_zone: str  # the victim's zone as printed beside UTC
    facts: tuple[Fact, ...]
    summary: str
    statement: str
    chronology: tuple[ChronologyEntry, ...] = ()
    losses: tuple[LossLine, ...] = ()
    transactions: tuple[TransactionRow, ...] = ()
    graphs: tuple[GraphFigure, ...] = ()
    labelled: tuple[LabelledAddress, ...] = ()
    referrals: tuple[ReferralRow, ...] = ()
    exhibits: tuple[FileLine, ...] = ()
    custody: tuple[CustodyRow, ...] = ()
    final_chain_hash: str = GENESIS_CHAIN_HASH
    records: tuple[RawRecord, ...] = ()
    transfers_sheet: TransferSheet = TransferSheet(headers=())


def records_json(dossier: EvidenceDossier) -> bytes:
    """The JSON annex: the rules, the final chain hash and every raw record with its hashes, in chain order."""
    document = {
        "case_reference": dossier.reference,
        "verification_code": dossier.verification_code,
        "rules": CHAIN_RULES,
        "genesis_chain_hash": GENESIS_CHAIN_HASH,
        "final_chain_hash": dossier.final_chain_hash,
        "records": [
            {"sequence": r.sequence, "kind": r.kind, "chain_id": r.chain_id, "canonical_version": r.canonical_version,
             "captured_at": r.captured_at, "source": r.source, "sha256": r.sha256, "chain_hash": r.chain_hash,
             "canonical_json": r.canonical_json}
            for r in dossier.records
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def exhibits_csv(dossier: EvidenceDossier) -> bytes:
    """The CSV annex: one line per exhibit (file name, size, SHA-256, when it was added)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["name", "size", "sha256", "added_at"])
    for exhibit in dossier.exhibits:
        writer.writerow([inert(exhibit.name), exhibit.size, exhibit.sha256, exhibit.added_at])
    return out.getvalue().encode("utf-8-sig")  # the byte-order mark makes spreadsheet programs read UTF-8


def render_evidence_dossier(dossier: EvidenceDossier, *, translations=None) -> bytes:
    """The dossier as PDF/A-3b bytes, with the records (JSON), exhibits (CSV) and transfers (CSV, XLSX) attached."""
    from reports.render import PDF_A, PdfAttachment, render_pdf  # loads WeasyPrint on first use

    attachments = (
        PdfAttachment(RECORDS_FILE, records_json(dossier),
                      "Raw evidence records: canonical JSON, SHA-256 and chain hash of each"),
        PdfAttachment(EXHIBITS_FILE, exhibits_csv(dossier), "Exhibits: file name, size and SHA-256"),
        PdfAttachment(TRANSFERS_CSV, transfers_csv(dossier.transfers_sheet),
                      "Transfers: chain, token, hash, block, time, from, to, amount, explorer link, labels"),
        PdfAttachment(TRANSFERS_XLSX, transfers_xlsx(dossier.transfers_sheet), "Transfers, as an XLSX workbook"),
    )
    return render_pdf(TEMPLATE, dossier, translations=translations, attachments=attachments, pdf_variant=PDF_A)
