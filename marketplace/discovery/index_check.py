"""Comparing the search index with the database: `flask search check [--repair]`."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from marketplace.discovery import indexing
from marketplace.discovery.engine import backend
from marketplace.extensions import db
from marketplace.listings.lifecycle import LISTING_CLASSES, live_filter


@dataclass
class IndexReport:
    kind: str
    missing: list[int] = field(default_factory=list)  # live in the database, not indexed
    stale: list[int] = field(default_factory=list)  # indexed, but the listing changed since
    extra: list[int] = field(default_factory=list)  # indexed, but not live any more

    @property
    def ok(self) -> bool:
        return not (self.missing or self.stale or self.extra)


def check(kind: str) -> IndexReport:
    cls = LISTING_CLASSES[kind]
    expected = {listing.id: indexing.to_document(listing).content_hash()
                for listing in db.session.scalars(select(cls).where(live_filter(cls)))}
    indexed = backend().content_hashes(kind)
    return IndexReport(
        kind=kind,
        missing=sorted(set(expected) - set(indexed)),
        stale=sorted(i for i in set(expected) & set(indexed) if expected[i] != indexed[i]),
        extra=sorted(set(indexed) - set(expected)),
    )


def repair(report: IndexReport) -> None:
    for listing_id in report.missing + report.stale + report.extra:
        indexing.index_listing(report.kind, listing_id)
    backend().refresh(report.kind)


def repair_all() -> dict[str, int]:
    """The ``search.repair`` job: bring the index back in line with the database - listings
    whose events were lost, and listings that expired (expiry updates rows in bulk, without
    outbox events).  Returns how many listings of each kind were fixed."""
    fixed = {}
    for kind in LISTING_CLASSES:
        report = check(kind)
        if not report.ok:
            repair(report)
        fixed[kind] = len(report.missing) + len(report.stale) + len(report.extra)
    return fixed
