"""In a real browser: a handler's day with one case, from the queue to the closing, with the victim answering in
their own browser in between. Screenshots of each step go to test-artifacts/test_a_handler_works_a_case_.../."""

from __future__ import annotations

from email.header import decode_header, make_header

import pytest

from casework.extensions import db
from casework.models import Case, Role, Task
from casework.services import mail
from tests.fixtures.browser import ARTIFACTS
from tests.fixtures.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("task_templates")]

TASK = "Ask the exchange for the deposit account's KYC hold"
NOTE = "The victim's USDT reached a deposit address of the exchange on the devnet."
QUESTION = "Did the scammer give you a Telegram handle? Please send a screenshot of the chat."
ANSWER = "Yes, it was @airdrop_support_official. I am attaching nothing more, that is all I have."
SUMMARY = "The exchange froze and returned 1,000 of your 2,500 USDT; the rest had already been moved on."


def test_a_handler_works_a_case_from_the_queue_to_the_closing(
    app, live_server, browser, phone_page, make_case, make_user, smtp_server
):
    app.config.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)
    handler = make_user(Role.HANDLER)
    make_case(summary="An older case.", hours_ago=48, language="en")
    newest = make_case(summary="I approved a fake airdrop and my USDT was drained.", hours_ago=1, language="en")
    reference = newest.case.reference
    staff = phone_page

    # The handler signs in, opens the queue and takes the newest case.
    staff.goto(live_server + "/staff/login")
    staff.fill("#email", handler.email)
    staff.fill("#password", PASSWORD)
    staff.click("button.primary")
    staff.wait_for_url("**/staff/cases")
    assert reference in staff.inner_text("table.cases")
    staff.screenshot_step("01-queue")
    staff.click(f"text={reference}")
    staff.wait_for_url(f"**/staff/cases/{reference}")
    staff.click("button:has-text('Take this case')")
    staff.wait_for_load_state()
    assert "You hold this case now." in staff.inner_text("main")
    assert "Triage" in staff.inner_text("dl.facts")
    assert "Confirm the approval and the drain on-chain" in staff.inner_text("#tasks")
    staff.screenshot_step("02-taken-with-checklist")

    # A task and an internal note.
    staff.click("#tasks summary:has-text('Add a task')")
    staff.fill("#task-title", TASK)
    staff.click("#tasks button:has-text('Add task')")
    staff.wait_for_load_state()
    assert "Task added." in staff.inner_text("main") and TASK in staff.inner_text("#tasks")
    staff.fill("#note-body", NOTE)
    staff.click("#notes button:has-text('Add note')")
    staff.wait_for_load_state()
    assert NOTE in staff.inner_text("#notes")
    staff.screenshot_step("03-task-and-note")

    # A message to the victim, and the case waits for their answer.
    staff.fill("#reply-body", QUESTION)
    staff.click("#thread button:has-text('Send reply')")
    staff.wait_for_load_state()
    staff.select_option("#status-to", "awaiting_victim")
    staff.fill("#status-reason", "Asked the victim for the scammer's Telegram handle.")
    staff.click("#status button:has-text('Change the status')")
    staff.wait_for_load_state()
    assert "Awaiting victim" in staff.inner_text("dl.facts")
    staff.screenshot_step("04-awaiting-victim")

    # The victim, in their own browser, opens their private link and answers.
    victim_context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                         extra_http_headers={"Accept-Language": "en-GB"})
    victim = victim_context.new_page()
    folder = ARTIFACTS / "test_a_handler_works_a_case_from_the_queue_to_the_closing"
    try:
        victim.goto(f"{live_server}/track/{reference}/{newest.access_token}")
        victim.wait_for_url(f"**/track/{reference}")
        assert "Waiting for your answer" in victim.inner_text(".status-title")
        assert QUESTION in victim.inner_text("#messages")
        victim.screenshot(path=str(folder / "05-victim-asked.png"), full_page=True)
        victim.fill("#message-body", ANSWER)
        victim.click("#messages button:has-text('Send message')")
        victim.wait_for_load_state()
        assert "Your message was sent." in victim.inner_text("main")
        victim.screenshot(path=str(folder / "06-victim-answered.png"), full_page=True)

        # The case is back with the handler: its status returns and the handler's e-mail arrives.
        db.session.remove()
        assert mail.send_pending() >= 1
        to_handler = [m for m in smtp_server.messages if m["To"] == handler.email]
        assert len(to_handler) == 1
        subject = str(make_header(decode_header(to_handler[0]["Subject"])))
        assert subject == f"Case {reference}: the victim answered"
        assert f"/staff/cases/{reference}" in to_handler[0].get_payload(decode=True).decode()
        staff.reload()
        assert "Triage" in staff.inner_text("dl.facts")
        assert ANSWER in staff.inner_text("#thread")
        staff.screenshot_step("07-back-with-the-handler")

        # The handler completes their task and closes the case as partially recovered, with a summary.
        staff.locator("li.task", has_text=TASK).locator("button:has-text('Mark done')").click()
        staff.wait_for_load_state()
        assert "Task done." in staff.inner_text("main")
        task = db.session.query(Task).filter_by(case_id=newest.case.id, title=TASK).one()
        assert task.done_by_id == handler.id
        staff.select_option("#status-to", "closed")
        staff.fill("#status-reason", "The exchange returned part of the funds.")
        staff.select_option("#status-resolution", "partially_recovered")
        staff.fill("#status-victim_summary", SUMMARY)
        assert "open tasks" in staff.inner_text("#status")  # the checklist's other items are still open
        staff.check("#status-confirm_open_work")
        staff.screenshot_step("08-closing")
        staff.click("#status button:has-text('Change the status')")
        staff.wait_for_load_state()
        assert "Closed" in staff.inner_text("dl.facts") and "Partially recovered" in staff.inner_text("dl.facts")
        staff.screenshot_step("09-closed")
        db.session.remove()
        assert db.session.get(Case, newest.case.id).status.value == "closed"

        # The victim's portal shows the closure and the summary.
        victim.reload()
        assert "Closed" in victim.inner_text(".status-title")
        assert "part of the funds was recovered" in victim.inner_text(".status-explanation")
        assert SUMMARY in victim.inner_text("main")
        victim.screenshot(path=str(folder / "10-victim-sees-the-closing.png"), full_page=True)
    finally:
        victim_context.close()
