"""SLA clocks: started at filing with their deadlines, paused while the case awaits the victim, fulfilled by the work
they measure, stopped at closing, recomputed from their log when the priority or the policies change (never moving
a recorded breach); policies imported from YAML, the shipped defaults until then."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from casework.extensions import db
from casework.models import (
    CaseStatus,
    Escalation,
    Priority,
    Resolution,
    Role,
    SlaEvent,
    SlaEventKind,
    SlaMetric,
    SlaPolicy,
    utcnow,
)
from casework.services import priority, queue, sla_clocks, sla_policies, sla_sweep, thread, workflow
from tests.fixtures.sla import TEST_POLICIES, clock

H = timedelta(hours=1)
BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = datetime(2026, 6, 8, 8, 0, tzinfo=UTC)  # 10:00 in Berlin


def _kinds(case, metric):
    return [e.kind for e in db.session.scalars(
        select(SlaEvent).where(SlaEvent.case_id == case.id, SlaEvent.metric == metric).order_by(SlaEvent.id))]


def test_filing_starts_each_clock_with_its_deadline_and_first_escalation(file_at):
    case = file_at(MONDAY)
    assert case.priority is Priority.LOW
    clocks = sla_clocks.clocks_of(case)
    assert set(clocks) == set(sla_clocks.AT_FILING)  # no freezable endpoint: no freeze clock yet
    # First response: eight Berlin office hours from Monday 10:00 end at 18:00 (16:00 UTC); warned 30 min before.
    first = clocks[SlaMetric.FIRST_RESPONSE]
    assert first.due_at == datetime(2026, 6, 8, 18, 0, tzinfo=BERLIN)
    assert first.escalate_at == first.due_at - timedelta(minutes=30)
    assert clocks[SlaMetric.TRIAGE].due_at == MONDAY + 4 * H
    assert clocks[SlaMetric.EVIDENCE_CAPTURED].due_at == MONDAY + 8 * H
    assert clocks[SlaMetric.RESOLUTION].due_at == MONDAY + timedelta(days=30)
    assert all(c.started_at == c.cycle_started_at == MONDAY for c in clocks.values())
    assert _kinds(case, SlaMetric.TRIAGE) == [SlaEventKind.STARTED]


def test_a_freezable_endpoint_at_filing_starts_the_freeze_clock(file_at):
    case = file_at(MONDAY, freezable=True)
    assert case.priority is Priority.HIGH
    assert clock(case, SlaMetric.FREEZE_SENT).due_at == MONDAY + H
    assert clock(case, SlaMetric.EVIDENCE_CAPTURED).due_at == MONDAY + 2 * H


def test_the_referrals_work_can_start_and_fulfil_the_freeze_clock(file_at):
    case = file_at(MONDAY)
    started = sla_clocks.start_clock(case, SlaMetric.FREEZE_SENT, at=MONDAY + H)
    assert started.due_at == MONDAY + 2 * H
    assert sla_clocks.start_clock(case, SlaMetric.FREEZE_SENT, at=MONDAY + 90 * timedelta(minutes=1)) is started
    assert clock(case, SlaMetric.FREEZE_SENT).due_at == MONDAY + 2 * H  # a running clock is not restarted
    sla_clocks.fulfil(case, SlaMetric.FREEZE_SENT, at=MONDAY + 1.5 * H)
    freeze = clock(case, SlaMetric.FREEZE_SENT)
    assert freeze.fulfilled_at == MONDAY + 1.5 * H and freeze.due_at is None and freeze.escalate_at is None
    assert freeze.breached_at is None
    assert sla_clocks.fulfil(case, SlaMetric.FREEZE_SENT) is None


def test_the_shipped_defaults_apply_until_policies_are_imported(app, make_case):
    assert db.session.scalars(select(SlaPolicy)).first() is None
    case = make_case().case
    evidence = clock(case, SlaMetric.EVIDENCE_CAPTURED)
    expected = sla_policies.shipped_defaults().policies()[(SlaMetric.EVIDENCE_CAPTURED, case.priority)]
    assert expected.calendar.around_the_clock  # evidence capture counts 24/7
    assert evidence.due_at == evidence.started_at + expected.target


def test_a_pause_holds_the_clock_and_the_resume_moves_the_deadline_by_the_paused_time(file_at):
    case = file_at(MONDAY)
    sla_clocks.on_status_change(case, CaseStatus.SUBMITTED, CaseStatus.AWAITING_VICTIM, at=MONDAY + H)
    paused = clock(case, SlaMetric.EVIDENCE_CAPTURED)
    assert paused.paused_at == MONDAY + H and paused.due_at is None and paused.escalate_at is None
    sla_clocks.on_status_change(case, CaseStatus.AWAITING_VICTIM, CaseStatus.SUBMITTED, at=MONDAY + 3 * H)
    resumed = clock(case, SlaMetric.EVIDENCE_CAPTURED)
    assert resumed.paused_at is None and resumed.due_at == MONDAY + 10 * H
    assert _kinds(case, SlaMetric.EVIDENCE_CAPTURED) == [SlaEventKind.STARTED, SlaEventKind.PAUSED,
                                                         SlaEventKind.RESUMED]


def test_a_pause_across_a_closed_weekend_counts_only_open_time_outside_it(file_at):
    friday = datetime(2026, 6, 12, 17, 0, tzinfo=BERLIN)
    case = file_at(friday)
    # Eight office hours: one on Friday, seven on Monday, so 16:00 Monday.
    assert clock(case, SlaMetric.FIRST_RESPONSE).due_at == datetime(2026, 6, 15, 16, 0, tzinfo=BERLIN)
    sla_clocks.on_status_change(case, CaseStatus.SUBMITTED, CaseStatus.AWAITING_VICTIM,
                                at=datetime(2026, 6, 12, 17, 30, tzinfo=BERLIN))
    sla_clocks.on_status_change(case, CaseStatus.AWAITING_VICTIM, CaseStatus.SUBMITTED,
                                at=datetime(2026, 6, 15, 10, 0, tzinfo=BERLIN))
    # Half an hour ran on Friday; the other 7.5 hours from Monday 10:00.
    assert clock(case, SlaMetric.FIRST_RESPONSE).due_at == datetime(2026, 6, 15, 17, 30, tzinfo=BERLIN)


def test_the_workflow_pauses_and_resumes_the_clocks(file_at, make_user):
    filed = utcnow() - H
    case = file_at(filed)
    handler = make_user(Role.HANDLER)
    workflow.transition_case(case, CaseStatus.AWAITING_VICTIM, actor=handler, reason="Need the tx hash")
    assert clock(case, SlaMetric.RESOLUTION).paused_at is not None
    workflow.transition_case(case, CaseStatus.SUBMITTED, actor=handler, reason="Answered")
    assert clock(case, SlaMetric.RESOLUTION).paused_at is None
    assert clock(case, SlaMetric.RESOLUTION).due_at > filed + timedelta(days=30)


def test_triage_is_done_when_the_case_moves_on_to_the_work(file_at, make_user):
    case = file_at(MONDAY)
    handler = make_user(Role.HANDLER)
    workflow.transition_case(case, CaseStatus.TRIAGE, actor=handler, reason="Looking")
    assert clock(case, SlaMetric.TRIAGE).fulfilled_at is None
    workflow.transition_case(case, CaseStatus.INVESTIGATING, actor=handler, reason="Real theft")
    triage = clock(case, SlaMetric.TRIAGE)
    assert triage.fulfilled_at is not None and triage.due_at is None
    assert triage.breached_at is not None  # filed on 8 June 2026, triaged today: late, and recorded as such


def test_the_first_message_fulfils_the_first_response_and_restarts_the_victim_update_interval(file_at, make_user):
    case = file_at(MONDAY)
    handler = make_user(Role.HANDLER)
    thread.reply_to_victim(handler, case, "We are on it.")
    first, update = clock(case, SlaMetric.FIRST_RESPONSE), clock(case, SlaMetric.VICTIM_UPDATE)
    assert first.fulfilled_at is not None and first.due_at is None and first.escalate_at is None
    # Recurring: the next update is due 24 hours after this one.
    assert update.fulfilled_at == update.cycle_started_at == first.fulfilled_at
    assert update.due_at == update.cycle_started_at + 24 * H and update.started_at == MONDAY


def test_closing_fulfils_the_resolution_and_stops_the_rest_and_reopening_restarts_them(file_at, make_user):
    case = file_at(MONDAY)
    supervisor = make_user(Role.SUPERVISOR)
    workflow.transition_case(case, CaseStatus.TRIAGE, actor=supervisor, reason="Looking")
    workflow.transition_case(case, CaseStatus.CLOSED, actor=supervisor, reason="Duplicate",
                             resolution=Resolution.DUPLICATE, victim_summary="Same as your other report.")
    clocks = sla_clocks.clocks_of(case)
    assert clocks[SlaMetric.RESOLUTION].fulfilled_at is not None
    assert all(c.due_at is None and c.escalate_at is None for c in clocks.values())
    assert clocks[SlaMetric.EVIDENCE_CAPTURED].stopped_at is not None
    workflow.transition_case(case, CaseStatus.TRIAGE, actor=supervisor, reason="Not a duplicate after all")
    assert clock(case, SlaMetric.RESOLUTION).due_at is not None
    assert clock(case, SlaMetric.VICTIM_UPDATE).due_at is not None
    assert clock(case, SlaMetric.EVIDENCE_CAPTURED).due_at is None


def test_a_priority_change_recomputes_from_the_start_minus_the_paused_time(file_at, make_user):
    case = file_at(MONDAY)
    supervisor = make_user(Role.SUPERVISOR)
    sla_clocks.on_status_change(case, CaseStatus.SUBMITTED, CaseStatus.AWAITING_VICTIM, at=MONDAY + H)
    sla_clocks.on_status_change(case, CaseStatus.AWAITING_VICTIM, CaseStatus.SUBMITTED, at=MONDAY + 2 * H)
    priority.override_priority(supervisor, case, Priority.HIGH, reason="Funds at an exchange",
                               expected=priority.priority_state(case))
    # High: two hours of evidence capture from the original start, plus the hour paused.
    assert clock(case, SlaMetric.EVIDENCE_CAPTURED).due_at == MONDAY + 3 * H
    assert SlaEventKind.POLICY_APPLIED in _kinds(case, SlaMetric.EVIDENCE_CAPTURED)


def test_a_recorded_breach_survives_a_priority_change_that_moves_the_deadline_later(file_at, make_user):
    case = file_at(MONDAY)
    supervisor = make_user(Role.SUPERVISOR)
    priority.override_priority(supervisor, case, Priority.CRITICAL, reason="Large loss",
                               expected=priority.priority_state(case))
    db.session.commit()
    assert clock(case, SlaMetric.EVIDENCE_CAPTURED).due_at == MONDAY + H
    sla_sweep.sweep(MONDAY + 70 * timedelta(minutes=1))
    assert clock(case, SlaMetric.EVIDENCE_CAPTURED).breached_at == MONDAY + H
    priority.override_priority(supervisor, case, Priority.LOW, reason="Small after all",
                               expected=priority.priority_state(case))
    db.session.commit()
    evidence = clock(case, SlaMetric.EVIDENCE_CAPTURED)
    assert evidence.due_at == MONDAY + 8 * H and evidence.breached_at == MONDAY + H
    assert db.session.scalars(select(Escalation.due_at).where(Escalation.clock_id == evidence.id)).all() \
        == [MONDAY + H]


def test_importing_policies_recomputes_running_clocks(file_at):
    case = file_at(MONDAY)
    longer = TEST_POLICIES.replace("targets: {critical: 1h, high: 2h, normal: 4h, low: 8h},\n     warning: 15m",
                                   "targets: {critical: 1h, high: 2h, normal: 4h, low: 12h},\n     warning: 15m")
    assert longer != TEST_POLICIES
    assert sla_clocks.import_policies(longer) == len(sla_clocks.AT_FILING)
    assert clock(case, SlaMetric.EVIDENCE_CAPTURED).due_at == MONDAY + 12 * H


@pytest.mark.parametrize("text, message", [
    ("policies: [", "not valid YAML"),
    (TEST_POLICIES.replace("targets: 4h, warning: 1h", "targets: soon, warning: 1h"), "is not a duration"),
    (TEST_POLICIES.replace("metric: resolution", "metric: lunch"), "Unknown metric lunch"),
    (TEST_POLICIES.replace("  - {metric: resolution, calendar: always, targets: 30d, warning: 1d}\n", ""),
     "No policy for metric resolution"),
    (TEST_POLICIES.replace("timezone: Europe/Berlin", "timezone: Mars/Olympus"), "cannot be used"),
    (TEST_POLICIES.replace("calendar: office,", "calendar: moon,"), "unknown calendar moon"),
    (TEST_POLICIES.replace('["09:00-18:00"], [], []]', '["09:00-18:00"], []]'), "seven days"),
    (TEST_POLICIES.replace('"09:00-18:00"', '""'), "no opening hours"),
    (TEST_POLICIES.replace("timezone: Europe/Berlin", "timezone: Europe/Berlin\n    country: XX"),
     "does not know country XX"),
])
def test_a_bad_policy_file_is_refused_with_a_clear_message_and_changes_nothing(app, tmp_path, text, message):
    path = tmp_path / "policies.yaml"
    path.write_text(text, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["sla", "import-policies", str(path)])
    assert result.exit_code == 1 and message in result.output, result.output
    assert db.session.scalars(select(SlaPolicy)).first() is None


def test_the_import_command_stores_calendars_with_holidays_and_make_up_days(app, tmp_path):
    text = TEST_POLICIES.replace("timezone: Europe/Berlin", "timezone: Asia/Shanghai\n    country: CN\n"
                                 "    closed: [2026-12-24]")
    path = tmp_path / "policies.yaml"
    path.write_text(text, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["sla", "import-policies", str(path)])
    assert result.exit_code == 0 and "Policies imported" in result.output, result.output
    office = sla_policies.policy_for(SlaMetric.FIRST_RESPONSE, Priority.LOW).calendar
    assert office.country == "CN" and office.hours_on(datetime(2026, 12, 24).date()) == ()
    assert office.hours_on(datetime(2026, 2, 14).date())  # a make-up working Saturday
    assert len(db.session.scalars(select(SlaPolicy)).all()) == len(SlaMetric) * len(Priority)


def test_the_case_page_shows_each_clock_as_it_stands(client, file_at, make_user, login):
    case = file_at(utcnow() - 5 * H)
    sla_clocks.fulfil(case, SlaMetric.FIRST_RESPONSE, at=utcnow() - 4 * H)
    db.session.commit()
    handler = make_user(Role.HANDLER)
    login(handler)
    html = client.get(f"/staff/cases/{case.reference}").get_data(as_text=True)
    section = html[html.index('id="clocks"'):html.index("</section>", html.index('id="clocks"'))]
    assert "Evidence captured" in section and "due in 2 h 59 min" in section  # eight hours, five gone
    assert "overdue by 1 h 0 min" in section  # triage: four hours
    assert '<tr class="clock-fulfilled">\n    <td>First response</td>' in section
    assert "due in 29 d 18 h" in section  # resolution: thirty days, five hours and some seconds gone


def test_clock_lines_say_paused_stopped_and_overdue(file_at):
    case = file_at(MONDAY)
    sla_clocks.on_status_change(case, CaseStatus.SUBMITTED, CaseStatus.AWAITING_VICTIM, at=MONDAY + 5 * H)
    lines = {line.metric: line for line in sla_clocks.clock_lines(case, now=MONDAY + 6 * H)}
    assert lines["Triage"].state == "paused" and lines["Triage"].text == "paused while the case awaits the victim"
    sla_clocks.on_status_change(case, CaseStatus.AWAITING_VICTIM, CaseStatus.SUBMITTED, at=MONDAY + 6 * H)
    lines = {line.metric: line for line in sla_clocks.clock_lines(case, now=MONDAY + 8 * H)}
    # Due four hours after filing: the pause came after the deadline and does not move it.
    assert lines["Triage"].state == "overdue" and lines["Triage"].text == "overdue by 4 h 0 min"
    sla_clocks.on_status_change(case, CaseStatus.SUBMITTED, CaseStatus.CLOSED, at=MONDAY + 9 * H)
    lines = {line.metric: line for line in sla_clocks.clock_lines(case, now=MONDAY + 10 * H)}
    assert lines["Triage"].state == "stopped" and lines["Resolution"].state == "fulfilled"


def test_the_queue_can_sort_by_the_nearest_deadline(file_at, make_user):
    handler = make_user(Role.HANDLER)
    later, sooner, paused = file_at(MONDAY + H), file_at(MONDAY), file_at(MONDAY - H)
    assert sooner.next_due_at == MONDAY + 4 * H  # triage, its nearest clock
    sla_clocks.on_status_change(paused, CaseStatus.SUBMITTED, CaseStatus.AWAITING_VICTIM, at=MONDAY)
    db.session.commit()
    assert paused.next_due_at is None  # every clock paused: no deadline runs
    query = queue.QueueQuery(sort="deadline", statuses=(CaseStatus.SUBMITTED, CaseStatus.AWAITING_VICTIM))
    refs = [line.reference for line in queue.find_cases(handler, query).lines]
    assert refs == [sooner.reference, later.reference, paused.reference]
