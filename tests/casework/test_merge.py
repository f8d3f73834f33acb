"""Merging a duplicate case into another: the happy path through the case page (both victims' portals, both staff
pages), what happens when the duplicate's victim writes afterwards, and every refusal (itself, a merged target, a
closed target, a case others were merged into, other roles, stale and double submits)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from casework.extensions import db
from casework.models import (
    Case,
    CaseEvent,
    CaseStatus,
    EventKind,
    Message,
    Notification,
    Referral,
    ReferralKind,
    Resolution,
    Role,
    User,
)
from casework.services import merge, portal
from casework.services.access import AccessDenied
from casework.services.workflow import WorkflowError, transition_case
from tests.fixtures.factories import at_once, csrf_token

REASON = "Same drainer address and same fake airdrop site; the victim filed twice."


def kinds(case: Case) -> list[str]:
    return [e.action.value for e in db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))]


def fresh(case: Case) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case.id)


def _merge_post(client, duplicate: str, target: str, reason: str = REASON):
    page = f"/staff/cases/{duplicate}"
    html = client.get(page).get_data(as_text=True)
    token = re.search(r'name="merge-csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    shown = re.search(r'id="merge-current" name="merge-current" type="hidden" value="([^"]+)"', html).group(1)
    form = {"merge-csrf_token": token, "merge-current": shown, "merge-target": target, "merge-reason": reason}
    return client.post(f"{page}/merge", data=form), form


def _portal(client, filed) -> str:
    client.get(f"/track/{filed.case.reference}/{filed.access_token}")
    return client.get(f"/track/{filed.case.reference}", headers={"Accept-Language": "en"}).get_data(as_text=True)


@pytest.fixture
def pair(make_case):
    """Two cases of one theft (same attacker address): the target first, then the duplicate."""
    target = make_case(name="Zhang Min", summary="My USDT went to a drainer after I signed a permit.", language="en")
    duplicate = make_case(name="Chen Jie", summary="Fake airdrop site took my USDT.", language="en")
    return duplicate, target


def test_a_supervisor_merges_a_duplicate_and_each_victim_sees_only_their_own_case(client, pair, make_user, login):
    duplicate, target = pair
    login(make_user(Role.SUPERVISOR))
    response, _form = _merge_post(client, duplicate.reference, target.reference.lower())
    assert response.status_code == 302 and response.headers["Location"].endswith("#linked")
    dup, tgt = fresh(duplicate.case), db.session.get(Case, target.case_id)
    assert dup.merged_into_id == tgt.id
    assert dup.status is CaseStatus.CLOSED and dup.resolution is Resolution.DUPLICATE
    assert tgt.status is CaseStatus.SUBMITTED and tgt.merged_into_id is None
    assert kinds(dup)[-3:] == ["status", "status", "merged"]
    assert kinds(tgt)[-1] == "duplicate_merged"
    merged = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == dup.id,
                                                        CaseEvent.action == EventKind.MERGED)).one()
    assert merged.data == {"into": tgt.reference, "reason": REASON}
    # Nothing is deleted: the duplicate keeps its reporter, addresses and history.
    assert dup.reporter.name == "Chen Jie" and dup.addresses and kinds(dup)[0] == "submitted"

    staff_dup = client.get(f"/staff/cases/{dup.reference}").get_data(as_text=True)
    assert "This case was merged into" in staff_dup and f'href="/staff/cases/{tgt.reference}"' in staff_dup
    assert f"Merged into {tgt.reference}: {REASON}" in staff_dup
    staff_tgt = client.get(f"/staff/cases/{tgt.reference}").get_data(as_text=True)
    assert "Merged into this case:" in staff_tgt and f'href="/staff/cases/{dup.reference}"' in staff_tgt
    assert f"{dup.reference} merged into this case" in staff_tgt

    client.post("/staff/logout", data={"csrf_token": csrf_token(client, "/staff/cases")})
    seen_by_duplicate = _portal(client, duplicate)
    assert "Your report was joined with another report of the same theft" in seen_by_duplicate
    assert "the same theft is handled in another case" in seen_by_duplicate
    assert "Your private link keeps working" in seen_by_duplicate
    for other in (tgt.reference, "Zhang Min", "signed a permit", REASON):
        assert other not in seen_by_duplicate
    seen_by_target = _portal(client, target)
    for other in (dup.reference, "Chen Jie", "Fake airdrop site", "joined", REASON):
        assert other not in seen_by_target


def test_the_duplicates_victim_is_told_in_their_language(app, make_case, make_user):
    target = make_case()
    duplicate = make_case(language="zh_Hans_CN")
    db.session.execute(Notification.__table__.delete())
    merge.merge_case(make_user(Role.SUPERVISOR), duplicate.case, target.case, reason=REASON,
                     expected_status="submitted")
    db.session.commit()
    closing = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == duplicate.case_id,
                                                         CaseEvent.action == EventKind.STATUS)).all()[-1]
    assert "私人链接" in closing.data["victim_summary"]
    [notice] = db.session.scalars(select(Notification)).all()
    assert notice.recipient == "victim@example.org" and duplicate.reference in notice.body_text
    assert target.reference not in notice.body_text


def test_what_the_duplicates_victim_writes_stays_on_their_case_and_the_target_handler_is_told(
    app, pair, make_user
):
    duplicate, target = pair
    handler = make_user(Role.HANDLER)
    target.case.assigned_handler = handler
    db.session.commit()
    merge.merge_case(make_user(Role.SUPERVISOR), duplicate.case, target.case, reason=REASON,
                     expected_status="submitted")
    db.session.commit()
    db.session.execute(Notification.__table__.delete())
    portal.send_victim_message(fresh(duplicate.case), "Did you find my funds?")
    db.session.commit()
    [message] = db.session.scalars(select(Message)).all()
    assert message.case_id == duplicate.case_id
    [notice] = db.session.scalars(select(Notification)).all()
    assert notice.recipient == handler.email
    assert duplicate.reference in notice.subject and f"/staff/cases/{duplicate.reference}" in notice.body_text
    assert "Did you find my funds?" not in notice.body_text


def test_a_case_cannot_be_merged_into_itself(app, pair, make_user):
    duplicate, _target = pair
    with pytest.raises(WorkflowError, match="cannot be merged into itself"):
        merge.merge_case(make_user(Role.SUPERVISOR), duplicate.case, duplicate.case, reason=REASON,
                         expected_status="submitted")
    assert fresh(duplicate.case).merged_into_id is None


def test_a_merge_into_a_merged_case_names_the_case_to_merge_into(app, make_case, make_user):
    supervisor = make_user(Role.SUPERVISOR)
    first, second, third = make_case(), make_case(), make_case()
    merge.merge_case(supervisor, second.case, first.case, reason=REASON, expected_status="submitted")
    db.session.commit()
    with pytest.raises(WorkflowError) as refused:
        merge.merge_case(supervisor, third.case, second.case, reason=REASON, expected_status="submitted")
    assert refused.value.message == (f"{second.reference} was itself merged into {first.reference}: merge into "
                                     f"{first.reference} instead.")
    with pytest.raises(WorkflowError, match="already merged into"):
        merge.merge_case(supervisor, second.case, third.case, reason=REASON, expected_status="closed")
    with pytest.raises(WorkflowError, match=f"Other cases were merged into {first.reference}"):
        merge.merge_case(supervisor, first.case, third.case, reason=REASON, expected_status="submitted")
    assert fresh(third.case).merged_into_id is None and fresh(first.case).merged_into_id is None


def test_a_closed_target_an_unknown_target_and_a_closed_duplicate_are_refused(app, pair, make_case, make_user):
    supervisor = make_user(Role.SUPERVISOR)
    duplicate, target = pair
    transition_case(target.case, CaseStatus.TRIAGE, actor=supervisor, reason="read")
    transition_case(target.case, CaseStatus.CLOSED, actor=supervisor, reason="done", resolution="unrecoverable",
                    victim_summary="We could not recover it.")
    db.session.commit()
    with pytest.raises(WorkflowError, match=f"{target.reference} is closed"):
        merge.merge_case(supervisor, duplicate.case, target.case, reason=REASON, expected_status="submitted")
    with pytest.raises(WorkflowError, match="Choose the case to merge this one into"):
        merge.merge_case(supervisor, duplicate.case, merge.find_target("CW-1999-000001"), reason=REASON,
                         expected_status="submitted")
    with pytest.raises(WorkflowError, match="is already closed"):
        merge.merge_case(supervisor, target.case, duplicate.case, reason=REASON, expected_status="closed")
    assert fresh(duplicate.case).status is CaseStatus.SUBMITTED


def test_a_duplicate_with_referrals_under_way_and_a_merge_without_reason_are_refused(app, pair, make_user):
    supervisor = make_user(Role.SUPERVISOR)
    duplicate, target = pair
    with pytest.raises(WorkflowError, match="Give a reason"):
        merge.merge_case(supervisor, duplicate.case, target.case, reason=" ", expected_status="submitted")
    db.session.add(Referral(case=duplicate.case, kind=ReferralKind.EXCHANGE_FREEZE, target_name="Exchange"))
    db.session.commit()
    with pytest.raises(WorkflowError, match="referrals under way"):
        merge.merge_case(supervisor, duplicate.case, target.case, reason=REASON, expected_status="submitted")
    assert fresh(duplicate.case).merged_into_id is None and "merged" not in kinds(duplicate.case)


@pytest.mark.parametrize("role", [Role.HANDLER, Role.LEGAL])
def test_only_a_supervisor_may_merge(client, pair, make_user, login, role):
    duplicate, target = pair
    user = make_user(role)
    with pytest.raises(AccessDenied):
        merge.merge_case(user, duplicate.case, target.case, reason=REASON, expected_status="submitted")
    login(user)
    page = f"/staff/cases/{duplicate.reference}"
    html = client.get(page).get_data(as_text=True)
    assert 'id="linked"' in html and target.reference in html  # linked cases are shown to every staff role
    assert "merge-target" not in html
    response = client.post(f"{page}/merge", data={"csrf_token": csrf_token(client, page), "merge-current": "submitted",
                                                  "merge-target": target.reference, "merge-reason": REASON})
    assert response.status_code == 403
    assert fresh(duplicate.case).merged_into_id is None


def test_a_double_submit_merges_once(client, pair, make_user, login):
    duplicate, target = pair
    login(make_user(Role.SUPERVISOR))
    first, form = _merge_post(client, duplicate.reference, target.reference)
    assert first.status_code == 302
    second = client.post(f"/staff/cases/{duplicate.reference}/merge", data=form)
    assert second.status_code == 422 and "Someone else changed this case" in second.get_data(as_text=True)
    assert kinds(fresh(duplicate.case)).count("merged") == 1
    assert kinds(db.session.get(Case, target.case_id)).count("duplicate_merged") == 1


def test_a_stale_merge_form_is_refused_and_nothing_is_changed(client, pair, make_user, login):
    duplicate, target = pair
    handler = make_user(Role.HANDLER)
    login(make_user(Role.SUPERVISOR))
    page = f"/staff/cases/{duplicate.reference}"
    token = csrf_token(client, page)
    transition_case(duplicate.case, CaseStatus.TRIAGE, actor=handler, reason="reading it")
    db.session.commit()
    response = client.post(f"{page}/merge", data={"csrf_token": token, "merge-current": "submitted",
                                                  "merge-target": target.reference, "merge-reason": REASON})
    assert response.status_code == 422
    assert "it is now Triage" in response.get_data(as_text=True)
    case = fresh(duplicate.case)
    assert case.status is CaseStatus.TRIAGE and case.merged_into_id is None and "merged" not in kinds(case)


def test_a_merge_form_error_is_shown_on_the_page(client, pair, make_user, login):
    duplicate, _target = pair
    login(make_user(Role.SUPERVISOR))
    response, _form = _merge_post(client, duplicate.reference, duplicate.reference)
    assert response.status_code == 422
    assert "A case cannot be merged into itself" in response.get_data(as_text=True)
    chinese = client.get(f"/staff/cases/{duplicate.reference}", headers={"Accept-Language": "zh-CN"})
    assert chinese.status_code == 200


def test_two_merges_at_once_merge_once(app, make_case, make_user):
    supervisors = [make_user(Role.SUPERVISOR).id for _ in range(2)]
    target, duplicate = make_case(), make_case()
    turn = iter(supervisors)

    def join() -> str:
        user = db.session.get(User, next(turn))
        case = db.session.get(Case, duplicate.case_id)
        try:
            merge.merge_case(user, case, db.session.get(Case, target.case_id), reason=REASON,
                             expected_status="submitted")
        except WorkflowError as error:
            return error.message
        return "merged"

    outcomes = at_once(app, join, 2)
    assert sorted(outcomes)[-1] == "merged" and "Someone else changed this case" in sorted(outcomes)[0]
    assert kinds(fresh(duplicate.case)).count("merged") == 1
    assert kinds(db.session.get(Case, target.case_id)).count("duplicate_merged") == 1


def test_a_duplicate_with_open_tasks_is_merged_and_its_tasks_stay_on_it(pair, make_user):
    from casework.models import Task
    from casework.services import tasks

    duplicate, target = pair
    supervisor = make_user(Role.SUPERVISOR)
    task = tasks.add_task(supervisor, duplicate.case, "Ask for the chat export", None, None)
    db.session.commit()
    merge.merge_case(supervisor, duplicate.case, target.case, reason=REASON, expected_status="submitted")
    db.session.commit()
    dup = fresh(duplicate.case)
    assert dup.status is CaseStatus.CLOSED and dup.merged_into_id == target.case_id
    assert db.session.get(Task, task.id).done_at is None
