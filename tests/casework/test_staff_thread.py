"""The staff side of the victim thread: replies (victim-visible, with an e-mail notice) and internal notes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from casework.extensions import db
from casework.models import CaseEvent, Message, MessageAuthor, Note, Notification, Role
from casework.services import mail, thread
from casework.services.access import AccessDenied
from tests.fixtures.factories import csrf_token

REPLY = "We traced your USDT to an exchange deposit address and asked the exchange to freeze it."


def staff_post(client, reference: str, action: str, data: dict):
    page = f"/staff/cases/{reference}"
    return client.post(f"{page}/{action}", data={"csrf_token": csrf_token(client, page), **data})


def test_a_handler_replies_and_the_victim_gets_a_notice_without_the_message(client, make_user, make_case, login):
    handler = make_user(Role.HANDLER)
    filed = make_case(language="en")
    login(handler)
    response = staff_post(client, filed.case.reference, "messages", {"reply-body": REPLY})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/staff/cases/{filed.case.reference}#thread")
    message = db.session.scalars(select(Message)).one()
    assert message.author_kind is MessageAuthor.STAFF and message.author_id == handler.id and message.body == REPLY
    event = db.session.scalars(select(CaseEvent).where(CaseEvent.action == "message")).one()
    assert event.actor_id == handler.id
    notice = db.session.scalars(select(Notification)).one()
    assert notice.recipient == "victim@example.org"
    assert filed.case.reference in notice.subject
    assert "freeze" not in notice.body_text and "freeze" not in notice.subject
    assert filed.access_token not in notice.body_text
    assert "/track" in notice.body_text


def test_the_notice_is_written_in_the_victims_language_and_sent_through_the_outbox(
    app, make_user, make_case, smtp_server
):
    app.config.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)
    filed = make_case(language="zh_Hans_CN")
    thread.reply_to_victim(make_user(Role.HANDLER), filed.case, REPLY)
    db.session.commit()
    assert mail.send_pending() == 1
    [received] = smtp_server.messages
    body = received.get_payload(decode=True).decode()
    assert received["To"] == "victim@example.org"
    assert "案件" in body
    assert "freeze" not in body and filed.access_token not in body


def test_no_notice_when_the_victim_gave_no_email(app, make_user, make_case):
    filed = make_case()
    filed.case.reporter.email = None
    db.session.commit()
    thread.reply_to_victim(make_user(Role.HANDLER), filed.case, REPLY)
    db.session.commit()
    assert db.session.scalars(select(Notification)).all() == []
    assert db.session.scalars(select(Message)).one().body == REPLY


def test_internal_notes_are_kept_for_staff_only(client, make_user, make_case, login):
    filed = make_case()
    login(make_user(Role.SUPERVISOR))
    response = staff_post(client, filed.case.reference, "notes", {"note-body": "Possible repeat victim; check CW-2025"})
    assert response.status_code == 302
    note = db.session.scalars(select(Note)).one()
    assert note.body == "Possible repeat victim; check CW-2025"
    page = client.get(f"/staff/cases/{filed.case.reference}").get_data(as_text=True)
    assert "Possible repeat victim" in page
    assert "the victim never sees these" in page
    assert db.session.scalars(select(Message)).all() == []
    assert db.session.scalars(select(Notification)).all() == []


def test_the_staff_page_shows_the_thread_both_ways(client, make_user, make_case, login):
    from casework.services import portal

    filed = make_case()
    portal.send_victim_message(filed.case, "Any news? <b>please</b>")
    db.session.commit()
    login(make_user(Role.HANDLER))
    page = client.get(f"/staff/cases/{filed.case.reference}").get_data(as_text=True)
    assert "Any news? &lt;b&gt;please&lt;/b&gt;" in page
    assert 'name="reply-body"' in page and 'name="note-body"' in page


def test_legal_can_read_the_thread_but_not_reply_or_add_notes(client, make_user, make_case, login):
    filed = make_case()
    handler = make_user(Role.HANDLER)
    thread.reply_to_victim(handler, filed.case, REPLY)
    thread.add_note(handler, filed.case, "Exchange contact is slow")
    db.session.commit()
    login(make_user(Role.LEGAL))
    page = client.get(f"/staff/cases/{filed.case.reference}").get_data(as_text=True)
    assert REPLY in page and "Exchange contact is slow" in page
    assert 'name="reply-body"' not in page and 'name="note-body"' not in page
    assert staff_post(client, filed.case.reference, "messages", {"reply-body": "hello"}).status_code == 403
    assert staff_post(client, filed.case.reference, "notes", {"note-body": "hello"}).status_code == 403
    assert db.session.scalars(select(Message)).one().body == REPLY


def test_the_services_check_the_permission_themselves(app, make_user, make_case):
    filed = make_case()
    legal = make_user(Role.LEGAL)
    with pytest.raises(AccessDenied):
        thread.reply_to_victim(legal, filed.case, REPLY)
    with pytest.raises(AccessDenied):
        thread.add_note(legal, filed.case, "note")


def test_signed_out_visitors_cannot_post_to_the_thread(client, make_case):
    filed = make_case()
    token = csrf_token(client, "/staff/login")
    response = client.post(f"/staff/cases/{filed.case.reference}/messages",
                           data={"csrf_token": token, "reply-body": "hi"})
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    assert db.session.scalars(select(Message)).all() == []


def test_an_empty_or_secret_holding_reply_is_refused_and_the_text_kept(client, make_user, make_case, login):
    filed = make_case()
    login(make_user(Role.HANDLER))
    empty = staff_post(client, filed.case.reference, "messages", {"reply-body": "  "})
    assert empty.status_code == 422
    key = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
    secret = staff_post(client, filed.case.reference, "notes", {"note-body": f"victim's private key: {key}"})
    html = secret.get_data(as_text=True)
    assert secret.status_code == 422
    assert key not in html
    assert "victim&#39;s private key:" in html  # the rest of the text is kept for the handler
    assert db.session.scalars(select(Note)).all() == []


def test_a_reply_to_an_unknown_case_is_a_404(client, make_user, login):
    login(make_user(Role.HANDLER))
    token = csrf_token(client, "/staff/cases")
    response = client.post("/staff/cases/CW-2026-999999/messages", data={"csrf_token": token, "reply-body": "hi"})
    assert response.status_code == 404
