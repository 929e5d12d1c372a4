"""Reporting benchmark (issue 14): the staff dashboard and the review export on a marketplace
of realistic size.

    .venv/bin/python bench/reporting.py [--runs 5] [--postgres postgresql+psycopg://...]

Targets: the dashboard page in at most 1 s of server time, the review export (XLSX + PDF) in
at most 10 s.

1. Creates a throwaway PostgreSQL database of its own (``est_bench_reporting_<pid>``; dropped
   at the end, also after an error), builds the schema with the migrations and bulk-loads
   (SQLAlchemy Core inserts of lists of dicts): about 1,000 organisations in China and the
   ten ASEAN countries with two members each, 10,000 listings (6,000 solutions and 4,000
   needs, sector links with real taxonomy codes, TRLs, published over 24 months, some
   pending), 50,000 delivered matches (some interesting, some dismissed with a reason),
   5,000 introductions with their timelines, five B2B events with 2,000 meetings, match
   digests, and monthly E-magazine issues with their deliveries.
2. Inside ``app.test_request_context()``: ``dashboard(Scope())`` unfiltered, for one country
   and for one top-level sector in a 12-month period, and each of its section functions
   (network, listings, matching, introductions, events, mail) on its own, with SQL statement
   counts and the slowest statement of each.
3. Through a test client signed in as a staff user: ``GET /staff/dashboard`` (unfiltered and
   for one country) and the review export, ``review.zip`` (workbook and PDF) and
   ``review.xlsx`` and ``review.pdf`` on their own.

Each measurement: ``--warmup`` untimed runs, then ``--runs`` timed ones (median and max).
Prints Markdown tables; it does not rewrite RESULTS.md (paste them).
"""

from __future__ import annotations

import argparse
import contextvars
import io
import os
import random
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
import traceback
import zipfile
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# With bench/ first on sys.path, ``import search`` would find bench/search.py instead of the
# project's ``search`` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(REPO))

from bench import _harness  # noqa: E402
from bench._data import CITIES, CURRENCIES  # noqa: E402
from bench._harness import (  # noqa: E402
    git_state,
    machine,
    on_sigterm,
    recreate_database,
    seed_tables,
)

DASHBOARD_TARGET = 1.0  # seconds of server time for the dashboard page
EXPORT_TARGET = 10.0  # seconds for the review export (XLSX + PDF)
SECTIONS = ("network", "listings", "matching", "introductions", "events", "mail")

SOLUTIONS = 6_000
NEEDS = 4_000
SUPPLIER_ORGS = 600
BUYER_ORGS = 400
MATCHES = 50_000
INTRODUCTIONS = 5_000
EVENTS = 5
MEETINGS_PER_EVENT = 400  # 2,000 in all
SUBSCRIBERS = 2_000
ISSUES = 24
MONTHS = 24

SUPPLIER_KINDS = ("enterprise", "enterprise", "enterprise", "research_institute")
BUYER_KINDS = ("municipality", "utility", "industrial_park", "enterprise",
               "government_agency", "ngo")
FIRST_NAMES = ("Anh", "Budi", "Siti", "Nguyen", "Somchai", "Maria", "Aung", "Dara", "Farah",
               "Rizal", "Mei", "Kiet", "Lina", "Arjun", "Putri", "Joko", "Chanthy", "Hana",
               "Wei", "Jing", "Lei", "Min", "Tao", "Yan")
LAST_NAMES = ("Tran", "Santoso", "Rahman", "Wong", "Lim", "Pham", "Suksawat", "Reyes", "Tan",
              "Soe", "Vong", "Ibrahim", "Cruz", "Halim", "Chua", "Le", "Ong", "Wang", "Li",
              "Zhang", "Liu", "Chen")
# Introductions by their stage now (weights).
STAGE_WEIGHTS = {"new": 12, "contacted": 22, "meeting": 16, "nda": 10, "pilot": 7,
                 "contract": 5, "declined": 20, "expired": 8}
PIPELINE_ORDER = ("contacted", "meeting", "nda", "pilot", "contract")
DAY = timedelta(days=1)


# -- seeding -----------------------------------------------------------------------------------


def _between(rng: random.Random, low: datetime, high: datetime) -> datetime:
    if high <= low:
        return low
    return low + (high - low) * rng.random()


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def seed(rng: random.Random, now: datetime) -> dict[str, Any]:
    """Bulk-load the marketplace; returns row counts and what the measurements need."""

    from marketplace.constants import ASEAN_COUNTRIES, BASES, CAPACITY_UNITS
    from marketplace.models import (
        DigestDelivery,
        Event,
        EventRegistration,
        Introduction,
        IntroductionStep,
        Issue,
        IssueDelivery,
        IssueEdition,
        MailSuppression,
        Match,
        Meeting,
        MeetingRequest,
        MeetingSlot,
        Need,
        NeedSector,
        Organization,
        Solution,
        SolutionCountry,
        SolutionSector,
        Subscriber,
        User,
    )
    from marketplace.models.discovery import DISMISS_REASONS
    from marketplace.models.introductions import DECLINE_REASONS
    from marketplace.models.states import IntroductionStage, MeetingStatus
    from marketplace.taxonomy import taxonomy

    started = time.perf_counter()
    tree = taxonomy()
    leaves = sorted(code for code, sector in tree.sectors.items() if not sector.children)
    units = sorted(CAPACITY_UNITS)
    bases = sorted(BASES)
    history_start = now - timedelta(days=30 * MONTHS)
    stages = {stage.value for stage in IntroductionStage}
    assert set(STAGE_WEIGHTS) == stages, stages

    # Organisations: suppliers 1..600 (70% in China), buyers 601..1000 (ASEAN, a few in
    # China).  Some joined before the 24 months of listings.
    orgs = []
    for o in range(1, SUPPLIER_ORGS + BUYER_ORGS + 1):
        supplier = o <= SUPPLIER_ORGS
        in_china = rng.random() < (0.7 if supplier else 0.05)
        country = "CN" if in_china else rng.choice(ASEAN_COUNTRIES)
        city = rng.choice(CITIES[country])
        created = _between(rng, now - timedelta(days=30 * (MONTHS + 6)), now - 20 * DAY)
        kind = rng.choice(SUPPLIER_KINDS if supplier else BUYER_KINDS)
        orgs.append(dict(
            id=o, name=f"{city} {kind.replace('_', ' ').title()} {o}", kind=kind,
            country=country, city=city,
            base=rng.choice(bases) if in_china and rng.random() < 0.6 else None,
            website="", description="", join_code=f"bench-reporting-{o}", is_demo=False,
            verified_at=_between(rng, created, created + 20 * DAY)
            if rng.random() < 0.7 else None,
            verified_by_id=None, created_at=created))
    org_created = {org["id"]: org["created_at"] for org in orgs}

    # Two members per organisation (users 2o-1 and 2o), and one staff user.
    users = []
    for org in orgs:
        role = "supplier" if org["id"] <= SUPPLIER_ORGS else "buyer"
        for n in (0, 1):
            uid = 2 * org["id"] - 1 + n
            created = _between(rng, org["created_at"], org["created_at"] + 60 * DAY)
            users.append(dict(
                id=uid, email=f"member{uid:05d}@bench.example", password_hash="!bench",
                name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                organization_id=org["id"], role=role,
                language="zh" if org["country"] == "CN" and rng.random() < 0.8 else "en",
                email_verified_at=created, is_active_account=True, created_at=min(created, now),
                digest_frequency=rng.choice(("daily", "weekly", "weekly", "off")),
                digest_need_matches=True, digest_solution_matches=True,
                digest_saved_searches=True, introduction_notice="immediate",
                introduction_summary_at=None, session_token=f"bench{uid}"))
    staff_id = len(users) + 1
    users.append(dict(
        id=staff_id, email="staff@bench.example", password_hash="!bench", name="Bench Staff",
        organization_id=None, role="staff", language="en", email_verified_at=history_start,
        is_active_account=True, created_at=history_start, digest_frequency="off",
        digest_need_matches=True, digest_solution_matches=True, digest_saved_searches=True,
        introduction_notice="immediate", introduction_summary_at=None,
        session_token="bench-staff"))

    # Listings: published over the last 24 months, a year of life each (older ones have
    # expired); 5% waiting for moderation, 2% drafts.
    def listing(lid: int, org_id: int) -> dict[str, Any]:
        low = max(history_start, org_created[org_id])
        fate = rng.random()
        if fate < 0.05:
            status, submitted = "pending", _between(rng, now - 20 * DAY, now)
            published = expires = None
        elif fate < 0.07:
            status, submitted, published, expires = "draft", None, None, None
        else:
            published = _between(rng, low, now)
            submitted = published - timedelta(hours=rng.uniform(2, 24 * 12))
            expires = published + timedelta(days=365)
            status = "published" if expires > now else "expired"
            if status == "published" and rng.random() < 0.03:
                status = "archived"
        created = min(submitted or now, published or now) - timedelta(hours=rng.uniform(0, 72))
        return dict(id=lid, description="", status=status, review_note="",
                    submitted_at=submitted, published_at=published, expires_at=expires,
                    created_at=created, updated_at=published or created, is_demo=False,
                    organization_id=org_id)

    solutions, sol_sectors, sol_countries = [], [], []
    for s in range(1, SOLUTIONS + 1):
        row = listing(s, rng.randint(1, SUPPLIER_ORGS))
        codes = rng.sample(leaves, rng.choice((1, 1, 2, 2, 3)))
        price = round(rng.uniform(5_000, 2_000_000), -2)
        capacity = round(rng.uniform(1, 500), 1)
        row.update(
            title=f"{tree[codes[0]].name()} system {s}", summary="", keywords=[],
            trl=rng.choices(range(1, 10), weights=(1, 1, 2, 4, 6, 8, 9, 8, 6))[0],
            capacity_min=capacity, capacity_max=round(capacity * rng.uniform(1, 20), 1),
            capacity_unit=rng.choice(units), price_min=price,
            price_max=round(price * rng.uniform(1, 3), -2), currency=rng.choice(CURRENCIES),
            languages=["en", "zh"] if rng.random() < 0.4 else ["en"], certifications=[])
        solutions.append(row)
        sol_sectors += [dict(solution_id=s, code=code) for code in codes]
        sol_countries += [dict(solution_id=s, country=c) for c in
                          rng.sample(("CN", *ASEAN_COUNTRIES), rng.randint(1, 4))]
    needs, need_sectors = [], []
    country_of = {org["id"]: (org["country"], org["city"]) for org in orgs}
    for n in range(1, NEEDS + 1):
        org_id = rng.randint(SUPPLIER_ORGS + 1, SUPPLIER_ORGS + BUYER_ORGS)
        row = listing(n, org_id)
        codes = rng.sample(leaves, rng.choice((1, 1, 1, 2)))
        budget = round(rng.uniform(20_000, 3_000_000), -3)
        country, city = country_of[org_id]
        row.update(
            title=f"{tree[codes[0]].name()} for {city} ({n})", country=country, city=city,
            capacity=round(rng.uniform(1, 2000), 1), capacity_unit=rng.choice(units),
            budget_min=budget / 2, budget_max=budget, currency="USD",
            deadline=(now + timedelta(days=rng.randint(30, 365))).date(),
            min_trl=rng.randint(1, 7), required_certifications=[])
        needs.append(row)
        need_sectors += [dict(need_id=n, code=code) for code in codes]

    # Matches: pairs of listings that were live at the same time, delivered soon after the
    # later of the two was published.
    def live_window(row: dict) -> tuple[datetime, datetime] | None:
        if row["published_at"] is None:
            return None
        return row["published_at"], min(row["expires_at"], now)
    sol_live = {row["id"]: w for row in solutions if (w := live_window(row))}
    need_live = {row["id"]: w for row in needs if (w := live_window(row))}
    sol_ids, need_ids = sorted(sol_live), sorted(need_live)
    matches, pairs = [], set()
    while len(matches) < MATCHES:
        n, s = rng.choice(need_ids), rng.choice(sol_ids)
        if (n, s) in pairs:
            continue
        low = max(need_live[n][0], sol_live[s][0])
        high = min(need_live[n][1], sol_live[s][1])
        if low >= high:
            continue
        pairs.add((n, s))
        delivered = min(low + timedelta(hours=rng.expovariate(1 / 72)), high)
        states, reasons = [], []
        for _side in (0, 1):
            roll = rng.random()
            state = "interesting" if roll < 0.12 else "dismissed" if roll < 0.22 else "new"
            states.append(state)
            reasons.append(rng.choice(DISMISS_REASONS)
                           if state == "dismissed" and rng.random() < 0.7 else None)
        matches.append(dict(
            id=len(matches) + 1, need_id=n, solution_id=s,
            score=round(rng.uniform(0.02, 0.05), 5), reasons=[],
            buyer_state=states[0], supplier_state=states[1],
            first_seen_at=delivered - timedelta(hours=rng.uniform(0, 12)),
            evidence=round(rng.uniform(0.5, 1.0), 3), delivered=True, delivered_at=delivered,
            buyer_dismiss_reason=reasons[0], supplier_dismiss_reason=reasons[1],
            updated_at=delivered))
    need_org = {row["id"]: row["organization_id"] for row in needs}
    sol_org = {row["id"]: row["organization_id"] for row in solutions}

    # Introductions from 5,000 of the matches, each with its timeline.
    introductions, steps = [], []
    intro_of_match: dict[int, int] = {}
    for match in rng.sample(matches, INTRODUCTIONS):
        iid = len(introductions) + 1
        n, s = match["need_id"], match["solution_id"]
        buyer_org, supplier_org = need_org[n], sol_org[s]
        sender_org, recipient_org = (buyer_org, supplier_org) if rng.random() < 0.6 \
            else (supplier_org, buyer_org)
        sender, recipient = 2 * sender_org - 1, 2 * recipient_org - 1
        target = _weighted(rng, STAGE_WEIGHTS)
        created = min(match["delivered_at"] + timedelta(days=rng.uniform(0, 10)),
                      now - timedelta(hours=1))
        if target == "new" or (target == "expired" and created + 30 * DAY > now):
            target = "new"
            created = _between(rng, max(match["delivered_at"], now - 25 * DAY), now)
        timeline = [("new", created, sender)]
        accepted = declined = None
        reason, note = None, ""
        if target == "expired":
            timeline.append(("expired", created + 30 * DAY, None))
        elif target == "declined" and rng.random() < 0.7:
            declined = min(created + timedelta(days=rng.uniform(0.5, 14)), now)
            timeline.append(("declined", declined, recipient))
        elif target != "new":
            accepted = min(created + timedelta(days=rng.uniform(0.5, 10)), now)
            timeline.append(("contacted", accepted, recipient))
            last = PIPELINE_ORDER.index(target) if target in PIPELINE_ORDER \
                else rng.randint(0, 3)  # declined later, from contacted..pilot
            at = accepted
            for stage in PIPELINE_ORDER[1:last + 1]:
                at += timedelta(days=rng.uniform(5, 40))
                if at > now:
                    break
                timeline.append((stage, at, rng.choice((sender, recipient))))
            if target == "declined":
                declined = min(timeline[-1][1] + timedelta(days=rng.uniform(5, 40)), now)
                timeline.append(("declined", declined, rng.choice((sender, recipient))))
        stage = timeline[-1][0]
        if stage == "declined":
            reason = rng.choice(DECLINE_REASONS)
            note = "Explained in the call." if reason == "other" else ""
        introductions.append(dict(
            id=iid, need_id=n, solution_id=s, match_id=match["id"], sender_org_id=sender_org,
            recipient_org_id=recipient_org, sender_id=sender,
            recipient_contact_id=recipient if accepted else None, proposed_by_id=None,
            help_requested_at=None, message="We would like to discuss this match.",
            wishes=[], stage=stage, decline_reason=reason, decline_note=note,
            open_pair=None if stage in ("declined", "expired") else f"{n}:{s}",
            created_at=created, accepted_at=accepted, declined_at=declined, reminded_at=None,
            stage_changed_at=timeline[-1][1], version=len(timeline)))
        for step_stage, at, actor in timeline:
            steps.append(dict(id=len(steps) + 1, introduction_id=iid, at=at, actor_id=actor,
                              stage=step_stage, note=""))
        intro_of_match[match["id"]] = iid

    # Events: four past B2B days and one coming; each with 16 slots x 40 tables, the first
    # member of a few hundred organisations registered, requests about their matches, and
    # 400 meetings placed greedily (no one twice in a slot, at most 8 each).
    events, registrations, slots, requests, meetings = [], [], [], [], []
    matches_by_orgs: dict[tuple[int, int], list[dict]] = defaultdict(list)
    for match in matches:
        matches_by_orgs[(need_org[match["need_id"]], sol_org[match["solution_id"]])].append(
            match)
    for e in range(1, EVENTS + 1):
        starts = (now + 30 * DAY).date() if e == EVENTS \
            else (now - timedelta(days=30 * (MONTHS - 5 * e))).date()
        past = starts < now.date()
        base = bases[e % len(bases)]
        events.append(dict(
            id=e, title=f"ASEAN-China EST matchmaking day {e}", kind="b2b", base=base,
            starts_on=starts, ends_on=starts, location=f"{base.title()} demonstration base",
            url="", description="", programme="", capacity=500, meeting_minutes=25,
            meeting_tables=40, meeting_cap=8, schedule_state="final" if past else "preliminary",
            created_at=datetime.combine(starts, datetime.min.time(), UTC) - 60 * DAY))
        day = datetime.combine(starts, datetime.min.time(), UTC) + timedelta(hours=1)
        event_slots = []
        for k in range(16):
            begin = day + timedelta(minutes=30 * k)
            slots.append(dict(id=len(slots) + 1, event_id=e, starts_at=begin,
                              ends_at=begin + timedelta(minutes=25)))
            event_slots.append(slots[-1])
        buyers = rng.sample(range(SUPPLIER_ORGS + 1, SUPPLIER_ORGS + BUYER_ORGS + 1), 200)
        suppliers = rng.sample(range(1, SUPPLIER_ORGS + 1), 300)
        registered_at = day - 45 * DAY
        reg_of: dict[int, int] = {}
        for org_id in buyers + suppliers:
            rid = len(registrations) + 1
            reg_of[org_id] = rid
            at = _between(rng, registered_at, day - 2 * DAY)
            registrations.append(dict(
                id=rid, event_id=e, user_id=2 * org_id - 1, organization_id=org_id,
                status="registered", created_at=at, confirmed_at=at, cancelled_at=None,
                checked_in_at=day if past and rng.random() < 0.85 else None))
        for org_id in rng.sample(buyers + suppliers, 40):  # second members: waitlist, cancelled
            at = _between(rng, registered_at, day - 2 * DAY)
            cancelled = rng.random() < 0.5
            registrations.append(dict(
                id=len(registrations) + 1, event_id=e, user_id=2 * org_id,
                organization_id=org_id, status="cancelled" if cancelled else "waitlisted",
                created_at=at, confirmed_at=None,
                cancelled_at=at + DAY if cancelled else None, checked_in_at=None))
        candidates = [match for b in buyers for s in suppliers
                      for match in matches_by_orgs.get((b, s), ())]
        rng.shuffle(candidates)
        asked: set[str] = set()
        per_person: dict[int, int] = defaultdict(int)
        event_requests = []
        for match in candidates:
            buyer_reg = reg_of[need_org[match["need_id"]]]
            supplier_reg = reg_of[sol_org[match["solution_id"]]]
            pair = f"{min(buyer_reg, supplier_reg)}:{max(buyer_reg, supplier_reg)}"
            if pair in asked or per_person[buyer_reg] >= 10 or per_person[supplier_reg] >= 10:
                continue
            asked.add(pair)
            per_person[buyer_reg] += 1
            per_person[supplier_reg] += 1
            requester, recipient = (buyer_reg, supplier_reg) if rng.random() < 0.6 \
                else (supplier_reg, buyer_reg)
            roll = rng.random()
            status = "accepted" if roll < 0.78 else "declined" if roll < 0.9 else "requested"
            at = _between(rng, registered_at, day - 3 * DAY)
            reason = rng.choice(DECLINE_REASONS) if status == "declined" else None
            event_requests.append(dict(
                id=len(requests) + len(event_requests) + 1, event_id=e,
                requester_id=requester, recipient_id=recipient, pair=pair,
                need_id=match["need_id"], solution_id=match["solution_id"],
                match_id=match["id"], reason="Our need fits your solution.", status=status,
                decline_reason=reason, decline_note="Not this time." if reason == "other" else "",
                created_at=at, answered_at=at + DAY if status != "requested" else None))
            if len(event_requests) >= 700:
                break
        requests += event_requests
        busy: set[tuple[int, int]] = set()
        tables_used: dict[int, int] = defaultdict(int)
        placed_count: dict[int, int] = defaultdict(int)
        placed = 0
        for request in event_requests:
            if request["status"] != "accepted" or placed >= MEETINGS_PER_EVENT:
                continue
            a, b = request["requester_id"], request["recipient_id"]
            if placed_count[a] >= 8 or placed_count[b] >= 8:
                continue
            slot = next((slot for slot in event_slots if tables_used[slot["id"]] < 40
                         and (slot["id"], a) not in busy and (slot["id"], b) not in busy), None)
            if slot is None:
                continue
            tables_used[slot["id"]] += 1
            busy |= {(slot["id"], a), (slot["id"], b)}
            placed_count[a] += 1
            placed_count[b] += 1
            placed += 1
            if past:
                roll = rng.random()
                status = MeetingStatus.HELD if roll < 0.8 else \
                    MeetingStatus.NO_SHOW if roll < 0.92 else MeetingStatus.CANCELLED
            else:
                status = MeetingStatus.SCHEDULED if rng.random() < 0.95 \
                    else MeetingStatus.CANCELLED
            done = status in (MeetingStatus.HELD, MeetingStatus.NO_SHOW)
            meetings.append(dict(
                id=len(meetings) + 1, event_id=e, request_id=request["id"], slot_id=slot["id"],
                table=tables_used[slot["id"]], status=status.value, sequence=1,
                outcome_at=slot["ends_at"] if done else None,
                outcome_by_id=staff_id if done else None,
                introduction_id=intro_of_match.get(request["match_id"])
                if status == MeetingStatus.HELD else None,
                updated_at=slot["ends_at"] if past else day - 7 * DAY))

    # Match digests: each member got some weekly digests since joining.
    digests = []
    for user in users[:-1]:
        weeks = int((now - user["created_at"]) / timedelta(weeks=1))
        for week in rng.sample(range(weeks), min(weeks, rng.randint(6, 16))):
            claimed = user["created_at"] + timedelta(weeks=week + 1)
            status = _weighted(rng, {"sent": 96, "failed": 2, "bounced": 1, "skipped": 1})
            digests.append(dict(
                id=len(digests) + 1, user_id=user["id"],
                period=f"weekly:{claimed.date().isoformat()}", status=status,
                claimed_at=claimed,
                sent_at=claimed + timedelta(seconds=30) if status == "sent" else None,
                attempts=1 if status != "failed" else 3,
                last_error="550 mailbox unavailable" if status in ("failed", "bounced")
                else ""))

    # The E-magazine: subscribers, a monthly issue sent to those confirmed by then, the
    # readers who left.
    subscribers, suppressions, left_at = [], [], {}
    for sid in range(1, SUBSCRIBERS + 1):
        created = _between(rng, history_start - 90 * DAY, now - 5 * DAY)
        confirmed = created + timedelta(hours=rng.uniform(0.1, 48))
        status = "unsubscribed" if rng.random() < 0.1 else "confirmed"
        email = f"reader{sid:05d}@bench.example"
        if status == "unsubscribed":
            left_at[sid] = _between(rng, confirmed, now)
            suppressions.append(dict(
                id=len(suppressions) + 1, email=email, list_name="emagazine",
                reason="unsubscribed", detail="", created_at=left_at[sid]))
        subscribers.append(dict(
            id=sid, email=email, language="zh" if rng.random() < 0.35 else "en", countries=[],
            sectors=[], user_id=None, status=status, created_at=created, signup_ip="",
            confirmed_at=confirmed, confirmed_ip="", confirmations_window_start=None,
            confirmations_in_window=0, confirm_nonce=None))
    issues, editions, issue_mail = [], [], []
    for i in range(1, ISSUES + 1):
        sent = now - timedelta(days=30 * (ISSUES - i) + 15)
        readers = [sub for sub in subscribers if sub["confirmed_at"] < sent
                   and (sub["id"] not in left_at or left_at[sub["id"]] > sent)]
        issues.append(dict(
            id=i, slug=f"bench-issue-{i}", status="sent", audience={}, scheduled_at=sent,
            started_at=sent, sent_at=sent + timedelta(minutes=2), recipient_count=len(readers),
            created_at=sent - 10 * DAY, created_by_id=staff_id))
        editions.append(dict(id=i, issue_id=i, language="en", title=f"Issue {i}", intro=""))
        for sub in readers:
            status = _weighted(rng, {"sent": 97, "bounced": 1.5, "failed": 0.5,
                                     "suppressed": 1})
            issue_mail.append(dict(
                id=len(issue_mail) + 1, issue_id=i, subscriber_id=sub["id"],
                email=sub["email"], language=sub["language"], status=status, claimed_at=sent,
                sent_at=sent + timedelta(seconds=60) if status == "sent" else None,
                attempts=1, last_error=""))

    built = time.perf_counter() - started
    tables = [(Organization, orgs), (User, users), (Solution, solutions),
              (SolutionSector, sol_sectors), (SolutionCountry, sol_countries), (Need, needs),
              (NeedSector, need_sectors), (Match, matches), (Introduction, introductions),
              (IntroductionStep, steps), (Event, events), (EventRegistration, registrations),
              (MeetingSlot, slots), (MeetingRequest, requests), (Meeting, meetings),
              (DigestDelivery, digests), (Subscriber, subscribers),
              (MailSuppression, suppressions), (Issue, issues), (IssueEdition, editions),
              (IssueDelivery, issue_mail)]
    rows = sum(len(data) for _model, data in tables)
    inserted = seed_tables(tables)
    by_table = {model.__table__.name: len(data) for model, data in tables}
    held = [m for m in meetings if m["status"] == "held"]
    expected = {
        ("network", "Organisations"): len(orgs),
        ("network", "Users (suppliers and buyers)"): len(users) - 1,
        ("listings", "Solutions published"): sum(r["published_at"] is not None
                                                 for r in solutions),
        ("listings", "Needs published"): sum(r["published_at"] is not None for r in needs),
        ("listings", "Waiting for moderation now"): sum(r["status"] == "pending"
                                                        for r in solutions + needs),
        ("matching", "Matches delivered"): len(matches),
        ("matching", "Marked interesting by a side"): sum(
            "interesting" in (m["buyer_state"], m["supplier_state"]) for m in matches),
        ("matching", "Dismissed by a side"): sum(
            "dismissed" in (m["buyer_state"], m["supplier_state"]) for m in matches),
        ("introductions", "Requests sent"): len(introductions),
        ("introductions", "Accepted"): sum(i["accepted_at"] is not None
                                           for i in introductions),
        ("introductions", "Waiting for an answer"): sum(i["stage"] == "new"
                                                        for i in introductions),
        ("introductions", "Expired unanswered"): sum(i["stage"] == "expired"
                                                     for i in introductions),
        ("events", "Events"): len(events),
        ("events", "Registrations"): sum(r["status"] == "registered" for r in registrations),
        ("events", "Meeting requests"): len(requests),
        ("events", "Meetings held"): len(held),
        ("events", "No-shows"): sum(m["status"] == "no_show" for m in meetings),
        ("events", "Introductions from meetings"): len({m["introduction_id"] for m in held
                                                        if m["introduction_id"]}),
        ("mail", "Match digests sent"): sum(d["status"] == "sent" for d in digests),
        ("mail", "E-magazine issues sent"): len(issues),
        ("mail", "E-magazine e-mails sent"): sum(d["status"] == "sent" for d in issue_mail),
        ("mail", "Unsubscribes"): len(suppressions),
    }
    return {"rows": rows, "tables": by_table, "build_seconds": built,
            "insert_seconds": inserted, "staff_id": staff_id, "expected": expected,
            "meetings_by_status": _count_by(meetings, "status"),
            "stages": _count_by(introductions, "stage"),
            "listing_status": _count_by(solutions + needs, "status")}


def _count_by(rows: list[dict], key: str) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for row in rows:
        out[row[key]] += 1
    return dict(sorted(out.items(), key=lambda item: -item[1]))


# -- measuring ---------------------------------------------------------------------------------


def measure(function: Callable[[], Any], warmup: int, runs: int) -> dict[str, Any]:
    for _ in range(warmup):
        function()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return {"median": statistics.median(times), "max": max(times), "runs": runs,
            "times": times}


class SqlLog:
    """Every statement one call ran, with its time (the driver's execute, not fetching)."""

    def __init__(self) -> None:
        self.entries: list[tuple[float, str, Any]] = []
        self._start = 0.0

    def before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self._start = time.perf_counter()

    def after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.entries.append((time.perf_counter() - self._start, statement, parameters))

    def run(self, function: Callable[[], Any]) -> list[tuple[float, str, Any]]:
        from sqlalchemy import event

        from marketplace.extensions import db

        self.entries = []
        event.listen(db.engine, "before_cursor_execute", self.before)
        event.listen(db.engine, "after_cursor_execute", self.after)
        try:
            function()
        finally:
            event.remove(db.engine, "before_cursor_execute", self.before)
            event.remove(db.engine, "after_cursor_execute", self.after)
        return list(self.entries)


def explain(statement: str, parameters: Any) -> str:
    """EXPLAIN ANALYZE of one logged statement, as the driver ran it."""
    from marketplace.extensions import db

    connection = db.session.connection()
    rows = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement,
                                      parameters).all()
    db.session.rollback()
    return "\n".join(row[0] for row in rows)


def one_line(sql: str, limit: int = 300) -> str:
    sql = re.sub(r"\s+", " ", sql).strip()
    return sql if len(sql) <= limit else sql[:limit] + " …"


def figures(app, scopes: dict[str, Any], warmup: int, runs: int) -> dict[str, Any]:
    """dashboard() and each of its sections, per scope, inside a request context."""
    from marketplace.extensions import db
    from marketplace.reporting import dashboard as module

    out: dict[str, Any] = {"dashboard": {}, "sections": {}, "sql": {}, "errors": {}}
    with app.test_request_context():
        for label, scope in scopes.items():
            def whole(scope=scope):
                module.dashboard(scope)
                db.session.rollback()  # each run in a fresh transaction, as a request is
            try:
                out["dashboard"][label] = measure(whole, warmup, runs)
            except Exception:  # reported; the other measurements still run
                out["errors"][f"dashboard({label})"] = traceback.format_exc()
                db.session.rollback()
            for name in SECTIONS:
                function = getattr(module, name)

                def section(function=function, scope=scope):
                    function(scope)
                    db.session.rollback()
                try:
                    out["sections"][(label, name)] = measure(section, warmup, runs)
                    out["sql"][(label, name)] = SqlLog().run(section)
                except Exception:
                    out["errors"][f"{name}({label})"] = traceback.format_exc()
                    db.session.rollback()
            print(f"  figures for {label}: " + (
                f"{1000 * out['dashboard'][label]['median']:.0f} ms median"
                if label in out["dashboard"] else "FAILED"), flush=True)
    return out


def export_parts(app, warmup: int, runs: int) -> dict[str, Any]:
    """Where the review export's time goes, unfiltered: the figures, the workbook, and the PDF
    as its two steps in marketplace.reporting.exports.pdf (the template with its charts, then
    WeasyPrint)."""
    import weasyprint
    from flask import render_template

    from marketplace.extensions import db
    from marketplace.reporting import exports
    from marketplace.reporting.dashboard import dashboard
    from marketplace.reporting.scope import Scope

    lines = ["ASEAN-China EST Marketplace: review report", "Period: all"]
    out: dict[str, Any] = {}
    with app.test_request_context():
        try:
            sections = dashboard(Scope())
            db.session.rollback()
            html = render_template("reporting/review.html", sections=sections,
                                   scope_lines=lines)
            out["exports.workbook(sections)"] = measure(
                lambda: exports.workbook(sections, lines), warmup, runs)
            out["review.html template (with its SVG charts)"] = measure(
                lambda: render_template("reporting/review.html", sections=sections,
                                        scope_lines=lines), warmup, runs)
            out["WeasyPrint HTML(...).write_pdf()"] = measure(
                lambda: weasyprint.HTML(string=html).write_pdf(), warmup, runs)
            out["html_kib"] = len(html.encode()) / 1024
        except Exception:  # reported with the others
            out["error"] = traceback.format_exc()
    return out


def check_figures(app, expected: dict[tuple[str, str], int]) -> list[tuple[str, str, Any, int]]:
    """The unfiltered headline figures against what was seeded: (section, figure, shown,
    seeded) for each that differs, or ("error", traceback, ...) if dashboard() fails."""
    from marketplace.extensions import db
    from marketplace.reporting.dashboard import dashboard
    from marketplace.reporting.scope import Scope

    with app.test_request_context():
        try:
            sections = dashboard(Scope())
        except Exception:  # reported with the others
            return [("error", traceback.format_exc(), None, 0)]
        finally:
            db.session.rollback()
    shown = {(section.key, str(label)): value for section in sections
             for label, value in section.tables[0].rows}
    return [(section, label, shown.get((section, label), "missing"), value)
            for (section, label), value in expected.items()
            if shown.get((section, label)) != value]


def pages(app, staff_id: int, urls: dict[str, str], warmup: dict[str, int], runs: int
          ) -> dict[str, Any]:
    """Whole requests through the test client, signed in as staff; each request in a fresh
    context (as the tests' IsolatedClient does), so nothing is shared with this process's
    app context."""
    from marketplace.extensions import db
    from marketplace.models import User

    with app.app_context():
        session_id = db.session.get(User, staff_id).get_id()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True

    out: dict[str, Any] = {"timings": {}, "sizes": {}, "errors": {}}
    for label, url in urls.items():
        def get(url=url):
            response = contextvars.Context().run(client.get, url)
            if response.status_code != 200:
                raise AssertionError(f"GET {url} answered {response.status_code}: "
                                     + response.get_data(as_text=True)[:2000])
            return response
        try:
            response = get()  # checked once before timing
            body = response.get_data()
            out["sizes"][label] = (len(body), response.mimetype, check_body(url, body))
            out["timings"][label] = measure(get, max(0, warmup[label] - 1), runs)
        except Exception:
            out["errors"][label] = traceback.format_exc()
        print(f"  {label}: " + (f"{out['timings'][label]['median']:.2f} s median"
                                if label in out["timings"] else "FAILED"), flush=True)
    return out


def check_body(url: str, body: bytes) -> str:
    """What the response holds, checked: the page's sections, the archive's two files."""
    path = url.split("?")[0]
    if path.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(body)) as bundle:
            names = bundle.namelist()
            assert len(names) == 2 and {Path(n).suffix for n in names} == {".xlsx", ".pdf"}, \
                names
            assert bundle.read(next(n for n in names if n.endswith(".pdf")))[:5] == b"%PDF-"
            return ", ".join(f"{n} {bundle.getinfo(n).file_size / 1024:.0f} KiB"
                             for n in names)
    if path.endswith(".pdf"):
        assert body[:5] == b"%PDF-", body[:20]
        pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", body))
        return f"PDF, {pages} pages" if pages else "PDF"
    if path.endswith(".xlsx"):
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(body), read_only=True)
        return f"{len(book.sheetnames)} sheets"
    text = body.decode()
    found = len(re.findall(r'<section class="panel report-section"', text))
    assert found == len(SECTIONS), f"{found} sections on the page"
    return f"{found} sections, {text.count('data-chart=')} charts"


# -- the report --------------------------------------------------------------------------------


def verdict(seconds: float, target: float) -> str:
    return "**met**" if seconds <= target else "**missed**"


def report(info: dict[str, Any], seeded: dict[str, Any], figs: dict[str, Any],
           web: dict[str, Any], scope_words: dict[str, str]) -> str:
    m = info["machine"]
    lines = [
        f"Run {info['date']} on {m['cpu']}, {m['nproc']} cores (nproc), {m['ram']} RAM; "
        f"Python {m['python']}; PostgreSQL {info['postgres']} (local, database "
        f"`{info['database']}` created for the run and dropped after it); commit "
        f"{info['git']}. Load average {info['load'][0]:.2f} before, {info['load'][1]:.2f} "
        "after.",
        "",
        "Command: `" + " ".join(filter(None, (".venv/bin/python bench/reporting.py",
                                               info["argv"]))) + "`",
        "",
        "| measurement | runs | median s | max s | target | |",
        "|---|---:|---:|---:|---|---|",
    ]
    for label, result in web["timings"].items():
        target = DASHBOARD_TARGET if "dashboard" in label and "review" not in label else \
            EXPORT_TARGET if "review.zip" in label else None
        lines.append(
            f"| `{label}` | {result['runs']} | {result['median']:.2f} | {result['max']:.2f} | "
            + (f"≤ {target:g} s | {verdict(result['median'], target)} |" if target
               else "— | |"))
    for label in web["errors"]:
        lines.append(f"| `{label}` | — | failed | failed | | **error** |")
    for label, result in figs["dashboard"].items():
        lines.append(
            f"| `dashboard({scope_words[label]})`, figures only | {result['runs']} | "
            f"{result['median']:.2f} | {result['max']:.2f} | — | |")
    parts = {k: v for k, v in web.get("parts", {}).items() if isinstance(v, dict)}
    if parts:
        lines += ["", "The review export in parts (unfiltered, in a request context; the PDF "
                  f"summary's HTML is {web['parts']['html_kib']:.0f} KiB):", "",
                  "| part | runs | median s | max s |", "|---|---:|---:|---:|"]
        lines += [f"| `{label}` | {r['runs']} | {r['median']:.2f} | {r['max']:.2f} |"
                  for label, r in parts.items()]
    checked, wrong = info["figure_check"]
    lines += [
        "",
        f"Headline figures of the unfiltered dashboard checked against the seeded rows: "
        f"{checked - len(wrong)} of {checked} agree"
        + ("." if not wrong else "; differ: " + "; ".join(
            f"{section} / {label}: shown {shown}, seeded {value}"
            for section, label, shown, value in wrong) + "."),
    ]
    lines += [
        "",
        "Per section of `marketplace/reporting/dashboard.py`, called on its own inside "
        "`app.test_request_context()`: median / max ms, SQL statements per call, and the "
        "slowest statement's ms (one extra logged call).",
        "",
        "| section | " + " | ".join(scope_words[label] for label in scope_words) + " |",
        "|---|" + "---:|" * len(scope_words),
    ]
    for name in SECTIONS:
        cells = []
        for label in scope_words:
            result = figs["sections"].get((label, name))
            if result is None:
                cells.append("failed")
                continue
            sql = figs["sql"][(label, name)]
            slowest = max((entry[0] for entry in sql), default=0.0)
            cells.append(f"{1000 * result['median']:.0f} / {1000 * result['max']:.0f} ms, "
                         f"{len(sql)} stmts, slowest {1000 * slowest:.0f}")
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    t = seeded["tables"]
    lines += [
        "",
        f"Data ({seeded['rows']:,} rows bulk-inserted in {seeded['insert_seconds']:.1f} s, "
        f"built in {seeded['build_seconds']:.1f} s): {t['organizations']:,} organisations "
        f"(600 suppliers, 70% in China; 400 buyers in ASEAN), {t['users']:,} users, "
        f"{t['solutions']:,} solutions and {t['needs']:,} needs published over 24 months "
        f"(statuses {fmt_counts(seeded['listing_status'])}; "
        f"{t['solution_sectors'] + t['need_sectors']:,} sector links to leaf codes of the "
        f"taxonomy), {t['matches']:,} delivered matches (about 12% marked interesting and 10% "
        f"dismissed per side), {t['introductions']:,} introductions "
        f"({fmt_counts(seeded['stages'])}) with {t['introduction_steps']:,} timeline steps, "
        f"{t['events']} B2B events with {t['event_registrations']:,} registrations, "
        f"{t['meeting_requests']:,} meeting requests and {t['meetings']:,} meetings "
        f"({fmt_counts(seeded['meetings_by_status'])}), {t['digest_deliveries']:,} digest "
        f"deliveries, {t['issues']} E-magazine issues with {t['issue_deliveries']:,} "
        f"deliveries to {t['subscribers']:,} subscribers, {t['mail_suppressions']} "
        "unsubscribes.",
    ]
    return "\n".join(lines)


def fmt_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} {value:,}" for key, value in counts.items())


# -- main --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5,
                        help="timed runs per measurement (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=2,
                        help="untimed runs before each measurement; 1 for the exports "
                             "(default: %(default)s)")
    parser.add_argument("--postgres", default="postgresql+psycopg://est:est@127.0.0.1:5432",
                        help="server URL without a database (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=20241114)
    parser.add_argument("--explain", type=int, default=3,
                        help="print EXPLAIN ANALYZE of this many slowest statements "
                             "(default: %(default)s)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.runs < 1 or args.warmup < 0:
        raise SystemExit("need --runs ≥ 1 and --warmup ≥ 0")
    signal.signal(signal.SIGTERM, on_sigterm)
    info: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
        "git": git_state(), "argv": " ".join(sys.argv[1:] if argv is None else argv),
        "database": f"est_bench_reporting_{os.getpid()}"}
    load_before = os.getloadavg()[0]
    workdir = Path(tempfile.mkdtemp(prefix="est-bench-reporting-"))
    database_url = recreate_database(args.postgres, info["database"])
    try:
        return run(args, info, load_before, database_url, workdir)
    finally:
        drop_database(args.postgres, info["database"])
        shutil.rmtree(workdir, ignore_errors=True)


def drop_database(server_url: str, name: str) -> None:
    assert name.startswith("est_bench_reporting_")  # never anything else
    _harness.drop_database(server_url, name)
    print(f"dropped the database {name}")


def run(args: argparse.Namespace, info: dict[str, Any], load_before: float,
        database_url: str, workdir: Path) -> int:
    os.environ["MARKETPLACE_INSTANCE_PATH"] = str(workdir / "instance")
    from flask_migrate import upgrade
    from sqlalchemy import text

    from marketplace import create_app
    from marketplace.extensions import db
    from marketplace.reporting.scope import Scope
    from marketplace.taxonomy import taxonomy

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "bench-reporting-secret",
        "PUBLIC_BASE_URL": "https://est-marketplace.example.org",
        "SEARCH_BACKEND": "local",
        "MAIL_TRANSPORT": "outbox",
        "MAIL_OUTBOX_DIR": str(workdir / "outbox"),
        "PROPAGATE_EXCEPTIONS": True,  # a crash in a view surfaces as its traceback
    })
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        with app.app_context():
            start = time.perf_counter()
            upgrade()
            print(f"schema by migrations in {time.perf_counter() - start:.1f} s")
            info["postgres"] = db.session.scalar(text("SHOW server_version")).split()[0]
            db.session.commit()
            seeded = seed(random.Random(args.seed), now)
            print(f"seeded {seeded['rows']:,} rows in {seeded['insert_seconds']:.1f} s "
                  f"(built in {seeded['build_seconds']:.1f} s): {seeded['tables']}")

        today = now.date()
        period_end = today.replace(day=1) - DAY  # twelve full months, up to the last one
        year, month = divmod(period_end.year * 12 + period_end.month - 1 - 11, 12)
        period_start = date(year, month + 1, 1)
        sector = taxonomy().roots()[0].code
        scopes = {"all": Scope(), "vn": Scope(country="VN"),
                  "sector": Scope(sector=sector, start=period_start, end=period_end)}
        scope_words = {"all": "unfiltered", "vn": "country=VN",
                       "sector": f"sector={sector}, {period_start}..{period_end}"}
        wrong = check_figures(app, seeded["expected"])
        print(f"headline figures checked against the seed: {len(seeded['expected'])}, "
              f"{len(wrong)} differ" + "".join(f"\n  {section} / {label}: dashboard "
                                               f"{shown}, seeded {value}"
                                               for section, label, shown, value in wrong))
        info["figure_check"] = (len(seeded["expected"]), wrong)
        print("dashboard figures:")
        figs = figures(app, scopes, args.warmup, args.runs)
        urls = {
            "GET /staff/dashboard": "/staff/dashboard",
            "GET /staff/dashboard?country=VN": "/staff/dashboard?country=VN",
            "GET /staff/dashboard/review.zip": "/staff/dashboard/review.zip",
            "GET /staff/dashboard/review.xlsx": "/staff/dashboard/review.xlsx",
            "GET /staff/dashboard/review.pdf": "/staff/dashboard/review.pdf",
        }
        warmup = {label: args.warmup if "review" not in label else min(args.warmup, 1)
                  for label in urls}
        print("pages (test client, signed in as staff):")
        web = pages(app, seeded["staff_id"], urls, warmup, args.runs)
        print("review export, in parts:")
        parts = export_parts(app, min(args.warmup, 1), args.runs)
        web["parts"] = parts
        if "error" in parts:
            web["errors"]["export parts"] = parts["error"]
        info["load"] = (load_before, os.getloadavg()[0])

        print()
        print(report(info, seeded, figs, web, scope_words))
        for label, size in web["sizes"].items():
            print(f"  {label}: {size[0] / 1024:.0f} KiB {size[1]} ({size[2]})")

        logged = sorted(((entry, label, name) for (label, name), sql in figs["sql"].items()
                         for entry in sql), key=lambda item: -item[0][0])
        if logged:
            print("\nslowest statements (one logged call of each section):")
            for (seconds, sql, _params), label, name in logged[:10]:
                print(f"  {1000 * seconds:7.1f} ms  {name}({scope_words[label]}): "
                      f"{one_line(sql)}")
        if args.explain:
            with app.app_context():
                for (seconds, sql, params), label, name in logged[:args.explain]:
                    print(f"\nEXPLAIN ANALYZE, {name}({scope_words[label]}), "
                          f"{1000 * seconds:.0f} ms:\n{one_line(sql, 2000)}")
                    try:
                        print(explain(sql, params))
                    except Exception as error:
                        print(f"  (EXPLAIN failed: {error})")
                        db.session.rollback()
        errors = {**figs["errors"], **web["errors"]}
        for what, trace in errors.items():
            print(f"\n{what} FAILED:\n{trace}")
        return 1 if errors else 0
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
