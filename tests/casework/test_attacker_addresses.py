"""A victim who gave only the drain transaction's hash: its captured transfer is marked as part of the theft from the
case page, an attacker address can be added by hand with a reason, the trace says what to do when it has nothing to
start from, and the case page draws the fund-flow graph at a readable size with each box linked to its address."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from datetime import timedelta

import pytest
from eth_utils import to_checksum_address
from sqlalchemy import select

from casework.extensions import db
from casework.models import AddressRole, Case, CaseEvent, EventKind, IncidentType, Role, TraceRun, utcnow
from casework.services import filing, jobs, tracing
from casework.services.access import AccessDenied
from casework.services.workflow import WorkflowError
from evidence.devnet import staging
from evidence.graph_svg import TARGET_WIDTH
from tests.fixtures.factories import ATTACKER, VICTIM, csrf_token

PHRASE = "abandon " * 11 + "about"
OTHER = "0x" + "7a" * 20


def _hash_only_case(theft: staging.StagedTheft, chain_id: int) -> Case:
    """The leaked-phrase theft reported with nothing but the token drain's hash (no address at all)."""
    now = utcnow()
    report = filing.NewReport(
        incident_type=IncidentType.LEAKED_SECRET,
        reporter=filing.ReporterInput(name="Wang Fang", email="victim@example.org", preferred_language="zh_Hans_CN"),
        summary="Everything left my wallet.", incident_at=now - timedelta(hours=2),
        discovered_at=now - timedelta(hours=1), chain_ids=(chain_id,),
        transactions=(filing.TransactionInput(chain_id, theft.step("token_drain").tx_hash),),
    )
    filed = filing.file_case(report)
    db.session.commit()
    return db.session.get(Case, filed.case_id)


def _attackers(case: Case, chain_id: int) -> list[str]:
    db.session.expire(case, ["addresses"])
    return [a.address for a in case.addresses if a.role is AddressRole.ATTACKER and a.chain_id == chain_id]


def _confirm_buttons(page: str) -> list[str]:
    return re.findall(r'action="[^"]*/evidence/transfers/(\d+)/confirm"', page)


def test_a_reported_drain_hash_is_captured_confirmed_from_the_case_page_and_traced(
        client, login, make_user, devnet, staged_thefts):
    theft = staged_thefts.theft(staging.LEAKED_RECOVERY_PHRASE)
    chain_id = staged_thefts.chain_id
    case = _hash_only_case(theft, chain_id)
    login(make_user(Role.HANDLER))
    url = f"/staff/cases/{case.reference}"
    client.post(url + "/evidence/capture", data={"csrf_token": csrf_token(client, url), "run_now": "y"})
    trace = {"chain_id": str(chain_id), "depth": "3", "breadth": "3", "run_now": "y"}
    client.post(url + "/evidence/trace", data={"csrf_token": csrf_token(client, url), **trace})
    page = client.get(url).get_data(as_text=True)
    # The trace had nothing to start from and says what to do about it; the reported transfer can be confirmed.
    assert "Mark the transfer that took the funds as part of the theft" in page
    assert "There is no attacker address yet" in page
    [transfer_id] = _confirm_buttons(page)
    response = client.post(f"{url}/evidence/transfers/{transfer_id}/confirm",
                           data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    assert _attackers(case, chain_id) == [theft.address_of("attacker")]
    page = client.get(url).get_data(as_text=True)
    assert _confirm_buttons(page) == [] and "part of the theft" in page
    assert "There is no attacker address yet" not in page
    client.post(url + "/evidence/trace", data={"csrf_token": csrf_token(client, url), **trace})
    run = db.session.scalars(select(TraceRun).where(TraceRun.case_id == case.id)).one()
    assert run.graph["edges"], "the trace found the hop from the attacker"


def test_a_reported_transfer_from_the_victim_can_be_confirmed_but_not_one_between_others(
        make_user, demo_cases, staged_thefts):
    from casework.models import ReportedTransaction
    from casework.services import case_page

    case = demo_cases[IncidentType.APPROVAL_PHISHING]
    theft = staged_thefts.theft(staging.APPROVAL_PHISHING)
    # The victim (whose address is known) also reported the attacker's first onward hop.
    case.transactions.append(ReportedTransaction(chain_id=staged_thefts.chain_id, tx_hash=theft.step("hop_1").tx_hash))
    db.session.commit()
    [capture] = jobs.capture_reported(case, actor=None)
    db.session.commit()
    jobs.run_due_jobs()
    handler = make_user(Role.HANDLER)
    lines = case_page.case_page(handler, case.reference).evidence.transfers
    confirmable = {line.tx_hash: line.can_confirm for line in lines}
    assert confirmable == {theft.step("approve").tx_hash: True, theft.step("drain").tx_hash: True,
                           theft.step("hop_1").tx_hash: False}
    assert all(line.reported and not line.confirmed for line in lines)
    drain = next(line for line in lines if line.tx_hash == theft.step("drain").tx_hash)
    tracing.confirm_theft(case, drain.id, actor=handler)
    db.session.commit()
    after = {line.tx_hash: (line.confirmed, line.can_confirm)
             for line in case_page.case_page(handler, case.reference).evidence.transfers}
    assert after[drain.tx_hash] == (True, False) and after[theft.step("approve").tx_hash] == (False, True)


def test_a_handler_adds_an_attacker_address_with_a_reason(make_user, make_case):
    case = make_case().case
    handler = make_user(Role.HANDLER)
    event = tracing.add_attacker_address(case, 1, OTHER.lower(), reason="  Named in the scam chat.  ",
                                         actor=handler)
    db.session.commit()
    added = to_checksum_address(OTHER)
    assert _attackers(case, 1) == [ATTACKER, added]  # stored in its EIP-55 form
    assert event.action is EventKind.ATTACKER_ADDED and event.actor_id == handler.id
    assert event.data["reason"] == "Named in the scam chat." and event.data["chain_id"] == 1
    assert event.staff_summary == f"{added} marked as an attacker address: Named in the scam chat."
    assert not event.action.victim_visible
    # A trace now starts from it too.
    assert added in {seed.address for seed in tracing._seeds(case, 1, {})}


@pytest.mark.parametrize(("chain_id", "address", "reason", "message"), [
    (1, VICTIM, "The victim sent it.", "one of the victim's own addresses"),
    (137, VICTIM, "Same key on Polygon.", "one of the victim's own addresses"),
    (1, ATTACKER, "Again.", "already an attacker address of this case on Ethereum"),
    (1, "0x1234", "Short.", "An address has 40 characters after 0x"),
    (1, "0x" + "ab" * 32, "A hash.", "looks like a transaction hash"),
    (999_999, OTHER, "Unknown chain.", "Choose a chain from the list."),
    (1, OTHER, "", "Give a reason for the change."),
    (1, OTHER, f"The victim wrote {PHRASE}", "recovery phrase"),
    (1, OTHER, "x" * (tracing.ATTACKER_REASON_MAX_CHARS + 1), "Keep it under"),
])
def test_an_attacker_address_that_cannot_be_right_is_refused_with_a_message(make_user, make_case, chain_id, address,
                                                                           reason, message):
    case = make_case().case
    before = _attackers(case, 1)
    with pytest.raises(WorkflowError, match=re.escape(message)):
        tracing.add_attacker_address(case, chain_id, address, reason=reason, actor=make_user(Role.HANDLER))
    db.session.rollback()
    assert _attackers(case, 1) == before
    assert not db.session.scalars(select(CaseEvent).where(CaseEvent.action == EventKind.ATTACKER_ADDED)).all()


def test_legal_staff_cannot_add_an_attacker_address(make_user, make_case):
    case = make_case().case
    with pytest.raises(AccessDenied):
        tracing.add_attacker_address(case, 1, OTHER, reason="Looks like it.", actor=make_user(Role.LEGAL))


def test_the_case_page_form_adds_an_address_and_shows_a_refusal_with_what_was_typed(client, login, make_user,
                                                                                  make_case):
    case = make_case().case
    login(make_user(Role.HANDLER))
    url = f"/staff/cases/{case.reference}"
    page = client.get(url).get_data(as_text=True)
    assert 'id="add-attacker"' in page and 'name="attacker-address"' in page
    refused = client.post(url + "/evidence/attackers", data={
        "csrf_token": csrf_token(client, url), "attacker-chain_id": "1", "attacker-address": VICTIM,
        "attacker-reason": "The victim's own, by mistake."})
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert "one of the victim&#39;s own addresses" in body and "The victim&#39;s own, by mistake." in body
    assert re.search(r'<details class="card" id="add-attacker" open>', body)
    secret = client.post(url + "/evidence/attackers", data={
        "csrf_token": csrf_token(client, url), "attacker-chain_id": "1", "attacker-address": OTHER,
        "attacker-reason": f"From the chat: {PHRASE}"})
    assert secret.status_code == 422 and "recovery phrase" in secret.get_data(as_text=True)
    assert PHRASE not in secret.get_data(as_text=True)
    added = client.post(url + "/evidence/attackers", data={
        "csrf_token": csrf_token(client, url), "attacker-chain_id": "1", "attacker-address": OTHER,
        "attacker-reason": "Named in the scam chat."})
    assert added.status_code == 302 and added.headers["Location"].endswith("#add-attacker")
    assert len(_attackers(case, 1)) == 2
    page = client.get(url).get_data(as_text=True)
    assert "Added as an attacker address" in page and "Named in the scam chat." in page


def test_the_trace_form_offers_the_attackers_chain_and_the_default_limits(client, login, make_user, make_case):
    case = make_case().case
    login(make_user(Role.HANDLER))
    page = client.get(f"/staff/cases/{case.reference}").get_data(as_text=True)
    trace_form = page[page.index('id="trace-chain"'):page.index("Trace the funds")]
    assert re.search(r'<option value="1" selected>', trace_form)
    assert trace_form.count("selected") == 1
    assert f'name="depth" min="1" max="10" value="{tracing.DEFAULT_DEPTH}"' in trace_form
    assert f'name="breadth" min="1" max="20" value="{tracing.DEFAULT_BREADTH}"' in trace_form
    assert "There is no attacker address yet" not in page  # the victim named one


def test_the_case_page_draws_the_graph_inline_linked_to_the_address_rows(client, login, make_user, demo_cases,
                                                                         staged_thefts):
    case = demo_cases[IncidentType.APPROVAL_PHISHING]
    theft = staged_thefts.theft(staging.APPROVAL_PHISHING)
    login(make_user(Role.HANDLER))
    url = f"/staff/cases/{case.reference}"
    client.post(url + "/evidence/capture", data={"csrf_token": csrf_token(client, url), "run_now": "y"})
    client.post(url + "/evidence/trace", data={"csrf_token": csrf_token(client, url), "chain_id": "31337",
                                               "depth": "5", "breadth": "5", "run_now": "y"})
    page = client.get(url).get_data(as_text=True)
    start, end = page.index('<div class="flow-graph"'), page.index("</svg>") + len("</svg>")
    svg = ElementTree.fromstring(page[page.index("<svg", start):end])  # noqa: S314 - our own output
    assert int(svg.get("width")) <= TARGET_WIDTH
    links = [a.get("href") for a in svg.iter("{http://www.w3.org/2000/svg}a")]
    anchors = set(re.findall(r'<tr id="(address-[^"]+)"', page))
    hot_wallet = f"#address-31337-{theft.address_of('exchange_hot_wallet').lower()}"
    assert hot_wallet in links and f"#address-31337-{theft.address_of('attacker').lower()}" in links
    assert {link[1:] for link in links} <= anchors  # each box links to a row on the page (the devnet has no explorer)
    assert "<img" not in page[start:end]
    # Opened on its own, the drawing links back to the case page's rows.
    run = db.session.scalars(select(TraceRun).where(TraceRun.case_id == case.id)).one()
    alone = client.get(f"{url}/evidence/graph/{run.id}.svg").get_data(as_text=True)
    assert f'href="{url}{hot_wallet}"' in alone


@pytest.fixture
def demo_cases(app, devnet, staged_thefts) -> dict[IncidentType, Case]:
    from casework.services import demo

    demo.file_demo_cases(staged_thefts)
    demo.import_devnet_labels(staged_thefts)
    return {case.incident_type: case for case in db.session.scalars(select(Case))}


def test_running_the_jobs_directly_gives_the_same_advice(app, devnet, staged_thefts, make_user):
    case = _hash_only_case(staged_thefts.theft(staging.LEAKED_RECOVERY_PHRASE), staged_thefts.chain_id)
    job = jobs.queue_trace(case, staged_thefts.chain_id, depth=2, breadth=2, actor=None)
    db.session.commit()
    jobs.run_due_jobs()
    db.session.refresh(job)
    assert "add an attacker address with a reason" in job.progress
