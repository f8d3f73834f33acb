"""Specification of the EVM address and transaction hash validators."""

import pytest
from eth_account.hdaccount.mnemonic import Mnemonic

from forms.validators import (
    InvalidInput,
    merge_tx_hashes,
    normalize_evm_address,
    normalize_tx_hash,
    split_tx_hashes,
)

# EIP-55 test vector.
CHECKSUMMED = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
TX_HASH = "0x" + "ab12" * 16


def full_width(text: str) -> str:
    """The text as a Chinese input method in full-width mode types it."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def refusal(function, value: str) -> str:
    with pytest.raises(InvalidInput) as error:
        function(value)
    assert str(error.value) == error.value.message
    return error.value.message


def test_lower_case_address_is_accepted_and_returned_checksummed() -> None:
    assert normalize_evm_address(CHECKSUMMED.lower()) == CHECKSUMMED


def test_upper_case_hex_address_is_accepted() -> None:
    assert normalize_evm_address("0x" + CHECKSUMMED[2:].upper()) == CHECKSUMMED


def test_correctly_checksummed_mixed_case_address_is_accepted() -> None:
    assert normalize_evm_address(CHECKSUMMED) == CHECKSUMMED


def test_surrounding_whitespace_and_invisible_characters_are_tolerated() -> None:
    assert normalize_evm_address(f" \u200b{CHECKSUMMED}\n\t") == CHECKSUMMED


def test_address_typed_in_full_width_characters_is_accepted() -> None:
    assert normalize_evm_address(full_width(CHECKSUMMED)) == CHECKSUMMED


def test_mixed_case_address_with_wrong_checksum_is_refused() -> None:
    mistyped = CHECKSUMMED.replace("aAeb", "aaeb")
    message = refusal(normalize_evm_address, mistyped)
    assert "checksum" in message
    assert "mistyped" in message


def test_address_without_0x_is_refused_saying_it_starts_with_0x() -> None:
    assert "starts with 0x" in refusal(normalize_evm_address, CHECKSUMMED[2:])


def test_address_of_wrong_length_is_refused_saying_how_long_it_is() -> None:
    message = refusal(normalize_evm_address, CHECKSUMMED[:-1])
    assert "40 characters" in message
    assert "39" in message


def test_address_with_characters_that_are_not_hex_is_refused() -> None:
    assert "0-9 and a-f" in refusal(normalize_evm_address, CHECKSUMMED[:-1] + "g")


def test_transaction_hash_typed_into_the_address_field_is_recognised() -> None:
    assert "transaction hash" in refusal(normalize_evm_address, TX_HASH)


def test_empty_address_is_refused() -> None:
    assert refusal(normalize_evm_address, "  ") == "Enter an address."


def test_refusal_messages_never_repeat_what_was_typed() -> None:
    # A BIP-39 test vector rather than a random phrase: a random one may hold a word such as "address" or
    # "enter", which the messages use anyway.
    phrase = "legal winner thank year wave sausage worth useful legal winner thank yellow"
    assert Mnemonic().is_mnemonic_valid(phrase)
    for function in (normalize_evm_address, normalize_tx_hash):
        message = refusal(function, phrase)
        assert not any(word in message.split() for word in phrase.split() if len(word) > 3), message


def test_transaction_hash_is_returned_lower_case_with_0x() -> None:
    assert normalize_tx_hash(" 0X" + TX_HASH[2:].upper() + " ") == TX_HASH


def test_transaction_hash_without_0x_is_refused_because_a_private_key_looks_the_same() -> None:
    message = refusal(normalize_tx_hash, TX_HASH[2:])
    assert "starts with 0x" in message
    assert "private key" in message


def test_transaction_hash_of_wrong_length_is_refused_saying_how_long_it_is() -> None:
    message = refusal(normalize_tx_hash, TX_HASH + "0")
    assert "64 characters" in message
    assert "65" in message


def test_address_typed_into_the_transaction_hash_field_is_recognised() -> None:
    assert "address" in refusal(normalize_tx_hash, CHECKSUMMED)


def test_transaction_hash_with_characters_that_are_not_hex_is_refused() -> None:
    assert "0-9 and a-f" in refusal(normalize_tx_hash, TX_HASH[:-1] + "z")


def test_merged_transaction_hashes_lose_repeats_and_keep_first_seen_order() -> None:
    first, second = "0x" + "1" * 64, "0x" + "2" * 64
    assert merge_tx_hashes([second, first, second.upper().replace("0X", "0x"), " " + first]) == [second, first]


def test_merging_says_which_transaction_hash_is_wrong() -> None:
    with pytest.raises(InvalidInput) as error:
        merge_tx_hashes([TX_HASH, "0x1234"])
    assert error.value.message.startswith("Transaction hash 2: ")


def test_pasted_hashes_are_split_on_lines_spaces_and_commas() -> None:
    first, second, third = ("0x" + c * 64 for c in "abc")
    assert split_tx_hashes(f"{first}\r\n{second}, {third}，{first}\n\n") == [first, second, third]
