"""The SVG charts: well-formed XML, bars in proportion to the values, every label escaped, an empty state, and
Chinese labels that fit the drawing."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from reports import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output


def bars(root: ET.Element) -> list[ET.Element]:
    return [rect for rect in root.iter(f"{SVG}rect") if rect.get("class") == "bar"]


def texts(root: ET.Element) -> list[str]:
    return [node.text or "" for node in root.iter(f"{SVG}text")]


def width_of(root: ET.Element) -> float:
    return float(root.get("viewBox").split()[2])


def test_bar_lengths_are_in_proportion_to_the_values():
    root = parse(charts.bar_chart(chart_id="c", title="Cases", labels=["A", "B", "C"], values=[8, 4, 1]))
    widths = [float(rect.get("width")) for rect in bars(root)]
    assert widths[0] / widths[1] == pytest.approx(2, rel=0.01)
    assert widths[0] / widths[2] == pytest.approx(8, rel=0.01)
    assert texts(root)[1:] == ["A", "8", "B", "4", "C", "1"]


def test_decimals_and_huge_integers_are_drawn_to_scale_and_written_exactly():
    huge = 2**200
    root = parse(charts.bar_chart(chart_id="c", title="t", labels=["a", "b"], values=[huge, huge // 2]))
    first, second = (float(rect.get("width")) for rect in bars(root))
    assert first / second == pytest.approx(2)
    # The value is written exactly (in the tooltip; beside the bar shortened to fit); only the drawing is scaled.
    assert bars(root)[0].find(f"{SVG}title").text == f"a: {huge:,}"
    assert texts(root)[2].startswith("1,606,938,044") and texts(root)[2].endswith("…")
    root = parse(charts.bar_chart(chart_id="c", title="t", labels=["a", "b"], values=[Decimal("0.5"), Decimal("1.5")]))
    small, large = (float(rect.get("width")) for rect in bars(root))
    assert large / small == pytest.approx(3, rel=0.01)
    assert "1.5" in texts(root)


def test_a_stacked_bar_has_one_part_per_series_on_a_shared_scale():
    series = [charts.Series("High", [3, 1]), charts.Series("Low", [1, 0])]
    root = parse(charts.stacked_bar_chart(chart_id="s", title="t", labels=["Triage", "Recovery"], series=series))
    parts = bars(root)
    assert len(parts) == 3  # a zero part is not drawn
    first_row = [float(p.get("width")) for p in parts[:2]]
    assert first_row[0] / first_row[1] == pytest.approx(3, rel=0.01)
    assert float(parts[2].get("width")) == pytest.approx(first_row[1], rel=0.01)
    assert parts[0].get("fill") != parts[1].get("fill")
    assert {"High", "Low", "4", "1"} <= set(texts(root))
    assert [p.find(f"{SVG}title").text for p in parts] == ["Triage · High: 3", "Triage · Low: 1", "Recovery · High: 1"]


def test_normalised_stacked_bars_each_fill_the_width():
    series = [charts.Series("Frozen", [1, 10**18]), charts.Series("Not frozen", [3, 0])]
    root = parse(charts.stacked_bar_chart(chart_id="n", title="t", labels=["USDT", "ETH"], series=series,
                                          normalise=True, total_labels=["4 USDT", "1 ETH"]))
    usdt_frozen, usdt_rest, eth = (float(p.get("width")) for p in bars(root))
    assert usdt_frozen + usdt_rest == pytest.approx(eth, rel=0.001)
    assert usdt_rest / usdt_frozen == pytest.approx(3, rel=0.01)


def test_daily_columns_are_in_proportion_and_days_without_cases_are_empty():
    labels = [f"2026-11-{day:02d}" for day in range(1, 31)]
    values = [0] * 30
    values[3], values[29] = 4, 2
    root = parse(charts.column_chart(chart_id="d", title="New cases", labels=labels, values=values))
    columns = bars(root)
    assert len(columns) == 2
    assert float(columns[0].get("height")) == pytest.approx(2 * float(columns[1].get("height")))
    assert float(columns[0].get("x")) < float(columns[1].get("x"))
    assert [c.find(f"{SVG}title").text for c in columns] == ["2026-11-04: 4", "2026-11-30: 2"]
    assert {"2026-11-01", "2026-11-30"} <= set(texts(root))


@pytest.mark.parametrize("draw", [
    lambda **kw: charts.bar_chart(labels=[], values=[], **kw),
    lambda **kw: charts.bar_chart(labels=["a"], values=[0], **kw),
    lambda **kw: charts.stacked_bar_chart(labels=["a"], series=[charts.Series("x", [0])], **kw),
    lambda **kw: charts.column_chart(labels=["d1", "d2"], values=[0, 0], **kw),
])
def test_no_data_draws_an_empty_state(draw):
    root = parse(draw(chart_id="e", title="Losses", empty_text="Nothing yet"))
    assert not bars(root)
    assert "Nothing yet" in texts(root)
    assert [rect for rect in root.iter(f"{SVG}rect") if rect.get("class") == "empty"]


def test_labels_are_escaped_and_shown_as_text():
    evil = '<script>alert("x")</script> & Co'
    svg = charts.bar_chart(chart_id='x" onload="alert(1)', title=evil, labels=[evil], values=[1],
                           value_labels=[evil], description=evil)
    assert "<script>" not in svg and "onload=" not in svg.split(">", 1)[0].replace('aria-labelledby', '')
    root = parse(svg)
    assert evil in texts(root)
    assert root.find(f"{SVG}title").text == evil and root.find(f"{SVG}desc").text == evil
    assert not list(root.iter(f"{SVG}script"))


def test_characters_xml_cannot_hold_are_dropped():
    root = parse(charts.bar_chart(chart_id="x", title="a\x00b\x1fc", labels=["\x0bname"], values=[1]))
    assert root.find(f"{SVG}title").text == "abc" and "name" in texts(root)


def test_charts_are_accessible_and_scale_to_their_container():
    root = parse(charts.bar_chart(chart_id="top", title="Top exchanges", labels=["A"], values=[1],
                                  description="By cases"))
    assert root.get("role") == "img" and root.get("width") == "100%" and root.get("viewBox").startswith("0 0 ")
    assert root.get("height") is None
    assert root.get("aria-labelledby") == "top-title top-desc"
    assert root.find(f"{SVG}title").get("id") == "top-title" and root.find(f"{SVG}desc").get("id") == "top-desc"
    assert "style" not in ET.tostring(root, encoding="unicode")  # the CSP forbids inline styles


def test_chinese_labels_fit_inside_the_drawing():
    name = "火币全球站（香港）有限公司客户资金托管热钱包地址一号" * 2
    svg = charts.stacked_bar_chart(chart_id="zh", title="接收资金最多的交易所" * 4, labels=[name, "币安"],
                                   series=[charts.Series("已冻结" * 10, [1, 2]), charts.Series("未冻结", [3, 0])])
    root = parse(svg)
    limit = width_of(root) - charts.MARGIN
    for node in root.iter(f"{SVG}text"):
        x = float(node.get("x"))
        size = float(node.get("font-size"))
        right = x if node.get("text-anchor") == "end" else x + charts.text_width(node.text, size)
        assert right <= limit + 0.5, node.text
    shown = texts(root)
    assert "币安" in shown and any(text.startswith("火币全球站") and text.endswith("…") for text in shown)
    # The whole name stays in the tooltip.
    assert any(name in (title.text or "") for title in root.iter(f"{SVG}title"))


def test_wide_characters_are_measured_as_a_full_em():
    assert charts.text_width("币安", 10) == pytest.approx(20)
    assert charts.text_width("ab", 10) == pytest.approx(12)
    assert charts.fit("交易所交易所", 35, 10) == "交易…"


def test_the_same_data_gives_the_same_bytes():
    def draw() -> str:
        return charts.column_chart(chart_id="d", title="t", labels=["a", "b"], values=[1, Decimal("2.5")])

    assert draw() == draw()


def test_a_chart_prints_in_a_pdf_with_its_labels():
    from pypdf import PdfReader

    from reports.render import render_html

    svg = charts.bar_chart(chart_id="pdf", title="Top receiving exchanges", labels=["Binance", "币安香港"],
                           values=[3, 1], value_labels=["3 cases", "1 case"])
    pdf = render_html(f"<!doctype html><html><body><div>{svg}</div></body></html>")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for label in ("Top receiving exchanges", "Binance", "币安香港", "3 cases", "1 case"):
        assert label in text
