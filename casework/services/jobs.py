"""The evidence job queue: capture (and later discovery and tracing) run by the scheduler, or at
once from the case page. A job's records are committed together or not at all; a failed attempt is
retried with backoff; a job whose worker died is picked up again when its lease runs out."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select

from casework.extensions import db
from casework.models import Case, EvidenceJob, JobKind, JobStatus, ReportedTransaction, User, utcnow
from casework.services import chains, tracing
from casework.services import evidence as evidence_service
from casework.services.access import Permission, require
from evidence.capture import capture_transactions
from evidence.decode import decode_records
from evidence.errors import EvidenceError
from evidence.rpc import RetryPolicy, RpcClient

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 4
LEASE = timedelta(minutes=10)
RETRY_BASE = timedelta(seconds=30)


class JobError(Exception):
    """A job cannot be queued as asked; the message is for the handler."""


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


def _run_capture(job: EvidenceJob, case: Case, actor: User | None) -> str:
    chain_id = job.params["chain_id"]
    hashes = job.params.get("tx_hashes") or list(
        db.session.scalars(
            select(ReportedTransaction.tx_hash).where(
                ReportedTransaction.case_id == case.id, ReportedTransaction.chain_id == chain_id
            )
        )
    )
    chain = chains.chain(chain_id)
    capture = capture_transactions(rpc_client(chain_id), hashes, chain_id=chain_id)
    decoded = decode_records(capture.records, native_symbol=chain.native_symbol, native_decimals=chain.native_decimals)
    transfers = evidence_service.record_capture(case, capture, decoded, actor=actor)
    summary = _("%(found)d captured, %(transfers)d value movements", found=len(capture.found),
                transfers=len(transfers))
    if capture.not_found:
        summary += "; " + _("not found on %(chain)s (try another chain): %(hashes)s", chain=chain.name,
                            hashes=", ".join(capture.not_found))
    if capture.pending:
        summary += "; " + _("not yet mined: %(hashes)s", hashes=", ".join(capture.pending))
    return summary


HANDLERS: dict[JobKind, Callable[[EvidenceJob, Case, User | None], str]] = {
    JobKind.CAPTURE: _run_capture,
    JobKind.DISCOVER: tracing.run_discovery,
    JobKind.TRACE: tracing.run_trace,
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


def claim_next(now: datetime | None = None) -> EvidenceJob | None:
    """Take the next due job (queued, or running with an expired lease) and lease it to this worker."""
    now = now or utcnow()
    job = db.session.scalar(
        select(EvidenceJob)
        .where(
            EvidenceJob.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]),
            EvidenceJob.next_attempt_at <= now,
            or_(EvidenceJob.locked_until.is_(None), EvidenceJob.locked_until < now),
        )
        .order_by(EvidenceJob.next_attempt_at, EvidenceJob.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if job is None:
        db.session.rollback()
        return None
    job.status = JobStatus.RUNNING
    job.locked_until = now + LEASE
    job.attempts += 1
    job.progress = _("Running (attempt %(n)d)", n=job.attempts)
    db.session.commit()
    return job


def run_job(job: EvidenceJob) -> EvidenceJob:
    """Run a claimed job: everything it stores is committed at once, or nothing on failure."""
    job_id = job.id
    case = db.session.get(Case, job.case_id)
    actor = db.session.get(User, job.created_by_id) if job.created_by_id else None
    try:
        summary = HANDLERS[job.kind](job, case, actor)
        job.status, job.progress, job.last_error = JobStatus.DONE, summary[:200], None
        job.finished_at, job.locked_until = utcnow(), None
        db.session.commit()
        return job
    except EvidenceError as exc:
        message = str(exc)
    except Exception:
        log.exception("Evidence job %s for case %s failed unexpectedly.", job_id, case.reference if case else "?")
        message = _("An unexpected error stopped this job; it has been logged for the team.")
    db.session.rollback()
    job = db.session.get(EvidenceJob, job_id)
    _record_failure(job, message)
    db.session.commit()
    return job


def _record_failure(job: EvidenceJob, message: str) -> None:
    now = utcnow()
    job.last_error = message
    job.locked_until = None
    if job.attempts >= MAX_ATTEMPTS:
        job.status, job.finished_at = JobStatus.FAILED, now
        job.progress = _("Failed after %(n)d attempts", n=job.attempts)
    else:
        job.status = JobStatus.QUEUED
        job.next_attempt_at = now + RETRY_BASE * 2 ** (job.attempts - 1)
        job.progress = _("Will retry at %(time)s UTC", time=job.next_attempt_at.strftime("%H:%M:%S"))


def run_due_jobs(limit: int = 20, now: datetime | None = None) -> int:
    """Run up to limit due jobs; returns how many ran. The scheduler calls this."""
    ran = 0
    while ran < limit:
        job = claim_next(now)
        if job is None:
            break
        run_job(job)
        ran += 1
    return ran


def run_now(job: EvidenceJob, *, actor: User) -> EvidenceJob:
    """Run a queued job in the handler's request instead of waiting for the scheduler."""
    require(actor, Permission.WORK_CASES)
    now = utcnow()
    job.status, job.locked_until, job.attempts = JobStatus.RUNNING, now + LEASE, job.attempts + 1
    db.session.commit()
    return run_job(job)


def jobs_for(case: Case) -> list[EvidenceJob]:
    """A case's jobs, newest first."""
    return list(
        db.session.scalars(select(EvidenceJob).where(EvidenceJob.case_id == case.id).order_by(EvidenceJob.id.desc()))
    )
