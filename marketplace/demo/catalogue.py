"""The technology catalogue, as the demo reads it: each entry's key terms, description and
sectors, from the CC BY 4.0 catalogue in marketplace/data/."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

_DATA = json.loads((Path(__file__).parent / "data" / "sectors.json").read_text(encoding="utf-8"))

# Sector codes for a catalogue row, by technology name first, then by technology group.
TECHNOLOGY_SECTORS = _DATA["technology_sectors"]
GROUP_SECTORS = _DATA["group_sectors"]


@dataclass
class CatalogueRow:
    group: str
    technology: str
    description: str
    key_terms: list[str]
    source: str


def rows() -> list[CatalogueRow]:
    text = resources.files("marketplace").joinpath("data/demo/technology-catalogue.csv")
    rows = []
    for raw in csv.DictReader(io.StringIO(text.read_text(encoding="utf-8"))):
        technology = raw["technology"].strip()
        # Rows without a name, and nuclear power, are not offers for this marketplace.
        if not technology or raw["technology_group"].startswith("Nuclear"):
            continue
        rows.append(CatalogueRow(raw["technology_group"], technology,
                                 description(raw["description"]),
                                 key_terms(technology, raw["key_terms"]),
                                 raw["source"].strip()))
    return rows


# The catalogue writes its key terms as a quoted list, sometimes with prose in it:
# '“methane capture”, “remote leak monitoring”; NOT CCS, “carbon capture”' or
# '..., and “power-to-syngas”'.  A keyword is the quoted term alone.
_QUOTES = str.maketrans("", "", "“”\"'‘’\u00a0")
_EXCLUSION = re.compile(r";\s*NOT\b.*", re.S)
# Terms the entry's own description rules out, and misspellings, by technology.
_EXCLUDED_TERMS = {"low GHG chemicals": {"carbon capture and storage",
                                         "carbon capture and sequestration"}}
_TERM_FIXES = {"low GHG envelop": "low GHG envelope",
               "low green house gas envelop": "low green house gas envelope",
               "low green house fertiliser": "low green house gas fertiliser",
               "fertiliser with amonia reduction": "fertiliser with ammonia reduction",
               "straw solage": "straw silage"}


def key_terms(technology: str, raw: str) -> list[str]:
    terms = []
    for part in _EXCLUSION.sub("", raw).split(","):
        term = " ".join(part.translate(_QUOTES).split()).removeprefix("and ")
        term = _TERM_FIXES.get(term, term)
        if term and term not in _EXCLUDED_TERMS.get(technology, ()) and term not in terms:
            terms.append(term)
    return terms


# 'Also “solar photovoltaic”; technology of ...': the other names come first in the
# catalogue, which makes a poor first line for a listing; they move to the end.
_ALSO_KNOWN = re.compile(r"^(?:Here also|Also),?\s*([^;.]+)[;.]\s*(.+)$", re.S)


def description(raw: str) -> str:
    text = raw.strip()
    also = _ALSO_KNOWN.match(text)
    if not also:
        return text
    names, rest = also.group(1).strip(), also.group(2).strip()
    rest = rest[0].upper() + rest[1:]
    return f"{rest}{'' if rest.endswith('.') else '.'} Also called {names}."


def sectors_for(row: CatalogueRow) -> list[str]:
    name = row.technology.lower()
    for word, codes in TECHNOLOGY_SECTORS.items():
        if word in name:
            return codes
    return GROUP_SECTORS.get(row.group, ["CPP"])
