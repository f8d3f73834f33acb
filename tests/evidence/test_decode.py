"""Decoding captured records into movements and calls: real anvil shapes and recorded mainnet shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector

from evidence.calls import recognise_call
from evidence.decode import TOPIC_TRANSFER, decode_records
from evidence.models import Capture, Decoded, Movement, RawRecord
from evidence.rpc import RpcReply
from evidence.tokens import decode_text, decode_uint
from tests.evidence.scenario import ETHER, UNLIMITED, USD, Scenario


def movements_of(decoded: Decoded, tx_hash: str) -> list[Movement]:
    """The movements decoded from one transaction."""
    return [movement for movement in decoded.movements if movement.tx_hash == tx_hash]


def only(decoded: Decoded, tx_hash: str) -> Movement:
    """The single movement of a transaction."""
    (movement,) = movements_of(decoded, tx_hash)
    return movement


def test_six_decimal_token_drained_through_a_drainer_contract(decoded: Decoded, scenario: Scenario) -> None:
    drain = only(decoded, scenario.drain_via_drainer)
    assert (drain.kind, drain.token, drain.symbol, drain.decimals) == ("erc20", scenario.usd6, "TUSD", 6)
    assert (drain.from_address, drain.to_address, drain.value) == (scenario.victim, scenario.attacker, 700 * USD)
    assert (drain.tx_from, drain.tx_to, drain.tx_status, drain.log_index) == (scenario.attacker, scenario.drainer,
                                                                               1, 0)


def test_unlimited_approval_is_an_amount_approval(decoded: Decoded, scenario: Scenario) -> None:
    approval = only(decoded, scenario.approve_drainer)
    assert (approval.kind, approval.approval_scope) == ("approval", "amount")
    assert (approval.from_address, approval.to_address, approval.value) == (scenario.victim, scenario.drainer,
                                                                             UNLIMITED)


def test_permit_submitted_by_the_attacker_approves_for_the_victim(decoded: Decoded, scenario: Scenario) -> None:
    approval = only(decoded, scenario.permit)
    assert (approval.from_address, approval.to_address, approval.value) == (scenario.victim, scenario.attacker,
                                                                             100 * USD)
    (call,) = [call for call in decoded.calls if call.tx_hash == scenario.permit]
    assert (call.function, call.caller, call.contract) == ("permit", scenario.attacker, scenario.usd6)
    assert (call.arg("owner"), call.arg("spender"), call.arg("value")) == (scenario.victim, scenario.attacker,
                                                                           100 * USD)


def test_erc721_transfer_has_the_token_id_as_value(decoded: Decoded, scenario: Scenario) -> None:
    transfer = only(decoded, scenario.nft_drain)
    assert (transfer.kind, transfer.token, transfer.value, transfer.symbol, transfer.decimals) == (
        "erc721", scenario.nft, 1, "TNFT", None)


def test_erc721_approvals_for_one_token_and_for_all(decoded: Decoded, scenario: Scenario) -> None:
    one = only(decoded, scenario.nft_token_approval)
    every = only(decoded, scenario.nft_approval_for_all)
    assert (one.kind, one.approval_scope, one.value) == ("approval", "token", 0)
    assert (every.kind, every.approval_scope, every.value, every.to_address) == ("approval", "all", 1,
                                                                                 scenario.attacker)


@pytest.mark.parametrize(("token_field", "symbol", "decimals"), [
    ("reverting_symbol", None, 18), ("bytes32_symbol", "B32", 18), ("no_metadata", None, None),
    ("unindexed", "UNX", 8),
])
def test_token_metadata_in_every_shape(decoded: Decoded, scenario: Scenario, token_field: str, symbol: str | None,
                                       decimals: int | None) -> None:
    metadata = decoded.tokens[getattr(scenario, token_field)]
    assert (metadata.symbol, metadata.decimals, metadata.is_erc721) == (symbol, decimals, False)


def test_unindexed_transfer_is_read_from_data_words(decoded: Decoded, scenario: Scenario) -> None:
    payment = only(decoded, scenario.scam_payment)
    assert (payment.kind, payment.token, payment.value) == ("erc20", scenario.unindexed, 40 * USD)
    assert (payment.from_address, payment.to_address) == (scenario.victim, scenario.scammer)


def test_native_transfer(decoded: Decoded, scenario: Scenario) -> None:
    native = only(decoded, scenario.native_drain)
    assert (native.kind, native.token, native.log_index, native.symbol, native.decimals) == ("native", None, None,
                                                                                              "ETH", 18)
    assert (native.from_address, native.to_address, native.value, native.tx_status) == (
        scenario.victim, scenario.attacker, 3 * ETHER, 1)


def test_failed_transactions_move_nothing_and_say_so(decoded: Decoded, scenario: Scenario) -> None:
    assert movements_of(decoded, scenario.failed_transfer) == []
    (call,) = [call for call in decoded.calls if call.tx_hash == scenario.failed_transfer]
    assert (call.function, call.tx_status) == ("transfer", 0)
    attempted = only(decoded, scenario.failed_native)
    assert (attempted.kind, attempted.value, attempted.tx_status) == ("native", ETHER, 0)


def test_two_transfers_in_one_block_keep_their_log_indexes(decoded: Decoded, scenario: Scenario) -> None:
    first, second = (only(decoded, tx_hash) for tx_hash in scenario.same_block)
    assert first.block_number == second.block_number
    assert (first.log_index, second.log_index) == (0, 1)
    assert (first.symbol, second.symbol) == ("B32", None)


def test_timestamps_come_from_the_block(decoded: Decoded, captured: Capture, scenario: Scenario) -> None:
    native = only(decoded, scenario.native_drain)
    (block,) = [record.result for record in captured.records
                if record.kind == "block" and int(record.result["number"], 16) == native.block_number]
    assert native.timestamp == datetime.fromtimestamp(int(block["timestamp"], 16), UTC)


def test_movements_cite_records_of_the_capture(decoded: Decoded, captured: Capture) -> None:
    by_hash = {record.sha256: record for record in captured.records}
    for movement in decoded.movements:
        source = by_hash[movement.source_record]
        assert source.kind == ("transaction" if movement.kind == "native" else "receipt")
        assert all(record in by_hash for record in movement.supporting_records)


def test_decoded_figures_are_re_derived_from_stored_canonical_records(decoded: Decoded, captured: Capture) -> None:
    stored = [RawRecord.from_canonical_json(record.canonical_json()) for record in captured.records]
    assert decode_records(stored, native_symbol="ETH") == decoded


def recorded(kind: str, method: str, params: list, result: dict) -> RawRecord:
    """A record built from a response recorded elsewhere (as a node would have sent it)."""
    text = json.dumps(result)
    reply = RpcReply(method, tuple(params), text, None, "mainnet.example", datetime(2026, 11, 23, tzinfo=UTC),
                     result=json.loads(text))
    return RawRecord.from_reply(kind, 1, reply)


# The shape of a 2016 mainnet token transfer: the receipt carries a state root and no status.
PRE_BYZANTIUM_TX = "0x" + "1c" * 32
PRE_BYZANTIUM_BLOCK = "0x" + "b1" * 32
SENDER, RECIPIENT, TOKEN = "0x" + "5e" * 20, "0x" + "7a" * 20, "0x" + "70" * 20


def pre_byzantium_records() -> list[RawRecord]:
    """Transaction, receipt (root, no status) and block of a pre-Byzantium token transfer."""
    transfer_input = "0xa9059cbb" + encode(["address", "uint256"], [RECIPIENT, 5000]).hex()
    tx = {"hash": PRE_BYZANTIUM_TX, "blockHash": PRE_BYZANTIUM_BLOCK, "blockNumber": "0x2a3f1c", "from": SENDER,
          "to": TOKEN, "value": "0x0", "input": transfer_input, "transactionIndex": "0x3", "nonce": "0x9",
          "gas": "0x15f90", "gasPrice": "0x4a817c800"}
    receipt = {"transactionHash": PRE_BYZANTIUM_TX, "blockHash": PRE_BYZANTIUM_BLOCK, "blockNumber": "0x2a3f1c",
               "transactionIndex": "0x3", "from": SENDER, "to": TOKEN, "contractAddress": None,
               "cumulativeGasUsed": "0x1e2b4", "gasUsed": "0x9034", "logsBloom": "0x" + "00" * 256,
               "root": "0x" + "9f" * 32,
               "logs": [{"address": TOKEN, "logIndex": "0x2", "data": "0x" + f"{5000:064x}",
                         "topics": [TOPIC_TRANSFER, "0x" + "00" * 12 + SENDER[2:], "0x" + "00" * 12 + RECIPIENT[2:]],
                         "blockNumber": "0x2a3f1c", "transactionHash": PRE_BYZANTIUM_TX, "transactionIndex": "0x3",
                         "blockHash": PRE_BYZANTIUM_BLOCK, "removed": False}]}
    block = {"hash": PRE_BYZANTIUM_BLOCK, "number": "0x2a3f1c", "timestamp": "0x5836a4c1"}
    return [recorded("transaction", "eth_getTransactionByHash", [PRE_BYZANTIUM_TX], tx),
            recorded("receipt", "eth_getTransactionReceipt", [PRE_BYZANTIUM_TX], receipt),
            recorded("block", "eth_getBlockByHash", [PRE_BYZANTIUM_BLOCK, False], block)]


def test_pre_byzantium_receipt_decodes_with_unknown_status() -> None:
    decoded = decode_records(pre_byzantium_records())
    (transfer,) = decoded.movements
    assert (transfer.kind, transfer.tx_status, transfer.value, transfer.log_index) == ("erc20", None, 5000, 2)
    assert (transfer.from_address, transfer.to_address, transfer.block_number) == (SENDER, RECIPIENT, 0x2A3F1C)
    assert (transfer.symbol, transfer.decimals) == (None, None)
    assert decoded.calls[0].tx_status is None


def test_logs_that_are_not_token_events_are_skipped() -> None:
    records = pre_byzantium_records()
    receipt = records[1].result
    receipt["logs"][0]["topics"][0] = "0x" + "42" * 32
    assert decode_records(records).movements == ()


def selector(signature: str) -> str:
    """0x-hex selector of a function signature."""
    return "0x" + function_signature_to_4byte_selector(signature).hex()


SPENDER = "0x" + "5b" * 20


@pytest.mark.parametrize(("signature", "types", "values", "expected"), [
    ("approve(address,uint256)", ["address", "uint256"], [SPENDER, 7], ("approve", {"spender": SPENDER, "amount": 7})),
    ("increaseAllowance(address,uint256)", ["address", "uint256"], [SPENDER, 9],
     ("increaseAllowance", {"spender": SPENDER, "added_value": 9})),
    ("transfer(address,uint256)", ["address", "uint256"], [SPENDER, 1], ("transfer", {"to": SPENDER, "amount": 1})),
    ("transferFrom(address,address,uint256)", ["address", "address", "uint256"], [SENDER, SPENDER, 3],
     ("transferFrom", {"from": SENDER, "to": SPENDER, "amount": 3})),
    ("setApprovalForAll(address,bool)", ["address", "bool"], [SPENDER, True],
     ("setApprovalForAll", {"operator": SPENDER, "approved": True})),
    ("permit(address,address,uint256,uint256,bool,uint8,bytes32,bytes32)",
     ["address", "address", "uint256", "uint256", "bool", "uint8", "bytes32", "bytes32"],
     [SENDER, SPENDER, 0, 99, True, 27, b"\x01" * 32, b"\x02" * 32],
     ("permit", {"owner": SENDER, "spender": SPENDER, "nonce": 0, "expiry": 99, "allowed": True, "v": 27,
                 "r": "0x" + "01" * 32, "s": "0x" + "02" * 32})),
])
def test_calls_are_recognised_from_input_data(signature: str, types: list[str], values: list, expected: tuple) -> None:
    input_data = selector(signature) + encode(types, values).hex()
    name, found_selector, arguments = recognise_call(input_data)
    assert (name, dict(arguments)) == expected
    assert found_selector == selector(signature)


@pytest.mark.parametrize("input_data", [None, "0x", "0x095ea7", "0x12345678" + "00" * 64, "0x095ea7b3" + "00" * 10,
                                        "0x095ea7b3" + "zz" * 64])
def test_unknown_or_undecodable_input_is_not_recognised(input_data: str | None) -> None:
    assert recognise_call(input_data) is None


def test_token_text_in_every_shape() -> None:
    assert decode_text(encode(["string"], ["USD₮"])) == "USD₮"
    assert decode_text(b"MKR".ljust(32, b"\x00")) == "MKR"
    assert decode_text(encode(["bytes"], [b"\xffOK"])) == "\ufffdOK"
    assert decode_text(b"") is None and decode_text(None) is None
    assert decode_text(b"\x00" * 32) is None
    assert decode_uint((6).to_bytes(32, "big"), 255) == 6
    assert decode_uint((1000).to_bytes(32, "big"), 255) is None
