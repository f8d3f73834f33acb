"""Tracing the staged devnet thefts to the exchange, and the depth, breadth and time rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from web3 import Web3

from evidence.canonical import canonical_json
from evidence.chains import ChainConfig
from evidence.devnet.staging import APPROVAL_PHISHING, LEAKED_RECOVERY_PHRASE, StagedScenario
from evidence.discover import discover_outgoing
from evidence.errors import TraceError
from evidence.labels import LabelBook
from evidence.rpc import RpcClient
from evidence.stablecoins import Stablecoin
from evidence.trace import EXCHANGE_FREEZE, STABLECOIN_ISSUER, FlowGraph, Seed, trace_funds
from tests.evidence.scenario import USD, actor, deploy, fund, send

pytestmark = pytest.mark.chain
HARBOUR = "Harbour Exchange"


def trace_theft(rpc: RpcClient, chain: ChainConfig, scenario: StagedScenario, kind: str, labels: LabelBook,
                **options) -> FlowGraph:
    """Trace a staged theft from its attacker, from the block where the theft began."""
    theft = scenario.theft(kind)
    return trace_funds(rpc, chain, [theft.address_of("attacker")], from_block=theft.steps[0].block_number,
                       labels=labels.resolver(chain.chain_id), **options)


def freezable(scenario: StagedScenario) -> Callable[[int, str], Stablecoin | None]:
    """A stablecoin lookup that knows the devnet token, as if its issuer were a freezing one."""
    coin = Stablecoin(scenario.chain_id, "cUSDT", scenario.token.address.lower(), 6, "Casework Demo USD issuer", True,
                      "Devnet stand-in for a freezing issuer.")
    return lambda chain_id, token: coin if (chain_id, token) == (coin.chain_id, coin.address) else None


def test_approval_phishing_is_traced_to_the_exchange_deposit_and_hot_wallet(
        rpc: RpcClient, devnet_chain: ChainConfig, staged_thefts: StagedScenario, devnet_labels) -> None:
    theft = staged_thefts.theft(APPROVAL_PHISHING)
    party = {party.role: party.address.lower() for party in theft.parties}
    # Only the hot wallet is known: the deposit address must be inferred from the sweep.
    graph = trace_theft(rpc, devnet_chain, staged_thefts, APPROVAL_PHISHING,
                        devnet_labels("exchange_hot_wallet", "attacker"), max_depth=5)
    path = ["attacker", "intermediary_1", "intermediary_2", "exchange_deposit", "exchange_hot_wallet"]
    assert [(edge.from_address, edge.to_address, edge.hop) for edge in graph.edges] == [
        (party[sender], party[recipient], hop) for hop, (sender, recipient) in enumerate(pairwise(path), 1)]
    assert [edge.tx_hash for edge in graph.edges] == [theft.step(action).tx_hash
                                                      for action in ("hop_1", "hop_2", "deposit", "sweep")]
    assert {(edge.value, edge.symbol, edge.decimals, edge.kind) for edge in graph.edges} == {
        (theft.stolen_token_amount, "cUSDT", 6, "erc20")}
    deposit, hot_wallet = graph.node(party["exchange_deposit"]), graph.node(party["exchange_hot_wallet"])
    assert (deposit.role, deposit.exchange, deposit.label, deposit.is_endpoint) == (
        "exchange_deposit", HARBOUR, None, False)
    assert (hot_wallet.role, hot_wallet.is_endpoint, hot_wallet.category, hot_wallet.exchange) == (
        "endpoint", True, "exchange_hot_wallet", HARBOUR)
    assert [node.role for node in graph.nodes] == ["seed", "intermediary", "intermediary", "exchange_deposit",
                                                   "endpoint"]
    (proposal,) = graph.proposals
    assert (proposal.kind, proposal.target, proposal.address, proposal.amount, proposal.token, proposal.symbol) == (
        EXCHANGE_FREEZE, HARBOUR, party["exchange_deposit"], theft.stolen_token_amount,
        staged_thefts.token.address.lower(), "cUSDT")
    assert proposal.tx_hashes == (theft.step("deposit").tx_hash, theft.step("sweep").tx_hash)
    assert graph.limitations == ()


def test_a_labelled_deposit_address_gives_the_same_freeze_proposal(
        rpc: RpcClient, devnet_chain: ChainConfig, staged_thefts: StagedScenario, devnet_labels) -> None:
    theft = staged_thefts.theft(APPROVAL_PHISHING)
    graph = trace_theft(rpc, devnet_chain, staged_thefts, APPROVAL_PHISHING, devnet_labels(), max_depth=5)
    deposit = graph.node(theft.address_of("exchange_deposit"))
    assert (deposit.role, deposit.category, deposit.label, deposit.exchange) == (
        "exchange_deposit", "exchange_deposit", "Harbour Exchange: Deposit", HARBOUR)
    assert [(p.kind, p.target, p.address) for p in graph.proposals] == [(EXCHANGE_FREEZE, HARBOUR, deposit.address)]


def test_tracing_stops_at_the_depth_limit(rpc: RpcClient, devnet_chain: ChainConfig, staged_thefts: StagedScenario,
                                          devnet_labels) -> None:
    theft = staged_thefts.theft(APPROVAL_PHISHING)
    graph = trace_theft(rpc, devnet_chain, staged_thefts, APPROVAL_PHISHING, devnet_labels(), max_depth=2)
    assert [edge.tx_hash for edge in graph.edges] == [theft.step("hop_1").tx_hash, theft.step("hop_2").tx_hash]
    assert graph.node(theft.address_of("intermediary_2")).role == "unexplored"
    assert graph.node(theft.address_of("exchange_deposit")) is None
    assert graph.proposals == ()
    assert graph.limitations == ("1 address(es) were reached at the depth limit and not followed.",)
    # Each hop is one logs batch and one batch of details, after the head and the block scan.
    assert rpc.http_requests <= 2 + 2 * 2


def test_the_leaked_key_trace_follows_token_and_native_coin(
        rpc: RpcClient, devnet_chain: ChainConfig, staged_thefts: StagedScenario, devnet_labels) -> None:
    theft = staged_thefts.theft(LEAKED_RECOVERY_PHRASE)
    hop = theft.address_of("intermediary_1").lower()
    graph = trace_theft(rpc, devnet_chain, staged_thefts, LEAKED_RECOVERY_PHRASE, devnet_labels())
    token_edge, native_edge = graph.edges
    assert (token_edge.kind, token_edge.to_address, token_edge.value, token_edge.tx_hash) == (
        "erc20", hop, theft.stolen_token_amount, theft.step("token_hop").tx_hash)
    assert (native_edge.kind, native_edge.token, native_edge.symbol, native_edge.to_address, native_edge.tx_hash) == (
        "native", None, "ETH", hop, theft.step("native_hop").tx_hash)
    assert native_edge.value == theft.step("native_hop").amount
    assert graph.node(hop).role == "holder"
    # The devnet token is not a known stablecoin: nobody to ask for a freeze.
    assert graph.proposals == ()


def test_a_freezing_issuers_token_stopping_at_an_address_proposes_an_issuer_freeze(
        rpc: RpcClient, devnet_chain: ChainConfig, staged_thefts: StagedScenario, devnet_labels) -> None:
    theft = staged_thefts.theft(LEAKED_RECOVERY_PHRASE)
    graph = trace_theft(rpc, devnet_chain, staged_thefts, LEAKED_RECOVERY_PHRASE, devnet_labels(),
                        stablecoins=freezable(staged_thefts))
    (proposal,) = graph.proposals
    assert (proposal.kind, proposal.target, proposal.address, proposal.amount, proposal.tx_hashes) == (
        STABLECOIN_ISSUER, "Casework Demo USD issuer", theft.address_of("intermediary_1").lower(),
        theft.stolen_token_amount, (theft.step("token_hop").tx_hash,))


def test_an_exchange_freeze_is_proposed_rather_than_an_issuer_freeze_at_the_exchange(
        rpc: RpcClient, devnet_chain: ChainConfig, staged_thefts: StagedScenario, devnet_labels) -> None:
    graph = trace_theft(rpc, devnet_chain, staged_thefts, APPROVAL_PHISHING, devnet_labels(), max_depth=5,
                        stablecoins=freezable(staged_thefts))
    assert [proposal.kind for proposal in graph.proposals] == [EXCHANGE_FREEZE]


def test_discovery_then_tracing_from_the_recipients_reaches_the_exchange(
        rpc: RpcClient, devnet_chain: ChainConfig, staged_thefts: StagedScenario, devnet_labels) -> None:
    theft = staged_thefts.theft(APPROVAL_PHISHING)
    since = datetime.fromtimestamp(theft.steps[0].timestamp, UTC) - timedelta(minutes=1)
    discovery = discover_outgoing(rpc, devnet_chain, theft.address_of("victim"), since, since + timedelta(hours=1))
    seeds = [Seed(candidate.to_address, candidate.block_number) for candidate in discovery.candidates
             if candidate.kind != "approval"]
    graph = trace_funds(rpc, devnet_chain, seeds, max_depth=5,
                        labels=devnet_labels("exchange_hot_wallet").resolver(devnet_chain.chain_id))
    assert [(p.target, p.address) for p in graph.proposals] == [(HARBOUR, theft.address_of("exchange_deposit").lower())]


def test_every_edge_cites_a_returned_raw_record(rpc: RpcClient, devnet_chain: ChainConfig,
                                                staged_thefts: StagedScenario, devnet_labels) -> None:
    graph = trace_theft(rpc, devnet_chain, staged_thefts, LEAKED_RECOVERY_PHRASE, devnet_labels())
    digests = {record.sha256 for record in graph.records}
    assert all(edge.source_record in digests for edge in graph.edges)
    assert all(canonical_json(record.canonical_dict()) for record in graph.records)


@pytest.fixture
def splitter(w3: Web3, scratch_chain: None) -> dict[str, str]:
    """On a scratch chain: a holder sends 300, 200 and 100 tokens to three accounts; the first of them had
    sent tokens away before it received any from the holder, and sends more on afterwards."""
    holder, big, middle, small, earlier, later = (actor(f"trace {name}") for name in (
        "holder", "big", "middle", "small", "earlier", "later"))
    fund(w3, holder, big)
    token = deploy(w3, "SixDecimalToken", "Trace Dollar", "TRD", sender=holder)
    send(w3, token.functions.mint(holder.address, 600 * USD), holder)
    send(w3, token.functions.mint(big.address, 50 * USD), holder)
    start = w3.eth.block_number
    before = send(w3, token.functions.transfer(earlier.address, 50 * USD), big)
    sent = [send(w3, token.functions.transfer(to.address, amount * USD), holder)
            for to, amount in ((small, 100), (big, 300), (middle, 200))]
    after = send(w3, token.functions.transfer(later.address, 120 * USD), big)
    return {"holder": holder.address.lower(), "big": big.address.lower(), "middle": middle.address.lower(),
            "small": small.address.lower(), "earlier": earlier.address.lower(), "later": later.address.lower(),
            "start": start, "before": before, "to_small": sent[0], "to_big": sent[1], "to_middle": sent[2],
            "after": after}


def test_breadth_keeps_the_largest_transfers_and_marks_the_address(rpc: RpcClient, devnet_chain: ChainConfig,
                                                                   splitter: dict) -> None:
    graph = trace_funds(rpc, devnet_chain, [splitter["holder"]], from_block=splitter["start"], max_breadth=2,
                        max_depth=1)
    assert [edge.to_address for edge in graph.edges] == [splitter["big"], splitter["middle"]]
    assert graph.node(splitter["holder"]).truncated is True
    assert graph.node(splitter["small"]) is None
    assert "breadth limit" in graph.limitations[-1]


def test_only_transfers_after_the_funds_arrived_are_followed(rpc: RpcClient, devnet_chain: ChainConfig,
                                                             splitter: dict) -> None:
    graph = trace_funds(rpc, devnet_chain, [splitter["holder"]], from_block=splitter["start"], max_depth=2)
    out_of_big = [edge for edge in graph.edges if edge.from_address == splitter["big"]]
    assert [(edge.to_address, edge.tx_hash, edge.hop) for edge in out_of_big] == [
        (splitter["later"], splitter["after"], 2)]
    assert graph.node(splitter["earlier"]) is None
    assert {node.address: node.role for node in graph.nodes if node.hop == 2} == {splitter["later"]: "unexplored"}


@pytest.mark.parametrize("seeds, options, message", [
    ([], {}, "at least one address"),
    (["0x1234"], {}, "is not an address"),
    (["0x" + "11" * 20], {"max_depth": 0}, "at least 1"),
    (["0x" + "11" * 20], {"from_block": 10**9}, "after the chain's head block"),
])
def test_impossible_traces_are_refused(rpc: RpcClient, devnet_chain: ChainConfig, staged_thefts: StagedScenario,
                                       seeds: list, options: dict, message: str) -> None:
    with pytest.raises(TraceError, match=message):
        trace_funds(rpc, devnet_chain, seeds, **options)


def test_a_graph_survives_its_json_form(rpc: RpcClient, devnet_chain: ChainConfig, staged_thefts: StagedScenario,
                                        devnet_labels) -> None:
    graph = trace_theft(rpc, devnet_chain, staged_thefts, APPROVAL_PHISHING,
                        devnet_labels("exchange_hot_wallet", "attacker"), max_depth=5,
                        stablecoins=freezable(staged_thefts))
    assert graph.edges and graph.proposals
    rebuilt = FlowGraph.from_dict(graph.to_dict())
    assert rebuilt.to_dict() == graph.to_dict()
    assert rebuilt.records == ()
