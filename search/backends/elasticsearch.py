"""The production search backend: Elasticsearch, one index per kind behind an alias.

Readers and writers only ever name the alias ``{prefix}-{kind}``; the concrete index behind it
is ``{prefix}-{kind}-{random hex}``, so ``rebuild`` can load a fresh index and swap the alias
atomically with no downtime (the warehouse pattern, see STYLE.md).

The mappings must work on the minimal integ-test distribution used in tests (DESIGN.md): only
the ``standard`` analyzer, no scripts, no ``_reindex``, no RRF.  Where the cluster also has the
``english`` analyzer (any production image), text fields get an ``.en`` stemmed subfield too.
"""

from __future__ import annotations

import contextlib
import functools
import math
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, date, datetime
from itertools import islice
from typing import Any, TypeVar

from elasticsearch import (
    ApiError,
    BadRequestError,
    Elasticsearch,
    NotFoundError,
    TransportError,
    helpers,
)
from elasticsearch.serializer import OrjsonSerializer

from search.backends.base import Retrieval, SearchUnavailable, check_window
from search.documents import KINDS, TEXT_FIELDS, Filters, Hit, ListingDocument, SearchResult

EMBEDDING_DIMS = 384
FACET_SIZE = 100  # distinct values returned per facet; far more than a sidebar shows
HIGHLIGHT_TAGS = {"pre_tags": ["<mark>"], "post_tags": ["</mark>"]}
ENGLISH = "en"  # name of the stemmed subfield, when the cluster has the english analyzer

# facet name -> field aggregated (search.documents.FACETS)
FACET_FIELDS = {"sector": "sectors", "country": "countries", "base": "base", "trl": "trl",
                "certification": "certifications"}

KEYWORD_FIELDS = ("kind", "sectors", "countries", "base", "certifications", "languages",
                  "status", "currency", "capacity_dimension", "content_hash", "organization")
FLOAT_FIELDS = ("capacity_min", "capacity_max", "price_min", "price_max")

BULK_CHUNK = 500  # documents per bulk request (about 2 MB with their vectors)
BULK_REQUESTS = 2  # bulk requests in flight while rebuilding an index
REPLICAS = "0-1"  # auto_expand_replicas: one replica wherever a second node exists

T = TypeVar("T")


def node_urls(url: str | Sequence[str]) -> list[str]:
    """The nodes to send requests to: ``ELASTICSEARCH_URL`` lists one or several, separated
    by commas (``http://es1:9200,http://es2:9200``)."""
    urls = [part.strip() for part in url.split(",")] if isinstance(url, str) else list(url)
    urls = [u for u in urls if u]
    if not urls:
        raise ValueError("no Elasticsearch node URL given")
    return urls


def mappings(*, english: bool, dims: int = EMBEDDING_DIMS) -> dict[str, Any]:
    """Explicit mappings for a listing index; ``english`` adds stemmed ``.en`` subfields."""
    text: dict[str, Any] = {"type": "text", "analyzer": "standard"}
    if english:
        text["fields"] = {ENGLISH: {"type": "text", "analyzer": "english"}}
    properties: dict[str, Any] = {name: dict(text) for name in TEXT_FIELDS}
    properties.update({name: {"type": "keyword"} for name in KEYWORD_FIELDS})
    properties.update({name: {"type": "float"} for name in FLOAT_FIELDS})
    properties.update({name: {"type": "integer"} for name in ("id", "trl", "min_trl",
                                                               "organization_id")})
    properties.update({name: {"type": "date"} for name in ("published_at", "expires_at")})
    properties["embedding"] = {"type": "dense_vector", "dims": dims, "index": True,
                               "similarity": "cosine"}
    # Fields added to ListingDocument later stay in _source but are not indexed until mapped
    # here: a mapping guessed by dynamic mapping would be hard to change afterwards.
    return {"dynamic": False, "properties": properties}


def _unavailable_on_errors(method: Callable[..., T]) -> Callable[..., T]:
    """Turn "the cluster cannot answer" into SearchUnavailable, which callers degrade on.

    Other 4xx errors stay as they are: they mean our request is wrong, and hiding them
    would hide bugs.
    """

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return method(*args, **kwargs)
        except TransportError as error:  # connection refused, timeout, TLS
            raise SearchUnavailable(f"Elasticsearch is unreachable: {error}") from error
        except NotFoundError as error:
            if error.message != "index_not_found_exception":
                raise
            raise SearchUnavailable(f"search index missing: {error}") from error
        except ApiError as error:
            if error.meta.status < 500 and error.meta.status != 429:
                raise
            raise SearchUnavailable(f"Elasticsearch error {error.meta.status}: {error}") \
                from error

    return wrapper


def _missing_or(field: str, bounds: dict[str, Any]) -> dict[str, Any]:
    """Documents without ``field``, or with it inside ``bounds`` (a plain range drops the
    documents that lack the field)."""
    return {"bool": {"minimum_should_match": 1, "should": [
        {"bool": {"must_not": [{"exists": {"field": field}}]}},
        {"range": {field: bounds}},
    ]}}


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def usable_vector(values: Sequence[float] | None, dims: int) -> list[float] | None:
    """The vector as JSON floats, or None where cosine similarity has no answer.

    Elasticsearch rejects a zero or non-finite vector for cosine, and a vector of the wrong
    length for the mapping; either would fail the whole document.  Like the local backend,
    such a listing stays findable by text only.
    """
    if values is None or len(values) != dims:
        return None
    vector = [float(x) for x in values]  # numpy floats are not JSON
    norm = math.sqrt(math.fsum(x * x for x in vector))
    return vector if norm > 0 and math.isfinite(norm) else None


def to_source(doc: ListingDocument, dims: int = EMBEDDING_DIMS) -> dict[str, Any]:
    """The stored document: every field, plus the content hash ``content_hashes`` reads."""
    source = {name: _json(value) for name, value in doc.fields_without_embedding().items()
              if value is not None}
    if (vector := usable_vector(doc.embedding, dims)) is not None:
        source["embedding"] = vector
    source["content_hash"] = doc.content_hash()
    return source


class ElasticsearchBackend:
    """``search.backends.base.SearchBackend`` on an Elasticsearch cluster."""

    def __init__(self, url: str | Sequence[str], prefix: str = "est", *,
                 client: Elasticsearch | None = None, request_timeout: float = 10.0,
                 max_retries: int = 3, dims: int = EMBEDDING_DIMS) -> None:
        # A request that fails to connect or times out is retried on another node (the
        # client marks the failed one dead for a while).  Every request this backend sends
        # may be sent twice: searches read, and writes are upserts or deletes by id.
        self.es = client or Elasticsearch(
            node_urls(url), request_timeout=request_timeout, max_retries=max_retries,
            retry_on_timeout=True, serializer=OrjsonSerializer())
        self.prefix = prefix
        self.dims = dims
        self._english: bool | None = None  # detected once, on first use

    # -- names -------------------------------------------------------------------------

    def alias(self, kind: str) -> str:
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
        return f"{self.prefix}-{kind}"

    def _new_index_name(self, kind: str) -> str:
        return f"{self.alias(kind)}-{uuid.uuid4().hex[:12]}"

    # -- index management --------------------------------------------------------------

    @_unavailable_on_errors
    def ensure_indices(self) -> None:
        for kind in KINDS:
            if not self.es.indices.exists_alias(name=self.alias(kind)):
                # Creating the index together with its alias makes both appear at once.
                self._create_index(kind, with_alias=True)

    def _create_index(self, kind: str, *, with_alias: bool, loading: bool = False) -> str:
        name = self._new_index_name(kind)
        settings: dict[str, Any] = {
            # Listings number in the thousands: one shard keeps BM25 statistics exact.
            "number_of_shards": 1,
            # One copy on another node as soon as there is one (none on a single node, which
            # keeps it green): losing a node loses no data, and searches go on.
            "auto_expand_replicas": REPLICAS,
        }
        if loading:
            settings["refresh_interval"] = "-1"  # no refreshes while bulk loading
        self.es.indices.create(
            index=name, settings=settings,
            mappings=mappings(english=self.english_available(), dims=self.dims),
            aliases={self.alias(kind): {}} if with_alias else None,
        )
        return name

    def english_available(self) -> bool:
        """Whether the cluster has the ``english`` analyzer (analysis-common module).

        The minimal test distribution lacks it; production images have it.
        """
        if self._english is None:
            try:
                self.es.indices.analyze(analyzer="english", text="running")
                self._english = True
            except BadRequestError:  # "failed to find global analyzer [english]"
                self._english = False
        return self._english

    def _indices_behind(self, alias: str) -> list[str]:
        try:
            return sorted(self.es.indices.get_alias(name=alias))
        except NotFoundError:
            return []

    @_unavailable_on_errors
    def rebuild(self, kind: str, documents: Iterable[ListingDocument]) -> int:
        alias = self.alias(kind)
        new = self._create_index(kind, with_alias=False, loading=True)
        try:
            count = self._bulk_load(new, documents)
            # null restores the default interval; the refresh makes the load visible at once.
            self.es.indices.put_settings(index=new, settings={"refresh_interval": None})
            self.es.indices.refresh(index=new)
        except BaseException:
            # Leave no half-loaded index behind; a failing cleanup must not mask the cause.
            with contextlib.suppress(ApiError, TransportError):
                self.es.indices.delete(index=new, ignore_unavailable=True)
            raise
        old = self._indices_behind(alias)
        # One update_aliases call is atomic: searches see the old index or the new, never none.
        actions = [{"remove": {"index": name, "alias": alias}} for name in old]
        actions.append({"add": {"index": new, "alias": alias}})
        self.es.indices.update_aliases(actions=actions)
        if old:
            self.es.indices.delete(index=",".join(old), ignore_unavailable=True)
        return count

    def _bulk_load(self, index: str, documents: Iterable[ListingDocument]) -> int:
        """Bulk requests with two in flight: the node indexes one while this thread reads
        and converts the next chunk (in the caller's thread, which may hold a database
        session), and a one-shard index takes both on two write threads.  Measured on two
        cores, 30k listings: 2,690 docs/s against 1,810 with one request at a time."""
        loaded = 0
        documents = iter(documents)
        with ThreadPoolExecutor(BULK_REQUESTS) as pool:
            in_flight: deque[Future] = deque()
            while chunk := [{"_index": index, "_id": str(doc.id),
                             "_source": to_source(doc, self.dims)}
                            for doc in islice(documents, BULK_CHUNK)]:
                in_flight.append(pool.submit(helpers.bulk, self.es, chunk,
                                             chunk_size=BULK_CHUNK))
                if len(in_flight) == BULK_REQUESTS:
                    loaded += in_flight.popleft().result()[0]
            loaded += sum(future.result()[0] for future in in_flight)
        return loaded

    @_unavailable_on_errors
    def drop(self) -> None:
        # Resolve names first and delete them explicitly: production clusters keep
        # action.destructive_requires_name on, which refuses wildcard deletes.
        patterns = [p for kind in KINDS for p in (self.alias(kind), f"{self.alias(kind)}-*")]
        found = self.es.indices.get(index=",".join(patterns), expand_wildcards="all",
                                    ignore_unavailable=True, allow_no_indices=True)
        if found:
            self.es.indices.delete(index=",".join(sorted(found)), ignore_unavailable=True)

    # -- writes ------------------------------------------------------------------------

    @_unavailable_on_errors
    def upsert(self, kind: str, documents: Sequence[ListingDocument]) -> None:
        alias = self.alias(kind)
        actions = [{"_index": alias, "_id": str(doc.id), "_source": to_source(doc, self.dims)}
                   for doc in documents]
        # require_alias: a write before ensure_indices must fail, not auto-create a concrete
        # index under the alias's name with guessed mappings.
        helpers.bulk(self.es, actions, require_alias=True)

    @_unavailable_on_errors
    def delete(self, kind: str, ids: Sequence[int]) -> None:
        actions = [{"_op_type": "delete", "_index": self.alias(kind), "_id": str(id_)}
                   for id_ in ids]
        helpers.bulk(self.es, actions, ignore_status=(404,))  # unknown ids are fine

    @_unavailable_on_errors
    def refresh(self, kind: str) -> None:
        self.es.indices.refresh(index=self.alias(kind))

    @_unavailable_on_errors
    def content_hashes(self, kind: str) -> dict[int, str]:
        query = {"query": {"match_all": {}}, "_source": ["content_hash"]}
        return {int(hit["_id"]): hit["_source"].get("content_hash", "")
                for hit in helpers.scan(self.es, query=query, index=self.alias(kind))}

    # -- reads -------------------------------------------------------------------------

    @_unavailable_on_errors
    def documents(self, kind: str, ids: Sequence[int]) -> dict[int, ListingDocument]:
        wanted = list(dict.fromkeys(str(int(i)) for i in ids))
        if not wanted:
            return {}
        response = self.es.mget(index=self.alias(kind), ids=wanted,
                                source_excludes=["embedding", "content_hash"])
        return {int(found["_id"]): ListingDocument.from_stored(found["_source"])
                for found in response["docs"] if found.get("found")}

    def _text_fields(self) -> list[list[str]]:
        """The text fields with their boosts, one list per analyzer: the plain fields, then
        their stemmed subfields if the cluster has them."""
        plain = [f"{name}^{boost:g}" for name, boost in TEXT_FIELDS.items()]
        if not self.english_available():
            return [plain]
        return [plain, [f"{name}.{ENGLISH}^{boost:g}" for name, boost in TEXT_FIELDS.items()]]

    def _highlight(self) -> dict[str, Any]:
        # A title is short: return it whole rather than as a fragment.
        fields: dict[str, Any] = {name: {} for name in TEXT_FIELDS}
        fields["title"] = {"number_of_fragments": 0}
        if self.english_available():
            fields.update({f"{name}.{ENGLISH}": dict(opts) for name, opts in fields.items()})
        # encoder "html" escapes the text around the tags, as the local backend does, so
        # templates may render fragments with |safe.  The plain highlighter: for ten results
        # of an expanded query it took 11 ms where the default (unified) took 39 at 1k
        # listings and 27 at 100k; both mark only words that match (bench/RESULTS.md).
        return {**HIGHLIGHT_TAGS, "type": "plain", "encoder": "html", "fields": fields}

    @_unavailable_on_errors
    def text_search(self, kind: str, text: str, filters: Filters, *, size: int = 10,
                    offset: int = 0, sort: str = "relevance", facets: bool = False,
                    highlight: bool = True) -> SearchResult:
        if sort not in ("relevance", "newest"):
            raise ValueError(f"unknown sort {sort!r}")
        check_window(size, offset)
        text = text.strip()
        newest = {"published_at": {"order": "desc", "missing": "_last"}}
        # The trailing keys make ties (every hit of an empty query) page deterministically.
        order = [newest, "_score"] if sort == "newest" else ["_score", newest]
        response = self.es.search(
            index=self.alias(kind), query=self._text_query(text, filters), size=max(size, 0),
            from_=max(offset, 0), sort=[*order, {"id": "desc"}], track_scores=True,
            track_total_hits=True, source=False,
            highlight=self._highlight() if highlight and text else None,
            aggs=self._facet_aggs() if facets else None,
        )
        return SearchResult(hits=[self._hit(h) for h in response["hits"]["hits"]],
                            total=response["hits"]["total"]["value"],
                            facets=self._facets(response) if facets else {})

    def _text_query(self, text: str, filters: Filters) -> dict[str, Any]:
        must = self._bm25f(text) if text else {"match_all": {}}
        query = self._filtered(filters)
        query["bool"]["must"] = [must]
        return query

    def _bm25f(self, text: str) -> dict[str, Any]:
        """BM25F (``combined_fields``): the boosted fields scored as one field, so a word in
        the title counts three times one in the description, and a word found in several
        fields is not counted once per field.  Measured at 100k listings it takes 42 ms where
        ``multi_match`` best_fields over the same fields took 97 (bench/RESULTS.md): one
        query per word, not one per word and field.  combined_fields needs one analyzer, so
        the stemmed copies form a second group; the better of the two groups counts."""
        groups = [{"combined_fields": {"query": text, "fields": fields}}
                  for fields in self._text_fields()]
        return groups[0] if len(groups) == 1 else {"dis_max": {"queries": groups,
                                                               "tie_breaker": 0.3}}

    @_unavailable_on_errors
    def knn_search(self, kind: str, vector: Sequence[float], filters: Filters, *,
                   size: int = 10) -> SearchResult:
        knn = self._knn(vector, filters, size)
        if knn is None:
            return SearchResult([], 0, {})  # Elasticsearch would answer 400; nothing is near
        response = self.es.search(index=self.alias(kind), knn=knn, size=size, source=False)
        return SearchResult(hits=self._neighbours(response),
                            total=response["hits"]["total"]["value"])

    def _knn(self, vector: Sequence[float], filters: Filters,
             size: int) -> dict[str, Any] | None:
        query_vector = usable_vector(vector, self.dims)
        if size <= 0 or query_vector is None:
            return None
        return {"field": "embedding", "query_vector": query_vector, "k": size,
                # More candidates than k makes the approximate (HNSW) search close to exact.
                "num_candidates": min(10_000, max(100, size * 10)),
                # Filtering inside knn keeps k hits; a post-filter could leave fewer.
                "filter": self._filtered(filters)}

    def _neighbours(self, response: Any) -> list[Hit]:
        return [Hit(id=int(h["_id"]), score=self._cosine(h["_score"]))
                for h in response["hits"]["hits"]]

    @_unavailable_on_errors
    def retrieve(self, kind: str, text: str, vectors: Sequence[Sequence[float]],
                 filters: Filters, *, size: int) -> Retrieval:
        """One ``_msearch``: one round trip, and Elasticsearch runs the searches side by
        side.  The text search skips what only a page needs (an exact total, tie-breaking
        sorts, highlights), which lets Lucene skip documents that cannot reach the top."""
        text = text.strip()
        knns = [self._knn(vector, filters, size) for vector in vectors]
        bodies = ([{"query": self._text_query(text, filters), "size": size,
                    "track_total_hits": False, "_source": False}] if text else [])
        bodies += [{"knn": knn, "size": size, "_source": False} for knn in knns if knn]
        searches: list[dict[str, Any]] = []
        for body in bodies:
            searches += [{"index": self.alias(kind)}, body]
        answers = iter(self._msearch(searches) if searches else [])
        text_hits = [self._hit(h) for h in next(answers)["hits"]["hits"]] if text else []
        return Retrieval(text_hits, [self._neighbours(next(answers)) if knn else []
                                     for knn in knns])

    def _msearch(self, searches: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The answers of a multi-search; one that failed fails the whole call, as it would
        have on its own."""
        answers = self.es.msearch(searches=searches)["responses"]
        for answer in answers:
            if "error" in answer:
                status = answer.get("status", 500)
                if status >= 500 or status == 429:
                    raise SearchUnavailable(f"Elasticsearch error {status}: {answer['error']}")
                raise ValueError(f"Elasticsearch refused a search ({status}): "
                                 f"{answer['error']}")
        return answers

    @staticmethod
    def _cosine(score: float) -> float:
        # With similarity "cosine" Elasticsearch scores (1 + cos) / 2 to keep scores positive.
        return 2.0 * score - 1.0

    @staticmethod
    def _filtered(filters: Filters) -> dict[str, Any]:
        """A bool query holding the hard filters (no scoring)."""
        clauses: list[dict[str, Any]] = []
        for values, field in ((filters.sectors, "sectors"), (filters.countries, "countries"),
                              (filters.bases, "base")):
            if values:
                clauses.append({"terms": {field: list(values)}})  # any of
        if filters.min_trl is not None:
            clauses.append({"range": {"trl": {"gte": filters.min_trl}}})
        if filters.accepts_trl is not None:
            # A need with no minimum accepts any TRL (as in the local backend).
            clauses.append(_missing_or("min_trl", {"lte": filters.accepts_trl}))
        # All of: one clause per certification.
        clauses += [{"term": {"certifications": c}} for c in filters.certifications]
        if filters.live_only:
            clauses += ElasticsearchBackend._live(filters.now or datetime.now(UTC))
        if filters.only_ids is not None:
            clauses.append({"ids": {"values": [str(i) for i in filters.only_ids]}})
        must_not = [{"ids": {"values": [str(i) for i in filters.exclude_ids]}}] \
            if filters.exclude_ids else []
        return {"bool": {"filter": clauses, "must_not": must_not}}

    @staticmethod
    def _live(now: datetime) -> list[dict[str, Any]]:
        # Mirrors ListingDocument.is_live: published, and no expiry or an expiry still ahead.
        return [{"term": {"status": "published"}},
                _missing_or("expires_at", {"gt": now.isoformat()})]

    @staticmethod
    def _hit(raw: dict[str, Any]) -> Hit:
        highlights: dict[str, list[str]] = {}
        # Fold "title.en" fragments into "title": callers know only the document's fields.
        # Sorting puts "title" before "title.en", so the unstemmed fragments win.
        for field, fragments in sorted(raw.get("highlight", {}).items()):
            highlights.setdefault(field.split(".")[0], fragments)
        return Hit(id=int(raw["_id"]), score=raw.get("_score") or 0.0, highlights=highlights)

    @staticmethod
    def _facet_aggs() -> dict[str, Any]:
        return {name: {"terms": {"field": field, "size": FACET_SIZE}}
                for name, field in FACET_FIELDS.items()}

    @staticmethod
    def _facets(response: Any) -> dict[str, dict[str, int]]:
        # str(): trl buckets have numeric keys, facets are keyed by strings ("8").
        return {name: {str(b["key"]): b["doc_count"] for b in agg["buckets"]}
                for name, agg in response["aggregations"].items()}
