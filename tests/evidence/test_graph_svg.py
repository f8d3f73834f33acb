"""The fund-flow picture: escaped, self-contained, deterministic and readable for about fifty addresses."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from dataclasses import replace
from datetime import UTC, datetime

from evidence.graph_svg import BOX_HEIGHT, BOX_WIDTH, render_flow_svg
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


def test_the_picture_is_well_formed_svg_with_amounts_on_the_edges() -> None:
    svg = render_flow_svg(small_graph())
    root = parse_svg(svg)
    assert root.tag == f"{SVG}svg"
    texts = [element.text for element in root.iter(f"{SVG}text")]
    assert "25,000 USDT" in texts and "0.3 ETH" in texts
    assert "25,000 USDT (2 tx)" in texts
    assert "Deposit: Harbour Exchange" in texts and "Harbour Exchange: Hot Wallet 1" in texts
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
    assert re.findall(r"url\((?!#arrow\))", without_namespace) == []
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
