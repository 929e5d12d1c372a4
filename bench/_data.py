"""Benchmark corpus built from the real clean-technology texts in ``../shared/data``.

The texts are read at run time and never copied into the repository.  Source (CC BY 4.0):
MaastrichtU-IDS/clean-technologies-nlp, ``data/`` (Koretsky, Hernández Serrano, Adekunle,
2019-2021); the shared copy filled the catalogue's merged cells down, renamed its columns,
reduced the CORDIS projects to a few columns and repaired mis-decoded characters.  Here the
texts are further cut into title / summary / description and combined with invented,
seeded-random marketplace attributes (sectors, countries, TRL, capacity, prices).

Documents beyond the number of unique texts are variants: the base text plus a line naming a
reference deployment (acronym, city, year) appended to the description, with their own
attributes.  ``ListingDocument.embedding_text()`` reads title, summary and keywords only, so a
variant's embedding text is exactly its base's and the base vector is the right vector.
"""

from __future__ import annotations

import csv
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from marketplace.constants import ASEAN_COUNTRIES, BASES, CAPACITY_UNITS
from marketplace.taxonomy import taxonomy
from search.documents import ListingDocument

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = REPO.parent / "shared" / "data"
CORDIS = "cordis-cleantech-projects.jsonl"
CATALOGUE = "technology-catalogue.csv"
CREDIT = ("CORDIS clean-technology projects and the technology catalogue from "
          "MaastrichtU-IDS/clean-technologies-nlp, `data/` (Koretsky, Hernández Serrano, "
          "Adekunle, 2019-2021), licensed [CC BY 4.0](https://creativecommons.org/licenses/by/4.0/)"
          ". Changes (shared copy): merged catalogue cells filled down, columns renamed, "
          "projects reduced to a few columns, mis-decoded characters repaired. Changes (here): "
          "texts cut into title/summary/description, held-out objectives truncated to ~300 "
          "characters as queries, and combined with invented seeded-random attributes and "
          "deployment lines. Read from `../shared/data` at run time, not copied into the repo.")

SEED = 20240531
HELD_OUT = 300  # CORDIS projects kept out of the index and used as need-like queries
SUMMARY_CHARS = 300
QUERY_CHARS = 300
# "Live" is judged at this fixed time so every run filters the same documents.
NOW = datetime(2025, 6, 1, tzinfo=UTC)

COUNTRIES = (*ASEAN_COUNTRIES, "CN")
CITIES = {
    "BN": ("Bandar Seri Begawan", "Kuala Belait"), "KH": ("Phnom Penh", "Siem Reap"),
    "ID": ("Jakarta", "Surabaya", "Bandung"), "LA": ("Vientiane", "Luang Prabang"),
    "MY": ("Kuala Lumpur", "Penang", "Johor Bahru"), "MM": ("Yangon", "Mandalay"),
    "PH": ("Manila", "Cebu", "Davao"), "SG": ("Singapore",),
    "TH": ("Bangkok", "Chiang Mai", "Rayong"), "VN": ("Hanoi", "Ho Chi Minh City", "Da Nang"),
    "CN": ("Yixing", "Wuzhou", "Shenzhen", "Suzhou", "Nanning"),
}
CERTIFICATIONS = ("ISO 9001", "ISO 14001", "ISO 45001", "CE", "CCC", "UL")
CURRENCIES = ("USD", "CNY", "EUR")
DEPLOYMENTS = ("pilot", "demonstration plant", "reference site", "field trial", "retrofit")


@dataclass(frozen=True)
class BaseText:
    title: str
    summary: str
    description: str
    keywords: tuple[str, ...]
    acronym: str
    year: int

    def embedding_text(self) -> str:
        return ListingDocument(id=0, kind="solution", title=self.title, summary=self.summary,
                               description=self.description,
                               keywords=list(self.keywords)).embedding_text()


def cut(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[:limit + 1]
    return head[:head.rfind(" ")] if " " in head else text[:limit]


def _title_case(text: str) -> str:
    """CORDIS titles are often in capitals; listings are not."""
    return text.capitalize() if text.isupper() else text


def _key_terms(raw: str) -> tuple[str, ...]:
    terms = (t.strip(" “”\"'") for t in re.split(r"[,;]", raw or ""))
    return tuple(dict.fromkeys(t for t in terms if t))


def _projects(data_dir: Path) -> list[dict]:
    """The CORDIS projects that have an objective, in file order."""
    with (data_dir / CORDIS).open(encoding="utf-8") as handle:  # not splitlines(): U+2028
        projects = [json.loads(line) for line in handle if line.strip()]
    return [p for p in projects if (p.get("objective") or "").strip()]


def held_out_projects(data_dir: Path = DATA_DIR, seed: int = SEED) -> list[tuple[str, str]]:
    """(title, whole objective) of the held-out projects behind ``load_corpus``'s queries,
    in the same order: need-like texts that are not among the indexed bases."""
    projects = _projects(data_dir)
    random.Random(seed).shuffle(projects)  # the same first shuffle as load_corpus
    return [(_title_case(p["title"].strip()), " ".join(p["objective"].split()))
            for p in projects[:HELD_OUT]]


def load_corpus(data_dir: Path = DATA_DIR, seed: int = SEED) -> tuple[list[BaseText], list[str]]:
    """(unique base texts to index, held-out need-like query texts), both in seeded order."""
    projects = _projects(data_dir)
    rng = random.Random(seed)
    rng.shuffle(projects)
    held_out, indexed = projects[:HELD_OUT], projects[HELD_OUT:]
    bases = []
    for p in indexed:
        objective = " ".join(p["objective"].split())
        year = int((p.get("startDate") or "2018")[:4])
        bases.append(BaseText(title=_title_case(p["title"].strip()),
                              summary=cut(objective, SUMMARY_CHARS), description=objective,
                              keywords=(), acronym=p.get("acronym") or f"P{p['id']}", year=year))
    with (data_dir / CATALOGUE).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            description = (row["description"] or "").strip() or (
                f"{row['technology']}: a technology of the group {row['technology_group']} "
                f"({row['ipcc_sector']}).")
            name = row["technology"].strip()
            bases.append(BaseText(title=name[:1].upper() + name[1:],
                                  summary=cut(description, SUMMARY_CHARS),
                                  description=f"{description} Technology group: "
                                              f"{row['technology_group']}; sector: "
                                              f"{row['ipcc_sector']}.",
                                  keywords=_key_terms(row["key_terms"]),
                                  acronym=re.sub(r"[^A-Z0-9]", "", name.upper())[:8] or "TECH",
                                  year=2020))
    rng.shuffle(bases)
    queries = [cut(p["objective"], QUERY_CHARS) for p in held_out]
    return bases, queries


def _leaf_sectors() -> list[str]:
    tree = taxonomy()
    return sorted(code for code, sector in tree.sectors.items() if not sector.children)


def documents(bases: list[BaseText], vectors: list[list[float]], count: int,
              seed: int = SEED) -> Iterator[ListingDocument]:
    """``count`` distinct solution documents, ids 1..count, deterministic for a seed.

    Document ``i`` uses base ``i % len(bases)``; copy ``i // len(bases)`` of it gets its own
    deployment line and attributes.  ``vectors[j]`` (a list, shared, not copied) is base j's
    passage embedding.
    """
    rng = random.Random(seed)
    tree = taxonomy()
    leaves = _leaf_sectors()
    units = sorted(CAPACITY_UNITS)
    bases_list = sorted(BASES)
    for i in range(count):
        j, copy = i % len(bases), i // len(bases)
        base = bases[j]
        countries = rng.sample(COUNTRIES, rng.randint(1, 4))
        city = rng.choice(CITIES[countries[0]])
        year = base.year + copy % 7
        line = (f"Reference deployment {base.acronym}-{copy + 1}: {rng.choice(DEPLOYMENTS)} in "
                f"{city}, {year}.")
        sectors: dict[str, None] = {}
        for leaf in rng.sample(leaves, rng.randint(1, 2)):
            sectors.update(dict.fromkeys(tree.ancestors(leaf)))
        unit = rng.choice(units)
        dimension, factor, _label = CAPACITY_UNITS[unit]
        low = round(rng.uniform(1, 500), 1)
        price = round(rng.uniform(5_000, 2_000_000), -2)
        published = NOW - timedelta(days=rng.randint(1, 700), minutes=rng.randint(0, 1439))
        # About 5% have expired by NOW: the live filter has something to remove.
        expires = NOW + timedelta(days=rng.randint(1, 700)) if rng.random() >= 0.05 \
            else NOW - timedelta(days=rng.randint(1, 30))
        org = rng.randint(1, max(1, count // 20))
        yield ListingDocument(
            id=i + 1, kind="solution", title=base.title, summary=base.summary,
            description=f"{base.description}\n{line}", keywords=list(base.keywords),
            sectors=list(sectors), countries=countries,
            base=rng.choice(bases_list) if rng.random() < 0.7 else None,
            trl=rng.randint(3, 9), capacity_dimension=dimension,
            capacity_min=low * factor, capacity_max=round(low * rng.uniform(1, 20), 1) * factor,
            price_min=price, price_max=round(price * rng.uniform(1, 3), -2),
            currency=rng.choice(CURRENCIES),
            certifications=rng.sample(CERTIFICATIONS, rng.randint(0, 3)),
            languages=["en", "zh"] if rng.random() < 0.4 else ["en"],
            organization_id=org, organization=f"Supplier {org:05d}", status="published",
            published_at=published, expires_at=expires, embedding=vectors[j])
