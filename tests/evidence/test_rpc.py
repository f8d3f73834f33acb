"""The JSON-RPC transport under faults: retries, backoff, failover, verbatim replies, no partial results."""

from __future__ import annotations

import json

import pytest
import requests

from evidence.capture import capture_transactions
from evidence.devnet.anvil import AnvilNode, free_port
from evidence.errors import RpcError
from evidence.rpc import RetryPolicy, RpcClient, endpoint_host, split_response
from evidence.tokens import SELECTOR_SYMBOL
from tests.evidence.faultproxy import FAST_RETRY, FaultProxy
from tests.evidence.scenario import Scenario


def dead_url() -> str:
    """A loopback URL where nothing listens, so connecting is refused."""
    return f"http://127.0.0.1:{free_port()}/v2/secret-api-key"


def test_split_response_keeps_each_value_as_sent() -> None:
    text = '[ {"id": 1, "jsonrpc":"2.0", "result" : {"b": "0x1",  "a": [1, 2]} }, {"id":0,"result":null}]'
    items = split_response(text)
    assert items == [{"id": "1", "jsonrpc": '"2.0"', "result": '{"b": "0x1",  "a": [1, 2]}'},
                     {"id": "0", "result": "null"}]


@pytest.mark.parametrize("text", ["", "[", '[{"id":0,"result":1.5}]', '[{"id":0,"result":NaN}]', "[1]",
                                  '[{"id":0,"result":"0x1"}] trailing', '"just a string"'])
def test_split_response_refuses_what_is_not_a_json_rpc_response(text: str) -> None:
    with pytest.raises(ValueError):
        split_response(text)


def test_a_rejected_batch_comes_back_as_one_object() -> None:
    assert split_response('{"jsonrpc":"2.0","id":null,"error":{"code":-32600}}')["error"] == '{"code":-32600}'


def test_endpoint_host_drops_path_query_and_credentials() -> None:
    assert endpoint_host("https://user:pw@eth-mainnet.example.com/v2/KEY?x=1") == "eth-mainnet.example.com"
    assert endpoint_host("http://127.0.0.1:8545") == "127.0.0.1:8545"


@pytest.mark.parametrize("fault", ["timeout", "429", "500", "garbage", "truncated", "item_rate_limited"])
def test_a_passing_fault_is_retried(fault: str, proxy: FaultProxy) -> None:
    proxy.fail_next(fault)
    client = RpcClient([proxy.url], retry=FAST_RETRY)
    replies = client.batch([("eth_chainId", []), ("eth_blockNumber", [])])
    assert [reply.method for reply in replies] == ["eth_chainId", "eth_blockNumber"]
    assert replies[0].result_json == '"0x7a69"'
    assert proxy.faults_served == [fault]
    assert client.http_requests == proxy.requests == 2


@pytest.mark.parametrize(("fault", "reason"), [("timeout", "no answer within 0.5 s"), ("429", "HTTP 429"),
                                               ("500", "HTTP 500"), ("garbage", "malformed JSON-RPC response")])
def test_a_lasting_fault_raises_one_readable_error(fault: str, reason: str, proxy: FaultProxy) -> None:
    proxy.fail_next(*[fault] * FAST_RETRY.attempts)
    client = RpcClient([proxy.url], retry=FAST_RETRY)
    with pytest.raises(RpcError) as raised:
        client.call("eth_chainId")
    message = str(raised.value)
    assert reason in message and "after 3 round(s)" in message
    assert "secret-api-key" not in message and proxy.url.split("/")[2] in message
    assert proxy.requests == FAST_RETRY.attempts


def test_connection_refused_is_retried_then_reported() -> None:
    sleeps: list[float] = []
    client = RpcClient([dead_url()], retry=FAST_RETRY, sleep=sleeps.append)
    with pytest.raises(RpcError, match="connection refused") as raised:
        client.call("eth_chainId")
    assert "secret-api-key" not in str(raised.value)
    assert client.http_requests == FAST_RETRY.attempts
    assert sleeps == [0.01, 0.02]


def test_backoff_grows_exponentially_up_to_its_cap() -> None:
    policy = RetryPolicy(attempts=6, backoff=0.5, backoff_factor=2.0, backoff_max=3.0)
    assert [policy.delay(round_number) for round_number in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert policy.delay(1, retry_after=2.5) == 2.5
    assert policy.delay(1, retry_after=60) == 3.0


def test_failover_moves_to_the_next_url_and_stays_there(proxy: FaultProxy) -> None:
    sleeps: list[float] = []
    client = RpcClient([dead_url(), proxy.url], retry=FAST_RETRY, sleep=sleeps.append)
    first = client.call("eth_chainId")
    second = client.call("eth_blockNumber")
    assert first.source == second.source == proxy.url.split("/")[2]
    assert client.http_requests == 3 and proxy.requests == 2
    assert sleeps == []


def test_failover_from_a_failing_endpoint(anvil: AnvilNode, proxy: FaultProxy) -> None:
    proxy.fail_next("500")
    client = RpcClient([proxy.url, anvil.rpc_url], retry=FAST_RETRY)
    assert client.call("eth_chainId").source == endpoint_host(anvil.rpc_url)


def test_large_batches_are_split(rpc: RpcClient) -> None:
    rpc.max_batch_size = 3
    calls = [("eth_getBalance", [f"0x{number:040x}", "latest"]) for number in range(10)]
    replies = rpc.batch(calls)
    assert [(reply.method, list(reply.params)) for reply in replies] == calls
    assert all(reply.ok for reply in replies)
    assert rpc.http_requests == 4


def test_a_per_call_error_is_returned_not_raised(rpc: RpcClient, scenario: Scenario) -> None:
    reverted, answered = rpc.batch([
        ("eth_call", [{"to": scenario.reverting_symbol, "data": SELECTOR_SYMBOL}, "latest"]),
        ("eth_call", [{"to": scenario.usd6, "data": SELECTOR_SYMBOL}, "latest"]),
    ])
    assert not reverted.ok and reverted.result is None and "revert" in reverted.error_json
    assert answered.ok and answered.result.startswith("0x")


def test_capture_is_all_or_nothing(scenario: Scenario, proxy: FaultProxy) -> None:
    # The first exchange succeeds; the second (blocks and token metadata) never does.
    proxy.fail_next("forward", *["500"] * FAST_RETRY.attempts)
    with pytest.raises(RpcError, match="eth_getBlockByHash .*HTTP 500"):
        capture_transactions(RpcClient([proxy.url], retry=FAST_RETRY), scenario.transaction_hashes())
    assert proxy.requests == 1 + FAST_RETRY.attempts


def test_capture_through_a_flaky_endpoint_equals_a_clean_capture(rpc: RpcClient, scenario: Scenario,
                                                                 proxy: FaultProxy) -> None:
    # Two faults in each of the two exchanges: within the three attempts each one gets.
    proxy.fail_next("truncated", "timeout", "forward", "item_rate_limited", "garbage")
    flaky = capture_transactions(RpcClient([proxy.url], retry=FAST_RETRY), scenario.transaction_hashes())
    clean = capture_transactions(rpc, scenario.transaction_hashes())
    assert [record.result for record in flaky.records if record.kind != "head"] == [
        record.result for record in clean.records if record.kind != "head"
    ]


class CannedSession:
    """A stand-in for requests.Session whose every answer carries the same error for each call."""

    def __init__(self, error: dict) -> None:
        self.error = error

    def post(self, url: str, *, data: str, headers: dict, timeout: float) -> requests.Response:
        """Answer each call of the batch with the canned error."""
        response = requests.Response()
        response.status_code = 200
        response._content = json.dumps([{"jsonrpc": "2.0", "id": call["id"], "error": self.error}
                                        for call in json.loads(data)]).encode()
        return response


def test_a_revert_is_an_answer_whatever_its_reason_says() -> None:
    error = {"code": 3, "message": "execution reverted: rate limit, try again", "data": "0x"}
    client = RpcClient(["http://node.example"], retry=FAST_RETRY, session=CannedSession(error))
    reply = client.call("eth_call", [{"to": "0x" + "11" * 20, "data": SELECTOR_SYMBOL}, "latest"])
    assert (reply.ok, reply.error, client.http_requests) == (False, error, 1)


def test_a_node_behind_the_head_is_asked_again_then_reported() -> None:
    error = {"code": -32000, "message": "header not found"}
    client = RpcClient(["http://node.example"], retry=FAST_RETRY, session=CannedSession(error))
    with pytest.raises(RpcError, match="1 call\\(s\\) answered with a temporary error"):
        client.call("eth_call", [{"to": "0x" + "11" * 20, "data": SELECTOR_SYMBOL}, "0x10"])
    assert client.http_requests == FAST_RETRY.attempts


@pytest.mark.parametrize("error", [{"code": 2**60, "message": "too big to hash exactly"},
                                   {"code": -32000, "message": "lone \ud800 surrogate"}])
def test_an_answer_evidence_cannot_hash_is_a_malformed_response(error: dict) -> None:
    client = RpcClient(["http://node.example"], retry=FAST_RETRY, session=CannedSession(error))
    with pytest.raises(RpcError, match="malformed JSON-RPC response"):
        client.call("eth_getTransactionReceipt", ["0x" + "ab" * 32])
