"""A real browser against a real server.

Debian's chromium, driven by Playwright (pytest-playwright's ``page`` fixture), opens the app
served by werkzeug in a thread, on its own temporary SQLite database with a small seeded world.
Playwright's own browser download is never used: a missing /usr/bin/chromium is an error, not a
skip (``make test`` installs it, see .ci/browser.sh).  On a failure pytest-playwright keeps a
screenshot and a trace under test-artifacts/e2e/ (options in pyproject.toml).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import date, time, timedelta
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import update
from werkzeug.serving import make_server

from marketplace import create_app
from marketplace.calendar import meetings
from marketplace.discovery import indexing
from marketplace.emagazine import sections
from marketplace.extensions import db
from marketplace.models import (
    Event,
    Introduction,
    IntroductionMessage,
    IntroductionStep,
    Issue,
    IssueEdition,
    IssueSection,
    Match,
    Organization,
)
from marketplace.models._time import utcnow
from tests import factories

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

# Stored XSS attempts, written straight into the database as an attacker who got past the
# forms would (issue 9, items 2 and 7).
EVIL_WEBSITE = "javascript://x%0Aalert(document.domain)"
EVIL_NAME = "Evil <img src=x onerror=alert(1)> <script>alert(1)</script> Ltd"

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in item.nodeid:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    assert Path(CHROMIUM).exists(), (
        f"{CHROMIUM} is missing: run `make test` (or `apt-get install chromium fonts-noto-cjk`)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@dataclass
class World:
    """What the seeded database holds, for the tests to visit."""

    supplier_email: str
    staff_email: str
    solution_id: int
    need_id: int
    org_id: int
    evil_org_id: int
    issue_slug: str
    buyer_email: str
    introduction_id: int  # an accepted one, with a message, for the page checks
    event_id: int
    b2b_event_id: int  # with meeting slots and tables, nobody registered


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("e2e")
    previous = os.environ.get("MARKETPLACE_INSTANCE_PATH")
    os.environ["MARKETPLACE_INSTANCE_PATH"] = str(folder / "instance")  # its own search index
    try:
        app = create_app({
            "SECRET_KEY": "e2e-secret",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'e2e.db'}",
            "MAIL_TRANSPORT": "outbox",
            "SEARCH_BACKEND": "local",
        })
    finally:
        if previous is not None:
            os.environ["MARKETPLACE_INSTANCE_PATH"] = previous
    with app.app_context():
        upgrade()
        app.extensions["e2e_world"] = _seed()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


def _seed() -> World:
    org = factories.OrganizationFactory(name="Yixing Water Works", verified=True,
                                        website="https://water.example.org")
    solution = factories.SolutionFactory(published=True, organization=org,
                                         title="Membrane bioreactor for small towns")
    need = factories.NeedFactory(published=True, title="Sludge treatment for Da Nang")
    supplier = factories.UserFactory(organization=org, email="supplier@example.org")
    buyer = factories.UserFactory(buyer=True, organization=need.organization,
                                  email="buyer@example.org")
    db.session.add(Match(need=need, solution=solution, score=1.0, evidence=1.0, delivered=True,
                         reasons=[{"kind": "terms", "detail": {"terms": ["sludge"]}}]))
    introduction = _accepted_introduction(org, need.organization, supplier, buyer)
    event = Event(title="Yixing B2B day", kind="b2b", base="yixing", location="Yixing",
                  starts_on=date.today() + timedelta(days=30), capacity=40,
                  programme="## Morning\n\nPitches by the exhibitors.")
    db.session.add(event)
    b2b = Event(title="Wuzhou B2B meetings", kind="b2b", base="wuzhou", location="Wuzhou",
                starts_on=date.today() + timedelta(days=40))
    db.session.add(b2b)
    db.session.flush()
    # Their own people: other browser tests switch the first ones' language.
    factories.UserFactory(organization=org, email="meets-supplier@example.org")
    factories.UserFactory(buyer=True, organization=need.organization,
                          email="meets-buyer@example.org")
    meetings.set_up(b2b, day=b2b.starts_on, first=time(9, 0), count=4, minutes=25, gap=5,
                    tables=4, cap=4)
    staff = factories.UserFactory(staff=True, email="staff@example.org")
    evil = factories.OrganizationFactory(name=EVIL_NAME)
    factories.SolutionFactory(published=True, organization=evil, title="Totally safe solution")
    # Past any form validation: the page and the CSP must hold on their own.
    db.session.execute(update(Organization).where(Organization.id == evil.id)
                       .values(website=EVIL_WEBSITE))
    issue = _sent_issue()
    db.session.commit()
    for kind in ("solution", "need"):  # the search page shows results, snippets and facets
        indexing.rebuild_index(kind)
    return World(supplier.email, staff.email, solution.id, need.id, org.id, evil.id, issue.slug,
                 buyer.email, introduction.id, event.id, b2b.id)


def _accepted_introduction(supplier_org, buyer_org, supplier, buyer) -> Introduction:
    """A second pair of listings, introduced, accepted and talking."""
    solution = factories.SolutionFactory(published=True, organization=supplier_org,
                                         title="Sludge dewatering skid")
    need = factories.NeedFactory(published=True, organization=buyer_org,
                                 title="Dewatering for a market's waste")
    introduction = Introduction(need=need, solution=solution, sender_org_id=buyer_org.id,
                                recipient_org_id=supplier_org.id, sender=buyer,
                                recipient_contact=supplier, message="Hello from Da Nang.",
                                stage="contacted", accepted_at=utcnow(),
                                open_pair=f"{need.id}:{solution.id}")
    introduction.steps += [IntroductionStep(stage="new", actor=buyer),
                           IntroductionStep(stage="contacted", actor=supplier)]
    db.session.add(introduction)
    db.session.flush()
    db.session.add(IntroductionMessage(introduction=introduction, author=supplier,
                                       organization_id=supplier_org.id, body="Welcome!"))
    return introduction


def _sent_issue() -> Issue:
    """A sent E-magazine issue whose automatic section lists the new solutions, the evil
    organisation's among them."""
    issue = Issue(slug="e2e-issue", status="sent", sent_at=utcnow())
    edition = IssueEdition(language="en", title="EST news, end-to-end", intro="Hello.")
    section = IssueSection(kind="new_solutions", heading="New solutions", position=0)
    edition.sections.append(section)
    issue.editions.append(edition)
    db.session.add(issue)
    db.session.flush()
    sections.fill_section(section)
    return issue


@pytest.fixture(scope="session")
def world(live_app) -> World:
    return live_app.extensions["e2e_world"]


@pytest.fixture(scope="session")
def base_url(live_app):
    """The server, on a free port; pytest-playwright resolves page.goto("/path") against it."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    live_app.config["PUBLIC_BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def dialogs(page):
    """Every alert/confirm/prompt the page opens: a stored XSS shows up here."""
    opened: list[str] = []

    def record(dialog):
        opened.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    return opened


def sign_in(page, email: str, password: str = factories.PASSWORD) -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("main form button")
