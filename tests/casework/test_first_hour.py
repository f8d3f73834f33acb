"""The first hour: evidence work queued at submit, confirmed, traced and drafted by the scheduler's job runner with no
handler action, on the staged devnet thefts (anvil), with a failing RPC on the way, alerts and e-mail (aiosmtpd)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from casework.extensions import db
from casework.models import (
    AddressRole,
    Case,
    CaseEvent,
    EventKind,
    EvidenceJob,
    IncidentType,
    JobKind,
    JobStatus,
    Notification,
    Priority,
    Referral,
    ReferralStatus,
    Role,
    StaffAlert,
    utcnow,
)
from casework.services import alerts, chains, demo, filing, first_hour, jobs, mail, tracing
from evidence.devnet import staging
from evidence.devnet.anvil import free_port
from tests.fixtures.factories import at_once, csrf_token


@pytest.fixture
def scene(app, devnet, staged_thefts):
    """The devnet's labels and its exchange's directory entry, as `make run` has them."""
    demo.import_devnet_labels(staged_thefts)
    demo.load_directory()
    db.session.commit()
    return staged_thefts


def _address_only_report(scenario: staging.StagedScenario, kind: str = staging.APPROVAL_PHISHING,
                         **changes) -> filing.NewReport:
    """What a victim who knows only their address and when it happened files."""
    theft = scenario.theft(kind)
    first = theft.steps[0]
    values = dict(
        incident_type=IncidentType.APPROVAL_PHISHING,
        reporter=filing.ReporterInput(name="Chen Jing", email="chen@example.org", preferred_language="zh_Hans_CN"),
        summary="My USDT disappeared.",
        incident_at=datetime.fromtimestamp(first.timestamp, UTC) - timedelta(minutes=10),
        chain_ids=(scenario.chain_id,),
        addresses=(filing.AddressInput(scenario.chain_id, theft.address_of("victim"), AddressRole.VICTIM),),
    )
    values.update(changes)
    return filing.NewReport(**values)


def _file(report: filing.NewReport) -> Case:
    filed = filing.file_case(report)
    db.session.commit()
    return filed.case


def _run_all(now: datetime | None = None) -> int:
    """Run what the scheduler would, until nothing is due; returns how many jobs ran."""
    ran = total = jobs.run_due_jobs(now=now)
    while ran:
        ran = jobs.run_due_jobs(now=now)
        total += ran
    db.session.expire_all()
    return total


def _jobs(case: Case) -> list[EvidenceJob]:
    return list(db.session.scalars(select(EvidenceJob).where(EvidenceJob.case_id == case.id).order_by(EvidenceJob.id)))


def _first_hour_steps(case: Case) -> list[str]:
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                        CaseEvent.action == EventKind.FIRST_HOUR)
                                .order_by(CaseEvent.id))
    return [event.data["step"] for event in events]


def test_submit_queues_a_discovery_over_the_incident_window_in_the_filing(scene):
    case = _file(_address_only_report(scene))
    [job] = _jobs(case)
    assert job.kind is JobKind.DISCOVER and job.status is JobStatus.QUEUED and job.params["first_hour"] is True
    since, until = datetime.fromisoformat(job.params["since"]), datetime.fromisoformat(job.params["until"])
    assert since == case.incident_at - first_hour.WINDOW_BEFORE
    assert until >= case.submitted_at + first_hour.WINDOW_AFTER - timedelta(seconds=1)
    assert _first_hour_steps(case) == ["queued"]


def test_reported_hashes_are_captured_per_chain_and_unknown_chains_skipped(scene):
    theft = scene.theft(staging.APPROVAL_PHISHING)
    drain = theft.step("drain").tx_hash
    case = _file(_address_only_report(scene, transactions=(
        filing.TransactionInput(31337, drain),
        filing.TransactionInput(987654321, "0x" + "ab" * 32),
    ), addresses=(filing.AddressInput(987654321, theft.address_of("victim"), AddressRole.VICTIM),)))
    [capture] = _jobs(case)
    assert capture.kind is JobKind.CAPTURE and capture.params["tx_hashes"] == [drain]


@pytest.mark.parametrize("changes", [
    {"addresses": ()},
    {"addresses": (filing.AddressInput(987654321, "0x" + "11" * 20, AddressRole.VICTIM),)},
    {"addresses": (filing.AddressInput(31337, "0x" + "11" * 20, AddressRole.ATTACKER),)},
])
def test_nothing_is_queued_without_a_configured_chain_and_a_victim_address_or_hash(scene, changes):
    case = _file(_address_only_report(scene, **changes))
    assert _jobs(case) == [] and _first_hour_steps(case) == []


def test_from_submit_to_a_drafted_freeze_request_with_no_handler_action(scene, make_user):
    on_duty = make_user(Role.HANDLER)
    on_duty.on_duty = True
    db.session.commit()
    theft = scene.theft(staging.APPROVAL_PHISHING)
    case = _file(_address_only_report(scene))
    before = case.priority
    assert _run_all() == 2  # the discovery, then the trace it queued
    kinds = [(job.kind, job.status) for job in _jobs(case)]
    assert kinds == [(JobKind.DISCOVER, JobStatus.DONE), (JobKind.TRACE, JobStatus.DONE)]
    assert theft.address_of("attacker") in {a.address for a in case.addresses if a.role is AddressRole.ATTACKER}
    [freeze] = db.session.scalars(select(Referral).where(Referral.case_id == case.id)).all()
    assert freeze.status is ReferralStatus.DRAFTED and freeze.organisation.slug == "harbour-exchange"
    assert freeze.amount_raw == theft.stolen_token_amount
    assert _first_hour_steps(case) == ["queued", "confirmed", "trace_queued", "drafted"]
    assert case.priority.rank < before.rank or case.priority is Priority.CRITICAL  # a traced exchange raises it
    [alert] = alerts.unread_for(on_duty)
    assert alert.case_id == case.id and "Harbour Exchange" in alert.text
    [email] = db.session.scalars(select(Notification).where(Notification.case_id == case.id)).all()
    assert email.recipient == on_duty.email and case.reference in email.body_text
    # The theft's confirmation is recorded without an actor, as the system.
    confirmed = db.session.scalars(select(CaseEvent).where(CaseEvent.action == EventKind.THEFT_CONFIRMED)).all()
    assert confirmed and all(e.actor_id is None and e.actor_label == "system" for e in confirmed)


def test_a_failing_rpc_is_retried_on_the_way(scene, app, devnet):
    case = _file(_address_only_report(scene))
    app.config["DEVNET_RPC_URL"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    chains.init_app(app)
    assert _run_all() == 1
    [job] = _jobs(case)
    assert job.status is JobStatus.QUEUED and job.attempts == 1 and job.last_error
    app.config["DEVNET_RPC_URL"] = devnet.rpc_url
    chains.init_app(app)
    assert _run_all(now=utcnow() + timedelta(minutes=5)) == 2  # past the retry's backoff
    assert [job.status for job in _jobs(case)] == [JobStatus.DONE, JobStatus.DONE]
    assert db.session.scalar(select(Referral.status).where(Referral.case_id == case.id)) is ReferralStatus.DRAFTED


def test_capture_and_discovery_queue_one_trace_and_a_second_trace_says_nothing(scene, make_user):
    handler = make_user(Role.HANDLER)
    theft = scene.theft(staging.APPROVAL_PHISHING)
    report = demo.REPORT_BUILDERS[staging.APPROVAL_PHISHING](scene, theft)
    case = _file(report)
    case.assigned_handler_id = handler.id
    db.session.commit()
    assert {job.kind for job in _jobs(case)} == {JobKind.CAPTURE, JobKind.DISCOVER}
    _run_all()
    traces = [job for job in _jobs(case) if job.kind is JobKind.TRACE]
    assert len(traces) == 1 and traces[0].once_key == "first_hour:trace:31337"
    # Both finished: asking again (a retried store, another scheduler) queues nothing more.
    assert first_hour.after_evidence(case, 31337) is None
    assert [a.user_id for a in db.session.scalars(select(StaffAlert))] == [handler.id]
    # A handler's second trace of the same result drafts nothing new and tells nobody again.
    jobs.queue_trace(case, 31337, depth=5, breadth=5, actor=handler)
    db.session.commit()
    _run_all()
    assert db.session.scalar(select(func.count()).select_from(StaffAlert)) == 1
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 1


def test_two_schedulers_finishing_capture_and_discovery_at_once_queue_one_trace(scene, app):
    theft = scene.theft(staging.APPROVAL_PHISHING)
    case_id = _file(demo.REPORT_BUILDERS[staging.APPROVAL_PHISHING](scene, theft)).id
    assert sorted(at_once(app, lambda: jobs.run_due_jobs(limit=1), 2)) == [1, 1]  # one job each, at the same time
    db.session.expire_all()
    traces = db.session.scalars(select(EvidenceJob).where(EvidenceJob.case_id == case_id,
                                                          EvidenceJob.kind == JobKind.TRACE)).all()
    assert len(traces) == 1
    assert _first_hour_steps(db.session.get(Case, case_id)).count("trace_queued") == 1


def test_a_supervisors_priority_override_stands(scene, make_user):
    from casework.services import priority

    supervisor = make_user(Role.SUPERVISOR)
    case = _file(_address_only_report(scene))
    priority.override_priority(supervisor, case, Priority.LOW, reason="test", expected=priority.priority_state(case))
    db.session.commit()
    _run_all()
    assert case.priority is Priority.LOW
    assert db.session.scalar(select(Referral.status).where(Referral.case_id == case.id)) is ReferralStatus.DRAFTED


def test_the_handler_gets_the_email_in_their_language(scene, app, make_user, smtp_server):
    app.config.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port, PUBLIC_URL="https://cases.example")
    handler = make_user(Role.HANDLER)
    handler.preferred_language = "zh_Hans_CN"
    case = _file(_address_only_report(scene))
    case.assigned_handler_id = handler.id
    db.session.commit()
    _run_all()
    assert mail.send_pending() == 1
    [received] = smtp_server.messages
    assert received["To"] == handler.email
    body = received.get_payload(decode=True).decode()
    assert f"https://cases.example/staff/cases/{case.reference}" in body and "冻结" in body


def test_the_console_header_shows_the_alert_and_marks_it_read(scene, client, login, make_user):
    handler = make_user(Role.HANDLER)
    case = _file(_address_only_report(scene))
    case.assigned_handler_id = handler.id
    db.session.commit()
    _run_all()
    login(handler)
    page = client.get("/staff/cases").get_data(as_text=True)
    assert f'href="/staff/cases/{case.reference}"' in page and "Harbour Exchange" in page
    [alert] = alerts.unread_for(handler)
    response = client.post("/staff/alerts/read", data={"csrf_token": csrf_token(client, "/staff/alerts"),
                                                       "alert_id": str(alert.id), "next": "/staff/cases"})
    assert response.status_code == 302 and response.headers["Location"] == "/staff/cases"
    assert alerts.unread_for(handler) == []
    assert "No unread alerts." in client.get("/staff/alerts").get_data(as_text=True)
    bad = client.post("/staff/alerts/read", data={"csrf_token": csrf_token(client, "/staff/alerts"),
                                                  "alert_id": "x<script>"})
    assert bad.status_code == 302


def test_a_supervisor_puts_a_handler_on_duty_and_the_handler_hears_of_unassigned_cases(scene, client, login,
                                                                                      make_user):
    supervisor, handler = make_user(Role.SUPERVISOR), make_user(Role.HANDLER)
    login(supervisor)
    url = f"/staff/admin/users/{handler.id}/on-duty"
    response = client.post(url, data={"csrf_token": csrf_token(client, "/staff/admin/users"), "on_duty": "1"})
    assert response.status_code == 302
    db.session.refresh(handler)
    assert handler.on_duty and alerts.on_duty_staff() == [handler]
    _file(_address_only_report(scene))
    _run_all()
    assert [a.user_id for a in db.session.scalars(select(StaffAlert))] == [handler.id]
    assert client.post(url, data={"csrf_token": csrf_token(client, "/staff/admin/users"),
                                  "on_duty": "maybe"}).status_code == 302
    db.session.refresh(handler)
    assert handler.on_duty  # a bad value changes nothing


def test_the_victim_portal_tells_what_was_found_in_plain_words(scene, client):
    filed = filing.file_case(_address_only_report(scene, reporter=filing.ReporterInput(
        name="Alex", email="alex@example.org", preferred_language="en"), victim_timezone="Europe/London"))
    db.session.commit()
    _run_all()
    theft = scene.theft(staging.APPROVAL_PHISHING)
    freeze = db.session.scalars(select(Referral)).one()
    freeze.police_report_due_at = datetime(2030, 1, 7, 12, 0, tzinfo=UTC)
    db.session.commit()
    assert client.get(f"/track/{filed.reference}/{filed.access_token}").status_code == 302
    page = client.get(f"/track/{filed.reference}").get_data(as_text=True)
    assert "What we found" in page and "left your address on" in page
    assert "We traced your funds to Harbour Exchange." in page
    assert "We are preparing a request to Harbour Exchange to freeze the funds." in page
    assert "report the theft to the police by 2030-01-07 12:00 (Europe/London)" in page
    for hidden in ("intermediary_1", "intermediary_2", "exchange_hot_wallet"):  # the deposit is the exchange's
        assert theft.address_of(hidden) not in page
    assert "Hot Wallet" not in page


def test_a_case_with_nothing_found_shows_no_findings(scene, client):
    filed = filing.file_case(_address_only_report(scene, addresses=()))
    db.session.commit()
    client.get(f"/track/{filed.reference}/{filed.access_token}")
    assert "What we found" not in client.get(f"/track/{filed.reference}").get_data(as_text=True)


def test_a_handler_confirms_a_reported_transactions_transfer_like_a_discovered_one(scene, client, login, make_user):
    theft = scene.theft(staging.APPROVAL_PHISHING)
    drain = theft.step("drain").tx_hash
    case = filing.file_case(_address_only_report(scene, transactions=(filing.TransactionInput(31337, drain),)),
                            first_hour_work=False).case
    db.session.commit()
    [capture] = jobs.capture_reported(case, actor=None)
    db.session.commit()
    _run_all()
    login(make_user(Role.HANDLER))
    url = f"/staff/cases/{case.reference}"
    page = client.get(url).get_data(as_text=True)
    assert "Part of the theft" in page  # the victim reported it, but its recipient is not an attacker yet
    transfer = next(t for t in tracing.outgoing_from_victims(case) if t.tx_hash == drain)
    client.post(f"{url}/evidence/transfers/{transfer.id}/confirm", data={"csrf_token": csrf_token(client, url)})
    db.session.expire_all()
    assert theft.address_of("attacker") in {a.address for a in case.addresses if a.role is AddressRole.ATTACKER}
    assert "Part of the theft" not in client.get(url).get_data(as_text=True)
