"""Discovery, confirming the theft, tracing to the exchange, freeze proposals, labels and the
cross-case view, through the app's services, views and CLI, against the staged devnet thefts."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from casework.extensions import db
from casework.models import (
    AddressLabel,
    AddressRole,
    Case,
    FlowEdge,
    IncidentType,
    JobStatus,
    Referral,
    ReferralKind,
    ReferralStatus,
    Role,
    TraceRun,
    TransferKind,
)
from casework.services import demo, jobs, tracing
from evidence.devnet import staging
from tests.fixtures.factories import csrf_token

DATA = Path(__file__).resolve().parents[1] / "evidence" / "data"


@pytest.fixture
def demo_cases(app, devnet, staged_thefts) -> dict[IncidentType, Case]:
    demo.file_demo_cases(staged_thefts, first_hour_work=False)
    demo.import_devnet_labels(staged_thefts)
    return {case.incident_type: case for case in db.session.scalars(select(Case))}


def _run(job) -> None:
    db.session.commit()
    jobs.run_due_jobs()
    db.session.refresh(job)
    assert job.status is JobStatus.DONE, job.last_error


def _window(case: Case) -> tuple:
    return case.incident_at - timedelta(hours=6), case.discovered_at + timedelta(hours=6)


def test_the_leaked_phrase_theft_is_discovered_from_the_victim_address_alone(demo_cases, staged_thefts):
    case = demo_cases[IncidentType.LEAKED_SECRET]
    theft = staged_thefts.theft(staging.LEAKED_RECOVERY_PHRASE)
    with pytest.raises(jobs.JobError, match="no transaction hashes"):
        jobs.capture_reported(case, actor=None)
    _run(jobs.queue_discovery(case, 31337, *_window(case), actor=None))
    outgoing = tracing.outgoing_from_victims(case)
    kinds = {(t.kind, t.to_address, t.amount_raw) for t in outgoing}
    attacker = theft.address_of("attacker")
    assert (TransferKind.ERC20, attacker, theft.stolen_token_amount) in kinds
    assert (TransferKind.NATIVE, attacker, theft.stolen_native_amount) in kinds
    assert all(t.evidence_record_id for t in outgoing)  # every candidate cites its raw record


def test_confirming_a_discovered_transfer_makes_its_recipient_a_traceable_attacker(demo_cases, staged_thefts,
                                                                                    make_user):
    case = demo_cases[IncidentType.LEAKED_SECRET]
    handler = make_user(Role.HANDLER)
    theft = staged_thefts.theft(staging.LEAKED_RECOVERY_PHRASE)
    _run(jobs.queue_discovery(case, 31337, *_window(case), actor=None))
    token_drain = next(t for t in tracing.outgoing_from_victims(case) if t.kind is TransferKind.ERC20)
    tracing.confirm_theft(case, token_drain.id, actor=handler)
    db.session.commit()
    assert token_drain.tx_hash in {t.tx_hash for t in case.transactions}
    # Capturing the confirmed hash in full shows the pattern: the victim's own key signed it.
    [capture] = jobs.capture_reported(case, actor=handler)
    _run(capture)
    db.session.refresh(token_drain)
    assert token_drain.pattern == "direct_drain" and token_drain.approval_tx_hash is None
    attackers = [a.address for a in case.addresses if a.role is AddressRole.ATTACKER]
    assert attackers == [theft.address_of("attacker")]
    _run(jobs.queue_trace(case, 31337, depth=3, breadth=5, actor=handler))
    edges = db.session.scalars(select(FlowEdge).where(FlowEdge.case_id == case.id)).all()
    first_hops = {(edge.from_address, edge.to_address) for edge in edges if edge.hop == 1}
    assert first_hops == {(attackers[0], theft.address_of("intermediary_1"))}


def test_approval_phishing_is_traced_to_the_exchange_and_a_freeze_request_proposed(demo_cases, staged_thefts):
    case = demo_cases[IncidentType.APPROVAL_PHISHING]
    theft = staged_thefts.theft(staging.APPROVAL_PHISHING)
    [capture] = jobs.capture_reported(case, actor=None)
    _run(capture)
    _run(jobs.queue_trace(case, 31337, depth=5, breadth=5, actor=None))
    roles = {(a.address, a.role) for a in case.addresses}
    assert (theft.address_of("exchange_deposit"), AddressRole.EXCHANGE_DEPOSIT) in roles
    assert (theft.address_of("exchange_hot_wallet"), AddressRole.EXCHANGE_HOT_WALLET) in roles
    edges = db.session.scalars(select(FlowEdge).order_by(FlowEdge.hop)).all()
    assert [e.tx_hash for e in edges] == [theft.step(a).tx_hash for a in ("hop_1", "hop_2", "deposit", "sweep")]
    assert all(e.evidence_record_id and e.amount_raw == theft.stolen_token_amount for e in edges)
    [freeze] = db.session.scalars(select(Referral).where(Referral.kind == ReferralKind.EXCHANGE_FREEZE)).all()
    assert "Harbour Exchange" in freeze.target_name
    assert freeze.amount_raw == theft.stolen_token_amount and freeze.symbol == staged_thefts.token.symbol
    assert freeze.follow_up_due_at is not None
    # A second trace replaces the graph and does not propose the same request twice, nor rewrite
    # one that was already sent.
    freeze.status, freeze.amount_raw = ReferralStatus.SENT, 1
    db.session.commit()
    _run(jobs.queue_trace(case, 31337, depth=5, breadth=5, actor=None))
    db.session.refresh(freeze)
    assert freeze.amount_raw == 1
    assert db.session.scalar(select(func.count()).select_from(Referral)) == 1
    assert db.session.scalar(select(func.count()).select_from(FlowEdge)) == len(edges)
    assert db.session.scalar(select(func.count()).select_from(TraceRun)) == 2


def test_the_case_page_shows_the_graph_and_freeze_request(client, login, make_user, demo_cases, staged_thefts):
    case = demo_cases[IncidentType.APPROVAL_PHISHING]
    login(make_user(Role.HANDLER))
    url = f"/staff/cases/{case.reference}"
    client.post(url + "/evidence/capture", data={"csrf_token": csrf_token(client, url), "run_now": "y"})
    response = client.post(url + "/evidence/trace", data={
        "csrf_token": csrf_token(client, url), "chain_id": "31337", "depth": "5", "breadth": "5", "run_now": "y"})
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Exchange freeze request" in page and "Harbour Exchange" in page
    run = db.session.scalars(select(TraceRun)).one()
    svg = client.get(f"{url}/evidence/graph/{run.id}.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert svg.headers["Content-Security-Policy"] == "default-src 'none'"
    assert "Harbour Exchange" in svg.get_data(as_text=True)
    other = client.get(f"/staff/cases/{demo_cases[IncidentType.LEAKED_SECRET].reference}/evidence/graph/{run.id}.svg")
    assert other.status_code == 404


def test_bad_trace_settings_are_refused_with_a_message(client, login, make_user, demo_cases):
    case = demo_cases[IncidentType.APPROVAL_PHISHING]
    login(make_user(Role.HANDLER))
    url = f"/staff/cases/{case.reference}"
    client.post(url + "/evidence/trace", data={
        "csrf_token": csrf_token(client, url), "chain_id": "31337", "depth": "99", "breadth": "x", "run_now": "y"})
    page = client.get(url).get_data(as_text=True)
    assert "Hops:" in page and "Branches per address:" in page
    assert db.session.scalar(select(func.count()).select_from(TraceRun)) == 0


@pytest.mark.parametrize("name", ["tagpack.yaml", "etherscan_combined.json", "labels.csv"])
def test_labels_import_command_reads_each_format(app, name):
    result = app.test_cli_runner().invoke(args=["labels", "import", str(DATA / name)])
    assert result.exit_code == 0, result.output
    assert "labels added" in result.output
    assert db.session.scalar(select(func.count()).select_from(AddressLabel)) > 0
    again = app.test_cli_runner().invoke(args=["labels", "import", str(DATA / name)])
    assert " 0 labels added" in " " + again.output.splitlines()[-1]


def test_a_file_of_bad_rows_is_reported_line_by_line(app, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("chain_id,address,name,category,source,confidence\n1,0xnothex,Foo,exchange,me,0.5\n")
    result = app.test_cli_runner().invoke(args=["labels", "import", str(bad)])
    assert result.exit_code == 1
    assert "line 2" in result.output and "Traceback" not in result.output


def test_handlers_name_addresses_and_the_label_is_used(client, login, make_user, app):
    login(make_user(Role.HANDLER))
    address = "0x" + "ab" * 20
    response = client.post("/staff/labels", data={
        "csrf_token": csrf_token(client, "/staff/labels"), "address": address.upper().replace("0X", "0x"),
        "name": "<b>Scam desk</b>", "category": "exchange_hot_wallet", "chain_id": "0"})
    assert response.status_code == 302
    page = client.get("/staff/labels?q=scam").get_data(as_text=True)
    assert "&lt;b&gt;Scam desk&lt;/b&gt;" in page
    bad = client.post("/staff/labels", data={
        "csrf_token": csrf_token(client, "/staff/labels"), "address": "0x123", "name": "x",
        "category": "exchange", "chain_id": "0"})
    assert bad.status_code == 200 and "That is not an address" in bad.get_data(as_text=True)


def test_an_address_in_two_cases_links_the_cases(client, login, make_user, make_case):
    first, second = make_case(), make_case(name="Second victim")
    login(make_user(Role.HANDLER))
    page = client.get(f"/staff/cases/{first.case.reference}").get_data(as_text=True)
    assert "Addresses seen in other cases" in page
    assert f'href="/staff/cases/{second.case.reference}"' in page


def test_a_handler_discovers_from_the_case_page_and_marks_the_theft(client, login, make_user, demo_cases,
                                                                   staged_thefts):
    case = demo_cases[IncidentType.LEAKED_SECRET]
    login(make_user(Role.HANDLER))
    url = f"/staff/cases/{case.reference}"
    since, until = _window(case)
    response = client.post(url + "/evidence/discover", data={
        "csrf_token": csrf_token(client, url), "chain_id": "31337", "since": since.date().isoformat(),
        "until": until.date().isoformat(), "run_now": "y"})
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "outgoing transfers and approvals found" in page
    drain = next(t for t in tracing.outgoing_from_victims(case) if t.kind is TransferKind.NATIVE)
    confirm = client.post(f"{url}/evidence/transfers/{drain.id}/confirm", data={"csrf_token": csrf_token(client, url)})
    assert confirm.status_code == 302
    db.session.expire_all()
    assert drain.tx_hash in {t.tx_hash for t in db.session.get(Case, case.id).transactions}


def test_a_reversed_discovery_window_is_refused(client, login, make_user, demo_cases):
    case = demo_cases[IncidentType.LEAKED_SECRET]
    login(make_user(Role.HANDLER))
    url = f"/staff/cases/{case.reference}"
    client.post(url + "/evidence/discover", data={
        "csrf_token": csrf_token(client, url), "chain_id": "31337", "since": "2026-11-20", "until": "2026-11-10",
        "run_now": "y"})
    assert "The end of the window must be after its start." in client.get(url).get_data(as_text=True)
