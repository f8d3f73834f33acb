"""Known stablecoin contracts per chain, and whether their issuer can freeze balances.

A freeze is the main lever of recovery: when stolen funds sit in a token whose contract lets its
issuer block an address, a freeze request to the issuer can stop them. ``issuer_can_freeze`` is
True only where the contract itself has an issuer-controlled blocklist; bridged copies minted by a
bridge (Binance-Peg on BNB Smart Chain, the OP Stack and Polygon PoS bridges) have none, and the
request goes to the bridge operator or to the chain of origin instead. Addresses are lowercase.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stablecoin:
    """A stablecoin contract on one chain."""

    chain_id: int
    symbol: str
    address: str
    decimals: int
    issuer: str
    issuer_can_freeze: bool
    note: str


_CIRCLE = "Circle"
_TETHER = "Tether"
_NATIVE_USDC = "Native USDC (FiatToken): Circle can blacklist addresses."

STABLECOINS: tuple[Stablecoin, ...] = (
    Stablecoin(1, "USDT", "0xdac17f958d2ee523a2206206994597c13d831ec7", 6, _TETHER, True,
               "Tether's own contract: Tether can add addresses to its blacklist and destroy their funds."),
    Stablecoin(1, "USDC", "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48", 6, _CIRCLE, True, _NATIVE_USDC),
    Stablecoin(56, "USDT", "0x55d398326f99059ff775485246999027b3197955", 18, "Binance", False,
               "Binance-Peg BSC-USD: minted by Binance's bridge; the contract has no blacklist. Ask Binance."),
    Stablecoin(56, "USDC", "0x8ac76a51cc950d9822d68b83fe1ad97b32cd580d", 18, "Binance", False,
               "Binance-Peg USD Coin: minted by Binance's bridge; the contract has no blacklist. Ask Binance."),
    Stablecoin(137, "USDT", "0xc2132d05d31c914a87c6611c10748aeb04b58e8f", 6, _TETHER, False,
               "Bridged through the Polygon PoS bridge; check the current implementation before promising a freeze."),
    Stablecoin(137, "USDC", "0x3c499c542cef5e3811e1192ce70d8cc03d5c3359", 6, _CIRCLE, True, _NATIVE_USDC),
    Stablecoin(137, "USDC.e", "0x2791bca1f2de4661ed88a30c99a7a9449aa84174", 6, "Polygon PoS bridge", False,
               "Bridged USDC.e: no blacklist in the contract; the bridged-from USDC on Ethereum can be frozen."),
    Stablecoin(42161, "USDT", "0xfd086bc7cd5c481dcc9c85ebe478a1c0b69fcbb9", 6, _TETHER, True,
               "USDT0 (Tether's omnichain USDT) since 2025: Tether can block addresses."),
    Stablecoin(42161, "USDC", "0xaf88d065e77c8cc2239327c5edb3a432268e5831", 6, _CIRCLE, True, _NATIVE_USDC),
    Stablecoin(10, "USDT", "0x94b008aa00579c1307b0ef2c499ad98a8ce58e58", 6, "Optimism bridge", False,
               "Bridged USDT (OptimismMintableERC20): no blacklist in the contract."),
    Stablecoin(10, "USDC", "0x0b2c639c533813f4aa9d7837caf62653d097ff85", 6, _CIRCLE, True, _NATIVE_USDC),
    Stablecoin(8453, "USDT", "0xfde4c96c8593536e31f229ea8f37b2ada2699bb2", 6, "Base bridge", False,
               "Bridged USDT (OptimismMintableERC20): no blacklist in the contract."),
    Stablecoin(8453, "USDC", "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913", 6, _CIRCLE, True, _NATIVE_USDC),
)

_BY_ADDRESS = {(coin.chain_id, coin.address): coin for coin in STABLECOINS}


def stablecoins_on(chain_id: int) -> tuple[Stablecoin, ...]:
    """The known stablecoins of one chain (empty for chains with none listed)."""
    return tuple(coin for coin in STABLECOINS if coin.chain_id == chain_id)


def stablecoin_at(chain_id: int, address: str) -> Stablecoin | None:
    """The known stablecoin at this contract address on this chain, or None."""
    return _BY_ADDRESS.get((chain_id, address.lower()))
