"""Report charts (marketplace/reporting/charts.py): SVG that needs nothing from the network."""

from __future__ import annotations

import base64
import re

from marketplace.reporting import charts
from marketplace.reporting.tables import Chart, Table


def table(rows, kind="hbar", series=(1,)):
    return Table("t", "Title", ["Country", "Organisations", "Verified"], rows,
                 Chart(kind, series))


def test_a_chart_is_self_contained_svg():
    markup = charts.svg(table([["China", 17, 15], ["Viet Nam", 4, 4]], series=(1, 2)))
    assert markup.startswith("<svg") and "<script" not in markup
    assert not re.search(r'(href|src)="(https?:)?//', markup)
    assert "China" in markup and "Verified" in markup


def test_hidden_figures_are_left_out_not_drawn_as_zero():
    markup = charts.svg(table([["China", 17, 1], ["Brunei Darussalam", "<3", 0]]))
    assert "China" in markup and "Brunei" not in markup
    zero = charts.svg(table([["China", 17, 1], ["Brunei Darussalam", 0, 0]]))
    assert "Brunei" in zero


def test_nothing_to_draw_is_no_chart():
    assert charts.svg(table([])) is None
    assert charts.svg(table([["China", 0, 0]])) is None
    assert charts.svg(table([["China", "<3", 0]])) is None
    no_chart = Table("t", "Title", ["a", "b"], [["x", 1]])
    assert charts.svg(no_chart) is None and charts.image_uri(no_chart) is None


def test_every_kind_draws():
    rows = [["2026-01", 3, 1], ["2026-02", 5, 2], ["2026-03", 0, 0]]
    for kind in ("bar", "hbar", "line", "funnel"):
        assert charts.svg(table(rows, kind, (1, 2) if kind != "funnel" else (1,)))


def test_an_image_uri_carries_the_svg():
    uri = charts.image_uri(table([["China", 17, 15]]))
    prefix = "data:image/svg+xml;base64,"
    assert uri.startswith(prefix)
    assert base64.b64decode(uri[len(prefix):]).startswith(b"<svg")
