"""The admins' SLA policies page: the policies in force and the calendars shown for editing; a change to one
metric's policy or one calendar, or an uploaded policy file, replaces the policies and recomputes the running
clocks exactly as `sla import-policies` does, and is logged; bad input is refused with a message on the page and
changes nothing; only admins may do any of it."""

from __future__ import annotations

import io
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest

from casework.extensions import db
from casework.models import Priority, Role, SlaMetric
from casework.services import sla_admin
from casework.services import sla_policies as policies
from casework.services.access import AccessDenied
from casework.services.sla_policies import PolicyError
from tests.fixtures.factories import PASSWORD, csrf_token
from tests.fixtures.sla import TEST_POLICIES, clock

H = timedelta(hours=1)
MONDAY = datetime(2026, 6, 8, 8, 0, tzinfo=UTC)  # 10:00 in Berlin
PRIORITIES = list(Priority)  # the form's rows, in this order


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN)


@pytest.fixture
def signed_in(client, admin):
    response = client.post("/staff/login", data={"email": admin.email, "password": PASSWORD,
                                                 "csrf_token": csrf_token(client, "/staff/login")})
    assert response.status_code == 302
    return client


def _policy_form(client, calendar: str, targets: dict[Priority, str], warning: str = "30m",
                 head_after: str = "") -> dict:
    data = {"csrf_token": csrf_token(client, "/staff/admin/sla"), "calendar": calendar}
    for index, priority in enumerate(PRIORITIES):
        data.update({f"cells-{index}-target": targets[priority], f"cells-{index}-warning": warning,
                     f"cells-{index}-head_after": head_after})
    return data


def _calendar_form(client, *, timezone="Europe/Berlin", weekly=("09:00-18:00",) * 5 + ("", ""), country="",
                   subdivision="", closed="", around_the_clock=False) -> dict:
    data = {"csrf_token": csrf_token(client, "/staff/admin/sla"), "timezone": timezone, "country": country,
            "subdivision": subdivision, "closed": closed}
    data.update({f"weekly-{day}": hours for day, hours in enumerate(weekly)})
    if around_the_clock:
        data["around_the_clock"] = "y"
    return data


def _targets(metric: SlaMetric) -> dict[Priority, int]:
    return {priority: int(policy.target.total_seconds() // 60)
            for (m, priority), policy in policies.in_force().items() if m is metric}


def test_the_page_shows_each_metric_and_priority_and_each_calendar(signed_in):
    page = signed_in.get("/staff/admin/sla")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    for metric in SlaMetric:
        assert f'id="policy-{metric.value}"' in text and metric.title in text
    assert "Office hours" in text and "Around the clock" in text  # the shipped calendars' names, in words
    assert "These are the shipped policies" in text
    assert 'value="Asia/Shanghai"' in text and 'value="CN"' in text
    # Triage at normal priority (the third row): a target of 18 hours, warned 4 hours before, the head of the team
    # 18 hours after.
    triage = text[text.index('id="policy-triage"'):]
    triage = triage[:triage.index("</form>")]
    assert [re.search(rf'name="cells-2-{what}"\s+value="([^"]*)"', triage).group(1)
            for what in ("target", "warning", "head_after")] == ["18h", "4h", "18h"]


def test_saving_a_policy_recomputes_the_running_clocks_and_is_logged(signed_in, file_at, admin, caplog):
    case = file_at(MONDAY)  # low priority: triage due 4 hours after filing
    assert clock(case, SlaMetric.TRIAGE).due_at == MONDAY + 4 * H
    targets = {Priority.CRITICAL: "30m", Priority.HIGH: "1h", Priority.NORMAL: "90m", Priority.LOW: "2h"}
    with caplog.at_level(logging.INFO, logger="casework.services.sla_admin"):
        response = signed_in.post("/staff/admin/sla/policies/triage", data=_policy_form(signed_in, "always", targets),
                                  follow_redirects=True)
    assert response.status_code == 200
    assert "Policy saved. 5 running clocks recomputed." in response.get_data(as_text=True)
    assert _targets(SlaMetric.TRIAGE) == {Priority.CRITICAL: 30, Priority.HIGH: 60, Priority.NORMAL: 90,
                                          Priority.LOW: 120}
    assert policies.policy_for(SlaMetric.TRIAGE, Priority.LOW).head_after is None  # left empty: no such level
    assert clock(case, SlaMetric.TRIAGE).due_at == MONDAY + 2 * H  # counted from the original start
    assert _targets(SlaMetric.EVIDENCE_CAPTURED)[Priority.LOW] == 8 * 60  # the other metrics are as they were
    [entry] = [r for r in caplog.records if "SLA policy triage changed" in r.getMessage()]
    assert f"by staff member {admin.id}" in entry.getMessage() and "@" not in entry.getMessage()


@pytest.mark.parametrize(("low_target", "message"), [
    ("-5m", "-5m is not a duration"),
    ("4 hours", "4 hours is not a duration"),
    ("", "is not a duration"),
])
def test_a_bad_duration_is_refused_on_the_page_and_changes_nothing(signed_in, file_at, low_target, message):
    case = file_at(MONDAY)
    before = _targets(SlaMetric.TRIAGE)
    targets = {Priority.CRITICAL: "1h", Priority.HIGH: "2h", Priority.NORMAL: "3h", Priority.LOW: low_target}
    response = signed_in.post("/staff/admin/sla/policies/triage", data=_policy_form(signed_in, "always", targets))
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in text and "Low: target" in text
    assert f'value="{low_target}"' in text  # what was typed stays to be corrected
    assert _targets(SlaMetric.TRIAGE) == before
    assert clock(case, SlaMetric.TRIAGE).due_at == MONDAY + 4 * H


def test_an_unknown_calendar_or_metric_is_refused(signed_in, sla_policies):
    targets = dict.fromkeys(Priority, "1h")
    response = signed_in.post("/staff/admin/sla/policies/triage", data=_policy_form(signed_in, "nowhere", targets))
    assert response.status_code == 422 and "Choose a calendar from the list." in response.get_data(as_text=True)
    assert signed_in.post("/staff/admin/sla/policies/lunch", data=_policy_form(signed_in, "always", targets)
                          ).status_code == 404
    assert signed_in.post("/staff/admin/sla/calendars/nowhere", data=_calendar_form(signed_in)).status_code == 404


def test_saving_a_calendar_moves_the_deadlines_that_count_in_it(signed_in, file_at):
    case = file_at(MONDAY)  # first response: 8 office hours in Berlin from 10:00 on Monday, due 18:00 (16:00 UTC)
    assert clock(case, SlaMetric.FIRST_RESPONSE).due_at == MONDAY + 8 * H
    response = signed_in.post("/staff/admin/sla/calendars/office", data=_calendar_form(
        signed_in, timezone="Europe/London", closed="2026-06-09, 2026-06-10"))
    assert response.status_code == 302
    office = policies.policy_for(SlaMetric.FIRST_RESPONSE, Priority.LOW).calendar
    assert office.timezone == "Europe/London" and len(office.closed) == 2
    # From 09:00 London (08:00 UTC) on Monday the office is open until 18:00 London (17:00 UTC): 9 hours, so the 8
    # hours end at 16:00 UTC on Monday; the closed Tuesday and Wednesday do not come into it.
    assert clock(case, SlaMetric.FIRST_RESPONSE).due_at == MONDAY + 8 * H
    signed_in.post("/staff/admin/sla/calendars/office", data=_calendar_form(
        signed_in, timezone="Europe/London", weekly=("09:00-12:00",) * 5 + ("", "")))
    # Three hours a day: Monday 09:00-12:00 London (3), Tuesday (3), Wednesday 09:00-11:00 (2).
    assert clock(case, SlaMetric.FIRST_RESPONSE).due_at == datetime(2026, 6, 10, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(("fields", "message"), [
    ({"timezone": "Mars/Olympus_Mons"}, "Mars/Olympus_Mons is not an IANA time zone"),
    ({"timezone": "../../etc/passwd"}, "is not an IANA time zone"),
    ({"weekly": ("9-18",) * 5 + ("", "")}, "9-18 is not an opening interval"),
    ({"weekly": ("18:00-09:00",) * 5 + ("", "")}, "cannot be used"),
    ({"weekly": ("",) * 7}, "cannot be used"),  # a calendar that never opens would hold no deadline
    ({"country": "XX"}, "does not know country XX"),
    ({"country": "cn"}, "two-letter code in capitals"),
    ({"country": "CN", "subdivision": "Atlantis"}, "does not know country CN"),
    ({"closed": "2026-02-30"}, "2026-02-30 is not a date"),
])
def test_a_bad_calendar_is_refused_on_the_page_and_changes_nothing(signed_in, file_at, fields, message):
    case = file_at(MONDAY)
    before = policies.stored()
    response = signed_in.post("/staff/admin/sla/calendars/office", data=_calendar_form(signed_in, **fields))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert policies.stored() == before
    assert clock(case, SlaMetric.FIRST_RESPONSE).due_at == MONDAY + 8 * H


def test_a_calendar_may_become_around_the_clock(signed_in, file_at):
    saturday = MONDAY - 2 * 24 * H
    case = file_at(saturday)  # the office opens at 09:00 on Monday: first response due at 17:00 (15:00 UTC)
    assert clock(case, SlaMetric.FIRST_RESPONSE).due_at == MONDAY + 7 * H
    assert signed_in.post("/staff/admin/sla/calendars/office", data=_calendar_form(
        signed_in, around_the_clock=True, timezone="not used")).status_code == 302
    assert policies.policy_for(SlaMetric.FIRST_RESPONSE, Priority.LOW).calendar.around_the_clock
    assert clock(case, SlaMetric.FIRST_RESPONSE).due_at == saturday + 8 * H


def test_the_downloaded_file_reads_back_as_the_policies_in_force(signed_in, sla_policies):
    response = signed_in.get("/staff/admin/sla/policies.yaml")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert policies.read_policy_file(text).policies() == policies.in_force()
    assert policies.read_policy_file(text) == policies.read_policy_file(TEST_POLICIES)


def test_an_uploaded_file_replaces_the_policies_and_recomputes_the_clocks(signed_in, file_at):
    case = file_at(MONDAY)
    text = signed_in.get("/staff/admin/sla/policies.yaml").get_data(as_text=True)
    changed = text.replace("- metric: triage\n  calendar: always\n  targets:\n    critical: 4h\n    high: 4h\n"
                           "    normal: 4h\n    low: 4h", "- metric: triage\n  calendar: always\n  targets:\n"
                           "    critical: 4h\n    high: 4h\n    normal: 4h\n    low: 6h")
    assert changed != text
    response = signed_in.post("/staff/admin/sla/file", data={
        "csrf_token": csrf_token(signed_in, "/staff/admin/sla"),
        "file": (io.BytesIO(changed.encode()), "policies.yaml")}, content_type="multipart/form-data",
        follow_redirects=True)
    assert "Policy file imported." in response.get_data(as_text=True)
    assert clock(case, SlaMetric.TRIAGE).due_at == MONDAY + 6 * H


@pytest.mark.parametrize(("content", "message"), [
    (b"calendars: [unclosed", "not valid YAML"),
    (b"\xff\xfe\x00bad", "must be UTF-8 text"),
    (TEST_POLICIES.replace("targets: 4h, warning: 1h", "targets: -4h, warning: 1h").encode(), "-4h is not a duration"),
    (TEST_POLICIES.replace("  - {metric: resolution, calendar: always, targets: 30d, warning: 1d}\n", "").encode(),
     "No policy for metric resolution"),
])
def test_a_bad_file_is_refused_on_the_page_and_changes_nothing(signed_in, file_at, content, message):
    case = file_at(MONDAY)
    before = policies.stored()
    response = signed_in.post("/staff/admin/sla/file", data={
        "csrf_token": csrf_token(signed_in, "/staff/admin/sla"),
        "file": (io.BytesIO(content), "policies.yaml")}, content_type="multipart/form-data")
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    db.session.expire_all()
    assert policies.stored() == before
    assert clock(case, SlaMetric.TRIAGE).due_at == MONDAY + 4 * H


def test_a_form_without_a_file_asks_for_one(signed_in, sla_policies):
    response = signed_in.post("/staff/admin/sla/file", data={"csrf_token": csrf_token(signed_in, "/staff/admin/sla")})
    assert response.status_code == 422 and "Choose a file first." in response.get_data(as_text=True)


def test_editing_the_shipped_policies_stores_them_all_with_the_change(app, admin):
    assert policies.stored() is None
    shipped = policies.shipped_defaults()
    sla_admin.edit_policy(admin, "freeze_sent", calendar="around_the_clock",
                          targets=dict.fromkeys(Priority, "30m"), warnings=dict.fromkeys(Priority, "10m"),
                          heads=dict.fromkeys(Priority, "1h"))
    db.session.commit()
    stored = policies.stored()
    assert stored.calendars == shipped.calendars
    changed = {(row.metric, row.priority): row for row in stored.rows}
    assert {p: changed[(SlaMetric.FREEZE_SENT, p)].target_minutes for p in Priority} == dict.fromkeys(Priority, 30)
    assert ({row for row in stored.rows if row.metric is not SlaMetric.FREEZE_SENT}
            == {row for row in shipped.rows if row.metric is not SlaMetric.FREEZE_SENT})


@pytest.mark.parametrize("role", [Role.HANDLER, Role.SUPERVISOR, Role.LEGAL])
def test_only_admins_may_see_or_change_the_policies(app, make_user, sla_policies, role):
    user = make_user(role)
    attempts = (
        lambda: sla_admin.admin_page(user),
        lambda: sla_admin.policy_file(user),
        lambda: sla_admin.import_file(user, TEST_POLICIES.encode()),
        lambda: sla_admin.edit_calendar(user, "office", around_the_clock=True, timezone="", weekly=[""] * 7,
                                        country="", subdivision="", closed=""),
        lambda: sla_admin.edit_policy(user, "triage", calendar="always", targets=dict.fromkeys(Priority, "1h"),
                                      warnings=dict.fromkeys(Priority, "0m"), heads={}),
    )
    for attempt in attempts:
        with pytest.raises(AccessDenied):
            attempt()
    assert policies.read_policy_file(TEST_POLICIES) == policies.stored()


def test_a_service_refusal_names_what_to_fix(app, admin, sla_policies):
    with pytest.raises(PolicyError, match="High: warning: soon is not a duration"):
        sla_admin.edit_policy(admin, "triage", calendar="always", targets=dict.fromkeys(Priority, "1h"),
                              warnings={**dict.fromkeys(Priority, "5m"), Priority.HIGH: "soon"}, heads={})
