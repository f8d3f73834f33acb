"""Capture against a real anvil: batching, deduplication, metadata caching, verbatim records."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import requests
from web3 import Web3

from evidence.capture import capture_logs, capture_transactions, normalise_tx_hash
from evidence.chains import default_chains
from evidence.decode import TOPIC_TRANSFER
from evidence.devnet.anvil import AnvilNode
from evidence.errors import CaptureError
from evidence.models import Capture
from evidence.rpc import RpcClient
from evidence.tokens import METADATA_CALLS, TokenMetadataCache
from tests.evidence.faultproxy import FAST_RETRY, FaultProxy
from tests.evidence.scenario import Scenario, actor, send

UNKNOWN_HASH = "0x" + "ab" * 32
TOKENS_IN_SCENARIO = 6


def test_capture_takes_two_round_trips_for_all_transactions(rpc: RpcClient, scenario: Scenario) -> None:
    capture = capture_transactions(rpc, scenario.transaction_hashes(), chain_id=31337)
    assert rpc.http_requests == 2
    assert set(capture.found) == set(scenario.transaction_hashes())
    assert capture.not_found == () and capture.pending == ()


def test_each_block_is_fetched_once(captured: Capture, scenario: Scenario) -> None:
    block_records = [record for record in captured.records if record.kind == "block"]
    receipts = [record.result for record in captured.records if record.kind == "receipt"]
    assert len(block_records) == len({receipt["blockHash"] for receipt in receipts})
    first, second = (receipt for receipt in receipts if receipt["transactionHash"] in scenario.same_block)
    assert first["blockHash"] == second["blockHash"]


def test_token_metadata_is_fetched_once_per_token(captured: Capture) -> None:
    token_calls = [record for record in captured.records if record.kind == "token_call"]
    asked = [(record.params[0]["to"], record.params[0]["data"]) for record in token_calls]
    assert len(asked) == len(set(asked)) == TOKENS_IN_SCENARIO * len(METADATA_CALLS)


def test_cached_metadata_is_not_fetched_again_but_still_cited(anvil: AnvilNode, scenario: Scenario) -> None:
    cache = TokenMetadataCache()
    hashes = [scenario.drain_via_drainer, scenario.drain_after_permit]
    first = capture_transactions(RpcClient([anvil.rpc_url], retry=FAST_RETRY), hashes, cache=cache)
    with FaultProxy(anvil.rpc_url) as proxy:
        counting = RpcClient([proxy.url], retry=FAST_RETRY)
        second = capture_transactions(counting, hashes, cache=cache)
    assert len(cache) == 1
    cached = [record for record in second.records if record.kind == "token_call"]
    assert cached == [record for record in first.records if record.kind == "token_call"]
    assert all(record.source != counting.hosts[0] for record in cached)
    assert counting.http_requests == 2


def test_unknown_hash_is_reported_not_raised(rpc: RpcClient, scenario: Scenario) -> None:
    capture = capture_transactions(rpc, [scenario.native_drain, UNKNOWN_HASH])
    assert capture.found == (scenario.native_drain,)
    assert capture.not_found == (UNKNOWN_HASH,)
    null_answers = [record for record in capture.records if record.params == (UNKNOWN_HASH,)]
    assert [(record.kind, record.result_json) for record in null_answers] == [("transaction", "null"),
                                                                              ("receipt", "null")]


def test_a_transaction_not_yet_mined_is_pending(rpc: RpcClient, w3: Web3, scenario: Scenario) -> None:
    w3.provider.make_request("evm_setAutomine", [False])
    try:
        tx_hash = send(w3, None, actor("attacker"), wait=False, to=Web3.to_checksum_address(scenario.victim), value=1)
        capture = capture_transactions(rpc, [tx_hash])
    finally:
        w3.provider.make_request("evm_mine", [])
        w3.provider.make_request("evm_setAutomine", [True])
    assert capture.pending == (tx_hash,) and capture.found == ()


def test_records_keep_the_node_answer_verbatim(anvil: AnvilNode, captured: Capture, scenario: Scenario) -> None:
    record = next(record for record in captured.records if record.kind == "receipt")
    body = {"jsonrpc": "2.0", "id": 7, "method": record.method, "params": list(record.params)}
    text = requests.post(anvil.rpc_url, json=body, timeout=10).text
    assert '"result":' + record.result_json in text
    assert json.loads(record.result_json) == record.result


def test_records_name_the_host_never_the_url(anvil: AnvilNode, scenario: Scenario, proxy: FaultProxy) -> None:
    capture = capture_transactions(RpcClient([proxy.url], retry=FAST_RETRY), [scenario.native_drain])
    host = proxy.url.split("/")[2]
    assert {record.source for record in capture.records} == {host}
    assert not any(b"secret-api-key" in record.canonical_json() for record in capture.records)


def test_capture_refuses_the_wrong_chain(rpc: RpcClient, scenario: Scenario) -> None:
    with pytest.raises(CaptureError, match="serves chain 31337, not chain 1"):
        capture_transactions(rpc, [scenario.native_drain], chain_id=1)


@pytest.mark.parametrize("value", ["0x1234", "hello", "0x" + "g" * 64, ""])
def test_malformed_hashes_are_refused_before_any_request(value: str, rpc: RpcClient) -> None:
    with pytest.raises(CaptureError, match="is not a transaction hash"):
        capture_transactions(rpc, [value])
    assert rpc.http_requests == 0


def test_hashes_are_normalised() -> None:
    assert normalise_tx_hash("  " + "AB" * 32 + " ") == "0x" + "ab" * 32


def test_logs_are_split_to_the_chain_range_cap(rpc: RpcClient, w3: Web3, scenario: Scenario) -> None:
    chain = replace(default_chains().get(31337), max_log_range=4)
    head = w3.eth.block_number
    records = capture_logs(rpc, chain, from_block=1, to_block=head, topics=[TOPIC_TRANSFER])
    assert len(records) == -(-head // 4)
    assert rpc.http_requests == 1
    logs = [log for record in records for log in record.result]
    expected = w3.eth.get_logs({"fromBlock": 1, "toBlock": head, "topics": [TOPIC_TRANSFER]})
    assert [log["transactionHash"] for log in logs] == [log["transactionHash"].to_0x_hex() for log in expected]


def test_logs_ranges_the_provider_refuses_are_halved(anvil: AnvilNode, w3: Web3, scenario: Scenario,
                                                     proxy: FaultProxy) -> None:
    proxy.log_range_cap = 5
    head = w3.eth.block_number
    chain = default_chains().get(31337)
    records = capture_logs(RpcClient([proxy.url], retry=FAST_RETRY), chain, from_block=1, to_block=head,
                           address=scenario.usd6)
    spans = [int(record.params[0]["toBlock"], 16) - int(record.params[0]["fromBlock"], 16) + 1 for record in records]
    assert max(spans) <= 5 and sum(spans) == head
    expected = w3.eth.get_logs({"fromBlock": 1, "toBlock": head, "address": Web3.to_checksum_address(scenario.usd6)})
    assert sum(len(record.result) for record in records) == len(expected)
