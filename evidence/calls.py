"""Recognise the token calls thefts are made of from a transaction's input data.

The selector picks the function; the arguments are ABI-decoded. Input that does not decode
cleanly for its selector is not recognised (None), never guessed at.
"""

from __future__ import annotations

from typing import Any

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils import function_signature_to_4byte_selector

# (name, signature, argument names). DAI's permit has its own shape (nonce, expiry, allowed); its
# "holder" is called owner here, like EIP-2612's, because it plays the same part.
_FUNCTIONS = (
    ("approve", "approve(address,uint256)", ("spender", "amount")),
    ("increaseAllowance", "increaseAllowance(address,uint256)", ("spender", "added_value")),
    ("transfer", "transfer(address,uint256)", ("to", "amount")),
    ("transferFrom", "transferFrom(address,address,uint256)", ("from", "to", "amount")),
    ("permit", "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)",
     ("owner", "spender", "value", "deadline", "v", "r", "s")),
    ("permit", "permit(address,address,uint256,uint256,bool,uint8,bytes32,bytes32)",
     ("owner", "spender", "nonce", "expiry", "allowed", "v", "r", "s")),
    ("setApprovalForAll", "setApprovalForAll(address,bool)", ("operator", "approved")),
    ("safeTransferFrom", "safeTransferFrom(address,address,uint256)", ("from", "to", "token_id")),
    ("safeTransferFrom", "safeTransferFrom(address,address,uint256,bytes)", ("from", "to", "token_id", "data")),
)


def _argument_types(signature: str) -> list[str]:
    return signature[signature.index("(") + 1 : -1].split(",")


KNOWN_CALLS = {
    "0x" + function_signature_to_4byte_selector(signature).hex(): (name, _argument_types(signature), argument_names)
    for name, signature, argument_names in _FUNCTIONS
}


def _plain(value: Any, abi_type: str) -> str | int | bool:
    if abi_type == "address":
        return value.lower()
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


def recognise_call(input_data: str | None) -> tuple[str, str, tuple[tuple[str, str | int | bool], ...]] | None:
    """Return (function name, selector, named arguments) for a known token call, or None."""
    if not input_data or len(input_data) < 10:
        return None
    selector = input_data[:10].lower()
    known = KNOWN_CALLS.get(selector)
    if known is None:
        return None
    name, types, argument_names = known
    try:
        values = abi_decode(types, bytes.fromhex(input_data[10:]))
    except (DecodingError, ValueError):
        return None
    arguments = zip(argument_names, values, types, strict=True)
    return name, selector, tuple((argument, _plain(value, abi_type)) for argument, value, abi_type in arguments)
