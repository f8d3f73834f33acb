"""Dossiers: the evidence dossier of a staged devnet theft (anvil) with every hash and amount of the case, its
records attached with the database's hashes, who may issue and download it, the audit log, /verify, the case page's
Documents section and the command line."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from casework.extensions import db
from casework.models import (
    CaseEvent,
    Document,
    DocumentAudience,
    EventKind,
    EvidenceRecord,
    FlowEdge,
    Role,
    Transfer,
)
from casework.services import demo, dossier_content, dossiers, filing, jobs, uploads
from casework.services.access import AccessDenied
from casework.web import format_amount
from evidence.devnet import staging
from reports.dossier import RECORDS_FILE, TRANSFERS_CSV, TRANSFERS_XLSX
from tests.fixtures.factories import csrf_token
from tests.reports.test_render import CountingServer

EVIDENCE = DocumentAudience.EVIDENCE


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _flat(pdf: bytes) -> str:
    return re.sub(r"\s", "", _text(pdf))


@pytest.fixture
def traced_case(app, devnet, staged_thefts):
    """The demo's approval-phishing theft, filed and worked by the first hour: captured, traced to Harbour Exchange,
    freeze request drafted."""
    demo.import_devnet_labels(staged_thefts)
    demo.load_directory()
    theft = staged_thefts.theft(staging.APPROVAL_PHISHING)
    case = filing.file_case(demo.REPORT_BUILDERS[staging.APPROVAL_PHISHING](staged_thefts, theft)).case
    db.session.commit()
    while jobs.run_due_jobs():
        pass
    db.session.expire_all()
    assert db.session.scalar(select(FlowEdge.id).where(FlowEdge.case_id == case.id).limit(1)) is not None
    return case


def test_the_evidence_dossier_holds_every_hash_and_amount_of_the_case_and_its_records(traced_case, make_user):
    legal = make_user(Role.LEGAL)
    issued = dossiers.issue(traced_case, EVIDENCE, language="en", actor=legal)
    db.session.commit()
    text, flat = _text(issued.pdf), _flat(issued.pdf)
    for title in ("Summary of the incident", "The victim's statement", "Chronology", "Transaction evidence",
                  "Where the funds went", "Addresses, labels and attributions", "Referrals and their outcomes",
                  "Chain of custody", "Harbour Exchange", "Asia/Shanghai (UTC+08:00)"):
        assert title in text, title
    transfers = db.session.scalars(select(Transfer).where(Transfer.case_id == traced_case.id)).all()
    edges = db.session.scalars(select(FlowEdge).where(FlowEdge.case_id == traced_case.id)).all()
    assert transfers and edges
    for movement in [*transfers, *edges]:
        assert movement.tx_hash in flat
    for transfer in transfers:
        if transfer.amount_raw < 2**255:  # an unlimited approval is written "unlimited"
            assert format_amount(transfer.amount_raw, transfer.decimals).replace(" ", "") in flat
    for edge in edges:
        assert format_amount(edge.amount_raw, edge.decimals) in flat
    pages = len(PdfReader(io.BytesIO(issued.pdf)).pages)
    assert f"Page 1 of {pages}" in text
    # The attached records are the database's, and their hashes can be recomputed from them alone.
    records = db.session.scalars(select(EvidenceRecord).where(EvidenceRecord.case_id == traced_case.id)
                                 .order_by(EvidenceRecord.sequence)).all()
    [annex] = PdfReader(io.BytesIO(issued.pdf)).attachments[RECORDS_FILE]
    attached = json.loads(annex)
    assert [(r["sequence"], r["sha256"], r["chain_hash"]) for r in attached["records"]] == [
        (r.sequence, r.sha256, r.chain_hash) for r in records]
    previous = attached["genesis_chain_hash"]
    for record in attached["records"]:
        assert hashlib.sha256(record["canonical_json"].encode("utf-8")).hexdigest() == record["sha256"]
        previous = hashlib.sha256((previous + record["sha256"]).encode("ascii")).hexdigest()
        assert previous == record["chain_hash"]
    assert attached["final_chain_hash"] == records[-1].chain_hash and records[-1].chain_hash in flat
    xmp = PdfReader(io.BytesIO(issued.pdf)).trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    # The same transfers as a spreadsheet, each with its amount and the labels' sources.
    [sheet] = PdfReader(io.BytesIO(issued.pdf)).attachments[TRANSFERS_CSV]
    rows = list(csv.DictReader(io.StringIO(sheet.decode("utf-8-sig"))))
    assert {row["Transaction hash"] for row in rows} == {m.tx_hash for m in [*transfers, *edges]}
    deposit = next(row for row in rows if "Harbour" in row["Recipient's label"])
    assert deposit["Source of the recipient's label"] and deposit["Time (UTC)"] and deposit["Amount"] == "25000"
    [workbook] = PdfReader(io.BytesIO(issued.pdf)).attachments[TRANSFERS_XLSX]
    with zipfile.ZipFile(io.BytesIO(workbook)) as book:
        strings = book.read("xl/sharedStrings.xml").decode()
    assert all(m.tx_hash in strings for m in [*transfers, *edges])


def test_issuing_records_the_document_its_hash_and_code_and_an_event(app, make_case, make_user):
    case, legal = make_case().case, make_user(Role.LEGAL)
    issued = dossiers.issue(case, EVIDENCE, language="en", actor=legal)
    db.session.commit()
    document = db.session.scalar(select(Document).where(Document.case_id == case.id))
    assert document.sha256 == hashlib.sha256(issued.pdf).hexdigest() and document.size == len(issued.pdf)
    assert re.fullmatch(r"[A-Z2-7]{10}", document.code) and document.rendered_by_id == legal.id
    assert dossiers.display_code(document.code) in _text(issued.pdf)
    assert dossiers.document_path(document.sha256).read_bytes() == issued.pdf
    [event] = [e for e in case.events if e.action is EventKind.DOCUMENT_ISSUED]
    assert event.actor_id == legal.id and event.data["sha256"] == document.sha256
    assert "Evidence dossier" in event.staff_summary and dossiers.display_code(document.code) in event.staff_summary


def test_the_chinese_dossier_is_written_in_chinese(app, make_case, make_user):
    case = make_case(summary="我批准了一个假空投网站，钱包里的USDT被转走了。").case
    pdf = dossiers.issue(case, EVIDENCE, language="zh_Hans_CN", actor=make_user(Role.SUPERVISOR)).pdf
    text = _text(pdf).replace("\n", "")
    for title in ("证据材料", "事件概要", "受害人陈述", "时间顺序", "保管链", "我批准了一个假空投网站"):
        assert title in text, title
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    assert f"第 1 页，共 {pages} 页" in text


def test_an_unlimited_approval_is_written_in_the_documents_language(traced_case, make_user):
    pdf = dossiers.issue(traced_case, EVIDENCE, language="zh_Hans_CN", actor=make_user(Role.LEGAL)).pdf
    text = _text(pdf)
    assert "无限额 cUSDT" in text and "unlimited" not in text


def test_codes_are_random_and_unique(app):
    codes = {dossiers.new_code() for _ in range(200)}
    assert len(codes) == 200 and all(re.fullmatch(r"[A-Z2-7]{10}", code) for code in codes)


@pytest.mark.parametrize("role", [Role.LEGAL, Role.SUPERVISOR, Role.ADMIN])
def test_legal_supervisors_and_admins_may_issue(app, make_case, make_user, role):
    case = make_case().case
    assert dossiers.may_render(make_user(role), case)


def test_only_the_assigned_handler_may_issue(app, make_case, make_user):
    case, assigned, other = make_case().case, make_user(Role.HANDLER), make_user(Role.HANDLER)
    case.assigned_handler_id = assigned.id
    db.session.commit()
    assert dossiers.may_render(assigned, case)
    with pytest.raises(AccessDenied):
        dossiers.issue(case, EVIDENCE, language="en", actor=other)
    assert db.session.scalar(select(Document.id)) is None


def test_an_audience_without_a_template_is_refused(app, make_case, make_user):
    with pytest.raises(dossiers.DossierError):
        dossiers.issue(make_case().case, DocumentAudience.POLICE_PACKAGE, language="en", actor=make_user(Role.LEGAL))


def test_each_download_is_logged_and_gives_the_issued_bytes(client, make_case, make_user, login):
    case, legal = make_case().case, make_user(Role.LEGAL)
    login(legal)
    page = f"/staff/cases/{case.reference}"
    response = client.post(f"{page}/documents", data={"audience": "evidence", "language": "en",
                                                      "csrf_token": csrf_token(client, page)})
    assert response.status_code == 302
    html = client.get(page).get_data(as_text=True)
    document = db.session.scalar(select(Document).where(Document.case_id == case.id))
    assert dossiers.display_code(document.code) in html and document.sha256 in html
    download = f"{page}/documents/{document.id}.pdf"
    assert download in html
    for _ in range(2):
        got = client.get(download)
        assert got.status_code == 200 and hashlib.sha256(got.data).hexdigest() == document.sha256
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                        CaseEvent.action == EventKind.DOCUMENT_DOWNLOADED)).all()
    assert len(events) == 2 and all(e.actor_id == legal.id for e in events)
    for extension, magic in (("csv", b"\xef\xbb\xbf"), ("xlsx", b"PK")):
        sheet = client.get(f"{page}/documents/{document.id}/transfers.{extension}")
        assert sheet.status_code == 200 and sheet.data.startswith(magic)
    assert client.get(f"{page}/documents/{document.id}/transfers.exe").status_code == 404
    files = [e.data.get("file") for e in db.session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.action == EventKind.DOCUMENT_DOWNLOADED))]
    assert files == [None, None, "transfers.csv", "transfers.xlsx"]
    assert client.get(f"{page}/documents/{document.id + 1}.pdf").status_code == 404


def test_a_handler_not_assigned_sees_the_list_but_no_form_and_cannot_download(client, make_case, make_user, login):
    case = make_case().case
    document = dossiers.issue(case, EVIDENCE, language="en", actor=make_user(Role.LEGAL)).document
    db.session.commit()
    login(make_user(Role.HANDLER))
    page = client.get(f"/staff/cases/{case.reference}").get_data(as_text=True)
    assert dossiers.display_code(document.code) in page
    assert "Issue the PDF" not in page and f"/documents/{document.id}.pdf" not in page
    assert client.get(f"/staff/cases/{case.reference}/documents/{document.id}.pdf").status_code == 403


def _verify(client, **data):
    token = csrf_token(client, "/verify")
    return client.post("/verify", data={**data, "csrf_token": token}, content_type="multipart/form-data")


def test_verify_recognises_an_issued_pdf_and_refuses_a_changed_one(client, make_case, make_user):
    case = make_case().case
    pdf = dossiers.issue(case, EVIDENCE, language="en", actor=make_user(Role.LEGAL)).pdf
    db.session.commit()
    issued = _verify(client, document=(io.BytesIO(pdf), "dossier.pdf")).get_data(as_text=True)
    assert "Issued by Casework" in issued and case.reference in issued and "Evidence dossier" in issued
    assert "Li Wei" not in issued and "fake airdrop" not in issued  # nothing of the case's content
    middle = len(pdf) // 2
    forged = pdf[:middle] + bytes([pdf[middle] ^ 1]) + pdf[middle + 1:]  # one bit changed
    answer = _verify(client, document=(io.BytesIO(forged), "dossier.pdf")).get_data(as_text=True)
    assert "Not issued by us" in answer and case.reference not in answer


def test_verify_by_hash_and_by_code_and_by_the_qr_codes_link(client, make_case, make_user):
    case = make_case().case
    issued = dossiers.issue(case, EVIDENCE, language="en", actor=make_user(Role.LEGAL))
    db.session.commit()
    code = dossiers.display_code(issued.document.code)
    assert case.reference in _verify(client, reference=issued.document.sha256.upper()).get_data(as_text=True)
    assert case.reference in _verify(client, reference=code.lower().replace("-", " ")).get_data(as_text=True)
    assert case.reference in client.get(f"/verify?code={code}").get_data(as_text=True)
    assert "Not issued by us" in _verify(client, reference="A" * 10).get_data(as_text=True)


@pytest.mark.parametrize("typed", ["", "not a hash", "0x" + "ab" * 32, "<script>alert(1)</script>", "Ａ" * 10])
def test_verify_explains_bad_input_without_an_error_page(client, typed):
    response = _verify(client, reference=typed)
    assert response.status_code == 400
    assert "Upload the PDF, or enter its SHA-256 hash" in response.get_data(as_text=True)


def test_verify_refuses_a_post_without_its_csrf_token(client):
    assert client.post("/verify", data={"reference": "A" * 10}).status_code == 400


def test_verify_is_rate_limited(client, app):
    app.config["VERIFY_RATE_LIMIT"] = "3 per minute"
    statuses = [client.get("/verify?code=AAAAA-AAAAA").status_code for _ in range(4)]
    assert statuses[-1] == 429


def test_the_command_line_issues_a_dossier(app, make_case, tmp_path):
    case = make_case().case
    output = tmp_path / "dossier.pdf"
    result = app.test_cli_runner().invoke(args=["dossier", "render", case.reference, "--audience", "evidence",
                                                "--lang", "zh_Hans_CN", "-o", str(output)])
    assert result.exit_code == 0, result.output
    document = db.session.scalar(select(Document).where(Document.case_id == case.id))
    assert document.rendered_by_id is None and document.rendered_by_label == "cli"
    assert hashlib.sha256(output.read_bytes()).hexdigest() == document.sha256 in result.output
    missing = app.test_cli_runner().invoke(args=["dossier", "render", "CW-1999-000001", "--audience", "evidence",
                                                 "-o", str(output)])
    assert missing.exit_code == 1 and "There is no case" in missing.output


def test_text_the_victim_typed_is_printed_escaped_and_nothing_is_fetched(app, make_case, make_user, monkeypatch):
    from reports import render

    with CountingServer() as server:
        hostile = (f'<img src="{server.url}/x.png"> <link rel=stylesheet href="file:///etc/passwd"> '
                   'url(file:///etc/passwd)')
        filed = make_case(summary=hostile, name=hostile)
        case = filed.case
        case.wallet_app, case.first_contact = hostile[:60], hostile[:200]
        case.reporter.consent_law_enforcement, case.reporter.jurisdiction = True, hostile[:120]
        uploads.store_upload(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, hostile[:200] + ".png", case=case)
        db.session.commit()
        fetchers = []

        class Recording(render.StaticOnlyFetcher):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                fetchers.append(self)

        monkeypatch.setattr(render, "StaticOnlyFetcher", Recording)
        pdf = dossiers.issue(case, EVIDENCE, language="en", actor=make_user(Role.LEGAL)).pdf
    text = _text(pdf).replace("\n", " ")
    assert server.hits == [] and "root:" not in text
    assert '<link rel=stylesheet href="file:///etc/passwd">' in text
    assert fetchers and all(f.refused == [] for f in fetchers)


def test_the_freeze_letter_names_the_deposit_and_what_reached_it_and_redacts_the_victim(traced_case, make_user):
    legal = make_user(Role.LEGAL)
    [referral] = dossier_content.freeze_referrals(traced_case)
    reporter = traced_case.reporter
    reporter.consent_exchanges = False
    db.session.commit()
    withheld = dossiers.issue(traced_case, DocumentAudience.EXCHANGE_FREEZE, language="en", actor=legal,
                              referral=referral)
    db.session.commit()
    text, flat = _text(withheld.pdf), _flat(withheld.pdf)
    assert "To: Harbour Exchange" in text and referral.target_address in flat and traced_case.reference in text
    incoming = db.session.scalars(select(FlowEdge).where(FlowEdge.case_id == traced_case.id,
                                                         FlowEdge.to_address == referral.target_address)).all()
    assert incoming and all(edge.tx_hash in flat for edge in incoming)
    assert "personal data is withheld" in text
    for personal in (reporter.name, reporter.email, reporter.phone):
        assert not personal or re.sub(r"\s", "", personal) not in flat
    assert withheld.document.referral_id == referral.id
    assert withheld.document.audience is DocumentAudience.EXCHANGE_FREEZE
    assert TRANSFERS_CSV in PdfReader(io.BytesIO(withheld.pdf)).attachments
    reporter.consent_exchanges = True
    db.session.commit()
    shared = _text(dossiers.issue(traced_case, DocumentAudience.EXCHANGE_FREEZE, language="zh_Hans_CN",
                                  actor=legal, referral=referral).pdf).replace("\n", "")
    assert reporter.name in shared and reporter.email in shared
    assert "交易所冻结申请" in shared and "致：Harbour" in shared


def test_a_freeze_letter_needs_a_freeze_request_of_the_case(app, make_case, make_user):
    with pytest.raises(dossiers.DossierError):
        dossiers.issue(make_case().case, DocumentAudience.EXCHANGE_FREEZE, language="en",
                       actor=make_user(Role.LEGAL))


def test_the_documents_section_issues_a_freeze_letter_for_a_chosen_request(traced_case, client, make_user, login):
    [referral] = dossier_content.freeze_referrals(traced_case)
    login(make_user(Role.SUPERVISOR))
    page = f"/staff/cases/{traced_case.reference}"
    html = client.get(page).get_data(as_text=True)
    assert "Freeze request letter to" in html and referral.target_address in html
    response = client.post(f"{page}/documents", data={"audience": "exchange_freeze", "language": "en",
                                                      "referral": str(referral.id),
                                                      "csrf_token": csrf_token(client, page)})
    assert response.status_code == 302
    document = db.session.scalar(select(Document).where(Document.case_id == traced_case.id))
    assert document.audience is DocumentAudience.EXCHANGE_FREEZE and document.referral_id == referral.id
    refused = client.post(f"{page}/documents", data={"audience": "exchange_freeze", "language": "en",
                                                     "csrf_token": csrf_token(client, page)}, follow_redirects=True)
    assert "Choose the freeze request" in refused.get_data(as_text=True)
