"""Charts drawn as self-contained SVG text: horizontal bars, stacked bars and daily columns.

Pure: plain labels and numbers in, SVG text out; no Flask, no database, no script, no style attribute (the app's
Content-Security-Policy forbids inline styles), no external font or URL, so the same drawing serves the staff
dashboard and a PDF dossier. Every label may come from users (an exchange's name) and is XML-escaped; values are
ints or Decimals and become floats only for coordinates. Each chart is accessible (role="img", a <title> and a
<desc> named by aria-labelledby), scales to its container (viewBox, width 100%) and measures its text, counting
wide (Chinese) characters as a full em, so that labels are shortened with an ellipsis instead of overflowing.
The colours are the Okabe-Ito palette, which stays distinct for the common kinds of colour blindness.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

Number = int | Decimal

WIDTH = 360  # narrow, so that its text stays readable when a phone draws it at about 330 pixels
MARGIN = 12
TITLE_SIZE = 15
LABEL_SIZE = 13
SMALL_SIZE = 11
FONTS = "system-ui, 'PingFang SC', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif"
# Okabe & Ito (2008): blue, orange, bluish green, reddish purple, sky blue, vermilion, yellow, grey.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#7F7F7F")
INK = "#1d2430"
MUTED = "#5b6473"
LINE = "#d9dee6"
# Characters XML 1.0 does not allow at all (escaping cannot save them).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Series:
    """One stacked part of every bar: its name (in the legend) and a value per bar."""

    name: str
    values: Sequence[Number]


def text_width(text: str, size: float) -> float:
    """About how wide text is drawn at a font size: wide (CJK) characters take an em, others a little over half."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else 0.6 * size for ch in text)


def fit(text: str, width: float, size: float) -> str:
    """text, shortened with an ellipsis when it would be wider than width at that font size."""
    if text_width(text, size) <= width:
        return text
    kept = ""
    for ch in text:
        if text_width(kept + ch + "…", size) > width:
            break
        kept += ch
    return kept + "…"


def _text(value: object) -> str:
    return escape(_NOT_XML.sub("", str(value)), quote=True)


def _id(chart_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", chart_id) or "chart"


def _n(value: float) -> str:
    return f"{value:.1f}"


def _share(value: Number, largest: Number) -> float:
    """value as a fraction of largest, for drawing only."""
    return float(value) / float(largest) if largest else 0.0


def _label(value: Number) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:,f}"


def _document(chart_id: str, title: str, description: str, height: float, body: list[str]) -> str:
    ident = _id(chart_id)
    head = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {_n(height)}" width="100%" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" font-family="{FONTS}" class="chart">',
        f'<title id="{ident}-title">{_text(title)}</title>',
        f'<desc id="{ident}-desc">{_text(description)}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{_n(height)}" fill="#ffffff"/>',
        f'<text x="{MARGIN}" y="{MARGIN + TITLE_SIZE}" font-size="{TITLE_SIZE}" font-weight="700" fill="{INK}">'
        f"{_text(fit(title, WIDTH - 2 * MARGIN, TITLE_SIZE))}</text>",
    ]
    return "\n".join([*head, *body, "</svg>"]) + "\n"


def _empty(chart_id: str, title: str, description: str, empty_text: str) -> str:
    top = MARGIN + TITLE_SIZE + 16
    body = [
        f'<rect x="{MARGIN}" y="{top}" width="{WIDTH - 2 * MARGIN}" height="56" rx="4" fill="#f6f7f9" '
        f'stroke="{LINE}" class="empty"/>',
        f'<text x="{WIDTH / 2:.1f}" y="{top + 33}" font-size="{LABEL_SIZE}" text-anchor="middle" fill="{MUTED}">'
        f"{_text(fit(empty_text, WIDTH - 4 * MARGIN, LABEL_SIZE))}</text>",
    ]
    return _document(chart_id, title, description, top + 56 + MARGIN, body)


def _legend(names: Sequence[str], top: float) -> tuple[list[str], float]:
    """Swatches and names, wrapped onto as many lines as the width needs; returns the parts and the bottom."""
    parts, x, y = [], float(MARGIN), top
    for index, name in enumerate(names):
        shown = fit(name, WIDTH - 2 * MARGIN - 18, SMALL_SIZE)
        width = 18 + text_width(shown, SMALL_SIZE) + 14
        if x > MARGIN and x + width > WIDTH - MARGIN:
            x, y = float(MARGIN), y + 18
        parts.append(f'<rect x="{_n(x)}" y="{_n(y)}" width="12" height="12" rx="2" '
                     f'fill="{PALETTE[index % len(PALETTE)]}" class="swatch"/>')
        parts.append(f'<text x="{_n(x + 18)}" y="{_n(y + 10)}" font-size="{SMALL_SIZE}" fill="{INK}">'
                     f"{_text(shown)}</text>")
        x += width
    return parts, y + 18


ROW = 44
BAR = 18


def _rows(labels: Sequence[str], stacks: Sequence[Sequence[tuple[Number, str, str]]], totals: Sequence[str],
          largest: Sequence[Number], top: float) -> tuple[list[str], float]:
    """One row per label: the label on its own line (so long and Chinese names keep the whole width), under it the
    bar's parts (value, colour, tooltip) scaled to largest[row], and the total written after the bar."""
    room = min(max((text_width(total, SMALL_SIZE) for total in totals), default=0), WIDTH * 0.45) + 8
    plot = WIDTH - 2 * MARGIN - room
    parts = []
    for row, (label, stack, total) in enumerate(zip(labels, stacks, totals, strict=True)):
        y = top + row * ROW
        parts.append(f'<text x="{MARGIN}" y="{_n(y + LABEL_SIZE)}" font-size="{LABEL_SIZE}" fill="{INK}">'
                     f"{_text(fit(label, WIDTH - 2 * MARGIN, LABEL_SIZE))}</text>")
        x = float(MARGIN)
        for value, colour, tooltip in stack:
            width = plot * _share(value, largest[row])
            if width <= 0:
                continue
            parts.append(f'<rect x="{_n(x)}" y="{_n(y + 18)}" width="{_n(width)}" height="{BAR}" fill="{colour}" '
                         f'class="bar"><title>{_text(tooltip)}</title></rect>')
            x += width
        parts.append(f'<text x="{_n(x + 6)}" y="{_n(y + 18 + BAR - 4)}" font-size="{SMALL_SIZE}" fill="{INK}">'
                     f"{_text(fit(total, room - 8, SMALL_SIZE))}</text>")
    return parts, top + len(labels) * ROW


def bar_chart(*, chart_id: str, title: str, labels: Sequence[str], values: Sequence[Number],
              value_labels: Sequence[str] | None = None, description: str = "",
              empty_text: str = "No data yet") -> str:
    """Horizontal bars, one per label, their lengths in proportion to the values (none, or all zero: an empty
    state with empty_text)."""
    if not labels or not any(values):
        return _empty(chart_id, title, description, empty_text)
    shown = list(value_labels) if value_labels is not None else [_label(value) for value in values]
    stacks = [[(value, PALETTE[0], f"{label}: {text}")] for label, value, text in zip(labels, values, shown,
                                                                                        strict=True)]
    parts, bottom = _rows(labels, stacks, shown, [max(values)] * len(labels), MARGIN + TITLE_SIZE + 16)
    return _document(chart_id, title, description, bottom + MARGIN, parts)


def stacked_bar_chart(*, chart_id: str, title: str, labels: Sequence[str], series: Sequence[Series],
                      total_labels: Sequence[str] | None = None, value_labels: Sequence[Sequence[str]] | None = None,
                      normalise: bool = False, description: str = "", empty_text: str = "No data yet") -> str:
    """Horizontal bars made of one part per series, with a legend. All bars share one scale, or with normalise
    each bar fills the width (for rows whose units differ, such as amounts of different tokens).
    value_labels[s][row] is how a part is written in its tooltip (the value itself by default)."""
    totals = [sum((s.values[row] for s in series), 0) for row in range(len(labels))]
    if not labels or not series or not any(totals):
        return _empty(chart_id, title, description, empty_text)
    written = [list(names) for names in value_labels] if value_labels is not None else [
        [_label(value) for value in s.values] for s in series]
    stacks = [[(s.values[row], PALETTE[index % len(PALETTE)], f"{labels[row]} · {s.name}: {written[index][row]}")
               for index, s in enumerate(series)] for row in range(len(labels))]
    legend, top = _legend([s.name for s in series], MARGIN + TITLE_SIZE + 12)
    shown = list(total_labels) if total_labels is not None else [_label(total) for total in totals]
    scale = totals if normalise else [max(totals)] * len(labels)
    parts, bottom = _rows(labels, stacks, shown, scale, top + 6)
    return _document(chart_id, title, description, bottom + MARGIN, [*legend, *parts])


COLUMNS_HEIGHT = 150


def column_chart(*, chart_id: str, title: str, labels: Sequence[str], values: Sequence[Number],
                 tick_every: int = 7, description: str = "", empty_text: str = "No data yet") -> str:
    """Vertical columns in order (one per day), a scale line at the largest value, and every tick_every-th label
    (and the last) under the axis; each column's label and value are in its tooltip."""
    if not labels or not any(values):
        return _empty(chart_id, title, description, empty_text)
    largest = max(values)
    top = MARGIN + TITLE_SIZE + 24
    base = top + COLUMNS_HEIGHT
    pitch = (WIDTH - 2 * MARGIN) / len(labels)
    gap = min(2.0, pitch / 4)
    parts = [
        f'<line x1="{MARGIN}" y1="{_n(top)}" x2="{WIDTH - MARGIN}" y2="{_n(top)}" stroke="{LINE}" '
        'stroke-dasharray="3 3"/>',
        f'<text x="{MARGIN}" y="{_n(top - 4)}" font-size="{SMALL_SIZE}" fill="{MUTED}">{_text(_label(largest))}</text>',
        f'<line x1="{MARGIN}" y1="{_n(base)}" x2="{WIDTH - MARGIN}" y2="{_n(base)}" stroke="{MUTED}"/>',
    ]
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = MARGIN + index * pitch
        height = COLUMNS_HEIGHT * _share(value, largest)
        if height > 0:
            parts.append(f'<rect x="{_n(x + gap / 2)}" y="{_n(base - height)}" width="{_n(pitch - gap)}" '
                         f'height="{_n(height)}" fill="{PALETTE[0]}" class="bar">'
                         f"<title>{_text(label)}: {_text(_label(value))}</title></rect>")
        last = len(labels) - 1
        if index == last or (index % tick_every == 0 and last - index >= tick_every):
            anchor = "end" if index == last and index > 0 else "start"
            tick_x = x + pitch if anchor == "end" else x
            parts.append(f'<text x="{_n(tick_x)}" y="{_n(base + 16)}" font-size="{SMALL_SIZE}" fill="{MUTED}" '
                         f'text-anchor="{anchor}">{_text(fit(label, pitch * tick_every - 4, SMALL_SIZE))}</text>')
    return _document(chart_id, title, description, base + 16 + MARGIN, parts)
