"""The demo world: invented organisations and people, real technical content.

Solutions are written from the real technologies in ``data/demo/technology-catalogue.csv``
(CC BY 4.0, see ``data/demo/NOTICE.md``) plus water, waste and air offers typical of the
Yixing and Wuzhou bases.  Everything is labelled "(Demo)" and ``is_demo``.  The world is the
same on every run (a seeded random generator).
"""

from __future__ import annotations

import json
import random
import re
from datetime import date, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from tqdm import tqdm

from marketplace.constants import ASEAN_COUNTRIES
from marketplace.demo import catalogue
from marketplace.extensions import db
from marketplace.models import (
    Event,
    Issue,
    IssueEdition,
    IssueSection,
    ModerationDecision,
    Need,
    Organization,
    ReferenceProject,
    Solution,
    Subscriber,
    User,
)
from marketplace.models._time import utcnow
from marketplace.taxonomy import taxonomy
from marketplace.templating import shorten
from search import money

# The demo's literal content (organisations, listings, events) lives in data/*.json.
_DATA = {path.stem: json.loads(path.read_text(encoding="utf-8"))
         for path in (Path(__file__).parent / "data").glob("*.json")}

DEMO_PASSWORD = "demo-password-2026"
DOMAIN = "demo.est-marketplace.org"
LABEL = " (Demo)"

# (name, base, city, kind, specialities: sector roots the supplier is strong in)
SUPPLIERS = [tuple(row) for row in _DATA["organisations"]["suppliers"]]

# (name, country, city, kind)
BUYERS = [tuple(row) for row in _DATA["organisations"]["buyers"]]
# Capacity unit and a typical range for each sector root.
SECTOR_CAPACITY = {key: tuple(value) for key, value in _DATA["sectors"]["sector_capacity"].items()}
CERTIFICATIONS = _DATA["sectors"]["certifications"]

# Hand-written offers typical of the water, waste and air industries at Yixing and Wuzhou,
# and of the energy and ecology firms elsewhere: one listing per technology, so that every
# demo need finds a few genuinely relevant offers in its own sector.
# (title, sectors, summary, keywords); membrane bioreactors are the showcase's.
SPECIALIST_SOLUTIONS = [tuple(row) for row in _DATA["solutions"]["specialist_solutions"]]

# (title, sectors, capacity, unit, description); {city} is filled in.  Each need says in its
# own words what it asks for: no sentence is shared by every need.
NEED_TEMPLATES = [tuple(row) for row in _DATA["needs"]["need_templates"]]
# The main demo buyer's needs are chosen, not drawn: a water utility's own problems plus the
# biogas need that the matching issue was measured on (see DemoWorld.showcase for the rest).
DEMO_BUYER_NEEDS = _DATA["needs"]["demo_buyer_needs"]
# Some needs written in the buyers' own languages: the matcher works across languages.
LOCAL_LANGUAGE_NEEDS = [tuple(row) for row in _DATA["needs"]["local_language_needs"]]
# The offer that answers each kind of need, as a person would pick it: the demo makes sure it
# serves the need's country, so every need has at least one genuinely relevant offer (the
# sectors alone would pair a VOC need with a DeNOx plant, or e-buses with LNG trucks).
NEED_ANSWERS = _DATA["needs"]["need_answers"]
NEEDS_PER_BUYER = 3
CURRENCY = _DATA["sectors"]["currency"]


class DemoWorld:
    """Builds the demo world into the current session."""

    def __init__(self) -> None:
        self.rng = random.Random(2026)
        self.now = utcnow()
        self.password_hash = ""
        self.staff: User | None = None
        self.suppliers: list[Organization] = []
        self.buyers: list[Organization] = []
        self.solutions: list[Solution] = []
        self.needs_made: list[Need] = []
        self.answers: dict[Need, str | None] = {}  # need -> the title of the offer answering it

    # -- organisations and people ----------------------------------------------------------

    def user(self, email: str, name: str, role: str, org: Organization | None,
             language: str = "en", digests: str = "daily") -> User:
        user = User(email=f"{email}@{DOMAIN}", name=name, role=role, organization=org,
                    language=language, email_verified_at=self.now,
                    password_hash=self.password_hash, digest_frequency=digests)
        db.session.add(user)
        return user

    def organisations(self) -> None:
        for index, (name, base, city, kind, _) in enumerate(SUPPLIERS):
            self.suppliers.append(self._org(name, kind, "CN", city, base, verified=index % 7 != 6))
        for index, (name, country, city, kind) in enumerate(BUYERS):
            self.buyers.append(self._org(name, kind, country, city, None,
                                         verified=index % 6 != 5))

    def _org(self, name, kind, country, city, base, *, verified) -> Organization:
        slug = re.sub(r"[^a-z]+", "-", name.lower()).strip("-")
        org = Organization(
            name=name + LABEL, kind=kind, country=country, city=city, base=base, is_demo=True,
            website=f"https://{slug}.example", description=(
                f"{name} is an invented organisation in the demo world of the EST "
                f"Marketplace, based in {city}."),
            verified_at=self.now - timedelta(days=self.rng.randint(30, 400)) if verified else None,
        )
        db.session.add(org)
        return org

    def people(self) -> list[tuple[str, str]]:
        self.staff = self.user("staff", "Chen Jing (CAEC staff)", "staff", None)
        self.user("admin", "Admin", "admin", None)
        self.user("supplier", "Wang Lei", "supplier", self.suppliers[0])
        # Hears about new matches at once, so publishing a solution shows a digest right away.
        self.buyer_user = self.user("buyer", "Nguyen Thi Lan", "buyer", self.buyers[0],
                                    digests="immediate")
        self.user("supplier-zh", "Zhao Min", "supplier", self.suppliers[1], language="zh")
        for index, org in enumerate(self.suppliers[2:] + self.buyers[1:], start=1):
            role = "supplier" if org.country == "CN" else "buyer"
            self.user(f"{role}{index:02d}", f"Demo {role} {index}", role, org)
        for org in self.suppliers + self.buyers:
            if org.verified_at:
                org.verified_by = self.staff
        return [("staff", f"staff@{DOMAIN}"), ("admin", f"admin@{DOMAIN}"),
                ("supplier", f"supplier@{DOMAIN}"), ("buyer", f"buyer@{DOMAIN}"),
                ("supplier", f"supplier-zh@{DOMAIN} (Chinese interface)")]

    # -- the E-magazine ---------------------------------------------------------------------

    def emagazine(self) -> None:
        """Confirmed demo subscribers (and the demo buyer, from their settings), events at
        the three bases, and one past issue so the public archive is not empty."""
        for name, language, countries, sectors in DEMO_SUBSCRIBERS:
            db.session.add(Subscriber(email=f"{name}@{DOMAIN}", language=language,
                                      countries=countries, sectors=sectors,
                                      status="confirmed", confirmed_at=self.now,
                                      created_at=self.now))
        db.session.add(Subscriber(email=f"buyer@{DOMAIN}", language="en", status="confirmed",
                                  confirmed_at=self.now, created_at=self.now,
                                  user=self.buyer_user))
        today = self.now.date()
        for title, kind, base, days, length, venue in DEMO_EVENTS:
            start = today + timedelta(days=days)
            db.session.add(Event(title=title + LABEL, kind=kind, base=base, starts_on=start,
                                 ends_on=start + timedelta(days=length - 1), location=venue))
        sent_at = self.now - timedelta(days=30)
        intro = ("Welcome to the first issue of the EST Marketplace E-magazine (a demo issue): "
                 "news from the ASEAN-China technology network.")
        db.session.add(Issue(slug="demo-first-issue", status="sent", audience={},
                             started_at=sent_at, sent_at=sent_at, created_at=sent_at,
                             editions=[
            IssueEdition(language="en", title="EST Marketplace E-magazine, issue 1 (Demo)",
                         intro=intro, sections=[IssueSection(
                             heading="From the bases", body=(
                                 "The Yixing, Wuzhou and Shenzhen demonstration bases opened "
                                 "their doors to delegations from ASEAN utilities."))]),
            IssueEdition(language="zh", title="EST 环境技术平台电子期刊 第一期（演示）",
                         intro="欢迎阅读 EST 环境技术平台电子期刊第一期（演示内容）。",
                         sections=[IssueSection(heading="基地动态", body=(
                             "宜兴、梧州和深圳示范基地接待了来自东盟水务企业的代表团。"))]),
        ]))

    # -- listings -------------------------------------------------------------------------

    def _lifecycle(self, listing, status: str | None = None) -> None:
        """Give a listing a believable status and dates, with its moderation history."""
        status = status or self.rng.choices(
            ["published", "pending", "draft", "archived"], weights=[86, 6, 6, 2])[0]
        listing.status = status
        listing.is_demo = True
        created = self.now - timedelta(days=self.rng.randint(5, 150), hours=self.rng.randint(0, 23))
        listing.created_at = listing.updated_at = created
        if status in ("pending", "published", "archived"):
            listing.submitted_at = created + timedelta(hours=2)
        if status in ("published", "archived"):
            listing.published_at = created + timedelta(days=1)
            listing.expires_at = listing.published_at + timedelta(days=365)

    def _history(self, listing) -> None:
        if listing.submitted_at:
            db.session.add(ModerationDecision(listing_kind=listing.kind, listing_id=listing.id,
                                              action="submitted", created_at=listing.submitted_at))
        if listing.published_at:
            db.session.add(ModerationDecision(
                listing_kind=listing.kind, listing_id=listing.id, action="approved",
                actor=self.staff, created_at=listing.published_at))

    def _supplier_for(self, sectors: list[str]) -> Organization:
        roots = {taxonomy().ancestors(code)[-1] for code in sectors}
        fitting = [org for org, spec in zip(self.suppliers, SUPPLIERS, strict=True)
                   if roots & set(spec[4])]
        return self.rng.choice(fitting or self.suppliers)

    def _solution(self, org, title, summary, description, sectors, keywords, *,
                  commercial: bool = False) -> Solution:
        """A solution with invented figures; a ``commercial`` one is live and mature."""
        rng = self.rng
        unit, low, high = SECTOR_CAPACITY[taxonomy().ancestors(sectors[0])[-1]]
        cap_min = round(low * rng.uniform(1, 5), -1 if low >= 10 else 0) or low
        currency = rng.choice(["USD", "CNY"])
        price_min = money.convert(rng.choice([50, 120, 300, 800, 2000]) * 1000, "USD", currency)
        solution = Solution(
            organization=org, title=title, summary=shorten(summary, 300), description=description,
            keywords=keywords[:8],
            trl=rng.choice([8, 9] if commercial else [6, 7, 8, 8, 9, 9]),
            capacity_unit=unit, capacity_min=cap_min,
            capacity_max=round(max(cap_min * 2, high * rng.uniform(0.3, 1.0)),
                               -1 if low >= 10 else 0),
            price_min=round(price_min, -3), price_max=round(price_min * rng.uniform(3, 10), -3),
            currency=currency, languages=["en", "zh", *rng.sample(["vi", "th", "id", "ms"], 1)],
            certifications=rng.sample(CERTIFICATIONS, rng.randint(0, 3)),
        )
        solution.sectors = sectors
        solution.countries_served = rng.sample(ASEAN_COUNTRIES, rng.randint(3, 10))
        for _ in range(rng.randint(0, 3)):
            country_city = rng.choice(BUYERS + [(n, "CN", c, k) for n, _, c, k, _ in SUPPLIERS])
            solution.references.append(ReferenceProject(
                place=country_city[2], year=rng.randint(2012, 2025),
                capacity=f"{int(cap_min * rng.uniform(1, 3)):,} {unit}",
                text=rng.choice(["Turnkey supply and commissioning",
                                 "Design, equipment and two years of operation",
                                 "Retrofit of an existing plant", "Pilot, then full scale"])))
        self._lifecycle(solution, "published" if commercial else None)
        db.session.add(solution)
        self.solutions.append(solution)
        return solution

    # One listing per technology: variants of the same offer ("... for municipalities")
    # read as spam.  The descriptions keep their Markdown, as a supplier's would.

    def catalogue_solutions(self, progress) -> None:
        for row in catalogue.rows():
            sectors = catalogue.sectors_for(row)
            title = row.technology[0].upper() + row.technology[1:]
            org = self._supplier_for(sectors)
            description = (
                f"## The technology\n\n{row.description}\n\n"
                f"## What {org.name.removesuffix(LABEL)} provides\n\n"
                "Feasibility study, design, supply of the main equipment, installation "
                "supervision, commissioning and training of local operators.\n\n"
                f"*Technical description adapted from the CTCN technology catalogue "
                f"(CC BY 4.0): {row.source}*"
            )
            self._solution(org, title, row.description, description, sectors, row.key_terms)
            progress.update()

    def specialist_solutions(self, progress) -> None:
        """The industries' own offers, the answers most demo needs look for: published and
        commercially proven (the catalogue's rows show the other states and TRLs)."""
        for title, sectors, summary, keywords in SPECIALIST_SOLUTIONS:
            org = self._supplier_for(sectors)
            description = (f"## Overview\n\n{summary}\n\n## Scope of supply\n\n"
                           "- Process design and sizing\n- Main equipment and controls\n"
                           "- Commissioning and operator training\n- Remote support")
            self._solution(org, title, summary, description, sectors, keywords,
                           commercial=True)
            progress.update()

    def needs(self, progress) -> None:
        rng = self.rng
        chosen = [t for t in NEED_TEMPLATES if t[0] in DEMO_BUYER_NEEDS]
        for buyer in self.buyers:
            templates = chosen if buyer is self.buyers[0] else rng.sample(NEED_TEMPLATES,
                                                                          NEEDS_PER_BUYER)
            for template in templates:
                self._need(buyer, *template)
                progress.update()
        for country, title, sectors, capacity, unit, description in LOCAL_LANGUAGE_NEEDS:
            buyer = next(b for b in self.buyers if b.country == country)
            self._need(buyer, title, sectors, capacity, unit, description, literal=True)
            progress.update()

    def _need(self, buyer, title, sectors, capacity, unit, description, *, literal=False,
              status=None) -> Need:
        rng = self.rng
        currency = CURRENCY[buyer.country]
        budget_usd = rng.choice([100, 250, 500, 1000, 3000, 8000]) * 1000
        need = Need(
            organization=buyer, title=title if literal else title.format(city=buyer.city),
            description=description,
            country=buyer.country, city=buyer.city,
            capacity=float(round(capacity * rng.uniform(0.7, 1.3))), capacity_unit=unit,
            budget_min=round(money.convert(budget_usd, "USD", currency), -3),
            budget_max=round(money.convert(budget_usd * rng.uniform(1.5, 3), "USD", currency),
                             -3),
            currency=currency, deadline=date.today() + timedelta(days=rng.randint(45, 300)),
            min_trl=rng.choice([6, 7, 7, 8]),
            required_certifications=rng.sample(["ISO 14001", "ISO 9001"], rng.randint(0, 1)),
        )
        need.sectors = sectors
        self._lifecycle(need, status)
        db.session.add(need)
        self.needs_made.append(need)
        self.answers[need] = NEED_ANSWERS.get(title)
        return need

    def serve_every_need(self) -> None:
        """Every published need's answer (NEED_ANSWERS) is published and serves the need's
        country: the countries served are drawn at random, and a need left without a relevant
        offer would make the demo look broken (or answer a biogas need with biofuels)."""
        by_title = {s.title: s for s in self.solutions if s.status == "published"}
        for need in self.needs_made:
            answer = by_title.get(self.answers.get(need) or "")
            if need.status != "published" or answer is None:
                continue
            answer.trl = max(answer.trl, need.min_trl)
            if need.country not in answer.countries_served:
                answer.countries_served = [*answer.countries_served, need.country]

    def showcase(self) -> None:
        """The main demo accounts own listings in every state, and one clear match."""
        supplier_org, buyer_org = self.suppliers[0], self.buyers[0]
        mbr = self._solution(
            supplier_org, "MBR wastewater plant for coastal cities (Demo showcase)",
            "Membrane bioreactor plants of 1,000-30,000 m3/day producing reuse-grade water, "
            "proven in humid tropical climates.",
            "## Overview\n\nSubmerged hollow-fibre membranes with anoxic zones for nitrogen "
            "removal.\n\n## Why it fits coastal cities\n\nSmall footprint, stable effluent "
            "for reuse, and resistance to salty infiltration.",
            ["WAT.MUN", "WAT.REU"], ["MBR", "membrane bioreactor", "sewage", "reuse"])
        mbr.capacity_unit, mbr.capacity_min, mbr.capacity_max = "m3/day", 1000, 30000
        mbr.countries_served = ["VN", "TH", "PH", "ID", "MY"]
        mbr.trl = 9
        self._lifecycle(mbr, "published")
        for status, title, summary, sectors, keywords in SHOWCASE_UNPUBLISHED:
            extra = self._solution(supplier_org, title, summary, "Draft text.", sectors,
                                   keywords)
            self._lifecycle(extra, status)
        self._need(buyer_org, "Wastewater treatment and reuse for the Son Tra peninsula",
                   ["WAT.MUN", "WAT.REU"], 8000, "m3/day",
                   "Hotels and households on the peninsula need sewage treatment with water "
                   "reuse for irrigation.", literal=True, status="published").min_trl = 7
        self._need(buyer_org, "Sludge management study (draft example)", ["WAT.SLU"], 20,
                   "t/day", "Draft text.", literal=True, status="draft")


# The demo supplier's listings that are not public yet: (status, title, summary, sectors,
# keywords).  Two technologies, not one in two states, so that no two titles repeat.
SHOWCASE_UNPUBLISHED = [tuple(row) for row in _DATA["solutions"]["showcase_unpublished"]]
DEMO_EVENTS = [tuple(row) for row in _DATA["calendar"]["demo_events"]]
DEMO_SUBSCRIBERS = [tuple(row) for row in _DATA["calendar"]["demo_subscribers"]]


def seed() -> list[tuple[str, str]]:
    """Add the demo world to the session (flushed, not committed); return the logins."""
    world = DemoWorld()
    # Argon2 is deliberately slow: hash the shared demo password once.
    world.password_hash = PasswordHasher().hash(DEMO_PASSWORD)
    world.organisations()
    logins = world.people()
    total = len(catalogue.rows()) + len(SPECIALIST_SOLUTIONS) + NEEDS_PER_BUYER * len(BUYERS) \
        + len(LOCAL_LANGUAGE_NEEDS)
    with tqdm(total=total, desc="Demo listings", unit="listing") as progress:
        world.catalogue_solutions(progress)
        world.specialist_solutions(progress)
        world.needs(progress)
    world.showcase()
    world.serve_every_need()
    world.emagazine()
    db.session.flush()
    for listing in list(db.session.identity_map.values()):
        if isinstance(listing, Solution | Need):
            world._history(listing)
    db.session.flush()
    return logins
