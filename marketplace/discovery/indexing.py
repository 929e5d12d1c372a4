"""Keeping the search index true to the database.

A listing becomes a ``search.documents.ListingDocument``; its passage embedding is cached in
the database by a hash of the text, so it is recomputed only when the text changes.  Live
listings are upserted, everything else is removed from the index.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import numpy as np
from flask import current_app
from sqlalchemy import func, select
from tqdm import tqdm

from marketplace import coordination
from marketplace.constants import CAPACITY_UNITS
from marketplace.discovery.engine import backend
from marketplace.extensions import db
from marketplace.listings.lifecycle import LISTING_CLASSES, live_filter
from marketplace.models import EmbeddingCache, Need, Solution
from marketplace.taxonomy import taxonomy
from search.documents import ListingDocument
from search.embeddings import Embedder, default_embedder

Listing = Solution | Need


def embedder() -> Embedder:
    return current_app.extensions.get("embedder") or default_embedder()


def _expand_sectors(codes: list[str]) -> list[str]:
    tree = taxonomy()
    expanded: dict[str, None] = {}
    for code in codes:
        if code in tree:
            expanded.update(dict.fromkeys(tree.ancestors(code)))
    return list(expanded)


def _capacity(value: float | None, unit: str | None) -> tuple[str | None, float | None]:
    """(dimension, value in the dimension's base unit), so m³/h compares with m³/day."""
    if value is None or unit not in CAPACITY_UNITS:
        return None, None
    dimension, factor, _label = CAPACITY_UNITS[unit]
    return dimension, value * factor


def to_document(listing: Listing) -> ListingDocument:
    org = listing.organization
    doc = ListingDocument(
        id=listing.id, kind=listing.kind, title=listing.title,
        description=listing.description or "",
        sectors=_expand_sectors(listing.sectors), base=org.base, organization_id=org.id,
        organization=org.name, status=listing.status, published_at=listing.published_at,
        expires_at=listing.expires_at, currency=listing.currency,
    )
    if isinstance(listing, Solution):
        dimension, low = _capacity(listing.capacity_min, listing.capacity_unit)
        _, high = _capacity(listing.capacity_max, listing.capacity_unit)
        # "or": a listing not yet saved has no column defaults applied.
        doc.summary, doc.keywords = listing.summary or "", list(listing.keywords or [])
        doc.trl = listing.trl
        doc.countries = list(listing.countries_served)
        doc.capacity_dimension, doc.capacity_min, doc.capacity_max = dimension, low, high
        doc.price_min, doc.price_max = listing.price_min, listing.price_max
        doc.certifications = list(listing.certifications or [])
        doc.languages = list(listing.languages or [])
    else:
        dimension, value = _capacity(listing.capacity, listing.capacity_unit)
        doc.countries, doc.min_trl = [listing.country], listing.min_trl
        doc.capacity_dimension, doc.capacity_min, doc.capacity_max = dimension, value, value
        # A need's budget sits in the price fields, so the fit compares like with like.
        doc.price_min, doc.price_max = listing.budget_min, listing.budget_max
        doc.certifications = list(listing.required_certifications or [])
    return doc


# -- embeddings ------------------------------------------------------------------------------


def embedding_cache_key(model: str, role: str, text: str) -> str:
    return hashlib.sha256(f"{model}\x00{role}\x00{text}".encode()).hexdigest()


def embed_texts(texts: list[str], role: str = "passage") -> np.ndarray:
    """Embeddings for ``texts``, from the cache where possible; new ones are cached."""
    model = embedder()
    keys = [embedding_cache_key(model.name, role, text) for text in texts]
    cached = {row.key: row.vector for row in db.session.scalars(
        select(EmbeddingCache).where(EmbeddingCache.key.in_(set(keys))))}
    missing = [i for i, key in enumerate(keys) if key not in cached]
    if missing:
        if role == "query":
            fresh = np.vstack([model.query(texts[i]) for i in missing])
        else:
            fresh = model.passages([texts[i] for i in missing])
        for i, vector in zip(missing, fresh, strict=True):
            if keys[i] not in cached:  # the same text twice in one batch
                cached[keys[i]] = vector.astype("<f4").tobytes()
                db.session.add(EmbeddingCache(key=keys[i], model=model.name,
                                              vector=cached[keys[i]]))
    return np.vstack([np.frombuffer(cached[key], dtype="<f4") for key in keys])


def with_embeddings(documents: list[ListingDocument]) -> list[ListingDocument]:
    if not documents:
        return documents
    vectors = embed_texts([doc.embedding_text() for doc in documents])
    for doc, vector in zip(documents, vectors, strict=True):
        doc.embedding = vector.tolist()
    return documents


# -- index upkeep ----------------------------------------------------------------------------


def index_listing(kind: str, listing_id: int) -> bool:
    """Upsert the listing if it is live, remove it otherwise.  Returns True if indexed.

    While the index is being rebuilt the write lands in the old index, which is about to be
    replaced: it is also recorded, and replayed into the new one (``rebuild_index``)."""
    coordination.note(rebuild_lock_name(kind), listing_id)
    listing = db.session.get(LISTING_CLASSES[kind], listing_id)
    if listing is None or not listing.is_live:
        backend().delete(kind, [listing_id])
        return False
    backend().upsert(kind, with_embeddings([to_document(listing)]))
    db.session.commit()  # keep newly cached embeddings
    return True


def live_documents(kind: str, batch_size: int = 200) -> Iterator[list[ListingDocument]]:
    """Every live listing of ``kind`` as documents with embeddings, in batches."""
    cls = LISTING_CLASSES[kind]
    ids = list(db.session.scalars(select(cls.id).where(live_filter(cls)).order_by(cls.id)))
    for start in range(0, len(ids), batch_size):
        # Live again when loaded: one archived since the ids were read must not come back.
        chunk = db.session.scalars(select(cls).where(cls.id.in_(ids[start:start + batch_size]),
                                                     live_filter(cls)))
        yield with_embeddings([to_document(listing) for listing in chunk])
        db.session.commit()


class RebuildRunning(Exception):
    """Another process is rebuilding this index."""


def rebuild_lock_name(kind: str) -> str:
    """One rebuild at a time per index: the backend's prefix names it (an evaluation's
    temporary index is not the live one)."""
    return f"reindex:{backend().prefix}:{kind}"


REBUILD_LOCK_SECONDS = 6 * 3600  # longer than any rebuild; frees the lock if we crash


def rebuild_index(kind: str) -> int:
    """Load every live listing of ``kind`` into a new index and swap it in, with a progress
    bar.  Returns how many were indexed.

    Under a lock (Redis in production, in-process when embedded): a second rebuild is refused
    with ``RebuildRunning``.  Listings written meanwhile are recorded by ``index_listing``
    and indexed again once the new index is in, so none is lost or stale."""
    name = rebuild_lock_name(kind)
    with coordination.exclusive(name, ttl_seconds=REBUILD_LOCK_SECONDS) as held:
        if not held:
            raise RebuildRunning(kind)
        coordination.start_recording(name, ttl_seconds=REBUILD_LOCK_SECONDS)
        try:
            count = _load_new_index(kind)
            _replay(kind, coordination.drain(name))
        finally:
            written = coordination.drain(name, stop=True)
        _replay(kind, written)
    return count


def _load_new_index(kind: str) -> int:
    cls = LISTING_CLASSES[kind]
    total = db.session.scalar(select(func.count()).select_from(cls).where(live_filter(cls)))
    with tqdm(total=total, desc=f"Indexing {kind}s", unit="listing") as progress:
        def documents() -> Iterator[ListingDocument]:
            for batch in live_documents(kind):
                yield from batch
                progress.update(len(batch))

        count = backend().rebuild(kind, documents())
    backend().refresh(kind)
    return count


def _replay(kind: str, listing_ids: set[str]) -> None:
    """Index again what was written during the rebuild, now into the new index."""
    for listing_id in sorted(int(i) for i in listing_ids):
        index_listing(kind, listing_id)
    if listing_ids:
        backend().refresh(kind)
