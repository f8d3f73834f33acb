"""The fund-flow picture: escaped, self-contained, deterministic and readable for about fifty addresses."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import unicodedata
import xml.etree.ElementTree as ElementTree
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from PIL import ImageFont

from evidence.graph_svg import BOX_HEIGHT, BOX_WIDTH, COLUMN_GAP, PADDING, TARGET_WIDTH, SvgWords, render_flow_svg
from evidence.trace import FlowEdge, FlowGraph, FlowNode

SVG = "{http://www.w3.org/2000/svg}"
TOKEN = "0x" + "70" * 20
WHEN = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)


def parse_svg(text: str) -> ElementTree.Element:
    """Parse SVG this package wrote (our own output, so the stdlib parser's XML-bomb caveat does not apply)."""
    return ElementTree.fromstring(text)  # noqa: S314


def address(number: int) -> str:
    return f"0x{number:040x}"


def node(number: int, hop: int, **fields) -> FlowNode:
    values = {"label": None, "category": None, "label_source": None, "is_endpoint": False, "role": "intermediary"}
    return FlowNode(address=address(number), hop=hop, **{**values, **fields})


def edge(sender: int, recipient: int, hop: int, value: int, *, symbol: str = "USDT", token: str | None = TOKEN,
         decimals: int = 6, tx: int = 0) -> FlowEdge:
    return FlowEdge(from_address=address(sender), to_address=address(recipient), kind="erc20" if token else "native",
                    token=token, symbol=symbol, decimals=decimals, value=value, tx_hash=f"0x{tx:064x}", log_index=0,
                    block_number=100 + hop, timestamp=WHEN, hop=hop, source_record="ab" * 32)


def graph(nodes: list[FlowNode], edges: list[FlowEdge]) -> FlowGraph:
    return FlowGraph(chain_id=1, seeds=(nodes[0].address,), from_block=100, to_block=200, max_depth=4, max_breadth=5,
                     nodes=tuple(nodes), edges=tuple(edges), proposals=(), records=())


def small_graph(label: str = "Harbour Exchange: Hot Wallet 1", symbol: str = "USDT") -> FlowGraph:
    nodes = [
        node(1, 0, label="Phishing drainer", category="attacker", role="seed"),
        node(2, 1),
        node(3, 2, role="exchange_deposit", exchange="Harbour Exchange"),
        node(4, 3, label=label, category="exchange_hot_wallet", is_endpoint=True, role="endpoint",
             exchange="Harbour Exchange"),
    ]
    edges = [edge(1, 2, 1, 25_000 * 10**6, symbol=symbol, tx=1), edge(2, 3, 2, 12_500 * 10**6, symbol=symbol, tx=2),
             edge(2, 3, 2, 12_500 * 10**6, symbol=symbol, tx=3), edge(3, 4, 3, 25_000 * 10**6, symbol=symbol, tx=4),
             edge(1, 2, 1, 3 * 10**17, token=None, symbol="ETH", decimals=18, tx=5)]
    return graph(nodes, edges)


def box_texts(root: ElementTree.Element) -> list[str]:
    """The words in each box, its lines joined by spaces."""
    return [" ".join(line for text in group.iter(f"{SVG}text") for line, *_ in lines_of(text))
            for group in root.iter(f"{SVG}g") if "node" in (group.get("class") or "").split()]


def lines_of(text: ElementTree.Element) -> list[tuple[str, int, int]]:
    """The lines of an SVG text (its tspans, or itself), each with its x and y."""
    spans = list(text.iter(f"{SVG}tspan")) or [text]
    return [(span.text or "", int(span.get("x")), int(span.get("y"))) for span in spans]


def test_the_picture_is_well_formed_svg_with_amounts_on_the_edges() -> None:
    svg = render_flow_svg(small_graph())
    root = parse_svg(svg)
    assert root.tag == f"{SVG}svg"
    texts = [" ".join(line for line, *_ in lines_of(element)) for element in root.iter(f"{SVG}text")]
    assert "25,000 USDT" in texts and "0.3 ETH" in texts
    assert "25,000 USDT (2 tx)" in texts
    boxes = box_texts(root)
    assert any(text.startswith("Deposit: Harbour Exchange") for text in boxes)
    assert any(text.startswith("Harbour Exchange: Hot Wallet 1") for text in boxes)
    assert {"Exchange hot wallet", "Exchange deposit", "Attacker", "Legend"} <= set(texts)


def test_labels_and_symbols_from_outside_are_escaped() -> None:
    hostile = '<script>alert("x")</script> & <a href="https://evil.example">'
    svg = render_flow_svg(small_graph(label=hostile, symbol="<img src=x onerror=alert(1)>"),
                          title="Case <b>CW-1</b>")
    assert "<script" not in svg and "<img" not in svg and "<a " not in svg and "<b>" not in svg
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in svg
    root = parse_svg(svg)
    assert any("<script>" in (element.text or "") for element in root.iter(f"{SVG}title"))


def test_the_picture_needs_nothing_from_outside() -> None:
    svg = render_flow_svg(small_graph(label="see https://evil.example/x.png"))
    without_namespace = svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert re.findall(r"(?:href|src)=", without_namespace) == []
    assert re.findall(r"url\((?!#flow-arrow\))", without_namespace) == []
    assert "@import" not in svg and "@font-face" not in svg and "<script" not in svg and "<style" not in svg


def test_characters_xml_cannot_carry_are_dropped() -> None:
    svg = render_flow_svg(small_graph(label="Hot\x00 Wallet\x1b"))
    parse_svg(svg)
    assert "Hot Wallet" in svg


def test_the_same_graph_always_gives_the_same_picture() -> None:
    first = render_flow_svg(small_graph())
    assert render_flow_svg(small_graph()) == first
    shuffled = small_graph()
    shuffled = replace(shuffled, nodes=tuple(reversed(shuffled.nodes)))
    assert render_flow_svg(shuffled) == first


def fifty_node_graph() -> FlowGraph:
    """A seed fanning out to 7 addresses, each to 6 more, and some to exchanges: 50 nodes."""
    nodes = [node(1, 0, label="Attacker", category="attacker", role="seed")]
    edges = []
    for first in range(7):
        hop_one = 10 + first
        nodes.append(node(hop_one, 1))
        edges.append(edge(1, hop_one, 1, (first + 1) * 10**9, tx=hop_one))
        for second in range(6):
            hop_two = 100 + first * 10 + second
            exchange = second == 0
            nodes.append(node(hop_two, 2, label="Exchange 1" if exchange else None,
                              category="exchange_hot_wallet" if exchange else None, is_endpoint=exchange,
                              role="endpoint" if exchange else "holder"))
            edges.append(edge(hop_one, hop_two, 2, (second + 1) * 10**8, tx=hop_two))
    return graph(nodes, edges)


def test_fifty_addresses_get_a_box_each_without_overlaps() -> None:
    flow = fifty_node_graph()
    assert len(flow.nodes) == 50
    root = parse_svg(render_flow_svg(flow))
    boxes = [(int(rect.get("x")), int(rect.get("y"))) for rect in root.iter(f"{SVG}rect")
             if rect.get("width") == str(BOX_WIDTH)]
    assert len(boxes) == len(set(boxes)) == 50
    for position, (x, y) in enumerate(boxes):
        for other_x, other_y in boxes[position + 1:]:
            assert abs(x - other_x) >= BOX_WIDTH or abs(y - other_y) >= BOX_HEIGHT
    assert int(root.get("width")) < 2000 and int(root.get("height")) < 5000


def font_file(pattern: str) -> str:
    """The file fontconfig picks for a pattern (what a browser on this machine draws the SVG with)."""
    if shutil.which("fc-match") is None:
        pytest.skip("fontconfig's fc-match is not installed")
    return subprocess.run(["fc-match", "-f", "%{file}", pattern], check=True, capture_output=True,
                          text=True).stdout


@functools.cache
def font(bold: bool, wide: bool, size: int) -> ImageFont.FreeTypeFont:
    family = "sans-serif:lang=zh-cn" if wide else "DejaVu Sans"
    return ImageFont.truetype(font_file(family + (":bold" if bold else "")), size)


def drawn_width(text: str, size: int, bold: bool) -> float:
    """The width of text in the real fonts: DejaVu Sans for Latin, Noto Sans CJK for Chinese characters."""
    def wide(character: str) -> bool:
        return unicodedata.east_asian_width(character) in "WF"

    per_character = sum(font(bold, wide(c), size).getlength(c) for c in text)
    return max(per_character, font(bold, False, size).getlength(text)) if not any(map(wide, text)) else per_character


def text_boxes(root: ElementTree.Element) -> list[tuple[ElementTree.Element, list[ElementTree.Element]]]:
    """Each address box: its rectangle and its lines of text."""
    return [(next(group.iter(f"{SVG}rect")), list(group.iter(f"{SVG}text")))
            for group in root.iter(f"{SVG}g") if "node" in (group.get("class") or "").split()]


LONG_NAMES = [
    "Harbour Exchange International Holdings: Hot Wallet Number 14 (Withdrawals)",
    "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW",
    "港湾交易所国际控股有限公司第十四号热钱包（提现专用）",
    "mmmm mmmm mmmm mmmm mmmm mmmm mmmm mmmm mmmm mmmm",
]


@pytest.mark.parametrize("name", LONG_NAMES)
def test_long_names_stay_inside_their_boxes_with_the_full_name_in_the_tooltip(name: str) -> None:
    flow = small_graph(label=name)
    flow = replace(flow, nodes=tuple(replace(item, label=name, truncated=True) if item.role == "seed" else item
                                     for item in flow.nodes))
    words = SvgWords(deposit="存入：{}".format, more_not_shown="更多未显示", roles={"seed": "起点（攻击者地址）"})
    root = parse_svg(render_flow_svg(flow, words=words))
    checked = 0
    for rect, lines in text_boxes(root):
        left, top = int(rect.get("x")), int(rect.get("y"))
        for text in lines:
            size, bold = int(text.get("font-size")), text.get("font-weight") == "600"
            assert size >= 11
            for line, x, y in lines_of(text):
                assert x - left >= PADDING
                assert x + drawn_width(line, size, bold) <= left + BOX_WIDTH - PADDING / 2, line
                assert top + size <= y <= top + BOX_HEIGHT - 4
                checked += 1
    assert checked >= 8
    tooltips = [group.find(f"{SVG}title").text for group in root.iter(f"{SVG}g")
                if "node" in (group.get("class") or "").split()]
    assert any(name in tooltip for tooltip in tooltips)
    assert any(text.endswith("…") for text in box_texts(root))


def deep_graph(hops: int = 10) -> FlowGraph:
    """A chain of hops with large amounts, a fan-out and funds sent back to an earlier address."""
    nodes = [node(1, 0, label="Attacker", category="attacker", role="seed")]
    edges = []
    for hop in range(1, hops + 1):
        nodes.append(node(hop + 1, hop))
        edges.append(edge(hop, hop + 1, hop, 123_456_789_123_456_789, decimals=6, tx=hop))
        edges.append(edge(hop, hop + 1, hop, 1, tx=100 + hop))
    nodes.append(node(500, 2))
    edges += [edge(2, 500, 2, 5 * 10**6, tx=500), edge(hops, 2, hops, 7 * 10**6, tx=501),
              edge(3, 3 + 0, 3, 1, tx=502)]
    return graph(nodes, edges)


def test_a_deep_trace_wraps_to_fit_the_page_at_a_readable_size() -> None:
    root = parse_svg(render_flow_svg(deep_graph()))
    width = int(root.get("width"))
    assert width <= TARGET_WIDTH and root.get("viewBox") == f"0 0 {width} {root.get('height')}"
    for element in root.iter():
        if element.get("font-size"):
            assert int(element.get("font-size")) >= 11
        if element.tag == f"{SVG}rect":
            assert int(element.get("x")) >= 0 and int(element.get("x")) + int(element.get("width")) <= width
    continued = [group for group in root.iter(f"{SVG}g") if "continued" in (group.get("class") or "")]
    assert len(continued) >= 4  # one per band after the first, and the box the funds went back to
    assert len([rect for rect, _ in text_boxes(root)]) == 12 + len(continued)


def test_amounts_sit_in_the_gap_before_their_box_without_covering_each_other() -> None:
    root = parse_svg(render_flow_svg(deep_graph()))
    labels = [next(group.iter(f"{SVG}rect")) for group in root.iter(f"{SVG}g") if group.get("class") == "amounts"]
    boxes = [rect for rect, _ in text_boxes(root)]
    spans = [(int(r.get("x")), int(r.get("y")), int(r.get("width")), int(r.get("height"))) for r in labels]
    assert spans and all(width <= COLUMN_GAP - 20 for _, _, width, _ in spans)
    for index, (x, y, w, h) in enumerate(spans):
        for other_x, other_y, other_w, other_h in spans[index + 1:]:
            assert x + w <= other_x or other_x + other_w <= x or y + h <= other_y or other_y + other_h <= y
        for box in boxes:
            bx, by = int(box.get("x")), int(box.get("y"))
            assert x + w <= bx or bx + BOX_WIDTH <= x or y + h <= by or by + BOX_HEIGHT <= y
    texts = [[line for line, *_ in lines_of(text)] for group in root.iter(f"{SVG}g")
             if group.get("class") == "amounts" for text in group.iter(f"{SVG}text")]
    assert ["123,456,789,123.45679", "USDT (2 tx)"] in texts  # a long amount is wrapped, not cut
    for text in root.iter(f"{SVG}text"):
        if text.get("text-anchor") == "middle":
            assert all(drawn_width(line, 11, False) <= COLUMN_GAP - 28 - PADDING / 2 for line, *_ in lines_of(text))


def test_boxes_link_where_the_caller_says_and_only_there() -> None:
    flow = small_graph()
    linked = {flow.nodes[0].address, flow.nodes[3].address}
    svg = render_flow_svg(flow, href=lambda address: f"#address-1-{address}" if address in linked else None)
    root = parse_svg(svg)
    links = [anchor.get("href") for anchor in root.iter(f"{SVG}a")]
    assert sorted(links) == sorted(f"#address-1-{address}" for address in linked)
    xlink = "{http://www.w3.org/1999/xlink}href"
    assert all(anchor.get(xlink) == anchor.get("href") for anchor in root.iter(f"{SVG}a"))
    assert all(anchor.find(f"{SVG}g") is not None for anchor in root.iter(f"{SVG}a"))


def test_a_link_is_escaped_and_a_script_link_refused() -> None:
    root = parse_svg(render_flow_svg(small_graph(), href=lambda address: f'/cases/x"><script>?a={address}&b=1'))
    assert all('"><script>' in anchor.get("href") for anchor in root.iter(f"{SVG}a"))
    for link in ("javascript:alert(1)", "//evil.example/x", "data:text/html,x"):
        with pytest.raises(ValueError):
            render_flow_svg(small_graph(), href=lambda address, link=link: link)
