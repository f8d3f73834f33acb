"""What the victim reads is in their language: the review page's edit links, a handler's confirmation of a
transaction (staff read it in theirs too), and country names in the PDF copy."""

from __future__ import annotations

import io
import re

import pytest
from flask_babel import force_locale
from pypdf import PdfReader

from casework.extensions import db
from casework.models import ReportedTransaction, Role
from casework.services import case_page
from casework.services.tracing import HANDLER_CONFIRMED_NOTE
from tests.casework.test_report_wizard import fill_wizard
from tests.fixtures.factories import csrf_token

CONFIRMED_TX = "0x" + "cf" * 32


def speak(client, language: str) -> None:
    client.post("/language", data={"lang": language, "csrf_token": csrf_token(client, "/"), "next": "/"})


def test_the_chinese_review_page_says_modify_on_its_edit_links(client):
    speak(client, "zh_Hans_CN")
    fill_wizard(client)
    page = client.get("/report/review").get_data(as_text=True)
    edit_links = re.findall(r'<a class="edit-link"[^>]*>([^<]*)</a>', page)
    assert edit_links and set(edit_links) == {"修改"}
    assert ">切换</button>" in page  # the language switch still switches


@pytest.fixture
def victims_case(make_case):
    filed = make_case()
    case = filed.case
    case.reporter.country = "CN"
    case.transactions.append(ReportedTransaction(chain_id=1, tx_hash=CONFIRMED_TX, note=HANDLER_CONFIRMED_NOTE))
    db.session.commit()
    return filed


def open_case(client, filed) -> str:
    client.get(f"/track/{filed.reference}/{filed.access_token}")
    return f"/track/{filed.reference}"


def pdf_text(client, page: str) -> str:
    pdf = client.get(f"{page}/report.pdf").data
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).replace("\n", "")


@pytest.mark.parametrize(("language", "confirmed", "country"), [
    ("zh_Hans_CN", "已由处理人员确认", "中国"),
    ("en", "confirmed by a handler", "China"),
])
def test_a_handlers_confirmation_and_the_country_are_in_the_readers_language(client, victims_case, language,
                                                                              confirmed, country):
    page = open_case(client, victims_case)
    speak(client, language)
    html = client.get(page).get_data(as_text=True)
    assert f"— {confirmed}" in html
    text = pdf_text(client, page)
    assert confirmed in text and country in text
    if language != "en":
        assert "confirmed by a handler" not in html and "confirmed by a handler" not in text
    assert not re.search(r"\bCN\b", text)


@pytest.mark.parametrize(("language", "confirmed"), [
    ("zh_Hans_CN", "已由处理人员确认"),
    ("en", "confirmed by a handler"),
])
def test_staff_read_a_handlers_confirmation_in_their_language(app, victims_case, make_user, language, confirmed):
    with force_locale(language):
        page = case_page.case_page(make_user(Role.HANDLER), victims_case.reference)
        notes = {line.note for line in page.transactions}
    assert confirmed in notes
    if language != "en":
        assert "confirmed by a handler" not in notes
