"""Address labels: the three import formats, bad rows reported with their place, and label lookup."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evidence.labels import (
    AddressLabel,
    LabelBook,
    exchange_name,
    is_terminal,
    load_labels,
    normalise_category,
    parse_csv,
    parse_etherscan_json,
    parse_tagpack,
    policy,
)

DATA = Path(__file__).resolve().parent / "data"
BINANCE_14 = "0x28c6c06298d514db089934071355e5743bf21d60"
WINTERMUTE = "0x0b95993a39a363d99280ac950f5e4536ab5c5566"
TORNADO = "0xd90e2f925da726b50c4ed8d0fb90ad053324f31b"
WORMHOLE = "0x3ee18b2214aff97000d974cf647e7c347e8fa585"


def by_address(labels: list[AddressLabel]) -> dict[str, AddressLabel]:
    return {label.address: label for label in labels}


def test_tagpack_header_fields_apply_to_every_tag_unless_the_tag_overrides_them() -> None:
    labels, problems = load_labels(DATA / "tagpack.yaml")
    assert problems == []
    found = by_address(labels)
    assert found[BINANCE_14] == AddressLabel(1, BINANCE_14, "Binance 14", "exchange",
                                             "https://example.org/exchange-wallets", 0.5)
    assert (found[WINTERMUTE].category, found[WINTERMUTE].confidence) == ("exchange_deposit", 0.8)
    assert (found[TORNADO].category, found[TORNADO].source) == ("mixer", "https://example.org/mixers")
    assert (found[WORMHOLE].chain_id, found[WORMHOLE].category) == (56, "bridge")


def test_tagpack_bad_tags_are_reported_with_their_number_and_line() -> None:
    text = (
        "title: Mixed\nsource: https://example.org\ncurrency: ETH\nconfidence: web_crawl\ntags:\n"
        f"  - address: '{BINANCE_14}'\n    label: Fine\n"
        "  - address: 1Archive1n2C579dMsAu3iC6tWzuQJz8dN\n    label: Bitcoin wallet\n    currency: BTC\n"
        "  - address: '0x1234'\n    label: Short\n"
        f"  - address: '{TORNADO}'\n"
        f"  - address: '{WORMHOLE}'\n    label: Sure\n    confidence: certain\n"
    )
    labels, problems = parse_tagpack(text)
    assert [(label.address, label.confidence) for label in labels] == [(BINANCE_14, 0.2)]
    assert [problem.where for problem in problems] == ["tag 2 (line 8)", "tag 3 (line 11)", "tag 4 (line 13)",
                                                       "tag 5 (line 14)"]
    assert "'BTC' is not an EVM chain" in problems[0].message
    assert "not an address" in problems[1].message
    assert problems[2].message == "the label is missing."
    assert "confidence 'certain'" in str(problems[3])


@pytest.mark.parametrize("text, where", [
    ("title: x\ntags: [\n", "line 3"),
    ("just a string", "file"),
    ("title: no tags here\n", "file"),
])
def test_a_file_that_is_not_a_tagpack_is_one_problem(text: str, where: str) -> None:
    labels, problems = parse_tagpack(text)
    assert labels == [] and len(problems) == 1 and problems[0].where == where


def test_etherscan_combined_labels_pick_the_category_that_matters_for_tracing() -> None:
    labels, problems = load_labels(DATA / "etherscan_combined.json")
    assert problems == []
    found = by_address(labels)
    assert {label.chain_id for label in labels} == {None}
    assert (found[BINANCE_14].name, found[BINANCE_14].category) == ("Binance 14", "exchange")
    assert found[TORNADO].category == "mixer"
    blocked = found["0x8589427373d6d84e98730d7795d8f6f8731fda16"]
    assert (blocked.name, blocked.category) == ("blocked", "blacklisted")
    assert found["0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"].category == "token_contract"
    assert found["0x1111111254eeb25477b68fb85ed929f73a960582"].category == "dex"
    assert {label.source for label in labels} == {"etherscan-labels"}


def test_a_per_label_etherscan_file_takes_its_category_from_the_file_name() -> None:
    labels, problems = load_labels(DATA / "binance.json")
    assert problems == []
    assert {(label.name, label.category, label.source) for label in labels} == {
        ("Binance", "exchange", "etherscan-labels (binance)"), ("Binance 14", "exchange", "etherscan-labels (binance)")}


def test_etherscan_files_under_an_explorer_directory_get_its_chain(tmp_path: Path) -> None:
    path = tmp_path / "data" / "bscscan" / "combined" / "combinedAllLabels.json"
    path.parent.mkdir(parents=True)
    path.write_text((DATA / "etherscan_combined.json").read_text())
    labels, _ = load_labels(path)
    assert {label.chain_id for label in labels} == {56}
    assert load_labels(path, chain_id=137).labels[0].chain_id == 137


def test_etherscan_bad_entries_are_reported_by_number_and_address() -> None:
    text = ('{"0xzz": {"name": "Broken", "labels": []}, '
            f'"{BINANCE_14}": {{"name": "Fine", "labels": ["exchange"]}}, '
            f'"{TORNADO}": 42, "{WORMHOLE}": {{"name": "Odd", "labels": "bridge"}}}}')
    labels, problems = parse_etherscan_json(text, chain_id=1)
    assert [(label.address, label.category) for label in labels] == [(BINANCE_14, "exchange"), (WORMHOLE, "bridge")]
    assert [str(problem).split(":")[0] for problem in problems] == ["entry 1 (0xzz)", f"entry 3 ({TORNADO})"]
    assert "not an address" in problems[0].message


def test_the_list_shape_of_etherscan_labels_is_read_too() -> None:
    text = f'[{{"address": "{BINANCE_14}", "nameTag": "Binance 14", "label": "binance"}}, {{"name": "no address"}}]'
    labels, problems = parse_etherscan_json(text)
    assert [(label.name, label.category) for label in labels] == [("Binance 14", "exchange")]
    assert [problem.where for problem in problems] == ["entry 2"]
    assert parse_etherscan_json("{not json").problems[0].where == "line 1"


def test_csv_labels_with_and_without_a_chain() -> None:
    labels, problems = load_labels(DATA / "labels.csv")
    assert problems == []
    found = by_address(labels)
    assert found[BINANCE_14] == AddressLabel(1, BINANCE_14, "Binance 14", "exchange_hot_wallet", "etherscan.io", 0.9)
    assert (found[WINTERMUTE].chain_id, found[WINTERMUTE].name) == (None, "Wintermute: Binance Deposit")
    # Empty source and confidence cells fall back to the file's name and the default confidence.
    assert (found[WORMHOLE].category, found[WORMHOLE].source, found[WORMHOLE].confidence) == ("bridge", "labels.csv",
                                                                                              0.5)


def test_csv_bad_rows_are_reported_with_their_line_and_the_rest_is_kept() -> None:
    text = (
        "address,name,category,source,confidence\n"
        f"{BINANCE_14},Binance 14,exchange,manual,1\n"
        "0xnothex,Bad address,exchange,manual,1\n"
        f"{TORNADO},Tornado,mixer,manual,1.5\n"
        f"{WORMHOLE},,bridge,manual,0.3\n"
        '"0x' + "ab" * 20 + ',multi\nline",Multi,exchange,manual,0.4\n'
        f"{WINTERMUTE},Extra,exchange,manual,0.4,surprise\n"
    )
    labels, problems = parse_csv(text)
    assert [label.address for label in labels] == [BINANCE_14]
    assert [str(problem) for problem in problems] == [
        "line 3: '0xnothex' is not an address (0x followed by 40 hexadecimal digits).",
        "line 4: confidence '1.5' is neither a number from 0 to 1 nor a GraphSense confidence id "
        "(ownership, forensic, web_crawl, ...).",
        "line 5: the name is missing.",
        "line 7: '0xabababababababababababababababababababab,multi\nline' is not an address (0x followed by 40 "
        "hexadecimal digits).",
        "line 8: more cells than the 5 columns of the header.",
    ]


def test_a_csv_without_the_expected_header_is_one_problem() -> None:
    labels, problems = parse_csv("addr,label\n0x00,x\n")
    assert labels == []
    assert [str(problem) for problem in problems] == [
        "line 1: the header lacks address, name, category, source, confidence "
        "(expected chain_id,address,name,category,source,confidence, chain_id optional)."]


def test_unreadable_and_unknown_files_are_problems_not_exceptions(tmp_path: Path) -> None:
    assert load_labels(tmp_path / "missing.csv").problems[0].message.startswith("cannot be read")
    (tmp_path / "labels.txt").write_text("x")
    assert "use a .yaml/.yml TagPack" in load_labels(tmp_path / "labels.txt").problems[0].message
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00")
    assert load_labels(tmp_path / "binary.csv").problems[0].message == "cannot be read (not UTF-8 text)."


@given(st.text(max_size=300))
def test_no_input_makes_a_parser_raise(text: str) -> None:
    for parse in (parse_csv, parse_tagpack, parse_etherscan_json):
        labels, problems = parse(text)
        assert isinstance(labels, list) and isinstance(problems, list)


def test_control_characters_never_reach_a_name() -> None:
    labels, _ = parse_csv(f"address,name,category,source,confidence\n{BINANCE_14},\"Bin\x1bance\x00 14\",x,y,\n")
    assert labels[0].name == "Bin ance 14"


def test_a_chain_label_wins_over_an_any_chain_label_then_confidence_decides() -> None:
    book = LabelBook([
        AddressLabel(None, BINANCE_14, "Generic", "exchange", "a", 0.9),
        AddressLabel(1, BINANCE_14, "On Ethereum", "exchange_hot_wallet", "b", 0.3),
        AddressLabel(56, BINANCE_14, "On BNB Chain", "exchange_hot_wallet", "c", 1.0),
        AddressLabel(None, TORNADO, "Low", "mixer", "d", 0.2),
        AddressLabel(None, TORNADO, "High", "mixer", "e", 0.7),
    ])
    assert book.lookup(BINANCE_14.upper().replace("0X", "0x"), 1).name == "On Ethereum"
    assert book.lookup(BINANCE_14, 10).name == "Generic"
    assert book.resolver(56)(BINANCE_14).name == "On BNB Chain"
    assert book.lookup(TORNADO).name == "High"
    assert book.lookup(WORMHOLE) is None
    assert len(book) == 5


@pytest.mark.parametrize("raw, category", [
    ("Exchange", "exchange"), ("hot-wallet", "exchange_hot_wallet"), ("binance", "exchange"),
    ("mixing_service", "mixer"), ("Phish / Hack", "scam"), ("defi_bridge", "bridge"), ("  ", "unknown"),
    ("Something New", "something_new"),
])
def test_categories_are_normalised(raw: str, category: str) -> None:
    assert normalise_category(raw) == category


def test_terminal_and_freezable_categories() -> None:
    assert is_terminal("exchange_hot_wallet") and policy("exchange_hot_wallet").freezable
    assert not is_terminal("exchange_deposit") and policy("exchange_deposit").freezable
    assert is_terminal("bridge") and is_terminal("mixer") and not policy("mixer").freezable
    assert not is_terminal("attacker") and not is_terminal("something_new") and not is_terminal(None)


@pytest.mark.parametrize("name, exchange", [
    ("Binance 14", "Binance"), ("Harbour Exchange: Hot Wallet 1", "Harbour Exchange"), ("Kraken", "Kraken"),
    ("OKX Hot Wallet #2", "OKX"), ("Coinbase: Deposit", "Coinbase"),
])
def test_exchange_names_come_from_wallet_labels(name: str, exchange: str) -> None:
    assert exchange_name(name) == exchange
