"""Cells and CSV files that spreadsheets read as the page showed them: UTF-8 with a byte-order
mark (without it Excel reads Chinese as mojibake), ISO dates, and no cell that a spreadsheet
would run as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime

BOM = "\ufeff"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """Text as a spreadsheet shows it, never as a formula it would run; numbers stay numbers."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str) and value[:1] in _FORMULA_STARTS:
        return "'" + value
    return value


def csv_text(rows: Iterable[Iterable[object]]) -> str:
    """The rows as one CSV document, BOM first."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(["" if cell is None else safe_cell(cell) for cell in row])
    return out.getvalue()


def download_headers(filename: str, content_type: str = "text/csv; charset=utf-8"
                     ) -> dict[str, str]:
    """The headers of a file the browser saves rather than shows."""
    return {"Content-Type": content_type,
            "Content-Disposition": f'attachment; filename="{filename}"'}
