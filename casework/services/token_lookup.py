"""What a token contract says about itself (symbol and decimals), read from the chain for the victim to confirm.

A victim who lost "another token" gives its contract address. How many base units their amount is depends on the
token's decimals, which only the contract knows: 25,000 of a 6-decimal token is 25,000 x 10^6 base units, not
x 10^18. So the wizard asks the chain (the configured chain's JSON-RPC endpoints, through the evidence package's
client and decoders) and shows the answer to the victim to confirm. When the chain cannot be reached, or the contract
does not say, the victim is told so and types the decimals: nothing is ever guessed.

The answers are kept in the draft with the row (`chain_*` fields of the loss form), written here and never taken from
what a browser sent. Answers that named a token are cached per application, since a contract's decimals do not
change.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app
from werkzeug.datastructures import MultiDict

from casework.services import chains
from evidence.errors import RpcError
from evidence.rpc import RetryPolicy, RpcClient, RpcReply
from evidence.tokens import SELECTOR_DECIMALS, SELECTOR_SYMBOL, decode_text, decode_uint
from forms.report import (
    CHAIN_FACT_FIELDS,
    MAX_LOSS_ROWS,
    MAX_TOKEN_DECIMALS,
    OTHER_TOKEN,
    SYMBOL_MAX_CHARS,
    ChainAnswer,
)
from forms.validators import InvalidInput, normalize_evm_address

# A victim is waiting for the page: one short attempt per endpoint, no backoff rounds.
LOOKUP_RETRY = RetryPolicy(attempts=1, backoff=0, timeout=5.0)
_CACHE_KEY = "casework.token_lookup"
_CACHE_MAX = 10_000  # tokens remembered per process; the cache starts again when full


@dataclass(frozen=True)
class TokenFacts:
    """The chain's answer about one contract: a token with its decimals (and symbol, if it gives one), or why not."""

    answer: ChainAnswer
    symbol: str | None = None
    decimals: int | None = None


def _bytes(reply: RpcReply) -> bytes | None:
    if not reply.ok or not isinstance(reply.result, str):
        return None
    try:
        return bytes.fromhex(reply.result.removeprefix("0x"))
    except ValueError:
        return None


def _facts(code: RpcReply, symbol_reply: RpcReply, decimals_reply: RpcReply) -> TokenFacts:
    if not _bytes(code):
        return TokenFacts(ChainAnswer.NO_CONTRACT)
    symbol = decode_text(_bytes(symbol_reply))
    if symbol is not None and len(symbol) > SYMBOL_MAX_CHARS:
        symbol = None  # not a symbol anyone could read back; the victim types it
    decimals = decode_uint(_bytes(decimals_reply), MAX_TOKEN_DECIMALS)
    if decimals is None:
        return TokenFacts(ChainAnswer.NO_DECIMALS, symbol)
    return TokenFacts(ChainAnswer.TOKEN, symbol, decimals)


def _ask_chain(chain_id: int, addresses: Sequence[str]) -> dict[str, TokenFacts]:
    """One JSON-RPC batch for every contract: its code, symbol() and decimals()."""
    calls: list[tuple[str, Sequence[Any]]] = []
    for address in addresses:
        calls += [
            ("eth_getCode", [address, "latest"]),
            ("eth_call", [{"to": address, "data": SELECTOR_SYMBOL}, "latest"]),
            ("eth_call", [{"to": address, "data": SELECTOR_DECIMALS}, "latest"]),
        ]
    try:
        replies = RpcClient(chains.chain(chain_id).rpc_urls, retry=LOOKUP_RETRY).batch(calls)
    except RpcError:
        return {address: TokenFacts(ChainAnswer.UNREACHABLE) for address in addresses}
    return {address: _facts(*replies[3 * position:3 * position + 3]) for position, address in enumerate(addresses)}


def lookup(chain_id: int, addresses: Sequence[str]) -> dict[str, TokenFacts]:
    """The chain's answer about each contract (checksummed addresses) on a configured chain, asked in one batch."""
    cache, lock = current_app.extensions.setdefault(_CACHE_KEY, ({}, threading.Lock()))
    with lock:
        found = {address: cache[(chain_id, address)] for address in addresses if (chain_id, address) in cache}
    missing = [address for address in dict.fromkeys(addresses) if address not in found]
    if missing:
        asked = _ask_chain(chain_id, missing)
        with lock:
            if len(cache) >= _CACHE_MAX:
                cache.clear()
            cache.update({(chain_id, address): facts for address, facts in asked.items()
                          if facts.answer is ChainAnswer.TOKEN})
        found.update(asked)
    return found


def _row_fields(formdata: Mapping[str, Any], index: int) -> tuple[str, str]:
    prefix = f"losses-{index}-"
    return str(formdata.get(prefix + "chain_id", "")), str(formdata.get(prefix + "token_address", ""))


def _known(saved: Mapping[str, Sequence[str]] | None) -> dict[tuple[str, str], dict[str, str]]:
    """The chain answers the draft already holds that named a token, by (chain id, address)."""
    known: dict[tuple[str, str], dict[str, str]] = {}
    for index in range(MAX_LOSS_ROWS):
        prefix = f"losses-{index}-"
        values = {name: (saved or {}).get(prefix + name, [""])[0] for name in ("chain_id", *CHAIN_FACT_FIELDS)}
        if values["chain_answer"] == ChainAnswer.TOKEN.value and values["chain_checked"]:
            known[(values["chain_id"], values["chain_checked"])] = values
    return known


def with_chain_facts(formdata: MultiDict, saved: Mapping[str, Sequence[str]] | None) -> MultiDict:
    """The loss step's posted data with the chain's answer about each "another token" row put in.

    Whatever `chain_*` values the browser sent are dropped. A token the draft (`saved`, the step's saved answers)
    already has an answer for is not asked about again; the others are asked in one batch per chain. End the
    database transaction before calling: this may wait on the chain's RPC endpoints.
    """
    data = MultiDict([(key, value) for key, value in formdata.items(multi=True)
                      if key.rsplit("-", 1)[-1] not in CHAIN_FACT_FIELDS])
    known = _known(saved)
    rows: dict[int, tuple[str, str]] = {}
    for index in range(MAX_LOSS_ROWS):
        if data.get(f"losses-{index}-asset") != OTHER_TOKEN:
            continue
        chain_id, typed = _row_fields(data, index)
        try:
            address = normalize_evm_address(typed)
        except InvalidInput:
            continue  # the form says what is wrong with the address
        if chain_id.isascii() and chain_id.isdigit() and len(chain_id) < 12 and int(chain_id) in chains.registry():
            rows[index] = (chain_id, address)
    to_ask: dict[str, list[str]] = {}
    for chain_id, address in rows.values():
        if (chain_id, address) not in known:
            to_ask.setdefault(chain_id, []).append(address)
    for chain_id, addresses in to_ask.items():
        for address, answer in lookup(int(chain_id), addresses).items():
            known[(chain_id, address)] = {
                "chain_checked": address, "chain_answer": answer.answer.value, "chain_symbol": answer.symbol or "",
                "chain_decimals": "" if answer.decimals is None else str(answer.decimals),
            }
    for index, key in rows.items():
        for name in CHAIN_FACT_FIELDS:
            data[f"losses-{index}-{name}"] = known[key][name]
    return data
