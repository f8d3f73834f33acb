"""In a real browser on a phone-sized screen: a victim opens the private tracking link, reads the status in plain
words, sends a message and sees it in the thread, in English and in Chinese."""

import pytest

from casework.extensions import db
from casework.models import Role
from casework.services import thread

pytestmark = pytest.mark.e2e

CASES = [
    pytest.param("en", "Received", "Send message", "Your message was sent.", id="english"),
    pytest.param("zh_Hans_CN", "已收到", "发送留言", "您的留言已发送。", id="chinese"),
]


@pytest.mark.parametrize(("language", "status", "send", "sent"), CASES)
def test_a_victim_follows_their_case_and_writes_to_the_handler(
    live_server, phone_page, make_case, make_user, language, status, send, sent
):
    filed = make_case(language=language)
    thread.reply_to_victim(make_user(Role.HANDLER), filed.case, "<b>Hello</b> — we are looking at your case.")
    db.session.commit()
    page = phone_page
    page.context.set_extra_http_headers({"Accept-Language": "zh-CN,zh;q=0.9" if language != "en" else "en-GB"})
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(f"{live_server}/track/{filed.case.reference}/{filed.access_token}")
    page.wait_for_url(f"**/track/{filed.case.reference}")
    assert filed.access_token not in page.url
    assert status in page.inner_text(".status-title")
    assert "<b>Hello</b> — we are looking at your case." in page.inner_text("#messages")
    page.screenshot_step(f"status-{language}")

    message = "我的钱包地址是 0x1111…，请帮我查一下 <script>alert(1)</script>" if language != "en" else \
        "Thank you. The scammer also wrote to me on WhatsApp. <script>alert(1)</script>"
    page.fill("#message-body", message)
    page.screenshot_step(f"message-typed-{language}")
    page.click(f"#messages button:has-text('{send}')")
    page.wait_for_load_state()
    assert sent in page.inner_text("main")
    thread_text = page.inner_text("#messages")
    assert message in thread_text
    assert thread_text.index("we are looking at your case") < thread_text.index(message)
    assert filed.access_token not in page.content()
    page.screenshot_step(f"message-sent-{language}")

    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing scrolls sideways
    assert dialogs == []  # the victim's and the handler's text was shown, never run
