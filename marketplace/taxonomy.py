"""The sector taxonomy: one tree with stable codes, loaded from ``data/taxonomy.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from search import fit


@dataclass(frozen=True)
class Sector:
    code: str
    names: dict[str, str]
    parent: str | None
    ctcn: tuple[str, ...] = ()
    y02: tuple[str, ...] = ()
    children: tuple[str, ...] = field(default=())

    def name(self, locale: str = "en") -> str:
        return self.names.get(locale) or self.names["en"]

    @property
    def is_top_level(self) -> bool:
        return self.parent is None


@dataclass(frozen=True)
class Taxonomy:
    sectors: dict[str, Sector]

    def __contains__(self, code: object) -> bool:
        return code in self.sectors

    def __getitem__(self, code: str) -> Sector:
        return self.sectors[code]

    def roots(self) -> list[Sector]:
        return [s for s in self.sectors.values() if s.parent is None]

    def ancestors(self, code: str) -> list[str]:
        """The code and all its parents, nearest first."""
        chain = []
        current: str | None = code
        while current is not None:
            chain.append(current)
            current = self.sectors[current].parent
        return chain

    def descendants(self, code: str) -> list[str]:
        """The code and everything under it."""
        found = [code]
        for child in self.sectors[code].children:
            found.extend(self.descendants(child))
        return found

    def choices(self, locale: str = "en") -> list[tuple[str, str]]:
        """(code, label) pairs in tree order, children indented under their parent."""
        pairs = []
        for root in self.roots():
            pairs.append((root.code, root.name(locale)))
            for child in root.children:
                pairs.append((child, "— " + self.sectors[child].name(locale)))
        return pairs

    def by_external_code(self, scheme: str, value: str) -> list[str]:
        """Sector codes mapped to a CTCN sector or Y02 class (prefix match for Y02)."""
        hits = []
        for sector in self.sectors.values():
            codes = sector.ctcn if scheme == "ctcn" else sector.y02
            if any(value == c or value.startswith(c) for c in codes):
                hits.append(sector.code)
        return hits


    def crosswalk(self) -> dict[str, frozenset[str]]:
        """For each sector, the other sectors it shares a CTCN sector or a Y02 class with.

        Shared means the same code, or one inside the other ("Transport" holds "Transport:
        Vehicle emissions"; "Y02P 70" holds "Y02P 70/10"). A bare Y02 subclass ("Y02A",
        "Y02E") is too broad to relate two sectors: it spans a whole family of ours.
        """
        related: dict[str, set[str]] = {code: set() for code in self.sectors}
        sectors = list(self.sectors.values())
        for i, one in enumerate(sectors):
            for other in sectors[i + 1:]:
                if _shares_external_code(one, other):
                    related[one.code].add(other.code)
                    related[other.code].add(one.code)
        return {code: frozenset(codes) for code, codes in related.items()}


def _contains(broad: str, narrow: str, separator: str) -> bool:
    return narrow == broad or narrow.startswith(broad + separator)


def _shares_external_code(one: Sector, other: Sector) -> bool:
    ctcn = any(_contains(a, b, ": ") or _contains(b, a, ": ")
               for a in one.ctcn for b in other.ctcn)
    y02 = any(_contains(a, b, "/") or _contains(b, a, "/")
              for a in one.y02 for b in other.y02 if " " in a and " " in b)
    return ctcn or y02


def _read(node: dict, parent: str | None, out: dict[str, Sector]) -> None:
    children = node.get("children", [])
    out[node["code"]] = Sector(
        code=node["code"],
        names={"en": node["en"], "zh": node["zh"]},
        parent=parent,
        ctcn=tuple(node.get("ctcn", ())),
        y02=tuple(node.get("y02", ())),
        children=tuple(child["code"] for child in children),
    )
    for child in children:
        _read(child, node["code"], out)


@cache
def taxonomy() -> Taxonomy:
    raw = json.loads(resources.files("marketplace").joinpath("data/taxonomy.json").read_text())
    sectors: dict[str, Sector] = {}
    for node in raw["sectors"]:
        _read(node, None, sectors)
    return Taxonomy(sectors)


def init_app(app) -> None:
    """Give the matcher's structured fit this tree's crosswalk: search/ knows no taxonomy."""
    fit.use_crosswalk(taxonomy().crosswalk())
