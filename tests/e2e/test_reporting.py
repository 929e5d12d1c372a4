"""The staff dashboard in a browser (issue 14): its charts are drawn, a table's CSV downloads
with the figures the page shows, and the public results page needs no sign-in."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.e2e.conftest import sign_in


def test_the_dashboard_draws_charts_and_downloads_a_csv(page, world):
    sign_in(page, world.staff_email)
    page.goto("/staff/dashboard")
    charts = page.locator("img[data-chart]")
    assert charts.count() >= 5
    # Each chart is an image the browser really decoded, not a broken icon.
    widths = charts.evaluate_all("images => images.map(image => image.naturalWidth)")
    assert all(width > 0 for width in widths), widths

    table = page.locator("section[data-table=organisations_by_country]")
    table.locator("summary").click()  # the table view of the chart
    first_row = table.locator("tbody tr").first.locator("th, td").all_inner_texts()
    with page.expect_download() as download_info:
        table.get_by_role("link", name="Download as CSV").click()
    download = download_info.value
    assert download.suggested_filename == "organisations_by_country.csv"
    text = Path(download.path()).read_text(encoding="utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == ["Country", "Organisations", "Verified"]
    assert rows[1] == [cell.strip() for cell in first_row]


def test_a_filter_narrows_the_dashboard(page, world):
    sign_in(page, world.staff_email)
    page.goto("/staff/dashboard")
    page.select_option("select[name=country]", "CN")
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    assert "country=CN" in page.url
    rows = page.locator("section[data-table=organisations_by_country] tbody tr")
    assert rows.count() == 1
    assert "China" in rows.first.text_content()  # in the (closed) table view


def test_the_results_page_is_public(page, world):
    page.goto("/results")
    assert page.get_by_role("heading", name="Results of the network").is_visible()
    # This small world's cells have too few organisations behind them: hidden, as "<3".
    assert "<3" in page.locator("section[data-table=network_by_country]").text_content()
