"""The dashboard's tables as files: one CSV per table, and the review report for a period (an
XLSX workbook with a sheet per section, and a PDF summary with the charts).

Each writes the tables' cells as `tables.cell_text` shows them on screen, except that the
workbook keeps numbers as numbers so a spreadsheet can sum them.
"""

from __future__ import annotations

import io
from pathlib import Path

from flask import current_app, render_template
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from marketplace.reporting.tables import Section, Table, cell_text
from marketplace.spreadsheets import csv_text, safe_cell

PDF_TYPE = "application/pdf"
PDF_STYLESHEET = "review-pdf.css"  # in marketplace/static
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def table_rows(table: Table) -> list[list[str]]:
    """The header and the rows, as the screen shows them."""
    return [list(table.columns), *([cell_text(cell) for cell in row] for row in table.rows)]


def table_csv(table: Table) -> str:
    return csv_text(table_rows(table))


def find_table(sections: list[Section], key: str) -> Table | None:
    return next((table for section in sections for table in section.tables
                 if table.key == key), None)


def workbook(sections: list[Section], scope_lines: list[str]) -> bytes:
    """One sheet per section, its tables one under the other, after a sheet on the scope."""
    book = Workbook()
    about = book.active
    about.title = "Scope"
    for line in scope_lines:
        about.append([safe_cell(line)])
    bold = Font(bold=True)
    for section in sections:
        sheet = book.create_sheet(section.title[:31])
        for table in section.tables:
            sheet.append([safe_cell(table.title)])
            sheet.cell(sheet.max_row, 1).font = bold
            sheet.append([safe_cell(column) for column in table.columns])
            for cell in sheet[sheet.max_row]:
                cell.font = bold
            for row in table.rows:  # numbers stay numbers; a missing figure reads as on screen
                sheet.append([cell_text(cell) if cell is None else safe_cell(cell)
                              for cell in row])
            sheet.append([])
        for index in range(1, sheet.max_column + 1):
            sheet.column_dimensions[get_column_letter(index)].width = 22 if index > 1 else 44
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def pdf(sections: list[Section], scope_lines: list[str]) -> bytes:
    """The summary: each section's figures and charts, the tables whole."""
    # WeasyPrint loads pango through cffi when imported: only the PDF needs it.
    import weasyprint

    html = render_template("reporting/review.html", sections=sections,
                           scope_lines=scope_lines)
    # A stylesheet file rather than a <style> element: no template carries inline style.
    style = weasyprint.CSS(filename=str(Path(current_app.static_folder) / PDF_STYLESHEET))
    return weasyprint.HTML(string=html).write_pdf(stylesheets=[style])
