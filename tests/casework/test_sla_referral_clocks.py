"""A referral's deadlines are SLA clocks: sending a freeze request starts its follow-up clock and a courtesy hold's
police-report clock at the referral's dates; the sweep warns, breaches and tells the head of the team once per
deadline, naming the target; a new follow-up date moves the clock (the earlier breach stays); a final status ends
them; the police report reaching the target fulfils its clock; the case awaiting the victim does not pause them;
closing the case stops them and reopening starts them again. Policies without the referral metrics keep the shipped
ones; the migration goes down and up on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select, text

from casework.extensions import db
from casework.models import (
    CaseEvent,
    CaseStatus,
    ChannelKind,
    Escalation,
    EscalationLevel,
    EventKind,
    Notification,
    Organisation,
    OrganisationKind,
    Priority,
    Referral,
    ReferralKind,
    ReferralStatus,
    Requester,
    Resolution,
    Role,
    SlaClock,
    SlaEvent,
    SlaEventKind,
    SlaMetric,
    StaffAlert,
    User,
    utcnow,
)
from casework.services import (
    priority,
    queue,
    referral_panel,
    referrals,
    sla,
    sla_clocks,
    sla_policies,
    sla_sweep,
    workflow,
)
from casework.services.workflow import WorkflowError
from tests.fixtures.factories import at_once, csrf_token
from tests.fixtures.sla import TEST_POLICIES

H = timedelta(hours=1)
DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)
R = ReferralStatus
FOLLOW_UP, POLICE = SlaMetric.REFERRAL_FOLLOW_UP, SlaMetric.POLICE_REPORT_DUE
W, B, HEAD = EscalationLevel.WARNING, EscalationLevel.BREACH, EscalationLevel.HEAD
NOW = utcnow().replace(microsecond=0)


@pytest.fixture
def team(make_user):
    return make_user(Role.HANDLER), make_user(Role.SUPERVISOR), make_user(Role.ADMIN)


@pytest.fixture
def harbour(app) -> Organisation:
    """An exchange that takes victims' requests by e-mail, holds funds 7 days for a police report, and is followed
    up 3 days after a request."""
    entry = Organisation(slug="harbour-exchange", name="Harbour Exchange", kind=OrganisationKind.EXCHANGE,
                         requester=Requester.VICTIM, channel_kind=ChannelKind.EMAIL, channel="freeze@harbour.example",
                         courtesy_hold_days=7, follow_up_days=3, aliases=[], facts=[])
    db.session.add(entry)
    db.session.commit()
    return entry


def _case(file_at, handler, filed_at=NOW - 2 * H):
    case = file_at(filed_at)
    case.assigned_handler_id = handler.id
    db.session.commit()
    return case


def _sent(case, handler, sent_at) -> Referral:
    """A freeze request to Harbour Exchange, drafted and sent (by e-mail) at sent_at."""
    referral = Referral(case=case, kind=ReferralKind.EXCHANGE_FREEZE, status=R.PROPOSED,
                        target_name="Harbour Exchange", target_address="0x" + "33" * 20, chain_id=1, symbol="USDT",
                        decimals=6, amount_raw=1_000 * 10**6, tx_hashes=["0x" + "cd" * 32])
    db.session.add(referral)
    db.session.flush()
    referrals.draft_referral(handler, referral)
    referrals.send_referral(handler, referral, now=sent_at)
    db.session.commit()
    return referral


def _clock(referral, metric) -> SlaClock:
    db.session.flush()
    db.session.expire_all()
    return sla_clocks.referral_clocks(referral)[metric]


def _told(told, metric):
    return [item.level for item in told if item.metric is metric]


def _kinds(clock):
    return db.session.scalars(select(SlaEvent.kind).where(
        SlaEvent.case_id == clock.case_id, SlaEvent.metric == clock.metric, SlaEvent.referral_id == clock.referral_id,
    ).order_by(SlaEvent.id)).all()


def _escalations(clock):
    return db.session.execute(select(Escalation.level, Escalation.due_at).where(Escalation.clock_id == clock.id)
                              .order_by(Escalation.id)).all()


# The arithmetic -----------------------------------------------------------------------------------------------------

def test_a_fixed_deadline_in_the_log_is_the_clock_s_deadline_and_pauses_do_not_move_it():
    start, due = datetime(2026, 6, 8, 8, 0, tzinfo=UTC), datetime(2026, 6, 15, 8, 0, tzinfo=UTC)
    log = [(SlaEventKind.STARTED, start, due), (SlaEventKind.PAUSED, start + H),
           (SlaEventKind.RESUMED, start + 5 * H)]
    times = sla.clock_times(log, timedelta(0), sla.Calendar.always())
    assert times.due_at == due and times.paused_at is None
    moved = sla.clock_times(log + [(SlaEventKind.MOVED, start + DAY, due + 2 * DAY)], timedelta(0),
                            sla.Calendar.always())
    assert moved.due_at == due + 2 * DAY and moved.cycle_started_at == start
    assert sla.clock_times(log + [(SlaEventKind.FULFILLED, start + DAY)], timedelta(0),
                           sla.Calendar.always()).due_at is None
    # Without a date the target counts as before, pauses cut out.
    assert sla.clock_times([(SlaEventKind.STARTED, start), (SlaEventKind.PAUSED, start + H),
                            (SlaEventKind.RESUMED, start + 5 * H)], 8 * H, sla.Calendar.always()).due_at \
        == start + 12 * H


# Starting ------------------------------------------------------------------------------------------------------------

def test_sending_a_freeze_request_with_a_courtesy_hold_starts_both_clocks_at_its_dates(file_at, team, harbour):
    handler = team[0]
    case = _case(file_at, handler)
    referral = _sent(case, handler, NOW - H)
    follow_up, police = _clock(referral, FOLLOW_UP), _clock(referral, POLICE)
    assert referral.follow_up_due_at == NOW - H + 3 * DAY and referral.police_report_due_at == NOW - H + 7 * DAY
    assert (follow_up.due_at, follow_up.started_at) == (referral.follow_up_due_at, NOW - H)
    assert follow_up.escalate_at == follow_up.due_at - 2 * H  # the policy's warning lead
    assert police.due_at == referral.police_report_due_at and police.escalate_at == police.due_at - DAY
    assert (follow_up.referral_id, police.referral_id) == (referral.id, referral.id)
    assert _kinds(police) == [SlaEventKind.STARTED]
    # The case's own clocks are still one per metric, and the page lists the referral's with its target.
    assert set(sla_clocks.clocks_of(case)) == set(sla_clocks.AT_FILING)
    lines = [(line.metric, line.target, line.state) for line in sla_clocks.clock_lines(case)]
    assert lines[-2:] == [("Referral follow-up", "Harbour Exchange", "running"),
                          ("Police report for a courtesy hold", "Harbour Exchange", "running")]


def test_a_referral_sent_by_a_status_change_gets_a_follow_up_date_from_its_sending(file_at, team, harbour):
    handler = team[0]
    case = _case(file_at, handler)
    referral = Referral(case=case, kind=ReferralKind.EXCHANGE_FREEZE, status=R.DRAFTED, target_name="Harbour Exchange",
                        target_address="0x" + "55" * 20, chain_id=1)
    db.session.add(referral)
    db.session.flush()
    referrals.update_referral(handler, referral, R.SENT, expected=R.DRAFTED)
    db.session.commit()
    assert referral.follow_up_due_at == referral.sent_at + 3 * DAY
    assert _clock(referral, FOLLOW_UP).due_at == referral.follow_up_due_at
    assert POLICE not in sla_clocks.referral_clocks(referral)  # no courtesy hold: no police-report clock


# The sweep -----------------------------------------------------------------------------------------------------------

def test_the_sweep_warns_breaches_and_tells_the_head_once_naming_the_target(file_at, team, harbour):
    handler, supervisor, head = team
    case = _case(file_at, handler)
    referral = _sent(case, handler, NOW - H)
    due = referral.police_report_due_at
    assert _told(sla_sweep.sweep(due - DAY - MINUTE), POLICE) == []
    assert _told(sla_sweep.sweep(due - DAY + MINUTE), POLICE) == [W]
    assert _told(sla_sweep.sweep(due - H), POLICE) == []
    assert _told(sla_sweep.sweep(due), POLICE) == [B]
    assert _told(sla_sweep.sweep(due + H), POLICE) == []
    assert _told(sla_sweep.sweep(due + 2 * H), POLICE) == [HEAD]
    for later in (3 * H, DAY, 7 * DAY):
        assert _told(sla_sweep.sweep(due + later), POLICE) == []
    police = _clock(referral, POLICE)
    assert police.breached_at == due and police.escalate_at is None
    assert _escalations(police) == [(W, due), (B, due), (HEAD, due)]
    assert _kinds(police) == [SlaEventKind.STARTED, SlaEventKind.WARNED, SlaEventKind.BREACHED,
                              SlaEventKind.BREACHED]
    about = "Police report for a courtesy hold (Harbour Exchange) for case " + case.reference
    to = {user: db.session.scalars(select(Notification.body_text).where(
        Notification.recipient == user.email, Notification.body_text.contains(about)).order_by(Notification.id)).all()
        for user in team}
    assert [text.split(":")[0] for text in to[handler]] == [f"{about} is due at {due:%Y-%m-%d %H}",
                                                            f"{about} is overdue"]
    assert len(to[supervisor]) == 1 and "overdue" in to[supervisor][0] and len(to[head]) == 1
    handler_alerts = db.session.scalars(select(StaffAlert).where(StaffAlert.user_id == handler.id)).all()
    assert any("Harbour Exchange" in alert.text and "Police report" in alert.text for alert in handler_alerts)


def test_sweepers_at_once_tell_each_level_of_a_referral_deadline_exactly_once(app, file_at, team, harbour):
    handler = team[0]
    sent = [_sent(_case(file_at, handler), handler, NOW - H) for _ in range(3)]
    due = sent[0].police_report_due_at
    results = at_once(app, lambda: sla_sweep.sweep(due + 3 * H, batch=2), 3)
    told = [item for result in results for item in result if item.metric in (FOLLOW_UP, POLICE)]
    assert len(told) == len({(item.reference, item.metric, item.level) for item in told})
    # Per referral: the follow-up's breach and head (3 days, head a day later) and the police report's.
    assert sorted((item.metric.value, item.level.value) for item in told) == sorted(
        [("referral_follow_up", "breach"), ("referral_follow_up", "head"), ("police_report_due", "breach"),
         ("police_report_due", "head")] * len(sent))
    referral_clocks = select(SlaClock.id).where(SlaClock.referral_id != 0)
    assert db.session.scalar(select(func.count()).select_from(Escalation)
                             .where(Escalation.clock_id.in_(referral_clocks))) == len(told)
    assert _told(sla_sweep.sweep(due + 4 * H), POLICE) == []


def test_a_new_follow_up_date_escalates_again_and_the_earlier_breach_stays(file_at, team, harbour):
    handler = team[0]
    case = _case(file_at, handler, NOW - 4 * DAY)
    referral = _sent(case, handler, NOW - 3 * DAY - 2 * H)
    first_due = referral.follow_up_due_at
    assert first_due == NOW - 2 * H
    assert _told(sla_sweep.sweep(NOW), FOLLOW_UP) == [B]
    today = utcnow().date()
    referrals.record_follow_up(handler, referral, "The desk asked for the police report", today + timedelta(days=2))
    db.session.commit()
    new_due = datetime.combine(today + timedelta(days=2), time(9), tzinfo=UTC)
    follow_up = _clock(referral, FOLLOW_UP)
    assert follow_up.due_at == new_due and follow_up.breached_at == first_due
    assert follow_up.escalate_at == new_due - 2 * H
    assert _told(sla_sweep.sweep(new_due - H), FOLLOW_UP) == [W]
    assert _told(sla_sweep.sweep(new_due), FOLLOW_UP) == [B]
    assert _escalations(follow_up) == [(B, first_due), (W, new_due), (B, new_due)]
    assert _clock(referral, FOLLOW_UP).breached_at == first_due  # the first breach, never moved
    assert _kinds(follow_up) == [SlaEventKind.STARTED, SlaEventKind.BREACHED, SlaEventKind.MOVED,
                                 SlaEventKind.WARNED, SlaEventKind.BREACHED]
    moved = db.session.scalars(select(SlaEvent).where(SlaEvent.kind == SlaEventKind.MOVED)).one()
    assert moved.data["due_at"] == new_due.isoformat() and moved.data["before"] == first_due.isoformat()


def test_a_follow_up_without_a_next_date_fulfils_the_follow_up_clock(file_at, team, harbour):
    handler = team[0]
    referral = _sent(_case(file_at, handler), handler, NOW - H)
    referrals.record_follow_up(handler, referral, "They froze it; nothing more to chase", None)
    db.session.commit()
    follow_up = _clock(referral, FOLLOW_UP)
    assert follow_up.fulfilled_at is not None and follow_up.due_at is None and follow_up.breached_at is None
    assert _clock(referral, POLICE).due_at == referral.police_report_due_at  # the hold still needs its report


# Ending --------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("final", "follow_up_ends", "police_ends"), [
    (R.CLOSED, "stopped", "stopped"),
    (R.RETURNED, "fulfilled", "stopped"),
    (R.DECLINED, None, "stopped"),  # not final: the handler follows up or sends again
])
def test_a_final_status_ends_the_referral_s_clocks(file_at, team, harbour, final, follow_up_ends, police_ends):
    handler = team[0]
    case = _case(file_at, handler)
    referral = _sent(case, handler, NOW - H)
    referrals.update_referral(handler, referral, final, expected=R.SENT, note="their answer")
    db.session.commit()
    for metric, ends in ((FOLLOW_UP, follow_up_ends), (POLICE, police_ends)):
        clock = _clock(referral, metric)
        if ends is None:
            assert clock.due_at == referral.follow_up_due_at and clock.escalate_at is not None
            continue
        assert clock.due_at is None and clock.escalate_at is None
        assert (clock.stopped_at if ends == "stopped" else clock.fulfilled_at) is not None
    assert _told(sla_sweep.sweep(NOW + 30 * DAY), POLICE) == []


def test_the_police_report_reaching_the_target_fulfils_its_clock(client, login, file_at, team, harbour):
    handler = team[0]
    case = _case(file_at, handler)
    referral = _sent(case, handler, NOW - H)
    login(handler)
    page = client.get(f"/staff/cases/{case.reference}").get_data(as_text=True)
    assert "Record that the police report reached Harbour Exchange" in page
    token = csrf_token(client, f"/staff/cases/{case.reference}")
    url = f"/staff/cases/{case.reference}/referrals/{referral.id}/police-report"
    refused = client.post(url, data={"csrf_token": token, "expected": "sent", "note": ""})
    assert refused.status_code == 422 and "Say what was sent and how" in refused.get_data(as_text=True)
    done = client.post(url, data={"csrf_token": token, "expected": "sent",
                                  "note": "Report 2026-4411 from the city police, forwarded by e-mail"})
    assert done.status_code == 302
    db.session.expire_all()
    police = _clock(referral, POLICE)
    assert police.fulfilled_at is not None and police.due_at is None and police.breached_at is None
    assert _clock(referral, FOLLOW_UP).due_at == referral.follow_up_due_at
    event = db.session.scalars(select(CaseEvent).where(CaseEvent.action == EventKind.REFERRAL)
                               .order_by(CaseEvent.id.desc())).first()
    assert event.data["change"] == "police_report" and "2026-4411" in event.data["note"]
    page = client.get(f"/staff/cases/{case.reference}").get_data(as_text=True)
    assert "Police report delivered" in page and "Police report due" not in page
    assert "Record that the police report reached" not in page
    referral = db.session.get(Referral, referral.id)
    assert referral_panel.nearest_due_date([referral]) == referral.follow_up_due_at
    with pytest.raises(WorkflowError, match="waits on its police report"):
        referrals.record_police_report(handler, referral, "again")
    assert _told(sla_sweep.sweep(NOW + 30 * DAY), POLICE) == []


# The case's status and priority --------------------------------------------------------------------------------------

def test_the_case_awaiting_the_victim_does_not_pause_a_referral_s_deadline(file_at, team, harbour):
    handler = team[0]
    case = _case(file_at, handler)
    referral = _sent(case, handler, NOW - H)
    workflow.transition_case(case, CaseStatus.AWAITING_VICTIM, actor=handler, reason="Need the police report")
    db.session.commit()
    assert sla_clocks.clocks_of(case)[SlaMetric.RESOLUTION].paused_at is not None
    police = _clock(referral, POLICE)
    assert police.paused_at is None and police.due_at == referral.police_report_due_at
    assert SlaEventKind.PAUSED not in _kinds(police)
    states = {(line.metric, line.target): line.state for line in sla_clocks.clock_lines(case)}
    assert states[("Police report for a courtesy hold", "Harbour Exchange")] == "running"
    assert states[("Resolution", None)] == "paused"
    assert _told(sla_sweep.sweep(referral.police_report_due_at), POLICE) == [B]
    # The exchange's date does not move when the victim answers either.
    workflow.transition_case(case, CaseStatus.SUBMITTED, actor=handler, reason="Answered")
    db.session.commit()
    assert _clock(referral, POLICE).due_at == referral.police_report_due_at


def test_a_priority_change_keeps_a_referral_s_date(file_at, team, harbour, make_user):
    handler = team[0]
    case = _case(file_at, handler)
    referral = _sent(case, handler, NOW - H)
    priority.override_priority(make_user(Role.SUPERVISOR), case, Priority.CRITICAL, reason="Large loss",
                               expected=priority.priority_state(case))
    db.session.commit()
    police = _clock(referral, POLICE)
    assert police.due_at == referral.police_report_due_at and SlaEventKind.POLICY_APPLIED in _kinds(police)


def test_closing_the_case_stops_them_and_reopening_starts_them_again(file_at, team, harbour):
    handler, supervisor, _head = team
    case = _case(file_at, handler)
    referral = _sent(case, handler, NOW - H)
    workflow.transition_case(case, CaseStatus.TRIAGE, actor=supervisor, reason="Looking")
    workflow.transition_case(case, CaseStatus.CLOSED, actor=supervisor, reason="Unrecoverable",
                             resolution=Resolution.UNRECOVERABLE, victim_summary="We could not recover the funds.",
                             confirm_open_referrals=True)
    db.session.commit()
    assert all(clock.stopped_at is not None for clock in sla_clocks.referral_clocks(referral).values())
    assert _told(sla_sweep.sweep(NOW + 30 * DAY), POLICE) == []
    workflow.transition_case(case, CaseStatus.TRIAGE, actor=supervisor, reason="The exchange wrote back")
    db.session.commit()
    police = _clock(referral, POLICE)
    assert police.stopped_at is None and police.due_at == referral.police_report_due_at
    assert _kinds(police)[-2:] == [SlaEventKind.STOPPED, SlaEventKind.STARTED]


def test_the_queue_s_nearest_deadline_order_counts_a_referral_s_date(file_at, team, harbour):
    handler = team[0]
    running, waiting, paused = (_case(file_at, handler) for _ in range(3))
    for case in (waiting, paused):
        workflow.transition_case(case, CaseStatus.AWAITING_VICTIM, actor=handler, reason="Need more")
    referral = _sent(waiting, handler, NOW - H)
    db.session.commit()
    db.session.expire_all()
    assert paused.next_due_at is None and waiting.next_due_at == referral.follow_up_due_at
    query = queue.QueueQuery(sort="deadline", statuses=(CaseStatus.SUBMITTED, CaseStatus.AWAITING_VICTIM))
    refs = [line.reference for line in queue.find_cases(handler, query).lines]
    assert refs == [running.reference, waiting.reference, paused.reference]


# Policies ------------------------------------------------------------------------------------------------------------

def test_a_policy_file_without_the_referral_deadlines_keeps_the_shipped_ones(app, tmp_path):
    older = "\n".join(line for line in TEST_POLICIES.splitlines()
                      if "referral_follow_up" not in line and "police_report_due" not in line)
    assert older != TEST_POLICIES
    path = tmp_path / "policies.yaml"
    path.write_text(older, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["sla", "import-policies", str(path)])
    assert result.exit_code == 0, result.output
    shipped = sla_policies.shipped_defaults().policies()
    for metric in (FOLLOW_UP, POLICE):
        policy = sla_policies.policy_for(metric, Priority.LOW)
        assert (policy.warning, policy.head_after) == (shipped[(metric, Priority.LOW)].warning,
                                                       shipped[(metric, Priority.LOW)].head_after)
        assert policy.calendar.around_the_clock  # funds move at night
    # The metrics a file must still cover are refused as before.
    path.write_text(older.replace("  - {metric: triage, calendar: always, targets: 4h, warning: 1h}\n", ""),
                    encoding="utf-8")
    refused = app.test_cli_runner().invoke(args=["sla", "import-policies", str(path)])
    assert refused.exit_code == 1 and "No policy for metric triage" in refused.output


# The migration -------------------------------------------------------------------------------------------------------

def test_the_migration_goes_down_and_up_keeping_the_case_clocks(app, file_at, team, harbour):
    from flask_migrate import downgrade, upgrade

    handler = team[0]
    case = _case(file_at, handler)
    referral = _sent(case, handler, NOW - H)
    sla_sweep.sweep(referral.police_report_due_at)
    case_id, referral_id, handler_id = case.id, referral.id, handler.id
    case_clocks = db.session.scalar(select(func.count()).select_from(SlaClock).where(SlaClock.referral_id == 0))
    case_events = db.session.scalar(select(func.count()).select_from(SlaEvent).where(SlaEvent.referral_id == 0))
    db.session.commit()
    db.session.remove()
    downgrade(revision="f2b4d6e8a0c3")
    try:
        assert db.session.execute(text("SELECT count(*) FROM sla_clocks")).scalar_one() == case_clocks
        assert db.session.execute(text("SELECT count(*) FROM sla_events")).scalar_one() == case_events
        assert db.session.execute(text("SELECT count(*) FROM escalations WHERE clock_id NOT IN "
                                       "(SELECT id FROM sla_clocks)")).scalar_one() == 0
        db.session.commit()
    finally:
        db.session.remove()
        upgrade()
    assert db.session.scalar(select(func.count()).select_from(SlaClock)) == case_clocks
    referral, handler = db.session.get(Referral, referral_id), db.session.get(User, handler_id)
    assert referral.case_id == case_id and sla_clocks.referral_clocks(referral) == {}
    referrals.update_referral(handler, referral, R.ACKNOWLEDGED, expected=R.SENT)  # the clocks start again
    db.session.commit()
    assert _clock(referral, POLICE).due_at == referral.police_report_due_at


def test_two_referrals_of_a_case_have_their_own_clocks(file_at, team, harbour):
    handler = team[0]
    case = _case(file_at, handler)
    first = _sent(case, handler, NOW - 2 * H)
    second = Referral(case=case, kind=ReferralKind.EXCHANGE_FREEZE, status=R.DRAFTED, target_name="Harbour Exchange",
                      target_address="0x" + "44" * 20, chain_id=1, draft_subject="Freeze", draft_body="Please freeze")
    db.session.add(second)
    db.session.flush()
    referrals.send_referral(handler, second, now=NOW - H)
    db.session.commit()
    assert _clock(first, POLICE).id != _clock(second, POLICE).id
    assert _clock(second, POLICE).due_at == _clock(first, POLICE).due_at + H
    targets = [(line.metric, line.target) for line in sla_clocks.clock_lines(case) if line.target]
    assert len(targets) == 4 and set(targets) == {("Referral follow-up", "Harbour Exchange"),
                                                  ("Police report for a courtesy hold", "Harbour Exchange")}
