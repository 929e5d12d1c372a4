"""Report tables drawn as SVG on the server, with pygal.

Why pygal: it is pure Python and writes SVG in a few milliseconds, with no browser, no network
and no CDN; the same file shows on the dashboard and in the PDF (WeasyPrint draws SVG).  Its
optional tooltip script comes from a CDN, so it is switched off (``js=[]``).  Altair with
vl-convert would draw the same through a bundled JavaScript engine: a 100 MB wheel for bars
and lines.

Charts are shown as images with a text alternative, next to a table view of the same figures
for screen readers.
"""

from __future__ import annotations

import base64
import re

import pygal
from pygal.style import Style

from marketplace.reporting.tables import Table

STYLE = Style(
    font_family="'Noto Sans CJK SC', 'Noto Sans', 'Helvetica Neue', Arial, sans-serif",
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1f2a24",
    foreground_strong="#1f2a24",
    foreground_subtle="#d5ddd8",
    colors=("#1b7f5b", "#2f6fb0", "#c2772b", "#7d4fa8"),
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=13,
    value_font_size=12,
    title_font_size=15,
)

_CHARTS = {"bar": pygal.Bar, "hbar": pygal.HorizontalBar, "line": pygal.Line,
           "funnel": pygal.Funnel}
_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)
LABEL_LIMIT = 28  # longer axis labels are cut, the table view has them whole


def svg(table: Table) -> str | None:
    """The table's chart, or None when it has no chart or nothing to draw."""
    rows = _rows_to_draw(table)
    if table.chart is None or not any(_number(row[i]) for row in rows
                                      for i in table.chart.series):
        return None
    kind = table.chart.kind
    chart = _CHARTS[kind](
        style=STYLE, js=[], disable_xml_declaration=True, width=720,
        height=_height(kind, len(rows), len(table.chart.series)), explicit_size=False,
        legend_at_bottom=True, show_legend=kind != "funnel" and len(table.chart.series) > 1,
        show_y_labels=kind != "funnel", truncate_label=LABEL_LIMIT,
        x_label_rotation=30 if kind in ("bar", "line") and len(rows) > 8 else 0,
        print_values=False, show_minor_x_labels=len(rows) <= 24, margin=12)
    labels = [str(row[0]) for row in rows]
    if kind == "funnel":
        for label, row in zip(labels, rows, strict=True):
            chart.add(label, [_number(row[table.chart.series[0]])])
    else:
        chart.x_labels = labels
        if kind == "line" and len(labels) > 24:
            chart.x_labels_major = labels[::max(1, len(labels) // 12)]
        for index in table.chart.series:
            chart.add(table.columns[index], [_number(row[index]) for row in rows])
    # With js=[] pygal still writes its tooltip settings as an inline script: dead weight in
    # an image, where scripts never run, so it goes.
    return _SCRIPT.sub("", chart.render(is_unicode=True))


def _rows_to_draw(table: Table) -> list[list]:
    if table.chart is None:
        return []
    rows = table.rows
    if table.chart.kind != "line":  # a hidden figure ("<3") is no bar, not a zero bar
        rows = [row for row in rows if any(_number(row[i]) is not None
                                           for i in table.chart.series)]
    # pygal draws horizontal bars bottom-up: reversed, the table's first row is on top.
    return rows[::-1] if table.chart.kind == "hbar" else rows


def image_uri(table: Table) -> str | None:
    """The chart as a data: URI for an <img> (the page's CSP allows data: images)."""
    markup = svg(table)
    if markup is None:
        return None
    return "data:image/svg+xml;base64," + base64.b64encode(markup.encode()).decode()


def _number(value) -> float | None:
    return value if isinstance(value, int | float) else None


def _height(kind: str, rows: int, series: int) -> int:
    if kind == "hbar":
        return max(240, 60 + 26 * rows * max(1, series // 2 + 1))
    return 320
