"""The chain registry the application works with: CASEWORK_CHAINS (JSON or a TOML/YAML file path)
over the shipped defaults, with the devnet pointed at CASEWORK_DEVNET_RPC_URL."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from casework.config import ConfigError
from evidence.chains import (
    DEVNET_CHAIN_ID,
    ChainConfig,
    ChainRegistry,
    chains_from_file,
    chains_from_json,
    default_chains,
)
from evidence.errors import ChainConfigError

_EXTENSION_KEY = "casework.chains"


def load_registry(raw: str | None, devnet_rpc_url: str | None) -> ChainRegistry:
    """Build the registry from a CASEWORK_CHAINS value (JSON text or a file path) and the devnet URL."""
    if not raw:
        registry = default_chains()
    elif raw.lstrip().startswith(("[", "{")):
        registry = chains_from_json(raw)
    else:
        path = Path(raw)
        if not path.exists():
            raise ChainConfigError(f"CASEWORK_CHAINS names a file that does not exist: {path}")
        registry = chains_from_file(path)
    if devnet_rpc_url and DEVNET_CHAIN_ID in registry:
        registry = registry.with_rpc_urls(DEVNET_CHAIN_ID, (devnet_rpc_url,))
    return registry


def init_app(app: Flask) -> None:
    """Build the registry at start-up, so a bad CASEWORK_CHAINS stops the app with one clear line."""
    try:
        app.extensions[_EXTENSION_KEY] = load_registry(app.config.get("CHAINS"), app.config.get("DEVNET_RPC_URL"))
    except ChainConfigError as exc:
        raise ConfigError(f"CASEWORK_CHAINS: {exc}") from None


def registry() -> ChainRegistry:
    """The current app's chain registry."""
    return current_app.extensions[_EXTENSION_KEY]


def chain(chain_id: int) -> ChainConfig:
    """One configured chain; raises ChainConfigError for an unknown id."""
    return registry().get(chain_id)


def chain_name(chain_id: int) -> str:
    """The chain's display name, or its id when it is not configured."""
    return registry().get(chain_id).name if chain_id in registry() else str(chain_id)
