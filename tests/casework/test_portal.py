"""The victim's portal (/track): who can open a case, what the victim sees, and what they can add."""

from __future__ import annotations

import hashlib
import io
import logging
import re

import pytest
from eth_account.hdaccount.mnemonic import Mnemonic
from eth_account.types import Language
from pypdf import PdfReader
from sqlalchemy import select

from casework.extensions import db
from casework.models import CaseAddress, CaseEvent, CaseStatus, Message, MessageAuthor, ReportedTransaction, Role
from casework.security import PrivateLinkFilter
from casework.services import portal, thread, victim_report
from casework.services.portal import PortalError
from casework.services.tokens import token_matches
from forms.secrets import SecretKind, secret_warning
from tests.fixtures.factories import ATTACKER, csrf_token

REFUSED = "We could not open a case with this reference and access code. Check both and try again."
CHECKSUMMED = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
NEW_HASH = "0x" + "cd" * 32
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def open_with_link(client, filed):
    response = client.get(f"/track/{filed.case.reference}/{filed.access_token}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/track/{filed.case.reference}"
    return response


def post_on_case(client, filed, action: str, data: dict, **kwargs):
    page = f"/track/{filed.case.reference}"
    return client.post(f"{page}/{action}", data={"csrf_token": csrf_token(client, page), **data}, **kwargs)


def events(case, action: str) -> list[CaseEvent]:
    return list(db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == action)))


# Opening a case


def test_the_private_link_opens_the_case_and_moves_to_a_clean_address(client, make_case):
    filed = make_case()
    open_with_link(client, filed)
    page = client.get(f"/track/{filed.case.reference}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Received" in html and "We have received your report." in html
    assert filed.access_token not in html
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_the_session_keeps_the_reference_and_never_the_token(client, make_case):
    filed = make_case()
    open_with_link(client, filed)
    with client.session_transaction() as session:
        assert [entry[0] for entry in session[portal.SESSION_KEY]] == [filed.case.reference]
        assert filed.access_token not in repr(dict(session))


def test_a_reference_and_access_code_typed_in_open_the_case(client, make_case):
    filed = make_case()
    token = csrf_token(client, "/track")
    typed = "  " + filed.case.reference.lower() + " "
    response = client.post("/track", data={"reference": typed, "access_code": filed.access_token, "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/track/{filed.case.reference}"


def test_the_whole_private_link_can_be_pasted_as_the_access_code(client, make_case):
    filed = make_case()
    link = f"https://casework.example/track/{filed.case.reference}/{filed.access_token}"
    token = csrf_token(client, "/track")
    response = client.post("/track", data={"reference": filed.case.reference, "access_code": link,
                                           "csrf_token": token})
    assert response.headers["Location"] == f"/track/{filed.case.reference}"


def test_one_cases_token_never_opens_another_case(client, make_case):
    first, second = make_case(), make_case()
    response = client.get(f"/track/{first.case.reference}/{second.access_token}")
    assert response.headers["Location"].startswith("/track?")
    assert client.get(f"/track/{first.case.reference}").status_code == 302
    token = csrf_token(client, "/track")
    typed = client.post("/track", data={"reference": second.case.reference, "access_code": first.access_token,
                                        "csrf_token": token})
    assert REFUSED in typed.get_data(as_text=True)
    with client.session_transaction() as session:
        assert session.get(portal.SESSION_KEY, []) == []
    assert portal.open_case(first.case.reference, second.access_token) is None
    assert portal.open_case(first.case.reference, first.access_token).id == first.case.id


def test_a_wrong_token_and_an_unknown_reference_get_the_same_answer_by_link(client, make_case):
    filed = make_case()
    unknown = "CW-2026-999999"
    wrong_token = client.get(f"/track/{filed.case.reference}/{'x' * 32}")
    wrong_page = client.get(wrong_token.headers["Location"]).get_data(as_text=True)
    unknown_ref = client.get(f"/track/{unknown}/{'x' * 32}")
    unknown_page = client.get(unknown_ref.headers["Location"]).get_data(as_text=True)
    assert wrong_token.status_code == unknown_ref.status_code == 302
    assert wrong_token.headers["Location"].replace(filed.case.reference, "REF") == \
        unknown_ref.headers["Location"].replace(unknown, "REF")
    assert REFUSED in wrong_page
    assert _without_volatile(wrong_page, filed.case.reference) == _without_volatile(unknown_page, unknown)


def _without_volatile(html: str, reference: str) -> str:
    html = re.sub(r'value="[^"]*"', 'value=""', html)  # CSRF token and the typed reference
    return html.replace(reference, "REF")


def test_a_wrong_token_and_an_unknown_reference_get_the_same_answer_in_the_form(client, make_case):
    filed = make_case()
    token = csrf_token(client, "/track")
    wrong = client.post("/track", data={"reference": filed.case.reference, "access_code": "not-the-token",
                                        "csrf_token": token})
    unknown = client.post("/track", data={"reference": "CW-2026-999999", "access_code": "not-the-token",
                                          "csrf_token": token})
    assert wrong.status_code == unknown.status_code == 200
    assert REFUSED in wrong.get_data(as_text=True)
    assert _without_volatile(wrong.get_data(as_text=True), filed.case.reference) == \
        _without_volatile(unknown.get_data(as_text=True), "CW-2026-999999")


def test_a_wrong_token_and_an_unknown_reference_cost_the_same_work(app, make_case, monkeypatch):
    filed = make_case()
    compared = []

    def counting(token, stored_hash):
        compared.append(stored_hash)
        return token_matches(token, stored_hash)

    monkeypatch.setattr(portal, "token_matches", counting)
    assert portal.open_case(filed.case.reference, "wrong") is None
    assert portal.open_case("CW-2026-999999", "wrong") is None
    assert len(compared) == 2
    assert compared[0] == filed.case.access_token_hash and compared[1] != filed.case.access_token_hash


def test_the_token_is_not_echoed_back_after_a_failed_attempt(client, make_case):
    filed = make_case()
    almost = filed.access_token[:-1] + ("A" if filed.access_token[-1] != "A" else "B")
    token = csrf_token(client, "/track")
    page = client.post("/track", data={"reference": filed.case.reference, "access_code": almost,
                                       "csrf_token": token})
    assert almost not in page.get_data(as_text=True)


def _limit(app, key: str) -> int:
    return int(app.config[key].split()[0])


def test_failed_attempts_from_one_address_are_rate_limited(app, client, make_case):
    cases = [make_case() for _ in range(2)]
    limit = _limit(app, "TRACK_RATE_LIMIT")
    for attempt in range(limit):
        # Spread over references, so only the per-address limit can be what stops the next one.
        case = cases[attempt % 2].case
        assert client.get(f"/track/{case.reference}/wrong{attempt}").status_code == 302
    blocked = client.get(f"/track/{cases[0].case.reference}/{cases[0].access_token}")
    assert blocked.status_code == 429
    assert "too many attempts" in blocked.get_data(as_text=True).lower()
    token = csrf_token(client, "/track")
    typed = client.post("/track", data={"reference": cases[1].case.reference, "access_code": cases[1].access_token,
                                        "csrf_token": token})
    assert typed.status_code == 429


def test_one_case_cannot_be_guessed_at_from_many_addresses(app, client, make_case):
    target, other = make_case(), make_case()
    limit = _limit(app, "TRACK_REFERENCE_RATE_LIMIT")
    for attempt in range(limit):
        response = client.get(f"/track/{target.case.reference}/guess{attempt}",
                              environ_base={"REMOTE_ADDR": f"10.0.{attempt // 250}.{attempt % 250 + 1}"})
        assert response.status_code == 302
    fresh_address = {"REMOTE_ADDR": "192.0.2.77"}
    assert client.get(f"/track/{target.case.reference}/guess-again", environ_base=fresh_address).status_code == 429
    # Written differently, the reference is still the same case and the same limit.
    lowered = target.case.reference.lower()
    assert client.get(f"/track/{lowered}/guess-again", environ_base=fresh_address).status_code == 429
    # Another case is not affected.
    assert client.get(f"/track/{other.case.reference}/{other.access_token}",
                      environ_base=fresh_address).headers["Location"] == f"/track/{other.case.reference}"


def test_the_victims_own_successful_openings_never_count(app, client, make_case):
    filed = make_case()
    for _ in range(_limit(app, "TRACK_RATE_LIMIT") + _limit(app, "TRACK_REFERENCE_RATE_LIMIT") + 2):
        open_with_link(client, filed)


def test_pages_of_a_case_need_the_session_access(client, make_case):
    filed = make_case()
    reference = filed.case.reference
    assert client.get(f"/track/{reference}").headers["Location"] == f"/track?reference={reference}"
    assert client.get(f"/track/{reference}/report.pdf").status_code == 302
    token = csrf_token(client, "/track")
    response = client.post(f"/track/{reference}/messages", data={"csrf_token": token, "message-body": "hi"})
    assert response.status_code == 302
    assert db.session.scalars(select(Message)).all() == []


def test_closing_the_case_on_this_device_forgets_the_access(client, make_case):
    filed = make_case()
    open_with_link(client, filed)
    response = post_on_case(client, filed, "forget", {})
    assert response.status_code == 302
    assert client.get(f"/track/{filed.case.reference}").status_code == 302


def test_tokens_are_taken_out_of_access_log_lines():
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1,
                               '127.0.0.1 - - [x] "%s" %s %s', ("GET /track/CW-2026-000001/s3cretTok_en-123 HTTP/1.1",
                                                                "302", "-"), None)
    PrivateLinkFilter().filter(record)
    assert "s3cretTok_en-123" not in record.getMessage()
    assert "/track/CW-2026-000001/[token]" in record.getMessage()
    kept = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, "POST /track/CW-2026-000001/messages", (), None)
    PrivateLinkFilter().filter(kept)
    assert kept.getMessage() == "POST /track/CW-2026-000001/messages"
    resume = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, "GET /report/resume/Dr4ftTok-en_9 HTTP/1.1",
                               (), None)
    PrivateLinkFilter().filter(resume)
    assert resume.getMessage() == "GET /report/resume/[token] HTTP/1.1"


def test_the_token_of_a_private_link_never_reaches_the_server_log(live_server, make_case, caplog):
    import urllib.request

    filed = make_case()
    caplog.set_level(logging.INFO)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(f"{live_server}/track/{filed.case.reference}/{filed.access_token}")
    except urllib.error.HTTPError as redirect:
        assert redirect.code == 302
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"/track/{filed.case.reference}/[token]" in logged
    assert filed.access_token not in logged


# What the victim sees


def test_the_status_is_explained_in_plain_words_for_every_state(app):
    for status in CaseStatus:
        title, explanation = victim_report.VICTIM_STATUS[status]
        assert str(title) and len(str(explanation)) > 15
    assert str(victim_report.VICTIM_STATUS[CaseStatus.TRIAGE][0]) == "Being reviewed"


def test_the_timeline_shows_only_victim_visible_events(app, make_case, make_user):
    filed = make_case()
    case, handler = filed.case, make_user(Role.HANDLER)
    CaseEvent.record(case, handler, "status", before=CaseStatus.SUBMITTED, after=CaseStatus.INVESTIGATING,
                     summary="victim seems confused, check the story")
    CaseEvent.record(case, handler, "assigned", summary="Ann takes it")
    for _ in range(3):
        CaseEvent.record(case, None, "evidence", summary="tx 0xabc captured from node rpc-7")
    CaseEvent.record(case, handler, "theft_confirmed", summary="first response late")
    thread.add_note(handler, case, "Internal: possible insider, do not tell the victim")
    db.session.commit()
    timeline = victim_report.victim_timeline(case)
    titles = [entry.title for entry in timeline]
    assert titles == [
        "You submitted your report.",
        "Your case is now: Under investigation",
        "A case handler was assigned to your case.",
        "On-chain evidence was recorded for your case.",
    ]
    shown = repr(timeline)
    for hidden in ("confused", "Ann takes it", "rpc-7", "late", "insider"):
        assert hidden not in shown


def test_internal_notes_never_reach_the_victim(client, make_case, make_user):
    filed = make_case()
    handler = make_user(Role.HANDLER)
    thread.add_note(handler, filed.case, "Internal: the victim may be exaggerating")
    db.session.commit()
    open_with_link(client, filed)
    page = client.get(f"/track/{filed.case.reference}").get_data(as_text=True)
    assert "exaggerating" not in page
    pdf = client.get(f"/track/{filed.case.reference}/report.pdf").data
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "exaggerating" not in text


def test_messages_go_both_ways(client, make_case, make_user):
    filed = make_case()
    open_with_link(client, filed)
    response = post_on_case(client, filed, "messages", {"message-body": "Did you find where my USDT went?"})
    assert response.status_code == 302
    message = db.session.scalars(select(Message)).one()
    assert message.author_kind is MessageAuthor.VICTIM
    assert events(filed.case, "message")[0].actor_label == "victim"
    thread.reply_to_victim(make_user(Role.HANDLER), db.session.get(type(filed.case), filed.case.id),
                           "Yes: it reached an exchange. We asked them to freeze it.")
    db.session.commit()
    page = client.get(f"/track/{filed.case.reference}").get_data(as_text=True)
    assert "Did you find where my USDT went?" in page
    assert "We asked them to freeze it." in page
    assert "Your case handler" in page
    assert page.index("Did you find") < page.index("We asked them")


def test_control_characters_are_dropped_before_anything_is_stored(client, make_case):
    filed = make_case()
    open_with_link(client, filed)
    assert post_on_case(client, filed, "messages", {"message-body": "line one\x00\x07\r\nline two"}).status_code == 302
    assert db.session.scalars(select(Message)).one().body == "line one\nline two"
    assert client.get(f"/track/{filed.case.reference}\x00/x").status_code == 302


def test_victim_text_is_shown_escaped(client, make_case):
    filed = make_case()
    open_with_link(client, filed)
    post_on_case(client, filed, "messages", {"message-body": "<script>alert(1)</script>"})
    page = client.get(f"/track/{filed.case.reference}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# Adding information


def test_more_information_is_added_as_a_victim_event_and_shown_on_the_timeline(client, make_case):
    filed = make_case()
    open_with_link(client, filed)
    response = post_on_case(client, filed, "information", {"info-text": "The scammer's Telegram was @fake_support"})
    assert response.status_code == 302
    [event] = events(filed.case, "information_added")
    assert event.actor_label == "victim" and event.summary == "The scammer's Telegram was @fake_support"
    page = client.get(f"/track/{filed.case.reference}").get_data(as_text=True)
    assert "You added information." in page and "@fake_support" in page
    assert filed.case.summary == "I approved a fake airdrop site and my USDT was taken."  # the statement stays


def test_an_address_is_added_checksummed_with_its_role(client, make_case):
    filed = make_case()
    open_with_link(client, filed)
    response = post_on_case(client, filed, "addresses", {
        "address-chain_id": "1", "address-address": CHECKSUMMED.lower(), "address-role": "exchange_deposit",
        "address-label": "Binance deposit, I think",
    })
    assert response.status_code == 302
    added = db.session.scalars(select(CaseAddress).where(CaseAddress.address == CHECKSUMMED)).one()
    assert added.role.value == "exchange_deposit" and added.label == "Binance deposit, I think"
    assert events(filed.case, "address_added")[0].data["address"] == CHECKSUMMED


def test_a_transaction_hash_is_added_with_its_chain(client, make_case):
    filed = make_case()
    open_with_link(client, filed)
    response = post_on_case(client, filed, "transactions", {"tx-chain_id": "1", "tx-tx_hash": NEW_HASH.upper()
                                                            .replace("0X", "0x"), "tx-note": "second drain"})
    assert response.status_code == 302
    added = db.session.scalars(select(ReportedTransaction).where(ReportedTransaction.tx_hash == NEW_HASH)).one()
    assert added.chain_id == 1 and added.note == "second drain"
    assert events(filed.case, "transaction_added")[0].actor_label == "victim"


def test_a_file_is_added_through_the_upload_service(client, make_case):
    filed = make_case()
    open_with_link(client, filed)
    response = post_on_case(client, filed, "files", {"file-file": (io.BytesIO(PNG), "chat screenshot.png")},
                            content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    [event] = events(filed.case, "file_added")
    assert event.data["name"] == "chat screenshot.png"
    page = client.get(f"/track/{filed.case.reference}").get_data(as_text=True)
    assert "chat screenshot.png" in page
    again = post_on_case(client, filed, "files", {"file-file": (io.BytesIO(PNG), "again.png")},
                         content_type="multipart/form-data")
    assert again.status_code == 422
    assert "already on your case" in again.get_data(as_text=True)


def test_a_file_of_the_wrong_type_is_refused_with_a_message(client, make_case):
    filed = make_case()
    open_with_link(client, filed)
    response = post_on_case(client, filed, "files", {"file-file": (io.BytesIO(b"PK\x03\x04zip"), "x.zip")},
                            content_type="multipart/form-data")
    assert response.status_code == 422
    assert "This type of file is not accepted" in response.get_data(as_text=True)
    assert events(filed.case, "file_added") == []


def test_a_bad_address_is_explained_and_the_other_fields_are_kept(client, make_case):
    filed = make_case()
    open_with_link(client, filed)
    mistyped = CHECKSUMMED.replace("aA", "Aa", 1)  # breaks the EIP-55 checksum
    response = post_on_case(client, filed, "addresses", {
        "address-chain_id": "1", "address-address": mistyped, "address-role": "attacker",
        "address-label": "the drainer contract",
    })
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "checksum" in html
    assert 'value="the drainer contract"' in html
    assert f'value="{mistyped}"' in html
    assert '<option selected value="attacker">' in html
    assert "<details class=\"card\" open>" in html
    assert events(filed.case, "address_added") == []


def test_a_bad_hash_is_explained_and_the_note_is_kept(client, make_case):
    filed = make_case()
    open_with_link(client, filed)
    response = post_on_case(client, filed, "transactions", {"tx-chain_id": "1", "tx-tx_hash": "0x1234",
                                                            "tx-note": "the approval"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "64 characters" in html and 'value="the approval"' in html


def test_an_unknown_chain_is_refused(client, make_case):
    filed = make_case()
    open_with_link(client, filed)
    response = post_on_case(client, filed, "transactions", {"tx-chain_id": "987654321", "tx-tx_hash": NEW_HASH})
    assert response.status_code == 422
    assert db.session.scalars(select(ReportedTransaction).where(ReportedTransaction.tx_hash == NEW_HASH)).all() == []


def test_an_empty_message_keeps_the_page_and_says_what_is_missing(client, make_case):
    filed = make_case()
    open_with_link(client, filed)
    response = post_on_case(client, filed, "messages", {"message-body": "   "})
    assert response.status_code == 422
    assert "Write a message first." in response.get_data(as_text=True)


def test_duplicates_are_refused_with_a_message(client, make_case):
    filed = make_case()
    open_with_link(client, filed)
    response = post_on_case(client, filed, "addresses", {"address-chain_id": "1", "address-address": ATTACKER,
                                                         "address-role": "attacker"})
    assert response.status_code == 422
    assert "already on your case" in response.get_data(as_text=True)
    response = post_on_case(client, filed, "transactions", {"tx-chain_id": "1", "tx-tx_hash": "0x" + "ab" * 32})
    assert response.status_code == 422
    assert "already on your case" in response.get_data(as_text=True)


@pytest.mark.parametrize("language", [Language.ENGLISH, Language.CHINESE_SIMPLIFIED])
def test_a_recovery_phrase_is_refused_everywhere_and_never_stored(client, make_case, language):
    filed = make_case()
    open_with_link(client, filed)
    phrase = Mnemonic(language).generate(12)
    warning = secret_warning(SecretKind.MNEMONIC)
    for action, data in [
        ("messages", {"message-body": f"Support asked for these words: {phrase}"}),
        ("information", {"info-text": f"my words were {phrase}"}),
        ("addresses", {"address-chain_id": "1", "address-address": CHECKSUMMED, "address-role": "victim",
                       "address-label": phrase}),
        ("transactions", {"tx-chain_id": "1", "tx-tx_hash": NEW_HASH, "tx-note": phrase}),
    ]:
        response = post_on_case(client, filed, action, data)
        html = response.get_data(as_text=True)
        assert response.status_code == 422, action
        assert warning.split(".")[0] in html.replace("&#39;", "'"), action
        assert phrase not in html, action
    stored = repr([(e.summary, e.data) for e in db.session.scalars(select(CaseEvent))])
    stored += repr([m.body for m in db.session.scalars(select(Message))])
    stored += repr([a.label for a in db.session.scalars(select(CaseAddress))])
    assert phrase.split()[0] + " " + phrase.split()[1] not in stored


def test_a_private_key_pasted_as_an_address_is_refused(client, make_case):
    filed = make_case()
    open_with_link(client, filed)
    key = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
    response = post_on_case(client, filed, "addresses", {"address-chain_id": "1", "address-address": key,
                                                         "address-role": "victim"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert key not in html
    assert "private key" in html


def test_the_services_refuse_secrets_whoever_calls_them(app, make_case):
    case = make_case().case
    phrase = Mnemonic(Language.ENGLISH).generate(12)
    with pytest.raises(PortalError):
        portal.add_information(case, phrase)
    with pytest.raises(PortalError):
        portal.send_victim_message(case, f"words: {phrase}")
    with pytest.raises(PortalError):
        portal.add_transaction(case, 1, NEW_HASH, note=phrase)
    with pytest.raises(PortalError):
        portal.add_address(case, 1, CHECKSUMMED, "victim", label=phrase)


# The PDF copy


def test_the_pdf_copy_holds_the_case_and_its_download_is_logged(client, make_case):
    filed = make_case(summary="我在Telegram群里点了领取空投的链接。")
    open_with_link(client, filed)
    post_on_case(client, filed, "information", {"info-text": "骗子的网站是 airdrop-claim.example"})
    response = client.get(f"/track/{filed.case.reference}/report.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert f'filename="{filed.case.reference}.pdf"' in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages).replace("\n", "")
    assert filed.case.reference in text
    assert "我在Telegram群里点了领取空投的链接。" in text
    assert "骗子的网站是 airdrop-claim.example" in text
    assert filed.access_token not in text
    [event] = events(filed.case, "report_downloaded")
    assert event.actor_label == "victim"
    assert event.data["sha256"] == hashlib.sha256(response.data).hexdigest()


def test_the_pdf_copy_follows_the_victims_language(client, make_case):
    filed = make_case()
    open_with_link(client, filed)
    csrf = csrf_token(client, f"/track/{filed.case.reference}")
    client.post("/language", data={"lang": "zh_Hans_CN", "csrf_token": csrf, "next": "/"})
    page = client.get(f"/track/{filed.case.reference}").get_data(as_text=True)
    assert "已收到" in page
    pdf = client.get(f"/track/{filed.case.reference}/report.pdf").data
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "已收到" in text
