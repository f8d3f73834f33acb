"""The chain registry: which chains the operator works with and how to reach them.

Operators configure chains as a JSON string (for instance an environment variable's value, which
the caller reads and passes in: evidence reads no environment itself), a TOML file or a YAML file,
each holding a list of chains under the key ``chains`` (a bare JSON/YAML list is accepted too)::

    [[chains]]
    chain_id = 1
    rpc_urls = ["https://mainnet.example-provider.io/v3/KEY", "https://ethereum-rpc.publicnode.com"]

An entry whose ``chain_id`` is one of the shipped defaults only needs the fields it changes; a new
chain needs them all. Keys: chain_id, name, rpc_urls (tried in order), explorer_tx_url and
explorer_address_url (patterns with ``{hash}`` and ``{address}``, or null), native_symbol,
native_decimals, confirmations (blocks after which a transaction is treated as final), poa (the
chain needs web3's proof-of-authority extraData middleware) and max_log_range (the provider's
eth_getLogs block-range cap, null when uncapped).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml

from evidence.errors import ChainConfigError

if TYPE_CHECKING:
    from web3 import Web3

DEVNET_CHAIN_ID = 31337


@dataclass(frozen=True)
class ChainConfig:
    """One chain as the operator configured it."""

    chain_id: int
    name: str
    rpc_urls: tuple[str, ...]
    explorer_tx_url: str | None
    explorer_address_url: str | None
    native_symbol: str
    native_decimals: int
    confirmations: int
    poa: bool
    max_log_range: int | None

    def explorer_tx(self, tx_hash: str) -> str | None:
        """The explorer page of a transaction, or None when the chain has no explorer."""
        return self.explorer_tx_url.format(hash=tx_hash) if self.explorer_tx_url else None

    def explorer_address(self, address: str) -> str | None:
        """The explorer page of an address, or None when the chain has no explorer."""
        return self.explorer_address_url.format(address=address) if self.explorer_address_url else None

    def is_final(self, block_number: int, head_block: int) -> bool:
        """True once block_number has at least `confirmations` blocks on top of it, itself included."""
        return head_block - block_number + 1 >= self.confirmations


def _explorer(base: str) -> dict[str, str]:
    return {"explorer_tx_url": f"{base}/tx/{{hash}}", "explorer_address_url": f"{base}/address/{{address}}"}


# Public endpoints without keys, so a fresh install works; operators replace them with their own
# providers. Confirmation depths follow common exchange practice for each chain.
_DEFAULTS: tuple[dict[str, Any], ...] = (
    {"chain_id": 1, "name": "Ethereum", "rpc_urls": ["https://ethereum-rpc.publicnode.com", "https://eth.llamarpc.com"],
     **_explorer("https://etherscan.io"), "native_symbol": "ETH", "confirmations": 64, "max_log_range": 5_000},
    {"chain_id": 56, "name": "BNB Smart Chain",
     "rpc_urls": ["https://bsc-dataseed.bnbchain.org", "https://bsc-rpc.publicnode.com"],
     **_explorer("https://bscscan.com"), "native_symbol": "BNB", "confirmations": 15, "poa": True,
     "max_log_range": 5_000},
    {"chain_id": 137, "name": "Polygon", "rpc_urls": ["https://polygon-rpc.com", "https://polygon-bor-rpc.publicnode.com"],
     **_explorer("https://polygonscan.com"), "native_symbol": "POL", "confirmations": 128, "poa": True,
     "max_log_range": 3_000},
    {"chain_id": 42161, "name": "Arbitrum One",
     "rpc_urls": ["https://arb1.arbitrum.io/rpc", "https://arbitrum-one-rpc.publicnode.com"],
     **_explorer("https://arbiscan.io"), "native_symbol": "ETH", "confirmations": 20, "max_log_range": 10_000},
    {"chain_id": 10, "name": "Optimism", "rpc_urls": ["https://mainnet.optimism.io", "https://optimism-rpc.publicnode.com"],
     **_explorer("https://optimistic.etherscan.io"), "native_symbol": "ETH", "confirmations": 20,
     "max_log_range": 10_000},
    {"chain_id": 8453, "name": "Base", "rpc_urls": ["https://mainnet.base.org", "https://base-rpc.publicnode.com"],
     **_explorer("https://basescan.org"), "native_symbol": "ETH", "confirmations": 20, "max_log_range": 10_000},
    {"chain_id": DEVNET_CHAIN_ID, "name": "Local devnet", "rpc_urls": ["http://127.0.0.1:8545"],
     "explorer_tx_url": None, "explorer_address_url": None, "native_symbol": "ETH", "confirmations": 1,
     "max_log_range": None},
)
_OPTIONAL = {"native_decimals": 18, "poa": False, "max_log_range": None, "explorer_tx_url": None,
             "explorer_address_url": None}
_FIELDS = {f.name for f in fields(ChainConfig)}


def _label(entry: Mapping[str, Any], position: int) -> str:
    chain_id = entry.get("chain_id")
    return f"chain {chain_id}" if isinstance(chain_id, int) else f"chain entry {position + 1}"


def _positive_int(value: Any, key: str, where: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ChainConfigError(f"{where}: {key} must be an integer of at least {minimum}.")
    return value


def _validated(entry: Mapping[str, Any], where: str) -> ChainConfig:
    missing = sorted(_FIELDS - set(entry))
    if missing:
        raise ChainConfigError(f"{where}: missing {', '.join(missing)} (required for a chain with no shipped default).")
    urls = entry["rpc_urls"]
    if isinstance(urls, str):
        urls = [urls]
    if not isinstance(urls, list | tuple) or not urls:
        raise ChainConfigError(f"{where}: rpc_urls must be a non-empty list of http(s) URLs.")
    for position, url in enumerate(urls):
        # The URL itself stays out of the message: provider URLs often carry an API key.
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise ChainConfigError(f"{where}: rpc_urls[{position}] is not an http(s) URL.")
    for key, placeholder in (("explorer_tx_url", "{hash}"), ("explorer_address_url", "{address}")):
        pattern = entry[key]
        if pattern is not None and (not isinstance(pattern, str) or placeholder not in pattern):
            raise ChainConfigError(f"{where}: {key} must be a URL pattern containing {placeholder}, or null.")
    for key in ("name", "native_symbol"):
        if not isinstance(entry[key], str) or not entry[key].strip():
            raise ChainConfigError(f"{where}: {key} must be a non-empty string.")
    if not isinstance(entry["poa"], bool):
        raise ChainConfigError(f"{where}: poa must be true or false.")
    max_log_range = entry["max_log_range"]
    if max_log_range is not None:
        max_log_range = _positive_int(max_log_range, "max_log_range", where, minimum=1)
    return ChainConfig(
        chain_id=_positive_int(entry["chain_id"], "chain_id", where, minimum=1),
        name=entry["name"].strip(),
        rpc_urls=tuple(urls),
        explorer_tx_url=entry["explorer_tx_url"],
        explorer_address_url=entry["explorer_address_url"],
        native_symbol=entry["native_symbol"].strip(),
        native_decimals=_positive_int(entry["native_decimals"], "native_decimals", where, minimum=0),
        confirmations=_positive_int(entry["confirmations"], "confirmations", where, minimum=1),
        poa=entry["poa"],
        max_log_range=max_log_range,
    )


class ChainRegistry:
    """The configured chains, by chain id."""

    def __init__(self, chains: Mapping[int, ChainConfig]) -> None:
        self._chains = dict(chains)

    def __iter__(self) -> Iterator[ChainConfig]:
        return iter(sorted(self._chains.values(), key=lambda chain: chain.chain_id))

    def __len__(self) -> int:
        return len(self._chains)

    def __contains__(self, chain_id: object) -> bool:
        return chain_id in self._chains

    def get(self, chain_id: int) -> ChainConfig:
        """The chain with this id, or ChainConfigError naming the configured ones."""
        try:
            return self._chains[chain_id]
        except KeyError:
            known = ", ".join(str(chain.chain_id) for chain in self)
            raise ChainConfigError(f"Chain {chain_id} is not configured (configured: {known}).") from None

    @classmethod
    def from_entries(cls, entries: Any, *, include_defaults: bool = True) -> ChainRegistry:
        """Build a registry from parsed configuration (a list of chain tables, or {"chains": [...]})."""
        if isinstance(entries, Mapping):
            unknown = set(entries) - {"chains"}
            if unknown:
                raise ChainConfigError(f"Unknown top-level key(s) in chain configuration: {', '.join(sorted(unknown))}")
            entries = entries.get("chains", [])
        if not isinstance(entries, list):
            raise ChainConfigError("Chain configuration must be a list of chains (or a table with a 'chains' list).")
        defaults = {entry["chain_id"]: {**_OPTIONAL, **entry} for entry in _DEFAULTS} if include_defaults else {}
        chains = {chain_id: _validated(entry, f"chain {chain_id}") for chain_id, entry in defaults.items()}
        seen: set[int] = set()
        for position, entry in enumerate(entries):
            where = _label(entry, position) if isinstance(entry, Mapping) else f"chain entry {position + 1}"
            if not isinstance(entry, Mapping):
                raise ChainConfigError(f"{where}: each chain must be a table of settings.")
            unknown = set(entry) - _FIELDS - {"rpc_url"}
            if unknown:
                raise ChainConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}.")
            if "chain_id" not in entry:
                raise ChainConfigError(f"{where}: chain_id is required.")
            settings = dict(entry)
            if "rpc_url" in settings:
                settings["rpc_urls"] = [settings.pop("rpc_url")]
            chain_id = _positive_int(settings["chain_id"], "chain_id", where, minimum=1)
            if chain_id in seen:
                raise ChainConfigError(f"{where}: configured twice.")
            seen.add(chain_id)
            chains[chain_id] = _validated({**defaults.get(chain_id, _OPTIONAL), **settings}, where)
        if not chains:
            raise ChainConfigError("No chains are configured.")
        return cls(chains)

    def with_rpc_urls(self, chain_id: int, rpc_urls: tuple[str, ...]) -> ChainRegistry:
        """A copy of the registry where one chain uses other RPC URLs."""
        chain = self.get(chain_id)
        return ChainRegistry({**self._chains, chain_id: replace(chain, rpc_urls=tuple(rpc_urls))})


def default_chains() -> ChainRegistry:
    """The shipped defaults: Ethereum, BNB Smart Chain, Polygon, Arbitrum One, Optimism, Base and the devnet."""
    return ChainRegistry.from_entries([])


def chains_from_json(text: str, *, include_defaults: bool = True) -> ChainRegistry:
    """Load chains from a JSON string (e.g. an environment variable's value) over the shipped defaults."""
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as error:
        raise ChainConfigError(f"Chain configuration is not valid JSON: {error.msg} at line {error.lineno}.") from None
    return ChainRegistry.from_entries(entries, include_defaults=include_defaults)


def chains_from_file(path: str | Path, *, include_defaults: bool = True) -> ChainRegistry:
    """Load chains from a .toml, .yaml/.yml or .json file over the shipped defaults."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ChainConfigError(f"Cannot read chain configuration {path}: {error.strerror or error}.") from None
    suffix = path.suffix.lower()
    if suffix == ".json":
        return chains_from_json(text, include_defaults=include_defaults)
    try:
        if suffix == ".toml":
            entries = tomllib.loads(text)
        elif suffix in (".yaml", ".yml"):
            entries = yaml.safe_load(text)
        else:
            raise ChainConfigError(f"{path}: use a .toml, .yaml, .yml or .json file for chain configuration.")
    except tomllib.TOMLDecodeError as error:
        raise ChainConfigError(f"{path} is not valid TOML: {error}.") from None
    except yaml.YAMLError as error:
        raise ChainConfigError(f"{path} is not valid YAML: {error}.") from None
    return ChainRegistry.from_entries(entries if entries is not None else [], include_defaults=include_defaults)


def web3_for(chain: ChainConfig, url_index: int = 0, timeout: float = 30.0) -> Web3:
    """A web3 client for one of the chain's RPC URLs, with the proof-of-authority middleware when needed."""
    # Imported here: web3 takes a while to import and most users of this module never need it.
    from web3 import Web3
    from web3.middleware import ExtraDataToPOAMiddleware

    w3 = Web3(Web3.HTTPProvider(chain.rpc_urls[url_index], request_kwargs={"timeout": timeout}))
    if chain.poa:
        w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    return w3
