"""In a real browser on a phone-sized screen: a handler finds a drafted freeze request on the case page, sends it by
e-mail and records "frozen" with an amount (a first try over the cap is refused and keeps what was typed); the
victim's portal then shows the news with the amount."""

import pytest

from casework.extensions import db
from casework.models import (
    ChannelKind,
    Notification,
    Organisation,
    OrganisationKind,
    Referral,
    ReferralKind,
    Requester,
    Role,
)
from casework.models import ReferralStatus as R
from casework.services import referrals
from tests.fixtures.factories import PASSWORD

pytestmark = pytest.mark.e2e


def test_a_handler_sends_a_drafted_freeze_request_and_records_frozen(live_server, phone_page, make_user, make_case):
    handler = make_user(Role.HANDLER)
    filed = make_case()
    db.session.add(Organisation(slug="harbour", name="Harbour Exchange", kind=OrganisationKind.EXCHANGE,
                                requester=Requester.VICTIM, channel_kind=ChannelKind.EMAIL,
                                channel="freeze@harbour.example", courtesy_hold_days=7, aliases=[], facts=[]))
    db.session.add(Referral(case=filed.case, kind=ReferralKind.EXCHANGE_FREEZE, status=R.PROPOSED,
                            target_name="Harbour Exchange", target_address="0x" + "33" * 20, chain_id=1,
                            symbol="USDT", decimals=6, amount_raw=1_000 * 10**6, tx_hashes=["0x" + "cd" * 32]))
    db.session.flush()
    [referral] = referrals.draft_proposed(filed.case)
    db.session.commit()
    page = phone_page
    page.goto(live_server + "/staff/login")
    page.fill("#email", handler.email)
    page.fill("#password", PASSWORD)
    page.click("button.primary")
    page.wait_for_url("**/staff/cases")
    page.goto(f"{live_server}/staff/cases/{filed.case.reference}#referral-{referral.id}")
    card = page.locator(f"#referral-{referral.id}")
    assert "Funds frozen" not in card.inner_text() and "Drafted" in card.inner_text()
    card.locator("summary").click()
    assert filed.case.reference in card.locator("textarea[name=body]").input_value()
    page.screenshot_step("referral-drafted")
    card.locator("button:has-text('Send by e-mail to freeze@harbour.example')").click()
    page.wait_for_url(f"**#referral-{referral.id}")
    assert "Police report due" in card.inner_text() and "due in 7 days" in card.inner_text()
    card.locator("input[name=amount]").fill("1200")
    card.locator("button:has-text('Record the amount')").click()
    card = page.locator(f"#referral-{referral.id}")
    assert "At most 1,000 USDT" in card.inner_text() and card.locator("input[name=amount]").input_value() == "1200"
    card.locator("input[name=amount]").fill("750.25")
    card.locator("button:has-text('Record the amount')").click()
    page.wait_for_url(f"**#referral-{referral.id}")
    assert "Frozen: 750.25 USDT" in page.inner_text("#referrals")
    page.screenshot_step("referral-frozen")
    wide = page.evaluate("""[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > 392)
        .map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + (e.textContent || '').slice(0, 40))""")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, wide[:15]
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status is R.FROZEN
    assert [n.recipient for n in db.session.query(Notification).filter(
        Notification.recipient == "freeze@harbour.example")] == ["freeze@harbour.example"]

    page.context.clear_cookies()
    page.goto(f"{live_server}/track/{filed.case.reference}/{filed.access_token}")
    text = page.inner_text("main")
    # The victim hears where the funds were frozen (the first hour's "What we found"), never the deposit address,
    # the exchange's contact or the request the handler sent.
    assert "750.25 USDT" in text and "Harbour Exchange has frozen funds from your case." in text
    assert "33" * 20 not in text.lower() and "freeze@harbour.example" not in text
