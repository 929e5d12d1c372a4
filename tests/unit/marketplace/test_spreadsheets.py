"""CSV and cells as spreadsheets read them (marketplace/spreadsheets.py) and the report tables'
cell text (marketplace/reporting/tables.py)."""

from __future__ import annotations

from datetime import date

from marketplace.reporting.scope import months
from marketplace.reporting.tables import cell_text, median, percent
from marketplace.spreadsheets import BOM, csv_text, safe_cell


def test_a_csv_starts_with_a_bom_and_keeps_chinese():
    text = csv_text([["国家", "机构"], ["越南", 4], ["x", None]])
    assert text.startswith(BOM)
    assert text[1:].splitlines() == ["国家,机构", "越南,4", "x,"]


def test_no_cell_runs_as_a_formula():
    for dangerous in ("=1+1", "+cmd", "-2", "@SUM(A1)", "\tx"):
        assert safe_cell(dangerous) == "'" + dangerous
    assert safe_cell("Yixing") == "Yixing" and safe_cell(-2) == -2
    assert safe_cell(date(2025, 3, 1)) == "2025-03-01"


def test_cells_read_the_same_everywhere():
    assert [cell_text(v) for v in (None, 3, 66.66, "<3")] == ["—", "3", "66.7", "<3"]
    assert percent(2, 3) == 66.7 and percent(1, 0) is None
    assert median([3, None, 1, 2]) == 2 and median([]) is None


def test_months_cover_the_period_without_gaps():
    assert months(date(2025, 11, 20), date(2026, 2, 1)) == [
        "2025-11", "2025-12", "2026-01", "2026-02"]
