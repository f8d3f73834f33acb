"""A case's tasks: added, done and reopened (each logged once), the checklist per incident type (added once, in the
reader's language), the admin's template editing, and closing a case while tasks are open."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from casework.extensions import db
from casework.models import (
    Case,
    CaseEvent,
    CaseStatus,
    EventKind,
    IncidentType,
    Resolution,
    Role,
    Task,
    TaskTemplateItem,
    utcnow,
)
from casework.services import tasks, workflow
from casework.services.access import AccessDenied
from casework.services.assignment import take_case
from casework.services.portal import PortalError
from casework.services.workflow import WorkflowError, transition_case
from tests.fixtures.factories import PASSWORD, csrf_token

pytestmark = pytest.mark.usefixtures("task_templates")
S = CaseStatus
SUMMARY = "We recovered part of your USDT; the rest had already moved on."
CLOSING = {"resolution": Resolution.PARTIALLY_RECOVERED, "victim_summary": SUMMARY}


def task_events(case: Case) -> list[dict]:
    return [e.data for e in db.session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.action == EventKind.TASK).order_by(CaseEvent.id))]


def case_tasks(case: Case) -> list[Task]:
    return list(db.session.scalars(select(Task).where(Task.case_id == case.id).order_by(Task.position)))


def _hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" (?:type="hidden" )?value="([^"]+)"', html).group(1)


# The service


def test_a_task_is_added_done_and_reopened_each_change_logged(app, make_case, make_user):
    handler, colleague = make_user(Role.HANDLER), make_user(Role.HANDLER)
    case = make_case().case
    due = utcnow().date() + timedelta(days=2)
    task = tasks.add_task(handler, case, "  Call the exchange's compliance desk ", colleague.id, due)
    db.session.commit()
    assert (task.title, task.assignee_id, task.due_on, task.created_by_id) == (
        "Call the exchange's compliance desk", colleague.id, due, handler.id)
    tasks.complete_task(colleague, case, task.id)
    db.session.commit()
    assert task.done_at is not None and task.done_by_id == colleague.id
    with pytest.raises(WorkflowError, match="is already done"):
        tasks.complete_task(handler, case, task.id)
    db.session.rollback()
    tasks.reopen_task(handler, case, task.id)
    db.session.commit()
    assert task.done_at is None and task.done_by_id is None
    with pytest.raises(WorkflowError, match="is already open"):
        tasks.reopen_task(handler, case, task.id)
    db.session.rollback()
    assert [(d["change"], d["title"], d["task_id"]) for d in task_events(case)] == [
        ("added", "Call the exchange's compliance desk", task.id), ("done", "Call the exchange's compliance desk",
                                                                    task.id),
        ("reopened", "Call the exchange's compliance desk", task.id)]


def test_the_same_open_task_is_not_added_twice(app, make_case, make_user):
    handler = make_user(Role.HANDLER)
    case = make_case().case
    tasks.add_task(handler, case, "Ask for screenshots", None, None)
    db.session.commit()
    with pytest.raises(WorkflowError, match="already has an open task"):
        tasks.add_task(handler, case, "Ask for screenshots", None, None)
    db.session.rollback()
    assert len(case_tasks(case)) == 1


@pytest.mark.parametrize(("title", "message"), [
    ("", "Write something first."),
    ("x" * 201, "At most 200 characters; you wrote 201."),
    ("my seed: " + " ".join(["abandon"] * 11 + ["about"]), "recovery phrase"),
])
def test_a_bad_title_is_refused(app, make_case, make_user, title, message):
    handler = make_user(Role.HANDLER)
    case = make_case().case
    with pytest.raises(PortalError) as refused:
        tasks.add_task(handler, case, title, None, None)
    assert message in refused.value.message
    db.session.rollback()
    assert case_tasks(case) == []


def test_a_task_can_only_be_given_to_an_active_handler_or_supervisor(app, make_case, make_user):
    handler = make_user(Role.HANDLER)
    case = make_case().case
    with pytest.raises(WorkflowError, match="Choose an active handler or supervisor"):
        tasks.add_task(handler, case, "Check the bridge", make_user(Role.LEGAL).id, None)


def test_a_legal_user_changes_no_task(app, make_case, make_user):
    handler, legal = make_user(Role.HANDLER), make_user(Role.LEGAL)
    case = make_case().case
    task = tasks.add_task(handler, case, "Trace", None, None)
    db.session.commit()
    for change in (lambda: tasks.add_task(legal, case, "Mine", None, None),
                   lambda: tasks.complete_task(legal, case, task.id), lambda: tasks.add_checklist(legal, case)):
        with pytest.raises(AccessDenied):
            change()


def test_the_checklist_is_added_once_in_template_order_with_due_dates(app, make_case, make_user):
    handler = make_user(Role.HANDLER)
    case = make_case(incident_type=IncidentType.LEAKED_SECRET).case
    added = tasks.add_checklist(handler, case)
    db.session.commit()
    assert [t.title for t in added] == [
        "Tell the victim to move what is left to a new wallet", "Confirm the drain on-chain", "Trace the funds",
        "Identify the receiving exchange", "Send freeze requests"]
    assert added[0].due_on == case.submitted_at.date() and added[-1].due_on == (case.submitted_at
                                                                                + timedelta(days=2)).date()
    assert tasks.add_checklist(handler, case) == []
    db.session.commit()
    assert len(case_tasks(case)) == 5 and len(task_events(case)) == 5


@pytest.mark.parametrize("kind", list(IncidentType))
def test_every_incident_type_has_a_shipped_checklist(app, make_case, make_user, kind):
    items = db.session.scalars(select(TaskTemplateItem).where(TaskTemplateItem.incident_type == kind)).all()
    assert len(items) >= 3 and all(item.key and item.title is None for item in items)
    assert all(item.display_title != item.key for item in items)  # every shipped key has its words


def test_the_section_lists_open_tasks_first_and_marks_the_overdue(app, make_case, make_user):
    handler = make_user(Role.HANDLER)
    case = make_case().case
    late = tasks.add_task(handler, case, "Late one", handler.id, utcnow().date() - timedelta(days=1))
    finished = tasks.add_task(handler, case, "Finished", None, utcnow().date() - timedelta(days=3))
    tasks.add_task(handler, case, "Later", None, utcnow().date() + timedelta(days=3))
    db.session.flush()
    tasks.complete_task(handler, case, finished.id)
    db.session.commit()
    section = tasks.task_section(handler, case)
    assert [(t.title, t.overdue, t.done) for t in section.tasks] == [
        ("Late one", True, False), ("Later", False, False), ("Finished", False, True)]
    assert section.open_count == 2 and section.tasks[0].assignee == handler.display_name and section.can_work
    assert late.id == section.tasks[0].id
    assert not tasks.task_section(make_user(Role.LEGAL), case).can_work


# Closing with open tasks


def test_closing_warns_about_open_tasks_until_confirmed(app, make_case, make_user):
    handler = make_user(Role.HANDLER)
    case = make_case().case
    take_case(handler, case, expected_handler_id=None)
    db.session.commit()
    assert workflow.status_options(handler, case).open_tasks == 5
    with pytest.raises(WorkflowError, match="5 open tasks. Confirm that you want to close it anyway"):
        transition_case(case, S.CLOSED, actor=handler, reason="done", **CLOSING)
    db.session.rollback()
    # Confirming the referrals does not confirm the tasks.
    with pytest.raises(WorkflowError, match="5 open tasks"):
        transition_case(case, S.CLOSED, actor=handler, reason="done", confirm_open_referrals=True, **CLOSING)
    db.session.rollback()
    transition_case(case, S.CLOSED, actor=handler, reason="done", confirm_open_tasks=True, **CLOSING)
    db.session.commit()
    assert case.status is S.CLOSED
    with pytest.raises(WorkflowError, match="closed"):
        tasks.add_task(handler, case, "After the end", None, None)


def test_closing_with_every_task_done_needs_no_confirmation(app, make_case, make_user):
    handler = make_user(Role.HANDLER)
    case = make_case().case
    take_case(handler, case, expected_handler_id=None)
    for task in case_tasks(case):
        tasks.complete_task(handler, case, task.id)
    transition_case(case, S.CLOSED, actor=handler, reason="done", **CLOSING)
    db.session.commit()
    assert case.status is S.CLOSED


def test_the_status_form_lists_open_tasks_and_closes_with_one_confirmation(client, make_case, make_user, login):
    handler = make_user(Role.HANDLER)
    filed = make_case()
    take_case(handler, filed.case, expected_handler_id=None)
    db.session.commit()
    login(handler)
    page = f"/staff/cases/{filed.case.reference}"
    html = client.get(page).get_data(as_text=True)
    assert "This case has 5 open tasks" in html and 'name="status-confirm_open_work"' in html
    form = {"status-csrf_token": _hidden(html, "status-csrf_token"), "status-current": "triage",
            "status-to": "closed", "status-reason": "the exchange answered", "status-resolution":
            "partially_recovered", "status-victim_summary": SUMMARY}
    refused = client.post(f"{page}/status", data=form)
    assert refused.status_code == 422 and "5 open tasks. Confirm" in refused.get_data(as_text=True)
    assert db.session.get(Case, filed.case.id).status is S.TRIAGE
    done = client.post(f"{page}/status", data={**form, "status-confirm_open_work": "y"})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Case, filed.case.id).status is S.CLOSED


# The case page's task forms


def test_tasks_are_added_and_done_through_the_case_page(client, make_case, make_user, login):
    handler = make_user(Role.HANDLER)
    filed = make_case()
    login(handler)
    page = f"/staff/cases/{filed.case.reference}"
    html = client.get(page).get_data(as_text=True)
    form = {"task-csrf_token": _hidden(html, "task-csrf_token"), "task-title": "Ask the victim for the chat log",
            "task-assignee": str(handler.id), "task-due_on": "2030-01-31"}
    first = client.post(f"{page}/tasks", data=form)
    assert first.status_code == 302 and first.headers["Location"].endswith("#tasks")
    again = client.post(f"{page}/tasks", data=form)
    assert again.status_code == 422 and "already has an open task" in again.get_data(as_text=True)
    [task] = case_tasks(filed.case)
    assert task.due_on.isoformat() == "2030-01-31" and task.assignee_id == handler.id
    html = client.get(page).get_data(as_text=True)
    assert "Ask the victim for the chat log" in html and "due 2030-01-31" in html
    token = _hidden(html, "state-csrf_token")
    assert client.post(f"{page}/tasks/{task.id}/done", data={"state-csrf_token": token}).status_code == 302
    twice = client.post(f"{page}/tasks/{task.id}/done", data={"state-csrf_token": token})
    assert twice.status_code == 422 and "is already done" in twice.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Task, task.id).done_by_id == handler.id
    assert client.post(f"{page}/tasks/{task.id}/reopen", data={"state-csrf_token": token}).status_code == 302
    assert [d["change"] for d in task_events(filed.case)] == ["added", "done", "reopened"]


def test_a_bad_due_date_is_a_clear_refusal(client, make_case, make_user, login):
    handler = make_user(Role.HANDLER)
    filed = make_case()
    login(handler)
    page = f"/staff/cases/{filed.case.reference}"
    token = _hidden(client.get(page).get_data(as_text=True), "task-csrf_token")
    response = client.post(f"{page}/tasks", data={"task-csrf_token": token, "task-title": "x", "task-due_on": "31/31"})
    assert response.status_code == 422 and case_tasks(filed.case) == []


def test_another_cases_task_is_not_found(client, make_case, make_user, login):
    handler = make_user(Role.HANDLER)
    mine, other = make_case(), make_case()
    task = tasks.add_task(handler, other.case, "Theirs", None, None)
    db.session.commit()
    login(handler)
    page = f"/staff/cases/{mine.case.reference}"
    token = _hidden(client.get(page).get_data(as_text=True), "task-csrf_token")
    assert client.post(f"{page}/tasks/{task.id}/done", data={"state-csrf_token": token}).status_code == 404
    assert db.session.get(Task, task.id).done_at is None


def test_a_legal_user_sees_tasks_but_no_task_form_and_a_post_is_refused(client, make_case, make_user, login):
    handler = make_user(Role.HANDLER)
    filed = make_case()
    task = tasks.add_task(handler, filed.case, "Trace the USDT", None, None)
    db.session.commit()
    login(make_user(Role.LEGAL))
    page = f"/staff/cases/{filed.case.reference}"
    html = client.get(page).get_data(as_text=True)
    assert "Trace the USDT" in html and 'name="task-title"' not in html and "Mark done" not in html
    token = csrf_token(client, page)
    for assignee in ("", "not-a-number"):
        assert client.post(f"{page}/tasks", data={"task-csrf_token": token, "task-title": "x",
                                                  "task-assignee": assignee}).status_code == 403
    assert client.post(f"{page}/tasks/{task.id}/done", data={"state-csrf_token": token}).status_code == 403
    assert len(case_tasks(filed.case)) == 1 and db.session.get(Task, task.id).done_at is None


def test_a_chinese_handler_reads_the_shipped_checklist_in_chinese(client, make_case, make_user, login):
    handler = make_user(Role.HANDLER)
    filed = make_case()
    take_case(handler, filed.case, expected_handler_id=None)
    db.session.commit()
    login(handler)
    html = client.get(f"/staff/cases/{filed.case.reference}", headers={"Accept-Language": "zh-CN"}).get_data(
        as_text=True)
    assert "追踪资金" in html and "Trace the funds" not in html
    assert "追踪资金：已添加" in html  # the timeline too


# The admin's templates


def _admin_page(client) -> str:
    response = client.get("/staff/admin/task-templates")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.HANDLER, Role.SUPERVISOR, Role.LEGAL])
def test_only_admins_edit_the_templates(client, make_user, login, role):
    item = db.session.scalars(select(TaskTemplateItem)).first()
    login(make_user(role))
    assert client.get("/staff/admin/task-templates").status_code == 403
    token = csrf_token(client, "/staff/cases")
    assert client.post("/staff/admin/task-templates", data={
        "add-csrf_token": token, "add-incident_type": "other", "add-title": "Mine"}).status_code == 403
    assert client.post(f"/staff/admin/task-templates/{item.id}", data={
        f"item{item.id}-csrf_token": token, f"item{item.id}-title": "Mine"}).status_code == 403
    assert client.post(f"/staff/admin/task-templates/{item.id}/active", data={
        "csrf_token": token, "active": "0"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(TaskTemplateItem, item.id).title is None and db.session.get(TaskTemplateItem, item.id).active


def test_an_admin_adds_edits_and_deactivates_items_and_new_checklists_follow(client, make_case, make_user, login):
    admin, handler = make_user(Role.ADMIN), make_user(Role.HANDLER)
    login(admin)
    html = _admin_page(client)
    assert "Approval or permit phishing" in html and "Confirm the approval and the drain on-chain" in html
    token = _hidden(html, "add-csrf_token")
    added = client.post("/staff/admin/task-templates", data={
        "add-csrf_token": token, "add-incident_type": "approval_phishing", "add-title": "Check the revoke.cash page",
        "add-due_days": "3"})
    assert added.status_code == 302
    items = {i.key or i.title: i for i in db.session.scalars(select(TaskTemplateItem).where(
        TaskTemplateItem.incident_type == IncidentType.APPROVAL_PHISHING))}
    trace, revoke = items["trace_funds"], items["tell_revoke_approvals"]
    edited = client.post(f"/staff/admin/task-templates/{trace.id}", data={
        f"item{trace.id}-csrf_token": token, f"item{trace.id}-title": "Trace with the in-house tool",
        f"item{trace.id}-due_days": "0", f"item{trace.id}-position": "1"})
    assert edited.status_code == 302
    assert client.post(f"/staff/admin/task-templates/{revoke.id}/active",
                       data={"csrf_token": token, "active": "0"}).status_code == 302
    case = make_case().case
    titles = [t.title for t in tasks.add_checklist(handler, case)]
    db.session.commit()
    assert "Trace with the in-house tool" in titles and "Trace the funds" not in titles
    assert titles[-1] == "Check the revoke.cash page" and "Tell the victim to revoke their approvals" not in titles
    # An admin's own title is shown as written, in every language; clearing it brings the shipped one back.
    html = client.get(f"/staff/cases/{case.reference}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Trace with the in-house tool" in html
    assert client.post(f"/staff/admin/task-templates/{trace.id}", data={
        f"item{trace.id}-csrf_token": token, f"item{trace.id}-title": "", f"item{trace.id}-due_days": "1",
        f"item{trace.id}-position": "2"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(TaskTemplateItem, trace.id).title is None
    assert client.post(f"/staff/admin/task-templates/{revoke.id}/active",
                       data={"csrf_token": token, "active": "1"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(TaskTemplateItem, revoke.id).active


@pytest.mark.parametrize(("data", "message"), [
    ({"add-incident_type": "other", "add-title": ""}, "Write something first."),
    ({"add-incident_type": "other", "add-title": "x", "add-due_days": "999"}, "Number must be between"),
    ({"add-incident_type": "nonsense", "add-title": "x"}, "Choose an incident type from the list."),
])
def test_a_bad_template_item_is_refused_with_a_message(client, make_user, login, data, message):
    login(make_user(Role.ADMIN))
    count = len(db.session.scalars(select(TaskTemplateItem)).all())
    token = _hidden(_admin_page(client), "add-csrf_token")
    response = client.post("/staff/admin/task-templates", data={"add-csrf_token": token, **data})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert len(db.session.scalars(select(TaskTemplateItem)).all()) == count


def test_an_unknown_template_item_is_not_found(client, make_user, login):
    login(make_user(Role.ADMIN))
    token = _hidden(_admin_page(client), "add-csrf_token")
    assert client.post("/staff/admin/task-templates/999999", data={
        "item999999-csrf_token": token, "item999999-title": "x"}).status_code == 404


# Every route of this work, by role (anonymous and the victim's portal session are sent to the staff sign-in)

ROLES = ["anonymous", "victim", Role.HANDLER, Role.SUPERVISOR, Role.LEGAL, Role.ADMIN]
WORKERS = {Role.HANDLER: 302, Role.SUPERVISOR: 302, Role.LEGAL: 403, Role.ADMIN: 302}
SUPERVISORS = {Role.HANDLER: 403, Role.SUPERVISOR: 302, Role.LEGAL: 403, Role.ADMIN: 302}
ADMINS = {Role.HANDLER: 403, Role.SUPERVISOR: 403, Role.LEGAL: 403, Role.ADMIN: 302}
ROUTES = {
    "take": ("POST", "/staff/cases/{ref}/take", lambda ids: {"take-expected_handler": ""}, WORKERS),
    "assign": ("POST", "/staff/cases/{ref}/assign",
               lambda ids: {"assign-expected_handler": "", "assign-handler": str(ids["handler"])}, SUPERVISORS),
    "add task": ("POST", "/staff/cases/{ref}/tasks", lambda ids: {"task-title": "Call the exchange"}, WORKERS),
    "task done": ("POST", "/staff/cases/{ref}/tasks/{open_task}/done", lambda ids: {}, WORKERS),
    "task reopen": ("POST", "/staff/cases/{ref}/tasks/{done_task}/reopen", lambda ids: {}, WORKERS),
    "templates": ("GET", "/staff/admin/task-templates", None, {**ADMINS, Role.ADMIN: 200}),
    "add item": ("POST", "/staff/admin/task-templates",
                 lambda ids: {"add-incident_type": "other", "add-title": "Call the victim"}, ADMINS),
    "edit item": ("POST", "/staff/admin/task-templates/{item}",
                  lambda ids: {f"item{ids['item']}-title": "Mine", f"item{ids['item']}-position": "1"}, ADMINS),
    "item active": ("POST", "/staff/admin/task-templates/{item}/active", lambda ids: {"active": "0"}, ADMINS),
}


def _sign_in(client, user) -> None:
    response = client.post("/staff/login", data={"email": user.email, "password": PASSWORD,
                                                 "csrf_token": csrf_token(client, "/staff/login")})
    assert response.status_code == 302


@pytest.mark.parametrize("route", list(ROUTES))
def test_each_route_answers_each_role(app, client, make_case, make_user, route):
    """(`client` makes app.test_client() give clients whose requests each run in their own app context.)"""
    method, url, data, expected = ROUTES[route]
    worker = make_user(Role.HANDLER)
    staff = {role: make_user(role) for role in expected}
    for role in ROLES:
        filed = make_case()
        open_task = tasks.add_task(worker, filed.case, "Open one", None, None)
        done_task = tasks.add_task(worker, filed.case, "Done one", None, None)
        db.session.flush()
        tasks.complete_task(worker, filed.case, done_task.id)
        db.session.commit()
        ids = {"ref": filed.case.reference, "open_task": open_task.id, "done_task": done_task.id,
               "handler": worker.id, "item": db.session.scalars(select(TaskTemplateItem)).first().id}
        client = app.test_client()
        if role == "victim":
            client.get(f"/track/{filed.case.reference}/{filed.access_token}")
        elif role != "anonymous":
            _sign_in(client, staff[role])
        target = url.format(**ids)
        if method == "GET":
            response = client.get(target)
        else:
            token = csrf_token(client, "/staff/login" if role in ("anonymous", "victim") else "/staff/cases")
            response = client.post(target, data={"csrf_token": token, **data(ids)})
        if role in ("anonymous", "victim"):
            assert response.status_code == 302 and "/staff/login" in response.headers["Location"], role
        else:
            assert response.status_code == expected[role], (role, response.get_data(as_text=True)[:2000])
