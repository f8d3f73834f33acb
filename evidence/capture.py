"""Capture reported transactions (and log ranges) as raw records, in as few round trips as possible.

For N transaction hashes, capture makes two batched exchanges: (1) the chain id, the head block,
and every transaction and receipt; (2) every distinct block (by hash) and, for each token touched
that is not cached yet, its symbol, name, decimals and ERC-721 support (eth_call at the head
block). Batches larger than the client's max_batch_size are split. Capture is all-or-nothing:
any failure raises and no partial Capture is returned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from evidence.calls import KNOWN_CALLS
from evidence.chains import ChainConfig
from evidence.decode import TOKEN_EVENT_TOPICS, hex_int
from evidence.errors import CaptureError, RpcError
from evidence.models import Capture, RawRecord
from evidence.rpc import RpcClient, RpcReply
from evidence.tokens import TokenMetadataCache, plan_metadata

_TX_HASH = re.compile(r"^0x[0-9a-f]{64}$")
_ADDRESS = re.compile(r"^0x[0-9a-f]{40}$")
# eth_getLogs refusals that a smaller block range cures (wording differs per provider).
_RANGE_TOO_LARGE = re.compile(r"range|more than|too many|limit|exceed|too large", re.IGNORECASE)


def normalise_tx_hash(value: str) -> str:
    """Return the hash as lowercase 0x-hex, or raise CaptureError when it is not a transaction hash."""
    candidate = value.strip().lower()
    if not candidate.startswith("0x"):
        candidate = "0x" + candidate
    if not _TX_HASH.match(candidate):
        raise CaptureError(f"'{value[:80]}' is not a transaction hash (0x followed by 64 hexadecimal digits).")
    return candidate


def normalise_address(value: str) -> str:
    """Return an EVM address as lowercase 0x-hex, or raise CaptureError when it is not one."""
    candidate = value.strip().lower()
    if not candidate.startswith("0x"):
        candidate = "0x" + candidate
    if not _ADDRESS.match(candidate):
        raise CaptureError(f"'{value[:80]}' is not an address (0x followed by 40 hexadecimal digits).")
    return candidate


def checked_reply(reply: RpcReply, what: str) -> RpcReply:
    """Refuse a per-call JSON-RPC error where only a result (or null) is acceptable."""
    if reply.error_json is not None:
        message = reply.error.get("message", reply.error_json) if isinstance(reply.error, dict) else reply.error_json
        raise RpcError(f"The node refused {reply.method} for {what} ({reply.source}): {str(message)[:200]}")
    return reply


def _tokens_touched(transaction: dict[str, Any], receipt: dict[str, Any]) -> list[str]:
    touched = [log["address"].lower() for log in receipt.get("logs") or []
               if log.get("topics") and log["topics"][0].lower() in TOKEN_EVENT_TOPICS]
    # A recognised call (approve, permit...) names its token even when it failed and logged nothing.
    if transaction.get("to") and (transaction.get("input") or "")[:10].lower() in KNOWN_CALLS:
        touched.append(transaction["to"].lower())
    return touched


def capture_transactions(
    client: RpcClient,
    tx_hashes: Iterable[str],
    *,
    chain_id: int | None = None,
    cache: TokenMetadataCache | None = None,
) -> Capture:
    """Capture transactions, receipts, blocks and token metadata for the given hashes.

    With chain_id, the endpoint must serve that chain (CaptureError otherwise). Hashes the node does
    not know are listed in Capture.not_found, with the null answers kept as records.
    """
    hashes = list(dict.fromkeys(normalise_tx_hash(value) for value in tx_hashes))
    if not hashes:
        raise CaptureError("No transaction hash was given.")
    first = client.batch(
        [("eth_chainId", []), ("eth_blockNumber", [])]
        + [("eth_getTransactionByHash", [tx_hash]) for tx_hash in hashes]
        + [("eth_getTransactionReceipt", [tx_hash]) for tx_hash in hashes]
    )
    chain_reply, head_reply = checked_reply(first[0], "the chain id"), checked_reply(first[1], "the head block")
    served_chain = hex_int(chain_reply.result)
    if chain_id is not None and served_chain != chain_id:
        raise CaptureError(f"The RPC endpoint serves chain {served_chain}, not chain {chain_id}: check its RPC URLs.")
    head_block = hex_int(head_reply.result)
    tx_replies = first[2 : 2 + len(hashes)]
    receipt_replies = first[2 + len(hashes) :]
    records = [RawRecord.from_reply("chain_id", served_chain, chain_reply),
               RawRecord.from_reply("head", served_chain, head_reply)]
    found, not_found, pending = [], [], []
    block_hashes: dict[str, None] = {}
    tokens: dict[str, None] = {}
    for tx_hash, tx_reply, receipt_reply in zip(hashes, tx_replies, receipt_replies, strict=True):
        transaction = checked_reply(tx_reply, tx_hash).result
        receipt = checked_reply(receipt_reply, tx_hash).result
        records.append(RawRecord.from_reply("transaction", served_chain, tx_reply))
        records.append(RawRecord.from_reply("receipt", served_chain, receipt_reply))
        if transaction is None:
            not_found.append(tx_hash)
            continue
        if receipt is None or not transaction.get("blockHash"):
            pending.append(tx_hash)
            continue
        if receipt["blockHash"].lower() != transaction["blockHash"].lower():
            raise CaptureError(f"The chain reorganised while {tx_hash} was captured: capture it again.")
        found.append(tx_hash)
        block_hashes[receipt["blockHash"].lower()] = None
        tokens.update(dict.fromkeys(_tokens_touched(transaction, receipt)))
    records.extend(_blocks_and_metadata(client, served_chain, head_block, list(block_hashes), list(tokens), cache))
    return Capture(chain_id=served_chain, head_block=head_block, records=tuple(records), found=tuple(found),
                   not_found=tuple(not_found), pending=tuple(pending))


def _blocks_and_metadata(client: RpcClient, chain_id: int, head_block: int, block_hashes: list[str],
                         tokens: list[str], cache: TokenMetadataCache | None) -> list[RawRecord]:
    plan = plan_metadata(chain_id, tokens, head_block, cache)
    calls = [("eth_getBlockByHash", [block_hash, False]) for block_hash in block_hashes] + list(plan.calls)
    replies = client.batch(calls) if calls else []
    records = []
    for block_hash, reply in zip(block_hashes, replies, strict=False):
        if checked_reply(reply, f"block {block_hash}").result is None:
            raise CaptureError(f"Block {block_hash} is no longer on the chain (reorganisation): capture again.")
        records.append(RawRecord.from_reply("block", chain_id, reply))
    return records + plan.records(replies[len(block_hashes) :])


def capture_logs(
    client: RpcClient,
    chain: ChainConfig,
    *,
    from_block: int,
    to_block: int,
    address: str | list[str] | None = None,
    topics: list[Any] | None = None,
) -> tuple[RawRecord, ...]:
    """Capture eth_getLogs over a block range as raw records, split to the chain's log-range cap.

    All ranges go out in one batch; a range the provider refuses as too large is halved and asked
    again, down to a single block. Records come back in block order.
    """
    if from_block > to_block:
        raise CaptureError(f"The block range {from_block}..{to_block} is empty.")
    span = chain.max_log_range or (to_block - from_block + 1)
    ranges = [(start, min(start + span - 1, to_block)) for start in range(from_block, to_block + 1, span)]
    records: list[RawRecord] = []
    while ranges:
        replies = client.batch([_logs_query(start, end, address, topics) for start, end in ranges])
        narrower = []
        for (start, end), reply in zip(ranges, replies, strict=True):
            message = str(reply.error.get("message", "")) if isinstance(reply.error, dict) else ""
            if reply.error_json is not None and end > start and _RANGE_TOO_LARGE.search(message):
                middle = (start + end) // 2
                narrower += [(start, middle), (middle + 1, end)]
                continue
            answer = checked_reply(reply, f"blocks {start}..{end}")
            records.append(RawRecord.from_reply("logs", chain.chain_id, answer))
        ranges = narrower
    return tuple(sorted(records, key=lambda record: int(record.params[0]["fromBlock"], 16)))


def _logs_query(start: int, end: int, address: str | list[str] | None, topics: list[Any] | None
                ) -> tuple[str, list[Any]]:
    log_filter: dict[str, Any] = {"fromBlock": hex(start), "toBlock": hex(end)}
    if address is not None:
        log_filter["address"] = address
    if topics is not None:
        log_filter["topics"] = topics
    return "eth_getLogs", [log_filter]
