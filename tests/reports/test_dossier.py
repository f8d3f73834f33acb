"""The evidence dossier renderer: PDF/A-3b with its records and exhibits attached, numbered pages, Chinese text,
and victim-typed text printed as text, never fetched."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re

import pytest
from pypdf import PdfReader

from reports import render
from reports.dossier import (
    EXHIBITS_FILE,
    RECORDS_FILE,
    ChronologyEntry,
    CustodyRow,
    EdgeRow,
    EvidenceDossier,
    Fact,
    GraphFigure,
    LabelledAddress,
    Moment,
    RawRecord,
    ReferralRow,
    TransactionRow,
    records_json,
    render_evidence_dossier,
)
from reports.render import MissingFont, css_counters
from reports.victim import FileLine, LossLine

from .test_render import CountingServer, pdf_text

WHEN = Moment("2026-11-22 08:00:00 UTC", "2026-11-22 16:00:00 Asia/Shanghai (UTC+08:00)")
RECORD = '{"captured_at":"2026-11-22T08:00:00.000000Z","chain_id":1,"kind":"receipt"}'


def _tx(number: int) -> TransactionRow:
    return TransactionRow(
        chain="Ethereum", tx_hash="0x" + f"{number:064x}", block=19_000_000 + number, when=WHEN,
        from_address="0x" + "11" * 20, to_address="0x" + "22" * 20, token="USDT",
        token_contract="0xdAC17F958D2ee523a2206206994597C13D831ec7", amount=f"{number},000.5 USDT",
        kind="ERC-20 token", failed=False, explorer_url=f"https://etherscan.io/tx/0x{number:064x}",
        record_sha256=hashlib.sha256(str(number).encode()).hexdigest(),
    )


def dossier(**overrides) -> EvidenceDossier:
    sha = hashlib.sha256(RECORD.encode()).hexdigest()
    chain = hashlib.sha256(("0" * 64 + sha).encode()).hexdigest()
    values = dict(
        reference="CW-2026-000042", language="en", document_type="Evidence dossier", issued_at=WHEN,
        prepared_by="Legal Desk, Legal, for Casework", verification_code="ABCDE-FGHIJ",
        verify_url="https://casework.example.org/verify?code=ABCDE-FGHIJ", time_zone="Asia/Shanghai",
        facts=(Fact("Incident", "Approval or permit phishing"), Fact("Wallet app", "imToken")),
        summary="The victim reports a loss of 2,500 USDT.", statement="I signed an approval on a fake airdrop site.",
        chronology=(ChronologyEntry(WHEN, "On-chain", "ERC-20 token: 1,000.5 USDT", "0x" + f"{1:064x}"),),
        losses=(LossLine("2,500", "USDT", "Ethereum", "0xdAC17F958D2ee523a2206206994597C13D831ec7"),),
        transactions=tuple(_tx(n) for n in range(1, 4)),
        graphs=(GraphFigure("Ethereum", '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect '
                            'width="10" height="10"/></svg>',
                            (EdgeRow(1, "0x" + "22" * 20, "0x" + "33" * 20, "1,000.5 USDT", "0x" + "cd" * 32,
                                     WHEN),)),),
        labelled=(LabelledAddress("0x" + "33" * 20, "Ethereum", "exchange deposit address", "Deposit: Harbour",
                                  "Inferred from behaviour."),),
        referrals=(ReferralRow("Exchange freeze request", "Harbour Exchange", "Sent", "1,000.5 USDT",
                               "2026-11-22 09:00:00 UTC", "Frozen: 1,000.5 USDT"),),
        exhibits=(FileLine("wallet.png", "12 KB", "ef" * 32, "2026-11-22 08:30:00 UTC"),),
        custody=(CustodyRow(0, "receipt", "rpc.example.org · eth_getTransactionReceipt", "2026-11-22 08:00:00 UTC",
                            "Casework (automatic)", "12", sha, chain),),
        final_chain_hash=chain,
        records=(RawRecord(0, "receipt", 1, 2, RECORD, sha, chain, "2026-11-22T08:00:00+00:00", "rpc.example.org"),),
    )
    values.update(overrides)
    return EvidenceDossier(**values)


@pytest.fixture(scope="module")
def english_pdf() -> bytes:
    return render_evidence_dossier(dossier())


def test_every_section_is_in_the_dossier(english_pdf):
    text = pdf_text(english_pdf).replace("\n", " ")
    for title in ("Evidence dossier", "Summary of the incident", "The victim's statement", "Chronology",
                  "Losses reported, per asset", "Transaction evidence", "Where the funds went",
                  "Addresses, labels and attributions", "Inferences, not on-chain facts",
                  "Referrals and their outcomes",
                  "Exhibits", "Chain of custody", "Final chain hash", "Verification code", "ABCDE-FGHIJ",
                  "A document cannot print its own hash", "I signed an approval on a fake airdrop site."):
        assert title in text, title


def test_every_hash_and_amount_is_printed_whole(english_pdf):
    text = re.sub(r"\s", "", pdf_text(english_pdf))
    for tx in dossier().transactions:
        assert tx.tx_hash in text and tx.amount.replace(" ", "") in text and tx.record_sha256 in text
    assert dossier().final_chain_hash in text


def test_pages_are_numbered_page_x_of_y_under_a_running_header(english_pdf):
    reader = PdfReader(io.BytesIO(english_pdf))
    pages = len(reader.pages)
    assert pages >= 3
    assert f"Page 1 of {pages}" in reader.pages[0].extract_text()
    last = reader.pages[-1].extract_text()
    assert f"Page {pages} of {pages}" in last and "CW-2026-000042 · Evidence dossier" in last


def test_the_wide_tables_are_on_landscape_pages(english_pdf):
    sizes = {(round(float(p.mediabox.width)), round(float(p.mediabox.height)))
             for p in PdfReader(io.BytesIO(english_pdf)).pages}
    assert sizes == {(595, 842), (842, 595)}


def test_it_is_pdf_a_3b_with_the_records_and_exhibits_attached(english_pdf):
    reader = PdfReader(io.BytesIO(english_pdf))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    [records] = reader.attachments[RECORDS_FILE]
    annex = json.loads(records)
    [record] = annex["records"]
    assert hashlib.sha256(record["canonical_json"].encode()).hexdigest() == record["sha256"]
    assert hashlib.sha256((annex["genesis_chain_hash"] + record["sha256"]).encode()).hexdigest() == \
        record["chain_hash"] == annex["final_chain_hash"]
    assert json.loads(records) == json.loads(records_json(dossier()))
    [exhibits] = reader.attachments[EXHIBITS_FILE]
    rows = list(csv.reader(io.StringIO(exhibits.decode("utf-8-sig"))))
    assert rows == [["name", "size", "sha256", "added_at"], ["wallet.png", "12 KB", "ef" * 32,
                                                             "2026-11-22 08:30:00 UTC"]]


def test_a_formula_in_an_exhibits_name_is_made_inert_in_the_csv():
    from reports.dossier import exhibits_csv

    hostile = dossier(exhibits=(FileLine("=HYPERLINK(\"http://x\")", "1 KB", "ab" * 32, "now"),))
    assert "'=HYPERLINK" in exhibits_csv(hostile).decode("utf-8-sig")


def test_chinese_text_renders_with_a_cjk_font():
    statement = "我在Telegram群里点了领取空投的链接，几分钟后钱包里的全部USDT被转走了。"
    pdf = render_evidence_dossier(dossier(language="zh-Hans", statement=statement, document_type="证据材料"))
    assert statement in pdf_text(pdf).replace("\n", "")


def test_without_a_cjk_font_a_chinese_dossier_fails_naming_the_package(monkeypatch):
    monkeypatch.setattr(render, "cjk_font_families", lambda: ())
    with pytest.raises(MissingFont, match="fonts-noto-cjk"):
        render_evidence_dossier(dossier(language="zh-Hans"))


def test_the_page_label_becomes_css_counters_and_stays_inert():
    assert css_counters("Page {page} of {pages}") == '"Page " counter(page) " of " counter(pages)'
    assert css_counters("第 {page} 页，共 {pages} 页") == '"第 " counter(page) " 页，共 " counter(pages) " 页"'
    assert "</style" not in css_counters('"</style><img src=x>{page}')


def test_markup_in_every_victim_typed_field_is_printed_and_nothing_is_fetched():
    with CountingServer() as server:
        hostile = (f'<img src="{server.url}/x.png"> <link rel=stylesheet href="file:///etc/passwd"> '
                   f'<style>p {{ background: url(file:///etc/passwd) }} @import url("{server.url}/i.css");</style>'
                   f'<div style="background: url({server.url}/bg.png)">x</div>')
        fetcher = render.StaticOnlyFetcher()
        pdf = render.render_pdf(
            "evidence_dossier.html",
            dossier(statement=hostile, summary=hostile, facts=(Fact("Wallet app", hostile),),
                    exhibits=(FileLine(hostile, "1 KB", "ab" * 32, "now"),),
                    labelled=(LabelledAddress("0x" + "33" * 20, "Ethereum", "endpoint", hostile, hostile),),
                    referrals=(ReferralRow("Police", hostile, "Sent", "—", "—", hostile),),
                    chronology=(ChronologyEntry(WHEN, "Reported by the victim", hostile, hostile),)),
            fetcher=fetcher)
    text = pdf_text(pdf).replace("\n", " ")
    assert server.hits == []
    assert "root:" not in text
    assert '<link rel=stylesheet href="file:///etc/passwd">' in text
    assert fetcher.refused == []  # escaped: the renderer never even asked for those URLs
