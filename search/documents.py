"""What the search index holds for a listing: a plain dataclass, independent of the app.

``marketplace.discovery.indexing`` turns a Solution or Need into a ``ListingDocument``; the
backends store it; the matcher reads it back.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

KINDS = ("solution", "need")

# Field boosts for BM25: a word in the title says more than one deep in the description.
TEXT_FIELDS = {"title": 3.0, "keywords": 2.0, "summary": 2.0, "description": 1.0}


@dataclass
class ListingDocument:
    id: int
    kind: str  # "solution" or "need"
    title: str
    summary: str = ""
    description: str = ""
    keywords: list[str] = field(default_factory=list)
    # Sector codes with their ancestors, so a filter on "WAT" finds "WAT.MUN".
    sectors: list[str] = field(default_factory=list)
    # Countries served (solution) or the need's country.
    countries: list[str] = field(default_factory=list)
    base: str | None = None
    trl: int | None = None  # a solution's readiness
    min_trl: int | None = None  # a need's minimum
    # Capacity in the base unit of its dimension (see marketplace.constants.CAPACITY_UNITS).
    capacity_dimension: str | None = None
    capacity_min: float | None = None
    capacity_max: float | None = None
    price_min: float | None = None
    price_max: float | None = None
    currency: str | None = None
    certifications: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    organization_id: int | None = None
    organization: str = ""
    status: str = "published"
    published_at: datetime | None = None
    expires_at: datetime | None = None
    embedding: list[float] | None = None

    def embedding_text(self) -> str:
        """Short text to embed: the full description is too slow to embed (DESIGN.md)."""
        parts = [self.title, self.summary or self.description[:300], ", ".join(self.keywords)]
        return ". ".join(p.strip() for p in parts if p and p.strip())

    def full_text(self) -> str:
        """Everything a reader reads: what concepts are spotted in."""
        return "\n".join(p for p in (self.title, self.summary, ", ".join(self.keywords),
                                      self.description) if p)

    def content_hash(self) -> str:
        """Changes whenever anything indexed changes; ``flask search check`` compares it."""
        raw = json.dumps(self.fields_without_embedding(), sort_keys=True, default=str,
                         ensure_ascii=False)
        return hashlib.sha256(raw.encode()).hexdigest()[:32]

    def fields_without_embedding(self) -> dict[str, Any]:
        """Every field but the embedding, by name: a shallow copy (``dataclasses.asdict``
        would deep-copy the 384 floats of the embedding, most of a bulk load's client time).
        """
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "embedding"}

    def is_live(self, now: datetime) -> bool:
        return self.status == "published" and (self.expires_at is None or self.expires_at > now)

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> ListingDocument:
        """The document a backend stored as JSON (dates as ISO text), without its embedding;
        fields the document no longer has are dropped."""
        known = {f.name for f in fields(cls)} - {"embedding"}
        values = {name: value for name, value in data.items() if name in known}
        for name in ("published_at", "expires_at"):
            if values.get(name):
                values[name] = datetime.fromisoformat(values[name])
        return cls(**values)


@dataclass
class Filters:
    """Hard filters, applied inside the backend before ranking."""

    sectors: list[str] = field(default_factory=list)  # any of (already expanded)
    countries: list[str] = field(default_factory=list)  # any of
    bases: list[str] = field(default_factory=list)
    min_trl: int | None = None  # keep solutions with trl >= this
    accepts_trl: int | None = None  # keep needs whose min_trl <= this
    certifications: list[str] = field(default_factory=list)  # all of
    live_only: bool = True
    exclude_ids: list[int] = field(default_factory=list)
    only_ids: list[int] | None = None  # restrict to these ids (None: no restriction)
    now: datetime | None = None  # "live" is judged at this time (default: now)


@dataclass
class Hit:
    id: int
    score: float
    # field -> fragments with matched words wrapped in <mark>...</mark>
    highlights: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Reason:
    """One piece of evidence for a match, stored in the ledger and explained to readers."""

    # terms, concepts, semantic, sectors, country, capacity, budget, certifications, unmet;
    # search/fit.py lists the details of the structured ones.
    kind: str
    detail: dict = field(default_factory=dict)


@dataclass
class SearchResult:
    hits: list[Hit]
    total: int
    # facet name -> {value: count}; facet names: sector, country, base, trl, certification
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


FACETS = ("sector", "country", "base", "trl", "certification")
