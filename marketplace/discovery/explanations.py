"""Match reasons in plain words, in the reader's language.

The reasons come from the matcher (search/fit.py lists their details). What makes the match
(sectors, shared concepts, capacity) comes first, then the supporting evidence, then what is
unmet. No similarity is ever shown as a number: e5 cosines crowd between 0.75 and 0.85 for
any two texts of this field, so "81%" would tell a reader nothing (DESIGN.md, Matching).
"""

from __future__ import annotations

from flask_babel import format_decimal
from flask_babel import gettext as _

from marketplace.constants import CAPACITY_UNITS, COUNTRIES
from marketplace.templating import sector_name

# The order lines are shown in; kinds not named here come last.
ORDER = ("sectors", "concepts", "capacity", "semantic", "terms", "country", "budget",
         "certifications", "unmet")


def explain(reasons: list[dict]) -> list[str]:
    """One line per reason that has something to say, in ORDER."""
    lines = []
    for reason in sorted(reasons, key=_rank):
        kind, detail = _kind_and_detail(reason)
        line = _EXPLAINERS.get(kind, lambda d: None)(detail or {})
        if line and line not in lines:
            lines.append(line)
    return lines


def _kind_and_detail(reason) -> tuple[str, dict]:
    if isinstance(reason, dict):
        return reason.get("kind", ""), reason.get("detail") or {}
    return reason.kind, reason.detail  # a search.documents.Reason


def _rank(reason) -> int:
    kind = _kind_and_detail(reason)[0]
    return ORDER.index(kind) if kind in ORDER else len(ORDER)


def _number(value: float, significant: int = 3) -> str:
    """A figure a reader takes in at a glance: 476,190.48 -> "476,000"."""
    return format_decimal(float(f"{value:.{significant}g}"))


def _listing(names) -> str:
    # "; " because sector names hold commas ("Landfill, leachate and landfill gas").
    return "; ".join(names)


def _terms(detail):
    if detail.get("terms"):
        return _("Shares the words: %(terms)s", terms=", ".join(detail["terms"]))
    return None


def _concepts(detail):
    if detail.get("terms"):
        return _("Both are about: %(terms)s", terms=", ".join(detail["terms"]))
    return None


def _semantic(detail):
    # Rows written before calibration hold a raw "similarity": they say nothing, so no line.
    level = detail.get("level")
    if level == "close":
        return _("Close in meaning")
    if level == "related":
        return _("Related in meaning")
    return None


def _sectors(detail):
    codes = detail.get("codes") or []
    if not codes:
        return None
    names = _listing(sector_name(code) for code in codes)
    relation = detail.get("relation", "same")  # rows written before relations were "same"
    if relation == "family":
        return _("Same sector family: %(sectors)s", sectors=names)
    if relation == "crosswalk":
        return _("Related sectors: %(sectors)s", sectors=names)
    return _("Same sector: %(sectors)s", sectors=names)


def _country_name(code: str) -> str:
    return str(COUNTRIES.get(code, code))


def _country(detail):
    return _("Serves %(country)s", country=_country_name(detail.get("country", "")))


# -- capacity --------------------------------------------------------------------------------

# The unit a capacity is shown in, chosen by the need's figure (in the base unit): the first
# whose limit the figure is below. Small plants are sized per hour, large ones per day.
DISPLAY_UNITS = {
    "flow": (("m3/h", 2400.0), ("m3/day", None)),  # below 100 m³/h, in m³/h
    "mass_rate": (("kg/h", 1.0), ("t/day", None)),
    "power": (("kW", 1000.0), ("MW", None)),
    "energy": (("kWh", 1000.0), ("MWh", None)),
    "gas_flow": (("Nm3/h", None),),
    "area": (("ha", None),),
    "count": (("units", None),),
}


def display_unit(dimension: str, reference: float) -> str | None:
    for unit, limit in DISPLAY_UNITS.get(dimension, ()):
        if limit is None or reference < limit:
            return unit
    return None


def _capacity(detail):
    figures = [detail.get(key) for key in ("need", "min", "max")]
    unit = None if None in figures else display_unit(detail.get("dimension", ""), figures[0])
    if unit is None:  # a row written before the figures were kept
        if detail.get("fits"):
            return _("The required capacity is within the solution's range")
        return _("The required capacity is outside the solution's range")
    _dimension, factor, label = CAPACITY_UNITS[unit]
    need, low, high = (_number(value / factor) for value in figures)
    label = str(label)
    if low == high:
        offer = f"{high} {label}"
    elif detail["min"] <= 0:
        offer = _("up to %(amount)s", amount=f"{high} {label}")
    else:
        offer = f"{low}–{high} {label}"
    wanted = f"{need} {label}"
    if detail.get("fits"):
        return _("Handles %(offer)s; you need %(need)s", offer=offer, need=wanted)
    return _("Handles %(offer)s; you need %(need)s (outside the range)", offer=offer,
             need=wanted)


# -- budget ----------------------------------------------------------------------------------


def _money(currency: str, low: float | None, high: float, significant: int = 12) -> str:
    if low is None:
        return _("up to %(amount)s", amount=f"{currency} {_number(high, significant)}")
    if low == high:
        return f"{currency} {_number(high, significant)}"
    return f"{currency} {_number(low, significant)}–{_number(high, significant)}"


def _budget(detail):
    if detail.get("price_min") is None:  # a row written before the figures were kept
        if detail.get("fits"):
            return _("The indicative price fits the budget")
        return _("The indicative price is above the budget")
    figures = {
        "price": f"{detail['price_currency']} {_number(detail['price_min'], 12)}",
        "budget": _money(detail["budget_currency"], detail.get("budget_min"),
                         detail["budget_max"]),
    }
    if detail.get("as_of"):
        figures.update(
            converted=_money(detail["price_currency"], detail.get("converted_min"),
                             detail["converted_max"], significant=3),
            rate=f"1 {detail['price_currency']} = {_number(detail['rate'], 4)} "
                 f"{detail['budget_currency']}", date=detail["as_of"])
        if detail.get("fits"):
            return _("Indicative price from %(price)s fits the budget of %(budget)s "
                     "(≈ %(converted)s; %(rate)s, rate of %(date)s)", **figures)
        return _("Indicative price from %(price)s is above the budget of %(budget)s "
                 "(≈ %(converted)s; %(rate)s, rate of %(date)s)", **figures)
    if detail.get("fits"):
        return _("Indicative price from %(price)s fits the budget of %(budget)s", **figures)
    return _("Indicative price from %(price)s is above the budget of %(budget)s", **figures)


# -- requirements ----------------------------------------------------------------------------


def _lacks(missing) -> str:
    return _("Lacks the required certifications: %(missing)s", missing=", ".join(missing))


def _certifications(detail):
    if detail.get("missing"):  # rows written before unmet reasons
        return _lacks(detail["missing"])
    if detail.get("held"):
        return _("Holds the required certifications: %(held)s", held=", ".join(detail["held"]))
    return None


def _unmet(detail):
    what = detail.get("what")
    if what == "trl":
        return _("Needs TRL %(need)s; this is TRL %(offer)s", need=detail["need"],
                 offer=detail["offer"])
    if what == "certifications" and detail.get("missing"):
        return _lacks(detail["missing"])
    if what == "country":
        return _("Does not serve %(country)s", country=_country_name(detail.get("need", "")))
    return None


_EXPLAINERS = {"terms": _terms, "concepts": _concepts, "semantic": _semantic,
               "sectors": _sectors, "country": _country, "capacity": _capacity,
               "budget": _budget, "certifications": _certifications, "unmet": _unmet}
