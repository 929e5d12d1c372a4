"""The shape every report figure takes: a titled table of cells, optionally drawn as a chart.

The dashboard, its CSV files, the review workbook and the PDF all read these same tables, and
`cell_text` is the one way a cell becomes text, so what is exported is what was on the screen.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

Cell = str | int | float | None

CHART_KINDS = ("bar", "hbar", "line", "funnel")


@dataclass(frozen=True)
class Chart:
    kind: str  # one of CHART_KINDS
    series: tuple[int, ...] = (1,)  # the columns drawn; column 0 labels the x axis


@dataclass
class Table:
    key: str  # unique across the dashboard: the CSV's file name
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    chart: Chart | None = None
    note: str = ""

    def column(self, index: int) -> list[Cell]:
        return [row[index] for row in self.rows]


@dataclass
class Section:
    key: str
    title: str
    tables: list[Table] = field(default_factory=list)
    note: str = ""


def figures_table(key: str, title: str, figures: Iterable[tuple[str, Cell]]) -> Table:
    """A section's headline figures, as a two-column table."""
    return Table(key, title, [str(_l("Figure")), str(_l("Value"))],
                 [[label, value] for label, value in figures])


def cell_text(value: Cell) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def median(values: Iterable[float | None]) -> float | None:
    found = [value for value in values if value is not None]
    return round(statistics.median(found), 1) if found else None
