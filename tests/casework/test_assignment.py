"""Who works a case: taking an unassigned case (once, even when two handlers take it at the same moment),
a supervisor assigning and reassigning with a reason, the assignee's e-mail, and the forms on the case page."""

from __future__ import annotations

import re
from email.header import decode_header, make_header

import pytest
from sqlalchemy import select

from casework.extensions import db
from casework.models import Case, CaseEvent, CaseStatus, EventKind, Notification, Role, Task, User
from casework.services import mail
from casework.services.access import AccessDenied
from casework.services.assignment import assign_case, take_case
from casework.services.workflow import WorkflowError
from tests.fixtures.factories import at_once

pytestmark = pytest.mark.usefixtures("task_templates")
S = CaseStatus


def assigned_events(case: Case) -> list[CaseEvent]:
    return list(db.session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.action == EventKind.ASSIGNED).order_by(CaseEvent.id)))


def named(make_user, role: Role, name: str, language: str | None = None) -> User:
    user = make_user(role)
    user.display_name, user.preferred_language = name, language
    db.session.commit()
    return user


def _page_form(client, reference: str, prefix: str) -> dict:
    """The hidden fields of one form of the case page (its CSRF token and what the page showed)."""
    html = client.get(f"/staff/cases/{reference}").get_data(as_text=True)
    fields = dict(re.findall(rf'name="({prefix}-[a-z_]+)" type="hidden" value="([^"]*)"', html))
    assert f"{prefix}-csrf_token" in fields, f"no {prefix} form on the page"
    return fields


# Taking a case


def test_taking_a_submitted_case_assigns_it_moves_it_to_triage_and_adds_the_checklist(app, make_case, make_user):
    handler = named(make_user, Role.HANDLER, "Wang Fang")
    case = make_case().case
    take_case(handler, case, expected_handler_id=None)
    db.session.commit()
    db.session.expire_all()
    assert case.assigned_handler_id == handler.id and case.status is S.TRIAGE
    [event] = assigned_events(case)
    assert event.actor_id == handler.id and event.data["before"] is None and event.data["after"] == "Wang Fang"
    status = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                        CaseEvent.action == EventKind.STATUS)).one()
    assert status.data["after"] == "triage" and "Wang Fang" in status.data["reason"]
    titles = [t.title for t in db.session.scalars(select(Task).where(Task.case_id == case.id).order_by(Task.position))]
    assert titles[0] == "Confirm the approval and the drain on-chain" and len(titles) == 5
    assert "Tell the victim to revoke their approvals" in titles
    # Nobody is e-mailed about taking a case oneself (the victim is told nothing by a move to triage either).
    assert [n.recipient for n in db.session.scalars(select(Notification))] == []


def test_taking_a_case_someone_holds_is_refused_with_who_holds_it(app, make_case, make_user):
    first, second = named(make_user, Role.HANDLER, "Wang Fang"), make_user(Role.HANDLER)
    case = make_case().case
    take_case(first, case, expected_handler_id=None)
    db.session.commit()
    with pytest.raises(WorkflowError, match="Wang Fang already holds this case"):
        take_case(second, case, expected_handler_id=None)
    db.session.rollback()
    with pytest.raises(WorkflowError, match="You already hold this case"):
        take_case(first, case, expected_handler_id=first.id)
    db.session.rollback()
    assert db.session.get(Case, case.id).assigned_handler_id == first.id and len(assigned_events(case)) == 1


def test_two_handlers_taking_at_once_one_gets_it(app, make_case, make_user):
    handler_ids = [make_user(Role.HANDLER).id for _ in range(2)]
    reference = make_case().case.reference
    turn = iter(handler_ids)

    def take() -> str:
        actor = db.session.get(User, next(turn))
        case = db.session.scalar(select(Case).where(Case.reference == reference))
        try:
            take_case(actor, case, expected_handler_id=None)
        except WorkflowError as error:
            return error.message
        return "taken"

    outcomes = at_once(app, take, 2)
    [refused] = [outcome for outcome in outcomes if outcome != "taken"]
    assert "already holds this case" in refused or "Someone else changed" in refused
    db.session.expire_all()
    case = db.session.scalar(select(Case))
    assert case.assigned_handler_id in handler_ids and case.status is S.TRIAGE
    assert len(assigned_events(case)) == 1
    assert len(db.session.scalars(select(Task).where(Task.case_id == case.id)).all()) == 5


def test_a_legal_user_cannot_take_a_case(app, make_case, make_user):
    case = make_case().case
    with pytest.raises(AccessDenied):
        take_case(make_user(Role.LEGAL), case, expected_handler_id=None)


# A supervisor assigns


def test_a_supervisor_assigns_and_reassigns_with_a_reason(app, make_case, make_user):
    supervisor = named(make_user, Role.SUPERVISOR, "Chen Jing")
    first, second = named(make_user, Role.HANDLER, "Wang Fang"), named(make_user, Role.HANDLER, "Zhao Lei")
    case = make_case().case
    assign_case(supervisor, case, first, reason="", expected_handler_id=None)
    db.session.commit()
    with pytest.raises(WorkflowError, match="Give a reason for the reassignment"):
        assign_case(supervisor, case, second, reason="  ", expected_handler_id=first.id)
    db.session.rollback()
    assign_case(supervisor, case, second, reason="Wang Fang is on leave", expected_handler_id=first.id)
    db.session.commit()
    db.session.expire_all()
    assert case.assigned_handler_id == second.id
    data = [event.data for event in assigned_events(case)]
    assert [(d["before"], d["after"], d["reason"]) for d in data] == [
        (None, "Wang Fang", ""), ("Wang Fang", "Zhao Lei", "Wang Fang is on leave")]
    # Assigning does not move the status; the checklist is added once.
    assert case.status is S.SUBMITTED
    assert len(db.session.scalars(select(Task).where(Task.case_id == case.id)).all()) == 5
    assert sorted(n.recipient for n in db.session.scalars(select(Notification))) == sorted([first.email, second.email])


def test_unassigning_needs_a_reason_and_tells_nobody(app, make_case, make_user):
    supervisor, handler = make_user(Role.SUPERVISOR), named(make_user, Role.HANDLER, "Wang Fang")
    case = make_case().case
    take_case(handler, case, expected_handler_id=None)
    db.session.commit()
    assign_case(supervisor, case, None, reason="back to the queue", expected_handler_id=handler.id)
    db.session.commit()
    assert db.session.get(Case, case.id).assigned_handler_id is None
    assert assigned_events(case)[-1].data["after"] is None
    assert db.session.scalars(select(Notification)).all() == []


@pytest.mark.parametrize("role", [Role.HANDLER, Role.LEGAL])
def test_assigning_is_refused_to_handlers_and_legal_users(app, make_case, make_user, role):
    case = make_case().case
    with pytest.raises(AccessDenied):
        assign_case(make_user(role), case, make_user(Role.HANDLER), reason="", expected_handler_id=None)


@pytest.mark.parametrize("who", ["legal", "inactive", "admin"])
def test_only_an_active_handler_or_supervisor_can_be_assigned(app, make_case, make_user, who):
    target = make_user({"legal": Role.LEGAL, "inactive": Role.HANDLER, "admin": Role.ADMIN}[who])
    if who == "inactive":
        target.active = False
        db.session.commit()
    case = make_case().case
    with pytest.raises(WorkflowError, match="Choose an active handler or supervisor"):
        assign_case(make_user(Role.SUPERVISOR), case, target, reason="", expected_handler_id=None)


def test_a_stale_assignment_is_refused_and_nothing_is_overwritten(app, make_case, make_user):
    supervisor, first, second = make_user(Role.SUPERVISOR), named(make_user, Role.HANDLER, "Wang Fang"), make_user()
    case = make_case().case
    take_case(first, case, expected_handler_id=None)
    db.session.commit()
    # The supervisor's page showed the case unassigned.
    with pytest.raises(WorkflowError, match="it is now held by Wang Fang"):
        assign_case(supervisor, case, second, reason="", expected_handler_id=None)
    db.session.rollback()
    assert db.session.get(Case, case.id).assigned_handler_id == first.id


def test_the_assignee_is_emailed_in_their_language_through_smtp(app, make_case, make_user, smtp_server):
    app.config.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port, PUBLIC_URL="https://cases.example")
    supervisor = named(make_user, Role.SUPERVISOR, "Chen Jing")
    handler = named(make_user, Role.HANDLER, "Wang Fang", language="zh_Hans_CN")
    case = make_case().case
    assign_case(supervisor, case, handler, reason="你会说中文", expected_handler_id=None)
    db.session.commit()
    assert mail.send_pending() == 1
    [received] = smtp_server.messages
    subject = str(make_header(decode_header(received["Subject"])))
    assert received["To"] == handler.email and case.reference in subject and "分配给您" in subject
    body = received.get_payload(decode=True).decode()
    assert f"https://cases.example/staff/cases/{case.reference}" in body and "你会说中文" in body
    assert "Chen Jing" in body


# The forms on the case page


def test_a_handler_sees_take_this_case_only_while_nobody_holds_it(client, make_case, make_user, login):
    handler = make_user(Role.HANDLER)
    filed = make_case()
    login(handler)
    page = f"/staff/cases/{filed.case.reference}"
    html = client.get(page).get_data(as_text=True)
    assert "Take this case" in html and 'name="assign-handler"' not in html
    form = _page_form(client, filed.case.reference, "take")
    response = client.post(f"{page}/take", data=form)
    assert response.status_code == 302 and response.headers["Location"].endswith("#assignment")
    html = client.get(page).get_data(as_text=True)
    assert "Take this case" not in html and "You hold this case now." in html
    assert "Confirm the approval and the drain on-chain" in html


def test_a_double_submitted_take_applies_once(client, make_case, make_user, login):
    handler = make_user(Role.HANDLER)
    filed = make_case()
    login(handler)
    form = _page_form(client, filed.case.reference, "take")
    assert client.post(f"/staff/cases/{filed.case.reference}/take", data=form).status_code == 302
    again = client.post(f"/staff/cases/{filed.case.reference}/take", data=form)
    assert again.status_code == 422 and "You already hold this case." in again.get_data(as_text=True)
    assert len(assigned_events(filed.case)) == 1
    assert len(db.session.scalars(select(Task).where(Task.case_id == filed.case.id)).all()) == 5


def test_a_take_form_loaded_before_someone_else_took_the_case_is_refused(client, make_case, make_user, login):
    handler, other = make_user(Role.HANDLER), named(make_user, Role.HANDLER, "Zhao Lei")
    filed = make_case()
    login(handler)
    form = _page_form(client, filed.case.reference, "take")
    take_case(other, filed.case, expected_handler_id=None)
    db.session.commit()
    response = client.post(f"/staff/cases/{filed.case.reference}/take", data=form)
    assert response.status_code == 422 and "Zhao Lei already holds this case" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Case, filed.case.id).assigned_handler_id == other.id


def test_a_supervisor_reassigns_through_the_form_and_a_stale_form_is_refused(client, make_case, make_user, login):
    supervisor = make_user(Role.SUPERVISOR)
    first, second = named(make_user, Role.HANDLER, "Wang Fang"), named(make_user, Role.HANDLER, "Zhao Lei")
    filed = make_case()
    take_case(first, filed.case, expected_handler_id=None)
    db.session.commit()
    login(supervisor)
    reference = filed.case.reference
    form = _page_form(client, reference, "assign")
    assert form["assign-expected_handler"] == str(first.id)
    post = {**form, "assign-handler": str(second.id), "assign-reason": ""}
    refused = client.post(f"/staff/cases/{reference}/assign", data=post)
    assert refused.status_code == 422 and "Give a reason for the reassignment." in refused.get_data(as_text=True)
    post["assign-reason"] = "Zhao Lei reads Chinese"
    assert client.post(f"/staff/cases/{reference}/assign", data=post).status_code == 302
    db.session.expire_all()
    assert db.session.get(Case, filed.case.id).assigned_handler_id == second.id
    # The same form again (loaded while Wang Fang held the case) is stale now.
    stale = client.post(f"/staff/cases/{reference}/assign", data={**post, "assign-handler": str(first.id)})
    assert stale.status_code == 422 and "it is now held by Zhao Lei" in stale.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Case, filed.case.id).assigned_handler_id == second.id
    assert len(assigned_events(filed.case)) == 2


@pytest.mark.parametrize("role", [Role.HANDLER, Role.LEGAL])
def test_the_assign_form_is_not_shown_and_a_post_is_refused(client, make_case, make_user, login, role):
    filed = make_case()
    target = make_user(Role.HANDLER)
    login(make_user(role))
    page = f"/staff/cases/{filed.case.reference}"
    html = client.get(page).get_data(as_text=True)
    assert 'name="assign-handler"' not in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    for handler in (str(target.id), "not-a-number", "none"):
        response = client.post(f"{page}/assign", data={"assign-csrf_token": token, "assign-expected_handler": "x",
                                                       "assign-handler": handler})
        assert response.status_code == 403, handler
    assert db.session.get(Case, filed.case.id).assigned_handler_id is None


def test_a_legal_user_gets_no_take_button_and_a_take_is_refused(client, make_case, make_user, login):
    filed = make_case()
    login(make_user(Role.LEGAL))
    page = f"/staff/cases/{filed.case.reference}"
    html = client.get(page).get_data(as_text=True)
    assert "Take this case" not in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    for expected in ("", "not-a-number"):
        response = client.post(f"{page}/take", data={"take-csrf_token": token, "take-expected_handler": expected})
        assert response.status_code == 403
    assert db.session.get(Case, filed.case.id).assigned_handler_id is None


def test_an_unknown_handler_in_the_form_is_a_clear_refusal(client, make_case, make_user, login):
    filed = make_case()
    login(make_user(Role.SUPERVISOR))
    form = _page_form(client, filed.case.reference, "assign")
    for value in ("999999", "not-a-number"):
        response = client.post(f"/staff/cases/{filed.case.reference}/assign",
                               data={**form, "assign-handler": value})
        assert response.status_code == 422 and "Choose a handler from the list." in response.get_data(as_text=True)
