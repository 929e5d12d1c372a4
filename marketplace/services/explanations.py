"""Match reasons in plain words, in the reader's language."""

from __future__ import annotations

from flask_babel import gettext as _

from marketplace.constants import COUNTRIES
from marketplace.templating import sector_name


def explain(reasons: list[dict]) -> list[str]:
    lines = []
    for reason in reasons:
        kind, detail = reason["kind"], reason.get("detail", {})
        line = _EXPLAINERS.get(kind, lambda d: None)(detail)
        if line:
            lines.append(line)
    return lines


def _terms(detail):
    return _("Shares the words: %(terms)s", terms=", ".join(detail["terms"]))


def _sectors(detail):
    return _("Same sector: %(sectors)s",
             sectors=", ".join(sector_name(code) for code in detail["codes"]))


def _country(detail):
    return _("Serves %(country)s", country=COUNTRIES.get(detail["country"], detail["country"]))


def _capacity(detail):
    if detail["fits"]:
        return _("The required capacity is within the solution's range")
    return _("The required capacity is outside the solution's range")


def _budget(detail):
    if detail["fits"]:
        return _("The indicative price fits the budget")
    return _("The indicative price is above the budget")


def _certifications(detail):
    if detail["held"] and not detail["missing"]:
        return _("Holds the required certifications: %(held)s", held=", ".join(detail["held"]))
    return _("Lacks required certifications: %(missing)s", missing=", ".join(detail["missing"]))


def _semantic(detail):
    return _("Similar in meaning (%(percent)s%% similarity)",
             percent=round(detail["similarity"] * 100))


_EXPLAINERS = {"terms": _terms, "sectors": _sectors, "country": _country,
               "capacity": _capacity, "budget": _budget, "certifications": _certifications,
               "semantic": _semantic}
