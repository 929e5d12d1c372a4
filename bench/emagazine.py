"""E-magazine benchmark: one issue to 10,000 subscribers through real Celery workers.

    .venv/bin/python bench/emagazine.py [--subscribers 10000] [--workers 2] [--batch-size N]

Sends one issue to 10,000 subscribers through a local SMTP sink with two worker processes and
reports messages per second.  For reference, listmonk's default configuration sends up to 100
messages/s.  Target: at least 300 messages/s to the local sink on this machine, with zero
duplicates.

1. Drops and recreates a PostgreSQL database of its own (``est_bench_emagazine``), builds the
   schema with the migrations and bulk-loads the subscribers: 10,000 confirmed ones (English
   and Chinese, some with country and sector preferences), plus a few the issue must not
   reach (pending, unsubscribed, bounced).  One issue with an English and a Chinese edition:
   an intro and a few Markdown sections made from the real clean-technology texts
   (bench/_data.py); audience ``{}``, everyone.
2. Starts a private Redis server (flushed; ``--redis-url`` uses an existing one, flushing its
   databases 0-2), the SMTP sink (tests/support/smtp_sink.py) in a child process and a real
   Celery worker (``celery -A workers.celery_app worker --concurrency 2``).
3. Sends the issue the production way - ``marketplace.emagazine.workflow.start(issue)``, which
   sets it to "sending", plans the recipients and queues ``emagazine.send_batch`` jobs of
   ``EMAGAZINE_BATCH_SIZE`` on Redis - and times it from that call until the sink holds one
   message per subscriber, ``progress()`` shows nothing remaining or in flight and the issue
   is "sent".  Then checks: each address exactly once, nobody missed, nobody unexpected,
   every reader their own edition, distinct Message-IDs.  CPU per process group.
4. If the target was missed (or ``--breakdown always``): stops the workers and sends a second
   issue to some of the same subscribers with ``emagazine.send_batch`` called in this process,
   half plain, half with every step timed.

Prints a table and rewrites the "## E-magazine" section of bench/RESULTS.md, keeping the
other sections.  Worker, Redis and sink processes are stopped on exit, also after an error.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# With bench/ first on sys.path, ``import search`` would find bench/search.py instead of the
# project's ``search`` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(REPO))

from tqdm import tqdm  # noqa: E402

from bench import _data  # noqa: E402
from bench._harness import (  # noqa: E402
    Processes,
    RemoteSink,
    StepTimer,
    bench_backend_pids,
    commit_probe,
    cpu_report,
    cpu_seconds,
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
    server_versions,
    sql_timed,
    start_redis,
    start_worker,
    worker_errors,
    write_section,
)

RESULTS = HERE / "RESULTS.md"
SECTION = "## E-magazine"
TARGET_RATE = 300.0  # messages per second
TARGET_SUBSCRIBERS = 10_000
LISTMONK_RATE = 100  # listmonk defaults: concurrency 10 x message_rate 10 per second
PUBLIC_BASE_URL = "https://est-marketplace.example.org"
CREDIT = _data.CREDIT.split(" Changes (here)")[0] + (
    " Changes (here): catalogue entries and project titles and objectives cut into the "
    "Markdown of the two editions (list lines, a spotlight, catalogue notes), combined with "
    "invented events, links and Chinese framing text. Read from `../shared/data` at run time, "
    "not copied into the repo.")

DOMAINS = ("bench.example", "mail.bench.example", "water-utility.bench.example",
           "envtech.bench.example.cn", "industrial-park.bench.example")
EVENTS = (  # (title, Chinese title, base, location, days from the issue date)
    ("ASEAN-China Environmental Technology Cooperation Forum",
     "中国-东盟环境技术合作论坛", "yixing", "Yixing Environmental Science Park", 18),
    ("Municipal wastewater treatment: operator training",
     "城镇污水处理运营培训班", "wuzhou", "Wuzhou Demonstration Base", 33),
    ("Clean air and low-carbon city exhibition",
     "清洁空气与低碳城市展览会", "shenzhen", "Shenzhen Convention Centre", 47),
    ("Circular economy and recycling study tour",
     "循环经济与资源回收考察活动", "wuzhou", "Wuzhou Recycling Industrial Park", 61),
)


# -- the data ----------------------------------------------------------------------------------


def leaf_sectors() -> list[str]:
    from marketplace.taxonomy import taxonomy

    tree = taxonomy()
    return sorted(code for code, sector in tree.sectors.items() if not sector.children)


def subscriber_rows(args: argparse.Namespace) -> tuple[list[dict], list[dict], dict[str, str]]:
    """``args.subscribers`` confirmed, mailable subscribers (ids 1..N) and a few more the
    issue must not reach: pending, unsubscribed, confirmed but bounced.  Returns the rows,
    the suppressions, and the expected recipients {email: language}."""
    from marketplace.models.mail import EMAGAZINE_LIST, EVERY_LIST

    rng = random.Random(args.seed)
    now = datetime.now(UTC)
    leaves = leaf_sectors()
    tops = sorted({code.split(".")[0] for code in leaves})
    extra = {"pending": round(args.subscribers * 0.02), "unsubscribed": round(
        args.subscribers * 0.02), "bounced": round(args.subscribers * 0.01)}
    kinds = ["mailable"] * args.subscribers + [k for k, n in extra.items() for _ in range(n)]
    rows, suppressions, expected = [], [], {}
    for i, kind in enumerate(kinds, start=1):
        zh = rng.random() < args.zh_share
        email = f"reader{i:05d}@{rng.choice(DOMAINS)}"
        countries = [] if rng.random() < 0.6 else sorted(
            rng.sample(_data.COUNTRIES, rng.randint(1, 3)))
        sectors = [] if rng.random() < 0.6 else sorted(
            rng.sample(leaves if rng.random() < 0.5 else tops, rng.randint(1, 2)))
        signed_up = now - timedelta(days=rng.randint(1, 900), minutes=rng.randint(0, 1439))
        confirmed = kind != "pending"
        rows.append(dict(
            id=i, email=email, language="zh" if zh else "en", countries=countries,
            sectors=sectors, user_id=None,
            status={"pending": "pending", "unsubscribed": "unsubscribed"}.get(kind, "confirmed"),
            created_at=signed_up, signup_ip=f"203.0.113.{rng.randint(1, 254)}",
            confirmed_at=signed_up + timedelta(minutes=rng.randint(1, 600)) if confirmed
            else None, confirmed_ip=f"198.51.100.{rng.randint(1, 254)}" if confirmed else "",
            confirmations_window_start=None, confirmations_in_window=0))
        if kind == "mailable":
            expected[email] = "zh" if zh else "en"
        elif kind == "unsubscribed":
            suppressions.append(dict(email=email, list_name=EMAGAZINE_LIST,
                                     reason="unsubscribed", detail="", created_at=now))
        elif kind == "bounced":
            suppressions.append(dict(email=email, list_name=EVERY_LIST, reason="bounced",
                                     detail="550 5.1.1 mailbox unavailable", created_at=now))
    return rows, suppressions, expected


def _md(text: str) -> str:
    from marketplace.templating import markdown_escape as escape

    return escape(text)


def edition_content(bases: list[_data.BaseText], projects: list[tuple[str, str]],
                    issue_date: date) -> dict[str, dict[str, Any]]:
    """The two editions: an intro and four sections of Markdown from the real texts."""
    from marketplace.mailing.transport import external_url

    catalogue = [b for b in bases if b.keywords]
    cordis = [b for b in bases if not b.keywords]
    listed = cordis[:5] + catalogue[:3]
    notes = catalogue[3:6]
    spotlight_title, spotlight = projects[0]
    paragraphs = _data.cut(spotlight, 1200)
    half = paragraphs.find(". ", len(paragraphs) // 2)
    paragraphs = (paragraphs[:half + 1] + "\n\n" + paragraphs[half + 2:]) if half > 0 \
        else paragraphs

    def url(n: int) -> str:
        return external_url("public.detail", plural="solutions", listing_id=1000 + n)

    lines = "\n".join(f"- [{_md(b.title)}]({url(n)}) — {_md(_data.cut(b.summary, 140))}"
                      for n, b in enumerate(listed))
    catalogue_en = "\n\n".join(
        f"**{_md(b.title)}** — {_md(_data.cut(b.summary, 260))}\n\n"
        f"*Key terms:* {_md(', '.join(b.keywords[:5]))}" for b in notes)
    catalogue_zh = "\n\n".join(
        f"**{_md(b.title)}** — {_md(_data.cut(b.summary, 260))}\n\n"
        f"*关键词：* {_md('、'.join(b.keywords[:5]))}" for b in notes)

    def events(chinese: bool) -> str:
        return "\n".join(
            f"- **{issue_date + timedelta(days=days):%Y-%m-%d}** "
            f"[{_md(zh if chinese else en)}](https://events.bench.example/{base}/{days}) — "
            f"{_md(location)}" for en, zh, base, location, days in EVENTS)
    month_en, month_zh = f"{issue_date:%B %Y}", f"{issue_date.year}年{issue_date.month}月"
    return {
        "en": {
            "title": f"ASEAN-China Environmental Technology E-magazine — {month_en}",
            "intro": (
                "Welcome to this month's issue. **Water, waste and clean air** remain the "
                "sectors where buyers in the ASEAN member states publish the most needs, and "
                "suppliers from the demonstration bases in Yixing, Wuzhou and Shenzhen "
                "answered with new solutions.\n\nBelow: the newest listings, a research "
                "project worth knowing, notes from the technology catalogue and the events "
                f"of the coming weeks. [Browse every listing]({PUBLIC_BASE_URL}/solutions)."),
            "sections": [
                ("new_solutions", "New on the marketplace", lines),
                ("manual", f"Project spotlight: {spotlight_title[:170]}",
                 f"{paragraphs}\n\n> Suppliers with related technology can publish a "
                 "solution; buyers can describe a need and get matched."),
                ("news", "From the technology catalogue", catalogue_en),
                ("events", "Upcoming at the demonstration bases", events(False)),
            ],
        },
        "zh": {
            "title": f"中国-东盟环境技术电子期刊 — {month_zh}",
            "intro": (
                "欢迎阅读本期电子期刊。**水处理、固体废物和清洁空气**仍是东盟国家采购方发布需求"
                "最多的领域，宜兴、梧州和深圳示范基地的供应商也带来了新的解决方案。\n\n"
                "本期内容：最新上架的方案、值得关注的研究项目、技术目录精选以及近期活动。"
                f"[浏览全部方案]({PUBLIC_BASE_URL}/solutions?lang=zh)。"),
            "sections": [
                ("new_solutions", "市场新方案", "以下方案为本月新发布（原文为英文）：\n\n"
                 + lines),
                ("manual", f"项目聚焦：{spotlight_title[:150]}",
                 "该欧盟研究项目的目标如下（英文原文摘录）：\n\n" + paragraphs
                 + "\n\n> 拥有相关技术的供应商可以发布方案；采购方可以发布需求并获得匹配。"),
                ("news", "技术目录精选", catalogue_zh),
                ("events", "示范基地近期活动", events(True)),
            ],
        },
    }


def make_issue(slug: str, content: dict[str, dict[str, Any]]):
    from marketplace.models import Issue, IssueEdition, IssueSection

    issue = Issue(slug=slug, audience={}, status="draft")
    for language, edition in content.items():
        issue.editions.append(IssueEdition(
            language=language, title=edition["title"], intro=edition["intro"],
            sections=[IssueSection(position=n, kind=kind, heading=heading, body=body)
                      for n, (kind, heading, body) in enumerate(edition["sections"])]))
    return issue


def seed(args: argparse.Namespace) -> dict[str, Any]:
    """Bulk-load the subscribers and suppressions; add the issue.  Returns what the report
    and the checks need."""

    from marketplace.extensions import db
    from marketplace.models import MailSuppression, Subscriber

    bases, _queries = _data.load_corpus()
    projects = _data.held_out_projects()
    started = time.perf_counter()
    rows, suppressions, expected = subscriber_rows(args)
    built = time.perf_counter() - started
    insert_seconds = seed_tables([(Subscriber, rows), (MailSuppression, suppressions)])

    content = edition_content(bases, projects, date.today())
    issue = make_issue(f"bench-{date.today():%Y-%m}", content)
    db.session.add(issue)
    db.session.commit()
    by_status = Counter(r["status"] for r in rows)
    return {"rows": len(rows) + len(suppressions), "build_seconds": built,
            "insert_seconds": insert_seconds,
            "expected": expected, "issue_id": issue.id, "content": content,
            "zh": sum(lang == "zh" for lang in expected.values()),
            "with_countries": sum(1 for r in rows if r["countries"]),
            "with_sectors": sum(1 for r in rows if r["sectors"]),
            "pending": by_status["pending"], "unsubscribed": by_status["unsubscribed"],
            "bounced": sum(1 for s in suppressions if s["reason"] == "bounced"),
            "markdown_chars": {lang: len(c["intro"]) + sum(len(b) for _, _, b in c["sections"])
                               for lang, c in content.items()}}


# -- 1. sending the issue through Celery -------------------------------------------------------


def issue_state(issue_id: int) -> tuple[dict[str, int], str]:
    from marketplace.emagazine import workflow
    from marketplace.extensions import db
    from marketplace.models import Issue

    issue = db.session.get(Issue, issue_id)
    counts = workflow.progress(issue)
    status = issue.status
    db.session.commit()  # end the read transaction (and expire): the next poll sees new commits
    return counts, status


def delivery_statuses(issue_id: int) -> dict[str, int]:
    from sqlalchemy import func, select

    from marketplace.extensions import db
    from marketplace.models import IssueDelivery

    rows = db.session.execute(select(IssueDelivery.status, func.count())
                              .where(IssueDelivery.issue_id == issue_id)
                              .group_by(IssueDelivery.status)).all()
    db.session.commit()
    return dict(rows)


def send_run(args: argparse.Namespace, issue_id: int, expected: int,
             worker: subprocess.Popen, sink: RemoteSink, redis_pid: int | None
             ) -> dict[str, Any]:
    from marketplace.emagazine import workflow
    from marketplace.extensions import db
    from marketplace.models import Issue

    def groups() -> dict[str, list[int]]:
        return {"workers": process_tree(worker.pid), "postgres": pids_named("postgres"),
                "sink": process_tree(sink.proc.pid),
                "redis": [redis_pid] if redis_pid else []}

    issue = db.session.get(Issue, issue_id)
    before = cpu_snapshot(groups())
    start = time.perf_counter()
    planned = workflow.start(issue)  # status "sending", plan, queue the batches
    started = time.perf_counter() - start
    first = full = done = None
    polls = 0
    counts: dict[str, int] = {}
    status = "sending"
    deadline = start + args.timeout
    with tqdm(total=expected, desc=f"E-magazine ({args.workers} workers)", unit="mail",
              file=sys.stderr) as bar:
        while time.perf_counter() < deadline:
            received = sink.count()
            now = time.perf_counter()
            if received and first is None:
                first = now - start
            if received >= expected and full is None:
                full = now - start
            bar.update(received - bar.n)
            if full is not None:
                counts, status = issue_state(issue_id)
                polls += 1
                if counts["remaining"] + counts["in_flight"] == 0 and status == "sent":
                    done = time.perf_counter() - start
                    break
            if worker.poll() is not None:
                raise SystemExit("the Celery worker died during the run")
            time.sleep(0.05)
    elapsed = done if done is not None else time.perf_counter() - start
    after = cpu_snapshot(groups())  # the workers still run: their backends still exist
    cpu = cpu_report(before, after, bench_backend_pids(args.database),
                     {"workers": "Celery workers", "postgres": "PostgreSQL",
                      "sink": "SMTP sink (child process)", "redis": "Redis"},
                     "benchmark process (start(), polling)")
    received = sink.count()
    if done is None:
        counts, status = issue_state(issue_id)
    return {"seconds": elapsed, "completed": done is not None, "received": received,
            "planned": planned, "start_call_s": started, "first_message_s": first,
            "all_received_s": full, "progress": counts, "status": status,
            "statuses": delivery_statuses(issue_id), "rate": received / elapsed, "cpu": cpu,
            "db_polls": polls}


def check_messages(summary: list[dict[str, Any]], expected: dict[str, str],
                   subjects: dict[str, str]) -> dict[str, Any]:
    """Each address exactly once, nobody missed or unexpected, each reader's own edition
    (told by the subject), every Message-ID distinct, one-click unsubscribe everywhere."""
    per_recipient = Counter(addr.lower() for m in summary for addr in m["to"])
    ids = Counter(m["id"] for m in summary)
    wrong_edition = sum(1 for m in summary for addr in m["to"]
                        if addr.lower() in expected
                        and m["subject"] != subjects[expected[addr.lower()]])
    sizes = {lang: [m["bytes"] for m in summary if m["to"] and expected.get(
        m["to"][0].lower()) == lang] for lang in subjects}
    return {"messages": len(summary),
            "duplicates": sum(n - 1 for n in per_recipient.values() if n > 1),
            "recipients_twice_or_more": sum(1 for n in per_recipient.values() if n > 1),
            "missing": len(set(expected) - set(per_recipient)),
            "unexpected": len(set(per_recipient) - set(expected)),
            "wrong_edition": wrong_edition,
            "message_id_duplicates": sum(n - 1 for n in ids.values() if n > 1),
            "without_one_click": sum(1 for m in summary if not m["one_click"]),
            "mean_bytes": {lang: statistics.fmean(v) for lang, v in sizes.items() if v}}


# -- 2. where one message's time goes (in this process) ----------------------------------------


STEPS = {
    "sql@recipients": "SQL: the batch's recipients (with the suppression check)",
    "sql@claim": "SQL: which are claimed already; INSERT the claims",
    "sql@commit": "SQL in ORM flushes (INSERT claims, UPDATE each outcome)",
    "sql@suppressions": "SQL: suppressions among the next 20",
    "sql@status": "SQL: the issue's status (pause), every 20",
    "sql@finish": "SQL: progress, at the end of the batch",
    "sql@other": "SQL elsewhere (the issue and its editions)",
    "commit": "COMMIT (waits for the WAL flush) and ORM flush bookkeeping",
    "recipients": "recipients() (Python)",
    "claim": "claim (Python, ORM objects)",
    "render": "render the edition: Jinja, Markdown, CSS inlining (once per batch and language)",
    "tokens": "unsubscribe token signing",
    "urls": "absolute URL of the unsubscribe link",
    "mime": "MIME message build (EmailMessage, set_content, add_alternative)",
    "rate": "send-rate slot (Redis)",
    "smtp": "SMTP conversation with the sink (MAIL, RCPT, DATA)",
    "send": "message serialisation in send_message (flatten) and MailSession",
    "other": "other (personalising, the loop, ORM attribute access)",
}


@contextmanager
def instrumented(timer: StepTimer) -> Iterator[None]:
    from marketplace.emagazine import rendering, sending
    from marketplace.extensions import db
    from marketplace.mailing import suppressions, transport

    with sql_timed(timer), \
            mock.patch.object(sending, "recipients",
                              timer.wrap("recipients", sending.recipients)), \
            mock.patch.object(sending, "claim", timer.wrap("claim", sending.claim)), \
            mock.patch.object(suppressions, "suppressed_among",
                              timer.wrap("suppressions", suppressions.suppressed_among)), \
            mock.patch.object(sending, "current_status",
                              timer.wrap("status", sending.current_status)), \
            mock.patch.object(sending, "finish_if_done",
                              timer.wrap("finish", sending.finish_if_done)), \
            mock.patch.object(rendering, "render_parts",
                              timer.wrap("render", rendering.render_parts)), \
            mock.patch.object(suppressions, "unsubscribe_token",
                              timer.wrap("tokens", suppressions.unsubscribe_token)), \
            mock.patch.object(suppressions, "external_url",
                              timer.wrap("urls", suppressions.external_url)), \
            mock.patch.object(rendering, "build_message",
                              timer.wrap("mime", rendering.build_message)), \
            mock.patch.object(transport, "wait_for_send_slot",
                              timer.wrap("rate", transport.wait_for_send_slot)), \
            mock.patch.object(transport.MailSession, "send",
                              timer.wrap("send", transport.MailSession.send)), \
            mock.patch.object(smtplib.SMTP, "sendmail",
                              timer.wrap("smtp", smtplib.SMTP.sendmail)), \
            mock.patch.object(db.session, "commit", timer.wrap("commit", db.session.commit)):
        yield


def breakdown(args: argparse.Namespace, seeded: dict[str, Any], sink: RemoteSink,
              batch_size: int) -> dict[str, Any]:
    """A second issue, sent with ``emagazine.send_batch`` (the worker's job) called here in
    batches of ``batch_size``, to the first ``--profile-subscribers`` readers: half plain
    (the time per message without instrumentation), half with every step timed."""
    from marketplace.emagazine import sending
    from marketplace.extensions import db
    from marketplace.models._time import utcnow

    issue = make_issue(f"bench-profile-{utcnow():%Y%m%d%H%M%S}", seeded["content"])
    db.session.add(issue)
    issue.status, issue.started_at = "sending", utcnow()
    ids = list(range(1, min(args.profile_subscribers, args.subscribers) + 1))
    issue.recipient_count = len(ids)
    db.session.commit()
    issue_id = issue.id
    half = len(ids) // 2
    plain, timed = ids[1:half], ids[half:]

    def send(subscriber_ids: list[int]) -> None:
        for start_at in range(0, len(subscriber_ids), batch_size):
            sending.send_batch(issue_id, subscriber_ids[start_at:start_at + batch_size])
            db.session.remove()  # as the worker's task wrapper does

    sent_before = sink.count()
    send(ids[:1])  # warm-up: templates, connections
    sink_cpu = cpu_seconds(process_tree(sink.proc.pid))
    start, cpu_start = time.perf_counter(), time.process_time()
    send(plain)
    plain_ms = 1000 * (time.perf_counter() - start) / len(plain)
    plain_cpu_ms = 1000 * (time.process_time() - cpu_start) / len(plain)
    sink_ms = 1000 * (sum(cpu_seconds(list(sink_cpu)).values()) - sum(sink_cpu.values())) \
        / len(plain)

    timer = StepTimer()
    with instrumented(timer):
        start = time.perf_counter()
        with timer.step("other"):
            send(timed)
        timed_ms = 1000 * (time.perf_counter() - start) / len(timed)
    sent = sink.count() - sent_before
    if sent != len(ids):
        raise SystemExit(f"breakdown: the sink got {sent} messages for {len(ids)} readers")
    steps = {label: 1000 * seconds / len(timed) for label, seconds in timer.totals.items()}
    statements = {label: n / len(timed) for label, n in timer.statements.items()}
    return {"plain_ms": plain_ms, "plain_cpu_ms": plain_cpu_ms, "sink_cpu_ms": sink_ms,
            "timed_ms": timed_ms, "steps": steps, "statements": statements,
            "load": os.getloadavg()[0], "readers": len(ids), "batch_size": batch_size}


# -- report ------------------------------------------------------------------------------------


def met(r: dict[str, Any]) -> bool:
    run, check = r["run"], r["check"]
    return bool(run["completed"] and run["rate"] >= TARGET_RATE and check["duplicates"] == 0
                and check["missing"] == 0 and check["unexpected"] == 0)


def main_table(r: dict[str, Any]) -> str:
    run, check, args, info = r["run"], r["check"], r["args"], r["info"]
    verdict = "**met**" if met(r) else "**missed**"
    if args.subscribers < TARGET_SUBSCRIBERS:
        verdict = f"n/a ({args.subscribers:,} subscribers)"
    label = "`emagazine.start(issue)` → `send_batch` jobs (measured)"
    if not run["completed"]:
        label += f", **timed out**: {run['received']:,} received, status {run['status']}"
    lines = ["| run | subscribers | worker processes | batch size | total s | messages/s "
             "| duplicates | missed | unexpected | target ≥ 300/s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
             f"| {label} | {args.subscribers:,} | {args.workers} | {info['batch_size']} "
             f"| {run['seconds']:.1f} | **{run['rate']:,.0f}** | {check['duplicates']} "
             f"| {check['missing']} | {check['unexpected']} | {verdict} |",
             f"| reference: listmonk, default settings (not measured) | | | | "
             f"| up to {LISTMONK_RATE} | | | | |"]
    return "\n".join(lines)


SMALL_STEP_MS = 0.05  # steps below this are summed into one row


def breakdown_table(b: dict[str, Any]) -> str:
    from marketplace.mailing.bulk_send import CHECK_EVERY

    steps, statements = b["steps"], b["statements"]
    total = sum(steps.values())
    lines = ["| step (exclusive time) | ms per message | share | SQL statements per message |",
             "|---|---:|---:|---:|"]
    small_ms = small_sql = 0.0
    for label, ms in sorted(steps.items(), key=lambda kv: -kv[1]):
        if ms < SMALL_STEP_MS:
            small_ms += ms
            small_sql += statements.get(label, 0.0)
            continue
        name = STEPS.get(label) or (f"SQL in {label[4:]}" if label.startswith("sql@")
                                    else label)
        count = f"{statements[label]:.2f}" if label in statements else ""
        lines.append(f"| {name} | {ms:.2f} | {100 * ms / total:.0f}% | {count} |")
    if small_ms:
        lines.append(f"| everything else (recipients, claims, pause and suppression checks "
                     f"every {CHECK_EVERY}, progress; Python and SQL) | {small_ms:.2f} "
                     f"| {100 * small_ms / total:.0f}% | {small_sql:.2f} |")
    lines.append(f"| **total, instrumented** | **{total:.2f}** | 100% "
                 f"| {sum(statements.values()):.2f} |")
    return "\n".join(lines)


def cpu_lines(run: dict[str, Any]) -> tuple[str, float, dict[str, float]]:
    cpu = run["cpu"]
    per = {name: 1000 * seconds / max(1, run["received"]) for name, seconds in cpu.items()
           if name not in ("machine busy", "machine capacity")}
    text = "; ".join(f"{name} {seconds:.1f} ({per[name]:.2f} ms/message)"
                     for name, seconds in cpu.items()
                     if name not in ("machine busy", "machine capacity"))
    ours = sum(ms for name, ms in per.items() if name != "other processes on the machine")
    return text, ours, per


def cpu_table(run: dict[str, Any]) -> str:
    cpu = run["cpu"]
    _text, ours, per = cpu_lines(run)
    lines = ["| process group | CPU-s | CPU-ms per message | share of this run's CPU |",
             "|---|---:|---:|---:|"]
    for name, ms in per.items():
        share = f"{100 * ms / ours:.0f}%" if name != "other processes on the machine" else "—"
        lines.append(f"| {name} | {cpu[name]:.1f} | {ms:.2f} | {share} |")
    lines.append(f"| **this run's processes** | **{ours * run['received'] / 1000:.1f}** "
                 f"| **{ours:.2f}** | 100% |")
    return "\n".join(lines)


def render_section(r: dict[str, Any]) -> str:
    args, run, check, b, s, info = (r["args"], r["run"], r["check"], r["breakdown"], r["seed"],
                                    r["info"])
    m = info["machine"]
    cpu = run["cpu"]
    capacity, busy = cpu["machine capacity"], cpu["machine busy"]
    cores = int(m["nproc"]) if m["nproc"].isdigit() else 2
    _cpu_text, ours_ms, _per = cpu_lines(run)
    steady = None
    if run["first_message_s"] is not None and run["all_received_s"] is not None:
        steady = (run["received"] - 1) / max(1e-9, run["all_received_s"] -
                                             run["first_message_s"])
    p = run["progress"]
    sizes = ", ".join(f"{lang} {size / 1024:.1f} KiB" for lang, size in
                      check["mean_bytes"].items())
    parts = [
        SECTION, "",
        f"Run {info['date']} on {m['cpu']}, {m['nproc']} cores (nproc), {m['ram']} RAM; "
        f"Python {m['python']}; PostgreSQL {info['versions']['postgres']}, Redis "
        f"{info['versions']['redis']} (a private server started by the benchmark); one Celery "
        f"prefork worker with {args.workers} processes; commit {info['git']}. Load average "
        f"{info['load'][0]:.2f} before the run, {info['load'][1]:.2f} at the end of the "
        "sending.",
        "",
        f"Command: `{' '.join(['.venv/bin/python bench/emagazine.py', info['argv']]).strip()}`",
        "",
        main_table(r), "",
        f"- **timed**: from the call to `marketplace.emagazine.workflow.start(issue)` (status "
        f"`sending`, recipients counted, planned and queued on Redis as "
        f"{-(-run['planned'] // info['batch_size'])} `emagazine.send_batch` jobs of "
        f"`EMAGAZINE_BATCH_SIZE` = {info['batch_size']}; the call itself took "
        f"{run['start_call_s']:.2f} s) until the sink had {args.subscribers:,} messages "
        "**and** `progress()` showed nothing remaining or in flight **and** the issue was "
        f"`sent` (at the end: status {run['status']}, progress sent {p.get('sent', 0):,}, "
        f"remaining {p.get('remaining', '?')}, in flight {p.get('in_flight', '?')}; delivery "
        f"rows {', '.join(f'{k} {v:,}' for k, v in run['statuses'].items())}). First message "
        f"after {run['first_message_s'] or float('nan'):.2f} s, last after "
        f"{run['all_received_s'] or float('nan'):.1f} s"
        + (f" ({steady:,.0f} messages/s in between)." if steady else "."),
        f"- **checks**: {check['duplicates']} messages beyond the first per address "
        f"({check['recipients_twice_or_more']} addresses mailed twice or more), "
        f"{check['missing']} subscribers missed, {check['unexpected']} unexpected recipients "
        f"(the {s['pending']} pending, {s['unsubscribed']} unsubscribed and {s['bounced']} "
        f"bounced subscribers got nothing), {check['wrong_edition']} readers with the wrong "
        f"edition (told by the subject), {check['message_id_duplicates']} repeated "
        f"Message-IDs, {check['without_one_click']} messages without one-click unsubscribe "
        f"headers. Mean message size: {sizes}.",
        f"- The global send-rate limit (`MAIL_RATE_PER_SECOND` = {info['rate_limit']}, the "
        "production default, counted in Redis) was on" + (
            "; at this speed it never made a worker wait." if 0 < 1.2 * run["rate"] <
            info["rate_limit"] else ", and may have made workers wait." if
            info["rate_limit"] > 0 else " (0: no limit)."),
        f"- **CPU** during the run ({run['seconds']:.1f} s wall, {capacity:.0f} CPU-s on "
        f"{m['nproc']} cores, {100 * busy / max(1e-9, capacity):.0f}% busy; table below): "
        f"this run's own processes used **{ours_ms:.2f} CPU-ms per message**; with the "
        f"{cores} cores to themselves that would be at best {cores * 1000 / ours_ms:,.0f} "
        "messages/s (an estimate from CPU time, not a measurement). Workers, PostgreSQL "
        "backends and Redis are counted by process; the sink is its own child process; "
        "\"other processes\" is the rest of the machine's busy time (/proc/stat).",
        f"- **What limits it**: the machine was {100 * busy / max(1e-9, capacity):.0f}% "
        "busy, so mostly CPU: per message the Celery workers spent "
        f"{_per['Celery workers']:.2f} ms (MIME build and serialisation, the ORM flush and "
        "commit of the outcome, smtplib, psycopg), the SMTP sink (one asyncio "
        f"process) {_per['SMTP sink (child process)']:.2f} ms and PostgreSQL "
        f"{_per['PostgreSQL backends of this run']:.2f} ms. The rest of a worker's time is "
        "waiting - for the sink's replies to MAIL, RCPT and DATA and for the WAL flush of "
        "each outcome's commit - which the other processes fill.",
        f"- PostgreSQL commit latency, measured before the run: {info['commit_ms']:.2f} ms per "
        "single-row INSERT + COMMIT (`synchronous_commit` "
        f"{info['synchronous_commit']}). Each message commits its outcome on its own; each "
        "batch commits its claims once.",
        f"- Reference: listmonk sends up to {LISTMONK_RATE} messages/s with its default "
        "settings (`concurrency` 10 × `message_rate` 10 per second); not measured here.",
        "",
        cpu_table(run),
    ]
    if b:
        waiting = b["plain_ms"] - b["plain_cpu_ms"]
        parts += [
            "",
            "Where one message's time goes: a second issue sent to the first "
            f"{b['readers']:,} readers with `emagazine.send_batch` (the worker's job, called "
            f"directly, batches of {b['batch_size']}) in the benchmark process alone: workers "
            "stopped, sink in its child process. The first half ran plain: "
            f"**{b['plain_ms']:.2f} ms per message**, of which {b['plain_cpu_ms']:.2f} ms CPU "
            f"in this process and {waiting:.2f} ms waiting (for PostgreSQL, the sink, Redis, "
            f"or a core: load average {b['load']:.1f}); the sink used {b['sink_cpu_ms']:.2f} "
            "CPU-ms per message. The second half timed each step "
            f"({b['timed_ms']:.2f} ms per message with the timers; "
            f"{sum(b['statements'].values()):.2f} SQL statements per message). Times are "
            "exclusive: the SQL a step runs counts as SQL in that step.",
            "",
            breakdown_table(b),
        ]
    parts += [
        "",
        f"Data: {args.subscribers:,} confirmed subscribers ({s['zh']:,} reading Chinese; "
        f"{s['with_countries']:,} with country and {s['with_sectors']:,} with sector "
        "preferences, which audience `{}` ignores) plus "
        f"{s['pending'] + s['unsubscribed'] + s['bounced']:,} the issue must skip (pending, "
        "unsubscribed with a suppression, confirmed but bounced), bulk-inserted "
        f"({s['rows']:,} rows in {s['insert_seconds']:.1f} s) into a fresh database "
        f"`{args.database}` built by the migrations. One issue, audience `{{}}`, with an "
        "English and a Chinese edition (intro and four Markdown sections: eight new listings "
        "from the catalogue and project texts, a project spotlight from a CORDIS objective, "
        "three technology-catalogue notes with key terms, four invented events; "
        f"{s['markdown_chars']['en']:,} and {s['markdown_chars']['zh']:,} characters of "
        "Markdown; the Chinese edition has Chinese headings and framing around the English "
        "source texts).",
        "",
        f"Source: {CREDIT}",
        "",
    ]
    return "\n".join(parts)


# -- main --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=TARGET_SUBSCRIBERS,
                        help="confirmed subscribers the issue goes to (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=2,
                        help="Celery worker processes (--concurrency; default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=0,
                        help="recipients per emagazine.send_batch job (EMAGAZINE_BATCH_SIZE; "
                             "default: the app's, 250)")
    parser.add_argument("--zh-share", type=float, default=0.35,
                        help="share of subscribers reading Chinese (default: %(default)s)")
    parser.add_argument("--breakdown", choices=("auto", "always", "never"), default="auto",
                        help="per-message breakdown: auto = only if the target was missed")
    parser.add_argument("--profile-subscribers", type=int, default=1000,
                        help="readers of the breakdown's second issue (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="give up on the sending after this many seconds")
    parser.add_argument("--postgres", default="postgresql+psycopg://est:est@127.0.0.1:5432",
                        help="server URL without a database (default: %(default)s)")
    parser.add_argument("--database", default="est_bench_emagazine",
                        help="dropped and recreated on every run (default: %(default)s)")
    parser.add_argument("--redis-url", default="",
                        help="use this Redis (its databases 0-2 are FLUSHED) instead of a "
                             "private server on a free port")
    parser.add_argument("--seed", type=int, default=_data.SEED)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--no-write", action="store_true", help="print only")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.subscribers < 1 or args.workers < 1 or args.batch_size < 0:
        raise SystemExit("need --subscribers ≥ 1, --workers ≥ 1, --batch-size ≥ 0")
    signal.signal(signal.SIGTERM, on_sigterm)
    info: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
        "git": git_state(), "argv": " ".join(sys.argv[1:] if argv is None else argv)}
    load_before = os.getloadavg()[0]
    procs = Processes()
    workdir = Path(tempfile.mkdtemp(prefix="est-bench-emagazine-"))
    procs.stack.callback(lambda: __import__("shutil").rmtree(workdir, ignore_errors=True))
    try:
        return run(args, info, load_before, procs, workdir)
    finally:
        procs.close()


def run(args: argparse.Namespace, info: dict[str, Any], load_before: float,
        procs: Processes, workdir: Path) -> int:
    redis_url, redis_pid = (args.redis_url, None) if args.redis_url else \
        start_redis(procs, workdir)
    flush_redis(redis_url)
    database_url = recreate_database(args.postgres, args.database)
    sink = RemoteSink(procs, keep_messages=True)
    env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "MAIL_TRANSPORT": "smtp",
           "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(sink.port),
           "SECRET_KEY": "bench-emagazine-secret", "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
           "MARKETPLACE_INSTANCE_PATH": str(workdir / "instance"), "SEARCH_BACKEND": "local"}
    app = make_app(env)
    # Only the planner (start → plan, here) cuts the recipients into batches: the workers
    # just send the ids they are given, so the setting need not reach them.
    if args.batch_size:
        app.config["EMAGAZINE_BATCH_SIZE"] = args.batch_size
    info["versions"] = server_versions(app)
    info["batch_size"] = app.config["EMAGAZINE_BATCH_SIZE"]
    info["rate_limit"] = app.config["MAIL_RATE_PER_SECOND"]
    results: dict[str, Any] = {"args": args, "info": info, "breakdown": None}

    with app.app_context():
        from flask_migrate import upgrade

        from marketplace.extensions import db
        from marketplace.models import Issue

        start = time.perf_counter()
        upgrade()
        print(f"schema by migrations in {time.perf_counter() - start:.1f} s")
        info["commit_ms"], info["synchronous_commit"] = commit_probe()
        seeded = seed(args)
        results["seed"] = seeded
        print(f"seeded {seeded['rows']:,} rows in {seeded['insert_seconds']:.1f} s "
              f"({args.subscribers:,} mailable subscribers, {seeded['zh']:,} reading Chinese)")
        issue = db.session.get(Issue, seeded["issue_id"])
        subjects = {edition.language: edition.title for edition in issue.editions}
        db.session.commit()

        worker, worker_log = start_worker(procs, env, args.workers, workdir, "bench-emagazine")
        results["run"] = run_ = send_run(args, seeded["issue_id"], args.subscribers, worker,
                                         sink, redis_pid)
        info["load"] = (load_before, os.getloadavg()[0])
        errors = worker_errors(worker_log)
        # The workers are done: stop them now so the checks and the breakdown have the CPU.
        worker.terminate()
        worker.wait(30)
        results["check"] = check = check_messages(sink.summary(), seeded["expected"], subjects)
        sink.clear()  # free the memory; the checks are done
        print(f"\nsending: {run_['received']:,} messages in {run_['seconds']:.1f} s "
              f"({run_['rate']:,.0f}/s), duplicates {check['duplicates']}, missed "
              f"{check['missing']}, unexpected {check['unexpected']}, wrong edition "
              f"{check['wrong_edition']}, issue {run_['status']}, rows {run_['statuses']}")
        cpu_text, ours_ms, _per = cpu_lines(run_)
        print(f"CPU seconds during the run: {cpu_text}")
        print(f"this run's processes: {ours_ms:.2f} CPU-ms per message")
        print(f"PostgreSQL INSERT + COMMIT: {info['commit_ms']:.2f} ms")
        if errors:
            print(f"worker log has {len(errors)} error lines, e.g.:\n  "
                  + "\n  ".join(errors[:5]))

        if args.breakdown == "always" or (args.breakdown == "auto" and not met(results)):
            if args.profile_subscribers >= 4:
                b = results["breakdown"] = breakdown(args, seeded, sink, info["batch_size"])
                print(f"breakdown: {b['plain_ms']:.2f} ms per message in one process "
                      f"({b['plain_cpu_ms']:.2f} ms of it CPU in this process, sink "
                      f"{b['sink_cpu_ms']:.2f} CPU-ms)")
                print(breakdown_table(b))

    print()
    print(main_table(results))
    section = render_section(results)
    ok = run_["completed"] and check["duplicates"] == 0 and check["missing"] == 0 \
        and check["unexpected"] == 0
    if not args.no_write:
        write_section(args.results, SECTION, section)
        print(f"\nwrote the E-magazine section of {args.results}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
