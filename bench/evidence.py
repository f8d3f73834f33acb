"""Benchmark: capturing 200 reported theft transactions, batched capture vs naive web3 capture.

Run: .venv/bin/python bench/evidence.py

Starts its own anvil, stages 200 theft transactions (approvals, transferFrom drains through a
drainer contract over three tokens, native transfers), then captures their transactions,
receipts, blocks and token metadata with evidence.capture and, for comparison, naively with
web3.py (one request each for transaction, receipt and block), straight to anvil and through a
loopback proxy adding 50 ms to every HTTP request. Prints the figures, updates this benchmark's
section of bench/RESULTS.md, and exits 1 when a target is missed.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Run as a script, this file's directory comes first on sys.path, where this very file would
# shadow the evidence package: put the project root there instead.
ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)

from web3 import Web3  # noqa: E402
from web3.providers.rpc import HTTPProvider  # noqa: E402
from web3.types import RPCEndpoint, RPCResponse  # noqa: E402

from bench.results import write_section  # noqa: E402
from evidence.capture import capture_transactions  # noqa: E402
from evidence.devnet.anvil import start_anvil  # noqa: E402
from evidence.rpc import RetryPolicy, RpcClient  # noqa: E402
from evidence.tokens import TokenMetadataCache  # noqa: E402
from tests.evidence.faultproxy import FaultProxy  # noqa: E402
from tests.evidence.scenario import ETHER, UNLIMITED, USD, actor, deploy, fund, in_one_block, send  # noqa: E402

VICTIMS = 20
TXS_PER_BLOCK = 10
PROXY_LATENCY = 0.050
REPEATS = 3
MAX_ROUND_TRIPS = 6
MIN_SPEEDUP_PROXY = 20.0
MIN_SPEEDUP_DIRECT = 4.0
# Explicit gas: with automine off, estimation would run before the approvals it depends on are mined.
GAS = 200_000


class CountingProvider(HTTPProvider):
    """An HTTP provider that counts the requests web3 makes through it."""

    requests_made = 0

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        """Count, then make the request as usual."""
        self.requests_made += 1
        return super().make_request(method, params)


def stage_thefts(w3: Web3) -> list[str]:
    """Stage 200 theft transactions: per victim 3 approvals, 3 drains and 4 native transfers."""
    attacker = actor("bench attacker")
    victims = [actor(f"bench victim {number}") for number in range(VICTIMS)]
    fund(w3, attacker, *victims)
    tokens = [deploy(w3, "SixDecimalToken", "Bench Dollar", "BUSD", sender=attacker),
              deploy(w3, "Bytes32SymbolToken", sender=attacker),
              deploy(w3, "UnindexedTransferToken", sender=attacker)]
    drainer = deploy(w3, "Drainer", sender=attacker)
    for token in tokens:
        for victim in victims:
            send(w3, token.functions.mint(victim.address, 1_000 * USD), attacker)
    senders: list[Callable[[], str]] = []
    for victim in victims:
        for token in tokens:
            senders.append(lambda token=token, victim=victim: send(
                w3, token.functions.approve(drainer.address, UNLIMITED), victim, wait=False, gas=GAS))
            senders.append(lambda token=token, victim=victim: send(
                w3, drainer.functions.drain(token.address, victim.address, attacker.address, 900 * USD), attacker,
                wait=False, gas=GAS))
        for _ in range(4):
            senders.append(lambda victim=victim: send(w3, None, victim, wait=False, to=attacker.address,
                                                      value=ETHER // 10, gas=21_000))
    hashes = []
    for start in range(0, len(senders), TXS_PER_BLOCK):
        hashes += in_one_block(w3, *senders[start : start + TXS_PER_BLOCK])
    failed = [tx_hash for tx_hash in hashes if w3.eth.get_transaction_receipt(tx_hash)["status"] != 1]
    if failed:
        raise SystemExit(f"staging failed: {len(failed)} transaction(s) reverted")
    return hashes


def ours(url: str, hashes: list[str]) -> tuple[float, int]:
    """Batched capture with a cold metadata cache: (seconds, HTTP round trips)."""
    client = RpcClient([url], retry=RetryPolicy(timeout=30))
    started = time.perf_counter()
    capture = capture_transactions(client, hashes, cache=TokenMetadataCache())
    elapsed = time.perf_counter() - started
    assert len(capture.found) == len(hashes)
    return elapsed, client.http_requests


def naive(url: str, hashes: list[str]) -> tuple[float, int]:
    """One web3 request each for transaction, receipt and block: (seconds, HTTP round trips)."""
    provider = CountingProvider(url, request_kwargs={"timeout": 30})
    w3 = Web3(provider)
    started = time.perf_counter()
    for tx_hash in hashes:
        w3.eth.get_transaction(tx_hash)
        receipt = w3.eth.get_transaction_receipt(tx_hash)
        w3.eth.get_block(receipt["blockNumber"])
    return time.perf_counter() - started, provider.requests_made


def measure(function: Callable[[str, list[str]], tuple[float, int]], url: str, hashes: list[str],
            repeats: int) -> tuple[float, int]:
    """Median time over repeats, and the round trips of one run."""
    runs = [function(url, hashes) for _ in range(repeats)]
    return statistics.median(seconds for seconds, _ in runs), runs[0][1]


def write_results(rows: list[tuple[str, float, int, float, int]], verdicts: list[str]) -> None:
    """Replace this benchmark's section in bench/RESULTS.md (creating the file if needed)."""
    lines = [
        "## Evidence capture: 200 theft transactions (bench/evidence.py)",
        "",
        f"Rerun: `.venv/bin/python bench/evidence.py` (last run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC). Capture of",
        "transactions, receipts, blocks and token metadata vs naive web3.py (transaction, receipt and block",
        "requested one by one); times are medians of "
        f"{REPEATS} runs, except the naive run through the proxy (one run).",
        "",
        "| Path | Batched capture | Round trips | Naive web3 | Round trips | Speed-up |",
        "|---|---|---|---|---|---|",
        *[f"| {path} | {ours_s:.3f} s | {ours_trips} | {naive_s:.3f} s | {naive_trips} | {naive_s / ours_s:.1f}x |"
          for path, ours_s, ours_trips, naive_s, naive_trips in rows],
        "",
        *[f"- {verdict}" for verdict in verdicts],
    ]
    write_section("evidence.py", lines)


def main() -> int:
    """Stage, measure, report; 0 when every target is met."""
    with start_anvil() as node:
        w3 = Web3(Web3.HTTPProvider(node.rpc_url, request_kwargs={"timeout": 30}))
        started = time.perf_counter()
        hashes = stage_thefts(w3)
        print(f"staged {len(hashes)} theft transactions in {time.perf_counter() - started:.1f} s")
        rows = []
        ours_direct = measure(ours, node.rpc_url, hashes, REPEATS)
        naive_direct = measure(naive, node.rpc_url, hashes, REPEATS)
        rows.append(("straight to anvil", *ours_direct, *naive_direct))
        with FaultProxy(node.rpc_url, latency=PROXY_LATENCY) as proxy:
            ours_proxied = measure(ours, proxy.url, hashes, REPEATS)
            naive_proxied = measure(naive, proxy.url, hashes, 1)
        rows.append((f"through a {PROXY_LATENCY * 1000:.0f} ms proxy", *ours_proxied, *naive_proxied))
    checks = [
        (ours_direct[1] <= MAX_ROUND_TRIPS and ours_proxied[1] <= MAX_ROUND_TRIPS,
         f"round trips for 200 transactions, metadata included: {ours_direct[1]} (target at most {MAX_ROUND_TRIPS})"),
        (naive_proxied[0] / ours_proxied[0] >= MIN_SPEEDUP_PROXY,
         f"through the proxy: {naive_proxied[0] / ours_proxied[0]:.1f}x faster than naive "
         f"(target at least {MIN_SPEEDUP_PROXY:.0f}x)"),
        (naive_direct[0] / ours_direct[0] >= MIN_SPEEDUP_DIRECT,
         f"straight to anvil: {naive_direct[0] / ours_direct[0]:.1f}x faster than naive "
         f"(target at least {MIN_SPEEDUP_DIRECT:.0f}x)"),
    ]
    verdicts = [f"{'met' if passed else 'MISSED'}: {text}" for passed, text in checks]
    for path, ours_s, ours_trips, naive_s, naive_trips in rows:
        print(f"{path:>26}: batched {ours_s:.3f} s in {ours_trips} round trips; "
              f"naive {naive_s:.3f} s in {naive_trips} round trips")
    print("\n".join(verdicts))
    write_results(rows, verdicts)
    return 0 if all(passed for passed, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
