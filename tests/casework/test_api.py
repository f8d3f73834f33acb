"""The JSON API (/api/v1): bearer tokens (shown once, stored hashed, revocable, dead with their owner's account), the
same services and permissions as the console, JSON errors for every failure, a rate limit per token, the token
pages, and the OpenAPI document generated from the code."""

from __future__ import annotations

import hashlib
import itertools
import re

import pytest
from sqlalchemy import func, select

from casework.extensions import db
from casework.models import (
    ApiToken,
    Case,
    CaseEvent,
    CaseStatus,
    EventKind,
    Note,
    Priority,
    Referral,
    ReferralKind,
    ReferralStatus,
    Role,
)
from casework.services import api_tokens, referrals
from casework.services.access import AccessDenied
from casework.services.referrals import ALLOWED_MOVES
from casework.services.workflow import StaleChange, WorkflowError
from tests.fixtures.factories import ATTACKER, VICTIM, csrf_token

EXCHANGE_DEPOSIT = "0x3333333333333333333333333333333333333333"


@pytest.fixture
def bearer(app, make_user):
    """bearer(role) -> (user, headers): a new staff user of role and the Authorization header of a new token."""

    def factory(role: Role = Role.HANDLER, user=None):
        user = user or make_user(role)
        new = api_tokens.create_token(user, f"integration {user.id}-{len(user.email)}")
        db.session.commit()
        return user, {"Authorization": f"Bearer {new.secret}"}

    return factory


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


def _referral(case: Case, status: ReferralStatus = ReferralStatus.SENT) -> Referral:
    referral = Referral(case=case, kind=ReferralKind.EXCHANGE_FREEZE, status=status, target_name="Example Exchange",
                        target_address=EXCHANGE_DEPOSIT, chain_id=1, symbol="USDT", decimals=6,
                        amount_raw=1_250_500_000, tx_hashes=["0x" + "cd" * 32])
    db.session.add(referral)
    db.session.commit()
    return referral


def _events(case: Case, kind: EventKind) -> list[CaseEvent]:
    return list(db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == kind)
                                   .order_by(CaseEvent.id)))


# --- authentication ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("header", [None, "Bearer", "Bearer cw_not-a-real-token", "Basic dXNlcjpwYXNz",
                                    "Token cw_x", "Bearer " + "x" * 500])
def test_a_request_without_a_valid_token_is_refused_with_json(client, make_case, header):
    make_case()
    response = client.get("/api/v1/cases", headers={"Authorization": header} if header else {})
    _error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_error_messages_are_in_the_readers_language(client, bearer, make_case):
    case = make_case().case
    response = client.get("/api/v1/cases", headers={"Accept-Language": "zh-CN"})
    assert _error(response, 401, "unauthorized")["message"] == (
        "请在请求头中提供有效的 API 令牌：Authorization: Bearer <令牌>。")
    _, headers = bearer(Role.LEGAL)
    response = client.post(f"/api/v1/cases/{case.reference}/notes", json={"body": "x"},
                           headers={**headers, "Accept-Language": "zh-CN"})
    assert _error(response, 403, "forbidden")["message"] != "Your role does not allow this. Ask a supervisor or an " \
                                                             "administrator."


def test_the_session_cookie_does_not_authenticate_the_api(client, make_user, login, make_case):
    make_case()
    login(make_user(Role.SUPERVISOR))
    assert client.get("/staff/cases").status_code == 200
    _error(client.get("/api/v1/cases"), 401, "unauthorized")
    # No CSRF token is asked for either: the API has no cookie to forge.
    _error(client.post("/api/v1/cases/CW-2026-000001/notes", json={"body": "hi"}), 401, "unauthorized")


def test_a_valid_token_works_and_its_use_is_noted(client, bearer, make_case):
    make_case()
    user, headers = bearer()
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    db.session.refresh(token)
    assert token.last_used_at is not None


def test_a_revoked_token_stops_working(client, bearer, make_case):
    make_case()
    user, headers = bearer()
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    api_tokens.revoke_token(user, token.id)
    db.session.commit()
    _error(client.get("/api/v1/cases", headers=headers), 401, "unauthorized")


def test_a_deactivated_users_token_stops_working(client, bearer, make_case):
    make_case()
    user, headers = bearer(Role.SUPERVISOR)
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    user.active = False
    db.session.commit()
    _error(client.get("/api/v1/cases", headers=headers), 401, "unauthorized")


def test_a_token_is_stored_only_as_its_hash(app, make_user):
    user = make_user()
    new = api_tokens.create_token(user, "exchange desk")
    db.session.commit()
    stored = db.session.get(ApiToken, new.token.id)
    assert stored.token_hash == hashlib.sha256(new.secret.encode()).hexdigest()
    assert new.secret.startswith("cw_") and len(new.secret) > 40
    assert stored.prefix == new.secret[:10]
    row = db.session.execute(select(ApiToken.__table__)).one()
    assert new.secret not in " ".join(str(value) for value in row)


# --- cases --------------------------------------------------------------------------------------------------------

def test_the_case_list_filters_searches_and_pages(client, bearer, make_case, make_user):
    first = make_case(name="Li Wei").case
    second = make_case(name="Zhang San", hours_ago=1).case
    third = make_case(name="Wang Fang", hours_ago=2).case
    handler = make_user(Role.HANDLER)
    second.assigned_handler = handler
    third.priority = Priority.CRITICAL
    db.session.commit()
    _, headers = bearer(Role.LEGAL)

    def refs(query: str) -> list[str]:
        response = client.get("/api/v1/cases" + query, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [item["reference"] for item in response.get_json()["items"]]

    assert refs("")[0] == third.reference  # most urgent first
    assert refs("?sort=newest") == [third.reference, second.reference, first.reference]  # as filed
    assert refs("?q=zhang") == [second.reference]
    assert refs(f"?q={first.reference.lower()}") == [first.reference]
    assert refs(f"?handler_id={handler.id}") == [second.reference]
    assert sorted(refs("?unassigned=true")) == sorted([first.reference, third.reference])
    assert refs("?priority=critical") == [third.reference]
    assert refs("?status=closed") == []
    assert len(refs("?status=submitted&status=closed")) == 3
    assert len(refs("?chain_id=1")) == 3 and refs("?chain_id=56") == []
    page = client.get("/api/v1/cases?per_page=2&sort=oldest", headers=headers).get_json()
    assert page["has_next"] is True and [i["reference"] for i in page["items"]] == [first.reference, second.reference]
    page = client.get("/api/v1/cases?per_page=2&page=2&sort=oldest", headers=headers).get_json()
    assert page["has_next"] is False and [i["reference"] for i in page["items"]] == [third.reference]


@pytest.mark.parametrize("query", ["?status=lost", "?per_page=0", "?per_page=101", "?page=abc", "?created_from=x",
                                   "?sort=random", "?handler_id=99999999999", "?q=%00",
                                   "?stauts=closed"])
def test_bad_list_parameters_are_422_with_the_fields(client, bearer, query):
    _, headers = bearer()
    error = _error(client.get("/api/v1/cases" + query, headers=headers), 422, "invalid")
    assert list(error["fields"]) == ["query"]


def test_a_case_has_its_facts_and_no_secret(client, bearer, make_case):
    filed = make_case(loss_usdt=2_500)
    _, headers = bearer(Role.LEGAL)
    response = client.get(f"/api/v1/cases/{filed.case.reference.lower()}", headers=headers)
    assert response.status_code == 200
    case = response.get_json()
    assert case["reference"] == filed.case.reference and case["status"] == "submitted"
    assert case["incident_type"] == "approval_phishing" and case["chain_ids"] == [1]
    assert case["losses"] == [{"chain_id": 1, "asset_symbol": "USDT", "token_address": None,
                               "amount_raw": "2500000000", "decimals": 6, "amount": "2,500"}]
    assert {(a["address"], a["role"]) for a in case["addresses"]} == {(VICTIM, "victim"), (ATTACKER, "attacker")}
    assert case["transactions"][0]["tx_hash"] == "0x" + "ab" * 32
    assert case["reporter"]["email"] == "victim@example.org" and case["reporter"]["name"] == "Li Wei"
    assert case["referrals"] == {"total": 0, "open": 0, "by_status": {}}
    text = response.get_data(as_text=True)
    assert filed.case.access_token_hash not in text and filed.access_token not in text
    # Reading a case is logged, as opening the case page is.
    assert len(_events(filed.case, EventKind.CASE_VIEWED)) == 1


@pytest.mark.parametrize("reference", ["CW-2000-999999", "nonsense", "CW-2026-0000%00", "%E2%80%AE"])
def test_an_unknown_case_is_404_json(client, bearer, reference):
    _, headers = bearer()
    _error(client.get(f"/api/v1/cases/{reference}", headers=headers), 404, "not_found")


def test_an_unknown_address_and_a_wrong_method_are_json(client, bearer):
    _, headers = bearer()
    _error(client.get("/api/v1/no-such-thing", headers=headers), 404, "not_found")
    response = client.delete("/api/v1/cases", headers=headers)
    _error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]
    assert client.get("/no-such-page").mimetype == "text/html"  # the rest of the site keeps its pages


# --- notes ----------------------------------------------------------------------------------------------------------

def test_a_handler_adds_a_note(client, bearer, make_case):
    case = make_case().case
    user, headers = bearer(Role.HANDLER)
    response = client.post(f"/api/v1/cases/{case.reference}/notes", json={"body": "Exchange desk called back."},
                           headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    note = db.session.get(Note, response.get_json()["id"])
    assert note.body == "Exchange desk called back." and note.author_id == user.id
    assert [e.actor_id for e in _events(case, EventKind.NOTE)] == [user.id]


def test_a_legal_user_cannot_add_a_note(client, bearer, make_case):
    case = make_case().case
    _, headers = bearer(Role.LEGAL)
    response = client.post(f"/api/v1/cases/{case.reference}/notes", json={"body": "x"}, headers=headers)
    assert _error(response, 403, "forbidden")["message"].startswith("Your role does not allow this")
    assert db.session.scalar(select(func.count(Note.id))) == 0


@pytest.mark.parametrize("body", [{}, {"body": ""}, {"body": 5}, {"body": "x", "extra": 1}, {"body": "a\x00b"},
                                  {"body": "x" * 10_001}, [], "text"])
def test_a_bad_note_is_422_and_stores_nothing(client, bearer, make_case, body):
    case = make_case().case
    _, headers = bearer()
    response = client.post(f"/api/v1/cases/{case.reference}/notes", json=body, headers=headers)
    _error(response, 422, "invalid")
    assert db.session.scalar(select(func.count(Note.id))) == 0


def test_a_note_holding_a_recovery_phrase_is_refused(client, bearer, make_case):
    case = make_case().case
    _, headers = bearer()
    phrase = ("abandon ability able about above absent absorb abstract absurd abuse access accident")
    response = client.post(f"/api/v1/cases/{case.reference}/notes", json={"body": phrase}, headers=headers)
    _error(response, 422, "invalid")
    assert db.session.scalar(select(func.count(Note.id))) == 0


def test_a_body_that_is_not_json_is_400(client, bearer, make_case):
    case = make_case().case
    _, headers = bearer()
    response = client.post(f"/api/v1/cases/{case.reference}/notes", data="{not json",
                           headers={**headers, "Content-Type": "application/json"})
    _error(response, 400, "bad_request")


# --- transitions ------------------------------------------------------------------------------------------------------

def test_a_handler_moves_a_case_through_the_api(client, bearer, make_case):
    case = make_case().case
    user, headers = bearer()
    response = client.post(f"/api/v1/cases/{case.reference}/transitions", headers=headers,
                           json={"to": "triage", "reason": "Looked at it", "expected": "submitted"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["case"]["status"] == "triage"
    db.session.expire_all()
    assert case.status is CaseStatus.TRIAGE
    event = _events(case, EventKind.STATUS)[-1]
    assert event.actor_id == user.id and event.data["after"] == "triage" and event.summary == "Looked at it"


def test_an_illegal_transition_is_409_and_says_what_is_allowed(client, bearer, make_case):
    case = make_case().case
    _, headers = bearer()
    response = client.post(f"/api/v1/cases/{case.reference}/transitions", headers=headers,
                           json={"to": "recovery", "reason": "Skip ahead"})
    assert _error(response, 409, "conflict")["message"] == "A case in status “Submitted” can become: Triage, " \
                                                           "Awaiting victim."
    db.session.expire_all()
    assert case.status is CaseStatus.SUBMITTED


def test_a_stale_transition_is_409_and_changes_nothing(client, bearer, make_case):
    case = make_case().case
    _, headers = bearer()
    url = f"/api/v1/cases/{case.reference}/transitions"
    assert client.post(url, headers=headers, json={"to": "triage", "reason": "a", "expected": "submitted"}
                       ).status_code == 200
    # A second system still believes the case is submitted (or the first one sent its request twice).
    response = client.post(url, headers=headers, json={"to": "triage", "reason": "a", "expected": "submitted"})
    assert "Someone else changed this case" in _error(response, 409, "stale")["message"]
    response = client.post(url, headers=headers, json={"to": "awaiting_victim", "reason": "b",
                                                        "expected": "submitted"})
    _error(response, 409, "stale")
    db.session.expire_all()
    assert case.status is CaseStatus.TRIAGE and len(_events(case, EventKind.STATUS)) == 1


def test_closing_needs_a_resolution_and_a_summary(client, bearer, make_case):
    case = make_case().case
    _, headers = bearer(Role.SUPERVISOR)
    url = f"/api/v1/cases/{case.reference}/transitions"
    assert client.post(url, headers=headers, json={"to": "triage", "reason": "a"}).status_code == 200
    response = client.post(url, headers=headers, json={"to": "closed", "reason": "done"})
    assert _error(response, 409, "conflict")["message"] == "Choose a resolution before closing the case."
    response = client.post(url, headers=headers, json={"to": "closed", "reason": "done", "resolution": "withdrawn",
                                                        "victim_summary": "You asked us to stop."})
    assert response.status_code == 200 and response.get_json()["case"]["resolution"] == "withdrawn"


def test_a_legal_user_cannot_transition(client, bearer, make_case):
    case = make_case().case
    _, headers = bearer(Role.LEGAL)
    response = client.post(f"/api/v1/cases/{case.reference}/transitions", headers=headers,
                           json={"to": "triage", "reason": "a"})
    _error(response, 403, "forbidden")
    db.session.expire_all()
    assert case.status is CaseStatus.SUBMITTED


@pytest.mark.parametrize("body", [{"reason": "a"}, {"to": "triage"}, {"to": "lost", "reason": "a"},
                                  {"to": "triage", "reason": "a", "confirm_open_referrals": "maybe"}])
def test_a_bad_transition_body_names_the_fields(client, bearer, make_case, body):
    case = make_case().case
    _, headers = bearer()
    error = _error(client.post(f"/api/v1/cases/{case.reference}/transitions", headers=headers, json=body),
                   422, "invalid")
    assert list(error["fields"]) == ["json"]


# --- referrals --------------------------------------------------------------------------------------------------------

def test_the_referrals_of_a_case_are_listed(client, bearer, make_case):
    case = make_case().case
    referral = _referral(case)
    _, headers = bearer(Role.LEGAL)
    response = client.get(f"/api/v1/cases/{case.reference}/referrals", headers=headers)
    assert response.status_code == 200
    [item] = response.get_json()["items"]
    assert item["id"] == referral.id and item["status"] == "sent" and item["kind"] == "exchange_freeze"
    assert item["amount_raw"] == "1250500000" and item["amount"] == "1,250.5" and item["decimals"] == 6
    assert item["next_statuses"] == ["acknowledged", "frozen", "declined", "returned", "closed"]
    assert client.get(f"/api/v1/cases/{case.reference}", headers=headers).get_json()["referrals"] == {
        "total": 1, "open": 1, "by_status": {"sent": 1}}


def test_an_exchange_desk_posts_frozen(client, bearer, make_case):
    case = make_case().case
    referral = _referral(case)
    user, headers = bearer()
    response = client.patch(f"/api/v1/referrals/{referral.id}", headers=headers,
                            json={"status": "frozen", "note": "Ticket 4411: 1,250.5 USDT frozen", "expected": "sent"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == "frozen" and response.get_json()["next_statuses"] == ["returned", "closed"]
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status is ReferralStatus.FROZEN
    [event] = _events(case, EventKind.REFERRAL)
    assert event.actor_id == user.id
    assert event.data == {"target": "Example Exchange", "before": "sent", "after": "frozen",
                          "note": "Ticket 4411: 1,250.5 USDT frozen"}
    assert event.staff_summary.startswith("Example Exchange: Sent → Funds frozen")


def test_a_stale_or_illegal_referral_change_changes_nothing(client, bearer, make_case):
    case = make_case().case
    referral = _referral(case, ReferralStatus.ACKNOWLEDGED)
    _, headers = bearer()
    url = f"/api/v1/referrals/{referral.id}"
    _error(client.patch(url, headers=headers, json={"status": "frozen", "expected": "sent"}), 409, "stale")
    error = _error(client.patch(url, headers=headers, json={"status": "drafted"}), 409, "conflict")
    assert error["message"] == ("A referral in status “Acknowledged” can become: Funds frozen, Declined, "
                                "Funds returned, Closed.")
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status is ReferralStatus.ACKNOWLEDGED
    assert _events(case, EventKind.REFERRAL) == []


def test_a_legal_user_cannot_change_a_referral(client, bearer, make_case):
    referral = _referral(make_case().case)
    _, headers = bearer(Role.LEGAL)
    _error(client.patch(f"/api/v1/referrals/{referral.id}", headers=headers, json={"status": "frozen"}),
           403, "forbidden")


@pytest.mark.parametrize("referral_id", ["999", "99999999999999999999"])
def test_an_unknown_referral_is_404(client, bearer, referral_id):
    _, headers = bearer()
    _error(client.patch(f"/api/v1/referrals/{referral_id}", headers=headers, json={"status": "frozen"}),
           404, "not_found")


def _moves():
    for src, dst in itertools.product(ReferralStatus, repeat=2):
        yield src, dst, dst in ALLOWED_MOVES[src]


@pytest.mark.parametrize("move", list(_moves()), ids=lambda m: f"{m[0].value}->{m[1].value}")
def test_every_referral_move_is_allowed_or_refused_by_the_table(app, make_case, make_user, move):
    src, dst, allowed = move
    referral = _referral(make_case().case, src)
    handler = make_user(Role.HANDLER)
    if allowed:
        referrals.update_referral(handler, referral, dst, note="desk said so", expected=src)
        db.session.commit()
        assert db.session.get(Referral, referral.id).status is dst
        assert (referral.sent_at is not None) is (dst is ReferralStatus.SENT)
    else:
        with pytest.raises(WorkflowError) as refused:
            referrals.update_referral(handler, referral, dst, expected=src)
        assert not isinstance(refused.value, StaleChange)
        db.session.rollback()
        assert db.session.get(Referral, referral.id).status is src


def test_a_referral_change_needs_a_role_that_works_cases(app, make_case, make_user):
    referral = _referral(make_case().case)
    with pytest.raises(AccessDenied):
        referrals.update_referral(make_user(Role.LEGAL), referral, ReferralStatus.FROZEN)


# --- rate limit -------------------------------------------------------------------------------------------------------

def test_each_token_has_its_own_rate_limit(app, client, bearer):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    _, busy = bearer()
    _, other = bearer()
    for _attempt in range(3):
        assert client.get("/api/v1/cases", headers=busy).status_code == 200
    response = client.get("/api/v1/cases", headers=busy)
    _error(response, 429, "rate_limited")
    assert 1 <= int(response.headers["Retry-After"]) <= 61  # the window ends within the minute
    assert client.get("/api/v1/cases", headers=other).status_code == 200


# --- token pages ------------------------------------------------------------------------------------------------------

def test_a_new_token_is_shown_once_and_then_works(client, make_user, login):
    user = make_user(Role.HANDLER)
    login(user)
    response = client.post("/staff/tokens", data={"name": "Exchange desk", "csrf_token": csrf_token(client,
                                                                                                     "/staff/tokens")})
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    secret = re.search(r'<code class="token-secret">([^<]+)</code>', response.get_data(as_text=True)).group(1)
    listing = client.get("/staff/tokens").get_data(as_text=True)
    assert "Exchange desk" in listing and secret not in listing and secret[:10] in listing
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    fresh = client.application.test_client()
    assert fresh.get("/api/v1/cases", headers={"Authorization": f"Bearer {secret}"}).status_code == 200


def test_a_token_form_sent_twice_makes_one_token(client, make_user, login):
    user = make_user(Role.HANDLER)
    login(user)
    token = csrf_token(client, "/staff/tokens")
    assert client.post("/staff/tokens", data={"name": "Desk", "csrf_token": token}).status_code == 201
    response = client.post("/staff/tokens", data={"name": "Desk", "csrf_token": token})
    assert response.status_code == 422 and "already have a token named" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ApiToken.id))) == 1


def test_token_forms_need_their_csrf_token(client, make_user, login):
    login(make_user(Role.HANDLER))
    assert client.post("/staff/tokens", data={"name": "Desk"}).status_code == 400
    assert db.session.scalar(select(func.count(ApiToken.id))) == 0


def test_a_staff_member_revokes_their_own_token_but_not_anothers(client, make_user, login):
    owner, other = make_user(Role.HANDLER), make_user(Role.HANDLER)
    mine = api_tokens.create_token(owner, "mine").token
    theirs = api_tokens.create_token(other, "theirs").token
    db.session.commit()
    login(owner)
    token = csrf_token(client, "/staff/tokens")
    assert client.post(f"/staff/tokens/{theirs.id}/revoke", data={"csrf_token": token}).status_code == 404
    response = client.post(f"/staff/tokens/{mine.id}/revoke", data={"csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ApiToken, mine.id).revoked_at is not None
    assert db.session.get(ApiToken, theirs.id).revoked_at is None
    assert "theirs" not in client.get("/staff/tokens").get_data(as_text=True)


def test_an_admin_lists_and_revokes_every_token(client, make_user, login):
    handler = make_user(Role.HANDLER)
    theirs = api_tokens.create_token(handler, "handler's desk").token
    db.session.commit()
    login(make_user(Role.ADMIN))
    page = client.get("/staff/admin/tokens")
    assert page.status_code == 200 and "handler&#39;s desk" in page.get_data(as_text=True)
    response = client.post(f"/staff/admin/tokens/{theirs.id}/revoke",
                           data={"csrf_token": csrf_token(client, "/staff/admin/tokens")})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ApiToken, theirs.id).revoked_at is not None


@pytest.mark.parametrize("role", [Role.HANDLER, Role.SUPERVISOR, Role.LEGAL])
def test_only_admins_see_every_token(client, make_user, login, role):
    other = api_tokens.create_token(make_user(Role.HANDLER), "desk").token
    db.session.commit()
    login(make_user(role))
    assert client.get("/staff/admin/tokens").status_code == 403
    response = client.post(f"/staff/admin/tokens/{other.id}/revoke",
                           data={"csrf_token": csrf_token(client, "/staff/tokens")})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(ApiToken, other.id).revoked_at is None


def test_the_token_pages_need_a_sign_in(client):
    assert client.get("/staff/tokens").status_code == 302
    assert client.get("/staff/admin/tokens").status_code == 302


# --- the OpenAPI document ---------------------------------------------------------------------------------------------

def test_the_openapi_document_describes_every_endpoint_and_the_bearer_scheme(client, app):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "A staff member's API token (create one at /staff/tokens)."}
    assert spec["security"] == [{"bearerAuth": []}]
    operations = {(path, method) for path, item in spec["paths"].items() for method in item if method != "parameters"}
    routes = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
              for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert operations == routes
    for path, method in operations:
        responses = spec["paths"][path][method]["responses"]
        assert "default" in responses and any(code.startswith("2") for code in responses), (path, method)
    assert spec["components"]["schemas"]["Error"]["properties"]["error"]
