"""Who may do what, route by route: one table-driven test of the whole matrix, generated from the URL map.

Every endpoint and method the application serves must have a rule in RULES (a new route without one fails
`test_every_route_has_a_rule`). A rule names the route's access level and the request to send: a URL built from
a seeded world (two cases, a file, a trace run) and form data valid enough that the request reaches the service
that checks permissions (an empty form would be refused by validation before a role could be refused).

Each route is tried by every actor: anonymous, a victim who holds another case's private link, the case's own
victim (portal routes), and each staff role. What each actor must get follows from the level:

- PUBLIC: everyone reaches it (a clear answer, never 401/403/500);
- PORTAL: only the case's own victim; everyone else is sent to the portal's sign-in (/track);
- TOKEN: the JSON API answers 401 to every actor here, signed-in staff included: only an API token opens it
  (which role's token may do what is tested in tests/casework/test_api.py);
- STAFF / VIEW / WORK / SUPERVISE / ADMIN: anonymous visitors and victims are sent to the staff sign-in; a
  staff member whose role lacks the permission gets 403; one who holds it gets through.

"Gets through" means 2xx, a redirect that is not a sign-in, or 409/422 (the request reached the service and
was refused on its merits, e.g. a stale form). Every POST carries its client's CSRF token; the last test checks
that every POST route refuses a request without one.
"""

from __future__ import annotations

import enum
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from casework.extensions import db, limiter
from casework.models import Role, TraceRun
from casework.services import directory, sla_policies, uploads
from casework.services.tokens import new_access_token
from tests.fixtures.factories import PASSWORD, csrf_token

from .test_case_page import EMPTY_GRAPH

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


class Level(enum.Enum):
    PUBLIC = "public"
    PORTAL = "portal"
    STAFF = "staff"  # any signed-in staff member
    VIEW = "view"  # Permission.VIEW_CASES
    WORK = "work"  # Permission.WORK_CASES
    SUPERVISE = "supervise"  # supervisors' permissions (assign, override priority, reopen, merge)
    ADMIN = "admin"  # admins only
    TOKEN = "token"  # the JSON API: an API token is the only way in, a signed-in session or a portal link is not
    DOSSIER = "dossier"  # issuing and downloading documents: legal, supervisors, admins and the assigned handler


ALLOWED_ROLES = {
    Level.STAFF: {Role.HANDLER, Role.SUPERVISOR, Role.LEGAL, Role.ADMIN},
    Level.VIEW: {Role.HANDLER, Role.SUPERVISOR, Role.LEGAL, Role.ADMIN},
    Level.WORK: {Role.HANDLER, Role.SUPERVISOR, Role.ADMIN},
    Level.SUPERVISE: {Role.SUPERVISOR, Role.ADMIN},
    Level.ADMIN: {Role.ADMIN},
    # The handler took the world's case (console.take runs before the documents routes), so it is theirs; a handler
    # who is not assigned is refused (tests/casework/test_dossiers.py).
    Level.DOSSIER: {Role.HANDLER, Role.LEGAL, Role.SUPERVISOR, Role.ADMIN},
}
ANONYMOUS, OTHER_VICTIM, OWN_VICTIM = "anonymous", "victim of another case", "the case's victim"
ACTORS: list[str | Role] = [ANONYMOUS, OTHER_VICTIM, OWN_VICTIM, *Role]


@dataclass
class World:
    """What the routes' URLs and forms point at."""

    reference: str
    other_reference: str
    token: str
    file_id: int
    run_id: int
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    level: Level
    url: Callable[[World], str]
    data: Callable[[World], dict[str, Any]] = lambda world: {}
    # Where a request that got through may be sent on: signing out ends at the staff sign-in, forgetting a case
    # or asking for a new link at the portal's. Public pages may send anyone to either.
    lands: frozenset[str] = frozenset()

    def counts_as_through(self, outcome: str) -> bool:
        if self.level is Level.PUBLIC:
            return outcome in {"through", "staff sign-in", "portal sign-in"}
        return outcome == "through" or outcome in self.lands


def case_url(suffix: str = "") -> Callable[[World], str]:
    return lambda world: f"/staff/cases/{world.reference}{suffix}"


def track_url(suffix: str = "") -> Callable[[World], str]:
    return lambda world: f"/track/{world.reference}{suffix}"


def fixed(url: str) -> Callable[[World], str]:
    return lambda world: url


TODAY = date.today()
RULES: dict[tuple[str, str], Rule] = {
    # The public site and the victim's report wizard.
    ("public.landing", "GET"): Rule(Level.PUBLIC, fixed("/")),
    ("public.set_language", "POST"): Rule(Level.PUBLIC, fixed("/language"), lambda w: {"language": "en"}),
    ("report.start", "GET"): Rule(Level.PUBLIC, fixed("/report/")),
    ("report.step", "GET"): Rule(Level.PUBLIC, fixed("/report/step/1")),
    ("report.step", "POST"): Rule(Level.PUBLIC, fixed("/report/step/1")),
    ("report.review", "GET"): Rule(Level.PUBLIC, fixed("/report/review")),
    ("report.saved", "GET"): Rule(Level.PUBLIC, fixed("/report/saved")),
    ("report.resume", "GET"): Rule(Level.PUBLIC, fixed("/report/resume/not-a-real-token")),
    ("report.submit", "POST"): Rule(Level.PUBLIC, fixed("/report/submit")),
    ("report.discard", "POST"): Rule(Level.PUBLIC, fixed("/report/discard")),
    ("report.done", "GET"): Rule(Level.PUBLIC, fixed("/report/done")),
    ("auth.login", "GET"): Rule(Level.PUBLIC, fixed("/staff/login")),
    ("auth.login", "POST"): Rule(Level.PUBLIC, fixed("/staff/login"),
                                 lambda w: {"email": "nobody@example.org", "password": "wrong"}),
    ("auth.logout", "POST"): Rule(Level.STAFF, fixed("/staff/logout"), lands=frozenset({"staff sign-in"})),
    ("auth.settings", "GET"): Rule(Level.STAFF, fixed("/staff/settings")),
    ("auth.save_settings", "POST"): Rule(Level.STAFF, fixed("/staff/settings"), lambda w: {
        "time_zone": "Europe/Berlin", "language": "", "sla_warnings": "digest"}),
    # The victim's portal.
    ("track.start", "GET"): Rule(Level.PUBLIC, fixed("/track")),
    ("track.start", "POST"): Rule(Level.PUBLIC, fixed("/track"), lambda w: {"reference": w.reference,
                                                                             "code": "wrong-code"}),
    ("track.new_link", "GET"): Rule(Level.PUBLIC, fixed("/track/new-link")),
    ("track.new_link", "POST"): Rule(Level.PUBLIC, fixed("/track/new-link"),
                                     lambda w: {"reference": w.reference, "email": "someone@example.org"}),
    # Following a private link is how a victim gets in: anyone may try one (a wrong token gets nothing).
    ("track.private_link", "GET"): Rule(Level.PUBLIC, lambda w: f"/track/{w.reference}/not-the-token"),
    ("track.case", "GET"): Rule(Level.PORTAL, track_url()),
    ("track.report_pdf", "GET"): Rule(Level.PORTAL, track_url("/report.pdf")),
    ("track.send_message", "POST"): Rule(Level.PORTAL, track_url("/messages"),
                                         lambda w: {"message-body": "Any news?"}),
    ("track.add_information", "POST"): Rule(Level.PORTAL, track_url("/information"),
                                            lambda w: {"info-text": "They wrote to me again."}),
    ("track.add_address", "POST"): Rule(Level.PORTAL, track_url("/addresses"), lambda w: {
        "address-chain_id": "1", "address-address": "0x" + "5a" * 20, "address-role": "victim"}),
    ("track.add_transaction", "POST"): Rule(Level.PORTAL, track_url("/transactions"), lambda w: {
        "tx-chain_id": "1", "tx-tx_hash": "0x" + "5b" * 32}),
    ("track.add_file", "POST"): Rule(Level.PORTAL, track_url("/files")),
    ("track.forget", "POST"): Rule(Level.PORTAL, track_url("/forget"), lands=frozenset({"portal sign-in"})),
    # The staff console.
    ("console.cases", "GET"): Rule(Level.VIEW, fixed("/staff/cases")),
    ("console.cases_csv", "GET"): Rule(Level.VIEW, fixed("/staff/cases.csv")),
    ("console.case_detail", "GET"): Rule(Level.VIEW, case_url()),
    ("console.case_file", "GET"): Rule(Level.VIEW, lambda w: f"/staff/cases/{w.reference}/files/{w.file_id}"),
    ("console.reply", "POST"): Rule(Level.WORK, case_url("/messages"), lambda w: {"reply-body": "We are on it."}),
    ("console.add_note", "POST"): Rule(Level.WORK, case_url("/notes"), lambda w: {"note-body": "Checked."}),
    ("console.change_status", "POST"): Rule(Level.WORK, case_url("/status"), lambda w: {
        "status-to": "triage", "status-reason": "Reading the report.", "status-current": "submitted"}),
    ("console.change_priority", "POST"): Rule(Level.SUPERVISE, case_url("/priority"), lambda w: {
        "priority-current": "high", "priority-priority": "low", "priority-reason": "Small loss.",
        "priority-override": "y"}),
    ("console.merge_case", "POST"): Rule(Level.SUPERVISE, case_url("/merge"), lambda w: {
        "merge-current": "submitted", "merge-target": w.other_reference, "merge-reason": "Same theft."}),
    ("console.take", "POST"): Rule(Level.WORK, case_url("/take"), lambda w: {"take-expected_handler": ""}),
    ("console.assign", "POST"): Rule(Level.SUPERVISE, case_url("/assign"), lambda w: {
        "assign-expected_handler": "", "assign-handler": "999999", "assign-reason": "Reads Chinese."}),
    ("console.add_task", "POST"): Rule(Level.WORK, case_url("/tasks"), lambda w: {"task-title": "Call the exchange"}),
    ("console.complete_task", "POST"): Rule(Level.WORK, case_url("/tasks/999999/done")),
    ("console.reopen_task", "POST"): Rule(Level.WORK, case_url("/tasks/999999/reopen")),
    ("referrals.open_referral", "POST"): Rule(Level.WORK, case_url("/referrals"), lambda w: {
        "organisation": "999999"}),
    ("referrals.draft", "POST"): Rule(Level.WORK, case_url("/referrals/999999/draft")),
    ("referrals.edit", "POST"): Rule(Level.WORK, case_url("/referrals/999999/edit"), lambda w: {
        "subject": "Freeze request", "body": "Please freeze."}),
    ("referrals.send", "POST"): Rule(Level.WORK, case_url("/referrals/999999/send")),
    ("referrals.change_status", "POST"): Rule(Level.WORK, case_url("/referrals/999999/status"), lambda w: {
        "status": "acknowledged"}),
    ("referrals.record_amount", "POST"): Rule(Level.WORK, case_url("/referrals/999999/amount"), lambda w: {
        "kind": "frozen", "amount": "1"}),
    ("referrals.follow_up", "POST"): Rule(Level.WORK, case_url("/referrals/999999/follow-up"), lambda w: {
        "note": "Called the desk."}),
    ("referrals.police_report", "POST"): Rule(Level.WORK, case_url("/referrals/999999/police-report"), lambda w: {
        "note": "Report 2026-123 sent by the police."}),
    ("evidence.capture", "POST"): Rule(Level.WORK, case_url("/evidence/capture")),
    ("evidence.discover", "POST"): Rule(Level.WORK, case_url("/evidence/discover"), lambda w: {
        "chain_id": "1", "since": (TODAY - timedelta(days=2)).isoformat(), "until": TODAY.isoformat()}),
    ("evidence.trace", "POST"): Rule(Level.WORK, case_url("/evidence/trace"),
                                     lambda w: {"chain_id": "1", "depth": "2", "breadth": "2"}),
    ("evidence.confirm", "POST"): Rule(Level.WORK, case_url("/evidence/transfers/999999/confirm")),
    ("evidence.add_attacker", "POST"): Rule(Level.WORK, case_url("/evidence/attackers"), lambda w: {
        "attacker-chain_id": "1", "attacker-address": "0x" + "7a" * 20, "attacker-reason": "Named in the scam chat."}),
    ("evidence.graph", "GET"): Rule(Level.VIEW, lambda w: f"/staff/cases/{w.reference}/evidence/graph/{w.run_id}.svg"),
    ("documents.issue", "POST"): Rule(Level.DOSSIER, case_url("/documents"), lambda w: {
        "audience": "evidence", "language": "en"}),
    ("documents.download", "GET"): Rule(Level.DOSSIER, case_url("/documents/999999.pdf")),
    ("documents.transfers_sheet", "GET"): Rule(Level.DOSSIER, case_url("/documents/999999/transfers.csv")),
    ("documents.verify", "GET"): Rule(Level.PUBLIC, fixed("/verify")),
    ("documents.verify", "POST"): Rule(Level.PUBLIC, fixed("/verify"), lambda w: {"reference": "ABCDE-FGHIJ"}),
    ("labels.index", "GET"): Rule(Level.VIEW, fixed("/staff/labels")),
    ("labels.index", "POST"): Rule(Level.WORK, fixed("/staff/labels"), lambda w: {
        "address": "0x" + "6c" * 20, "name": "Harbour Exchange deposit", "category": "exchange", "chain_id": "0"}),
    # The dashboard.
    ("dashboard.index", "GET"): Rule(Level.VIEW, fixed("/staff/dashboard")),
    ("dashboard.figure_csv", "GET"): Rule(Level.VIEW, fixed("/staff/dashboard/losses.csv")),
    # The SLA page: supervisors and admins (handlers see their clocks on the case pages and in the queue).
    ("sla.index", "GET"): Rule(Level.SUPERVISE, fixed("/staff/sla")),
    ("sla.table_csv", "GET"): Rule(Level.SUPERVISE, fixed("/staff/sla/compliance.csv")),
    # SLA policies and calendars: admins only.
    ("sla.admin", "GET"): Rule(Level.ADMIN, fixed("/staff/admin/sla")),
    ("sla.download", "GET"): Rule(Level.ADMIN, fixed("/staff/admin/sla/policies.yaml")),
    ("sla.edit_policy", "POST"): Rule(Level.ADMIN, fixed("/staff/admin/sla/policies/triage"), lambda w: {
        "calendar": "office", **{f"cells-{index}-{what}": "4h" for index in range(4)
                                 for what in ("target", "warning", "head_after")}}),
    ("sla.edit_calendar", "POST"): Rule(Level.ADMIN, fixed("/staff/admin/sla/calendars/office"), lambda w: {
        "timezone": "Asia/Shanghai", "country": "CN", **{f"weekly-{day}": "09:00-18:00" for day in range(5)}}),
    ("sla.upload", "POST"): Rule(Level.ADMIN, fixed("/staff/admin/sla/file"), lambda w: {
        "file": (io.BytesIO(sla_policies.DEFAULTS_FILE.read_bytes()), "sla_policies.yaml")}),
    # API tokens (the staff member's own) and the JSON API.
    ("tokens.own", "GET"): Rule(Level.STAFF, fixed("/staff/tokens")),
    ("tokens.create", "POST"): Rule(Level.STAFF, fixed("/staff/tokens"), lambda w: {"name": "Exchange desk"}),
    ("tokens.revoke", "POST"): Rule(Level.STAFF, fixed("/staff/tokens/999999/revoke")),
    ("tokens.admin_list", "GET"): Rule(Level.ADMIN, fixed("/staff/admin/tokens")),
    ("tokens.admin_revoke", "POST"): Rule(Level.ADMIN, fixed("/staff/admin/tokens/999999/revoke")),
    ("api-docs.openapi_json", "GET"): Rule(Level.PUBLIC, fixed("/api/v1/openapi.json")),
    ("api.list_cases", "GET"): Rule(Level.TOKEN, fixed("/api/v1/cases")),
    ("api.get_case", "GET"): Rule(Level.TOKEN, lambda w: f"/api/v1/cases/{w.reference}"),
    ("api.list_referrals", "GET"): Rule(Level.TOKEN, lambda w: f"/api/v1/cases/{w.reference}/referrals"),
    ("api.add_note", "POST"): Rule(Level.TOKEN, lambda w: f"/api/v1/cases/{w.reference}/notes"),
    ("api.transition", "POST"): Rule(Level.TOKEN, lambda w: f"/api/v1/cases/{w.reference}/transitions"),
    ("api.update_referral", "PATCH"): Rule(Level.TOKEN, fixed("/api/v1/referrals/1")),
    # Administration.
    ("admin.user_list", "GET"): Rule(Level.SUPERVISE, fixed("/staff/admin/users")),
    ("admin.set_on_duty", "POST"): Rule(Level.SUPERVISE, fixed("/staff/admin/users/999999/on-duty"),
                                        lambda w: {"on_duty": "1"}),
    # Staff alerts.
    ("alerts.index", "GET"): Rule(Level.STAFF, fixed("/staff/alerts")),
    ("alerts.mark_read", "POST"): Rule(Level.STAFF, fixed("/staff/alerts/read")),
    ("admin.task_template_list", "GET"): Rule(Level.ADMIN, fixed("/staff/admin/task-templates")),
    ("admin.add_task_template_item", "POST"): Rule(Level.ADMIN, fixed("/staff/admin/task-templates"), lambda w: {
        "add-incident_type": "other", "add-title": "Ask for the chat export"}),
    ("admin.edit_task_template_item", "POST"): Rule(Level.ADMIN, fixed("/staff/admin/task-templates/999999"),
                                                    lambda w: {"item999999-title": "Renamed"}),
    ("admin.set_task_template_item_active", "POST"): Rule(Level.ADMIN,
                                                          fixed("/staff/admin/task-templates/999999/active"),
                                                          lambda w: {"active": "0"}),
    # The directory of organisations: staff read it, admins edit it.
    ("directory.index", "GET"): Rule(Level.VIEW, fixed("/staff/admin/organisations")),
    ("directory.show", "GET"): Rule(Level.VIEW, fixed("/staff/admin/organisations/harbour-exchange")),
    ("directory.new", "GET"): Rule(Level.ADMIN, fixed("/staff/admin/organisations/new")),
    ("directory.edit", "GET"): Rule(Level.ADMIN, fixed("/staff/admin/organisations/harbour-exchange/edit")),
    ("directory.create", "POST"): Rule(Level.ADMIN, fixed("/staff/admin/organisations"), lambda w: {
        "slug": "matrix-exchange", "name": "Matrix Exchange", "kind": "exchange", "requester": "police",
        "channel_kind": "none"}),
    ("directory.update", "POST"): Rule(Level.ADMIN, fixed("/staff/admin/organisations/harbour-exchange"),
                                       lambda w: {"name": "Harbour Exchange", "kind": "exchange",
                                                  "requester": "victim", "channel_kind": "email",
                                                  "channel": "freeze@harbour.example", "courtesy_hold_days": "7"}),
    ("directory.set_active", "POST"): Rule(Level.ADMIN, fixed("/staff/admin/organisations/harbour-exchange/active"),
                                           lambda w: {"active": "1"}),
}
IGNORED_METHODS = {"HEAD", "OPTIONS"}
NOT_ROUTES = {"static"}


def served_routes(app) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules() if rule.endpoint not in NOT_ROUTES
        for method in rule.methods - IGNORED_METHODS
    }


def test_every_route_has_a_rule(app):
    served = served_routes(app)
    assert sorted(served - RULES.keys()) == [], "a route without a rule in RULES: add one (who may use it?)"
    assert sorted(RULES.keys() - served) == [], "a rule for a route that no longer exists: remove it"


@pytest.fixture
def world(app, client, make_case) -> World:
    """(`client` makes app.test_client() give clients that run each request in its own app context.)"""
    case, other = make_case().case, make_case(name="Zhang Min").case
    token, case.access_token_hash = new_access_token()
    file_id = uploads.store_upload(PNG, "wallet.png", case=case).file.id
    run = TraceRun(case_id=case.id, chain_id=1, graph=EMPTY_GRAPH)
    db.session.add(run)
    assert directory.import_file(directory.DEMO_FILE).problems == []
    db.session.commit()
    other_token, other.access_token_hash = new_access_token()
    db.session.commit()
    return World(reference=case.reference, other_reference=other.reference, token=token, file_id=file_id,
                 run_id=run.id, extra={"other_token": other_token})


def _client_for(app, actor, world: World, make_user) -> FlaskClient:
    client = app.test_client()
    if actor == OWN_VICTIM:
        assert client.get(f"/track/{world.reference}/{world.token}").status_code == 302
    elif actor == OTHER_VICTIM:
        assert client.get(f"/track/{world.other_reference}/{world.extra['other_token']}").status_code == 302
    elif isinstance(actor, Role):
        user = make_user(actor)
        token = csrf_token(client, "/staff/login")
        response = client.post("/staff/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)
    return client


def _expected(level: Level, actor) -> str:
    if level is Level.PUBLIC:
        return "through"
    if level is Level.PORTAL:
        return "through" if actor == OWN_VICTIM else "portal sign-in"
    if level is Level.TOKEN:
        return "refused"
    if not isinstance(actor, Role):
        return "staff sign-in"
    return "through" if actor in ALLOWED_ROLES[level] else "refused"


def _outcome(response) -> str:
    location = response.headers.get("Location", "")
    if response.status_code in (301, 302, 303):
        if "/staff/login" in location:
            return "staff sign-in"
        if re.search(r"/track(\?|$)", location):
            return "portal sign-in"
        return "through"
    if response.status_code in (401, 403):
        return "refused"
    if response.status_code >= 500:
        return f"server error {response.status_code}"
    if response.status_code < 300 or response.status_code in (400, 404, 409, 422):
        return "through"
    return f"status {response.status_code}"


def _send(client: FlaskClient, method: str, url: str, data: dict[str, Any]):
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, data={**data, "csrf_token": csrf_token(client, "/track")})


# Requests that end the actor's access (signing out, forgetting the case) run after every other.
LAST = {("auth.logout", "POST"), ("track.forget", "POST")}
ROUTES = sorted(RULES, key=lambda route: (route in LAST, route))


def test_each_actor_gets_what_its_role_allows_on_every_route(app, world, make_user):
    """One client per actor, signed in once, tries every route; every answer that differs from the table is
    reported together (a change made by one request, such as a status change, leaves later forms stale: a stale
    form's 409/422 still counts as having got through)."""
    wrong = {}
    for actor in ACTORS:
        limiter.reset()  # each actor comes from the same test address: refused openings must not add up
        client = _client_for(app, actor, world, make_user)
        name = actor.value if isinstance(actor, Role) else actor
        for endpoint, method in ROUTES:
            rule = RULES[endpoint, method]
            response = _send(client, method, rule.url(world), rule.data(world))
            expected, outcome = _expected(rule.level, actor), _outcome(response)
            if expected == "through" and rule.counts_as_through(outcome):
                continue
            if expected != outcome:
                wrong[f"{method} {endpoint} as {name}"] = f"expected {expected}, got {outcome} ({response.status_code})"
    assert wrong == {}


def test_the_staff_pages_a_role_may_read_answer_200(app, world, make_user):
    """The matrix counts 404 as having reached the service; the pages a reader may open must really open."""
    client = _client_for(app, Role.LEGAL, world, make_user)
    for (endpoint, method), rule in RULES.items():
        if method == "GET" and rule.level in (Level.VIEW, Level.STAFF):
            assert client.get(rule.url(world)).status_code == 200, endpoint


def test_every_form_needs_its_csrf_token(app, world, make_user):
    """(The JSON API takes no cookie, so it needs no CSRF token: the matrix shows a session cannot reach it.)"""
    victim, admin = (_client_for(app, actor, world, make_user) for actor in (OWN_VICTIM, Role.ADMIN))
    accepted = {}
    for endpoint, method in ROUTES:
        rule = RULES[endpoint, method]
        if method == "GET" or rule.level is Level.TOKEN:
            continue
        client = victim if rule.level is Level.PORTAL else admin
        response = client.open(rule.url(world), method=method, data=rule.data(world))
        if response.status_code != 400:
            accepted[f"{method} {endpoint}"] = response.status_code
    assert accepted == {}
