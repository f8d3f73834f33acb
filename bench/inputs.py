"""Benchmark: how long the secret guard and the validators take on 100 KB pastes, and devnet staging.

Run: .venv/bin/python bench/inputs.py

These were wall-clock assertions in the test suite, where a loaded machine made them flaky; the
tests keep checking that every input is answered, and this script checks how fast. For each piece
(chosen to reach the guard's and the validators' slow paths when repeated), a 100,000-character
paste of it goes through the secret guard and through every text validator; then the devnet's
staged thefts are written to a fresh anvil. Prints the figures, updates this benchmark's section
of bench/RESULTS.md, and exits 1 when a target is missed.
"""

from __future__ import annotations

import contextlib
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)

from web3 import Web3  # noqa: E402

from bench.results import write_section  # noqa: E402
from evidence.devnet.anvil import start_anvil  # noqa: E402
from evidence.devnet.staging import stage_thefts  # noqa: E402
from forms.secrets import find_secrets  # noqa: E402
from forms.validators import (  # noqa: E402
    InvalidInput,
    check_text_length,
    normalize_email,
    normalize_evm_address,
    normalize_phone,
    normalize_tx_hash,
    parse_amount,
    parse_time_zone,
    split_tx_hashes,
)

PASTE_CHARS = 100_000
PIECES = ["9", "1,", ".", "0x", "a", "e", "+86 1", "@", "的 ", "abandon ", "deadbeef" * 8, "xprv", "私钥 ", "\u200b"]
GUARD_TARGET_S = 1.0
VALIDATORS_TARGET_S = 1.0
STAGING_TARGET_S = 5.0


def _answer(function, *args, **kwargs) -> None:
    with contextlib.suppress(InvalidInput):
        function(*args, **kwargs)


def _validators(text: str) -> None:
    for function in (normalize_evm_address, normalize_tx_hash, split_tx_hashes, parse_time_zone, normalize_email):
        _answer(function, text)
    _answer(parse_amount, text, 18)
    _answer(normalize_phone, text, "CN")
    _answer(check_text_length, text, max_chars=10_000)


def _timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main() -> int:
    guard, validators = {}, {}
    for piece in PIECES:
        text = (piece * (PASTE_CHARS // len(piece) + 1))[:PASTE_CHARS]
        guard[piece] = _timed(lambda text=text: find_secrets(text))
        validators[piece] = _timed(lambda text=text: _validators(text))
    with start_anvil() as node:
        staging = _timed(lambda: stage_thefts(Web3(Web3.HTTPProvider(node.rpc_url))))
    worst_guard = max(guard, key=guard.get)
    worst_validators = max(validators, key=validators.get)
    checks = [
        (guard[worst_guard] <= GUARD_TARGET_S,
         f"secret guard, slowest 100 KB paste ({worst_guard!r}): {guard[worst_guard]:.3f} s "
         f"(target at most {GUARD_TARGET_S:g} s)"),
        (validators[worst_validators] <= VALIDATORS_TARGET_S,
         f"every validator, slowest 100 KB paste ({worst_validators!r}): {validators[worst_validators]:.3f} s "
         f"(target at most {VALIDATORS_TARGET_S:g} s)"),
        (staging <= STAGING_TARGET_S,
         f"staging the devnet thefts on a fresh anvil: {staging:.2f} s (target at most {STAGING_TARGET_S:g} s)"),
    ]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## Input handling and devnet staging (bench/inputs.py)",
        "",
        f"Rerun: `.venv/bin/python bench/inputs.py` (last run {now}). A 100,000-character paste of each "
        "piece through the secret guard and through every text validator; the devnet's thefts staged on a "
        "fresh anvil.",
        "",
        "| Piece | Secret guard | Validators |",
        "|---|---|---|",
        *[f"| `{piece[:16]!r}` x {PASTE_CHARS // len(piece):,} | {guard[piece]:.3f} s | {validators[piece]:.3f} s |"
          for piece in PIECES],
        "",
        *[f"- {'met' if ok else 'MISSED'}: {text}" for ok, text in checks],
    ]
    write_section("inputs.py", lines)
    print("\n".join(lines))
    return 0 if all(ok for ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
