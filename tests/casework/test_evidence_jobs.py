"""Evidence capture as jobs: records chained per case, transfers linked to them, verification,
retries and failover, and no partial evidence on failure; one way to claim a job, leases that fence a
worker that lost its job, no transaction held across network calls. Against the real anvil devnet."""

import hashlib
import itertools
import json
import threading
import time
from datetime import timedelta

import pytest
import rfc8785
from sqlalchemy import func, select, text

from casework.extensions import db
from casework.models import (
    AddressRole,
    Case,
    CaseAddress,
    CaseEvent,
    EvidenceJob,
    EvidenceRecord,
    IncidentType,
    JobStatus,
    Message,
    Priority,
    Role,
    SlaMetric,
    Transfer,
    TransferKind,
    User,
    utcnow,
)
from casework.services import chains, demo, jobs, portal, sla_clocks
from casework.services import evidence as evidence_service
from evidence.devnet import staging
from evidence.rpc import RetryPolicy
from tests.evidence.faultproxy import FaultProxy
from tests.fixtures.factories import at_once

# Requests held at the proxy's gate must not time out while the test looks at the database.
PATIENT_RETRY = RetryPolicy(attempts=2, backoff=0.01, backoff_max=0.05, timeout=60)


class HeldProxy(FaultProxy):
    """The fault proxy with a gate: `hold(n)` keeps the next n forwarded requests until `let_through()`, and
    `arrived` is released as each one reaches the gate, so a test can look at the database mid-RPC."""

    def __init__(self, upstream_url: str) -> None:
        super().__init__(upstream_url)
        self.arrived = threading.Semaphore(0)
        self._gate = threading.Semaphore(0)
        self._to_hold = 0
        self._hold_lock = threading.Lock()

    def hold(self, count: int = 10**9) -> None:
        with self._hold_lock:
            self._to_hold = count

    def let_through(self) -> None:
        self._gate.release()

    def _forward(self, body: bytes) -> bytes:
        with self._hold_lock:
            held = self._to_hold > 0
            self._to_hold -= held
        if held:
            self.arrived.release()
            self._gate.acquire(timeout=120)
        return super()._forward(body)


class Worker(threading.Thread):
    """Runs work in a thread with its own app context (its own session), keeping what it returned or raised."""

    def __init__(self, app, work) -> None:
        super().__init__(daemon=True)
        self.app, self.work, self.result, self.error = app, work, None, None
        self.start()

    def run(self) -> None:
        with self.app.app_context():
            try:
                self.result = self.work()
            except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread by finish()
                self.error = exc
            finally:
                db.session.remove()

    def finish(self):
        self.join(timeout=300)
        assert not self.is_alive(), "the worker did not finish"
        if self.error is not None:
            raise self.error
        return self.result


def _through(app, proxy: FaultProxy) -> None:
    app.config["DEVNET_RPC_URL"] = proxy.url
    app.config["RPC_RETRY_POLICY"] = PATIENT_RETRY
    chains.init_app(app)


@pytest.fixture
def phishing_case(app, devnet, staged_thefts) -> Case:
    demo.file_demo_cases(staged_thefts, first_hour_work=False)
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
    # The capture fulfils the case's evidence-captured SLA clock.
    clock = sla_clocks.clocks_of(phishing_case)[SlaMetric.EVIDENCE_CAPTURED]
    assert clock.fulfilled_at is not None and clock.due_at is None and clock.escalate_at is None


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


def test_verifying_against_the_chain_holds_no_transaction_while_the_chain_answers(app, phishing_case):
    jobs.capture_reported(phishing_case, actor=None)
    db.session.commit()
    jobs.run_due_jobs()
    client = jobs.rpc_client(phishing_case.chain_ids[0])
    open_while_asking = []

    def fetch_again(record):
        open_while_asking.append(db.session().in_transaction())
        return client.call(record.method, list(record.params)).result

    result = evidence_service.verify_case(db.session.get(Case, phishing_case.id), refetch=fetch_again)
    assert result.ok, result.reason
    assert open_while_asking and not any(open_while_asking)


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
    assert claimed.id == job.id and db.session.get(EvidenceJob, job.id).status is JobStatus.RUNNING
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


def test_run_now_racing_the_scheduler_runs_the_job_once(app, make_user, phishing_case):
    handler = make_user(Role.HANDLER)
    [job] = jobs.capture_reported(phishing_case, actor=None)
    db.session.commit()
    job_id, handler_id = job.id, handler.id
    turns = itertools.count()

    def scheduler_or_handler() -> str:
        if next(turns) == 0:
            return "scheduler" if jobs.claim_next() is not None else "nothing due"
        try:
            jobs.run_now(db.session.get(EvidenceJob, job_id), actor=db.session.get(User, handler_id))
        except jobs.JobError as exc:
            return f"refused: {exc}"
        return "run now"

    outcomes = at_once(app, scheduler_or_handler, 4)
    assert len([o for o in outcomes if o in ("scheduler", "run now")]) == 1, outcomes
    losers = [o for o in outcomes if o not in ("scheduler", "run now", "nothing due")]
    assert all(o.startswith("refused: This job ") for o in losers), outcomes
    db.session.expire_all()
    assert db.session.get(EvidenceJob, job_id).attempts == 1


def test_run_now_on_a_finished_job_is_refused_with_a_clear_message(app, make_user, phishing_case):
    handler = make_user(Role.HANDLER)
    [job] = jobs.capture_reported(phishing_case, actor=None)
    db.session.commit()
    jobs.run_due_jobs()
    records = _count(EvidenceRecord)
    with pytest.raises(jobs.JobError, match="This job has already finished \\(Done\\); queue a new one"):
        jobs.run_now(db.session.get(EvidenceJob, job.id), actor=handler)
    assert _count(EvidenceRecord) == records
    assert db.session.get(EvidenceJob, job.id).attempts == 1


def test_a_handler_who_asks_to_run_a_job_the_scheduler_holds_is_told_so(client, make_user, login, phishing_case,
                                                                       monkeypatch):
    from tests.fixtures.factories import csrf_token

    login(make_user(Role.HANDLER))
    url = f"/staff/cases/{phishing_case.reference}"
    token = csrf_token(client, url)
    # The scheduler takes the job between the handler's queueing and their "run now" (the view commits between).
    original = jobs.enqueue

    def enqueue_and_let_the_scheduler_take_it(*args, **kwargs):
        job = original(*args, **kwargs)
        db.session.commit()
        assert jobs.claim_next() is not None
        return job

    monkeypatch.setattr(jobs, "enqueue", enqueue_and_let_the_scheduler_take_it)
    client.post(url + "/evidence/capture", data={"csrf_token": token, "run_now": "y"})
    page = client.get(url).get_data(as_text=True)
    assert "This job is already running; its result will show here when it finishes." in page
    assert _count(EvidenceRecord) == 0


@pytest.mark.parametrize("first_run", ["succeeds", "fails"])
def test_a_worker_that_lost_its_lease_commits_neither_its_result_nor_its_failure(app, devnet, phishing_case,
                                                                                 first_run):
    with HeldProxy(devnet.rpc_url) as proxy:
        _through(app, proxy)
        [job] = jobs.capture_reported(phishing_case, actor=None)
        db.session.commit()
        proxy.hold(1)
        first = Worker(app, lambda: jobs.run_job(jobs.claim_next()))
        assert proxy.arrived.acquire(timeout=60)  # the first worker waits for the provider ...
        # ... past its lease, and another worker claims the job and finishes it.
        second = jobs.claim_next(utcnow() + jobs.LEASE + timedelta(seconds=1))
        assert second is not None and second.id == job.id
        jobs.run_job(second)
        records, transfers = _count(EvidenceRecord), _count(Transfer)
        assert records > 0
        if first_run == "fails":
            proxy.fail_next(*["500"] * 20)
        proxy.let_through()
        first.finish()
    db.session.expire_all()
    job = db.session.get(EvidenceJob, job.id)
    assert job.status is JobStatus.DONE and job.last_error is None and job.attempts == 2
    assert _count(EvidenceRecord) == records and _count(Transfer) == transfers
    sequences = db.session.scalars(select(EvidenceRecord.sequence).order_by(EvidenceRecord.sequence)).all()
    assert sequences == list(range(records))


def test_a_working_job_keeps_extending_its_lease(app, devnet, phishing_case, monkeypatch):
    monkeypatch.setattr(jobs, "HEARTBEAT", timedelta(milliseconds=50))
    with HeldProxy(devnet.rpc_url) as proxy:
        _through(app, proxy)
        [job] = jobs.capture_reported(phishing_case, actor=None)
        db.session.commit()
        proxy.hold(1)
        worker = Worker(app, jobs.run_due_jobs)
        assert proxy.arrived.acquire(timeout=60)
        leases = []
        for _ in range(600):  # waits for the heartbeat; asserts nothing about how long it takes
            db.session.expire_all()
            leases.append(db.session.get(EvidenceJob, job.id).locked_until)
            db.session.rollback()
            if leases[-1] > leases[0]:
                break
            time.sleep(0.05)
        proxy.let_through()
        worker.finish()
    assert leases[-1] > leases[0]
    assert db.session.get(EvidenceJob, job.id).status is JobStatus.DONE


def test_no_transaction_or_case_lock_is_held_while_the_provider_answers(app, devnet, phishing_case):
    # Two victim addresses: discovery used to store the first one's findings, under a lock on the case, and
    # then call the chain for the second.
    phishing_case.addresses.append(CaseAddress(chain_id=31337, address="0x" + "33" * 20, role=AddressRole.VICTIM))
    db.session.commit()
    since, until = phishing_case.incident_at - timedelta(hours=6), phishing_case.discovered_at + timedelta(hours=6)
    job = jobs.queue_discovery(phishing_case, 31337, since, until, actor=None)
    db.session.commit()
    postgres = db.engine.dialect.name == "postgresql"
    checked = 0
    with HeldProxy(devnet.rpc_url) as proxy:
        _through(app, proxy)
        proxy.hold()
        worker = Worker(app, jobs.run_due_jobs)
        while worker.is_alive() or proxy.arrived.acquire(blocking=False):
            if not proxy.arrived.acquire(timeout=0.1):
                continue
            # The worker is waiting for the chain: it holds no transaction ...
            if postgres:
                idle = db.session.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"))
                assert idle == 0
                db.session.execute(text("SET LOCAL lock_timeout = '5s'"))
            # ... and no lock a victim's message would wait for (SQLite gives up after its 5 s busy timeout).
            portal.send_victim_message(db.session.get(Case, phishing_case.id), f"Any news? ({checked})")
            db.session.commit()
            checked += 1
            proxy.let_through()
        worker.finish()
    assert checked > 2
    assert _count(Message) == checked
    assert db.session.get(EvidenceJob, job.id).status is JobStatus.DONE


def test_due_jobs_run_by_the_urgency_of_their_case_then_by_due_time(app, make_case):
    low, critical = make_case().case, make_case().case
    low.priority, critical.priority = Priority.LOW, Priority.CRITICAL
    now = utcnow()
    params = {"chain_id": 1, "tx_hashes": ["0x" + "ab" * 32]}
    slow_trace = jobs.enqueue(low, "capture", params, actor=None)
    first_capture = jobs.enqueue(critical, "capture", params, actor=None)
    second_capture = jobs.enqueue(critical, "capture", params, actor=None)
    slow_trace.next_attempt_at = now - timedelta(hours=3)
    first_capture.next_attempt_at = now - timedelta(hours=2)
    second_capture.next_attempt_at = now - timedelta(minutes=1)
    db.session.commit()
    order = [jobs.claim_next(now).id for _ in range(3)]
    assert order == [first_capture.id, second_capture.id, slow_trace.id]


def test_a_job_that_killed_its_worker_as_often_as_the_retry_limit_fails_with_a_readable_message(app, make_case):
    job = jobs.enqueue(make_case().case, "capture", {"chain_id": 1, "tx_hashes": ["0x" + "ab" * 32]}, actor=None)
    db.session.commit()
    moment = utcnow()
    for attempt in range(1, jobs.MAX_ATTEMPTS + 1):
        claim = jobs.claim_next(moment)
        assert claim is not None and claim.id == job.id and claim.attempts == attempt
        # The worker is killed here (out of memory, SIGKILL): it never reports back.
        moment += jobs.LEASE + timedelta(seconds=1)
    assert jobs.claim_next(moment) is None
    db.session.expire_all()
    job = db.session.get(EvidenceJob, job.id)
    assert job.status is JobStatus.FAILED and job.finished_at is not None
    assert job.last_error.startswith(f"The worker running this job stopped {jobs.MAX_ATTEMPTS} times without "
                                     "finishing (it may have run out of memory or been killed)")
    assert job.attempts == jobs.MAX_ATTEMPTS


def test_schedulers_claiming_at_once_never_take_the_same_job(app, make_case):
    case = make_case().case
    for _ in range(3):
        jobs.enqueue(case, "capture", {"chain_id": 1, "tx_hashes": ["0x" + "ab" * 32]}, actor=None)
    db.session.commit()
    claimed = at_once(app, lambda: getattr(jobs.claim_next(), "id", None), 6)
    taken = [job_id for job_id in claimed if job_id is not None]
    assert sorted(taken) == sorted(set(taken)) and len(taken) == 3, claimed
    db.session.expire_all()
    assert [job.attempts for job in db.session.scalars(select(EvidenceJob))] == [1, 1, 1]


def test_what_a_trace_found_is_found_by_the_queue_search(app, make_user, phishing_case, staged_thefts):
    """A handler who searches for a hop's transaction or the deposit address the trace reached finds the case."""
    from casework.services import queue

    theft = staged_thefts.theft(staging.APPROVAL_PHISHING)
    handler = make_user(Role.HANDLER)
    hop, deposit = theft.step("hop_2").tx_hash, theft.address_of("exchange_deposit")

    def found(text: str) -> list[str]:
        return [line.reference for line in queue.find_cases(handler, queue.QueueQuery(q=text)).lines]

    assert found(hop) == [] and found(deposit) == []
    jobs.queue_trace(phishing_case, staged_thefts.chain_id, depth=4, breadth=5, actor=None)
    db.session.commit()
    jobs.run_due_jobs()
    assert found(hop) == [phishing_case.reference]
    assert found(deposit[:12]) == [phishing_case.reference]
