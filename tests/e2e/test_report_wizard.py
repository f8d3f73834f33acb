"""A victim on a phone reports a theft through the whole wizard, in English and in Chinese, in a real browser;
the confirmation shows the case reference, the private tracking link and the act-now checklist, the screenshot
uploaded at step 6 is on the case, and the confirmation e-mail reaches a real SMTP server. Other victims, in other
browsers, never see that screenshot."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from casework.extensions import db
from casework.models import Case
from casework.services import mail, uploads
from tests.fixtures.browser import PHONE

pytestmark = pytest.mark.e2e

VICTIM = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
ATTACKER = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
TX_HASH = "0x" + "3c" * 32
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

VICTIMS = {
    "en": {"zone": "America/New_York", "country": "US", "name": "Jane Doe", "phone": "+1 212 555 0143",
           "step": "Step 1 of 7", "police": "Keep your police report at hand", "subject": "Your report",
           "status": "Received",
           "send": "Send message", "sent": "Your message was sent.", "message": "Is there anything else you need?"},
    "zh_Hans_CN": {"zone": "Asia/Shanghai", "country": "CN", "name": "李伟", "phone": "138 0013 8000",
                   "step": "第 1 步，共 7 步", "police": "请妥善保管报警材料", "subject": "您的报告",
                   "status": "已收到",
                   "send": "发送留言", "sent": "您的留言已发送。", "message": "还需要我提供什么材料吗？"},
}


def local(zone: str, hours_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours_ago)).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def next_step(page, name: str | None) -> None:
    """Screenshot the step as filled in (when named), press the primary button, and check the page fits a
    phone's width."""
    if name is not None:
        page.screenshot_step(name)
    page.click(".wizard-buttons button.primary")
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator(".field-error").count() == 0, page.inner_text("main")


def walk_to_evidence(page, victim: dict, *, resume_email: str | None = None, screenshots: bool = False) -> None:
    """Answer steps 1 to 5 as this victim, from step 1 to step 6."""
    page.check("input[name=incident_type][value=fake_support]")
    page.select_option("#time_zone", victim["zone"])
    page.fill("#incident_at", local(victim["zone"], 6))
    page.fill("#discovered_at", local(victim["zone"], 5))
    page.check("input[name=wallet_app][value=imToken]")
    page.fill("#first_contact", "“客服” on Telegram <b>urgent</b>")
    if resume_email:
        page.fill("#resume_email", resume_email)
    next_step(page, "1-what-happened" if screenshots else None)

    page.check("input[name=chain_ids][value='1']")
    page.fill("#victim_addresses", VICTIM.lower())
    next_step(page, "2-wallet" if screenshots else None)

    page.fill("#tx_1", TX_HASH)
    next_step(page, "3-transactions" if screenshots else None)

    page.select_option("#losses-0-chain_id", "1")
    page.select_option("#losses-0-asset", "USDT")
    page.fill("#losses-0-amount", "12,000.25")
    page.fill("#losses-0-fiat_value", "12000.25")
    page.select_option("#losses-0-fiat_currency", "USD")
    next_step(page, "4-losses" if screenshots else None)

    page.fill("#attacker_addresses", ATTACKER)
    page.fill("#social", "@fake_imtoken_support")
    page.check("input[name=exchanges][value=Binance]")
    next_step(page, "5-other-side" if screenshots else None)


def other_victim_at_step_6(browser, live_server: str):
    """A page of another victim, in a browser of their own, who answered steps 1 to 5 and is at step 6."""
    page = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    page.goto(live_server + "/report/step/1")
    walk_to_evidence(page, VICTIMS["en"])
    page.wait_for_url("**/report/step/6")
    return page


@pytest.mark.parametrize("language", ["en", "zh_Hans_CN"])
def test_a_victim_reports_a_theft_from_a_phone(live_server, phone_page, browser, smtp_server, app, language):
    app.config.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port, PUBLIC_URL=live_server)
    victim = VICTIMS[language]
    # Another victim, in another browser, is at step 6 already: drafts and files no longer share their ids.
    earlier = other_victim_at_step_6(browser, live_server)
    page = phone_page
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(live_server + "/")
    if language != "en":
        page.select_option("#lang", language)
        page.click(".language-switch button")
        page.wait_for_load_state()
    page.screenshot_step("landing")
    page.click(".cta a.button")
    page.wait_for_url("**/report/")
    page.click("main a.button.primary")
    page.wait_for_url("**/report/step/1")
    assert victim["step"] in page.inner_text(".wizard-progress")

    walk_to_evidence(page, victim, resume_email="victim@example.org", screenshots=True)

    page.fill("#statement", "A fake imToken support agent on Telegram asked me to 'verify' my wallet; "
                            "then my USDT was sent to an unknown address. <script>alert(1)</script>")
    page.set_input_files("#files", files=[{"name": "chat.png", "mimeType": "image/png", "buffer": PNG}])
    page.click("button[value=upload]")
    page.wait_for_load_state()
    assert "chat.png" in page.inner_text(".file-list")
    page.fill("#police_report_number", "2026-0042")
    next_step(page, "6-evidence")

    page.fill("#name", victim["name"])
    page.select_option("#country", victim["country"])
    page.fill("#email", "victim@example.org")
    page.fill("#phone", victim["phone"])
    page.check("#consent_law_enforcement")
    page.check("#consent_exchanges")
    next_step(page, "7-contact")

    page.wait_for_url("**/report/review")
    review = page.inner_text("main")
    assert "12,000.25 USDT" in review and VICTIM in review and "<script>alert(1)</script>" in review
    page.screenshot_step("8-review")
    page.click(".wizard-submit button.primary")
    page.wait_for_url("**/report/done")
    page.screenshot_step("9-confirmation")

    case = db.session.scalars(select(Case)).one()
    assert page.inner_text(".case-reference") == case.reference
    assert [f.original_name for f in uploads.files_of_case(case)] == ["chat.png"]
    # Neither the victim who started earlier nor one who starts now sees the screenshot at their step 6.
    later = other_victim_at_step_6(browser, live_server)
    for other in (earlier, later):
        other.reload()
        assert "chat.png" not in other.inner_text("main") and other.locator(".file-list li").count() == 0
        other.context.close()
    tracking = page.get_attribute("#tracking-link", "href")
    assert re.fullmatch(rf"{re.escape(live_server)}/track/{case.reference}/[A-Za-z0-9_-]{{32}}", tracking)
    checklist = page.inner_text(".checklist")
    assert "revoke.cash" in checklist and victim["police"] in checklist and "AnyDesk" in checklist
    assert "IC3" not in checklist and "Call 110" not in checklist and "拨打 110" not in checklist  # reported already
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert dialogs == []

    assert mail.send_pending() == 2  # the resume link, then the confirmation
    confirmation = next(m for m in smtp_server.messages if case.reference in m["Subject"])
    assert victim["subject"] in str(make_header(decode_header(confirmation["Subject"])))
    body = confirmation.get_payload(decode=True).decode("utf-8")
    assert tracking in body and victim["police"] in body and "revoke.cash" in body

    # The victim follows the private link from the confirmation and writes to the handler.
    page.goto(tracking)
    page.wait_for_url(f"**/track/{case.reference}")
    assert victim["status"] in page.inner_text(".status-title")
    page.screenshot_step("10-tracking")
    page.fill("#message-body", victim["message"])
    page.click(f"#messages button:has-text('{victim['send']}')")
    page.wait_for_load_state()
    assert victim["sent"] in page.inner_text("main")
    assert victim["message"] in page.inner_text("#messages")
    page.screenshot_step("11-message-sent")
    assert dialogs == []
