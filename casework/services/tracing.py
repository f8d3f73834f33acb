"""Discovery and tracing jobs, and what the handler does with their results: confirm which
discovered transfers are the theft, and review the freeze requests a trace proposes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from eth_utils import to_checksum_address
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import delete, select

from casework.extensions import db
from casework.models import (
    AddressRole,
    Case,
    CaseAddress,
    CaseEvent,
    EvidenceJob,
    FlowEdge,
    Referral,
    ReferralKind,
    ReferralStatus,
    ReportedTransaction,
    TraceRun,
    Transfer,
    User,
    utcnow,
)
from casework.services import chains
from casework.services import evidence as evidence_service
from casework.services import labels as label_service
from casework.services.access import Permission, require
from evidence.discover import discover_outgoing
from evidence.trace import FlowGraph, Seed, trace_funds

DEFAULT_DEPTH = 4
DEFAULT_BREADTH = 5
FREEZE_FOLLOW_UP = timedelta(hours=24)

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
    checksummed = to_checksum_address(address)
    if any(a.chain_id == chain_id and a.address == checksummed and a.role is role for a in case.addresses):
        return False
    case.addresses.append(CaseAddress(chain_id=chain_id, address=checksummed, role=role, label=label))
    return True


def run_discovery(job: EvidenceJob, case: Case, actor: User | None) -> str:
    """Find the victim's outgoing transfers in a window; store them as evidence for the handler to review."""
    from casework.services.jobs import rpc_client

    params = job.params
    chain = chains.chain(params["chain_id"])
    victims = [params["victim"]] if params.get("victim") else _addresses(case, chain.chain_id, AddressRole.VICTIM)
    if not victims:
        return _("No victim address on %(chain)s to discover from.", chain=chain.name)
    since = datetime.fromisoformat(params["since"])
    until = datetime.fromisoformat(params["until"])
    client = rpc_client(chain.chain_id)
    found = 0
    for victim in victims:
        discovery = discover_outgoing(client, chain, victim, since, until)
        stored = evidence_service.append_records(case, discovery.records, actor=actor)
        found += len(evidence_service.store_movements(case, discovery.candidates, stored))
    CaseEvent.record(case, actor, "discovery", summary=f"{found} outgoing transfers found",
                     chain_id=chain.chain_id, since=params["since"], until=params["until"])
    return ngettext("%(num)d outgoing transfer or approval found: confirm whether it is the theft.",
                    "%(num)d outgoing transfers and approvals found: confirm which are the theft.", found)


def confirm_theft(case: Case, transfer_id: int, *, actor: User) -> Transfer:
    """Mark a discovered transfer as part of the theft: its hash joins the reported transactions and
    its recipient (or the spender, for an approval) becomes an attacker address to trace from."""
    require(actor, Permission.WORK_CASES)
    transfer = db.session.get(Transfer, transfer_id)
    if transfer is None or transfer.case_id != case.id:
        raise ValueError(_("That transfer is not part of this case."))
    if not any(t.chain_id == transfer.chain_id and t.tx_hash == transfer.tx_hash for t in case.transactions):
        case.transactions.append(
            ReportedTransaction(chain_id=transfer.chain_id, tx_hash=transfer.tx_hash, note="confirmed by a handler")
        )
    _add_case_address(case, transfer.chain_id, transfer.to_address, AddressRole.ATTACKER, None)
    CaseEvent.record(case, actor, "theft_confirmed", summary=transfer.tx_hash, transfer_id=transfer.id)
    return transfer


def _seeds(case: Case, chain_id: int, params: dict[str, Any]) -> list[Seed]:
    """Trace from the given addresses, else the case's attackers, from the theft's first block."""
    theft_blocks = [t.block_number for t in case_transfers(case, chain_id)]
    from_block = int(params.get("from_block") or (min(theft_blocks) if theft_blocks else 0))
    addresses = params.get("seeds") or _addresses(case, chain_id, AddressRole.ATTACKER)
    return [Seed(address, from_block) for address in addresses]


def case_transfers(case: Case, chain_id: int) -> list[Transfer]:
    """The case's value movements on a chain."""
    return list(db.session.scalars(select(Transfer).where(Transfer.case_id == case.id, Transfer.chain_id == chain_id)))


def run_trace(job: EvidenceJob, case: Case, actor: User | None) -> str:
    """Follow the funds from the seeds; store the graph, its records, case addresses and freeze proposals."""
    from casework.services.jobs import rpc_client

    params = job.params
    chain = chains.chain(params["chain_id"])
    seeds = _seeds(case, chain.chain_id, params)
    if not seeds:
        return _("No attacker address on %(chain)s to trace from: confirm the theft or add one first.",
                 chain=chain.name)
    book = label_service.label_book(chain.chain_id)
    graph = trace_funds(
        rpc_client(chain.chain_id), chain, seeds,
        max_depth=int(params.get("max_depth") or DEFAULT_DEPTH),
        max_breadth=int(params.get("max_breadth") or DEFAULT_BREADTH),
        labels=book.resolver(chain.chain_id),
    )
    stored = evidence_service.append_records(case, graph.records, actor=actor)
    run = _store_graph(case, graph, stored, actor)
    proposals = _propose_referrals(case, graph)
    CaseEvent.record(case, actor, "trace", summary=f"{len(graph.edges)} hops, {proposals} freeze proposals",
                     chain_id=chain.chain_id, trace_run_id=run.id)
    return _("%(hops)s; %(proposals)s.", hops=ngettext("%(num)d hop traced", "%(num)d hops traced", len(graph.edges)),
             proposals=ngettext("%(num)d freeze request proposed", "%(num)d freeze requests proposed", proposals))


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


def _propose_referrals(case: Case, graph: FlowGraph) -> int:
    proposed = 0
    for proposal in graph.proposals:
        kind = ReferralKind(proposal.kind)
        address = to_checksum_address(proposal.address)
        referral = db.session.scalar(select(Referral).where(
            Referral.case_id == case.id, Referral.kind == kind, Referral.target_address == address,
            Referral.chain_id == proposal.chain_id,
        ))
        if referral is None:
            referral = Referral(case_id=case.id, kind=kind, status=ReferralStatus.PROPOSED,
                                target_address=address, chain_id=proposal.chain_id,
                                follow_up_due_at=utcnow() + FREEZE_FOLLOW_UP)
            db.session.add(referral)
            proposed += 1
        elif referral.status is not ReferralStatus.PROPOSED:
            continue  # a request already drafted or sent keeps the figures it was sent with
        referral.target_name = proposal.target[:200]
        referral.token_address = to_checksum_address(proposal.token) if proposal.token else None
        referral.symbol, referral.decimals, referral.amount_raw = proposal.symbol, proposal.decimals, proposal.amount
        referral.tx_hashes, referral.reason = list(proposal.tx_hashes), proposal.reason
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
