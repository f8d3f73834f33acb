"""Referrals: the route the directory gives each kind of entry, refusals for targets that cannot act, consent in the
drafts, sending (the outbox, the courtesy hold's deadline), the status flow with returned, amounts and their caps,
the roll-ups on the case page, queue and dashboard, the victim's e-mail and portal line, and stale changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header

import pytest
from sqlalchemy import select

from casework.extensions import db, limiter
from casework.models import (
    CaseEvent,
    ChannelKind,
    EventKind,
    Notification,
    Organisation,
    OrganisationKind,
    RecoveryKind,
    Referral,
    ReferralKind,
    ReferralStatus,
    Requester,
    Role,
)
from casework.services import mail, queue, recoveries, referrals
from casework.services.referrals import CannotAct
from casework.services.workflow import StaleChange, WorkflowError
from tests.fixtures.factories import csrf_token

R = ReferralStatus
DEPOSIT = "0x3333333333333333333333333333333333333333"
USDT = "0xdAC17F958D2ee523a2206206994597C13D831ec7"
HASH = "0x" + "cd" * 32


def organisation(slug: str, kind: OrganisationKind = OrganisationKind.EXCHANGE, *, requester=Requester.VICTIM,
                 channel_kind=ChannelKind.EMAIL, channel: str | None = "freeze@harbour.example",
                 hold: int | None = None, follow_up: int = 2, country: str | None = None,
                 name: str | None = None) -> Organisation:
    entry = Organisation(slug=slug, name=name or slug.replace("-", " ").title(), kind=kind, requester=requester,
                         channel_kind=channel_kind, channel=channel, courtesy_hold_days=hold, follow_up_days=follow_up,
                         country=country, aliases=[], facts=[])
    db.session.add(entry)
    db.session.flush()
    return entry


def freeze(case, target: str = "Harbour Exchange", *, status=R.PROPOSED, amount: int | None = 1_000 * 10**6,
           kind=ReferralKind.EXCHANGE_FREEZE) -> Referral:
    referral = Referral(case=case, kind=kind, status=status, target_name=target, target_address=DEPOSIT, chain_id=1,
                        token_address=USDT, symbol="USDT", decimals=6, amount_raw=amount, tx_hashes=[HASH])
    db.session.add(referral)
    db.session.flush()
    return referral


@pytest.fixture
def handler(make_user):
    return make_user(Role.HANDLER)


@pytest.fixture
def filed(make_case):
    filed = make_case()
    reporter = filed.case.reporter
    reporter.phone, reporter.country = "+8613800138000", "CN"
    db.session.commit()
    return filed


def _consent(case, **flags) -> None:
    for name, value in flags.items():
        setattr(case.reporter, name, value)


# Routes and drafting ----------------------------------------------------------------------------------------------

def test_an_exchange_that_takes_victims_requests_gets_a_freeze_request_drafted(app, filed, handler):
    case = filed.case
    organisation("harbour-exchange", hold=7)
    referral = freeze(case)
    assert referrals.draft_proposed(case, actor=None) == [referral]
    assert referral.status is R.DRAFTED and referral.organisation.slug == "harbour-exchange"
    body = referral.draft_body
    for needed in (case.reference, DEPOSIT, HASH, "1,000 USDT", "Ethereum", "freeze", "within 7 days", "Our contact"):
        assert needed in body, needed
    assert referral.draft_subject.startswith("Freeze request: case " + case.reference)
    event = db.session.scalars(select(CaseEvent).where(CaseEvent.action == EventKind.REFERRAL)).one()
    assert (event.data["before"], event.data["after"], event.actor_label) == ("proposed", "drafted", "system")


@pytest.mark.parametrize(("kind", "requester", "drafted_kind"), [
    (OrganisationKind.STABLECOIN_ISSUER, Requester.VICTIM, ReferralKind.STABLECOIN_ISSUER),
    (OrganisationKind.CONSUMER_AGENCY, Requester.VICTIM, ReferralKind.CONSUMER_AGENCY),
    (OrganisationKind.LAWYER, Requester.VICTIM, ReferralKind.LAWYER),
    (OrganisationKind.POLICE, Requester.VICTIM, ReferralKind.POLICE),
])
def test_an_entry_opened_by_hand_gets_the_referral_its_kind_implies(app, filed, handler, kind, requester,
                                                                     drafted_kind):
    entry = organisation("entry", kind, requester=requester)
    referral = referrals.open_referral(handler, filed.case, entry.id, note="the victim asked for it")
    assert (referral.kind, referral.status, referral.organisation_id) == (drafted_kind, R.DRAFTED, entry.id)
    assert filed.case.reference in referral.draft_body and "2,500 USDT" in referral.draft_body
    with pytest.raises(WorkflowError, match="already has an open referral"):
        referrals.open_referral(handler, filed.case, entry.id)


def test_an_exchange_that_takes_only_police_gets_the_police_package_first(app, filed):
    case = filed.case
    organisation("strict-exchange", requester=Requester.POLICE, channel_kind=ChannelKind.PORTAL,
                 channel="https://le.strict.example")
    force = organisation("cn-police", OrganisationKind.POLICE, channel_kind=ChannelKind.WEB_FORM,
                         channel="https://police.example/report", country="CN")
    exchange = freeze(case, "Strict Exchange")
    [police] = referrals.draft_proposed(case)
    assert police is not exchange and police.kind is ReferralKind.POLICE and police.organisation == force
    assert (police.status, exchange.status) == (R.DRAFTED, R.PROPOSED)
    assert police.amount_raw == exchange.amount_raw and police.target_address == DEPOSIT
    assert "https://le.strict.example" in police.draft_body and "law enforcement" in police.draft_body
    # Drafting again finds the same police referral.
    assert referrals.draft_proposed(case) == [police]
    assert len(case.referrals) == 2


def test_the_case_page_says_a_freeze_request_waits_for_the_police(app, client, filed, handler, login):
    organisation("strict-exchange", requester=Requester.POLICE, channel_kind=ChannelKind.PORTAL,
                 channel="https://le.strict.example")
    exchange = freeze(filed.case, "Strict Exchange")
    db.session.commit()
    login(handler)
    page = client.get(f"/staff/cases/{filed.case.reference}").get_data(as_text=True)
    assert "acts only on requests from the police" in page and "Draft the police referral" in page
    assert _post(client, filed.case, f"/{exchange.id}/draft", {"expected": "proposed"}).status_code == 302
    db.session.expire_all()
    [police] = [r for r in filed.case.referrals if r.kind is ReferralKind.POLICE]
    assert police.status is R.DRAFTED and police.target_name == "Police"


@pytest.mark.parametrize("requester", [Requester.NOBODY])
def test_a_target_that_cannot_act_is_never_drafted_or_opened(app, filed, handler, requester):
    maker = organisation("wallet-maker", OrganisationKind.WALLET_MAKER, requester=requester,
                         channel_kind=ChannelKind.NONE, channel=None)
    referral = freeze(filed.case, "Wallet Maker")
    assert referrals.draft_proposed(filed.case) == []
    assert referral.status is R.PROPOSED and referral.draft_body is None
    with pytest.raises(CannotAct, match="cannot freeze or return funds"):
        referrals.draft_referral(handler, referral)
    with pytest.raises(CannotAct, match="cannot freeze or return funds"):
        referrals.open_referral(handler, filed.case, maker.id)
    with pytest.raises(WorkflowError, match="Draft this request"):
        referrals.send_referral(handler, referral, sent_to="somewhere")
    with pytest.raises(CannotAct, match="cannot freeze or return funds"):  # nor by the status form or the API
        referrals.update_referral(handler, referral, R.SENT, expected="proposed")
    assert referral.status is R.PROPOSED


def test_a_target_the_directory_does_not_know_is_refused_with_what_to_do(app, filed, handler):
    referral = freeze(filed.case, "Unknown Exchange")
    with pytest.raises(CannotAct, match="no entry for “Unknown Exchange”"):
        referrals.draft_referral(handler, referral)


@pytest.mark.parametrize(("kind", "consent"), [
    (OrganisationKind.EXCHANGE, "consent_exchanges"),
    (OrganisationKind.STABLECOIN_ISSUER, "consent_exchanges"),
    (OrganisationKind.POLICE, "consent_law_enforcement"),
    (OrganisationKind.CONSUMER_AGENCY, "consent_consumer_agencies"),
])
def test_the_victims_details_go_only_where_they_consented(app, filed, handler, kind, consent):
    case = filed.case
    _consent(case, consent_exchanges=True, consent_law_enforcement=True, consent_consumer_agencies=True)
    setattr(case.reporter, consent, False)
    entry = organisation("entry", kind)
    withheld = referrals.open_referral(handler, case, entry.id)
    assert not withheld.personal_data_shared
    for detail in ("Li Wei", "victim@example.org", "+8613800138000"):
        assert detail not in withheld.draft_body
    assert "has not agreed" in withheld.draft_body
    referrals.update_referral(handler, withheld, R.CLOSED)
    setattr(case.reporter, consent, True)
    shared = referrals.open_referral(handler, case, entry.id)
    assert shared.personal_data_shared
    for detail in ("Li Wei", "victim@example.org", "+8613800138000"):
        assert detail in shared.draft_body


def test_a_lawyers_handover_carries_no_personal_data(app, filed, handler):
    _consent(filed.case, consent_exchanges=True, consent_law_enforcement=True, consent_consumer_agencies=True)
    referral = referrals.open_referral(handler, filed.case, organisation("lawyer", OrganisationKind.LAWYER).id)
    assert not referral.personal_data_shared and "Li Wei" not in referral.draft_body


def test_a_draft_with_a_secret_is_refused_and_keeps_the_old_text(app, filed, handler):
    organisation("harbour-exchange")
    referral = freeze(filed.case)
    referrals.draft_referral(handler, referral)
    before = referral.draft_body
    with pytest.raises(WorkflowError, match="recovery phrase|private key"):
        referrals.edit_draft(handler, referral, "Subject", "private key: " + "ab" * 32, expected="drafted")
    assert referral.draft_body == before
    referrals.edit_draft(handler, referral, "Please freeze", before + "\nThank you.", expected="drafted")
    assert referral.draft_body.endswith("Thank you.") and referral.draft_subject == "Please freeze"


# Sending ----------------------------------------------------------------------------------------------------------

def test_sending_by_e_mail_queues_it_and_sets_the_courtesy_holds_deadline(app, filed, handler):
    organisation("harbour-exchange", hold=7, follow_up=3)
    referral = freeze(filed.case)
    referrals.draft_referral(handler, referral)
    sent_at = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
    referrals.send_referral(handler, referral, expected="drafted", now=sent_at)
    db.session.commit()
    assert referral.status is R.SENT and referral.sent_at == sent_at
    assert referral.sent_to == "freeze@harbour.example"
    assert referral.follow_up_due_at == sent_at + timedelta(days=3)
    assert referral.police_report_due_at == sent_at + timedelta(days=7)
    [queued] = db.session.scalars(select(Notification).where(Notification.recipient == "freeze@harbour.example"))
    assert queued.subject == referral.draft_subject
    # Only the victim can make the police report the hold waits for: they are told the date, in their zone and
    # language.
    [told] = db.session.scalars(select(Notification).where(Notification.recipient == filed.case.reporter.email))
    assert told.subject == f"您的案件 {filed.case.reference}：请在 2026-11-09 16:30 (Asia/Shanghai) 前向警方报案"
    assert "Harbour Exchange" in told.body_text and "2026-11-09 16:30 (Asia/Shanghai)" in told.body_text


def test_a_freeze_request_without_a_courtesy_hold_sends_the_victim_nothing(app, filed, handler):
    organisation("form-exchange", channel_kind=ChannelKind.WEB_FORM, channel="https://form.example/freeze")
    referral = freeze(filed.case, target="Form Exchange")
    referrals.draft_referral(handler, referral)
    referrals.send_referral(handler, referral, expected="drafted", sent_to="ticket 42")
    db.session.commit()
    assert db.session.scalars(select(Notification).where(
        Notification.recipient == filed.case.reporter.email)).all() == []


def test_sending_through_a_web_form_records_where_and_needs_no_hold(app, filed, handler):
    organisation("form-exchange", channel_kind=ChannelKind.WEB_FORM, channel="https://form.example/freeze")
    referral = freeze(filed.case, "Form Exchange")
    referrals.draft_referral(handler, referral)
    outbox = db.session.scalar(select(db.func.count()).select_from(Notification))
    referrals.send_referral(handler, referral, sent_to="https://form.example/freeze ticket 4411")
    assert referral.sent_to == "https://form.example/freeze ticket 4411" and referral.police_report_due_at is None
    assert db.session.scalar(select(db.func.count()).select_from(Notification)) == outbox


def test_a_follow_up_is_recorded_with_the_next_date(app, filed, handler):
    organisation("harbour-exchange")
    referral = freeze(filed.case)
    referrals.draft_referral(handler, referral)
    referrals.send_referral(handler, referral)
    today = referral.sent_at.date()
    with pytest.raises(WorkflowError, match="after today"):
        referrals.record_follow_up(handler, referral, "called", today, today=today)
    referrals.record_follow_up(handler, referral, "Desk asked for the police report", today + timedelta(days=4),
                               expected="sent", today=today)
    assert referral.follow_up_due_at.date() == today + timedelta(days=4)
    assert referral.status is R.SENT


# Status flow and amounts ------------------------------------------------------------------------------------------

def test_returned_follows_frozen_or_comes_directly(app, filed, handler):
    assert R.RETURNED in referrals.ALLOWED_MOVES[R.FROZEN]
    assert R.RETURNED in referrals.ALLOWED_MOVES[R.SENT] and R.RETURNED in referrals.ALLOWED_MOVES[R.ACKNOWLEDGED]
    assert referrals.ALLOWED_MOVES[R.RETURNED] == {R.CLOSED}
    referral = freeze(filed.case, status=R.SENT)
    referrals.update_referral(handler, referral, R.FROZEN, expected="sent")
    referrals.update_referral(handler, referral, R.RETURNED, expected="frozen")
    with pytest.raises(WorkflowError, match="can become: Closed"):
        referrals.update_referral(handler, referral, R.FROZEN)


def test_amounts_are_capped_by_what_reached_the_target(app, filed, handler):
    referral = freeze(filed.case, status=R.SENT, amount=1_000 * 10**6)
    recoveries.record_recovery(handler, referral, "frozen", "600", expected="sent")
    assert referral.status is R.FROZEN
    with pytest.raises(WorkflowError, match="At most 1,000 USDT .* 600 USDT is recorded already"):
        recoveries.record_recovery(handler, referral, "frozen", "400.000001")
    recoveries.record_recovery(handler, referral, "frozen", "400", expected="frozen")
    recoveries.record_recovery(handler, referral, "returned", "1,000", expected="frozen")
    assert referral.status is R.RETURNED
    with pytest.raises(WorkflowError, match="At most"):
        recoveries.record_recovery(handler, referral, "returned", "0.000001")
    assert [(r.kind, r.amount_raw) for r in referral.recoveries] == [
        (RecoveryKind.FROZEN, 600 * 10**6), (RecoveryKind.FROZEN, 400 * 10**6), (RecoveryKind.RETURNED, 10**9)]


@pytest.mark.parametrize(("typed", "message"), [
    ("-5", "greater than zero"), ("0", "greater than zero"), ("1.0000001", "at most 6 digits"), ("", "Enter an amount"),
    ("ten", "as a number"),
])
def test_bad_amounts_are_refused_with_a_clear_message(app, filed, handler, typed, message):
    referral = freeze(filed.case, status=R.SENT)
    with pytest.raises(WorkflowError, match=message):
        recoveries.record_recovery(handler, referral, "frozen", typed)
    assert referral.status is R.SENT and referral.recoveries == []


def test_a_referral_without_a_traced_amount_is_capped_by_the_reported_loss(app, filed, handler):
    police = Referral(case=filed.case, kind=ReferralKind.POLICE, status=R.SENT, target_name="Police")
    db.session.add(police)
    db.session.flush()
    [choice] = recoveries.asset_choices(police)
    assert (choice.symbol, choice.cap_raw) == ("USDT", 2_500 * 10**6)
    with pytest.raises(WorkflowError, match="At most 2,500 USDT"):
        recoveries.record_recovery(handler, police, "returned", "2500.5")
    recoveries.record_recovery(handler, police, "returned", "2500", asset=choice.key)
    assert police.status is R.RETURNED


def test_a_stale_amount_or_status_changes_nothing(app, filed, handler):
    referral = freeze(filed.case, status=R.SENT)
    recoveries.record_recovery(handler, referral, "frozen", "10", expected="sent")
    with pytest.raises(StaleChange):
        recoveries.record_recovery(handler, referral, "frozen", "10", expected="sent")
    with pytest.raises(StaleChange):
        referrals.update_referral(handler, referral, R.DECLINED, expected="acknowledged")
    with pytest.raises(StaleChange):
        referrals.send_referral(handler, referral, expected="drafted")
    assert len(referral.recoveries) == 1 and referral.status is R.FROZEN


def test_two_amounts_recorded_at_once_never_pass_the_cap_together(app, filed, make_user):
    from tests.fixtures.factories import at_once

    handler_id = make_user(Role.HANDLER).id
    referral_id = freeze(filed.case, status=R.FROZEN, amount=1_000 * 10**6).id
    db.session.commit()

    def record() -> str:
        from casework.models import User

        try:
            recoveries.record_recovery(db.session.get(User, handler_id), db.session.get(Referral, referral_id),
                                       "frozen", "600")
        except WorkflowError as error:
            return error.message
        return "recorded"

    outcomes = at_once(app, record, 2)
    assert sorted(outcome[:7] for outcome in outcomes) == ["At most", "recorde"]
    db.session.expire_all()
    assert [row.amount_raw for row in db.session.get(Referral, referral_id).recoveries] == [600 * 10**6]


def test_legal_may_not_record_amounts(app, filed, make_user):
    from casework.services.access import AccessDenied

    referral = freeze(filed.case, status=R.SENT)
    with pytest.raises(AccessDenied):
        recoveries.record_recovery(make_user(Role.LEGAL), referral, "frozen", "1")


# The case page, the victim, the queue and the dashboard --------------------------------------------------------

def _text(message) -> str:
    return message.get_payload(decode=True).decode()


def _post(client, case, url: str, data: dict):
    token = csrf_token(client, f"/staff/cases/{case.reference}")
    return client.post(f"/staff/cases/{case.reference}/referrals{url}", data={"csrf_token": token, **data})


def test_a_handler_drafts_sends_and_records_frozen_from_the_case_page(app, client, filed, handler, login,
                                                                      smtp_server):
    from tests.casework.test_mail import _use_server

    _use_server(app, smtp_server.host, smtp_server.port)
    case = filed.case
    organisation("harbour-exchange", hold=7)
    referral = freeze(case)
    db.session.commit()
    login(handler)
    page = client.get(f"/staff/cases/{case.reference}").get_data(as_text=True)
    assert f'id="referral-{referral.id}"' in page and "Draft the request" in page
    assert _post(client, case, f"/{referral.id}/draft", {"expected": "proposed"}).status_code == 302
    page = client.get(f"/staff/cases/{case.reference}").get_data(as_text=True)
    assert "Send by e-mail to freeze@harbour.example" in page
    assert _post(client, case, f"/{referral.id}/send", {"expected": "drafted"}).status_code == 302
    page = client.get(f"/staff/cases/{case.reference}").get_data(as_text=True)
    assert "Police report due" in page and "due in 7 days" in page
    response = _post(client, case, f"/{referral.id}/amount", {"expected": "sent", "kind": "frozen",
                                                               "asset": "traced", "amount": "1000.5"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "At most 1,000 USDT" in page and 'value="1000.5"' in page
    response = _post(client, case, f"/{referral.id}/amount", {"expected": "sent", "kind": "frozen",
                                                               "asset": "traced", "amount": "750"})
    assert response.status_code == 302
    page = client.get(f"/staff/cases/{case.reference}").get_data(as_text=True)
    assert "Frozen: 750 USDT · Returned: 0 USDT" in page
    # The victim hears of it: an e-mail in their language, and a line on their portal's timeline.
    assert mail.send_pending() >= 2
    [news] = [m for m in smtp_server.messages if m["To"] == "victim@example.org" and "750 USDT" in _text(m)]
    subject = str(make_header(decode_header(news["Subject"])))
    assert "冻结" in subject and case.reference in subject
    freeze_request = [m for m in smtp_server.messages if m["To"] == "freeze@harbour.example"]
    assert len(freeze_request) == 1 and DEPOSIT in _text(freeze_request[0])
    limiter.reset()
    victim = app.test_client()
    victim.get(f"/track/{case.reference}/{filed.access_token}")
    portal_page = victim.get(f"/track/{case.reference}").get_data(as_text=True)
    assert "Part of the stolen funds was frozen or returned" in portal_page and "750 USDT" in portal_page


def test_a_refused_edit_shows_the_text_again(app, client, filed, handler, login):
    organisation("harbour-exchange")
    referral = freeze(filed.case)
    referrals.draft_referral(handler, referral)
    db.session.commit()
    login(handler)
    response = _post(client, filed.case, f"/{referral.id}/edit", {
        "expected": "drafted", "subject": "Freeze <b>now</b>", "body": "my own words " + "x" * 20_001})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Keep it under" in page and "my own words" in page and "Freeze &lt;b&gt;now&lt;/b&gt;" in page
    response = _post(client, filed.case, f"/{referral.id}/status", {"expected": "proposed", "status": "sent"})
    assert response.status_code == 422 and "Someone else changed this referral" in response.get_data(as_text=True)


def test_recovered_amounts_roll_up_to_the_queue_and_dashboard(app, client, make_case, handler, login):
    from casework.services import dashboard

    first, second = make_case().case, make_case().case
    for case, frozen, returned in ((first, "100", "40"), (second, "5.5", None)):
        referral = freeze(case, status=R.SENT)
        recoveries.record_recovery(handler, referral, "frozen", frozen)
        if returned:
            recoveries.record_recovery(handler, referral, "returned", returned)
    db.session.commit()
    lines = {line.reference: line for line in queue.find_cases(handler, queue.QueueQuery()).lines}
    assert lines[first.reference].recovered == "frozen 100 USDT, returned 40 USDT"
    assert lines[second.reference].recovered == "frozen 5.5 USDT"
    csv_text = "".join(queue.export_csv(handler, queue.QueueQuery()))
    assert "frozen 100 USDT, returned 40 USDT" in csv_text
    [usdt] = recoveries.dashboard_totals(handler)
    assert (usdt.frozen_raw, usdt.returned_raw) == (105_500_000, 40 * 10**6)
    login(handler)
    assert "frozen 5.5 USDT" in client.get("/staff/cases").get_data(as_text=True)
    board = client.get("/staff/dashboard").get_data(as_text=True)
    assert ">105.5<" in board and ">40<" in board
    assert dashboard.losses_per_asset(handler)


# The API -------------------------------------------------------------------------------------------------------

def test_the_api_records_an_amount_with_the_status_and_refuses_a_bad_one(app, client, filed, make_user):
    from casework.services import api_tokens

    user = make_user(Role.HANDLER)
    referral = freeze(filed.case, status=R.SENT)
    token = api_tokens.create_token(user, "desk")
    db.session.commit()
    headers = {"Authorization": f"Bearer {token.secret}"}
    url = f"/api/v1/referrals/{referral.id}"
    for amount in ("-1", "ten", "1e3", ""):  # not a decimal number: refused by the schema
        assert client.patch(url, headers=headers, json={"status": "frozen", "amount": amount}).status_code == 422
    response = client.patch(url, headers=headers, json={"status": "frozen", "amount": "1000.0000001"})
    error = response.get_json()["error"]
    assert response.status_code == 409 and error["code"] == "bad_amount" and "at most 6 digits" in error["message"]
    response = client.patch(url, headers=headers, json={"status": "frozen", "amount": "2000"})
    assert response.status_code == 409 and "At most 1,000 USDT" in response.get_json()["error"]["message"]
    response = client.patch(url, headers=headers, json={"status": "acknowledged", "amount": "1"})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "bad_amount"
    response = client.patch(url, headers=headers, json={"status": "frozen", "amount": "250.5", "expected": "sent"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "frozen" and body["recoveries"][0]["amount_raw"] == "250500000"
    response = client.patch(url, headers=headers, json={"status": "returned", "amount": "100", "expected": "sent"})
    assert response.status_code == 409
    response = client.patch(url, headers=headers, json={"status": "returned", "expected": "frozen"})
    assert response.status_code == 200 and response.get_json()["status"] == "returned"


def test_the_queue_orders_by_the_nearest_referral_date(app, make_case, handler):
    later, none, sooner = (make_case().case for _ in range(3))
    now = datetime.now(UTC)
    freeze(later, status=R.SENT).follow_up_due_at = now + timedelta(days=5)
    waiting = freeze(sooner, status=R.SENT)
    waiting.follow_up_due_at, waiting.police_report_due_at = now + timedelta(days=9), now + timedelta(days=1)
    closed = freeze(none, status=R.CLOSED)
    closed.follow_up_due_at = now  # a closed referral's date does not count
    db.session.commit()
    lines = queue.find_cases(handler, queue.parse_query({"sort": "due"}, user=handler)).lines
    assert [line.reference for line in lines] == [sooner.reference, later.reference, none.reference]
    assert lines[0].next_due == waiting.police_report_due_at and lines[2].next_due is None
