"""Tracing: follow stolen funds hop by hop from seed addresses to where someone can freeze them.

Breadth-first from the seeds (attackers, or the recipients of the victim's transfers), one hop per
round: every address reached in a round is asked about at once, so a round costs one eth_getLogs
batch (Transfer with topic 1 = any of them, split at the chain's log-range cap) and one batch for
token metadata, block times and receipts. Native coin is read from the blocks of the range with
their transactions, fetched once (see evidence/blocks.py for the cost and the production path).

Rules:
- Per token: an address is followed for each token (native or ERC-20) that reached it, and only
  for transfers of that token after the funds arrived (block, transaction, log order). Seeds are
  followed for every token from their from_block. Zero-value transfers (address-poisoning spam)
  and transfers to oneself are ignored; ERC-721 tokens are not followed.
- Breadth: at most max_breadth edges leave an address; the ones carrying the largest share of what
  the address received of that token (of what it sent, for seeds) are kept, and the address is
  marked truncated when others were left out. Depth: at most max_depth hops from the seeds; the
  addresses reached at the last hop are "unexplored".
- Endpoints: an address whose label's category is terminal (see evidence/labels.py: exchange hot
  wallets, bridges, mixers, DEXs, blacklisted addresses) is not followed further.
- Deposit addresses: an address (unlabelled, or labelled a deposit) that sends everything it sends
  to the hot wallets of one exchange is that exchange's deposit address; the exchange's name comes
  from the hot wallet's label ("Binance 14" is Binance).
- Freeze proposals: an exchange deposit address (or a hot wallet reached without one) yields an
  ``exchange_freeze`` proposal per token, with the amount that reached it; a freezable stablecoin
  (evidence/stablecoins.py) that stops at an address outside an exchange, bridge or mixer yields a
  ``stablecoin_issuer`` proposal. No attempt is made to tell stolen from other funds at an address
  (no taint analysis): the graph shows what left after the stolen funds arrived, and the handler
  judges.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from evidence.amounts import amount_text
from evidence.blocks import (
    NativeSend,
    block_timestamp,
    fetch_blocks,
    native_sends,
    read_head,
    receipt_calls,
    settle_native,
)
from evidence.capture import capture_logs, checked_reply, normalise_address
from evidence.chains import ChainConfig
from evidence.decode import TOPIC_TRANSFER, decode_log_records, hex_int
from evidence.discover import DEFAULT_MAX_NATIVE_BLOCKS, address_topic
from evidence.errors import CaptureError, TraceError
from evidence.labels import EXCHANGE_CATEGORIES, AddressLabel, exchange_name, is_terminal, policy
from evidence.models import RawRecord, TokenMetadata
from evidence.rpc import RpcClient
from evidence.stablecoins import Stablecoin, stablecoin_at
from evidence.tokens import TokenMetadataCache, metadata_from_records, plan_metadata

NATIVE = "native"
_ANY = "*"
EXCHANGE_FREEZE = "exchange_freeze"
STABLECOIN_ISSUER = "stablecoin_issuer"

LabelLookup = Callable[[str], AddressLabel | None]
StablecoinLookup = Callable[[int, str], Stablecoin | None]


@dataclass(frozen=True)
class Seed:
    """Where tracing starts: an address, followed for every token from a block on."""

    address: str
    from_block: int


@dataclass(frozen=True)
class FlowNode:
    """An address in the flow. role: seed, endpoint, exchange_deposit, intermediary, holder or unexplored."""

    address: str
    label: str | None
    category: str | None
    label_source: str | None
    is_endpoint: bool
    role: str
    hop: int
    exchange: str | None = None
    truncated: bool = False


@dataclass(frozen=True)
class FlowEdge:
    """One transfer followed: token None for native coin; value in base units; hop 1 leaves a seed."""

    from_address: str
    to_address: str
    kind: str
    token: str | None
    symbol: str | None
    decimals: int | None
    value: int
    tx_hash: str
    log_index: int | None
    block_number: int
    timestamp: datetime
    hop: int
    source_record: str


@dataclass(frozen=True)
class FreezeProposal:
    """A freeze request to propose: to an exchange (kind exchange_freeze) or a stablecoin issuer."""

    kind: str
    target: str
    address: str
    chain_id: int
    token: str | None
    symbol: str | None
    decimals: int | None
    amount: int
    tx_hashes: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class FlowGraph:
    """The traced flow: nodes, edges in chain order, freeze proposals, and every raw record fetched."""

    chain_id: int
    seeds: tuple[str, ...]
    from_block: int
    to_block: int
    max_depth: int
    max_breadth: int
    nodes: tuple[FlowNode, ...]
    edges: tuple[FlowEdge, ...]
    proposals: tuple[FreezeProposal, ...]
    records: tuple[RawRecord, ...] = field(repr=False)
    limitations: tuple[str, ...] = ()

    def node(self, address: str) -> FlowNode | None:
        """The node of an address, or None when the flow never reached it."""
        return next((node for node in self.nodes if node.address == address.lower()), None)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FlowGraph:
        """Rebuild a graph written by to_dict() (without its raw records, which to_dict leaves out)."""
        nodes = tuple(FlowNode(**node) for node in data["nodes"])
        edges = tuple(
            FlowEdge(
                from_address=item["from"], to_address=item["to"], kind=item["kind"], token=item["token"],
                symbol=item["symbol"], decimals=item["decimals"], value=int(item["value"]),
                tx_hash=item["tx_hash"], log_index=item["log_index"], block_number=item["block_number"],
                timestamp=datetime.strptime(item["timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC),
                hop=item["hop"], source_record=item["source_record"],
            )
            for item in data["edges"]
        )
        proposals = tuple(
            FreezeProposal(
                kind=item["kind"], target=item["target"], address=item["address"], chain_id=item["chain_id"],
                token=item["token"], symbol=item["symbol"], decimals=item["decimals"], amount=int(item["amount"]),
                tx_hashes=tuple(item["tx_hashes"]), reason=item["reason"],
            )
            for item in data["proposals"]
        )
        return cls(
            chain_id=data["chain_id"], seeds=tuple(data["seeds"]), from_block=data["from_block"],
            to_block=data["to_block"], max_depth=data["max_depth"], max_breadth=data["max_breadth"],
            nodes=nodes, edges=edges, proposals=proposals, records=(), limitations=tuple(data["limitations"]),
        )

    def to_dict(self) -> dict[str, Any]:
        """The graph as JSON-ready data: values as decimal strings (raw units) with exact amounts beside them."""
        def edge(item: FlowEdge) -> dict[str, Any]:
            return {"from": item.from_address, "to": item.to_address, "kind": item.kind, "token": item.token,
                    "symbol": item.symbol, "decimals": item.decimals, "value": str(item.value),
                    "amount": amount_text(item.value, item.decimals), "tx_hash": item.tx_hash,
                    "log_index": item.log_index, "block_number": item.block_number,
                    "timestamp": item.timestamp.strftime("%Y-%m-%dT%H:%M:%SZ"), "hop": item.hop,
                    "source_record": item.source_record}

        def proposal(item: FreezeProposal) -> dict[str, Any]:
            return {"kind": item.kind, "target": item.target, "address": item.address, "chain_id": item.chain_id,
                    "token": item.token, "symbol": item.symbol, "decimals": item.decimals,
                    "amount": str(item.amount), "amount_text": amount_text(item.amount, item.decimals),
                    "tx_hashes": list(item.tx_hashes), "reason": item.reason}

        return {
            "chain_id": self.chain_id, "seeds": list(self.seeds), "from_block": self.from_block,
            "to_block": self.to_block, "max_depth": self.max_depth, "max_breadth": self.max_breadth,
            "nodes": [{"address": node.address, "label": node.label, "category": node.category,
                       "label_source": node.label_source, "is_endpoint": node.is_endpoint, "role": node.role,
                       "hop": node.hop, "exchange": node.exchange, "truncated": node.truncated}
                      for node in self.nodes],
            "edges": [edge(item) for item in self.edges],
            "proposals": [proposal(item) for item in self.proposals],
            "limitations": list(self.limitations),
        }


@dataclass(frozen=True)
class _Outflow:
    position: tuple[int, int, int]
    key: str
    edge: FlowEdge


class _Tracer:
    """The state of one trace: what was fetched, what was reached, and the edges followed."""

    def __init__(self, client: RpcClient, chain: ChainConfig, labels: LabelLookup | None,
                 cache: TokenMetadataCache | None) -> None:
        self.client, self.chain, self.labels, self.cache = client, chain, labels, cache
        self.records: list[RawRecord] = []
        self.metadata: dict[str, TokenMetadata] = {}
        self.times: dict[int, datetime] = {}
        self.sends: dict[str, list[NativeSend]] = defaultdict(list)
        self.settled: dict[str, NativeSend] = {}
        self.known_labels: dict[str, AddressLabel | None] = {}
        self.edges: list[FlowEdge] = []
        self.hops: dict[str, int] = {}
        self.received: dict[tuple[str, str], int] = defaultdict(int)
        self.truncated: set[str] = set()
        self.unexplored: set[str] = set()

    def label(self, address: str) -> AddressLabel | None:
        if address not in self.known_labels:
            self.known_labels[address] = self.labels(address) if self.labels else None
        return self.known_labels[address]

    def scan_native(self, from_block: int, to_block: int) -> None:
        blocks = fetch_blocks(self.client, self.chain.chain_id, range(from_block, to_block + 1),
                              full_transactions=True)
        self.records += blocks.values()
        self.times.update({number: block_timestamp(record) for number, record in blocks.items()})
        for send in native_sends(blocks.values()):
            self.sends[send.from_address].append(send)

    def fetch_round(self, frontier: dict[str, dict[str, tuple]], to_block: int, head_block: int) -> list[_Outflow]:
        """One hop: the frontier's transfers out (logs), then metadata, block times and receipts in one batch."""
        addresses = sorted(frontier)
        start = min(position[0] for keys in frontier.values() for position in keys.values())
        log_records = capture_logs(self.client, self.chain, from_block=start, to_block=to_block,
                                   topics=[TOPIC_TRANSFER, [address_topic(address) for address in addresses]])
        self.records += log_records
        logs = [log for record in log_records for log in record.result or []]
        numbers = sorted({hex_int(log["blockNumber"]) for log in logs} - set(self.times))
        sends = [send for address in addresses for send in self.sends.get(address, ())
                 if send.tx_hash not in self.settled and send.block_number >= start]
        plan = plan_metadata(self.chain.chain_id, {log["address"].lower() for log in logs} - set(self.metadata),
                             head_block, self.cache)
        calls = [("eth_getBlockByNumber", [hex(number), False]) for number in numbers]
        calls += receipt_calls(sends) + list(plan.calls)
        replies = self.client.batch(calls) if calls else []
        for number, reply in zip(numbers, replies, strict=False):
            if not isinstance(checked_reply(reply, f"block {number}").result, dict):
                raise CaptureError(f"The node has no block {number}: the chain may have reorganised, try again.")
            record = RawRecord.from_reply("block", self.chain.chain_id, reply)
            self.records.append(record)
            self.times[number] = block_timestamp(record)
        receipts = {}
        for send, reply in zip(sends, replies[len(numbers) : len(numbers) + len(sends)], strict=True):
            receipts[send.tx_hash] = RawRecord.from_reply("receipt", self.chain.chain_id,
                                                          checked_reply(reply, send.tx_hash))
        self.records += receipts.values()
        for send in settle_native(sends, receipts):
            self.settled[send.tx_hash] = send
        token_records = plan.records(replies[len(numbers) + len(sends) :])
        self.records += token_records
        self.metadata.update({address: meta for (_, address), meta in metadata_from_records(token_records).items()})
        return self._outflows(addresses, log_records)

    def _outflows(self, addresses: Sequence[str], log_records: Iterable[RawRecord]) -> list[_Outflow]:
        wanted = set(addresses)
        outflows = []
        for event in decode_log_records(log_records, self.metadata):
            if event.kind == "erc20" and event.from_address in wanted:
                meta = self.metadata.get(event.token)
                outflows.append(_Outflow(event.position, event.token, FlowEdge(
                    from_address=event.from_address, to_address=event.to_address, kind="erc20", token=event.token,
                    symbol=meta.symbol if meta else None, decimals=meta.decimals if meta else None,
                    value=event.value, tx_hash=event.tx_hash, log_index=event.log_index,
                    block_number=event.block_number, timestamp=self.times[event.block_number], hop=0,
                    source_record=event.source_record)))
        for address in addresses:
            for send in self.sends.get(address, ()):
                settled = self.settled.get(send.tx_hash)
                if settled is not None and settled.to_address is not None:
                    outflows.append(_Outflow(settled.position, NATIVE, FlowEdge(
                        from_address=address, to_address=settled.to_address, kind="native", token=None,
                        symbol=self.chain.native_symbol, decimals=self.chain.native_decimals, value=settled.value,
                        tx_hash=settled.tx_hash, log_index=None, block_number=settled.block_number,
                        timestamp=settled.timestamp, hop=0, source_record=settled.source_record)))
        return outflows

    def follow(self, frontier: dict[str, dict[str, tuple]], outflows: list[_Outflow], hop: int,
               max_breadth: int) -> list[_Outflow]:
        """Pick, per frontier address, the transfers to follow (after arrival, largest shares first)."""
        by_sender: dict[str, list[_Outflow]] = defaultdict(list)
        for outflow in outflows:
            edge = outflow.edge
            if edge.value == 0 or edge.to_address == edge.from_address:
                continue
            arrivals = frontier[edge.from_address]
            arrival = arrivals.get(outflow.key, arrivals.get(_ANY))
            if arrival is not None and outflow.position > arrival:
                by_sender[edge.from_address].append(outflow)
        chosen = []
        for sender, candidates in sorted(by_sender.items()):
            sent: dict[str, int] = defaultdict(int)
            for outflow in candidates:
                sent[outflow.key] += outflow.edge.value

            def share(outflow: _Outflow, sender: str = sender, sent: dict[str, int] = sent) -> Fraction:
                basis = self.received.get((sender, outflow.key)) or sent[outflow.key]
                return Fraction(outflow.edge.value, basis)

            ranked = sorted(candidates, key=lambda outflow: (-share(outflow), outflow.position))
            if len(ranked) > max_breadth:
                self.truncated.add(sender)
            chosen += ranked[:max_breadth]
        followed = []
        for outflow in sorted(chosen, key=lambda item: item.position):
            edge = replace(outflow.edge, hop=hop)
            self.edges.append(edge)
            self.received[(edge.to_address, outflow.key)] += edge.value
            self.hops.setdefault(edge.to_address, hop)
            followed.append(_Outflow(outflow.position, outflow.key, edge))
        return followed


def trace_funds(
    client: RpcClient,
    chain: ChainConfig,
    seeds: Iterable[str | Seed],
    *,
    from_block: int = 0,
    to_block: int | None = None,
    max_depth: int = 4,
    max_breadth: int = 5,
    labels: LabelLookup | None = None,
    stablecoins: StablecoinLookup = stablecoin_at,
    include_native: bool = True,
    max_native_blocks: int = DEFAULT_MAX_NATIVE_BLOCKS,
    cache: TokenMetadataCache | None = None,
) -> FlowGraph:
    """Trace funds forward from the seeds (addresses from from_block, or Seed objects); see the module rules."""
    if max_depth < 1 or max_breadth < 1:
        raise TraceError("Depth and breadth must each be at least 1.")
    try:
        starts = [seed if isinstance(seed, Seed) else Seed(seed, from_block) for seed in seeds]
        starts = [Seed(normalise_address(seed.address), max(seed.from_block, 0)) for seed in starts]
    except CaptureError as error:
        raise TraceError(str(error)) from None
    if not starts:
        raise TraceError("Give at least one address to trace from.")
    head = read_head(client, chain_id=chain.chain_id)
    last = head.number if to_block is None else min(to_block, head.number)
    first = min(seed.from_block for seed in starts)
    if first > last:
        raise TraceError(f"Block {first} is after the chain's head block {last}: nothing to trace yet.")
    tracer = _Tracer(client, chain, labels, cache)
    tracer.records += head.records
    limitations = []
    span = last - first + 1
    if include_native and span <= max_native_blocks:
        tracer.scan_native(first, last)
    else:
        limitations.append("Native transfers were not followed" + (
            f": blocks {first}..{last} are more than the {max_native_blocks} read one by one." if include_native
            else "."))
    frontier: dict[str, dict[str, tuple]] = {}
    for seed in starts:
        position = (seed.from_block, -1, -2)
        frontier.setdefault(seed.address, {})[_ANY] = min(position, frontier.get(seed.address, {}).get(_ANY, position))
        tracer.hops[seed.address] = 0
    expanded = {(address, _ANY) for address in frontier}
    seed_addresses = tuple(dict.fromkeys(seed.address for seed in starts))
    for hop in range(1, max_depth + 1):
        if not frontier:
            break
        outflows = tracer.fetch_round(frontier, last, head.number)
        followed = tracer.follow(frontier, outflows, hop, max_breadth)
        frontier = {}
        for outflow in followed:
            recipient = outflow.edge.to_address
            label = tracer.label(recipient)
            if (recipient, outflow.key) in expanded or (recipient, _ANY) in expanded or (
                    label is not None and is_terminal(label.category)):
                continue
            if hop == max_depth:
                tracer.unexplored.add(recipient)
                continue
            arrivals = frontier.setdefault(recipient, {})
            arrivals[outflow.key] = min(arrivals.get(outflow.key, outflow.position), outflow.position)
        expanded |= {(address, key) for address, keys in frontier.items() for key in keys}
    if tracer.unexplored:
        limitations.append(f"{len(tracer.unexplored)} address(es) were reached at the depth limit and not followed.")
    if tracer.truncated:
        limitations.append(f"{len(tracer.truncated)} address(es) sent more transfers than the breadth limit followed.")
    nodes = _nodes(tracer, seed_addresses)
    return FlowGraph(
        chain_id=head.chain_id, seeds=seed_addresses, from_block=first, to_block=last, max_depth=max_depth,
        max_breadth=max_breadth, nodes=nodes, edges=tuple(tracer.edges),
        proposals=_proposals(head.chain_id, nodes, tracer.edges, stablecoins), records=tuple(tracer.records),
        limitations=tuple(limitations),
    )


def _deposit_of(address: str, label: AddressLabel | None, edges_out: list[FlowEdge],
                labels: dict[str, AddressLabel | None]) -> str | None:
    """The exchange whose deposit address this is, or None (see the module rules)."""
    if label is not None and label.category == "exchange_deposit":
        return exchange_name(label.name)
    if (label is not None and label.category != "unknown") or not edges_out:
        return None
    exchanges = set()
    for edge in edges_out:
        target = labels.get(edge.to_address)
        if target is None or target.category not in EXCHANGE_CATEGORIES - {"exchange_deposit"}:
            return None
        exchanges.add(exchange_name(target.name))
    return exchanges.pop() if len(exchanges) == 1 else None


def _nodes(tracer: _Tracer, seeds: tuple[str, ...]) -> tuple[FlowNode, ...]:
    out: dict[str, list[FlowEdge]] = defaultdict(list)
    for edge in tracer.edges:
        out[edge.from_address].append(edge)
    nodes = []
    for address, hop in sorted(tracer.hops.items(), key=lambda item: (item[1], item[0])):
        label = tracer.label(address)
        category = label.category if label else None
        endpoint = address not in seeds and label is not None and is_terminal(category)
        exchange = exchange_name(label.name) if endpoint and category in EXCHANGE_CATEGORIES else None
        deposit = None if endpoint or address in seeds else _deposit_of(address, label, out[address],
                                                                        tracer.known_labels)
        if address in seeds:
            role = "seed"
        elif endpoint:
            role = "endpoint"
        elif deposit is not None:
            role, exchange = "exchange_deposit", deposit
        elif out[address]:
            role = "intermediary"
        else:
            role = "unexplored" if address in tracer.unexplored else "holder"
        nodes.append(FlowNode(
            address=address, label=label.name if label else None, category=category,
            label_source=label.source if label else None, is_endpoint=endpoint, role=role, hop=hop,
            exchange=exchange, truncated=address in tracer.truncated,
        ))
    return tuple(nodes)


def _proposal(kind: str, target: str, node: FlowNode, chain_id: int, key: str, edges: list[FlowEdge],
              supporting: list[FlowEdge], reason: str) -> FreezeProposal:
    first = edges[0]
    ordered = sorted(edges + supporting, key=lambda edge: (edge.block_number, -1 if edge.log_index is None
                                                           else edge.log_index))
    hashes = tuple(dict.fromkeys(edge.tx_hash for edge in ordered))
    return FreezeProposal(kind=kind, target=target, address=node.address, chain_id=chain_id,
                          token=None if key == NATIVE else key, symbol=first.symbol, decimals=first.decimals,
                          amount=sum(edge.value for edge in edges), tx_hashes=hashes, reason=reason)


def _proposals(chain_id: int, nodes: tuple[FlowNode, ...], edges: list[FlowEdge],
               stablecoins: StablecoinLookup) -> tuple[FreezeProposal, ...]:
    by_address = {node.address: node for node in nodes}
    into: dict[tuple[str, str], list[FlowEdge]] = defaultdict(list)
    out: dict[tuple[str, str], list[FlowEdge]] = defaultdict(list)
    for edge in edges:
        key = edge.token or NATIVE
        into[(edge.to_address, key)].append(edge)
        out[(edge.from_address, key)].append(edge)
    proposals = []
    for (address, key), arriving in sorted(into.items()):
        node = by_address[address]
        if node.role == "exchange_deposit":
            reason = f"Deposit address of {node.exchange}: the exchange can identify and freeze the customer account."
            proposals.append(_proposal(EXCHANGE_FREEZE, node.exchange, node, chain_id, key, arriving,
                                       out.get((address, key), []), reason))
        elif node.is_endpoint and policy(node.category).freezable:
            direct = [edge for edge in arriving if by_address[edge.from_address].role != "exchange_deposit"]
            if direct:
                reason = (f"Funds reached {node.label} without a known deposit address: "
                          f"ask {node.exchange} to trace them.")
                proposals.append(_proposal(EXCHANGE_FREEZE, node.exchange or node.label, node, chain_id, key,
                                           direct, [], reason))
        elif not node.is_endpoint and key != NATIVE and not out.get((address, key)):
            coin = stablecoins(chain_id, key)
            if coin is not None and coin.issuer_can_freeze:
                reason = f"{coin.symbol} stopped here; {coin.issuer} can blacklist the address and freeze it."
                proposals.append(_proposal(STABLECOIN_ISSUER, coin.issuer, node, chain_id, key, arriving, [], reason))
    return tuple(sorted(proposals, key=lambda item: (item.kind, item.target, item.address, item.token or "")))
