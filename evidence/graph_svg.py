"""Draw a FlowGraph as a self-contained SVG: no script, no external font, image or URL.

Layered left to right by hop (the seeds on the left), one box per address, one arrow per
(sender, recipient, token) with the total amount and the number of transfers it stands for. It fits a page column
(TARGET_WIDTH) at a readable size: after COLUMNS hops the drawing wraps into a band below, which starts with
continued copies of the boxes its arrows come from. Labels are measured generously and cut with an ellipsis to
stay inside their boxes (the full text is in each box's <title>); boxes link where the caller says (href).
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

# Sized for a page column of about 900 px at a readable size: COLUMNS hops side by side per band, later hops
# wrap into the next band (its first column repeats the boxes the arrows come from, drawn as continued).
TARGET_WIDTH = 900
BOX_WIDTH = 168
BOX_HEIGHT = 62
COLUMN_GAP = 178
ROW_GAP = 22
MARGIN = 16
HEADER = 44
BAND_GAP = 44
LEGEND_ROW = 20
COLUMNS = (TARGET_WIDTH - 2 * MARGIN + COLUMN_GAP) // (BOX_WIDTH + COLUMN_GAP)
PADDING = 10
BOX_LINES = 3
NAME_SIZE = 12
SMALL_SIZE = 11
HEADING_SIZE = 15
LINE_HEIGHT = 16
# An amount label sits in the gap before its arrowhead and never reaches the box on the other side.
LABEL_WIDTH = COLUMN_GAP - 28
ARROW_ID = "flow-arrow"
LINK_PREFIXES = ("#", "/", "https://", "http://")

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
    continued: str = "continued from above"
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


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """A generous estimate of the width of text in pixels: DejaVu Sans's widths (the widest common sans-serif)
    rounded up per class of character, a full em for anything wide or unknown (Chinese, symbols)."""
    ems = 0.0
    for character in text:
        if character in _NARROW:
            ems += 0.42
        elif character in _SLIM:
            ems += 0.56
        elif character in _MIDDLE:
            ems += 0.64
        elif character in _CAPITALS:
            ems += 0.8
        else:
            ems += 1.0
    return ems * size * (1.13 if bold else 1.0)


_NARROW = frozenset(" ,.:;'|!()[]ilfj-/I·")
_SLIM = frozenset("crstz")
_MIDDLE = frozenset("abdeghknopquvxy0123456789")
_CAPITALS = frozenset("ABCDEFGHJKLNOPQRSTUVXYZ")


def _fit(text: str, size: float, width: float, *, bold: bool = False) -> str:
    """text, or as much of it as fits width followed by an ellipsis."""
    if text_width(text, size, bold=bold) <= width:
        return text
    cut = len(text)
    while cut and text_width(text[:cut].rstrip() + "…", size, bold=bold) > width:
        cut -= 1
    return text[:cut].rstrip() + "…"


def _wrap(text: str, size: float, width: float, *, bold: bool = False, lines: int = 2) -> list[str]:
    """text on at most `lines` lines of width, broken at a space where one is near, the last one ellipsised."""
    result: list[str] = []
    rest = text.strip()
    while rest and len(result) < lines - 1 and text_width(rest, size, bold=bold) > width:
        cut = 1
        while cut < len(rest) and text_width(rest[:cut + 1], size, bold=bold) <= width:
            cut += 1
        space = rest.rfind(" ", 0, cut + 1)
        cut = space if space > 0 else cut
        result.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        result.append(_fit(rest, size, width, bold=bold))
    return result


def _lines(x: int, y: int, lines: list[str], attributes: str) -> str:
    """One text on one or more lines (a <tspan> per line), so that a reader takes the lines as one text."""
    if len(lines) == 1:
        return f'<text x="{x}" y="{y}" {attributes}>{_text(lines[0])}</text>'
    spans = "".join(f'<tspan x="{x}" y="{y + index * LINE_HEIGHT}">{_text(line)}</tspan>'
                    for index, line in enumerate(lines))
    return f"<text {attributes}>{spans}</text>"


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
    """Layer and row of each node: layers by hop, rows by the mean row of each node's senders."""
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


def _band_and_column(layer: int) -> tuple[int, int]:
    """Where a layer goes: the first band holds COLUMNS layers, each later one COLUMNS - 1 after its continued
    column."""
    if layer < COLUMNS:
        return 0, layer
    band, column = divmod(layer - COLUMNS, COLUMNS - 1)
    return band + 1, column + 1


Key = tuple[str, int]  # a box: its address and its band (a continued box repeats an address in a later band)


def _heights(place: Mapping[Key, tuple[int, int]], arrows: Iterable[tuple[Key, Key]]) -> dict[Key, int]:
    """The top of each box of a band: right to left, a box sits level with the middle of its recipients (so a
    fan-out reads as a fan), never closer than a row to the box above it."""
    recipients: dict[Key, list[Key]] = defaultdict(list)
    for sender, recipient in arrows:
        if place[recipient][0] > place[sender][0]:
            recipients[sender].append(recipient)
    pitch = BOX_HEIGHT + ROW_GAP
    tops: dict[Key, int] = {}
    for column in sorted({column for column, _ in place.values()}, reverse=True):
        below = -pitch
        for key in sorted((k for k, (c, _) in place.items() if c == column), key=lambda k: place[k][1]):
            placed = [tops[recipient] for recipient in recipients[key] if recipient in tops]
            wanted = sum(placed) // len(placed) if placed else below + pitch
            tops[key] = below = max(wanted, below + pitch)
    return tops


@dataclass(frozen=True)
class _Drawing:
    """Where everything goes: the corner of each box, which boxes are continued copies, the arrows to draw."""

    corners: dict[Key, tuple[int, int]]
    columns: dict[Key, int]
    continued: frozenset[Key]
    arrows: list[tuple[Key, Key, list[str]]]
    bands: list[int]  # the y of each band after the first, for the line that separates it
    bottom: int
    used_columns: int


def _arrange(graph: FlowGraph, arrows: list[tuple[str, str, list[str]]]) -> _Drawing:
    """Lay the layers out in bands of COLUMNS, an arrow between bands drawn in the later one from (or to) a
    continued copy of the box in the earlier band, placed in that band's first column."""
    layers = _layout(graph, arrows)
    band_of = {address: _band_and_column(layer)[0] for address, (layer, _) in layers.items()}
    place: dict[int, dict[Key, tuple[int, int]]] = defaultdict(dict)
    for address, (layer, row) in layers.items():
        band, column = _band_and_column(layer)
        place[band][(address, band)] = (column, row)
    drawn: list[tuple[Key, Key, list[str]]] = []
    copies: dict[int, set[str]] = defaultdict(set)
    for sender, recipient, lines in arrows:
        band = max(band_of[sender], band_of[recipient])
        for address in (sender, recipient):
            if band_of[address] != band:
                copies[band].add(address)
        drawn.append(((sender, band), (recipient, band), lines))
    corners: dict[Key, tuple[int, int]] = {}
    separators: list[int] = []
    y = HEADER
    for band in sorted(place):
        if band:
            y += BAND_GAP
            separators.append(y - BAND_GAP // 2)
        # The boxes the band's arrows continue from first, in the order they had above; then those arrows return to.
        senders = {s[0] for s, _, _ in drawn if s[1] == band}
        earlier = sorted(copies[band], key=lambda address: (
            address not in senders, band_of[address], corners[(address, band_of[address])][1], address))
        for row, address in enumerate(earlier):
            place[band][(address, band)] = (0, row)
        tops = _heights(place[band], [(s, r) for s, r, _ in drawn if s[1] == band])
        for key, top in tops.items():
            corners[key] = (MARGIN + place[band][key][0] * (BOX_WIDTH + COLUMN_GAP), y + top)
        y += max(tops.values()) + BOX_HEIGHT
    used = min(COLUMNS, max((layer for layer, _ in layers.values()), default=0) + 1)
    return _Drawing(
        corners=corners, columns={key: column for band in place.values() for key, (column, _) in band.items()},
        continued=frozenset((address, band) for band, addresses in copies.items() for address in addresses),
        arrows=drawn, bands=separators, bottom=y, used_columns=used,
    )


def _box(node: FlowNode, x: int, y: int, words: SvgWords, *, continued: bool, href: str | None) -> list[str]:
    fill, stroke = PALETTE.get(_colour_key(node) or "", UNLABELLED)
    width = 2.5 if node.role == "seed" else 1.2
    stroke = SEED_STROKE if node.role == "seed" else stroke
    dash = ' stroke-dasharray="5 3"' if node.role == "exchange_deposit" and node.category is None else ""
    title = node.label or _short(node.address)
    role = words.roles.get(node.role, node.role.replace("_", " "))
    detail = _short(node.address) if node.label else role
    inferred = node.role == "exchange_deposit" and node.exchange and not node.label
    if inferred:
        title, detail = words.deposit(node.exchange), f"{_short(node.address)} · {words.inferred}"
    elif node.role in ("holder", "unexplored", "seed") and node.label:
        detail = f"{_short(node.address)} · {role}"
    if node.truncated:
        detail += f" · {words.more_not_shown}"
    if continued:
        fill, stroke, width, dash, detail = "#f3f4f6", "#9ca3af", 1.2, ' stroke-dasharray="4 3"', words.continued
    category = words.categories.get(node.category, node.category) if node.category else None
    parts = [node.address, title if title != _short(node.address) else None, category, role,
             words.inferred if inferred else None, words.more_not_shown if node.truncated else None]
    tooltip = " — ".join(part for part in parts if part)
    inside = BOX_WIDTH - 2 * PADDING
    lines = _wrap(title, NAME_SIZE, inside, bold=True)
    details = _wrap(detail, SMALL_SIZE, inside, lines=BOX_LINES - len(lines))
    first = y + (BOX_HEIGHT - LINE_HEIGHT * (len(lines) + len(details))) // 2 + 12
    drawn = [
        f'<g class="node{" continued" if continued else ""}"><title>{_text(tooltip)}</title>',
        f'<rect x="{x}" y="{y}" width="{BOX_WIDTH}" height="{BOX_HEIGHT}" rx="6" fill="{fill}" '
        f'stroke="{stroke}" stroke-width="{width}"{dash}/>',
    ]
    below = first + LINE_HEIGHT * len(lines)
    drawn += [_lines(x + PADDING, first, lines, f'font-size="{NAME_SIZE}" font-weight="600"'),
              _lines(x + PADDING, below, details, f'font-size="{SMALL_SIZE}" fill="#374151"'), "</g>"]
    if href is None:
        return drawn
    link = _text(href)
    return [f'<a href="{link}" xlink:href="{link}">', *drawn, "</a>"]


class _LabelSpace:
    """The amount labels placed so far in each gap between two columns of a band: a new one moves down until it
    overlaps none of them."""

    def __init__(self) -> None:
        self.taken: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)

    def place(self, gap: tuple[int, int], top: int, height: int) -> int:
        moved = True
        while moved:
            moved = False
            for start, end in sorted(self.taken[gap]):
                if top < end + 4 and start < top + height + 4:
                    top, moved = end + 4, True
        self.taken[gap].append((top, top + height))
        return top


def _arrow(start: tuple[int, int, int], end: tuple[int, int, int], lines: list[str], *, gap: tuple[int, int],
           space: _LabelSpace) -> list[str]:
    """A curve from sender to recipient, its amounts just before the arrowhead, in the gap beside the box so it is
    clear which box they belong to (moved down when other amounts are there already). start and end: x, y and the
    direction the curve leaves or enters the box (1: rightwards, -1: leftwards)."""
    (x1, y1, leaving), (x2, y2, entering) = start, end
    bend = max(abs(x2 - x1) // 2, 60)
    path = f"M{x1},{y1} C{x1 + leaving * bend},{y1} {x2 - entering * bend},{y2} {x2},{y2}"
    wrapped = [_wrap(line, SMALL_SIZE, LABEL_WIDTH - PADDING) for line in lines]
    shown = [piece for pieces in wrapped for piece in pieces]
    label_width = min(LABEL_WIDTH, int(max(text_width(line, SMALL_SIZE) for line in shown)) + PADDING + 1)
    label_height = LINE_HEIGHT * len(shown) + 2
    left = x2 - label_width - 14 if entering > 0 else x2 + 14
    top = space.place(gap, y2 - label_height // 2, label_height)
    parts = [
        f'<path d="{path}" fill="none" stroke="#4b5563" stroke-width="1.4" marker-end="url(#{ARROW_ID})"/>',
        f'<g class="amounts"><title>{_text(" / ".join(lines))}</title>',
        f'<rect x="{left}" y="{top}" width="{label_width}" height="{label_height}" rx="3" fill="#ffffff" '
        'fill-opacity="0.92" stroke="#d1d5db" stroke-width="0.5"/>',
    ]
    y = top + 13
    for pieces in wrapped:
        parts.append(_lines(left + label_width // 2, y, pieces, f'font-size="{SMALL_SIZE}" text-anchor="middle"'))
        y += LINE_HEIGHT * len(pieces)
    return [*parts, "</g>"]


def _ends(drawing: _Drawing, sender: Key, recipient: Key) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """Where an arrow leaves and enters: forwards from the right side to the left side; backwards from the left
    side to the right side; within a column along its left side (its right side in the first column)."""
    (x1, y1), (x2, y2) = drawing.corners[sender], drawing.corners[recipient]
    y1, y2 = y1 + BOX_HEIGHT // 2, y2 + BOX_HEIGHT // 2
    first, second = drawing.columns[sender], drawing.columns[recipient]
    if second > first:
        return (x1 + BOX_WIDTH, y1, 1), (x2, y2, 1)
    if second < first:
        return (x1, y1, -1), (x2 + BOX_WIDTH, y2, -1)
    if first > 0:
        return (x1, y1, -1), (x2, y2, 1)
    return (x1 + BOX_WIDTH, y1, 1), (x2 + BOX_WIDTH, y2, -1)


def render_flow_svg(graph: FlowGraph, *, title: str | None = None, words: SvgWords = ENGLISH,
                    href: Callable[[str], str | None] | None = None) -> str:
    """The graph as an SVG document (a string) at most TARGET_WIDTH wide, in the words given; href gives the link
    of a node's box from its address (a fragment, a path or an http(s) URL; None: no link)."""
    arrows = _aggregate(graph.edges, words)
    drawing = _arrange(graph, arrows)
    nodes = {node.address: node for node in graph.nodes}
    legend = sorted({key for node in graph.nodes if (key := _colour_key(node))}, key=list(PALETTE).index)
    columns = max(drawing.used_columns, 2)
    width = 2 * MARGIN + columns * BOX_WIDTH + (columns - 1) * COLUMN_GAP
    height = drawing.bottom + MARGIN + (len(legend) + 2) * LEGEND_ROW + MARGIN
    links = {address: _link(href, address) for address in nodes} if href else {}

    namespaces = f' xmlns:xlink="{XLINK}"' if links else ""
    heading = title or f"Fund flow on chain {graph.chain_id}, blocks {graph.from_block}–{graph.to_block}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg"{namespaces} width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" role="{"group" if links else "img"}">',
        f"<title>{_text(heading)}</title>",
        f'<defs><marker id="{ARROW_ID}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#4b5563"/></marker></defs>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#f9fafb"/>',
        f'<text x="{MARGIN}" y="{MARGIN + 4}" font-size="{HEADING_SIZE}" font-weight="700">'
        f"{_text(_fit(heading, HEADING_SIZE, width - 2 * MARGIN, bold=True))}</text>",
    ]
    parts += [f'<line x1="{MARGIN}" y1="{y}" x2="{width - MARGIN}" y2="{y}" stroke="#9ca3af" stroke-width="1" '
              'stroke-dasharray="6 4"/>' for y in drawing.bands]
    space = _LabelSpace()
    for sender, recipient, lines in sorted(drawing.arrows, key=lambda arrow: (
            drawing.corners[arrow[0]][1], drawing.corners[arrow[0]][0], arrow[0], arrow[1])):
        start, end = _ends(drawing, sender, recipient)
        column = drawing.columns[recipient]
        parts += _arrow(start, end, lines, gap=(recipient[1], column - 1 if end[2] > 0 else column), space=space)
    for key in sorted(drawing.corners, key=lambda key: (drawing.corners[key][1], drawing.corners[key][0], key)):
        parts += _box(nodes[key[0]], *drawing.corners[key], words, continued=key in drawing.continued,
                      href=links.get(key[0]))
    y = drawing.bottom + MARGIN
    parts.append(f'<text x="{MARGIN}" y="{y + 12}" font-size="12" font-weight="600">{_text(words.legend)}</text>')
    entries = [(PALETTE[key], words.categories.get(key, LEGEND_NAMES[key])) for key in legend]
    entries += [(("#ffffff", SEED_STROKE), words.seed), (UNLABELLED, words.unlabelled)]
    for index, ((fill, stroke), name) in enumerate(entries, start=1):
        row_y = y + index * LEGEND_ROW
        parts.append(f'<rect x="{MARGIN}" y="{row_y}" width="14" height="14" rx="2" fill="{fill}" stroke="{stroke}"/>')
        parts.append(f'<text x="{MARGIN + 22}" y="{row_y + 11}" font-size="{SMALL_SIZE}">'
                     f"{_text(_fit(name, SMALL_SIZE, width - 2 * MARGIN - 22))}</text>")
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


XLINK = "http://www.w3.org/1999/xlink"


def _link(href: Callable[[str], str | None], address: str) -> str | None:
    """The caller's link for an address; a link that is not a fragment, a path or an http(s) URL is a bug."""
    link = href(address)
    if link is not None and (not link.startswith(LINK_PREFIXES) or link.startswith("//")):
        raise ValueError(f"Not a link a graph may carry: {link[:40]!r}")
    return link
