"""The interface every search backend implements.  ``tests/contract`` runs the same tests
against each implementation."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from search.documents import Filters, Hit, ListingDocument, SearchResult

# offset + size never goes beyond this, on any backend: Elasticsearch's default
# index.max_result_window, past which it refuses a search.
MAX_RESULT_WINDOW = 10_000


class SearchUnavailable(RuntimeError):
    """The backend cannot answer (for example Elasticsearch is down)."""


class ResultWindowExceeded(ValueError):
    """A page that ends past MAX_RESULT_WINDOW: callers must stop their pages before it."""


def check_window(size: int, offset: int) -> None:
    """Refuse, alike on every backend, a page that Elasticsearch would answer with a 400."""
    if max(offset, 0) + max(size, 0) > MAX_RESULT_WINDOW:
        raise ResultWindowExceeded(
            f"offset {offset} + size {size} is past the result window ({MAX_RESULT_WINDOW})")


@dataclass
class Retrieval:
    """What a ranking retrieves at once: the BM25 hits of a text, the kNN hits of each vector."""

    text: list[Hit]
    neighbours: list[list[Hit]]  # in the order of the vectors asked for


def retrieve_each(backend: SearchBackend, kind: str, text: str,
                  vectors: Sequence[Sequence[float]], filters: Filters, *,
                  size: int) -> Retrieval:
    """``SearchBackend.retrieve`` one search after the other, for a backend with no cheaper
    way (the local one runs in-process: there is no round trip to save)."""
    text_hits = (backend.text_search(kind, text, filters, size=size, highlight=False).hits
                 if text.strip() else [])
    return Retrieval(text_hits, [backend.knn_search(kind, vector, filters, size=size).hits
                                 for vector in vectors])


class SearchBackend(Protocol):
    """Indices are per kind ("solution", "need") and named from the backend's prefix, so an
    evaluation can use a temporary prefix and never touch the live indices."""

    def ensure_indices(self) -> None:
        """Create the indices (and aliases) if they do not exist."""

    def upsert(self, kind: str, documents: Sequence[ListingDocument]) -> None:
        """Insert or replace documents by id."""

    def delete(self, kind: str, ids: Sequence[int]) -> None:
        """Remove documents; unknown ids are ignored."""

    def refresh(self, kind: str) -> None:
        """Make recent writes visible to searches."""

    def content_hashes(self, kind: str) -> dict[int, str]:
        """id -> content hash of every document in the index (for consistency checks)."""

    def documents(self, kind: str, ids: Sequence[int]) -> dict[int, ListingDocument]:
        """The stored documents of ``ids``, without their embeddings; ids the index does not
        hold are left out.  Lets a ranking read its candidates without the database."""

    def text_search(self, kind: str, text: str, filters: Filters, *, size: int = 10,
                    offset: int = 0, sort: str = "relevance", facets: bool = False,
                    highlight: bool = True) -> SearchResult:
        """BM25 over the text fields with boosts (search.documents.TEXT_FIELDS).

        An empty ``text`` matches every document that passes the filters.
        ``sort`` is "relevance" or "newest" (published_at, newest first).
        ``offset + size`` beyond MAX_RESULT_WINDOW raises ResultWindowExceeded.
        """

    def knn_search(self, kind: str, vector: Sequence[float], filters: Filters, *,
                   size: int = 10) -> SearchResult:
        """Nearest neighbours by cosine similarity among documents passing the filters.
        Hit scores are cosine similarities in [-1, 1]."""

    def retrieve(self, kind: str, text: str, vectors: Sequence[Sequence[float]],
                 filters: Filters, *, size: int) -> Retrieval:
        """A ranking's candidates in one go: what ``text_search`` (without highlights) and
        ``knn_search`` of each vector would return, ``size`` of each.  Hits with equal
        scores may come in another order than those calls give, and an empty ``text``
        retrieves no text hits (not every document)."""

    def rebuild(self, kind: str, documents: Iterable[ListingDocument]) -> int:
        """Load every document into a new index and swap it in with no downtime.
        Returns the number of documents loaded."""

    def drop(self) -> None:
        """Delete every index this backend's prefix owns (for temporary evaluation indices)."""
