"""In a real browser on a phone-sized screen: the landing page, the language switch, staff sign-in
and the case list."""

import pytest

from casework.models import Role
from tests.fixtures.factories import PASSWORD

pytestmark = pytest.mark.e2e


def test_landing_page_warns_about_fees_and_switches_to_chinese(live_server, phone_page):
    page = phone_page
    page.goto(live_server + "/")
    assert "Nobody from Casework will ever ask you for" in page.inner_text("main")
    page.screenshot_step("landing-en")
    page.select_option("#lang", "zh_Hans_CN")
    page.click(".language-switch button")
    page.wait_for_load_state()
    assert "绝不会向您索要" in page.inner_text("main")
    page.screenshot_step("landing-zh")
    # The page fits the phone's width: nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_staff_sign_in_shows_the_case_queue(live_server, phone_page, make_user, make_case):
    handler = make_user(Role.HANDLER)
    filed = make_case(summary="<img src=x onerror=alert(1)> drained")
    page = phone_page
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(live_server + "/staff/login")
    page.fill("#email", handler.email)
    page.fill("#password", "wrong password!")
    page.click("button.primary")
    assert "The e-mail or password is not right." in page.inner_text("main")
    page.fill("#password", PASSWORD)
    page.click("button.primary")
    page.wait_for_url("**/staff/cases")
    page.screenshot_step("case-list")
    page.click(f"text={filed.case.reference}")
    assert "<img src=x onerror=alert(1)> drained" in page.inner_text(".statement")
    page.screenshot_step("case-detail")
    assert dialogs == []  # the victim's text was shown, never run
