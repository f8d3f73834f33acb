"""A victim who lost their private link gets a new one at the e-mail address on file; the old one stops working."""

from __future__ import annotations

import re

from sqlalchemy import select

from casework.extensions import db
from casework.models import CaseEvent, Notification
from casework.services import mail
from tests.fixtures.factories import csrf_token

PUBLIC = "https://casework.example.org"
SAME_ANSWER = "If this reference and e-mail address belong to a case, a new private link is on its way"


def ask(client, reference: str, email: str, **kwargs):
    token = csrf_token(client, "/track/new-link")
    return client.post("/track/new-link", data={"reference": reference, "email": email, "csrf_token": token},
                       follow_redirects=True, **kwargs)


def answer_of(response) -> str:
    """The page's main text without what differs between any two requests (the CSRF token)."""
    html = response.get_data(as_text=True)
    return re.sub(r'value="[^"]{20,}"', "", html)


def received_links(smtp_server) -> list[str]:
    bodies = [message.get_payload(decode=True).decode() for message in smtp_server.messages]
    return [link for body in bodies for link in re.findall(rf"{re.escape(PUBLIC)}/track/\S+", body)]


def test_the_home_page_and_the_tracking_page_lead_to_a_case_and_a_new_link(client):
    assert 'href="/track"' in client.get("/").get_data(as_text=True)
    assert 'href="/track/new-link"' in client.get("/track").get_data(as_text=True)


def test_a_new_link_arrives_by_e_mail_and_the_old_one_stops_working(app, client, make_case, smtp_server):
    app.config.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port, PUBLIC_URL=PUBLIC)
    filed = make_case(language="en")
    reference, old_token = filed.reference, filed.access_token
    db.session.execute(Notification.__table__.delete())  # the confirmation of the filing is not under test
    db.session.commit()
    # A device that opened the case with the old link.
    other_device = app.test_client()
    assert other_device.get(f"/track/{reference}/{old_token}").headers["Location"] == f"/track/{reference}"
    assert other_device.get(f"/track/{reference}").status_code == 200

    response = ask(client, reference.lower(), " Victim@Example.org ")
    assert response.status_code == 200 and SAME_ANSWER in response.get_data(as_text=True)
    assert mail.send_pending() == 1
    (link,) = received_links(smtp_server)
    assert smtp_server.messages[0]["To"] == "victim@example.org"
    assert reference in smtp_server.messages[0]["Subject"]

    assert client.get(link.removeprefix(PUBLIC)).headers["Location"] == f"/track/{reference}"
    assert client.get(f"/track/{reference}").status_code == 200
    refused = client.get(f"/track/{reference}/{old_token}")
    assert refused.headers["Location"].startswith("/track?reference=")
    # The session opened with the old link no longer opens the case either, nor lists it.
    assert other_device.get(f"/track/{reference}").status_code == 302
    assert reference not in other_device.get("/track").get_data(as_text=True)
    db.session.expire_all()
    (event,) = db.session.scalars(select(CaseEvent).where(CaseEvent.action == "access_link_replaced"))
    assert event.actor_label == "victim" and old_token not in str(event.data)
    timeline = client.get(f"/track/{reference}").get_data(as_text=True)
    assert "A new private link was sent to your e-mail address" in timeline


def test_an_unknown_reference_or_another_address_gets_the_same_answer_and_no_mail(app, client, make_case,
                                                                                   smtp_server):
    app.config.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port, PUBLIC_URL=PUBLIC)
    filed = make_case()
    db.session.execute(Notification.__table__.delete())
    db.session.commit()
    answers = [
        answer_of(ask(client, "CW-2026-999999", "victim@example.org")),
        answer_of(ask(client, filed.reference, "someone.else@example.org")),
    ]
    assert SAME_ANSWER in answers[0] and answers[0] == answers[1]
    assert mail.send_pending() == 0 and smtp_server.messages == []
    still_works = app.test_client().get(f"/track/{filed.reference}/{filed.access_token}")
    assert still_works.headers["Location"] == f"/track/{filed.reference}"
    matched = answer_of(ask(client, filed.reference, "victim@example.org"))
    assert matched == answers[0]


def test_requests_for_one_reference_are_limited_from_any_address(app, client, make_case, smtp_server):
    app.config.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port, PUBLIC_URL=PUBLIC)
    filed = make_case(language="en")
    limit = int(app.config["TRACK_NEW_LINK_REFERENCE_RATE_LIMIT"].split()[0])
    for attempt in range(limit):
        assert ask(client, filed.reference, "victim@example.org",
                   environ_base={"REMOTE_ADDR": f"10.0.0.{attempt + 1}"}).status_code == 200
    blocked = ask(client, filed.reference, "victim@example.org", environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert blocked.status_code == 429
    # The same limit holds for a reference nobody filed, so the limit says nothing about existence either.
    for attempt in range(limit):
        ask(client, "CW-2026-999999", "victim@example.org", environ_base={"REMOTE_ADDR": f"10.0.1.{attempt + 1}"})
    assert ask(client, "CW-2026-999999", "victim@example.org",
               environ_base={"REMOTE_ADDR": "192.0.2.9"}).status_code == 429
    links_queued = db.session.scalars(select(Notification).where(Notification.subject.like("%new private link%")))
    assert len(links_queued.all()) == limit


def test_requests_from_one_address_are_limited(app, client, make_case):
    cases = [make_case() for _ in range(2)]
    limit = int(app.config["TRACK_NEW_LINK_RATE_LIMIT"].split()[0])
    for attempt in range(limit):
        assert ask(client, cases[attempt % 2].reference, f"nobody{attempt}@example.org").status_code == 200
    assert ask(client, "CW-2026-999998", "nobody@example.org").status_code == 429


def test_the_form_needs_its_csrf_token(client, make_case):
    filed = make_case(language="en")
    response = client.post("/track/new-link", data={"reference": filed.reference, "email": "victim@example.org"})
    assert response.status_code == 400
    assert db.session.scalars(select(Notification).where(Notification.subject.like("%new private link%"))).all() == []


def test_the_new_link_is_written_in_the_victims_language(client, make_case):
    filed = make_case(language="zh_Hans_CN")
    ask(client, filed.reference, "victim@example.org")
    sent = db.session.scalars(select(Notification).where(Notification.subject.like("%新专属链接%"))).one()
    assert "您之前的链接已失效" in sent.body_text and f"/track/{filed.reference}/" in sent.body_text
