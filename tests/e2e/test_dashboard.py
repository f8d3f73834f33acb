"""In a real browser on a phone-sized screen: a supervisor opens the dashboard in Chinese from the navigation; the
charts are drawn (no script, nothing the Content-Security-Policy refuses), fit the screen and name an exchange
whose name holds markup as text."""

import pytest

from casework.extensions import db
from casework.models import Referral, ReferralKind, ReferralStatus, Role
from tests.fixtures.factories import PASSWORD

pytestmark = pytest.mark.e2e


def test_a_supervisor_reads_the_dashboard_on_a_phone_in_chinese(live_server, phone_page, make_user, make_case):
    supervisor = make_user(Role.SUPERVISOR)
    for number in range(3):
        case = make_case(loss_usdt=1_000 * (number + 1)).case
        db.session.add(Referral(case=case, kind=ReferralKind.EXCHANGE_FREEZE, status=ReferralStatus.FROZEN,
                                target_name="<img src=x onerror=alert(1)> 火币全球站（香港）客户资金热钱包", chain_id=1,
                                symbol="USDT", decimals=6, amount_raw=500 * 10**6))
    db.session.commit()
    page = phone_page
    page.context.set_extra_http_headers({"Accept-Language": "zh-CN,zh;q=0.9"})
    problems = []
    page.on("dialog", lambda dialog: (problems.append(dialog.message), dialog.dismiss()))
    page.on("console", lambda message: problems.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(live_server + "/staff/login")
    page.fill("#email", supervisor.email)
    page.fill("#password", PASSWORD)
    page.click("button.primary")
    page.wait_for_url("**/staff/cases")
    page.click("nav.site-nav a:has-text('仪表板')")
    page.wait_for_url("**/staff/dashboard")
    assert "接收资金最多的交易所" in page.inner_text("main")
    charts = page.locator("svg.chart")
    assert charts.count() == 5
    for index in range(charts.count()):
        box = charts.nth(index).bounding_box()
        assert box["width"] > 300 and box["height"] > 50 and box["x"] + box["width"] <= 390
    exchange_chart = page.locator("#exchanges svg.chart")
    assert "<img src=x onerror=alert(1)>" in exchange_chart.inner_html().replace("&lt;", "<").replace("&gt;", ">")
    assert page.locator("#exchanges svg img").count() == 0
    page.screenshot_step("dashboard-zh")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # tables scroll inside their box
    assert problems == []
