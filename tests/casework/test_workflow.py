"""A case's lifecycle: the transition table (every allowed and every forbidden move), closing and reopening, the
victim's answer moving a case out of "awaiting victim", what the victim is told, and the console's status form."""

from __future__ import annotations

import io
import itertools
import re
from collections import deque
from email.header import decode_header, make_header

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from casework.extensions import db
from casework.models import (
    Case,
    CaseEvent,
    CaseStatus,
    EventKind,
    Notification,
    Referral,
    ReferralKind,
    ReferralStatus,
    Resolution,
    Role,
    User,
)
from casework.services import mail, portal, victim_report, workflow
from casework.services.access import AccessDenied
from casework.services.workflow import ALLOWED_TRANSITIONS, OPEN_STATES, WorkflowError, transition_case
from tests.fixtures.factories import at_once, csrf_token

S = CaseStatus
SUMMARY = "We recovered part of your USDT from the exchange; the rest had already been moved on."
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
CLOSING = {"resolution": Resolution.PARTIALLY_RECOVERED, "victim_summary": SUMMARY}


def _path(to: CaseStatus, via: CaseStatus | None = None) -> list[CaseStatus]:
    """The shortest chain of allowed moves from SUBMITTED to `to` (through `via` into AWAITING_VICTIM)."""
    if to is S.AWAITING_VICTIM and via is not None:
        return [*_path(via), S.AWAITING_VICTIM]
    seen, queue = {S.SUBMITTED: [S.SUBMITTED]}, deque([S.SUBMITTED])
    while queue:
        state = queue.popleft()
        for nxt in sorted(ALLOWED_TRANSITIONS[state] - {S.AWAITING_VICTIM, S.SUBMITTED}, key=list(S).index):
            if nxt not in seen:
                seen[nxt] = [*seen[state], nxt]
                queue.append(nxt)
    return seen[to] if to is not S.AWAITING_VICTIM else [S.SUBMITTED, S.AWAITING_VICTIM]


def bring_to(case: Case, actor, status: CaseStatus, via: CaseStatus | None = None) -> None:
    """Walk case through the table to status (committed), as handlers would."""
    for step in _path(status, via)[1:]:
        transition_case(case, step, actor=actor, reason=f"to {step.value}", **(CLOSING if step is S.CLOSED else {}))
    db.session.commit()


def status_events(case: Case) -> list[CaseEvent]:
    return list(db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == EventKind.STATUS)
        .order_by(CaseEvent.id)))


def _allowed_moves():
    """(from, to, where an awaiting-victim case came from): from "awaiting victim" a case returns where it was."""
    for src, targets in ALLOWED_TRANSITIONS.items():
        for dst in targets:
            if src is S.AWAITING_VICTIM:
                yield src, dst, dst if dst in OPEN_STATES else S.INVESTIGATING
            else:
                yield src, dst, S.TRIAGE


def _forbidden_moves():
    """Every pair the table leaves out, and every return from "awaiting victim" to a state it did not come from."""
    for src, dst in itertools.product(S, S):
        if dst not in ALLOWED_TRANSITIONS[src]:
            yield src, dst, S.TRIAGE
    for origin, dst in itertools.product(sorted(OPEN_STATES, key=list(S).index), repeat=2):
        if origin is not dst:
            yield S.AWAITING_VICTIM, dst, origin


def _id(move) -> str:
    src, dst, origin = move
    return f"{src.value}->{dst.value}" + (f"(from {origin.value})" if src is S.AWAITING_VICTIM else "")


@pytest.mark.parametrize("move", list(_allowed_moves()), ids=_id)
def test_every_allowed_move_applies_and_is_logged(app, make_case, make_user, move):
    src, dst, origin = move
    supervisor = make_user(Role.SUPERVISOR)
    case = make_case().case
    bring_to(case, supervisor, src, via=origin)
    before = len(status_events(case))
    event = transition_case(case, dst, actor=supervisor, reason="the next step",
                            **(CLOSING if dst is S.CLOSED else {}))
    db.session.commit()
    db.session.expire_all()
    assert case.status is dst
    assert (case.resolution is not None) is (dst is S.CLOSED)
    logged = status_events(case)
    assert len(logged) == before + 1 and logged[-1].id == event.id
    assert logged[-1].data["before"] == src.value and logged[-1].data["after"] == dst.value
    assert logged[-1].actor_id == supervisor.id and logged[-1].summary == "the next step"


@pytest.mark.parametrize("move", list(_forbidden_moves()), ids=_id)
def test_every_forbidden_move_is_refused_with_what_is_allowed(app, make_case, make_user, move):
    src, dst, origin = move
    supervisor = make_user(Role.SUPERVISOR)
    case = make_case().case
    bring_to(case, supervisor, src, via=origin)
    before = len(status_events(case))
    with pytest.raises(WorkflowError) as refused:
        transition_case(case, dst, actor=supervisor, reason="try it", **(CLOSING if dst is S.CLOSED else {}))
    db.session.rollback()
    allowed = workflow.next_states(case, supervisor)
    assert allowed, "every state has a way on"
    assert refused.value.message == (
        f"A case in status “{src.title}” can become: {', '.join(state.title for state in allowed)}.")
    db.session.expire_all()
    assert case.status is src and len(status_events(case)) == before


def test_the_refusal_names_the_allowed_states_in_order(app, make_case, make_user):
    case = make_case().case
    with pytest.raises(WorkflowError, match=r"“Submitted” can become: Triage, Awaiting victim\.$"):
        transition_case(case, S.CLOSED, actor=make_user(Role.HANDLER), reason="done", **CLOSING)


@pytest.mark.parametrize("missing", ["resolution", "victim_summary"])
def test_closing_without_resolution_or_victim_summary_is_refused(app, make_case, make_user, missing):
    handler = make_user(Role.HANDLER)
    case = make_case().case
    bring_to(case, handler, S.INVESTIGATING)
    details = {**CLOSING, missing: None}
    with pytest.raises(WorkflowError, match="resolution" if missing == "resolution" else "summary for the victim"):
        transition_case(case, S.CLOSED, actor=handler, reason="nothing more to do", **details)
    db.session.rollback()
    assert db.session.get(Case, case.id).status is S.INVESTIGATING


def test_a_change_without_a_reason_is_refused(app, make_case, make_user):
    case = make_case().case
    with pytest.raises(WorkflowError, match="reason"):
        transition_case(case, S.TRIAGE, actor=make_user(Role.HANDLER), reason="   ")


def test_a_legal_user_cannot_change_a_status(app, make_case, make_user):
    case = make_case().case
    with pytest.raises(AccessDenied):
        transition_case(case, S.TRIAGE, actor=make_user(Role.LEGAL), reason="looks fine")
    assert workflow.status_options(make_user(Role.LEGAL), case).choices == []


def test_reopening_is_refused_to_a_handler_and_allowed_to_a_supervisor(app, make_case, make_user):
    handler, supervisor = make_user(Role.HANDLER), make_user(Role.SUPERVISOR)
    case = make_case().case
    bring_to(case, handler, S.CLOSED)
    assert workflow.next_states(case, handler) == []
    with pytest.raises(AccessDenied, match="supervisor"):
        transition_case(case, S.INVESTIGATING, actor=handler, reason="the victim found more")
    db.session.rollback()
    assert workflow.next_states(case, supervisor) == [S.TRIAGE, S.INVESTIGATING]
    transition_case(case, S.INVESTIGATING, actor=supervisor, reason="the victim found more")
    db.session.commit()
    assert case.status is S.INVESTIGATING and case.resolution is None
    assert status_events(case)[-1].actor_id == supervisor.id


def test_closing_warns_about_open_referrals_until_confirmed(app, make_case, make_user):
    handler = make_user(Role.HANDLER)
    case = make_case().case
    bring_to(case, handler, S.RECOVERY)
    for status in (ReferralStatus.SENT, ReferralStatus.DECLINED):
        db.session.add(Referral(case=case, kind=ReferralKind.POLICE, target_name="Police", status=status))
    db.session.commit()
    assert workflow.status_options(handler, case).open_referrals == 1
    with pytest.raises(WorkflowError, match="1 open referral"):
        transition_case(case, S.CLOSED, actor=handler, reason="done", **CLOSING)
    db.session.rollback()
    transition_case(case, S.CLOSED, actor=handler, reason="done", confirm_open_referrals=True, **CLOSING)
    db.session.commit()
    assert case.status is S.CLOSED and case.resolution is Resolution.PARTIALLY_RECOVERED


def test_a_stale_expected_status_is_refused(app, make_case, make_user):
    handler = make_user(Role.HANDLER)
    case = make_case().case
    bring_to(case, handler, S.TRIAGE)
    with pytest.raises(WorkflowError, match="Someone else changed this case"):
        transition_case(case, S.INVESTIGATING, actor=handler, reason="go", expected=S.SUBMITTED)


# The victim's answer


def _waiting_case(make_case, make_user, *, origin=S.INVESTIGATING, language="en", assigned=True):
    handler = make_user(Role.HANDLER)
    handler.preferred_language = "zh_Hans_CN"
    filed = make_case(language=language)
    if assigned:
        filed.case.assigned_handler = handler
    bring_to(filed.case, handler, S.AWAITING_VICTIM, via=origin)
    db.session.execute(Notification.__table__.delete())
    db.session.commit()
    return filed, handler


@pytest.mark.parametrize("addition", ["message", "information", "address", "transaction", "file"])
def test_the_victims_answer_moves_the_case_back_and_tells_the_handler(app, make_case, make_user, addition):
    filed, handler = _waiting_case(make_case, make_user, origin=S.ESCALATED)
    case = filed.case
    {
        "message": lambda: portal.send_victim_message(case, "Here is the screenshot you asked for."),
        "information": lambda: portal.add_information(case, "The scammer also wrote to me on Telegram."),
        "address": lambda: portal.add_address(case, 1, "0x" + "33" * 20, "attacker"),
        "transaction": lambda: portal.add_transaction(case, 1, "0x" + "cd" * 32),
        "file": lambda: portal.add_file(case, FileStorage(io.BytesIO(PNG), "chat.png")),
    }[addition]()
    db.session.commit()
    assert case.status is S.ESCALATED
    back = status_events(case)[-1]
    assert back.actor_id is None and back.actor_label == "victim"
    assert back.data["before"] == S.AWAITING_VICTIM.value and back.data["after"] == S.ESCALATED.value
    [notice] = db.session.scalars(select(Notification)).all()
    assert notice.recipient == handler.email
    assert case.reference in notice.subject and "受害人" in notice.subject  # the handler's own language
    assert f"/staff/cases/{case.reference}" in notice.body_text


def test_the_handler_is_emailed_through_the_outbox(app, make_case, make_user, smtp_server):
    app.config.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)
    filed, handler = _waiting_case(make_case, make_user)
    portal.send_victim_message(filed.case, "I found the exchange's ticket number: 88123.")
    db.session.commit()
    assert mail.send_pending() == 1
    [received] = smtp_server.messages
    subject = str(make_header(decode_header(received["Subject"])))
    assert received["To"] == handler.email and subject == f"案件 {filed.case.reference}：受害人已回复"
    body = received.get_payload(decode=True).decode()
    assert "88123" not in body and "调查中" in body


def test_no_email_when_no_handler_is_assigned_and_nothing_for_a_case_not_waiting(app, make_case, make_user):
    filed, _handler = _waiting_case(make_case, make_user, assigned=False)
    portal.send_victim_message(filed.case, "Any news?")
    db.session.commit()
    assert filed.case.status is S.INVESTIGATING
    assert db.session.scalars(select(Notification)).all() == []
    count = len(status_events(filed.case))
    portal.send_victim_message(filed.case, "Any news now?")
    db.session.commit()
    assert len(status_events(filed.case)) == count


# What the victim is told


def _open_portal(client, filed, language: str) -> str:
    client.get(f"/track/{filed.case.reference}/{filed.access_token}")
    return client.get(f"/track/{filed.case.reference}", headers={"Accept-Language": language}).get_data(as_text=True)


@pytest.mark.parametrize(("language", "sentence", "subject_word"), [
    ("en", "Your case is now: Closed", "Closed"),
    ("zh_Hans_CN", "您的案件当前状态：已结案", "已结案"),
])
def test_the_victim_sees_the_closing_on_the_portal_and_by_email_in_their_language(
    client, make_case, make_user, language, sentence, subject_word
):
    handler = make_user(Role.HANDLER)
    filed = make_case(language=language)
    bring_to(filed.case, handler, S.INVESTIGATING)
    db.session.execute(Notification.__table__.delete())
    transition_case(filed.case, S.CLOSED, actor=handler, reason="internal: exchange returned 40%", **CLOSING)
    db.session.commit()
    page = _open_portal(client, filed, "zh-CN" if language.startswith("zh") else "en")
    assert sentence in page
    assert SUMMARY in page and "internal: exchange" not in page
    [notice] = db.session.scalars(select(Notification)).all()
    assert notice.recipient == "victim@example.org" and subject_word in notice.subject
    assert filed.case.reference in notice.body_text and "/track" in notice.body_text
    assert filed.access_token not in notice.body_text and "internal" not in notice.body_text


def test_the_victim_timeline_shows_each_status_in_plain_words(app, make_case, make_user):
    handler = make_user(Role.HANDLER)
    filed = make_case(language="en")
    bring_to(filed.case, handler, S.AWAITING_VICTIM, via=S.TRIAGE)
    titles = [entry.title for entry in victim_report.victim_timeline(filed.case)]
    assert titles[-2:] == ["Your case is now: Being reviewed", "Your case is now: Waiting for your answer"]


# The console's status form


def _status_post(client, reference: str, data: dict):
    """Load the case page and post its status form as shown, with `data` filled in; returns the response and form."""
    page = f"/staff/cases/{reference}"
    html = client.get(page).get_data(as_text=True)
    token = re.search(r'name="status-csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    shown = re.search(r'id="status-current" name="status-current" type="hidden" value="([^"]+)"', html).group(1)
    form = {"status-csrf_token": token, "status-current": shown, **{f"status-{k}": v for k, v in data.items()}}
    return client.post(f"{page}/status", data=form), form


def test_the_form_offers_only_the_allowed_next_states(client, make_case, make_user, login):
    handler = make_user(Role.HANDLER)
    filed = make_case()
    login(handler)
    html = client.get(f"/staff/cases/{filed.case.reference}").get_data(as_text=True)
    form = html[html.index('id="status-to"'):html.index("</select>", html.index('id="status-to"'))]
    assert re.findall(r'<option value="(\w+)"', form) == ["triage", "awaiting_victim"]
    assert 'name="status-resolution"' not in html


def test_a_legal_user_gets_no_status_form_and_a_post_is_refused(client, make_case, make_user, login):
    filed = make_case()
    login(make_user(Role.LEGAL))
    page = f"/staff/cases/{filed.case.reference}"
    html = client.get(page).get_data(as_text=True)
    assert "status-to" not in html
    response = client.post(f"{page}/status", data={"csrf_token": csrf_token(client, page), "status-current":
                                                   "submitted", "status-to": "triage", "status-reason": "x"})
    assert response.status_code == 403
    assert db.session.get(Case, filed.case.id).status is S.SUBMITTED


def test_the_form_closes_a_case_with_the_referral_confirmation(client, make_case, make_user, login):
    handler = make_user(Role.HANDLER)
    filed = make_case()
    bring_to(filed.case, handler, S.RECOVERY)
    db.session.add(Referral(case=filed.case, kind=ReferralKind.EXCHANGE_FREEZE, target_name="Exchange"))
    db.session.commit()
    login(handler)
    closing = {"to": "closed", "reason": "exchange answered", "resolution": "partially_recovered",
               "victim_summary": SUMMARY}
    html = client.get(f"/staff/cases/{filed.case.reference}").get_data(as_text=True)
    assert "1 open referral" in html and 'name="status-confirm_open_work"' in html
    refused, _form = _status_post(client, filed.case.reference, closing)
    assert refused.status_code == 422 and "Confirm that you want to close it anyway" in refused.get_data(as_text=True)
    done, _form = _status_post(client, filed.case.reference, {**closing, "confirm_open_work": "y"})
    assert done.status_code == 302 and done.headers["Location"].endswith("#status")
    db.session.expire_all()
    case = db.session.get(Case, filed.case.id)
    assert case.status is S.CLOSED and case.resolution is Resolution.PARTIALLY_RECOVERED


def test_a_double_submit_applies_the_transition_once(client, make_case, make_user, login):
    handler = make_user(Role.HANDLER)
    filed = make_case()
    login(handler)
    first, form = _status_post(client, filed.case.reference, {"to": "triage", "reason": "reading it"})
    assert first.status_code == 302
    second = client.post(f"/staff/cases/{filed.case.reference}/status", data=form)
    assert second.status_code == 422
    assert "Someone else changed this case" in second.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Case, filed.case.id).status is S.TRIAGE
    assert [e.data["after"] for e in status_events(filed.case)] == ["triage"]


def test_a_stale_form_is_refused_and_nothing_is_overwritten(client, make_case, make_user, login):
    handler, other = make_user(Role.HANDLER), make_user(Role.HANDLER)
    filed = make_case()
    login(handler)
    page = f"/staff/cases/{filed.case.reference}"
    token = csrf_token(client, page)
    transition_case(filed.case, S.AWAITING_VICTIM, actor=other, reason="asked for screenshots")
    db.session.commit()
    response = client.post(f"{page}/status", data={"csrf_token": token, "status-current": "submitted",
                                                   "status-to": "triage", "status-reason": "reading it"})
    assert response.status_code == 422
    assert "Someone else changed this case after you opened it: it is now Awaiting victim" in (
        response.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(Case, filed.case.id).status is S.AWAITING_VICTIM


def test_two_changes_at_once_apply_one(app, make_case, make_user):
    handler_ids = [make_user(Role.HANDLER).id for _ in range(2)]
    reference = make_case().case.reference
    turn = iter(handler_ids)

    def change() -> str:
        actor = db.session.get(User, next(turn))
        case = db.session.scalar(select(Case).where(Case.reference == reference))
        try:
            transition_case(case, S.TRIAGE, actor=actor, reason="mine", expected=S.SUBMITTED)
        except WorkflowError as error:
            return error.message
        return "applied"

    outcomes = at_once(app, change, 2)
    [refused] = [outcome for outcome in outcomes if outcome != "applied"]
    assert "Someone else changed this case" in refused
    db.session.expire_all()
    assert [e.data["after"] for e in status_events(db.session.scalar(select(Case)))] == ["triage"]


def test_the_staff_timeline_puts_the_change_into_words_in_the_readers_language(client, make_case, make_user, login):
    handler = make_user(Role.HANDLER)
    filed = make_case()
    transition_case(filed.case, S.TRIAGE, actor=handler, reason="reading it")
    db.session.commit()
    login(handler)
    page = f"/staff/cases/{filed.case.reference}"
    assert "Status changed: Submitted → Triage: reading it" in client.get(page).get_data(as_text=True)
    chinese = client.get(page, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "状态已变更：已提交 → 初步评估：reading it" in chinese


def test_the_victim_is_emailed_about_the_changes_that_matter_and_a_reopening(app, make_case, make_user):
    handler, supervisor = make_user(Role.HANDLER), make_user(Role.SUPERVISOR)
    filed = make_case(language="en")

    def notices() -> list[str]:
        return [n.subject for n in db.session.scalars(select(Notification).order_by(Notification.id))]

    already = len(notices())  # the filing's confirmation
    bring_to(filed.case, handler, S.TRIAGE)
    assert len(notices()) == already  # triage follows the filing at once: the portal shows it, no e-mail
    transition_case(filed.case, S.CLOSED, actor=handler, reason="nothing left to do", **CLOSING)
    transition_case(filed.case, S.INVESTIGATING, actor=supervisor, reason="new transfers appeared")
    db.session.commit()
    reference = filed.case.reference
    assert notices()[already:] == [f"Your case {reference}: Closed", f"Your case {reference}: Under investigation"]
    reopened = db.session.scalars(select(Notification).order_by(Notification.id.desc())).first()
    assert "Your case has been reopened." in reopened.body_text
    assert "new transfers" not in reopened.body_text


def test_a_tampered_form_gets_a_message_not_an_error(client, make_case, make_user, login):
    login(make_user(Role.HANDLER))
    reference = make_case().case.reference
    for tampered in ({"current": "nonsense", "to": "triage"}, {"to": "nonsense"}, {"to": "closed"}):
        response, _form = _status_post(client, reference, {"reason": "x", **tampered})
        assert response.status_code == 422
    db.session.expire_all()
    assert db.session.scalar(select(Case)).status is S.SUBMITTED
