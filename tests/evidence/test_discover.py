"""Discovery from the victim's address and a time window alone, against the staged devnet thefts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from web3 import Web3

from evidence.blocks import find_window
from evidence.chains import ChainConfig
from evidence.devnet.staging import APPROVAL_PHISHING, LEAKED_RECOVERY_PHRASE, UNLIMITED_ALLOWANCE, StagedScenario
from evidence.discover import Discovery, discover_outgoing
from evidence.errors import DiscoveryError
from evidence.models import RECORD_KINDS
from evidence.rpc import RpcClient
from tests.evidence.faultproxy import FAST_RETRY, FaultProxy

pytestmark = pytest.mark.chain
MINUTE = timedelta(minutes=1)


def moment(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def discover_theft(rpc: RpcClient, chain: ChainConfig, scenario: StagedScenario, kind: str, **options) -> Discovery:
    """Discovery over the theft's own minutes, from its victim's address alone."""
    theft = scenario.theft(kind)
    since = moment(theft.steps[0].timestamp) - MINUTE
    until = moment(theft.steps[-1].timestamp) + MINUTE
    return discover_outgoing(rpc, chain, theft.address_of("victim"), since, until, **options)


def test_approval_phishing_shows_the_approval_and_the_drain(rpc: RpcClient, devnet_chain: ChainConfig,
                                                            staged_thefts: StagedScenario) -> None:
    theft = staged_thefts.theft(APPROVAL_PHISHING)
    attacker, victim = theft.address_of("attacker").lower(), theft.address_of("victim").lower()
    discovery = discover_theft(rpc, devnet_chain, staged_thefts, APPROVAL_PHISHING)
    approval, drain = discovery.candidates
    assert (approval.tx_hash, approval.kind, approval.approval_scope, approval.to_address, approval.value) == (
        theft.step("approve").tx_hash, "approval", "amount", attacker, UNLIMITED_ALLOWANCE)
    assert approval.tx_from == victim
    assert (drain.tx_hash, drain.kind, drain.to_address, drain.value, drain.symbol, drain.decimals) == (
        theft.step("drain").tx_hash, "erc20", attacker, theft.stolen_token_amount, "cUSDT", 6)
    # The drain was signed by the attacker, not the victim: the mark of an allowance being used.
    assert drain.tx_from == attacker and drain.from_address == victim
    assert drain.token == staged_thefts.token.address.lower()
    assert drain.timestamp == moment(theft.step("drain").timestamp)
    assert drain.block_number == theft.step("drain").block_number
    assert discovery.limitations == ()


def test_leaked_key_shows_the_token_and_native_drains(rpc: RpcClient, devnet_chain: ChainConfig,
                                                      staged_thefts: StagedScenario) -> None:
    theft = staged_thefts.theft(LEAKED_RECOVERY_PHRASE)
    victim, attacker = theft.address_of("victim").lower(), theft.address_of("attacker").lower()
    token_drain, native_drain = discover_theft(rpc, devnet_chain, staged_thefts, LEAKED_RECOVERY_PHRASE).candidates
    assert (token_drain.kind, token_drain.tx_hash, token_drain.value, token_drain.to_address) == (
        "erc20", theft.step("token_drain").tx_hash, theft.stolen_token_amount, attacker)
    assert (native_drain.kind, native_drain.tx_hash, native_drain.value, native_drain.log_index) == (
        "native", theft.step("native_drain").tx_hash, theft.stolen_native_amount, None)
    assert (native_drain.symbol, native_drain.decimals, native_drain.to_address) == ("ETH", 18, attacker)
    assert token_drain.tx_from == native_drain.tx_from == victim


def test_every_candidate_cites_a_raw_record_that_was_returned(rpc: RpcClient, devnet_chain: ChainConfig,
                                                              staged_thefts: StagedScenario) -> None:
    discovery = discover_theft(rpc, devnet_chain, staged_thefts, LEAKED_RECOVERY_PHRASE)
    digests = {record.sha256 for record in discovery.records}
    assert all(candidate.source_record in digests for candidate in discovery.candidates)
    assert {record.kind for record in discovery.records} <= set(RECORD_KINDS)
    native = discovery.candidates[1]
    block = next(record for record in discovery.records if record.sha256 == native.source_record)
    assert native.tx_hash in {tx["hash"] for tx in block.result["transactions"]}
    assert any(record.kind == "receipt" and record.params == (native.tx_hash,) for record in discovery.records)


def test_discovery_takes_a_handful_of_round_trips(rpc: RpcClient, devnet_chain: ChainConfig,
                                                  staged_thefts: StagedScenario) -> None:
    discover_theft(rpc, devnet_chain, staged_thefts, APPROVAL_PHISHING)
    # head, one search round, logs, blocks with transactions, then metadata/receipts together.
    assert rpc.http_requests <= 6


def test_a_small_log_range_cap_splits_the_query_without_changing_the_result(
        rpc: RpcClient, devnet_chain: ChainConfig, staged_thefts: StagedScenario) -> None:
    uncapped = discover_theft(rpc, devnet_chain, staged_thefts, APPROVAL_PHISHING)
    capped = discover_theft(rpc, replace(devnet_chain, max_log_range=2), staged_thefts, APPROVAL_PHISHING)
    log_queries = [record for record in capped.records if record.kind == "logs"]
    span = capped.to_block - capped.from_block + 1
    assert len(log_queries) == -(-span // 2) > 1
    assert [(c.tx_hash, c.log_index) for c in capped.candidates] == [(c.tx_hash, c.log_index)
                                                                     for c in uncapped.candidates]


def test_ranges_the_provider_refuses_are_halved(proxy: FaultProxy, devnet_chain: ChainConfig,
                                                staged_thefts: StagedScenario) -> None:
    proxy.log_range_cap = 1
    discovery = discover_theft(RpcClient([proxy.url], retry=FAST_RETRY), devnet_chain, staged_thefts,
                               LEAKED_RECOVERY_PHRASE)
    assert [candidate.kind for candidate in discovery.candidates] == ["erc20", "native"]
    spans = {int(r.params[0]["toBlock"], 16) - int(r.params[0]["fromBlock"], 16) for r in discovery.records
             if r.kind == "logs"}
    assert spans == {0}


def test_a_long_window_says_native_transfers_were_not_read(rpc: RpcClient, devnet_chain: ChainConfig,
                                                           staged_thefts: StagedScenario) -> None:
    discovery = discover_theft(rpc, devnet_chain, staged_thefts, LEAKED_RECOVERY_PHRASE, max_native_blocks=1)
    assert [candidate.kind for candidate in discovery.candidates] == ["erc20"]
    assert "Native transfers were not looked for" in discovery.limitations[0]
    assert "trace API" in discovery.limitations[0]


def test_a_window_before_anything_happened_is_empty(rpc: RpcClient, devnet_chain: ChainConfig,
                                                    staged_thefts: StagedScenario) -> None:
    victim = staged_thefts.theft(APPROVAL_PHISHING).address_of("victim")
    start = moment(staged_thefts.thefts[0].steps[0].timestamp)
    early = discover_outgoing(rpc, devnet_chain, victim, start - 10 * MINUTE, start - 2 * MINUTE)
    assert early.candidates == ()
    future = discover_outgoing(rpc, devnet_chain, victim, datetime(2100, 1, 1, tzinfo=UTC),
                               datetime(2100, 1, 2, tzinfo=UTC))
    assert (future.candidates, future.from_block) == ((), future.head_block + 1)


@pytest.mark.parametrize("probes", [1, 2, 3, 32])
def test_the_block_search_matches_the_timestamps_on_chain(w3: Web3, anvil, staged_thefts: StagedScenario,
                                                          probes: int) -> None:
    head = w3.eth.block_number
    stamps = [w3.eth.get_block(number)["timestamp"] for number in range(head + 1)]
    client = RpcClient([anvil.rpc_url], retry=FAST_RETRY)
    for since, until in [(stamps[3], stamps[7]), (stamps[5] - 1, stamps[5]), (stamps[0] - 100, stamps[-1] + 100),
                         (stamps[9] + 1, stamps[9] + 2), (stamps[-1], stamps[-1])]:
        window = find_window(client, moment(since), moment(until), probes=probes)
        inside = [number for number, stamp in enumerate(stamps) if since <= stamp <= until]
        if inside:
            assert (window.from_block, window.to_block) == (inside[0], inside[-1])
        else:
            assert window.is_empty


@pytest.mark.parametrize("victim, since, until, message", [
    ("0x1234", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC), "is not an address"),
    ("0x" + "11" * 20, datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC), "ends before it starts"),
    ("0x" + "11" * 20, datetime(2026, 1, 1), datetime(2026, 1, 2), "timezone-aware"),
])
def test_impossible_requests_are_refused(rpc: RpcClient, devnet_chain: ChainConfig, victim: str, since: datetime,
                                         until: datetime, message: str) -> None:
    with pytest.raises(DiscoveryError, match=message):
        discover_outgoing(rpc, devnet_chain, victim, since, until)
