"""The evidence job queue: capture, discovery and tracing, run by the scheduler or at once from the case page.

What holds, on PostgreSQL and on SQLite alike:

- One way to claim. The scheduler (`claim_next`) and a handler's "run now" (`run_now`) both take a job through
  one compare-and-set: an UPDATE that matches only while the row is as it was read (queued, or running with an
  expired lease, and the same lease token), checked by its row count. The scheduler reads candidates with
  `FOR UPDATE SKIP LOCKED` on PostgreSQL so two schedulers do not wait on one row; on SQLite, where SKIP LOCKED
  compiles to nothing, the compare-and-set alone lets only one of two schedulers have a job. A finished job
  is never run again: "run now" on it is refused.
- Leases and fencing. A claim writes a fresh lease token and a lease of LEASE; while the job works, a heartbeat
  thread extends the lease every HEARTBEAT (for at most MAX_RUNTIME, so a hung worker lets its job go). The
  job's result, its evidence and a failure are written in one transaction that starts with an UPDATE matching
  the worker's token: a worker that lost its lease (it stalled past it and another worker claimed the job)
  commits nothing at all.
- No transaction across network calls. A job reads what it needs (prepare), ends its transaction and gives
  back its connection, calls the RPC provider (fetch), and only then locks the case, with
  `FOR NO KEY UPDATE` on PostgreSQL (which a victim's message, inserted meanwhile, does not wait for), and
  writes (store).
- Order. Due jobs run by their case's priority (critical first), then by next_attempt_at.
- Attempts are counted at claim. A job whose worker died (out of memory, SIGKILL) as many times as
  MAX_ATTEMPTS is marked FAILED with a readable message when its last lease runs out, not retried forever;
  a job that fails with an error is retried with backoff up to the same limit.

Progress, results and failures are stored as messages (casework.messages: a key and its values), never as text:
the scheduler has no reader, and the case page puts them into the words of whoever reads it. The evidence
package's own error messages are English and kept as they are, inside a message of ours.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import monotonic
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select, update
from sqlalchemy import case as sql_case
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from casework.extensions import db
from casework.messages import Message, say
from casework.models import Case, EvidenceJob, JobKind, JobStatus, Priority, ReportedTransaction, User, utcnow
from casework.models.queue import JOBS_TO_DO
from casework.services import chains, first_hour, search_index, tracing
from casework.services import evidence as evidence_service
from casework.services.access import Permission, require
from evidence.capture import capture_transactions
from evidence.decode import decode_records
from evidence.errors import EvidenceError
from evidence.models import Capture, Decoded
from evidence.rpc import RetryPolicy, RpcClient

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 4
LEASE = timedelta(minutes=10)
HEARTBEAT = LEASE / 3
MAX_RUNTIME = timedelta(hours=2)
RETRY_BASE = timedelta(seconds=30)


class JobError(Exception):
    """A job cannot be queued or run as asked; the message is for the handler."""


class LeaseLost(Exception):
    """This worker's lease on a job ended and another worker holds it now: nothing of this run is kept."""


@dataclass(frozen=True)
class Claim:
    """A job leased to this worker: `token` fences its writes; `attempts` counts this claim."""

    id: int
    token: str
    attempts: int


@dataclass(frozen=True)
class JobHandler:
    """A kind of job in three steps: read what it needs, call the network with no transaction open, write.

    prepare(job, case) reads the database and returns a plan (plain data); fetch(plan) talks to the RPC
    provider only; store(case, plan, fetched, actor) writes under the case lock and returns the result as a
    message (casework.messages.say).
    """

    prepare: Callable[[EvidenceJob, Case], Any]
    fetch: Callable[[Any], Any]
    store: Callable[[Case, Any, Any, User | None], Message]
    follow_on: Callable[[Case, Any, Any], object]  # first-hour work only: casework.services.first_hour


def rpc_client(chain_id: int) -> RpcClient:
    """A JSON-RPC client for a configured chain, with failover over its RPC URLs.

    Tests set app.config["RPC_RETRY_POLICY"] to retry fast; production uses the default backoff.
    """
    retry = current_app.config.get("RPC_RETRY_POLICY") or RetryPolicy()
    return RpcClient(chains.chain(chain_id).rpc_urls, retry=retry)


def enqueue(case: Case, kind: str, params: dict[str, Any], *, actor: User | None) -> EvidenceJob:
    """Queue a job for the scheduler (the caller commits)."""
    if actor is not None:
        require(actor, Permission.WORK_CASES)
    if kind not in HANDLERS:
        raise JobError(_("Unknown evidence job: %(kind)s.", kind=kind))
    chain_id = params.get("chain_id")
    if chain_id is not None and chain_id not in chains.registry():
        raise JobError(_("Chain %(id)s is not configured.", id=chain_id))
    job = EvidenceJob(case_id=case.id, kind=JobKind(kind), params=params, created_by_id=actor.id if actor else None)
    db.session.add(job)
    db.session.flush()
    return job


def capture_reported(case: Case, *, actor: User | None, on_chain: int | None = None) -> list[EvidenceJob]:
    """Queue one capture job per chain the victim reported transaction hashes on, or, with on_chain,
    one job that looks for all of them on that chain (victims often name the wrong chain)."""
    by_chain: dict[int, list[str]] = {}
    for tx in case.transactions:
        by_chain.setdefault(on_chain if on_chain is not None else tx.chain_id, []).append(tx.tx_hash)
    if not by_chain:
        raise JobError(_("The victim gave no transaction hashes: run a discovery from their address instead."))
    by_chain = {chain_id: list(dict.fromkeys(hashes)) for chain_id, hashes in by_chain.items()}
    return [
        enqueue(case, "capture", {"chain_id": chain_id, "tx_hashes": hashes}, actor=actor)
        for chain_id, hashes in sorted(by_chain.items())
    ]


@dataclass(frozen=True)
class CapturePlan:
    chain_id: int
    tx_hashes: tuple[str, ...]


def _prepare_capture(job: EvidenceJob, case: Case) -> CapturePlan:
    chain_id = job.params["chain_id"]
    hashes = job.params.get("tx_hashes") or db.session.scalars(
        select(ReportedTransaction.tx_hash).where(
            ReportedTransaction.case_id == case.id, ReportedTransaction.chain_id == chain_id
        )
    ).all()
    return CapturePlan(chain_id, tuple(hashes))


def _fetch_capture(plan: CapturePlan) -> tuple[Capture, Decoded]:
    chain = chains.chain(plan.chain_id)
    capture = capture_transactions(rpc_client(plan.chain_id), plan.tx_hashes, chain_id=plan.chain_id)
    decoded = decode_records(capture.records, native_symbol=chain.native_symbol, native_decimals=chain.native_decimals)
    return capture, decoded


def _store_capture(case: Case, plan: CapturePlan, fetched: tuple[Capture, Decoded], actor: User | None) -> Message:
    capture, decoded = fetched
    transfers = evidence_service.record_capture(case, capture, decoded, actor=actor)
    return say("capture.done", found=len(capture.found), transfers=len(transfers),
               chain=chains.chain(plan.chain_id).name, not_found=list(capture.not_found),
               pending=list(capture.pending))


def _after_evidence(case: Case, plan: CapturePlan | tracing.DiscoveryPlan, _fetched: Any) -> object:
    return first_hour.after_evidence(case, plan.chain_id)


def _after_trace(case: Case, plan: tracing.TracePlan, graph: Any) -> object:
    return first_hour.after_trace(case, plan.chain_id, reached_freezable=bool(graph and graph.proposals))


HANDLERS: dict[JobKind, JobHandler] = {
    JobKind.CAPTURE: JobHandler(_prepare_capture, _fetch_capture, _store_capture, _after_evidence),
    JobKind.DISCOVER: JobHandler(tracing.prepare_discovery, tracing.fetch_discovery, tracing.store_discovery,
                                 _after_evidence),
    JobKind.TRACE: JobHandler(tracing.prepare_trace, tracing.fetch_trace, tracing.store_trace, _after_trace),
}


def queue_discovery(case: Case, chain_id: int, since: datetime, until: datetime, *, actor: User | None) -> EvidenceJob:
    """Queue a search for what left the victim's addresses on a chain between since and until."""
    if until <= since:
        raise JobError(_("The end of the window must be after its start."))
    return enqueue(case, "discover", {"chain_id": chain_id, "since": since.isoformat(), "until": until.isoformat()},
                   actor=actor)


def queue_trace(case: Case, chain_id: int, *, depth: int, breadth: int, actor: User | None) -> EvidenceJob:
    """Queue a trace of the funds from the case's attacker addresses on a chain."""
    if not (1 <= depth <= 10 and 1 <= breadth <= 20):
        raise JobError(_("Depth must be 1 to 10 and breadth 1 to 20."))
    return enqueue(case, "trace", {"chain_id": chain_id, "max_depth": depth, "max_breadth": breadth}, actor=actor)


# Most urgent case first: a correlated subquery, so the poll locks job rows only, never cases.
_URGENCY = (
    select(sql_case({priority.value: priority.rank for priority in Priority}, value=Case.priority))
    .where(Case.id == EvidenceJob.case_id)
    .scalar_subquery()
)


def _lease_expired(now: datetime) -> Any:
    return or_(EvidenceJob.locked_until.is_(None), EvidenceJob.locked_until < now)


def _claimable(now: datetime, *, due_only: bool) -> Any:
    queued = EvidenceJob.status == JobStatus.QUEUED
    if due_only:
        queued = and_(queued, EvidenceJob.next_attempt_at <= now)
    return or_(queued, and_(EvidenceJob.status == JobStatus.RUNNING, _lease_expired(now)))


def _claim(job_id: int, seen_token: str | None, attempts: int, now: datetime, *, due_only: bool) -> Claim | None:
    """The compare-and-set every run goes through: lease the job if nobody changed it since it was read."""
    claim = Claim(job_id, secrets.token_hex(16), attempts + 1)
    result = db.session.execute(
        update(EvidenceJob)
        .where(
            EvidenceJob.id == job_id,
            EvidenceJob.lease_token.is_not_distinct_from(seen_token),
            EvidenceJob.attempts == attempts,
            _claimable(now, due_only=due_only),
        )
        .values(status=JobStatus.RUNNING, lease_token=claim.token, locked_until=now + LEASE,
                attempts=claim.attempts, progress_message=say("job.running", attempt=claim.attempts),
                progress_text="")
        .execution_options(synchronize_session=False)
    )
    return claim if result.rowcount == 1 else None


def _fail_abandoned(job_id: int, seen_token: str | None, attempts: int, now: datetime) -> None:
    """A job whose worker died on its last attempt: FAILED, with what the handler should know."""
    failed = db.session.execute(
        update(EvidenceJob)
        .where(EvidenceJob.id == job_id, EvidenceJob.status == JobStatus.RUNNING,
               EvidenceJob.lease_token.is_not_distinct_from(seen_token), _lease_expired(now))
        .values(status=JobStatus.FAILED, finished_at=now, locked_until=None, lease_token=None,
                error_message=say("job.abandoned", attempts=attempts), error_text=None,
                progress_message=say("job.failed", attempts=attempts), progress_text="")
        .execution_options(synchronize_session=False)
    ).rowcount
    if failed:
        log.error("Evidence job %s failed for good: its worker stopped %d times.", job_id, attempts)


def _take(row: Any, now: datetime, *, due_only: bool) -> Claim | None:
    if row.status is JobStatus.RUNNING and row.attempts >= MAX_ATTEMPTS:
        _fail_abandoned(row.id, row.lease_token, row.attempts, now)
        return None
    return _claim(row.id, row.lease_token, row.attempts, now, due_only=due_only)


def claim_next(now: datetime | None = None) -> Claim | None:
    """Lease the most urgent due job (queued, or running with an expired lease) to this worker, committed."""
    now = now or utcnow()
    while True:
        row = db.session.execute(
            select(EvidenceJob.id, EvidenceJob.status, EvidenceJob.lease_token, EvidenceJob.attempts)
            .where(JOBS_TO_DO, EvidenceJob.next_attempt_at <= now, _claimable(now, due_only=True))
            .order_by(_URGENCY, EvidenceJob.next_attempt_at, EvidenceJob.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).one_or_none()
        if row is None:
            db.session.rollback()
            return None
        claim = _take(row, now, due_only=True)
        db.session.commit()
        if claim is not None:
            return claim
        # Another scheduler took the row between our read and our update, or it was abandoned: look again.


class _Heartbeat:
    """Extends a claim's lease every HEARTBEAT from a thread with its own connection, while the job runs."""

    def __init__(self, engine: Engine, claim: Claim) -> None:
        self._engine, self._claim = engine, claim
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-job-{claim.id}", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        give_up = monotonic() + MAX_RUNTIME.total_seconds()
        while not self._stop.wait(HEARTBEAT.total_seconds()) and monotonic() < give_up:
            try:
                with self._engine.begin() as connection:
                    extended = connection.execute(
                        _claimed(self._claim).values(locked_until=utcnow() + LEASE)
                    ).rowcount
            except SQLAlchemyError as exc:  # the final write is fenced anyway; try again at the next beat
                log.warning("Could not extend the lease of evidence job %s (%s).", self._claim.id,
                            type(exc).__name__)
                continue
            if not extended:
                return  # finished, or lost to another worker (the run's fenced final write says which)


def _claimed(claim: Claim) -> Any:
    """An UPDATE of the job that matches only while this worker still holds it."""
    return (
        update(EvidenceJob)
        .where(EvidenceJob.id == claim.id, EvidenceJob.lease_token == claim.token,
               EvidenceJob.status == JobStatus.RUNNING)
        .execution_options(synchronize_session=False)
    )


def _write_claimed(claim: Claim, **values: Any) -> None:
    if db.session.execute(_claimed(claim).values(**values)).rowcount != 1:
        raise LeaseLost(claim.id)


def run_job(claim: Claim) -> EvidenceJob:
    """Run a claimed job: what it stores is committed at once with its result, or nothing (on failure, or when
    its lease was lost). Returns the job as stored afterwards."""
    with _Heartbeat(db.engine, claim):
        message = _attempt(claim)
    if message is not None:
        db.session.rollback()
        try:
            _record_failure(claim, message)
            db.session.commit()
        except LeaseLost:
            db.session.rollback()
            log.warning("Evidence job %s failed after its lease was lost; the failure is not recorded.", claim.id)
    db.session.expire_all()
    return db.session.get(EvidenceJob, claim.id)


def _attempt(claim: Claim) -> Message | None:
    """Prepare, fetch, store and commit; None when done (or discarded), else the failure's message."""
    job = db.session.get(EvidenceJob, claim.id)
    case_id, actor_id, handler = job.case_id, job.created_by_id, HANDLERS[job.kind]
    follows_on = first_hour.is_first_hour(job)
    try:
        plan = handler.prepare(job, db.session.get(Case, case_id))
        db.session.commit()  # ends the transaction and gives the connection back while the provider answers
        fetched = handler.fetch(plan)
        _write_claimed(claim, locked_until=utcnow() + LEASE)  # the final transaction holds the job first
        case_row = db.session.get(Case, case_id)
        actor = db.session.get(User, actor_id) if actor_id else None
        result = handler.store(case_row, plan, fetched, actor)
        if follows_on:  # in this same transaction: a failed store keeps nothing of the follow-on either
            handler.follow_on(case_row, plan, fetched)
        search_index.refresh(case_id)  # the queue's search finds what the job found (hashes, addresses)
        _write_claimed(claim, status=JobStatus.DONE, progress_message=result, progress_text="", error_message=None,
                       error_text=None, finished_at=utcnow(), locked_until=None)
        db.session.commit()
        return None
    except LeaseLost:
        db.session.rollback()
        log.warning("Evidence job %s: lease lost to another worker; nothing of this run is kept.", claim.id)
        return None
    except EvidenceError as exc:
        return say("job.evidence_error", error=str(exc))
    except Exception:
        db.session.rollback()
        reference = db.session.scalar(select(Case.reference).where(Case.id == case_id))
        log.exception("Evidence job %s for case %s failed unexpectedly.", claim.id, reference or "?")
        return say("job.unexpected")


def _record_failure(claim: Claim, message: Message) -> None:
    now = utcnow()
    failure = {"locked_until": None, "error_message": message, "error_text": None, "progress_text": ""}
    if claim.attempts >= MAX_ATTEMPTS:
        _write_claimed(claim, status=JobStatus.FAILED, finished_at=now,
                       progress_message=say("job.failed", attempts=claim.attempts), **failure)
        return
    retry_at = now + RETRY_BASE * 2 ** (claim.attempts - 1)
    _write_claimed(claim, status=JobStatus.QUEUED, next_attempt_at=retry_at,
                   progress_message=say("job.retry", at=retry_at.isoformat()), **failure)


def run_due_jobs(limit: int = 20, now: datetime | None = None) -> int:
    """Run up to limit due jobs, most urgent first; returns how many ran. The scheduler calls this."""
    ran = 0
    while ran < limit:
        claim = claim_next(now)
        if claim is None:
            break
        run_job(claim)
        ran += 1
    return ran


def run_now(job: EvidenceJob, *, actor: User) -> EvidenceJob:
    """Run a job in the handler's request instead of waiting for the scheduler, through the same claim.

    Raises JobError when the job is finished or another worker is running it.
    """
    require(actor, Permission.WORK_CASES)
    job_id = job.id
    db.session.refresh(job)
    now = utcnow()
    claim = None
    if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        claim = _take(job, now, due_only=False)
        db.session.commit()
    if claim is None:
        job = db.session.get(EvidenceJob, job_id)
        db.session.refresh(job)
        if job.status is JobStatus.RUNNING:
            raise JobError(_("This job is already running; its result will show here when it finishes."))
        if job.status is JobStatus.FAILED and job.last_error:
            raise JobError(job.last_error)
        raise JobError(_("This job has already finished (%(status)s); queue a new one to run it again.",
                         status=job.status.title))
    return run_job(claim)


def jobs_for(case: Case) -> list[EvidenceJob]:
    """A case's jobs, newest first."""
    return list(
        db.session.scalars(select(EvidenceJob).where(EvidenceJob.case_id == case.id).order_by(EvidenceJob.id.desc()))
    )
