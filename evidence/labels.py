"""Address labels: who an address belongs to, read from the formats analysts already keep.

Formats (each parser returns ParsedLabels(labels, problems); a bad row or entry becomes a problem
naming its line or entry number, never an exception):

- GraphSense TagPack YAML: header fields (``title``, ``creator``, ``source``, ``category`` or
  ``concepts``, ``currency``/``network``, ``confidence``, ...) apply to every entry of ``tags:``
  unless the tag overrides them; each tag has its ``address`` and ``label`` (the name). Confidence
  is a GraphSense confidence id (``ownership``, ``web_crawl``, ...: its level / 100) or a number.
- etherscan-labels JSON (github.com/brianleect/etherscan-labels): the combined shape
  ``{address: {"name": ..., "labels": [...]}}`` (combinedAllLabels.json), the per-label shape
  ``{address: "Name Tag"}`` (accounts/<label>.json, whose label is the file name) and, defensively,
  a list of ``{"address", "name"|"nameTag", "labels"|"label"}`` objects.
- CSV with the header ``chain_id,address,name,category,source,confidence`` (chain_id optional,
  as a column or per cell: empty means any EVM chain).

Categories are normalised to CATEGORIES, whose policy says whether tracing stops there and whether
someone there can freeze funds. Categories from elsewhere are kept (normalised spelling) and are
neither terminal nor freezable.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from evidence.capture import normalise_address
from evidence.errors import CaptureError


@dataclass(frozen=True)
class AddressLabel:
    """A name for an address: on one chain, or on every EVM chain when chain_id is None."""

    chain_id: int | None
    address: str
    name: str
    category: str
    source: str
    confidence: float


@dataclass(frozen=True)
class LabelProblem:
    """A row or entry that could not be read, and why."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class ParsedLabels(NamedTuple):
    """What a parser read: the labels, and the problems with the rows it skipped."""

    labels: list[AddressLabel]
    problems: list[LabelProblem]


@dataclass(frozen=True)
class CategoryPolicy:
    """terminal: tracing stops at such an address. freezable: whoever runs it can freeze funds there."""

    terminal: bool
    freezable: bool


# Exchanges and their deposit addresses can freeze a customer's account; bridges, mixers, DEXs and
# DeFi pools mix everyone's funds (tracing through them needs their own decoding, by hand for now);
# an address on an issuer's blacklist is frozen already. A deposit address is not terminal: one more
# hop shows the sweep into the hot wallet, which is what attributes it to the exchange.
CATEGORIES: dict[str, CategoryPolicy] = {
    "exchange_hot_wallet": CategoryPolicy(terminal=True, freezable=True),
    "exchange": CategoryPolicy(terminal=True, freezable=True),
    "exchange_deposit": CategoryPolicy(terminal=False, freezable=True),
    "bridge": CategoryPolicy(terminal=True, freezable=False),
    "mixer": CategoryPolicy(terminal=True, freezable=False),
    "blacklisted": CategoryPolicy(terminal=True, freezable=False),
    "dex": CategoryPolicy(terminal=True, freezable=False),
    "defi": CategoryPolicy(terminal=True, freezable=False),
    "token_contract": CategoryPolicy(terminal=True, freezable=False),
    "issuer": CategoryPolicy(terminal=False, freezable=False),
    "attacker": CategoryPolicy(terminal=False, freezable=False),
    "scam": CategoryPolicy(terminal=False, freezable=False),
    "sanctioned": CategoryPolicy(terminal=False, freezable=False),
    "victim": CategoryPolicy(terminal=False, freezable=False),
    "unknown": CategoryPolicy(terminal=False, freezable=False),
}
EXCHANGE_CATEGORIES = frozenset({"exchange", "exchange_hot_wallet", "exchange_deposit"})
_NEITHER = CategoryPolicy(terminal=False, freezable=False)

# Spellings used by GraphSense's taxonomy and etherscan's label cloud, mapped to CATEGORIES.
_ALIASES = {
    "hot_wallet": "exchange_hot_wallet", "cex": "exchange", "centralized_exchange": "exchange",
    "deposit": "exchange_deposit", "deposit_address": "exchange_deposit",
    "defi_bridge": "bridge", "cross_chain": "bridge", "mixing_service": "mixer", "coinjoin": "mixer",
    "tornado_cash": "mixer", "blocked": "blacklisted", "blacklist": "blacklisted", "frozen": "blacklisted",
    "defi_dex": "dex", "defi_lending": "defi", "token": "token_contract", "stablecoin_issuer": "issuer",
    "perpetrator": "attacker", "hacker": "attacker", "heist": "attacker", "exploit": "attacker",
    "exploiter": "attacker", "phish_hack": "scam", "phishing": "scam", "ransomware": "scam",
    "ofac_sanctioned": "sanctioned", "sanctions": "sanctioned",
}
# Etherscan labels exchanges by name (the "binance" label); these are the large ones.
KNOWN_EXCHANGES = frozenset({
    "binance", "coinbase", "kraken", "okx", "okex", "huobi", "htx", "bitfinex", "kucoin", "bybit", "gate_io",
    "crypto_com", "bitstamp", "gemini", "bittrex", "poloniex", "mexc", "bitget", "upbit", "bithumb", "ftx",
})
# GraphSense's confidence taxonomy (src/tagpack/db/confidence.csv in graphsense-tagpack-tool).
TAGPACK_CONFIDENCE = {
    "override": 1.0, "ownership": 1.0, "manual_transaction": 0.9, "service_api": 0.7, "authority_data": 0.6,
    "trusted_provider": 0.5, "service_data": 0.5, "forensic": 0.5, "untrusted_transaction": 0.4,
    "web_crawl": 0.2, "heuristic": 0.1, "unknown": 0.05,
}
# Networks and currencies naming an EVM chain, as TagPacks write them.
NETWORK_CHAIN_IDS = {
    "eth": 1, "ethereum": 1, "bsc": 56, "bnb": 56, "polygon": 137, "matic": 137, "pol": 137,
    "arb": 42161, "arbitrum": 42161, "op": 10, "optimism": 10, "base": 8453,
}
# Etherscan-family explorers, as directories of the etherscan-labels repository.
EXPLORER_CHAIN_IDS = {"etherscan": 1, "bscscan": 56, "polygonscan": 137, "arbiscan": 42161, "optimism": 10,
                      "basescan": 8453}
# A crawl of explorers' own name tags: GraphSense would call it a trusted provider's data.
ETHERSCAN_CONFIDENCE = 0.5
DEFAULT_CONFIDENCE = 0.5
CSV_COLUMNS = ("chain_id", "address", "name", "category", "source", "confidence")


def normalise_category(raw: str) -> str:
    """A category in this package's vocabulary: known aliases mapped, anything else in snake_case."""
    category = re.sub(r"[^a-z0-9]+", "_", raw.strip().lower()).strip("_") or "unknown"
    if category in KNOWN_EXCHANGES:
        return "exchange"
    return _ALIASES.get(category, category)


def policy(category: str | None) -> CategoryPolicy:
    """The tracing and freezing policy of a category (unknown categories are neither)."""
    return CATEGORIES.get(category or "", _NEITHER)


def is_terminal(category: str | None) -> bool:
    """True when tracing stops at an address of this category."""
    return policy(category).terminal


def exchange_name(label_name: str) -> str:
    """The exchange a wallet label names: "Binance 14" and "Binance: Hot Wallet 2" are both "Binance"."""
    name = label_name.split(":", 1)[0].strip()
    name = re.sub(r"\s*(hot wallet|cold wallet|deposit|wallet)?\s*#?\d*$", "", name, flags=re.IGNORECASE).strip()
    return name or label_name.strip()


class LabelBook:
    """Labels by address: a chain's own label wins over an any-chain one, then higher confidence."""

    def __init__(self, labels: Iterable[AddressLabel]) -> None:
        self._by_address: dict[str, list[AddressLabel]] = {}
        for label in labels:
            self._by_address.setdefault(label.address, []).append(label)

    def __len__(self) -> int:
        return sum(len(labels) for labels in self._by_address.values())

    def lookup(self, address: str, chain_id: int | None = None) -> AddressLabel | None:
        """The best label of an address on a chain (chain_id None: only any-chain labels), or None."""
        fitting = [label for label in self._by_address.get(address.lower(), ())
                   if label.chain_id is None or label.chain_id == chain_id]
        if not fitting:
            return None
        return min(fitting, key=lambda label: (label.chain_id is None, -label.confidence, label.name, label.source))

    def resolver(self, chain_id: int) -> Callable[[str], AddressLabel | None]:
        """A lookup bound to one chain, as tracing takes it."""
        return lambda address: self.lookup(address, chain_id)


class _EntryProblem(Exception):
    """One entry's problem, raised inside a parser and collected as a LabelProblem."""


def _address(value: Any) -> str:
    if not isinstance(value, str):
        raise _EntryProblem("the address is missing or not text.")
    try:
        return normalise_address(value)
    except CaptureError as error:
        raise _EntryProblem(str(error)) from None


def _text(value: Any, what: str) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise _EntryProblem(f"the {what} is missing.")
    # Control characters never belong in a name, and would confuse every place that shows it.
    return " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", value).split())


def _confidence(value: Any, default: float) -> float:
    if value is None or value == "":
        return default
    if isinstance(value, str) and value.strip().lower() in TAGPACK_CONFIDENCE:
        return TAGPACK_CONFIDENCE[value.strip().lower()]
    try:
        number = float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None or not 0 <= number <= 1:
        raise _EntryProblem(f"confidence {str(value)[:40]!r} is neither a number from 0 to 1 nor a GraphSense "
                        "confidence id (ownership, forensic, web_crawl, ...).")
    return number


def _chain_id(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        chain_id = int(value) if not isinstance(value, bool | float) else 0
    except (TypeError, ValueError):
        chain_id = 0
    if chain_id < 1:
        raise _EntryProblem(f"chain_id {str(value)[:40]!r} is not a positive whole number.")
    return chain_id


def parse_csv(text: str, *, default_source: str = "CSV import") -> ParsedLabels:
    """Read the CSV format (header chain_id,address,name,category,source,confidence; chain_id optional)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = [column.strip().lower() for column in reader.fieldnames or []]
    except csv.Error as error:
        return ParsedLabels([], [LabelProblem("line 1", f"not a CSV header ({error}).")])
    missing = [column for column in CSV_COLUMNS[1:] if column not in header]
    if missing:
        return ParsedLabels([], [LabelProblem("line 1", f"the header lacks {', '.join(missing)} (expected "
                                              f"{','.join(CSV_COLUMNS)}, chain_id optional).")])
    reader.fieldnames = header
    labels, problems = [], []
    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as error:
            # The reader cannot go on after a malformed line: what came before is kept.
            problems.append(LabelProblem(f"line {reader.line_num}", f"not valid CSV ({error}); the rest was not read."))
            break
        where = f"line {reader.line_num}"
        if None in row:
            problems.append(LabelProblem(where, f"more cells than the {len(header)} columns of the header."))
            continue
        try:
            labels.append(AddressLabel(
                chain_id=_chain_id((row.get("chain_id") or "").strip()), address=_address(row["address"]),
                name=_text(row["name"], "name"), category=normalise_category(_text(row["category"], "category")),
                source=(row["source"] or "").strip() or default_source,
                confidence=_confidence((row["confidence"] or "").strip(), DEFAULT_CONFIDENCE),
            ))
        except _EntryProblem as problem:
            problems.append(LabelProblem(where, str(problem)))
    return ParsedLabels(labels, problems)


def _tag_lines(text: str) -> list[int]:
    """The line where each entry of a TagPack's `tags:` list starts (empty when it cannot tell)."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "tags" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _tagpack_category(tag: Mapping[str, Any], header: Mapping[str, Any]) -> str:
    for fields in (tag, header):
        if fields.get("category"):
            return normalise_category(str(fields["category"]))
        concepts = fields.get("concepts")
        if isinstance(concepts, list) and concepts:
            return normalise_category(str(concepts[0]))
    return "unknown"


def _tagpack_chain(fields: Mapping[str, Any]) -> int | None:
    if fields.get("chain_id") is not None:
        return _chain_id(fields["chain_id"])
    network = fields.get("network") or fields.get("currency")
    if network is None:
        return None
    chain_id = NETWORK_CHAIN_IDS.get(str(network).strip().lower())
    if chain_id is None:
        raise _EntryProblem(f"network/currency {str(network)[:20]!r} is not an EVM chain Casework knows; skipped.")
    return chain_id


def parse_tagpack(text: str) -> ParsedLabels:
    """Read a GraphSense TagPack (YAML): header fields apply to every tag unless the tag overrides them."""
    try:
        document = yaml.safe_load(text)
        lines = _tag_lines(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "file"
        return ParsedLabels([], [LabelProblem(where, f"not valid YAML ({getattr(error, 'problem', None) or error}).")])
    if not isinstance(document, dict) or not isinstance(document.get("tags"), list):
        return ParsedLabels([], [LabelProblem("file", "not a TagPack: it needs a `tags:` list of entries.")])
    header = {key: value for key, value in document.items() if key != "tags"}
    default_source = str(header.get("source") or header.get("title") or "GraphSense TagPack")
    labels, problems = [], []
    for number, tag in enumerate(document["tags"], start=1):
        where = f"tag {number}" + (f" (line {lines[number - 1]})" if len(lines) >= number else "")
        try:
            if not isinstance(tag, dict):
                raise _EntryProblem("a tag must be a mapping with at least address and label.")
            fields = {**header, **tag}
            labels.append(AddressLabel(
                chain_id=_tagpack_chain(fields), address=_address(tag.get("address")),
                name=_text(fields.get("label"), "label"), category=_tagpack_category(tag, header),
                source=str(tag.get("source") or default_source),
                confidence=_confidence(fields.get("confidence"), DEFAULT_CONFIDENCE),
            ))
        except _EntryProblem as problem:
            problems.append(LabelProblem(where, str(problem)))
    return ParsedLabels(labels, problems)


def _etherscan_category(labels: Iterable[str]) -> str:
    normalised = [normalise_category(label) for label in labels if isinstance(label, str) and label.strip()]
    known = [category for category in CATEGORIES if category in normalised]
    return known[0] if known else (normalised[0] if normalised else "unknown")


def _etherscan_entry(address: Any, entry: Any, label: str | None) -> tuple[str, str, str]:
    """(address, name, category) of one entry in any of the etherscan-labels shapes."""
    if isinstance(entry, str):
        return _address(address), _text(entry, "name tag"), normalise_category(label or "unknown")
    if not isinstance(entry, dict):
        raise _EntryProblem("expected a name tag or an object with name and labels.")
    tags = entry.get("labels", entry.get("label", []))
    tags = [tags] if isinstance(tags, str) else tags
    if not isinstance(tags, list):
        raise _EntryProblem("labels must be a list of label names.")
    name = entry.get("name", entry.get("nameTag"))
    # Many combined entries carry labels but an empty name; the label is then the best name there is.
    if (name is None or name == "") and tags:
        name = tags[0]
    return _address(address), _text(name, "name"), _etherscan_category(tags)


def parse_etherscan_json(text: str, *, chain_id: int | None = None, label: str | None = None,
                         confidence: float = ETHERSCAN_CONFIDENCE) -> ParsedLabels:
    """Read etherscan-labels JSON (combined or per-label shape); label names the category of a per-label file."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        return ParsedLabels([], [LabelProblem(f"line {error.lineno}", f"not valid JSON ({error.msg}).")])
    if isinstance(document, dict):
        entries = list(document.items())
    elif isinstance(document, list):
        entries = [(item.get("address") if isinstance(item, dict) else None, item) for item in document]
    else:
        return ParsedLabels([], [LabelProblem("file", "expected an object keyed by address, or a list of entries.")])
    # Only the per-label shape ({address: "Name Tag"}) takes its category from the label.
    per_label_source = "etherscan-labels" + (f" ({label})" if label else "")
    labels, problems = [], []
    for number, (address, entry) in enumerate(entries, start=1):
        where = f"entry {number}" + (f" ({address[:42]})" if isinstance(address, str) else "")
        try:
            address, name, category = _etherscan_entry(address, entry, label)
        except _EntryProblem as problem:
            problems.append(LabelProblem(where, str(problem)))
            continue
        source = per_label_source if isinstance(entry, str) else "etherscan-labels"
        labels.append(AddressLabel(chain_id, address, name, category, source, confidence))
    return ParsedLabels(labels, problems)


def load_labels(path: str | Path, *, chain_id: int | None = None) -> ParsedLabels:
    """Read a label file by its extension: .yaml/.yml (TagPack), .json (etherscan-labels) or .csv.

    For etherscan-labels files, chain_id defaults to the explorer named in the path
    (data/bscscan/... is BNB Smart Chain) and a per-label file's label is its file name
    (accounts/binance.json labels exchanges).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else "not UTF-8 text"
        return ParsedLabels([], [LabelProblem(path.name, f"cannot be read ({reason}).")])
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return parse_tagpack(text)
    if suffix == ".csv":
        return parse_csv(text, default_source=path.name)
    if suffix == ".json":
        if chain_id is None:
            chain_id = next((EXPLORER_CHAIN_IDS[part] for part in path.parts if part in EXPLORER_CHAIN_IDS), None)
        return parse_etherscan_json(text, chain_id=chain_id, label=path.stem)
    return ParsedLabels([], [LabelProblem(path.name, "use a .yaml/.yml TagPack, an etherscan-labels .json or a .csv.")])
