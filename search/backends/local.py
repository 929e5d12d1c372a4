"""The embedded search backend: SQLite FTS5 for BM25 and numpy for vectors, with no server.

One SQLite file per prefix (``{directory}/{prefix}.sqlite3``) holds three tables per kind:

- ``{kind}_docs``: the filterable attributes and the content hash, kept narrow so that a filter
  scans a few hundred pages rather than every document;
- ``{kind}_payload``: the serialised document (JSON) and the embedding (float32 blob);
- ``{kind}_text``: an FTS5 index over the text fields, for BM25 and highlighting.

WAL mode lets searches read a committed snapshot while a write or a rebuild is going on.

It follows Elasticsearch's ``standard`` analyzer where users would notice a difference: words
are lower-cased but keep their accents, each Han ideograph and Hiragana character is a word of
its own, and the query words are OR-ed together like a ``multi_match``.
"""

from __future__ import annotations

import html
import json
import os
import queue
import re
import sqlite3
import threading
import time
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields, replace
from datetime import UTC, datetime
from itertools import islice

import numpy as np

from search.backends.base import Retrieval, check_window, retrieve_each
from search.documents import KINDS, TEXT_FIELDS, Filters, Hit, ListingDocument, SearchResult

TABLES = ("docs", "payload", "text")  # per kind; a rebuild swaps all three
COLUMNS = tuple(TEXT_FIELDS)  # FTS5 column order; bm25() takes the weights in this order
# Keep combining marks (M*) inside words, as Unicode word segmentation does: Thai and
# Devanagari vowel signs are marks, and the default categories would split words at them.
# No diacritic folding: the standard analyzer keeps "thải" and "thai" apart, so we do too.
TOKENIZER = "unicode61 remove_diacritics 0 categories 'L* N* Co M*'"

# Private markers that never survive into stored or returned text (stripped from input):
# highlight start/end, and the separator put around each CJK character.
_OPEN, _CLOSE, _SEP = "\x02", "\x03", "\u2063"
_STRIP_MARKERS = str.maketrans("", "", _OPEN + _CLOSE + _SEP)
# Scripts written without spaces whose characters the standard analyzer emits one by one:
# Han ideographs (with 々〆〇) and Hiragana. Katakana runs and Hangul words stay whole there.
_ONE_CHAR_WORDS = re.compile(
    "([\u3005-\u3007\u3040-\u309f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\U00020000-\U0002fa1f\U00030000-\U0003134f])")
_KEYWORD_SEP = "\n"  # keywords are one FTS column; a newline keeps them apart for highlights
_MAX_QUERY_WORDS = 128  # a whole listing may arrive as the query; cap the OR clause
# Longer queries are listings used as queries (the matcher), not something a person typed.
_LONG_QUERY_WORDS = 8
_COMMON_TERMS_TTL = 60.0  # seconds a kind's list of common terms is reused after a write
_SNIPPET_WORDS = 32  # roughly the 100 characters of an Elasticsearch highlight fragment
_REBUILD_BATCH = 1000


def prepare_text(text: str) -> str:
    """What FTS5 indexes and parses: input minus our markers, CJK characters spaced apart."""
    return _ONE_CHAR_WORDS.sub(_SEP + r"\1" + _SEP, (text or "").translate(_STRIP_MARKERS))


def query_words(text: str) -> list[str]:
    """The distinct words of ``text``, cut where the FTS5 tokenizer cuts (letters, digits,
    private-use characters and marks form words; everything else separates them)."""
    words: dict[str, str] = {}
    current: list[str] = []
    for char in prepare_text(text) + " ":
        if unicodedata.category(char)[0] in "LNM" or unicodedata.category(char) == "Co":
            current.append(char)
        elif current:
            word = "".join(current)
            words.setdefault(word.casefold(), word)
            current = []
    return list(words.values())


def match_expression(words: Sequence[str]) -> str:
    """A safe FTS5 query: every word quoted as a string, OR-ed. Raw user text never reaches
    MATCH, where quotes, colons or a stray ``NEAR`` would be syntax."""
    return " OR ".join('"' + w.replace('"', '""') + '"' for w in words[:_MAX_QUERY_WORDS])


def render_fragment(raw: str) -> str:
    """FTS5 output (markers around matches) -> HTML-safe text with <mark> tags. Escaping
    happens before the tags go in, so templates may render fragments with ``|safe``."""
    text = raw.replace(_SEP, "").replace(_CLOSE + _OPEN, "")  # 污水: one mark, not two
    return html.escape(text, quote=False).replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")


def _epoch(moment: datetime | None) -> float | None:
    """Times are stored as UTC seconds so SQL can compare them; naive means UTC."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _unique(values: Iterable[str]) -> str:
    """A JSON list without repeats: facet counts are per document, as in Elasticsearch."""
    return json.dumps(list(dict.fromkeys(values)), ensure_ascii=False)


def _attribute_row(doc: ListingDocument) -> tuple:
    # content_hash() ignores the embedding but asdict() would deep-copy its 384 floats first,
    # which made hashing most of the cost of an upsert; hashing a copy without it is the same.
    content_hash = replace(doc, embedding=None).content_hash()
    return (doc.id, doc.status, _epoch(doc.published_at), _epoch(doc.expires_at), doc.trl,
            doc.min_trl, doc.base, _unique(doc.sectors), _unique(doc.countries),
            _unique(doc.certifications), content_hash)


def _payload_row(doc: ListingDocument) -> tuple:
    data = {f.name: getattr(doc, f.name) for f in fields(doc) if f.name != "embedding"}
    embedding = (None if doc.embedding is None
                 else np.asarray(doc.embedding, dtype=np.float32).tobytes())
    return (doc.id, json.dumps(data, default=str, ensure_ascii=False), embedding)


def _text_row(doc: ListingDocument) -> tuple:
    keywords = _KEYWORD_SEP.join(k.replace(_KEYWORD_SEP, " ") for k in doc.keywords)
    values = {"title": doc.title, "keywords": keywords, "summary": doc.summary,
              "description": doc.description}
    return (doc.id, *(prepare_text(values[column]) for column in COLUMNS))


def _where(filters: Filters) -> tuple[str, list]:
    """SQL conditions on the docs table ``d`` for the hard filters. Lists travel as one JSON
    parameter each, so there is no limit on their length and nothing to escape."""
    clauses, params = ["1"], []
    for column, values in (("sectors", filters.sectors), ("countries", filters.countries)):
        if values:
            clauses.append(f"EXISTS (SELECT 1 FROM json_each(d.{column}) "
                           "WHERE value IN (SELECT value FROM json_each(?)))")
            params.append(json.dumps(values))
    if filters.bases:
        clauses.append("d.base IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(filters.bases))
    if filters.min_trl is not None:
        clauses.append("d.trl >= ?")  # an unknown TRL does not meet a minimum
        params.append(filters.min_trl)
    if filters.accepts_trl is not None:
        clauses.append("(d.min_trl IS NULL OR d.min_trl <= ?)")  # no minimum accepts any TRL
        params.append(filters.accepts_trl)
    if filters.certifications:
        wanted = sorted(set(filters.certifications))
        clauses.append("(SELECT count(DISTINCT value) FROM json_each(d.certifications) "
                       "WHERE value IN (SELECT value FROM json_each(?))) = ?")
        params += [json.dumps(wanted), len(wanted)]
    if filters.live_only:
        clauses.append("d.status = 'published' AND (d.expires_at IS NULL OR d.expires_at > ?)")
        params.append(_epoch(filters.now or datetime.now(UTC)))
    if filters.exclude_ids:
        clauses.append("d.id NOT IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(filters.exclude_ids))
    if filters.only_ids is not None:
        clauses.append("d.id IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(filters.only_ids))
    return " AND ".join(clauses), params


def _check_kind(kind: str) -> str:
    """Kinds become table names, so only the known ones get through."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    return kind


class LocalBackend:
    """``SearchBackend`` on SQLite + numpy. Safe to share between threads: writes take a lock
    on one connection; reads borrow pooled connections, so they never wait for a rebuild."""

    def __init__(self, directory: str, prefix: str = "est"):
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", prefix) or prefix.startswith("."):
            raise ValueError(f"bad index prefix {prefix!r}")  # it becomes a file name
        self.directory = directory
        self.prefix = prefix
        self.path = os.path.join(directory, f"{prefix}.sqlite3")
        self._lock = threading.RLock()  # serialises writes (and schema creation)
        self._writer: sqlite3.Connection | None = None
        self._readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._epoch = 0  # bumped by close(): connections lent out before are not pooled again
        self._ready = False
        self._vectors: dict[str, tuple[int, int, np.ndarray, np.ndarray]] = {}
        self._common: dict[str, tuple[int, float, frozenset[str]]] = {}

    # -- connections ---------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        os.makedirs(self.directory, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, Python adds none.
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA busy_timeout = 10000")  # another process may hold the write lock
        return db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction at a time; BEGIN IMMEDIATE takes SQLite's write lock at once,
        so two processes queue instead of failing half-way."""
        with self._lock:
            self._ensure()
            db = self._writer
            assert db is not None
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A pooled connection inside one read transaction: every query of a search sees the
        same snapshot, even if a write commits in between."""
        self._ensure()
        epoch = self._epoch
        try:
            db = self._readers.get_nowait()
        except queue.Empty:
            db = self._connect()
        try:
            db.execute("BEGIN")
            yield db
        finally:
            if db.in_transaction:
                db.execute("ROLLBACK")  # nothing to keep; ends the snapshot
            if epoch == self._epoch:
                self._readers.put(db)
            else:
                db.close()

    def _ensure(self) -> None:
        if not self._ready:
            self.ensure_indices()

    def close(self) -> None:
        """Close every pooled connection (the file stays)."""
        with self._lock:
            self._epoch += 1
            if self._writer is not None:
                self._writer.close()
                self._writer = None
            while not self._readers.empty():
                self._readers.get_nowait().close()
            self._ready = False
            self._vectors.clear()
            self._common.clear()

    # -- schema --------------------------------------------------------------------------

    def ensure_indices(self) -> None:
        with self._lock:
            if self._writer is None:
                self._writer = self._connect()
                # WAL: readers keep their snapshot while we write; NORMAL is durable in WAL
                # except for the last commits on power loss, and an index can be rebuilt.
                # A rebuild frees a whole copy of the index; let it be handed back to the disk.
                # This must come first: it takes effect only while the file is still empty.
                self._writer.execute("PRAGMA auto_vacuum = INCREMENTAL")
                self._writer.execute("PRAGMA journal_mode = WAL")
                self._writer.execute("PRAGMA synchronous = NORMAL")
                self._writer.execute(f"PRAGMA journal_size_limit = {64 << 20}")
            db = self._writer
            db.execute("CREATE TABLE IF NOT EXISTS generations "
                       "(kind TEXT PRIMARY KEY, generation INTEGER NOT NULL)")
            for kind in KINDS:
                self._create_tables(db, kind, kind)
                # Document frequencies, to leave out near-stopwords (see _common_terms). It
                # names the text table, so it follows a rebuild's swap without being rebuilt.
                db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {kind}_vocab "
                           f"USING fts5vocab({kind}_text, 'row')")
            self._ready = True

    @staticmethod
    def _create_tables(db: sqlite3.Connection, kind: str, name: str) -> None:
        db.execute(f"""CREATE TABLE IF NOT EXISTS {name}_docs (
            id INTEGER PRIMARY KEY, status TEXT, published_at REAL, expires_at REAL,
            trl INTEGER, min_trl INTEGER, base TEXT,
            sectors TEXT NOT NULL, countries TEXT NOT NULL, certifications TEXT NOT NULL,
            content_hash TEXT NOT NULL)""")
        db.execute(f"CREATE TABLE IF NOT EXISTS {name}_payload ("
                   "id INTEGER PRIMARY KEY, document TEXT NOT NULL, embedding BLOB)")
        db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {name}_text USING fts5("
                   f"{', '.join(COLUMNS)}, tokenize=\"{TOKENIZER}\")")
        db.execute("INSERT OR IGNORE INTO generations VALUES (?, 0)", (kind,))

    @staticmethod
    def _bump(db: sqlite3.Connection, kind: str) -> None:
        """Every write moves the kind's generation on; the vector cache compares it, which also
        notices writes made by other processes."""
        db.execute("UPDATE generations SET generation = generation + 1 WHERE kind = ?", (kind,))

    # -- writes --------------------------------------------------------------------------

    @staticmethod
    def _insert(db: sqlite3.Connection, name: str, documents: Sequence[ListingDocument]) -> None:
        db.executemany(f"DELETE FROM {name}_text WHERE rowid = ?", [(d.id,) for d in documents])
        db.executemany(f"INSERT OR REPLACE INTO {name}_docs VALUES "
                       "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [_attribute_row(d) for d in documents])
        db.executemany(f"INSERT OR REPLACE INTO {name}_payload VALUES (?, ?, ?)",
                       [_payload_row(d) for d in documents])
        db.executemany(f"INSERT INTO {name}_text (rowid, {', '.join(COLUMNS)}) "
                       "VALUES (?, ?, ?, ?, ?)", [_text_row(d) for d in documents])

    def upsert(self, kind: str, documents: Sequence[ListingDocument]) -> None:
        _check_kind(kind)
        documents = list({d.id: d for d in documents}.values())  # the last one of an id wins
        if not documents:
            return
        with self._write() as db:
            self._insert(db, kind, documents)
            self._bump(db, kind)

    def delete(self, kind: str, ids: Sequence[int]) -> None:
        _check_kind(kind)
        if not ids:
            return
        with self._write() as db:
            rows = [(int(i),) for i in ids]
            db.executemany(f"DELETE FROM {kind}_docs WHERE id = ?", rows)
            db.executemany(f"DELETE FROM {kind}_payload WHERE id = ?", rows)
            db.executemany(f"DELETE FROM {kind}_text WHERE rowid = ?", rows)
            self._bump(db, kind)

    def refresh(self, kind: str) -> None:
        """Nothing to do: a write is visible to searches once its transaction commits."""
        _check_kind(kind)

    def rebuild(self, kind: str, documents: Iterable[ListingDocument]) -> int:
        """Load into ``{kind}_new_*`` tables in batches, then drop and rename in one
        transaction. Searches read the old tables until that commit. Holding the lock
        throughout makes this process's upserts wait and land in the new tables; the batch
        commits let other processes' writes through (those are lost, as with an alias swap)."""
        _check_kind(kind)
        new = f"{kind}_new"
        with self._lock:
            with self._write() as db:
                for table in TABLES:  # left over by a crashed rebuild
                    db.execute(f"DROP TABLE IF EXISTS {new}_{table}")
                self._create_tables(db, kind, new)
            batches = iter(documents)
            while batch := list(islice(batches, _REBUILD_BATCH)):
                with self._write() as db:
                    self._insert(db, new, list({d.id: d for d in batch}.values()))
            with self._write() as db:
                for table in TABLES:
                    db.execute(f"DROP TABLE {kind}_{table}")
                    db.execute(f"ALTER TABLE {new}_{table} RENAME TO {kind}_{table}")
                self._bump(db, kind)
                # Counted, not summed: an id may come twice and is stored once.
                count = db.execute(f"SELECT count(*) FROM {kind}_docs").fetchone()[0]
            # Give the old copy's pages back to the disk and empty the WAL the load filled.
            # executescript: through execute() this pragma frees a single page per call.
            db.executescript("PRAGMA incremental_vacuum;")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return count

    def drop(self) -> None:
        """Delete this prefix's database (and its WAL files)."""
        with self._lock:
            self.close()
            for suffix in ("", "-wal", "-shm"):
                try:
                    os.remove(self.path + suffix)
                except FileNotFoundError:
                    pass

    # -- reads ---------------------------------------------------------------------------

    def content_hashes(self, kind: str) -> dict[int, str]:
        _check_kind(kind)
        with self._read() as db:
            return dict(db.execute(f"SELECT id, content_hash FROM {kind}_docs"))

    def documents(self, kind: str, ids: Sequence[int]) -> dict[int, ListingDocument]:
        _check_kind(kind)
        wanted = list(dict.fromkeys(int(i) for i in ids))
        if not wanted:
            return {}
        with self._read() as db:
            rows = db.execute(f"SELECT id, document FROM {kind}_payload WHERE id IN "
                              f"({', '.join('?' * len(wanted))})", wanted).fetchall()
        return {row_id: ListingDocument.from_stored(json.loads(raw)) for row_id, raw in rows}

    def text_search(self, kind: str, text: str, filters: Filters, *, size: int = 10,
                    offset: int = 0, sort: str = "relevance", facets: bool = False,
                    highlight: bool = True) -> SearchResult:
        _check_kind(kind)
        if sort not in ("relevance", "newest"):
            raise ValueError(f"unknown sort {sort!r}")
        check_window(size, offset)
        words = query_words(text)
        if text.strip() and not words:
            return SearchResult([], 0, {})  # only punctuation: no words to look for
        with self._read() as db:
            if len(words) > _LONG_QUERY_WORDS:
                common = self._common_terms(db, kind)
                words = [w for w in words if w.lower() not in common] or words
            expression = match_expression(words)
            hits_sql, params = self._hits_cte(kind, expression, filters)
            order = ("d_published DESC NULLS LAST, score DESC, id DESC" if sort == "newest"
                     or not expression else "score DESC, d_published DESC NULLS LAST, id DESC")
            rows = db.execute(f"{hits_sql} SELECT id, score, count(*) OVER () FROM hits "
                              f"ORDER BY {order} LIMIT ? OFFSET ?",
                              [*params, max(size, 0), max(offset, 0)]).fetchall()
            # An empty page (size 0, or past the end) carries no window count: ask for it.
            total = rows[0][2] if rows else db.execute(
                f"{hits_sql} SELECT count(*) FROM hits", params).fetchone()[0]
            marks = (self._highlights(db, kind, expression, [r[0] for r in rows])
                     if highlight and expression and rows else {})
            counts = self._facets(db, hits_sql, params) if facets else {}
        hits = [Hit(id=i, score=float(score), highlights=marks.get(i, {}))
                for i, score, _ in rows]
        return SearchResult(hits=hits, total=total, facets=counts)

    def _common_terms(self, db: sqlite3.Connection, kind: str) -> frozenset[str]:
        """Terms in at least half the documents. FTS5's BM25 clamps their weight to ~0, so in
        a long query they only cost time (each means reading a posting list as long as the
        index) and admit documents that share nothing but "the". Reused for a minute after
        writes: a slightly stale list only changes which zero-weight words are skipped."""
        generation = self._generation(db, kind)
        cached = self._common.get(kind)
        if cached and (cached[0] == generation
                       or time.monotonic() - cached[1] < _COMMON_TERMS_TTL):
            return cached[2]
        size = db.execute(f"SELECT count(*) FROM {kind}_docs").fetchone()[0]
        terms = frozenset(term for (term,) in db.execute(
            f"SELECT term FROM {kind}_vocab WHERE 2 * doc >= ?", (size,)))
        self._common[kind] = (generation, time.monotonic(), terms)
        return terms

    @staticmethod
    def _generation(db: sqlite3.Connection, kind: str) -> int:
        return db.execute("SELECT generation FROM generations WHERE kind = ?",
                          (kind,)).fetchone()[0]

    @staticmethod
    def _hits_cte(kind: str, expression: str, filters: Filters) -> tuple[str, list]:
        """``WITH ... hits(id, score, d_published, <facet columns>)`` for the query and the
        filters. The FTS match is materialised first: bm25() only works in a plain scan of
        the FTS table, not inside the window and join queries built on top."""
        where, params = _where(filters)
        columns = "d.id, d.published_at AS d_published, d.sectors, d.countries, d.base, " \
                  "d.trl, d.certifications"
        if not expression:
            return (f"WITH hits AS (SELECT {columns}, 0.0 AS score FROM {kind}_docs d "
                    f"WHERE {where})"), params
        weights = ", ".join(str(TEXT_FIELDS[c]) for c in COLUMNS)
        # FTS5's bm25() is negative, lower is better; negate it so higher is better.
        return (f"WITH matched AS MATERIALIZED (SELECT rowid AS id, "
                f"-bm25({kind}_text, {weights}) AS score FROM {kind}_text "
                f"WHERE {kind}_text MATCH ?), "
                f"hits AS (SELECT {columns}, m.score FROM matched m "
                f"JOIN {kind}_docs d ON d.id = m.id WHERE {where})"), [expression, *params]

    @staticmethod
    def _highlights(db: sqlite3.Connection, kind: str, expression: str,
                    ids: list[int]) -> dict[int, dict[str, list[str]]]:
        """Fragments for the page's hits only (snippets are costly): whole title and matched
        keywords, a snippet of summary and description; only fields with a match."""
        table = f"{kind}_text"
        calls = []
        for n, column in enumerate(COLUMNS):
            if column in ("title", "keywords"):
                calls.append(f"highlight({table}, {n}, '{_OPEN}', '{_CLOSE}')")
            else:
                calls.append(f"snippet({table}, {n}, '{_OPEN}', '{_CLOSE}', '…', "
                             f"{_SNIPPET_WORDS})")
        rows = db.execute(f"SELECT rowid, {', '.join(calls)} FROM {table} WHERE {table} "
                          "MATCH ? AND rowid IN (SELECT value FROM json_each(?))",
                          (expression, json.dumps(ids)))
        result: dict[int, dict[str, list[str]]] = {}
        for rowid, *outputs in rows:
            by_field: dict[str, list[str]] = {}
            for column, output in zip(COLUMNS, outputs, strict=True):
                parts = output.split(_KEYWORD_SEP) if column == "keywords" else [output]
                marked = [render_fragment(p) for p in parts if _OPEN in p]
                if marked:
                    by_field[column] = marked
            result[rowid] = by_field
        return result

    @staticmethod
    def _facets(db: sqlite3.Connection, hits_sql: str,
                params: list) -> dict[str, dict[str, int]]:
        """Counts over everything the query and filters match, not just the page."""
        sql = f"""{hits_sql}
            SELECT 'sector', j.value, count(*) FROM hits, json_each(hits.sectors) j
                GROUP BY j.value
            UNION ALL SELECT 'country', j.value, count(*) FROM hits, json_each(hits.countries) j
                GROUP BY j.value
            UNION ALL SELECT 'base', base, count(*) FROM hits WHERE base IS NOT NULL
                GROUP BY base
            UNION ALL SELECT 'trl', trl, count(*) FROM hits WHERE trl IS NOT NULL GROUP BY trl
            UNION ALL SELECT 'certification', j.value, count(*)
                FROM hits, json_each(hits.certifications) j GROUP BY j.value"""
        counts: dict[str, dict[str, int]] = {
            name: {} for name in ("sector", "country", "base", "trl", "certification")}
        # Largest first, like Elasticsearch's terms aggregation.
        rows = [(name, str(value), count) for name, value, count in db.execute(sql, params)]
        for name, value, count in sorted(rows, key=lambda r: (-r[2], r[1])):
            counts[name][value] = count
        return counts

    def retrieve(self, kind: str, text: str, vectors: Sequence[Sequence[float]],
                 filters: Filters, *, size: int) -> Retrieval:
        return retrieve_each(self, kind, text, vectors, filters, size=size)

    def knn_search(self, kind: str, vector: Sequence[float], filters: Filters, *,
                   size: int = 10) -> SearchResult:
        """Exact cosine over every filtered document: at marketplace scale a brute-force
        matrix product is faster than any approximate index would be to maintain."""
        _check_kind(kind)
        query = np.asarray(vector, dtype=np.float32)
        norm = float(np.linalg.norm(query))
        if size <= 0 or norm == 0 or not np.isfinite(norm):
            return SearchResult([], 0, {})
        where, params = _where(filters)
        with self._read() as db:
            ids, matrix = self._matrix(db, kind, query.size)
            # One string rather than a Python tuple per row: 10k rows cost 20 ms as tuples.
            (joined,) = db.execute(f"SELECT group_concat(d.id) FROM {kind}_docs d "
                                   f"WHERE {where}", params).fetchone()
        allowed = np.array(joined.split(",") if joined else [], dtype=np.int64)
        # Score everything, then filter: cheaper than copying the kept rows of the matrix.
        # einsum, not @: BLAS's threaded gemv took 8 ms instead of 0.8 on a busy two-core
        # machine, and a threaded web server has no cores to spare for it anyway.
        scores = np.einsum("ij,j->i", matrix, query / norm)
        keep = np.isin(ids, allowed)
        ids, scores = ids[keep], scores[keep]
        # Partition first so a large index is not fully sorted for ten hits.
        top = (np.argpartition(-scores, size - 1)[:size] if size < len(scores)
               else np.arange(len(scores)))
        top = top[np.argsort(-scores[top], kind="stable")]
        hits = [Hit(id=int(ids[i]), score=float(scores[i])) for i in top]
        return SearchResult(hits=hits, total=len(hits), facets={})

    def _matrix(self, db: sqlite3.Connection, kind: str, dim: int) -> tuple[np.ndarray,
                                                                              np.ndarray]:
        """(ids, L2-normalised embeddings) of the kind's documents with ``dim``-long vectors,
        cached until the kind's generation moves (a write here or in another process)."""
        generation = self._generation(db, kind)
        cached = self._vectors.get(kind)
        if cached and cached[0] == generation and cached[1] == dim:
            return cached[2], cached[3]
        rows = db.execute(f"SELECT id, embedding FROM {kind}_payload "
                          "WHERE length(embedding) = ?", (dim * 4,)).fetchall()
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
        matrix = matrix.reshape(len(rows), dim)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        matrix = np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)
        self._vectors[kind] = (generation, dim, ids, matrix)
        return ids, matrix
