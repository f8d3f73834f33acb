"""Draw a FlowGraph as a self-contained SVG: no script, no external font, image or URL.

Layered left to right by hop (the seeds on the left), one box per address, one arrow per
(sender, recipient, token) with the total amount and the number of transfers it stands for.
Endpoints and deposit addresses are coloured by category, with a legend. Every text comes from
users or from chains (labels, token symbols), so all of it is XML-escaped. The same graph always
gives the same bytes: rows are ordered by a fixed rule and coordinates printed with fixed precision.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from evidence.amounts import format_amount
from evidence.trace import FlowEdge, FlowGraph, FlowNode

BOX_WIDTH = 220
BOX_HEIGHT = 48
COLUMN_GAP = 170
ROW_GAP = 26
MARGIN = 24
HEADER = 44
LEGEND_ROW = 20
NAME_CHARACTERS = 30

# (fill, stroke) per category; categories not listed are drawn as unlabelled addresses.
PALETTE = {
    "exchange_hot_wallet": ("#cfe2ff", "#1d4ed8"),
    "exchange": ("#cfe2ff", "#1d4ed8"),
    "exchange_deposit": ("#e0ecff", "#3b82f6"),
    "bridge": ("#ede9fe", "#6d28d9"),
    "mixer": ("#fee2e2", "#b91c1c"),
    "blacklisted": ("#e5e7eb", "#374151"),
    "dex": ("#ccfbf1", "#0f766e"),
    "defi": ("#ccfbf1", "#0f766e"),
    "token_contract": ("#f3f4f6", "#6b7280"),
    "attacker": ("#ffedd5", "#c2410c"),
    "scam": ("#ffedd5", "#c2410c"),
}
LEGEND_NAMES = {
    "exchange_hot_wallet": "Exchange hot wallet", "exchange": "Exchange", "exchange_deposit": "Exchange deposit",
    "bridge": "Bridge", "mixer": "Mixer", "blacklisted": "Blacklisted", "dex": "DEX", "defi": "DeFi",
    "token_contract": "Token contract", "attacker": "Attacker", "scam": "Scam",
}
ROLE_NAMES = {
    "seed": "seed", "endpoint": "endpoint", "exchange_deposit": "exchange deposit", "intermediary": "intermediary",
    "holder": "holder", "unexplored": "unexplored",
}


@dataclass(frozen=True)
class SvgWords:
    """Every word the drawing writes itself (the rest comes from labels and chains), English by default."""

    legend: str = "Legend"
    seed: str = "Start (seed), thick border"
    unlabelled: str = "Unlabelled address"
    deposit: Callable[[str], str] = "Deposit: {}".format
    inferred: str = "inferred"
    more_not_shown: str = "more not shown"
    transactions: Callable[[int], str] = "{} tx".format
    categories: Mapping[str, str] = field(default_factory=lambda: dict(LEGEND_NAMES))
    roles: Mapping[str, str] = field(default_factory=lambda: dict(ROLE_NAMES))


ENGLISH = SvgWords()
UNLABELLED = ("#ffffff", "#6b7280")
SEED_STROKE = "#111827"
# Characters XML 1.0 does not allow at all (escaping cannot save them).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: str) -> str:
    """User or chain text made safe for SVG text and attributes."""
    return html.escape(_NOT_XML.sub("", value), quote=True)


def _short(address: str) -> str:
    return f"{address[:8]}…{address[-6:]}"


def _clip(text: str, limit: int = NAME_CHARACTERS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _colour_key(node: FlowNode) -> str | None:
    if node.role == "exchange_deposit":
        return "exchange_deposit"
    return node.category if node.category in PALETTE else None


def _aggregate(edges: Iterable[FlowEdge], words: SvgWords) -> list[tuple[str, str, list[str]]]:
    """(sender, recipient, amount lines) per pair: one line per token, totalled, with the transfer count."""
    totals: dict[tuple[str, str], dict[str, list]] = defaultdict(dict)
    for edge in edges:
        per_token = totals[(edge.from_address, edge.to_address)]
        entry = per_token.setdefault(edge.token or "", [edge, 0, 0])
        entry[1] += edge.value
        entry[2] += 1
    arrows = []
    for (sender, recipient), per_token in sorted(totals.items()):
        lines = [format_amount(total, first.decimals, first.symbol)
                 + (f" ({words.transactions(count)})" if count > 1 else "")
                 for _, (first, total, count) in sorted(per_token.items())]
        arrows.append((sender, recipient, lines))
    return arrows


def _layout(graph: FlowGraph, arrows: list) -> dict[str, tuple[int, int]]:
    """Column and row of each node: columns by hop, rows by the mean row of each node's senders."""
    columns: dict[int, list[FlowNode]] = defaultdict(list)
    for node in graph.nodes:
        columns[node.hop].append(node)
    senders: dict[str, list[str]] = defaultdict(list)
    for sender, recipient, *_ in arrows:
        senders[recipient].append(sender)
    place: dict[str, tuple[int, int]] = {}
    for column_index, column in enumerate(sorted(columns)):
        def weight(node: FlowNode) -> tuple:
            rows = [place[sender][1] for sender in senders[node.address] if sender in place]
            mean = sum(rows) / len(rows) if rows else 0.0
            return (mean, node.is_endpoint, node.label or "", node.address)

        for row, node in enumerate(sorted(columns[column], key=weight)):
            place[node.address] = (column_index, row)
    return place


def _heights(place: dict[str, tuple[int, int]], arrows: list) -> dict[str, int]:
    """The top of each box: right to left, an address sits level with the middle of its recipients
    (so a fan-out reads as a fan), never closer than a row to the box above it."""
    recipients: dict[str, list[str]] = defaultdict(list)
    for sender, recipient, _ in arrows:
        if place[recipient][0] > place[sender][0]:
            recipients[sender].append(recipient)
    pitch = BOX_HEIGHT + ROW_GAP
    tops: dict[str, int] = {}
    for column in sorted({column for column, _ in place.values()}, reverse=True):
        below = -pitch
        for address in sorted((a for a, (c, _) in place.items() if c == column), key=lambda a: place[a][1]):
            placed = [tops[recipient] for recipient in recipients[address] if recipient in tops]
            wanted = sum(placed) // len(placed) if placed else below + pitch
            tops[address] = below = max(wanted, below + pitch)
    return tops


def _box(node: FlowNode, x: int, y: int, words: SvgWords) -> list[str]:
    fill, stroke = PALETTE.get(_colour_key(node) or "", UNLABELLED)
    width = 2.5 if node.role == "seed" else 1.2
    stroke = SEED_STROKE if node.role == "seed" else stroke
    dash = ' stroke-dasharray="5 3"' if node.role == "exchange_deposit" and node.category is None else ""
    title = node.label or _short(node.address)
    role = words.roles.get(node.role, node.role.replace("_", " "))
    detail = _short(node.address) if node.label else role
    if node.role == "exchange_deposit" and node.exchange and not node.label:
        title, detail = words.deposit(node.exchange), f"{_short(node.address)} · {words.inferred}"
    elif node.role in ("holder", "unexplored", "seed") and node.label:
        detail = f"{_short(node.address)} · {role}"
    if node.truncated:
        detail += f" · {words.more_not_shown}"
    category = words.categories.get(node.category, node.category) if node.category else None
    tooltip = " — ".join(part for part in (node.address, node.label, category, role) if part)
    return [
        f'<g class="node"><title>{_text(tooltip)}</title>',
        f'<rect x="{x}" y="{y}" width="{BOX_WIDTH}" height="{BOX_HEIGHT}" rx="6" fill="{fill}" '
        f'stroke="{stroke}" stroke-width="{width}"{dash}/>',
        f'<text x="{x + 10}" y="{y + 20}" font-size="13" font-weight="600">{_text(_clip(title))}</text>',
        f'<text x="{x + 10}" y="{y + 38}" font-size="11" fill="#374151">{_text(_clip(detail, 40))}</text>',
        "</g>",
    ]


def _arrow(start: tuple[int, int], end: tuple[int, int], lines: list[str], stack: int) -> list[str]:
    """A curve from sender to recipient, its amounts just before the arrowhead (stacked when several
    arrows reach the same box), where it is clear which box they belong to."""
    (x1, y1), (x2, y2) = start, end
    bend = max(abs(x2 - x1) // 2, 60)
    path = f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"
    label_width = 7 * max(len(line) for line in lines) + 10
    label_height = 16 * len(lines) + 2
    left = x2 - label_width - 14
    top = y2 - label_height // 2 + stack
    parts = [
        f'<path d="{path}" fill="none" stroke="#4b5563" stroke-width="1.4" marker-end="url(#arrow)"/>',
        f'<rect x="{left}" y="{top}" width="{label_width}" height="{label_height}" rx="3" fill="#ffffff" '
        'fill-opacity="0.92" stroke="#d1d5db" stroke-width="0.5"/>',
    ]
    for index, line in enumerate(lines):
        parts.append(f'<text x="{left + label_width // 2}" y="{top + 13 + 16 * index}" font-size="11" '
                     f'text-anchor="middle">{_text(line)}</text>')
    return parts


def render_flow_svg(graph: FlowGraph, *, title: str | None = None, words: SvgWords = ENGLISH) -> str:
    """The graph as an SVG document (a string), readable for about fifty addresses, in the words given."""
    arrows = _aggregate(graph.edges, words)
    place = _layout(graph, arrows)
    tops = _heights(place, arrows)
    columns = max((column for column, _ in place.values()), default=0) + 1
    legend = sorted({key for node in graph.nodes if (key := _colour_key(node))}, key=list(PALETTE).index)
    width = 2 * MARGIN + columns * BOX_WIDTH + (columns - 1) * COLUMN_GAP
    graph_height = max(tops.values(), default=0) + BOX_HEIGHT
    height = HEADER + graph_height + MARGIN + (len(legend) + 2) * LEGEND_ROW + MARGIN

    def corner(address: str) -> tuple[int, int]:
        return MARGIN + place[address][0] * (BOX_WIDTH + COLUMN_GAP), HEADER + tops[address]

    heading = title or f"Fund flow on chain {graph.chain_id}, blocks {graph.from_block}–{graph.to_block}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="sans-serif" role="img">',
        f"<title>{_text(heading)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#4b5563"/></marker></defs>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#f9fafb"/>',
        f'<text x="{MARGIN}" y="{MARGIN + 4}" font-size="15" font-weight="700">{_text(heading)}</text>',
    ]
    stacked: dict[str, int] = defaultdict(int)
    for sender, recipient, lines in sorted(arrows, key=lambda arrow: (corner(arrow[0])[1], arrow[0], arrow[1])):
        (x1, y1), (x2, y2) = corner(sender), corner(recipient)
        parts += _arrow((x1 + BOX_WIDTH, y1 + BOX_HEIGHT // 2), (x2, y2 + BOX_HEIGHT // 2), lines, stacked[recipient])
        stacked[recipient] += 16 * len(lines) + 4
    for node in sorted(graph.nodes, key=lambda item: place[item.address]):
        parts += _box(node, *corner(node.address), words)
    y = HEADER + graph_height + MARGIN
    parts.append(f'<text x="{MARGIN}" y="{y + 12}" font-size="12" font-weight="600">{_text(words.legend)}</text>')
    entries = [(PALETTE[key], words.categories.get(key, LEGEND_NAMES[key])) for key in legend]
    entries += [(("#ffffff", SEED_STROKE), words.seed), (UNLABELLED, words.unlabelled)]
    for index, ((fill, stroke), name) in enumerate(entries, start=1):
        row_y = y + index * LEGEND_ROW
        parts.append(f'<rect x="{MARGIN}" y="{row_y}" width="14" height="14" rx="2" fill="{fill}" stroke="{stroke}"/>')
        parts.append(f'<text x="{MARGIN + 22}" y="{row_y + 11}" font-size="11">{_text(name)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
