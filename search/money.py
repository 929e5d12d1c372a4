"""Converting between currencies through one dated table of indicative exchange rates.

Budgets are stated in local currencies and prices in CNY or USD; the fit compares them through
``data/exchange_rates.csv`` (units of each currency per US dollar, all as of one date). The
table is indicative, like the prices it converts: update every row and the date together.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

RATES_FILE = Path(__file__).parent / "data" / "exchange_rates.csv"


@dataclass(frozen=True)
class Rates:
    as_of: date
    per_usd: dict[str, float]  # currency code -> units per US dollar

    def rate(self, source: str, target: str) -> float | None:
        """Units of ``target`` per unit of ``source`` (None when either is unknown)."""
        if source not in self.per_usd or target not in self.per_usd:
            return None
        return self.per_usd[target] / self.per_usd[source]

    def convert(self, amount: float, source: str, target: str) -> float | None:
        factor = self.rate(source, target)
        return None if factor is None else amount * factor


def load_rates(path: Path = RATES_FILE) -> Rates:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    dates = {row["as_of"] for row in rows}
    if len(dates) != 1:  # one table, one date: a reason names the date of the rate it used
        raise ValueError(f"{path.name}: rates must share one as_of date, found {sorted(dates)}")
    return Rates(as_of=date.fromisoformat(dates.pop()),
                 per_usd={row["currency"].strip().upper(): float(row["units_per_usd"])
                          for row in rows})


@cache
def rates() -> Rates:
    return load_rates()


def convert(amount: float, source: str, target: str) -> float | None:
    """``amount`` of ``source`` in ``target`` at the table's rates; None for an unknown one."""
    return rates().convert(amount, source.upper(), target.upper())
