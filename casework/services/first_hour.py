"""The first hour: evidence work a case starts by itself at submit, and the steps that follow on from it.

1. At submit (`jobs_at_submit`, in the filing's one statement): when the report names a configured chain, a
   capture of the reported transactions per chain and a discovery from the victim's addresses over the incident
   window (`incident_window`), each marked `{"first_hour": true}` in its params.
2. When such a capture or discovery stores its result (`after_evidence`, in the job's final transaction): the
   transfers out of a victim address that are the theft are confirmed through `tracing.confirm_theft` (the
   handler's "part of the theft" button, here without an actor), then one trace per chain is queued from the
   attacker addresses. The capture and the discovery may both get there, in either order or at once on two
   schedulers: the trace carries a once-key (`evidence_jobs.once_key`, unique per case), so one row goes in.
3. When that trace stores its result (`after_trace`): if it reached an endpoint that can freeze, the priority is
   recomputed (a traced exchange address is a fact of `priority.computed_priority`), the proposed referrals are
   drafted (`referrals.draft_proposed`), and the assigned handler, or the on-duty staff, is alerted in the console
   and by e-mail. Only referrals drafted now are told about: a retried job (its failed attempts keep nothing) or a
   second trace of the same result drafts nothing and says nothing.

Every step is an ordinary evidence job or part of one: retried with backoff, resumable, shown on the case page.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from casework.extensions import db
from casework.messages import say, words
from casework.models import (
    AddressRole,
    Case,
    CaseEvent,
    EventKind,
    EvidenceJob,
    JobKind,
    JobStatus,
    Referral,
    ReportedLoss,
    TheftPattern,
    Transfer,
    TransferKind,
    User,
)
from casework.services import alerts, chains, links, mail, tracing
from casework.services.rows import insert_new

if TYPE_CHECKING:
    from casework.services.filing import NewReport

FIRST_HOUR = "first_hour"  # the params key that marks a job as first-hour work
# Discovery looks from a few hours before the earliest time the victim gave (wallet and node clocks differ, and
# victims misremember) to an hour past the submission (the node's clock may run ahead of ours).
WINDOW_BEFORE = timedelta(hours=6)
WINDOW_AFTER = timedelta(hours=1)
WINDOW_WITHOUT_TIMES = timedelta(hours=48)  # no incident or discovery time: the last two days
# A transfer matches a reported loss within 5 % of the amount the victim gave: victims round ("about 5,000 USDT").
AMOUNT_TOLERANCE = Decimal("0.05")
TRACE_DEPTH = 5
TRACE_BREADTH = tracing.DEFAULT_BREADTH


def is_first_hour(job: EvidenceJob) -> bool:
    """Whether a job is first-hour work (its follow-on steps run when it stores its result)."""
    return bool((job.params or {}).get(FIRST_HOUR))


def incident_window(incident_at: datetime | None, discovered_at: datetime | None,
                    now: datetime) -> tuple[datetime, datetime]:
    """The window a first-hour discovery searches: see WINDOW_BEFORE and WINDOW_AFTER."""
    times = [t for t in (incident_at, discovered_at) if t is not None]
    since = min(times) - WINDOW_BEFORE if times else now - WINDOW_WITHOUT_TIMES
    return since, max([now, *times]) + WINDOW_AFTER


def jobs_at_submit(report: NewReport, now: datetime) -> list[dict[str, Any]]:
    """The evidence_jobs rows (column values but case_id) a report queues at submit: a capture of its transactions
    per configured chain and a discovery per configured chain it has a victim address on; none for chains the
    registry does not know."""
    known = chains.registry()
    hashes: dict[int, list[str]] = {}
    for tx in report.transactions:
        if tx.chain_id in known:
            hashes.setdefault(tx.chain_id, []).append(tx.tx_hash)
    victim_chains = sorted({address.chain_id for address in report.addresses
                            if address.role is AddressRole.VICTIM and address.chain_id in known})
    since, until = incident_window(report.incident_at, report.discovered_at, now)
    rows = [_job_row(JobKind.CAPTURE, {"chain_id": chain_id, "tx_hashes": list(dict.fromkeys(found))}, now)
            for chain_id, found in sorted(hashes.items())]
    rows += [_job_row(JobKind.DISCOVER, {"chain_id": chain_id, "since": since.isoformat(), "until": until.isoformat()},
                      now) for chain_id in victim_chains]
    return rows


def _job_row(kind: JobKind, params: dict[str, Any], now: datetime) -> dict[str, Any]:
    # Every column, by its name in the table: the filing inserts these without the ORM.
    return {"kind": kind, "params": {**params, FIRST_HOUR: True}, "status": JobStatus.QUEUED, "attempts": 0,
            "next_attempt_at": now, "created_at": now, "progress": ""}


def queued_event(job_rows: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """The FIRST_HOUR event row ("queued") written with the case."""
    return CaseEvent.row(EventKind.FIRST_HOUR, created_at=now, step="queued",
                         jobs=[row["kind"].value for row in job_rows],
                         chain_ids=sorted({row["params"]["chain_id"] for row in job_rows}))


def after_evidence(case: Case, chain_id: int) -> EvidenceJob | None:
    """A first-hour capture or discovery stored its result on chain_id: confirm the theft, then queue the trace
    (once per case and chain); returns the trace job when this call queued it."""
    confirmed = [tracing.confirm_theft(case, transfer.id, actor=None) for transfer in theft_transfers(case, chain_id)]
    if confirmed:
        CaseEvent.record(case, None, EventKind.FIRST_HOUR, step="confirmed", chain_id=chain_id,
                         transfer_ids=[t.id for t in confirmed])
    if not any(a.chain_id == chain_id and a.role is AddressRole.ATTACKER for a in case.addresses):
        return None
    job_id = insert_new(EvidenceJob, case_id=case.id, kind=JobKind.TRACE, once_key=f"{FIRST_HOUR}:trace:{chain_id}",
                        params={"chain_id": chain_id, "max_depth": TRACE_DEPTH, "max_breadth": TRACE_BREADTH,
                                FIRST_HOUR: True})
    if job_id is None:
        return None  # the other first-hour job of this chain queued it
    CaseEvent.record(case, None, EventKind.FIRST_HOUR, step="trace_queued", chain_id=chain_id, job_id=job_id)
    return db.session.get(EvidenceJob, job_id)


def theft_transfers(case: Case, chain_id: int) -> list[Transfer]:
    """The case's transfers out of a victim address on chain_id that the first hour takes as the theft, not yet
    confirmed: those of a transaction the victim reported (confirmed like a discovered one); those the patterns
    mark as certain (an approval drain: only an allowance lets someone else move the victim's tokens); those
    matching a reported loss (same chain, token or symbol, amount within AMOUNT_TOLERANCE); and, when the victim
    gave neither losses nor hashes, every movement of value out of their address after the window opens (the
    time is all they told us; the handler checks before anything is sent)."""
    losses = [loss for loss in db.session.scalars(select(ReportedLoss).where(ReportedLoss.case_id == case.id))
              if loss.chain_id == chain_id]
    reported_hashes = {t.tx_hash.lower() for t in case.transactions}
    attackers = {a.address for a in case.addresses if a.chain_id == chain_id and a.role is AddressRole.ATTACKER}
    only_the_time = not losses and not reported_hashes
    start = incident_window(case.incident_at, case.discovered_at, case.submitted_at)[0]
    chosen = []
    for transfer in tracing.outgoing_from_victims(case):
        if transfer.chain_id != chain_id or transfer.tx_status == 0:
            continue
        if transfer.tx_hash.lower() in reported_hashes and transfer.to_address in attackers:
            continue  # confirmed already
        moves_value = transfer.kind is not TransferKind.APPROVAL
        if (transfer.tx_hash.lower() in reported_hashes
                or transfer.pattern is TheftPattern.APPROVAL_DRAIN
                or (moves_value and any(_matches(transfer, loss) for loss in losses))
                or (only_the_time and moves_value and transfer.block_time >= start)):
            chosen.append(transfer)
    return chosen


def _matches(transfer: Transfer, loss: ReportedLoss) -> bool:
    if loss.token_address and transfer.token_address:
        same_asset = loss.token_address.lower() == transfer.token_address.lower()
    else:
        same_asset = (loss.asset_symbol or "").upper() == (transfer.symbol or "").upper()
    if not same_asset or loss.amount_raw <= 0:
        return False
    amount = Decimal(transfer.amount_raw).scaleb(-(transfer.decimals or 0))
    expected = Decimal(loss.amount_raw).scaleb(-loss.decimals)
    return abs(amount - expected) <= expected * AMOUNT_TOLERANCE


def after_trace(case: Case, chain_id: int, *, reached_freezable: bool) -> list[Referral]:
    """A first-hour trace stored its result: when it reached an endpoint that can freeze (it proposed a freeze
    request), raise the priority, draft the requests and tell the handler or the on-duty staff; returns the
    referrals drafted now."""
    # Imported here: both import (through workflow, or directly) filing, which imports this module.
    from casework.services import priority, referrals

    if not reached_freezable:
        return []
    priority.recompute_priority(case)  # the traced exchange address is a fact of the rule now
    drafted = referrals.draft_proposed(case, actor=None)
    if not drafted:
        return []
    CaseEvent.record(case, None, EventKind.FIRST_HOUR, step="drafted", chain_id=chain_id,
                     referral_ids=[r.id for r in drafted])
    _tell_staff(case, drafted)
    return drafted


def _tell_staff(case: Case, drafted: list[Referral]) -> None:
    targets = sorted({r.organisation.name if r.organisation else r.target_name.split(":", 1)[0] for r in drafted})
    message = say("alert.freeze_drafted", reference=case.reference, count=len(drafted), targets=targets)
    recipients: list[User] = [case.assigned_handler] if case.assigned_handler else alerts.on_duty_staff()
    from casework.services.workflow import STAFF_CASE_PATH  # see after_trace

    link = links.public_url(STAFF_CASE_PATH + case.reference)
    for user in recipients:
        alerts.alert(message, case=case, user=user)
        with force_locale(user.preferred_language or "en"):
            subject = _("Case %(reference)s: a freeze request is ready to check", reference=case.reference)
            body = words(message) + "\n\n" + link
        mail.queue_email(user.email, subject, body, case_id=case.id)
