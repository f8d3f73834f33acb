"""`python -m evidence decode` run as a real subprocess against anvil."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from evidence.devnet.anvil import AnvilNode, free_port
from tests.evidence.scenario import USD, Scenario

PROJECT_ROOT = Path(__file__).resolve().parents[2]
UNKNOWN_HASH = "0x" + "cd" * 32


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the evidence CLI from the project root and capture its output."""
    return subprocess.run([sys.executable, "-m", "evidence", *args], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=60, check=False)


def test_decode_prints_one_json_line_per_movement(anvil: AnvilNode, scenario: Scenario) -> None:
    result = run_cli("decode", "--rpc-url", anvil.rpc_url, "--chain-id", "31337", scenario.drain_via_drainer,
                     scenario.native_drain, scenario.nft_drain)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    drain, native, nft = lines
    assert set(drain) == {"chain_id", "tx_hash", "log_index", "kind", "token", "symbol", "decimals", "from", "to",
                          "value", "block_number", "timestamp", "tx_status"}
    assert drain | {"block_number": 0, "timestamp": ""} == {
        "chain_id": 31337, "tx_hash": scenario.drain_via_drainer, "log_index": 0, "kind": "erc20",
        "token": scenario.usd6, "symbol": "TUSD", "decimals": 6, "from": scenario.victim, "to": scenario.attacker,
        "value": str(700 * USD), "block_number": 0, "timestamp": "", "tx_status": 1,
    }
    assert drain["timestamp"].endswith("Z") and isinstance(drain["block_number"], int)
    assert (native["kind"], native["log_index"], native["token"], native["symbol"], native["value"]) == (
        "native", None, None, "ETH", "3000000000000000000")
    assert (nft["kind"], nft["value"], nft["decimals"]) == ("erc721", "1", None)
    assert result.stderr == ""


def test_a_hash_not_on_chain_is_reported_with_exit_1(anvil: AnvilNode, scenario: Scenario) -> None:
    result = run_cli("decode", "--rpc-url", anvil.rpc_url, scenario.native_drain, UNKNOWN_HASH)
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == 1
    assert result.stderr == f"error: transaction {UNKNOWN_HASH} was not found on chain 31337.\n"


def test_a_malformed_hash_exits_2_without_a_traceback(anvil: AnvilNode) -> None:
    result = run_cli("decode", "--rpc-url", anvil.rpc_url, "0x1234")
    assert result.returncode == 2
    assert result.stderr == "error: '0x1234' is not a transaction hash (0x followed by 64 hexadecimal digits).\n"


def test_an_unreachable_rpc_exits_1_without_a_traceback() -> None:
    url = f"http://127.0.0.1:{free_port()}/v3/secret-api-key"
    result = run_cli("decode", "--rpc-url", url, "--attempts", "1", UNKNOWN_HASH)
    assert result.returncode == 1
    assert result.stderr.startswith("error: JSON-RPC eth_chainId") and "connection refused" in result.stderr
    assert "Traceback" not in result.stderr and "secret-api-key" not in result.stderr
    assert result.stdout == ""


def test_the_wrong_chain_is_refused(anvil: AnvilNode, scenario: Scenario) -> None:
    result = run_cli("decode", "--rpc-url", anvil.rpc_url, "--chain-id", "1", scenario.native_drain)
    assert (result.returncode, result.stdout) == (1, "")
    assert "serves chain 31337, not chain 1" in result.stderr


def test_chains_file_supplies_the_rpc_url(anvil: AnvilNode, scenario: Scenario, tmp_path: Path) -> None:
    config = tmp_path / "chains.toml"
    config.write_text(f'[[chains]]\nchain_id = 31337\nrpc_urls = ["{anvil.rpc_url}"]\n')
    result = run_cli("decode", "--chains", str(config), "--chain-id", "31337", scenario.native_drain)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["kind"] == "native"


def test_usage_errors_exit_2() -> None:
    assert run_cli("decode").returncode == 2
    result = run_cli("decode", UNKNOWN_HASH)
    assert (result.returncode, result.stderr) == (2, "error: give --rpc-url, or --chain-id of a configured chain.\n")
