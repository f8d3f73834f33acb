"""The report wizard (/report): steps saved as a draft, resume links, the secret guard, review, an atomic submit."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from eth_account.hdaccount.mnemonic import Mnemonic
from sqlalchemy import event, func, select

from casework.extensions import db
from casework.models import (
    AddressRole,
    Case,
    CaseFile,
    IncidentType,
    Notification,
    ReportDraft,
    ReportExtras,
    utcnow,
)
from casework.services import drafts, intake, report_answers, uploads
from casework.services.tokens import token_matches
from tests.fixtures.factories import csrf_token

VICTIM = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
ATTACKER = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
HASH_A, HASH_B = "0x" + "a1" * 32, "0x" + "b2" * 32
USDT_ETHEREUM = "0xdAC17F958D2ee523a2206206994597C13D831ec7"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PHRASE = Mnemonic().generate(12)


def shanghai(hours_ago: float) -> str:
    """A local time in Shanghai, as a datetime-local input sends it."""
    moment = datetime.now(UTC) - timedelta(hours=hours_ago)
    return moment.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M")


def answers() -> dict[int, dict]:
    return {
        1: {
            "incident_type": "approval_phishing",
            "time_zone": "Asia/Shanghai",
            "incident_at": shanghai(5),
            "discovered_at": shanghai(4),
            "wallet_app": "imToken",
            "first_contact": "A Telegram message about an airdrop",
            "resume_email": "victim@example.org",
        },
        2: {"chain_ids": ["1", "56"], "victim_addresses": VICTIM.lower()},
        3: {"tx_1": f"{HASH_A}\n{HASH_A.upper().replace('0X', '0x')}\n{HASH_B}", "tx_56": ""},
        4: {
            "losses-0-chain_id": "1",
            "losses-0-asset": "USDT",
            "losses-0-amount": "2,500.5",
            "losses-0-fiat_value": "2500.50",
            "losses-0-fiat_currency": "USD",
            "losses-0-token_decimals": "18",
        },
        5: {"attacker_addresses": ATTACKER, "websites": "airdrop-claim.example\nclaim.example",
            "exchanges": ["Binance"]},
        6: {"statement": "I connected my wallet to an airdrop site and signed something; my USDT left minutes later.",
            "police_report_number": "SH-2026-0042"},
        7: {
            "name": "Li Wei",
            "country": "CN",
            "email": "victim@example.org",
            "phone": "138 0013 8000",
            "preferred_language": "zh_Hans_CN",
            "consent_law_enforcement": "y",
            "consent_exchanges": "y",
        },
    }


def post_step(client, number: int, data: dict, action: str = "next", **kwargs):
    token = csrf_token(client, f"/report/step/{number}" if number == 1 else "/report/")
    return client.post(f"/report/step/{number}", data={**data, "csrf_token": token, "action": action}, **kwargs)


def fill_wizard(client, until: int = 7) -> None:
    for number, data in answers().items():
        if number > until:
            break
        response = post_step(client, number, data)
        assert response.status_code == 302, (number, response.get_data(as_text=True))


def submit(client):
    return client.post("/report/submit", data={"csrf_token": csrf_token(client, "/report/")})


def the_draft() -> ReportDraft:
    db.session.expire_all()
    return db.session.scalars(select(ReportDraft)).one()


def test_the_landing_page_leads_to_the_report(client):
    html = client.get("/").get_data(as_text=True)
    assert 'href="/report/"' in html and "Report a theft" in html
    assert "Start my report" in client.get("/report/").get_data(as_text=True)


def test_a_whole_report_files_one_case_with_every_answer(client, app):
    fill_wizard(client)
    review = client.get("/report/review")
    assert review.status_code == 200
    page = review.get_data(as_text=True)
    assert "2,500.5 USDT" in page and VICTIM in page and "SH-2026-0042" in page and "Asia/Shanghai" in page

    response = submit(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/report/done")
    done = client.get("/report/done").get_data(as_text=True)
    case = db.session.scalars(select(Case)).one()
    assert case.reference in done
    link = re.search(r'id="tracking-link" href="([^"]+)"', done).group(1)
    reference, token = link.rsplit("/", 2)[-2:]
    assert reference == case.reference and token_matches(token, case.access_token_hash)
    assert "revoke.cash" in done and "upfront fee" in done
    # The victim gave a police report number: they are not sent to the police again.
    assert "Keep your police report at hand" in done and "Call 110" not in done

    assert case.incident_type is IncidentType.APPROVAL_PHISHING and case.chain_ids == [1, 56]
    assert case.victim_timezone == "Asia/Shanghai" and case.wallet_app == "imToken"
    assert abs(case.discovered_at - (utcnow() - timedelta(hours=4))) < timedelta(minutes=2)
    assert case.reporter.phone == "+8613800138000" and case.reporter.country == "CN"
    assert case.reporter.consent_law_enforcement and not case.reporter.consent_consumer_agencies
    (loss,) = case.losses
    assert (loss.asset_symbol, loss.amount_raw, loss.decimals) == ("USDT", 2_500_500_000, 6)
    assert loss.token_address == USDT_ETHEREUM and (loss.fiat_value_cents, loss.fiat_currency) == (250_050, "USD")
    assert sorted((a.chain_id, a.role.value, a.address) for a in case.addresses) == sorted(
        (chain, role.value, address) for chain in (1, 56)
        for role, address in ((AddressRole.VICTIM, VICTIM), (AddressRole.ATTACKER, ATTACKER))
    )
    assert sorted((t.chain_id, t.tx_hash) for t in case.transactions) == [(1, HASH_A), (1, HASH_B)]
    extras = db.session.scalars(select(ReportExtras)).one()
    assert extras.scammer_contacts == {"websites": ["airdrop-claim.example", "claim.example"]}
    assert extras.exchanges == ["Binance"] and extras.prior_reports == {"police_report_number": "SH-2026-0042"}
    assert [e.action for e in case.events] == ["submitted", "first_hour"]  # the evidence work queued with it
    assert db.session.scalar(select(func.count(ReportDraft.id))) == 0

    confirmation = db.session.scalars(select(Notification).where(Notification.case_id == case.id)).one()
    assert confirmation.recipient == "victim@example.org"
    assert case.reference in confirmation.body_text and f"/track/{case.reference}/{token}" in confirmation.body_text
    assert "报案回执" in confirmation.body_text  # in the language the victim chose


def test_the_submit_files_the_report_validated_at_review_without_validating_it_again(client, monkeypatch):
    fill_wizard(client)
    assert client.get("/report/review").status_code == 200
    draft = the_draft()
    reviewed = report_answers.report_from_answers(draft.answers, draft.locale, report_answers.wizard_choices())
    assert report_answers.report_to_submit(draft) == reviewed

    def validated_again(*args, **kwargs):
        raise AssertionError("the answers reviewed were validated again")

    monkeypatch.setattr(report_answers, "report_from_answers", validated_again)
    assert submit(client).headers["Location"].endswith("/report/done")
    case = db.session.scalars(select(Case)).one()
    assert case.reporter.name == "Li Wei" and [loss.amount_raw for loss in case.losses] == [2_500_500_000]


def test_the_report_is_validated_and_kept_by_the_post_that_leads_to_the_review(client):
    fill_wizard(client, until=6)
    assert the_draft().reviewed_report is None
    response = post_step(client, 7, answers()[7])
    assert response.headers["Location"].endswith("/report/review")
    assert report_answers.report_to_submit(the_draft()).reporter.name == "Li Wei"
    assert the_draft().reviewed_report is not None


def test_a_step_that_no_longer_passes_is_shown_again_on_the_way_to_the_review(client):
    fill_wizard(client, until=6)
    draft = the_draft()
    draft.answers = {**draft.answers, "wallet": {**draft.answers["wallet"], "victim_addresses": ["0x123"]}}
    db.session.commit()
    response = post_step(client, 7, answers()[7])
    assert response.status_code == 302 and response.headers["Location"].endswith("/report/step/2")
    assert the_draft().reviewed_report is None and "contact" in the_draft().completed_steps


def test_the_review_page_writes_nothing(client, app):
    fill_wizard(client)
    draft = the_draft()
    draft.reviewed_digest = draft.reviewed_report = None  # as after a deploy: the review page validates again
    db.session.commit()
    writes = []

    def record(connection, cursor, statement, parameters, context, executemany):
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        for _ in range(2):
            assert client.get("/report/review").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert writes == []
    assert submit(client).headers["Location"].endswith("/report/done")  # validated again, then filed


def test_a_report_reviewed_before_its_schema_changed_is_validated_again(client, monkeypatch):
    fill_wizard(client)
    draft = the_draft()
    kept = dict(draft.reviewed_report)
    kept["statement"] = kept.pop("summary")  # as an older release kept it, before the field was renamed
    draft.reviewed_report = kept
    db.session.commit()
    monkeypatch.setattr(report_answers, "REPORT_SCHEMA_VERSION", report_answers.REPORT_SCHEMA_VERSION + 1)
    assert submit(client).headers["Location"].endswith("/report/done")
    assert db.session.scalars(select(Case)).one().summary == answers()[6]["statement"]


def test_the_report_s_fields_are_part_of_the_review_digest(monkeypatch):
    before = report_answers.review_digest("en", [])
    renamed = dataclasses.make_dataclass("NewReport", ["statement", "reporter"])
    monkeypatch.setattr(report_answers, "REPORT_PARTS", (renamed, *report_answers.REPORT_PARTS[1:]))
    assert report_answers.review_digest("en", []) != before


def test_answers_changed_after_review_are_validated_again(client, monkeypatch):
    fill_wizard(client)
    client.get("/report/review")
    draft = the_draft()
    assert draft.reviewed_report is not None
    draft.answers = {**draft.answers}
    assert draft.reviewed_report is None  # new answers void the kept report
    db.session.rollback()
    post_step(client, 1, {**answers()[1], "first_contact": "A call from 'exchange security'"})
    # The draft is still complete: the POST validated every step again and kept the new report.
    assert the_draft().reviewed_report["first_contact"] == "A call from 'exchange security'"
    monkeypatch.setattr(report_answers, "report_from_answers", None)  # the submit reuses it
    assert submit(client).headers["Location"].endswith("/report/done")
    assert db.session.scalars(select(Case)).one().first_contact == "A call from 'exchange security'"


def test_an_answer_made_invalid_after_review_is_refused_at_submit(client):
    fill_wizard(client)
    client.get("/report/review")
    draft = the_draft()
    draft.answers = {**draft.answers, "wallet": {**draft.answers["wallet"], "victim_addresses": ["0x123"]}}
    db.session.commit()
    response = submit(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/report/step/2")
    assert db.session.scalar(select(func.count(Case.id))) == 0


def test_the_resume_link_is_emailed_once_and_opens_the_draft_elsewhere(client, app):
    post_step(client, 1, answers()[1])
    post_step(client, 1, answers()[1])
    (mail,) = db.session.scalars(select(Notification)).all()
    assert mail.recipient == "victim@example.org"
    link = re.search(r"https?://\S+/report/resume/\S+", mail.body_text).group(0)
    path = "/report/resume/" + link.rsplit("/", 1)[1]

    other_device = app.test_client()
    response = other_device.get(path)
    assert response.status_code == 302 and response.headers["Location"].endswith("/report/step/2")
    page = other_device.get("/report/step/1").get_data(as_text=True)
    assert "A Telegram message about an airdrop" in page
    assert other_device.get("/report/resume/not-a-real-token").status_code == 404


def test_back_keeps_what_was_typed_even_before_it_is_valid(client):
    fill_wizard(client, until=1)
    response = post_step(client, 2, {"victim_addresses": "0x12345 half an address"}, action="back")
    assert response.status_code == 302 and response.headers["Location"].endswith("/report/step/1")
    assert "0x12345 half an address" in client.get("/report/step/2").get_data(as_text=True)
    assert "wallet" not in the_draft().completed_steps


def test_a_field_error_is_shown_next_to_the_field_and_other_answers_stay(client):
    data = {**answers()[1], "incident_at": shanghai(2), "discovered_at": shanghai(6)}
    response = post_step(client, 1, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "earlier than the time it happened" in page
    assert "A Telegram message about an airdrop" in page
    assert re.search(r'<input[^>]*checked[^>]*value="imToken"', page)


def test_a_recovery_phrase_is_refused_and_never_stored_or_shown(client):
    fill_wizard(client, until=5)
    statement = f"The fake support agent made me type my words: {PHRASE}. Then everything was gone."
    response = post_step(client, 6, {"statement": statement, "police_agency": PHRASE})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "recovery phrase" in page and "[removed]" in page
    assert PHRASE not in page and PHRASE.split()[5] + " " + PHRASE.split()[6] not in page
    stored = str(the_draft().answers)
    assert PHRASE not in stored and "[removed]" in stored
    assert "evidence" not in the_draft().completed_steps


def test_a_secret_typed_into_a_date_or_a_choice_is_not_shown_back(client):
    key = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
    response = post_step(client, 1, {**answers()[1], "discovered_at": key, "time_zone": key})
    page = response.get_data(as_text=True)
    assert key not in page and "private key" in page
    assert key not in str(the_draft().answers)


def test_steps_cannot_be_skipped(client):
    fill_wizard(client, until=2)
    response = client.get("/report/step/6")
    assert response.status_code == 302 and response.headers["Location"].endswith("/report/step/3")
    assert client.get("/report/review").headers["Location"].endswith("/report/step/3")


def test_an_unknown_chain_is_refused_with_a_message(client):
    fill_wizard(client, until=1)
    response = post_step(client, 2, {"chain_ids": ["999999"], "victim_addresses": VICTIM})
    assert response.status_code == 200 and "not a valid choice" in response.get_data(as_text=True)


def test_another_asset_row_is_added_without_javascript(client):
    fill_wizard(client, until=3)
    response = post_step(client, 4, answers()[4], action="add_row")
    page = response.get_data(as_text=True)
    assert 'name="losses-1-amount"' in page and 'value="2,500.5"' not in page and "2500.5" in page


def test_a_token_not_listed_on_the_chain_needs_its_contract(client):
    fill_wizard(client, until=3)
    response = post_step(client, 4, {**answers()[4], "losses-0-asset": "token"})
    page = response.get_data(as_text=True)
    assert "contract address" in page and "symbol" in page


def test_script_tags_in_text_are_shown_escaped(client):
    fill_wizard(client, until=5)
    post_step(client, 6, {"statement": "<script>alert('x')</script> then my USDT was gone, all of it."})
    fill_wizard_step = post_step(client, 7, answers()[7])
    assert fill_wizard_step.status_code == 302
    page = client.get("/report/review").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page


def test_uploads_are_checked_and_go_with_the_case(client, app):
    fill_wizard(client, until=5)
    files = [(io.BytesIO(PNG), "screen shot.png"), (io.BytesIO(f"my words: {PHRASE}".encode()), "notes.txt"),
             (io.BytesIO(b"MZ\x90\x00binary"), "chat.png")]
    response = post_step(client, 6, {**answers()[6], "files": files}, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200  # stays on the step to show what was refused
    assert "notes.txt" in page and "recovery phrase" in page and "not accepted" in page
    assert "screen shot.png" in page
    fill_wizard_rest = post_step(client, 6, answers()[6])
    assert fill_wizard_rest.status_code == 302
    post_step(client, 7, answers()[7])
    submit(client)
    case = db.session.scalars(select(Case)).one()
    (attached,) = db.session.scalars(select(CaseFile)).all()
    assert attached.case_id == case.id and attached.draft_id is None
    assert attached.original_name == "screen shot.png" and attached.content_type == "image/png"


def _start_reports(app, count: int) -> list:
    """Other victims, each with a draft of their own (one step saved)."""
    others = [app.test_client() for _ in range(count)]
    for other in others:
        post_step(other, 1, answers()[1])
    return others


def _files_at_step_6(client) -> str:
    return client.get("/report/step/6").get_data(as_text=True)


def test_every_file_uploaded_in_the_wizard_is_on_the_case(client, app):
    _start_reports(app, 3)  # other drafts first: ids of drafts and of files no longer coincide
    fill_wizard(client, until=5)
    first = [(io.BytesIO(PNG), "wallet.png")]
    assert post_step(client, 6, {**answers()[6], "files": first}, action="upload",
                     content_type="multipart/form-data").status_code == 200
    second = [(io.BytesIO(b"chat export: 'support' asked me for my words"), "chat.txt")]
    response = post_step(client, 6, {**answers()[6], "files": second}, content_type="multipart/form-data")
    assert response.status_code == 302
    post_step(client, 7, answers()[7])
    assert "wallet.png" in client.get("/report/review").get_data(as_text=True)
    assert submit(client).headers["Location"].endswith("/report/done")
    case = db.session.scalars(select(Case)).one()
    assert sorted(f.original_name for f in uploads.files_of_case(case)) == ["chat.txt", "wallet.png"]
    assert db.session.scalars(select(CaseFile).where(CaseFile.case_id.is_(None))).all() == []


def test_a_new_draft_never_sees_a_file_it_did_not_upload(client, app):
    fill_wizard(client, until=5)
    post_step(client, 6, {**answers()[6], "files": [(io.BytesIO(PNG), "first victim.png")]},
              content_type="multipart/form-data")
    post_step(client, 7, answers()[7])
    submitted_draft = the_draft().id
    submit(client)
    later = app.test_client()  # another victim, in another browser
    fill_wizard(later, until=5)
    assert the_draft().id != submitted_draft
    page = _files_at_step_6(later)
    assert "first victim.png" not in page and 'name="remove_file"' not in page


def test_a_draft_id_is_never_given_again(app):
    gone, _token = drafts.new_draft("en")
    db.session.commit()
    drafts.discard_draft(gone)
    db.session.commit()
    after, _token = drafts.new_draft("en")
    assert after.id > gone.id


def test_a_file_can_be_removed_before_sending(client):
    fill_wizard(client, until=5)
    post_step(client, 6, {**answers()[6], "files": [(io.BytesIO(PNG), "a.png")]}, content_type="multipart/form-data")
    (attached,) = db.session.scalars(select(CaseFile)).all()
    post_step(client, 6, {**answers()[6], "remove_file": str(attached.id)})
    assert db.session.scalar(select(func.count(CaseFile.id))) == 0


def test_a_crash_while_submitting_leaves_the_draft_and_no_case(client, app, monkeypatch):
    fill_wizard(client, until=5)
    post_step(client, 6, {**answers()[6], "files": [(io.BytesIO(PNG), "a.png")]}, content_type="multipart/form-data")
    post_step(client, 7, answers()[7])

    def broken_mail(*args, **kwargs):
        raise RuntimeError("mail queue down")

    monkeypatch.setattr(intake, "queue_email", broken_mail)
    assert submit(client).status_code == 500
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Case.id))) == 0
    draft = the_draft()
    assert len(draft.completed_steps) == 7
    (attached,) = db.session.scalars(select(CaseFile)).all()
    assert attached.draft_id == draft.id and attached.case_id is None

    monkeypatch.undo()
    assert submit(client).headers["Location"].endswith("/report/done")
    assert db.session.scalar(select(func.count(Case.id))) == 1


def test_submitting_twice_files_one_case(client):
    fill_wizard(client)
    first, second = submit(client), submit(client)
    assert first.headers["Location"].endswith("/report/done") and second.headers["Location"].endswith("/report/done")
    assert db.session.scalar(select(func.count(Case.id))) == 1


def test_a_draft_already_gone_cannot_be_claimed(app, client):
    fill_wizard(client)
    with client.session_transaction() as browser_session:
        token = browser_session["report_draft"]
    draft_id = the_draft().id
    claimed = drafts.claim_draft(token)
    assert claimed is not None and claimed.id == draft_id
    db.session.commit()
    assert drafts.claim_draft(token) is None
    assert submit(client).headers["Location"].endswith("/report/")  # nothing was filed: back to the start
    assert db.session.scalar(select(func.count(Case.id))) == 0


def test_a_submit_sent_back_to_a_step_keeps_the_draft(client, monkeypatch):
    fill_wizard(client)
    assert client.get("/report/review").status_code == 200

    def invalid(draft):
        raise report_answers.StepInvalid("losses")

    monkeypatch.setattr(report_answers, "report_to_submit", invalid)
    response = submit(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/report/step/4")
    db.session.expire_all()
    assert the_draft() is not None and db.session.scalar(select(func.count(Case.id))) == 0


def test_drafts_left_for_30_days_expire(client, app):
    post_step(client, 1, answers()[1])
    (mail,) = db.session.scalars(select(Notification)).all()
    path = "/report/resume/" + re.search(r"/report/resume/(\S+)", mail.body_text).group(1)
    assert drafts.expire_drafts(utcnow() + timedelta(days=29)) == 0
    assert drafts.expire_drafts(utcnow() + timedelta(days=31)) == 1
    db.session.commit()
    response = app.test_client().get(path)
    assert response.status_code == 404 and "does not work" in response.get_data(as_text=True)


def test_the_wizard_speaks_chinese(client):
    client.post("/language", data={"lang": "zh_Hans_CN", "csrf_token": csrf_token(client, "/")})
    page = client.get("/report/step/1").get_data(as_text=True)
    assert "第 1 步" in page and "发生了什么" in page
    response = post_step(client, 1, {**answers()[1], "discovered_at": ""})
    assert "请输入您发现损失的日期和时间" in response.get_data(as_text=True)
