"""Evidence capture as jobs: records chained per case, transfers linked to them, verification,
retries and failover, and no partial evidence on failure. Against the real anvil devnet."""

import hashlib
import json
from datetime import timedelta

import pytest
import rfc8785
from sqlalchemy import func, select, text

from casework.extensions import db
from casework.models import (
    Case,
    CaseEvent,
    EvidenceJob,
    EvidenceRecord,
    IncidentType,
    JobStatus,
    Transfer,
    TransferKind,
    utcnow,
)
from casework.services import chains, demo, jobs
from evidence.devnet import staging
from tests.evidence.faultproxy import FaultProxy


@pytest.fixture
def phishing_case(app, devnet, staged_thefts) -> Case:
    demo.file_demo_cases(staged_thefts)
    return db.session.scalar(select(Case).where(Case.incident_type == IncidentType.APPROVAL_PHISHING))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_capturing_the_reported_hashes_stores_chained_records_and_decoded_transfers(phishing_case, staged_thefts):
    theft = staged_thefts.theft(staging.APPROVAL_PHISHING)
    [job] = jobs.capture_reported(phishing_case, actor=None)
    db.session.commit()
    assert jobs.run_due_jobs() == 1
    db.session.refresh(job)
    assert job.status is JobStatus.DONE, job.last_error
    records = db.session.scalars(select(EvidenceRecord).order_by(EvidenceRecord.sequence)).all()
    assert [r.sequence for r in records] == list(range(len(records)))
    assert {r.kind for r in records} >= {"transaction", "receipt", "block"}
    receipts = [r for r in records if r.kind == "receipt"]
    assert all(r.confirmations and r.confirmations >= 1 for r in receipts)
    transfers = db.session.scalars(select(Transfer)).all()
    drain = next(t for t in transfers if t.kind is TransferKind.ERC20)
    assert drain.amount_raw == theft.stolen_token_amount
    assert drain.from_address == theft.address_of("victim")
    assert drain.to_address == theft.address_of("attacker")
    assert drain.decimals == 6 and drain.symbol == staged_thefts.token.symbol
    # What the records show: the attacker moved the tokens with the approval the victim signed.
    assert drain.pattern == "approval_drain" and drain.approval_tx_hash == theft.step("approve").tx_hash
    approval = next(t for t in transfers if t.kind is TransferKind.APPROVAL)
    assert approval.amount_raw == 2**256 - 1 and approval.to_address == theft.address_of("attacker")
    # Every decoded figure points at the raw record it came from.
    source = db.session.get(EvidenceRecord, drain.evidence_record_id)
    assert source.kind == "receipt" and drain.tx_hash in source.canonical_json
    assert db.session.scalars(select(CaseEvent.action).where(CaseEvent.case_id == phishing_case.id)).all()[-1] == (
        "evidence"
    )


def test_verify_command_passes_then_names_the_first_tampered_record(app, phishing_case):
    jobs.capture_reported(phishing_case, actor=None)
    db.session.commit()
    jobs.run_due_jobs()
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["evidence", "verify", phishing_case.reference, "--refetch"])
    assert ok.exit_code == 0, ok.output
    assert "records verified" in ok.output
    target = db.session.scalars(select(EvidenceRecord).where(EvidenceRecord.kind == "receipt")).first()
    # Tampering happens behind the ORM's back, as an attacker with database access would do it.
    db.session.execute(
        text("UPDATE evidence_records SET canonical_json = replace(canonical_json, '\"0x1\"', '\"0x0\"') "
             "WHERE id = :id"),
        {"id": target.id},
    )
    db.session.commit()
    bad = runner.invoke(args=["evidence", "verify", phishing_case.reference])
    assert bad.exit_code == 1
    assert f"record {target.sequence}" in bad.output


def test_a_stored_record_is_rehashed_with_the_rfc8785_package_alone(app, phishing_case):
    jobs.capture_reported(phishing_case, actor=None)
    db.session.commit()
    jobs.run_due_jobs()
    rows = db.session.execute(
        text("SELECT canonical_json, sha256, chain_hash, canonical_version FROM evidence_records "
             "WHERE case_id = :id ORDER BY sequence"), {"id": phishing_case.id}
    ).all()
    assert rows
    previous = "0" * 64
    for stored, sha256, chain_hash, version in rows:
        assert version == 2
        assert rfc8785.dumps(json.loads(stored)) == stored.encode("utf-8")
        assert hashlib.sha256(stored.encode("utf-8")).hexdigest() == sha256
        previous = hashlib.sha256((previous + sha256).encode("ascii")).hexdigest()
        assert previous == chain_hash


def _append_legacy_record(case: Case, canonical: str) -> EvidenceRecord:
    """A record as the first canonical version wrote it, chained after the case's last record."""
    last = db.session.scalars(
        select(EvidenceRecord).where(EvidenceRecord.case_id == case.id).order_by(EvidenceRecord.sequence.desc())
    ).first()
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    row = EvidenceRecord(
        case_id=case.id, sequence=last.sequence + 1 if last else 0, kind="receipt", chain_id=1,
        canonical_json=canonical, canonical_version=1, source_host="rpc.example.org",
        source_method="eth_getTransactionReceipt", sha256=digest,
        chain_hash=hashlib.sha256(((last.chain_hash if last else "0" * 64) + digest).encode("ascii")).hexdigest(),
    )
    db.session.add(row)
    db.session.commit()
    return row


def test_records_in_the_first_canonical_form_still_verify_and_tampering_is_named(app, phishing_case):
    jobs.capture_reported(phishing_case, actor=None)
    db.session.commit()
    jobs.run_due_jobs()
    # Keys sorted by code point: version 1 bytes that RFC 8785 would order differently.
    legacy = json.dumps({"captured_at": "2026-11-23T15:04:05.000060Z", "chain_id": 1, "error": None,
                         "kind": "receipt", "method": "eth_getTransactionReceipt", "params": ["0x" + "ab" * 32],
                         "result": {"\ufb33": "0x1", "\U0001f600": "0x0"}, "source": "rpc.example.org"},
                        sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert rfc8785.dumps(json.loads(legacy)) != legacy.encode()
    row = _append_legacy_record(phishing_case, legacy)
    _append_legacy_record(phishing_case, legacy.replace("0x1", "0x2"))
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["evidence", "verify", phishing_case.reference])
    assert ok.exit_code == 0, ok.output
    assert "2 in the canonical form before RFC 8785" in ok.output
    db.session.execute(
        text("UPDATE evidence_records SET canonical_json = replace(canonical_json, '\"0x1\"', '\"0x9\"') "
             "WHERE id = :id"),
        {"id": row.id},
    )
    db.session.commit()
    bad = runner.invoke(args=["evidence", "verify", phishing_case.reference])
    assert bad.exit_code == 1
    assert f"record {row.sequence}" in bad.output


def test_a_dead_rpc_endpoint_fails_over_to_the_next_url(app, devnet, phishing_case):
    from evidence.devnet.anvil import free_port

    dead_first = [f"http://127.0.0.1:{free_port()}", devnet.rpc_url]
    app.config["CHAINS"] = json.dumps([{"chain_id": 31337, "rpc_urls": dead_first}])
    app.config["DEVNET_RPC_URL"] = None
    chains.init_app(app)
    [job] = jobs.capture_reported(phishing_case, actor=None)
    db.session.commit()
    jobs.run_due_jobs()
    db.session.refresh(job)
    assert job.status is JobStatus.DONE, job.last_error
    assert _count(EvidenceRecord) > 0


@pytest.mark.parametrize("fault", ["429", "500", "garbage", "timeout"])
def test_a_failing_node_leaves_no_partial_evidence_and_a_readable_error(app, devnet, phishing_case, fault):
    with FaultProxy(devnet.rpc_url, hang_seconds=1.0) as proxy:
        app.config["DEVNET_RPC_URL"] = proxy.url
        chains.init_app(app)
        proxy.fail_next(*[fault] * 50)
        [job] = jobs.capture_reported(phishing_case, actor=None)
        db.session.commit()
        moment = utcnow()
        for _ in range(jobs.MAX_ATTEMPTS):
            jobs.run_due_jobs(now=moment)
            moment += timedelta(hours=2)
        db.session.refresh(job)
    assert job.status is JobStatus.FAILED
    assert job.attempts == jobs.MAX_ATTEMPTS
    assert job.last_error and "Traceback" not in job.last_error
    assert "secret-api-key" not in job.last_error  # the URL's path (an API key) never leaks
    assert _count(EvidenceRecord) == 0 and _count(Transfer) == 0


def test_a_job_is_retried_after_a_transient_failure(app, devnet, phishing_case):
    with FaultProxy(devnet.rpc_url) as proxy:
        app.config["DEVNET_RPC_URL"] = proxy.url
        chains.init_app(app)
        proxy.fail_next(*["500"] * 10)
        [job] = jobs.capture_reported(phishing_case, actor=None)
        db.session.commit()
        now = utcnow()
        jobs.run_due_jobs(now=now)
        db.session.refresh(job)
        assert job.status is JobStatus.QUEUED and job.last_error
        proxy.reset()
        assert jobs.run_due_jobs(now=now) == 0  # backoff: not due yet
        jobs.run_due_jobs(now=now + timedelta(hours=1))
        db.session.refresh(job)
    assert job.status is JobStatus.DONE and job.attempts == 2


def test_a_job_whose_worker_died_is_picked_up_after_its_lease(app, phishing_case):
    [job] = jobs.capture_reported(phishing_case, actor=None)
    db.session.commit()
    claimed = jobs.claim_next()
    assert claimed.id == job.id and claimed.status is JobStatus.RUNNING
    # The worker dies here without finishing. Within the lease nobody else takes the job ...
    assert jobs.claim_next() is None
    # ... and after it, another scheduler resumes it.
    later = utcnow() + jobs.LEASE + timedelta(seconds=1)
    resumed = jobs.claim_next(later)
    assert resumed.id == job.id and resumed.attempts == 2
    jobs.run_job(resumed)
    assert db.session.get(EvidenceJob, job.id).status is JobStatus.DONE


def test_a_hash_unknown_to_the_chain_is_reported_not_an_error(app, devnet, phishing_case):
    job = jobs.enqueue(phishing_case, "capture", {"chain_id": 31337, "tx_hashes": ["0x" + "12" * 32]}, actor=None)
    db.session.commit()
    jobs.run_due_jobs()
    db.session.refresh(job)
    assert job.status is JobStatus.DONE
    assert "not found on Local devnet (try another chain): 0x" + "12" * 32 in job.progress


def test_a_handler_runs_a_capture_from_the_case_page_and_sees_the_movements(
        client, make_user, login, phishing_case, staged_thefts):
    from casework.models import Role
    from tests.fixtures.factories import csrf_token

    login(make_user(Role.HANDLER))
    url = f"/staff/cases/{phishing_case.reference}"
    response = client.post(url + "/evidence/capture", data={"csrf_token": csrf_token(client, url), "run_now": "y"})
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Done: 2 captured" in page
    assert "25,000 " + staged_thefts.token.symbol in page
    assert "unlimited" in page


def test_legal_staff_cannot_start_captures(client, make_user, login, phishing_case):
    from casework.models import Role
    from tests.fixtures.factories import csrf_token

    login(make_user(Role.LEGAL))
    url = f"/staff/cases/{phishing_case.reference}"
    response = client.post(url + "/evidence/capture", data={"csrf_token": csrf_token(client, url), "run_now": "y"})
    assert response.status_code == 403
    assert _count(EvidenceJob) == 0


def test_hashes_reported_on_the_wrong_chain_can_be_looked_for_on_another(app, devnet, make_case, staged_thefts):
    from casework.models import ReportedTransaction

    theft = staged_thefts.theft(staging.APPROVAL_PHISHING)
    case = make_case().case  # the factory reports a hash on Ethereum (chain 1)
    case.transactions.append(ReportedTransaction(chain_id=1, tx_hash=theft.step("drain").tx_hash))
    db.session.commit()
    [job] = jobs.capture_reported(case, actor=None, on_chain=31337)
    assert job.params["chain_id"] == 31337 and len(job.params["tx_hashes"]) == 2
    db.session.commit()
    jobs.run_due_jobs()
    db.session.refresh(job)
    assert job.status is JobStatus.DONE
    assert "1 captured" in job.progress and "not found on Local devnet (try another chain)" in job.progress
