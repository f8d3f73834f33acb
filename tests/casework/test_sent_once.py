"""A form that is sent twice takes effect once: a double click on "Send", a browser resending a slow request, two
taps on a phone. The staff reply and note, and the victim's message and added information, carry a key per showing
of the form; a second post with it changes nothing and is answered "already sent", never with an error."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from casework.extensions import db
from casework.models import CaseEvent, EventKind, FormSubmission, Message, Note, Notification, Role, utcnow
from casework.services import submissions, thread
from casework.services.submissions import AlreadyDone
from casework.services.tokens import new_access_token
from tests.fixtures.factories import at_once

ALREADY = "That was already sent: it was not sent a second time."


def _form_fields(html: str, prefix: str) -> dict[str, str]:
    """The hidden fields (CSRF token, once key) of the form whose fields carry this prefix."""
    token = re.search(rf'name="{prefix}-csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    once = re.search(rf'name="{prefix}-once" type="hidden" value="([^"]+)"', html).group(1)
    return {f"{prefix}-csrf_token": token, f"{prefix}-once": once}


def _count(model, **where) -> int:
    query = select(func.count()).select_from(model)
    for column, value in where.items():
        query = query.where(getattr(model, column) == value)
    return db.session.scalar(query)


@pytest.mark.parametrize(("route", "prefix", "model", "kind"), [
    ("messages", "reply", Message, EventKind.MESSAGE),
    ("notes", "note", Note, EventKind.NOTE),
])
def test_a_staff_form_sent_twice_adds_one_row(client, make_case, make_user, login, route, prefix, model, kind):
    case = make_case().case
    login(make_user(Role.HANDLER))
    page = f"/staff/cases/{case.reference}"
    fields = {**_form_fields(client.get(page).get_data(as_text=True), prefix), f"{prefix}-body": "Checked the hash."}
    first = client.post(f"{page}/{route}", data=fields)
    second = client.post(f"{page}/{route}", data=fields)
    assert first.status_code == second.status_code == 302
    assert ALREADY in client.get(page).get_data(as_text=True)
    assert _count(model, case_id=case.id) == 1
    assert _count(CaseEvent, case_id=case.id, action=kind) == 1
    if model is Message:
        assert _count(Notification, case_id=case.id) == 1  # one notice to the victim


def test_each_showing_of_the_form_is_its_own_submission(client, make_case, make_user, login):
    case = make_case().case
    login(make_user(Role.HANDLER))
    page = f"/staff/cases/{case.reference}"
    for _ in range(2):
        fields = _form_fields(client.get(page).get_data(as_text=True), "note")
        assert client.post(f"{page}/notes", data={**fields, "note-body": "Same words twice."}).status_code == 302
    assert _count(Note, case_id=case.id) == 2


def test_a_refused_note_does_not_use_up_its_key(client, make_case, make_user, login):
    case = make_case().case
    login(make_user(Role.HANDLER))
    page = f"/staff/cases/{case.reference}"
    fields = _form_fields(client.get(page).get_data(as_text=True), "note")
    refused = client.post(f"{page}/notes", data={**fields, "note-body": "   "})
    assert refused.status_code == 422
    shown_again = _form_fields(refused.get_data(as_text=True), "note")
    assert shown_again["note-once"] == fields["note-once"]
    assert client.post(f"{page}/notes", data={**fields, "note-body": "Now with words."}).status_code == 302
    assert _count(Note, case_id=case.id) == 1


@pytest.mark.parametrize(("route", "prefix", "field", "count"), [
    ("messages", "message", "body", lambda case: _count(Message, case_id=case.id)),
    ("information", "info", "text",
     lambda case: _count(CaseEvent, case_id=case.id, action=EventKind.INFORMATION_ADDED)),
])
def test_a_victim_form_sent_twice_adds_once(client, make_case, route, prefix, field, count):
    case = make_case().case
    token, case.access_token_hash = new_access_token()
    db.session.commit()
    assert client.get(f"/track/{case.reference}/{token}").status_code == 302
    page = f"/track/{case.reference}"
    fields = {**_form_fields(client.get(page).get_data(as_text=True), prefix), f"{prefix}-{field}": "They wrote again."}
    assert client.post(f"{page}/{route}", data=fields).status_code == 302
    assert client.post(f"{page}/{route}", data=fields).status_code == 302
    assert ALREADY in client.get(page).get_data(as_text=True)
    assert count(case) == 1


def test_two_posts_of_one_key_at_the_same_moment_add_one_note(app, make_case, make_user):
    case_id = make_case().case.id
    handler_id = make_user(Role.HANDLER).id

    def add() -> str:
        from casework.models import Case, User

        try:
            thread.add_note(db.session.get(User, handler_id), db.session.get(Case, case_id), "Seen.", once="k" * 24)
        except AlreadyDone:
            db.session.rollback()
            return "already"
        return "added"

    assert sorted(at_once(app, add, 2)) == ["added", "already"]
    db.session.expire_all()
    assert _count(Note, case_id=case_id) == 1


def test_a_call_without_a_key_is_not_deduplicated(make_case, make_user):
    case, handler = make_case().case, make_user(Role.HANDLER)
    thread.add_note(handler, case, "From the API.")
    thread.add_note(handler, case, "From the API.")
    db.session.commit()
    assert _count(Note, case_id=case.id) == 2


def test_old_keys_are_purged(make_case, make_user):
    case, handler = make_case().case, make_user(Role.HANDLER)
    thread.add_note(handler, case, "Seen.", once="old-key")
    db.session.commit()
    assert submissions.purge_old_keys(now=utcnow() + timedelta(days=1)) == 0
    assert submissions.purge_old_keys(now=utcnow() + timedelta(days=3)) == 1
    db.session.commit()
    assert _count(FormSubmission) == 0
