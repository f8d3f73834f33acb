"""In a real browser: a victim files with their address, when it happened and what was taken (no hash); the
scheduler's job runner does the first hour; the handler on duty sees the alert in the header, opens the case and finds
the trace done and a freeze request to Harbour Exchange drafted, sends it and records "frozen" with an amount; the
victim's portal says what was found and that funds were frozen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from casework.extensions import db
from casework.models import Case, Notification, Referral, ReferralStatus, Role
from casework.services import demo, jobs
from evidence.devnet import staging
from tests.fixtures.browser import ARTIFACTS
from tests.fixtures.factories import PASSWORD

pytestmark = pytest.mark.e2e
ZONE = "Asia/Shanghai"
TEST_NAME = "test_a_victim_files_and_the_handler_finds_a_drafted_freeze_request"
FROZEN = "500"


def _local(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%dT%H:%M")


def _next(page) -> None:
    page.click(".wizard-buttons button.primary")
    page.wait_for_load_state()


def test_a_victim_files_and_the_handler_finds_a_drafted_freeze_request(app, devnet, staged_thefts, live_server,
                                                                        browser, phone_page, make_user):
    app.config["PUBLIC_URL"] = live_server
    demo.import_devnet_labels(staged_thefts)
    demo.load_directory()
    handler = make_user(Role.HANDLER)
    handler.on_duty = True
    db.session.commit()
    handler_email = handler.email
    theft = staged_thefts.theft(staging.APPROVAL_PHISHING)
    taken = f"{Decimal(theft.stolen_token_amount).scaleb(-staged_thefts.token.decimals):.0f}"
    victim = phone_page

    victim.goto(live_server + "/report/step/1")
    victim.check("input[name=incident_type][value=approval_phishing]")
    victim.select_option("#time_zone", ZONE)
    victim.fill("#incident_at", _local(datetime.now(UTC) - timedelta(hours=1)))
    victim.fill("#discovered_at", _local(datetime.now(UTC)))
    victim.check("input[name=wallet_app][value=imToken]")
    _next(victim)
    victim.check("input[name=chain_ids][value='31337']")
    victim.fill("#victim_addresses", theft.address_of("victim"))
    _next(victim)
    victim.check("input[name=unknown_hashes]")
    _next(victim)
    victim.select_option("#losses-0-chain_id", "31337")
    victim.select_option("#losses-0-asset", "token")
    victim.click(".token-details summary")
    victim.fill("#losses-0-token_address", staged_thefts.token.address)
    victim.fill("#losses-0-amount", taken)
    _next(victim)
    victim.check("input[name='losses-0-token_confirmed']")  # what the chain says about the token is right
    _next(victim)
    _next(victim)  # nothing about the other side
    victim.fill("#statement", "I signed something on an airdrop site and my tokens left minutes later.")
    _next(victim)
    victim.fill("#name", "Chen Jing")
    victim.select_option("#country", "CN")
    victim.fill("#email", "chen@example.org")
    victim.check("#consent_exchanges")
    _next(victim)
    victim.wait_for_url("**/report/review")
    victim.click(".wizard-submit button.primary")
    victim.wait_for_url("**/report/done")
    tracking = victim.get_attribute("#tracking-link", "href")
    victim.screenshot_step("1-filed")

    # The scheduler's job runner: discovery, confirmation, trace, drafting; no handler action.
    db.session.remove()
    while jobs.run_due_jobs():
        pass
    db.session.remove()
    case = db.session.scalars(select(Case)).one()
    assert db.session.scalar(select(Referral.status)) is ReferralStatus.DRAFTED

    staff = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    try:
        staff.goto(live_server + "/staff/login")
        staff.fill("#email", handler_email)
        staff.fill("#password", PASSWORD)
        staff.click("button.primary")
        staff.wait_for_url("**/staff/cases")
        staff.click(".header-alerts summary")
        alert = staff.locator(".header-alerts .alert-list li").first
        assert "Harbour Exchange" in alert.inner_text()
        staff.screenshot(path=str(ARTIFACTS / TEST_NAME / "2-handler-alert.png"))
        alert.locator("a").click()
        staff.wait_for_url(f"**/staff/cases/{case.reference}")
        page = staff.inner_text("main")
        assert "Harbour Exchange" in page and "Drafted" in page
        staff.screenshot(path=str(ARTIFACTS / TEST_NAME / "3-handler-case.png"), full_page=True)
        staff.click(".header-alerts summary")
        staff.click(".header-alerts button:has-text('Mark read')")
        staff.wait_for_load_state()
        assert staff.locator(".header-alerts .alert-list li").count() == 0

        # The handler's part: check the drafted request, send it, and record what the exchange froze.
        referral_id = db.session.scalar(select(Referral.id))
        card = staff.locator(f"#referral-{referral_id}")
        card.locator("summary").first.click()
        assert case.reference in card.locator("textarea[name=body]").input_value()
        card.locator("button:has-text('Send by e-mail to freeze@harbour.example')").click()
        staff.wait_for_url(f"**#referral-{referral_id}")
        card = staff.locator(f"#referral-{referral_id}")
        assert "Police report due" in card.inner_text()
        card.locator("input[name=amount]").fill(FROZEN)
        card.locator("button:has-text('Record the amount')").click()
        staff.wait_for_url(f"**#referral-{referral_id}")
        assert f"Frozen: {FROZEN} {staged_thefts.token.symbol}" in staff.inner_text("#referrals")
        staff.screenshot(path=str(ARTIFACTS / TEST_NAME / "4-handler-frozen.png"), full_page=True)
    finally:
        staff.context.close()

    victim.goto(tracking)
    victim.wait_for_url(f"**/track/{case.reference}")
    found = victim.inner_text("#findings")
    assert "left your address on" in found and "We traced your funds to Harbour Exchange." in found
    assert "Harbour Exchange" in found
    assert f"{FROZEN} {staged_thefts.token.symbol}" in victim.inner_text("main")
    victim.screenshot_step("5-victim-findings")
    db.session.expire_all()
    assert db.session.scalar(select(Referral.status)) is ReferralStatus.FROZEN
    assert db.session.scalar(select(Notification.recipient).where(Notification.recipient == "freeze@harbour.example"))
