"""A case's priority after filing: recomputed by the intake's rule when the victim adds facts (an event only when it
changes), a supervisor's override (kept through a recompute, refused to other roles), handing it back to the rule,
and the case page's priority form (stale and double submits refused)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from casework.extensions import db
from casework.models import AddressRole, Case, CaseEvent, EventKind, Priority, Role
from casework.services import merge, portal, priority
from casework.services.access import AccessDenied
from casework.services.workflow import WorkflowError
from tests.fixtures.factories import csrf_token

DEPOSIT = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
NEW_HASH = "0x" + "cd" * 32


def priority_events(case: Case) -> list[CaseEvent]:
    return list(db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == EventKind.PRIORITY)
        .order_by(CaseEvent.id)))


def fresh(case: Case) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case.id)


def test_filing_and_the_recompute_use_the_same_rule(app, make_case):
    case = make_case().case
    assert case.priority is Priority.HIGH  # 5 hours old, 2,500 USDT, no exchange
    assert priority.computed_priority(case) is Priority.HIGH


def test_an_exchange_address_added_by_the_victim_raises_the_priority_with_an_event(app, make_case):
    case = make_case().case
    portal.add_address(case, 1, DEPOSIT, AddressRole.EXCHANGE_DEPOSIT)
    db.session.commit()
    assert fresh(case).priority is Priority.CRITICAL
    [event] = priority_events(case)
    assert event.data == {"before": "high", "after": "critical", "reason": "", "override": False}
    assert event.actor_id is None and event.actor_label == "system"


def test_a_new_fact_that_changes_nothing_writes_no_priority_event(app, make_case):
    case = make_case().case
    portal.add_transaction(case, 1, NEW_HASH)
    portal.add_information(case, "The site was airdrop-claim.example, it is still online.")
    portal.add_address(case, 1, DEPOSIT, AddressRole.INTERMEDIARY)
    db.session.commit()
    assert fresh(case).priority is Priority.HIGH
    assert priority_events(case) == []


def test_an_override_is_kept_through_a_recompute(app, make_case, make_user):
    supervisor = make_user(Role.SUPERVISOR)
    case = make_case().case
    priority.override_priority(supervisor, case, Priority.LOW, reason="victim recovered it themselves",
                               expected="high")
    db.session.commit()
    portal.add_address(case, 1, DEPOSIT, AddressRole.EXCHANGE_DEPOSIT)
    db.session.commit()
    case = fresh(case)
    assert case.priority is Priority.LOW and case.priority_overridden
    [event] = priority_events(case)
    assert event.data["override"] is True and event.data["after"] == "low" and event.actor_id == supervisor.id


def test_clearing_the_override_hands_the_priority_back_to_the_facts(app, make_case, make_user):
    supervisor = make_user(Role.SUPERVISOR)
    case = make_case().case
    priority.override_priority(supervisor, case, "low", reason="looks small", expected="high")
    db.session.commit()
    portal.add_address(case, 1, DEPOSIT, AddressRole.EXCHANGE_DEPOSIT)
    db.session.commit()
    priority.clear_override(supervisor, case, reason="the exchange matters", expected="low+override")
    db.session.commit()
    case = fresh(case)
    assert case.priority is Priority.CRITICAL and not case.priority_overridden
    assert [(e.data["after"], e.data["override"]) for e in priority_events(case)] == [("low", True),
                                                                                       ("critical", False)]
    with pytest.raises(WorkflowError, match="already follows the facts"):
        priority.clear_override(supervisor, case, reason="again", expected="critical")


@pytest.mark.parametrize("role", [Role.HANDLER, Role.LEGAL])
def test_an_override_is_refused_to_a_handler_and_a_legal_user(app, make_case, make_user, role):
    case = make_case().case
    with pytest.raises(AccessDenied):
        priority.override_priority(make_user(role), case, Priority.LOW, reason="mine", expected="high")
    assert fresh(case).priority is Priority.HIGH and priority_events(case) == []


def test_an_override_needs_a_reason_a_known_priority_and_the_state_the_form_showed(app, make_case, make_user):
    supervisor = make_user(Role.SUPERVISOR)
    case = make_case().case
    with pytest.raises(WorkflowError, match="Give a reason"):
        priority.override_priority(supervisor, case, Priority.LOW, reason="  ", expected="high")
    with pytest.raises(WorkflowError, match="Choose a priority"):
        priority.override_priority(supervisor, case, "urgent", reason="x", expected="high")
    with pytest.raises(WorkflowError, match="Someone else changed the priority"):
        priority.override_priority(supervisor, case, Priority.LOW, reason="x", expected="critical")
    assert priority_events(case) == []


# The case page's form


def _priority_post(client, reference: str, data: dict):
    page = f"/staff/cases/{reference}"
    html = client.get(page).get_data(as_text=True)
    token = re.search(r'name="priority-csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    shown = re.search(r'id="priority-current" name="priority-current" type="hidden" value="([^"]+)"', html).group(1)
    form = {"priority-csrf_token": token, "priority-current": shown, **{f"priority-{k}": v for k, v in data.items()}}
    return client.post(f"{page}/priority", data=form), form


def test_only_a_supervisor_gets_the_priority_form(client, make_case, make_user, login):
    filed = make_case()
    login(make_user(Role.HANDLER))
    html = client.get(f"/staff/cases/{filed.case.reference}").get_data(as_text=True)
    assert 'id="priority"' not in html and "priority-reason" not in html
    client.post("/staff/logout", data={"csrf_token": csrf_token(client, "/staff/cases")})
    login(make_user(Role.SUPERVISOR))
    html = client.get(f"/staff/cases/{filed.case.reference}").get_data(as_text=True)
    assert 'id="priority"' in html and "Computed from the facts: High" in html


@pytest.mark.parametrize("role", [Role.HANDLER, Role.LEGAL])
def test_a_priority_post_by_another_role_is_refused(client, make_case, make_user, login, role):
    filed = make_case()
    login(make_user(role))
    page = f"/staff/cases/{filed.case.reference}"
    response = client.post(f"{page}/priority", data={
        "priority-csrf_token": csrf_token(client, page), "priority-current": "high", "priority-priority": "low",
        "priority-reason": "mine", "priority-override": "y"})
    assert response.status_code == 403
    assert fresh(filed.case).priority is Priority.HIGH


def test_a_supervisor_overrides_and_a_double_submit_changes_it_once(client, make_case, make_user, login):
    filed = make_case()
    login(make_user(Role.SUPERVISOR))
    first, form = _priority_post(client, filed.case.reference,
                                 {"priority": "critical", "reason": "funds at an exchange", "override": "y"})
    assert first.status_code == 302 and first.headers["Location"].endswith("#priority")
    second = client.post(f"/staff/cases/{filed.case.reference}/priority", data=form)
    assert second.status_code == 422 and "Someone else changed the priority" in second.get_data(as_text=True)
    case = fresh(filed.case)
    assert case.priority is Priority.CRITICAL and case.priority_overridden
    assert len(priority_events(case)) == 1
    html = client.get(f"/staff/cases/{filed.case.reference}").get_data(as_text=True)
    assert "Set by a supervisor: Critical" in html
    assert "High → Critical (set by a supervisor): funds at an exchange" in html


def test_a_stale_priority_form_is_refused_and_nothing_is_overwritten(client, make_case, make_user, login):
    supervisor = make_user(Role.SUPERVISOR)
    filed = make_case()
    login(supervisor)
    page = f"/staff/cases/{filed.case.reference}"
    token = csrf_token(client, page)
    priority.override_priority(supervisor, filed.case, Priority.NORMAL, reason="someone else", expected="high")
    db.session.commit()
    response = client.post(f"{page}/priority", data={
        "csrf_token": token, "priority-current": "high", "priority-priority": "low", "priority-reason": "mine",
        "priority-override": "y"})
    assert response.status_code == 422
    assert "it is now Normal" in response.get_data(as_text=True)
    assert fresh(filed.case).priority is Priority.NORMAL and len(priority_events(filed.case)) == 1


def test_the_form_hands_the_priority_back_to_the_facts(client, make_case, make_user, login):
    supervisor = make_user(Role.SUPERVISOR)
    filed = make_case()
    priority.override_priority(supervisor, filed.case, Priority.LOW, reason="small", expected="high")
    db.session.commit()
    login(supervisor)
    response, _form = _priority_post(client, filed.case.reference, {"reason": "follow the rule", "follow_facts": "y"})
    assert response.status_code == 302
    case = fresh(filed.case)
    assert case.priority is Priority.HIGH and not case.priority_overridden
    chinese = client.get(f"/staff/cases/{filed.case.reference}", headers={"Accept-Language": "zh-CN"})
    assert chinese.status_code == 200


def test_a_merged_duplicate_is_not_recomputed(app, make_case, make_user):
    target, duplicate = make_case(), make_case()
    merge.merge_case(make_user(Role.SUPERVISOR), duplicate.case, target.case, reason="same theft",
                     expected_status="submitted")
    db.session.commit()
    portal.add_address(fresh(duplicate.case), 1, DEPOSIT, AddressRole.EXCHANGE_DEPOSIT)
    db.session.commit()
    assert fresh(duplicate.case).priority is Priority.HIGH and priority_events(duplicate.case) == []
