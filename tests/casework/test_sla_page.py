"""The supervisors' SLA page: the clocks at risk (inside their own warning window) and in breach (overdue now, or
first breached in the period), compliance per metric and priority over a chosen period (bad dates get a message,
never a 500), breaches per week as an SVG chart beside its table, CSV files safe to open in a spreadsheet, and a
cost that does not grow with the number of cases."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event

from casework.extensions import db
from casework.models import Role, SlaMetric, utcnow
from casework.services import sla_clocks, sla_page, sla_sweep
from casework.services.access import AccessDenied
from casework.services.workflow import WorkflowError
from tests.fixtures.factories import PASSWORD, csrf_token
from tests.fixtures.sla import clock

H = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
MONDAY = datetime(2026, 6, 8, 8, 0, tzinfo=UTC)
# Under tests/fixtures/sla.py's policies a filed case is low priority: triage is due 4 hours after filing (warned
# 1 hour before), evidence capture 8 hours after (warned 15 minutes before), resolution after 30 days.


@pytest.fixture
def supervisor(make_user):
    return make_user(Role.SUPERVISOR)


def _sign_in(client, user):
    response = client.post("/staff/login", data={"email": user.email, "password": PASSWORD,
                                                 "csrf_token": csrf_token(client, "/staff/login")})
    assert response.status_code == 302


def _metrics(clocks: sla_page.ClockList, reference: str) -> set[SlaMetric]:
    return {row.metric for row in clocks.rows if row.reference == reference}


def test_a_clock_inside_its_own_warning_window_is_at_risk_and_one_outside_is_not(file_at, supervisor):
    case = file_at(MONDAY)
    # 3h10 after filing: triage (due at 4h, warned 1h before) is at risk; evidence capture (due at 8h, warned 15
    # minutes before) is not yet, although it is due within the widest warning lead (resolution's day).
    at_risk = sla_page.at_risk(supervisor, now=MONDAY + 3 * H + 10 * MINUTE)
    assert _metrics(at_risk, case.reference) == {SlaMetric.TRIAGE}
    row = at_risk.rows[0]
    assert row.due_at == MONDAY + 4 * H and row.handler is None and row.state == "running"
    assert row.text == "due in 50 min"
    # Both due at 8h: first response (warned 30 minutes before) is at risk 20 minutes before, evidence capture
    # (warned 15 minutes before) only from 7h45.
    assert _metrics(sla_page.at_risk(supervisor, now=MONDAY + 7 * H + 40 * MINUTE), case.reference) == {
        SlaMetric.FIRST_RESPONSE}
    assert _metrics(sla_page.at_risk(supervisor, now=MONDAY + 7 * H + 50 * MINUTE), case.reference) == {
        SlaMetric.FIRST_RESPONSE, SlaMetric.EVIDENCE_CAPTURED}


def test_a_clock_past_its_deadline_is_in_breach_before_any_sweep_and_leaves_the_list_when_fulfilled(
        file_at, supervisor, make_user):
    case = file_at(MONDAY)
    handler = make_user(Role.HANDLER)
    case.assigned_handler_id = handler.id
    db.session.commit()
    now = MONDAY + 5 * H
    period = sla_page.Period(MONDAY.date(), MONDAY.date())
    breached = sla_page.breached(supervisor, period, now=now)
    assert _metrics(breached, case.reference) == {SlaMetric.TRIAGE}
    assert breached.rows[0].text == "overdue by 1 h 0 min" and breached.rows[0].handler == handler.display_name
    assert _metrics(sla_page.at_risk(supervisor, now=now), case.reference) == set()


def test_a_breach_recorded_in_the_period_is_listed_and_one_before_it_is_not(file_at, supervisor):
    early, late = file_at(MONDAY - timedelta(days=10)), file_at(MONDAY)
    sla_sweep.sweep(MONDAY + 5 * H)  # records every breach so far: the early case's, and the late case's triage
    done = MONDAY + 6 * H
    for case in (early, late):  # the work is done: nothing runs overdue, only the recorded breaches remain
        sla_clocks.fulfil(case, SlaMetric.TRIAGE, at=done)
        sla_clocks.fulfil(case, SlaMetric.EVIDENCE_CAPTURED, at=done)
        sla_clocks.on_staff_message(case, at=done)
    db.session.commit()
    period = sla_page.Period(MONDAY.date() - timedelta(days=2), MONDAY.date())
    breached = sla_page.breached(supervisor, period, now=done)
    assert _metrics(breached, late.reference) == {SlaMetric.TRIAGE}
    assert _metrics(breached, early.reference) == set()
    assert breached.rows[0].breached_at == MONDAY + 4 * H and breached.rows[0].state == "fulfilled"
    assert _metrics(sla_page.breached(supervisor, sla_page.Period(MONDAY.date() - timedelta(days=10),
                                                                  MONDAY.date()), now=done),
                    early.reference) >= {SlaMetric.TRIAGE, SlaMetric.EVIDENCE_CAPTURED}


def test_compliance_counts_only_the_clocks_started_in_the_period(file_at, supervisor):
    for filed in (MONDAY - timedelta(days=3), MONDAY, MONDAY + timedelta(days=1), MONDAY + timedelta(days=2)):
        file_at(filed)
    period = sla_page.Period(MONDAY.date(), MONDAY.date() + timedelta(days=1))  # Monday and Tuesday
    figures = sla_page.compliance(supervisor, period, now=MONDAY + timedelta(days=1, hours=1))
    triage = next(f for f in figures if f.metric is SlaMetric.TRIAGE)
    # Monday's triage is past its deadline (breached though not yet swept); Tuesday's still runs.
    assert (triage.started, triage.met, triage.breached, triage.running) == (2, 0, 1, 1)
    # `until` is excluded; either bound may be left out.
    assert [f.started for f in sla_sweep.report(until=MONDAY) if f.metric is SlaMetric.TRIAGE] == [1]
    assert [f.started for f in sla_sweep.report() if f.metric is SlaMetric.TRIAGE] == [4]


def test_breaches_per_week_counts_each_week_of_the_period_and_zero_for_a_quiet_one(file_at, supervisor):
    case = file_at(MONDAY - timedelta(days=30))
    breaches = {SlaMetric.TRIAGE: MONDAY, SlaMetric.EVIDENCE_CAPTURED: MONDAY + timedelta(days=2),
                SlaMetric.RESOLUTION: MONDAY + timedelta(days=15)}
    for metric, at in breaches.items():
        clock(case, metric).breached_at = at
    db.session.commit()
    # Tuesday 9 June to Sunday 28 June: three weeks, the first without its Monday.
    weeks = sla_page.breaches_per_week(supervisor, sla_page.Period(date(2026, 6, 9), date(2026, 6, 28)))
    assert [(week.monday, week.breaches) for week in weeks] == [
        (date(2026, 6, 8), 1), (date(2026, 6, 15), 0), (date(2026, 6, 22), 1)]


@pytest.mark.parametrize(("args", "message"), [
    ({"from": "2026-02-30"}, "must be a date like 2026-03-31"),
    ({"to": "yesterday"}, "must be a date like 2026-03-31"),
    ({"from": "2026-03-01", "to": "2026-02-01"}, "The first day is after the last day"),
    ({"from": "2024-01-01", "to": "2026-01-01"}, "at most 366 days"),
    ({"to": "0001-01-02"}, "must be between 2000-01-01 and 2999-12-31"),
    ({"from": "9999-12-31"}, "must be between 2000-01-01 and 2999-12-31"),
])
def test_a_bad_period_is_refused_with_a_message(app, args, message):
    with pytest.raises(WorkflowError) as refused:
        sla_page.parse_period(args, today=date(2026, 6, 30))
    assert message in refused.value.message


def test_the_period_defaults_to_the_last_30_days_and_either_end_may_be_given_alone(app):
    today = date(2026, 6, 30)
    assert sla_page.parse_period({}, today=today) == sla_page.Period(date(2026, 6, 1), today)
    assert sla_page.parse_period({"to": "2026-03-31"}, today=today) == sla_page.Period(date(2026, 3, 2),
                                                                                       date(2026, 3, 31))
    assert sla_page.parse_period({"from": "2026-06-20"}, today=today) == sla_page.Period(date(2026, 6, 20), today)


def test_only_supervisors_and_admins_may_read_the_figures(app, make_user):
    period = sla_page.default_period()
    for role in (Role.HANDLER, Role.LEGAL):
        with pytest.raises(AccessDenied):
            sla_page.sla_page(make_user(role), period)
    for role in (Role.SUPERVISOR, Role.ADMIN):
        assert sla_page.sla_page(make_user(role), period).period == period


def test_the_page_links_each_case_and_draws_the_chart_beside_its_table(app, client, file_at, supervisor):
    case = file_at(utcnow() - 4 * H - 30 * MINUTE)  # triage overdue by half an hour, not yet swept
    _sign_in(client, supervisor)
    response = client.get("/staff/sla")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'href="/staff/cases/{case.reference}"' in page
    assert "Triage" in page and "Low" in page and "Unassigned" in page and "overdue by 30 min" in page
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page and 'id="chart-breaches-per-week-title"' in page
    today = utcnow().date()
    first = today - timedelta(days=29)
    assert f'value="{first.isoformat()}"' in page and f'value="{today.isoformat()}"' in page
    assert f"/staff/sla/compliance.csv?from={first.isoformat()}&amp;to={today.isoformat()}" in page


def test_a_bad_date_on_the_page_shows_its_message_and_the_default_period(app, client, supervisor):
    _sign_in(client, supervisor)
    response = client.get("/staff/sla?from=31/12/2026")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "must be a date like 2026-03-31, not “31/12/2026”" in page
    assert 'value="31/12/2026"' in page  # what was typed stays in the field to be corrected
    assert client.get("/staff/sla/compliance.csv?to=never").status_code == 400
    assert client.get("/staff/sla/nothing.csv").status_code == 404


def test_the_csv_files_start_with_a_bom_and_neutralise_formulas(app, client, file_at, supervisor, make_user):
    case = file_at(utcnow() - 5 * H)
    handler = make_user(Role.HANDLER)
    handler.display_name = "=HYPERLINK(\"http://evil.example\")"
    case.assigned_handler_id = handler.id
    db.session.commit()
    _sign_in(client, supervisor)
    response = client.get("/staff/sla/breaches.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["Case", "Metric", "Priority"]
    assert {row[3] for row in rows[1:]} == {"'=HYPERLINK(\"http://evil.example\")"}
    compliance = list(csv.reader(io.StringIO(client.get("/staff/sla/compliance.csv").get_data(as_text=True)
                                             .lstrip("\ufeff"))))
    assert compliance[0] == ["Metric", "Priority", "Started", "Met", "Breached", "Running", "Compliance"]
    assert ["Triage", "Low", "1", "0", "1", "0", "0.0%"] in compliance
    weeks = client.get("/staff/sla/breaches-per-week.csv?from=2026-06-01&to=2026-06-14").get_data(as_text=True)
    assert list(csv.reader(io.StringIO(weeks.lstrip("\ufeff")))) == [
        ["Week from (Monday, UTC)", "Breaches"], ["2026-06-01", "0"], ["2026-06-08", "0"]]


def test_the_page_costs_the_same_number_of_queries_for_3_cases_as_for_12(app, client, file_at, supervisor):
    """No query per case: the lists are joins, the figures aggregates."""
    _sign_in(client, supervisor)

    def statements() -> int:
        count = 0

        def counted(*_args):
            nonlocal count
            count += 1

        event.listen(db.engine, "before_cursor_execute", counted)
        try:
            assert client.get("/staff/sla").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", counted)
        return count

    filed = utcnow() - 5 * H
    for _ in range(3):
        file_at(filed)
    few = statements()
    for _ in range(9):
        file_at(filed)
    assert statements() == few
