"""Discovery and tracing jobs, and what the handler does with their results: confirm which
discovered or reported transfers are the theft, add an attacker address by hand, and review the freeze requests a
trace proposes.

Each job comes in the three steps casework.services.jobs runs: prepare (read the case), fetch (call the
chain, with no transaction open) and store (write, under the case lock, in the job's final transaction)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from eth_utils import to_checksum_address
from flask_babel import gettext as _
from sqlalchemy import delete, select

from casework.extensions import db
from casework.messages import Message, say
from casework.models import (
    AddressRole,
    Case,
    CaseAddress,
    CaseEvent,
    EventKind,
    EvidenceJob,
    FlowEdge,
    Referral,
    ReferralKind,
    ReferralStatus,
    ReportedTransaction,
    SlaMetric,
    TraceRun,
    Transfer,
    User,
    utcnow,
)
from casework.services import chains, search_index, sla_clocks
from casework.services import evidence as evidence_service
from casework.services import labels as label_service
from casework.services.access import Permission, require
from casework.services.rows import insert_new
from evidence.discover import Discovery, discover_outgoing
from evidence.labels import LabelBook
from evidence.trace import FlowGraph, FreezeProposal, Seed, trace_funds
from forms.validators import InvalidInput, normalize_evm_address

DEFAULT_DEPTH = 4
DEFAULT_BREADTH = 5
FREEZE_FOLLOW_UP = timedelta(hours=24)
# The note on a transaction confirm_theft adds: stored as this code, shown in the reader's language (note_words).
HANDLER_CONFIRMED_NOTE = "confirmed by a handler"
ATTACKER_REASON_MAX_CHARS = 500
SYSTEM_CONFIRMED_NOTE = "confirmed automatically"

# How a traced node's role becomes the role of a case address.
NODE_ROLES = {
    "exchange_deposit": AddressRole.EXCHANGE_DEPOSIT,
    "intermediary": AddressRole.INTERMEDIARY,
}
CATEGORY_ROLES = {
    "exchange_hot_wallet": AddressRole.EXCHANGE_HOT_WALLET,
    "exchange": AddressRole.EXCHANGE_HOT_WALLET,
    "bridge": AddressRole.BRIDGE,
    "mixer": AddressRole.MIXER,
}


def _addresses(case: Case, chain_id: int, role: AddressRole) -> list[str]:
    return [a.address for a in case.addresses if a.chain_id == chain_id and a.role is role]


def _add_case_address(case: Case, chain_id: int, address: str, role: AddressRole, label: str | None) -> bool:
    # On the table's unique key: the victim may add the same address from the portal at the same moment.
    added = insert_new(CaseAddress, case_id=case.id, chain_id=chain_id, address=to_checksum_address(address),
                       role=role, label=label)
    if added is not None:
        db.session.expire(case, ["addresses"])
    return added is not None


@dataclass(frozen=True)
class DiscoveryPlan:
    chain_id: int
    victims: tuple[str, ...]
    since: datetime
    until: datetime


def prepare_discovery(job: EvidenceJob, case: Case) -> DiscoveryPlan:
    """What a discovery job looks for: the given victim address, else the case's victim addresses on the chain."""
    params = job.params
    chain_id = params["chain_id"]
    victims = [params["victim"]] if params.get("victim") else _addresses(case, chain_id, AddressRole.VICTIM)
    return DiscoveryPlan(chain_id, tuple(victims), datetime.fromisoformat(params["since"]),
                         datetime.fromisoformat(params["until"]))


def fetch_discovery(plan: DiscoveryPlan) -> list[Discovery]:
    """Ask the chain for each victim's outgoing transfers in the window (network only, no database)."""
    from casework.services.jobs import rpc_client

    if not plan.victims:
        return []
    chain = chains.chain(plan.chain_id)
    client = rpc_client(chain.chain_id)
    return [discover_outgoing(client, chain, victim, plan.since, plan.until) for victim in plan.victims]


def store_discovery(case: Case, plan: DiscoveryPlan, discoveries: list[Discovery], actor: User | None) -> Message:
    """Store what discovery found as evidence for the handler to review; the job's result as a message."""
    chain = chains.chain(plan.chain_id)
    if not plan.victims:
        return say("discovery.none", chain=chain.name)
    found = 0
    for discovery in discoveries:
        stored = evidence_service.append_records(case, discovery.records, actor=actor)
        found += len(evidence_service.store_movements(case, discovery.candidates, stored))
    CaseEvent.record(case, actor, EventKind.DISCOVERY, found=found, chain_id=chain.chain_id,
                     since=plan.since.isoformat(), until=plan.until.isoformat())
    return say("discovery.done", found=found)


def confirm_theft(case: Case, transfer_id: int, *, actor: User | None) -> Transfer:
    """Mark a discovered transfer as part of the theft: its hash joins the reported transactions and
    its recipient (or the spender, for an approval) becomes an attacker address to trace from. actor None: the
    first-hour work (casework.services.first_hour), recorded without an actor."""
    if actor is not None:
        require(actor, Permission.WORK_CASES)
    transfer = db.session.get(Transfer, transfer_id)
    if transfer is None or transfer.case_id != case.id:
        raise ValueError(_("That transfer is not part of this case."))
    if insert_new(ReportedTransaction, case_id=case.id, chain_id=transfer.chain_id, tx_hash=transfer.tx_hash,
                  note=HANDLER_CONFIRMED_NOTE if actor else SYSTEM_CONFIRMED_NOTE) is not None:
        db.session.expire(case, ["transactions"])
    _add_case_address(case, transfer.chain_id, transfer.to_address, AddressRole.ATTACKER, None)
    CaseEvent.record(case, actor, EventKind.THEFT_CONFIRMED, summary=transfer.tx_hash, transfer_id=transfer.id)
    search_index.refresh(case.id)  # the hash and the attacker address are found by the queue's search
    return transfer


def note_words(note: str | None) -> str:
    """A reported transaction's note as the reader sees it: the victim's own words, or ours for a hash a handler
    confirmed, in the reader's language."""
    if note == SYSTEM_CONFIRMED_NOTE:
        return _("confirmed automatically from the report")
    return _("confirmed by a handler") if note == HANDLER_CONFIRMED_NOTE else note or ""


def _seeds(case: Case, chain_id: int, params: dict[str, Any]) -> list[Seed]:
    """Trace from the given addresses, else the case's attackers, from the theft's first block."""
    theft_blocks = [t.block_number for t in case_transfers(case, chain_id)]
    from_block = int(params.get("from_block") or (min(theft_blocks) if theft_blocks else 0))
    addresses = params.get("seeds") or _addresses(case, chain_id, AddressRole.ATTACKER)
    return [Seed(address, from_block) for address in addresses]


def case_transfers(case: Case, chain_id: int) -> list[Transfer]:
    """The case's value movements on a chain."""
    return list(db.session.scalars(select(Transfer).where(Transfer.case_id == case.id, Transfer.chain_id == chain_id)))


@dataclass(frozen=True)
class TracePlan:
    chain_id: int
    seeds: tuple[Seed, ...]
    max_depth: int
    max_breadth: int
    labels: LabelBook


def prepare_trace(job: EvidenceJob, case: Case) -> TracePlan:
    """What a trace job follows: its seeds, its limits and the labels that hold on the chain."""
    params = job.params
    chain_id = params["chain_id"]
    return TracePlan(
        chain_id, tuple(_seeds(case, chain_id, params)),
        max_depth=int(params.get("max_depth") or DEFAULT_DEPTH),
        max_breadth=int(params.get("max_breadth") or DEFAULT_BREADTH),
        labels=label_service.label_book(chain_id),
    )


def fetch_trace(plan: TracePlan) -> FlowGraph | None:
    """Follow the funds from the seeds over the chain (network only, no database); None without seeds."""
    from casework.services.jobs import rpc_client

    if not plan.seeds:
        return None
    chain = chains.chain(plan.chain_id)
    return trace_funds(rpc_client(chain.chain_id), chain, plan.seeds, max_depth=plan.max_depth,
                       max_breadth=plan.max_breadth, labels=plan.labels.resolver(chain.chain_id))


def store_trace(case: Case, plan: TracePlan, graph: FlowGraph | None, actor: User | None) -> Message:
    """Store a trace's graph, its records, case addresses and freeze proposals; the job's result as a message."""
    chain = chains.chain(plan.chain_id)
    if graph is None:
        return say("trace.none", chain=chain.name)
    stored = evidence_service.append_records(case, graph.records, actor=actor)
    run = _store_graph(case, graph, stored, actor)
    proposals = propose_referrals(case, graph.proposals)
    CaseEvent.record(case, actor, EventKind.TRACE, hops=len(graph.edges), proposals=proposals,
                     chain_id=chain.chain_id, trace_run_id=run.id)
    return say("trace.done", hops=len(graph.edges), proposals=proposals)


def _store_graph(case: Case, graph: FlowGraph, stored: dict, actor: User | None) -> TraceRun:
    # The latest trace of a chain replaces the previous graph (its raw records stay in the evidence).
    db.session.execute(delete(FlowEdge).where(FlowEdge.case_id == case.id, FlowEdge.chain_id == graph.chain_id))
    run = TraceRun(case_id=case.id, chain_id=graph.chain_id, graph=graph.to_dict(),
                   created_by_id=actor.id if actor else None)
    db.session.add(run)
    db.session.flush()
    for edge in graph.edges:
        record = stored.get(edge.source_record)
        db.session.add(FlowEdge(
            case_id=case.id, trace_run_id=run.id, chain_id=graph.chain_id, hop=edge.hop,
            from_address=to_checksum_address(edge.from_address), to_address=to_checksum_address(edge.to_address),
            token_address=to_checksum_address(edge.token) if edge.token else None, symbol=edge.symbol,
            decimals=edge.decimals, amount_raw=edge.value, tx_hash=edge.tx_hash, log_index=edge.log_index,
            block_number=edge.block_number, block_time=edge.timestamp,
            evidence_record_id=record.id if record is not None else None,
        ))
    for node in graph.nodes:
        role = NODE_ROLES.get(node.role) or CATEGORY_ROLES.get(node.category or "")
        if role is not None:
            _add_case_address(case, graph.chain_id, node.address, role, node.label or node.exchange)
    return run


def propose_referrals(case: Case, proposals: Iterable[FreezeProposal]) -> int:
    """Store a trace's freeze proposals: one referral per case, kind, chain and target address (its unique key), new
    or still only proposed ones updated with the trace's figures; returns how many are new. Safe against a trace
    of the same case running at the same time: the key decides which one adds the row."""
    proposed = 0
    for proposal in proposals:
        kind = ReferralKind(proposal.kind)
        address = to_checksum_address(proposal.address)
        added = insert_new(Referral, case_id=case.id, kind=kind, status=ReferralStatus.PROPOSED,
                           target_name=proposal.target[:200], target_address=address, chain_id=proposal.chain_id,
                           follow_up_due_at=utcnow() + FREEZE_FOLLOW_UP)
        referral = db.session.scalars(select(Referral).where(
            Referral.case_id == case.id, Referral.kind == kind, Referral.target_address == address,
            Referral.chain_id == proposal.chain_id,
        ).execution_options(populate_existing=True)).one()
        if added is not None:
            proposed += 1
        elif referral.status is not ReferralStatus.PROPOSED:
            continue  # a request already drafted or sent keeps the figures it was sent with
        referral.target_name = proposal.target[:200]
        referral.token_address = to_checksum_address(proposal.token) if proposal.token else None
        referral.symbol, referral.decimals, referral.amount_raw = proposal.symbol, proposal.decimals, proposal.amount
        referral.tx_hashes, referral.reason = list(proposal.tx_hashes), proposal.reason
    if proposed:  # a freezable endpoint is known now: the clock for sending the freeze requests runs
        sla_clocks.start_clock(case, SlaMetric.FREEZE_SENT)
    return proposed


def latest_trace(case: Case, chain_id: int | None = None) -> TraceRun | None:
    """The newest trace of a case (on a chain)."""
    query = select(TraceRun).where(TraceRun.case_id == case.id)
    if chain_id is not None:
        query = query.where(TraceRun.chain_id == chain_id)
    return db.session.scalar(query.order_by(TraceRun.id.desc()).limit(1))


def outgoing_from_victims(case: Case) -> list[Transfer]:
    """Transfers that left a victim address of the case (what discovery found and capture decoded)."""
    victims = {a.address for a in case.addresses if a.role is AddressRole.VICTIM}
    return [t for t in evidence_service.transfers_for(case) if t.from_address in victims]


def add_attacker_address(case: Case, chain_id: int, address: str, *, reason: str, actor: User) -> CaseEvent:
    """Mark an address as the attacker's by hand, with the handler's reason (an ATTACKER_ADDED event): traces start
    from it. Raises WorkflowError with a message the handler can read for a chain that is not configured, text that
    is not an address, one of the victim's own addresses (on any chain: an EVM address is the same key on every
    chain), an address already marked as the attacker's on that chain, or a reason that is empty, too long or holds
    a recovery phrase or private key."""
    from casework.services.workflow import WorkflowError, checked_reason  # it imports this module (via victim_report)

    require(actor, Permission.WORK_CASES)
    if chain_id not in chains.registry():
        raise WorkflowError(_("Choose a chain from the list."))
    try:
        checked = normalize_evm_address(address)
    except InvalidInput as error:
        raise WorkflowError(error.message) from None
    reason = checked_reason(reason, ATTACKER_REASON_MAX_CHARS)
    if checked.lower() in {a.address.lower() for a in case.addresses if a.role is AddressRole.VICTIM}:
        raise WorkflowError(_("%(address)s is one of the victim's own addresses, so it cannot be the attacker's. If "
                              "the victim's wallet was taken over, trace from where the funds went instead.",
                              address=checked))
    if not _add_case_address(case, chain_id, checked, AddressRole.ATTACKER, None):
        raise WorkflowError(_("%(address)s is already an attacker address of this case on %(chain)s.",
                              address=checked, chain=chains.chain_name(chain_id)))
    search_index.refresh(case.id)
    return CaseEvent.record(case, actor, EventKind.ATTACKER_ADDED, summary=checked, address=checked, reason=reason,
                            chain_id=chain_id)
