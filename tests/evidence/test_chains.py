"""The chain registry: shipped defaults, operator configuration in JSON, TOML and YAML, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_utils import is_address
from web3.middleware import ExtraDataToPOAMiddleware

from evidence.chains import ChainRegistry, chains_from_file, chains_from_json, default_chains, web3_for
from evidence.errors import ChainConfigError
from evidence.stablecoins import STABLECOINS, stablecoin_at, stablecoins_on

NEW_CHAIN = {"chain_id": 43114, "name": "Avalanche C-Chain", "rpc_urls": ["https://api.avax.network/ext/bc/C/rpc"],
             "explorer_tx_url": "https://snowtrace.io/tx/{hash}",
             "explorer_address_url": "https://snowtrace.io/address/{address}", "native_symbol": "AVAX",
             "confirmations": 12}


def test_shipped_defaults() -> None:
    registry = default_chains()
    assert [chain.chain_id for chain in registry] == [1, 10, 56, 137, 8453, 31337, 42161]
    assert registry.get(31337).rpc_urls == ("http://127.0.0.1:8545",)
    assert registry.get(56).poa and not registry.get(1).poa
    assert registry.get(1).explorer_tx("0xabc") == "https://etherscan.io/tx/0xabc"
    assert registry.get(8453).explorer_address("0xdef") == "https://basescan.org/address/0xdef"
    assert registry.get(31337).explorer_tx("0xabc") is None


def test_json_overrides_only_what_it_names() -> None:
    registry = chains_from_json(json.dumps({"chains": [{"chain_id": 1, "rpc_urls": ["https://a.example/v3/KEY",
                                                                                    "https://b.example"]}]}))
    ethereum = registry.get(1)
    assert ethereum.rpc_urls == ("https://a.example/v3/KEY", "https://b.example")
    assert (ethereum.name, ethereum.confirmations) == ("Ethereum", 64)


def test_a_new_chain_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "chains.toml"
    path.write_text('[[chains]]\n' + "\n".join(f"{key} = {json.dumps(value)}" for key, value in NEW_CHAIN.items()))
    avalanche = chains_from_file(path).get(43114)
    assert (avalanche.native_symbol, avalanche.native_decimals, avalanche.poa, avalanche.max_log_range) == (
        "AVAX", 18, False, None)


def test_yaml_without_defaults(tmp_path: Path) -> None:
    path = tmp_path / "chains.yaml"
    path.write_text("chains:\n  - chain_id: 31337\n    rpc_url: http://127.0.0.1:9999\n")
    with pytest.raises(ChainConfigError, match="missing"):
        chains_from_file(path, include_defaults=False)
    registry = chains_from_file(path)
    assert registry.get(31337).rpc_urls == ("http://127.0.0.1:9999",)


def test_a_chain_that_is_not_configured_is_named() -> None:
    with pytest.raises(ChainConfigError, match=r"Chain 5 is not configured \(configured: 1, 10, "):
        default_chains().get(5)


@pytest.mark.parametrize(("config", "message"), [
    ("{", "not valid JSON"),
    ('{"chain": []}', "Unknown top-level key"),
    ('"chains"', "must be a list of chains"),
    ("[1]", "each chain must be a table"),
    ('[{"name": "x"}]', "chain_id is required"),
    ('[{"chain_id": true}]', "chain_id must be an integer"),
    ('[{"chain_id": "1"}]', "chain_id must be an integer"),
    ('[{"chain_id": 1}, {"chain_id": 1}]', "configured twice"),
    ('[{"chain_id": 1, "rpc": "x"}]', "unknown setting"),
    ('[{"chain_id": 1, "rpc_urls": []}]', "non-empty list"),
    ('[{"chain_id": 1, "rpc_urls": ["wss://ws.example/KEY"]}]', r"rpc_urls\[0\] is not an http\(s\) URL"),
    ('[{"chain_id": 1, "explorer_tx_url": "https://etherscan.io/tx/"}]', "containing {hash}"),
    ('[{"chain_id": 1, "confirmations": 0}]', "confirmations must be an integer of at least 1"),
    ('[{"chain_id": 1, "poa": "yes"}]', "poa must be true or false"),
    ('[{"chain_id": 1, "max_log_range": -5}]', "max_log_range must be an integer"),
    ('[{"chain_id": 99, "name": "New"}]', "missing"),
])
def test_bad_configuration_is_explained(config: str, message: str) -> None:
    with pytest.raises(ChainConfigError, match=message) as raised:
        chains_from_json(config)
    assert "KEY" not in str(raised.value)


def test_file_errors_are_explained(tmp_path: Path) -> None:
    with pytest.raises(ChainConfigError, match="Cannot read chain configuration"):
        chains_from_file(tmp_path / "absent.toml")
    bad_toml = tmp_path / "chains.toml"
    bad_toml.write_text("[[chains]\n")
    with pytest.raises(ChainConfigError, match="not valid TOML"):
        chains_from_file(bad_toml)
    bad_yaml = tmp_path / "chains.yml"
    bad_yaml.write_text("chains: [\n")
    with pytest.raises(ChainConfigError, match="not valid YAML"):
        chains_from_file(bad_yaml)
    ini = tmp_path / "chains.ini"
    ini.write_text("")
    with pytest.raises(ChainConfigError, match="use a .toml, .yaml"):
        chains_from_file(ini)


def test_an_empty_registry_is_refused() -> None:
    with pytest.raises(ChainConfigError, match="No chains are configured"):
        ChainRegistry.from_entries([], include_defaults=False)


def test_finality_counts_the_block_itself() -> None:
    devnet, ethereum = default_chains().get(31337), default_chains().get(1)
    assert devnet.is_final(10, 10)
    assert not ethereum.is_final(100, 162) and ethereum.is_final(100, 163)


def test_web3_gets_the_poa_middleware_only_where_needed() -> None:
    registry = default_chains()
    assert ExtraDataToPOAMiddleware in list(web3_for(registry.get(56)).middleware_onion)
    assert ExtraDataToPOAMiddleware not in list(web3_for(registry.get(1)).middleware_onion)


def test_every_public_chain_lists_usdt_and_usdc() -> None:
    for chain in default_chains():
        symbols = {coin.symbol for coin in stablecoins_on(chain.chain_id)}
        assert chain.chain_id == 31337 or {"USDT", "USDC"} <= symbols
    assert all(is_address(coin.address) and coin.address == coin.address.lower() for coin in STABLECOINS)
    assert len({(coin.chain_id, coin.address) for coin in STABLECOINS}) == len(STABLECOINS)


def test_stablecoins_are_found_by_address_in_any_case() -> None:
    usdt = stablecoin_at(1, "0xdAC17F958D2ee523a2206206994597C13D831ec7")
    assert (usdt.symbol, usdt.decimals, usdt.issuer_can_freeze) == ("USDT", 6, True)
    assert stablecoin_at(56, "0x55d398326f99059fF775485246999027B3197955").issuer_can_freeze is False
    assert stablecoin_at(1, "0x" + "00" * 20) is None
