"""The staff dashboard, its exports and the public results page (issue 14), on a small world
whose every figure is worked out by hand below.  Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import base64
import csv
import io
import re
import zipfile
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook

from marketplace.extensions import db
from marketplace.models import (
    DigestDelivery,
    Event,
    EventRegistration,
    Introduction,
    IntroductionStep,
    Issue,
    IssueDelivery,
    MailSuppression,
    Meeting,
    MeetingRequest,
    Subscriber,
)
from marketplace.models._time import utcnow
from marketplace.reporting import results
from marketplace.reporting.dashboard import dashboard
from marketplace.reporting.scope import Scope
from marketplace.spreadsheets import BOM
from tests.factories import (
    MatchFactory,
    NeedFactory,
    OrganizationFactory,
    SolutionFactory,
    UserFactory,
)


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def listing(factory, org, *, submitted: str | None, published: str | None, **fields):
    status = "published" if published else "pending"
    return factory(organization=org, status=status, submitted_at=at(submitted) if submitted
                   else None, published_at=at(published) if published else None,
                   expires_at=utcnow() + timedelta(days=365) if published else None, **fields)


@pytest.fixture
def world(app):
    """Six organisations, six listings, four matches, three introductions, two events and some
    mail, in 2025.  The expected figures in the tests follow from these lines."""
    s1 = OrganizationFactory(name="Yixing Water", country="CN", base="yixing",
                             verified_at=at("2025-01-11"), created_at=at("2025-01-10"))
    s2 = OrganizationFactory(name="Wuzhou Recycling", country="CN", base="wuzhou",
                             created_at=at("2025-02-05"))
    OrganizationFactory(name="Beijing Institute", country="CN", base=None,
                        kind="research_institute", created_at=at("2025-05-01"))
    b1 = OrganizationFactory(buyer=True, name="Da Nang City", country="VN",
                             verified_at=at("2025-01-21"), created_at=at("2025-01-20"))
    b2 = OrganizationFactory(buyer=True, name="Bangkok Utility", country="TH", kind="utility",
                             created_at=at("2025-03-15"))
    b3 = OrganizationFactory(buyer=True, name="Hanoi Plastics", country="VN", kind="enterprise",
                             verified_at=at("2025-03-21"), created_at=at("2025-03-20"))
    users = {org.name: UserFactory(organization=org, role="buyer" if org.base is None and
                                   org.country != "CN" else "supplier",
                                   created_at=org.created_at) for org in (s1, s2, b1, b2, b3)}
    UserFactory(staff=True, email="staff@example.org", created_at=at("2025-01-01"))
    sol1 = listing(SolutionFactory, s1, submitted="2025-01-12", published="2025-01-14",
                   trl=8, sectors=["WAT.MUN"])
    sol2 = listing(SolutionFactory, s2, submitted="2025-02-10", published="2025-02-14",
                   trl=6, sectors=["WST.REC"])
    sol2.expires_at = utcnow() + timedelta(days=10)
    listing(SolutionFactory, s1, submitted="2025-06-01", published=None, sectors=["WAT.MUN"])
    listing(SolutionFactory, s2, submitted="2025-05-01", published="2025-05-03",
            trl=9, sectors=["WAT.IND"])
    need1 = listing(NeedFactory, b1, submitted="2025-01-22", published="2025-01-23",
                    sectors=["WAT.MUN"])
    need2 = listing(NeedFactory, b2, submitted="2025-03-16", published="2025-03-22",
                    sectors=["WST.COL"])
    need3 = listing(NeedFactory, b3, submitted="2025-03-24", published="2025-03-25",
                    sectors=["WAT.IND"])
    db.session.commit()
    MatchFactory(need=need1, solution=sol1, delivered=True, delivered_at=at("2025-01-25"),
                 buyer_state="interesting")
    MatchFactory(need=need3, solution=sol1, delivered=True, delivered_at=at("2025-03-26"),
                 buyer_state="dismissed", buyer_dismiss_reason="wrong_scale",
                 supplier_state="interesting")
    MatchFactory(need=need2, solution=sol2, delivered=True, delivered_at=at("2025-03-23"),
                 supplier_state="dismissed")
    MatchFactory(need=need1, solution=sol2, delivered=False)

    def introduction(need, solution, sender, recipient, created, stages, **fields):
        row = Introduction(need=need, solution=solution, sender_org=sender,
                           recipient_org=recipient, message="Could we talk?",
                           created_at=at(created), stage=stages[-1], **fields)
        row.steps = [IntroductionStep(stage=stage, at=at(created)) for stage in stages]
        db.session.add(row)
        return row

    introduction(need1, sol1, s1, b1, "2025-02-01", ["new", "contacted", "meeting", "pilot"],
                 accepted_at=at("2025-02-03"))
    declined = introduction(need2, sol2, s2, b2, "2025-03-24", ["new", "declined"],
                            declined_at=at("2025-03-28"), decline_reason="budget")
    introduction(need3, sol1, b3, s1, "2025-04-02", ["new"],
                 open_pair=f"{need3.id}:{sol1.id}")
    forum = Event(title="Wuzhou B2B", kind="b2b", base="wuzhou", starts_on=date(2025, 3, 10))
    later = Event(title="Yixing Forum", kind="forum", base="yixing", starts_on=date(2025, 6, 1))
    db.session.add_all([forum, later])
    db.session.flush()

    def place(event, org, status="registered"):
        row = EventRegistration(event=event, user=users[org.name], organization_id=org.id,
                                status=status)
        db.session.add(row)
        return row

    s2_place, b2_place, b1_place = place(forum, s2), place(forum, b2), place(forum, b1)
    place(forum, b3, "cancelled")
    place(later, s1)
    db.session.flush()
    met = MeetingRequest(event=forum, requester=s2_place, recipient=b2_place, pair="a",
                         need=need2, solution=sol2, reason="r", status="accepted")
    refused = MeetingRequest(event=forum, requester=s2_place, recipient=b1_place, pair="b",
                             need=need1, solution=sol2, reason="r", status="declined")
    db.session.add_all([met, refused])
    db.session.flush()
    db.session.add(Meeting(event=forum, request=met, status="held", introduction=declined))
    digest = dict(period="daily:x", attempts=1)
    db.session.add_all([
        DigestDelivery(user=users["Yixing Water"], status="sent", claimed_at=at("2025-02-01"),
                       **digest),
        DigestDelivery(user=users["Da Nang City"], status="sent", claimed_at=at("2025-02-08"),
                       **digest),
        DigestDelivery(user=users["Bangkok Utility"], status="failed",
                       claimed_at=at("2025-03-01"), **digest)])
    issue = Issue(slug="one", status="sent", sent_at=at("2025-02-15"))
    reader = Subscriber(email="reader@example.org", status="confirmed")
    db.session.add_all([issue, reader])
    db.session.flush()
    for index, status in enumerate(["sent", "sent", "bounced"]):
        db.session.add(IssueDelivery(issue_id=issue.id, subscriber_id=reader.id,
                                     email=f"r{index}@example.org", status=status,
                                     claimed_at=at("2025-02-15")))
    db.session.add_all([
        MailSuppression(email="r9@example.org", list_name="emagazine", reason="unsubscribed",
                        created_at=at("2025-02-20")),
        MailSuppression(email="r2@example.org", list_name="*", reason="bounced",
                        created_at=at("2025-02-16"))])
    db.session.commit()


def tables_of(app, scope: Scope | None = None) -> dict[str, list[list]]:
    with app.test_request_context():
        return {table.key: table.rows for section in dashboard(scope or Scope())
                for table in section.tables}


def figures(tables, key: str) -> dict[str, object]:
    return dict((label, value) for label, value in tables[key])


def test_every_figure_of_the_whole_period(app, world):
    t = tables_of(app)
    assert figures(t, "network_figures") == {
        "Organisations": 6, "Verified organisations": 3, "Share verified (%)": 50.0,
        "Users (suppliers and buyers)": 5, "Suppliers": 2, "Buyers": 3}
    assert t["organisations_by_country"] == [["China", 3, 1], ["Viet Nam", 2, 2],
                                             ["Thailand", 1, 0]]
    assert t["organisations_by_kind"] == [["Enterprise", 3, 2], ["Municipality", 1, 1],
                                          ["Research institute", 1, 0], ["Utility", 1, 0]]
    joined = {row[0]: row[1:] for row in t["network_over_time"]}
    assert joined["2025-01"] == [2, 2] and joined["2025-03"] == [2, 2]
    assert joined["2025-05"] == [1, 0] and joined["2025-04"] == [0, 0]
    assert list(joined)[0] == "2025-01" and list(joined)[-1] == utcnow().strftime("%Y-%m")

    assert figures(t, "listing_figures") == {
        "Solutions published": 3, "Needs published": 3,
        "Median days from submission to publication": 2.0,
        "Waiting for moderation now": 1, "Expiring in the next 30 days": 1}
    assert t["listings_by_sector"] == [["Water", 2, 2], ["Solid waste", 1, 1]]
    assert t["listings_by_country"] == [["China", 3, 0], ["Viet Nam", 0, 2],
                                        ["Thailand", 0, 1]]
    assert t["listings_by_base"] == [["Wuzhou", 2, 0], ["Yixing", 1, 0], ["No base", 0, 3]]
    assert [row for row in t["solutions_by_trl"] if row[1]] == [["6", 1], ["8", 1], ["9", 1]]

    assert figures(t, "matching_figures") == {
        "Matches delivered": 3, "Marked interesting by a side": 2, "Dismissed by a side": 2,
        "Share marked interesting (%)": 66.7,
        "Published solutions with no delivered match": 1,
        "Published needs with no delivered match": 0}
    reasons = {row[0]: row[1:] for row in t["dismiss_reasons"]}
    assert reasons["Wrong scale"] == [1, 0] and reasons["No reason given"] == [0, 1]
    assert sum(row[1] + row[2] for row in t["dismiss_reasons"]) == 2

    assert figures(t, "introduction_figures") == {
        "Requests sent": 3, "Accepted": 1, "Acceptance rate, of those answered (%)": 50.0,
        "Waiting for an answer": 1, "Expired unanswered": 0,
        "Median days to the first answer": 3.0}
    assert t["introduction_funnel"] == [
        ["Requested", 3, None], ["Contacted", 1, 33.3], ["Meeting", 1, 100.0],
        ["NDA", 1, 100.0], ["Pilot", 1, 100.0], ["Contract", 0, 0.0]]
    now = {row[0]: row[1] for row in t["introduction_stages"]}
    assert now == {"Requested": 1, "Contacted": 0, "Meeting": 0, "NDA": 0, "Pilot": 1,
                   "Contract": 0, "Declined": 1, "Expired": 0}
    declined = {row[0]: row[1] for row in t["decline_reasons"]}
    assert declined["Budget or price"] == 1 and sum(declined.values()) == 1
    assert t["country_pairs"] == [["China", "Viet Nam", 2, 1], ["China", "Thailand", 1, 0]]

    assert figures(t, "event_figures") == {
        "Events": 2, "Events held so far": 2, "Registrations": 4, "Meeting requests": 2,
        "Acceptance rate, of those answered (%)": 50.0, "Meetings held": 1, "No-shows": 0,
        "Introductions from meetings": 1}
    assert t["events"] == [["Wuzhou B2B", "2025-03-10", "Wuzhou", 3, 2, 1, 1, 0, 1],
                           ["Yixing Forum", "2025-06-01", "Yixing", 1, 0, 0, 0, 0, 0]]

    assert figures(t, "mail_figures") == {
        "Match digests sent": 2, "Digest delivery failures": 1, "E-magazine issues sent": 1,
        "E-magazine e-mails sent": 2, "E-magazine delivery failures": 1, "Unsubscribes": 1}
    mail = {row[0]: row[1:] for row in t["mail_over_time"]}
    assert mail["2025-02"] == [2, 2, 1] and mail["2025-03"] == [0, 0, 0]


def test_a_period(app, world):
    t = tables_of(app, Scope(start=date(2025, 3, 1), end=date(2025, 3, 31)))
    assert figures(t, "network_figures")["Organisations"] == 2
    assert [row[0] for row in t["network_over_time"]] == ["2025-03"]
    assert figures(t, "listing_figures")["Solutions published"] == 0
    assert figures(t, "listing_figures")["Needs published"] == 2
    assert figures(t, "listing_figures")["Median days from submission to publication"] == 3.5
    assert figures(t, "matching_figures")["Matches delivered"] == 2
    assert figures(t, "introduction_figures")["Requests sent"] == 1
    assert figures(t, "introduction_figures")["Acceptance rate, of those answered (%)"] == 0.0
    assert [row[0] for row in t["events"]] == ["Wuzhou B2B"]
    assert figures(t, "mail_figures")["Digest delivery failures"] == 1
    assert figures(t, "mail_figures")["Match digests sent"] == 0


def test_a_country(app, world):
    t = tables_of(app, Scope(country="TH"))
    assert figures(t, "network_figures")["Organisations"] == 1
    assert figures(t, "network_figures")["Buyers"] == 1
    assert figures(t, "listing_figures")["Needs published"] == 1
    assert figures(t, "listing_figures")["Solutions published"] == 0
    assert figures(t, "matching_figures")["Matches delivered"] == 1
    assert t["country_pairs"] == [["China", "Thailand", 1, 0]]
    assert t["events"][0][3:6] == [1, 1, 1]  # Bangkok's place, its request, accepted
    assert figures(t, "mail_figures")["Digest delivery failures"] == 1
    assert figures(t, "mail_figures")["Match digests sent"] == 0


def test_a_sector_takes_everything_under_it(app, world):
    t = tables_of(app, Scope(sector="WAT"))
    assert figures(t, "network_figures")["Organisations"] == 4  # s1, s2 (sol4), b1, b3
    assert figures(t, "listing_figures")["Solutions published"] == 2
    assert figures(t, "listing_figures")["Needs published"] == 2
    assert figures(t, "listing_figures")["Waiting for moderation now"] == 1
    assert t["listings_by_sector"] == [["Water", 2, 2]]
    assert figures(t, "matching_figures")["Matches delivered"] == 2
    assert figures(t, "introduction_figures")["Requests sent"] == 2
    leaf = tables_of(app, Scope(sector="WAT.IND"))
    assert figures(leaf, "listing_figures")["Solutions published"] == 1


def test_a_demonstration_base(app, world):
    t = tables_of(app, Scope(base="wuzhou"))
    assert figures(t, "network_figures")["Organisations"] == 1
    assert figures(t, "listing_figures")["Solutions published"] == 2
    assert figures(t, "listing_figures")["Needs published"] == 0
    assert figures(t, "listing_figures")["Expiring in the next 30 days"] == 1
    assert figures(t, "matching_figures")["Matches delivered"] == 1
    assert figures(t, "introduction_figures")["Requests sent"] == 1
    assert [row[0] for row in t["events"]] == ["Wuzhou B2B"]


def test_nothing_in_scope_is_zero_not_an_error(app, world):
    t = tables_of(app, Scope(country="BN", start=date(2030, 1, 1), end=date(2030, 2, 1)))
    assert figures(t, "introduction_figures")["Acceptance rate, of those answered (%)"] is None
    assert figures(t, "network_figures")["Organisations"] == 0
    assert [row[0] for row in t["network_over_time"]] == ["2030-01", "2030-02"]


# --- the page and its exports -----------------------------------------------------------

class ScreenTables(HTMLParser):
    """The dashboard's tables as a reader sees them: cell texts per data-table key."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.charts: list[str] = []
        self._key = self._row = self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section" and "data-table" in attrs:
            self._key = attrs["data-table"]
            self.tables[self._key] = []
        elif tag == "img" and "data-chart" in attrs:
            self.charts.append(attrs["data-chart"])
        elif tag == "tr" and self._key:
            self._row = []
            self.tables[self._key].append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "section":
            self._key = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def screen(client, query: str = "") -> ScreenTables:
    response = client.get(f"/staff/dashboard{query}")
    assert response.status_code == 200
    parser = ScreenTables()
    parser.feed(response.get_data(as_text=True))
    return parser


def test_every_csv_equals_its_table_on_the_screen(client, auth, world):
    auth.login("staff@example.org")
    query = "?start=2025-01-01&end=2025-12-31&country=CN"
    page = screen(client, query)
    assert len(page.tables) >= 20
    for key, rows in page.tables.items():
        response = client.get(f"/staff/dashboard/{key}.csv{query}")
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/csv")
        text = response.get_data(as_text=True)
        assert text.startswith(BOM)
        assert list(csv.reader(io.StringIO(text[1:]))) == rows, key


def test_the_review_report_equals_the_screen(client, auth, world):
    auth.login("staff@example.org")
    query = "?start=2025-01-01&end=2025-06-30"
    page = screen(client, query)
    response = client.get(f"/staff/dashboard/review.zip{query}")
    assert response.status_code == 200
    bundle = zipfile.ZipFile(io.BytesIO(response.data))
    names = sorted(bundle.namelist())
    assert names == ["review-2025-01-01-2025-06-30.pdf", "review-2025-01-01-2025-06-30.xlsx"]
    book = load_workbook(io.BytesIO(bundle.read(names[1])))
    assert book.sheetnames == ["Scope", "Network", "Listings", "Matching", "Introductions",
                               "Events", "Mail"]
    assert any("2025-01-01" in str(cell.value) for cell in book["Scope"]["A"])
    # Every sheet is its section's tables one under the other: title, header, rows, a blank.
    found = {}
    for sheet in book.worksheets[1:]:
        rows = [[_text(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]
        while rows:
            title, rows = rows[0][0], rows[1:]
            end = next((i for i, row in enumerate(rows) if not any(row)), len(rows))
            width = sum(1 for cell in rows[0] if cell)
            found[title] = [row[:width] for row in rows[:end]]
            rows = rows[end + 1:]
    with client.application.test_request_context():
        titles = {table.key: table.title for section in dashboard(
            Scope(start=date(2025, 1, 1), end=date(2025, 6, 30))) for table in section.tables}
    for key, screen_rows in page.tables.items():
        assert _values(found[titles[key]]) == _values(screen_rows), key
    summary = bundle.read(names[0])
    assert summary.startswith(b"%PDF") and len(summary) > 10_000
    assert client.get(f"/staff/dashboard/review.pdf{query}").data.startswith(b"%PDF")


def _text(value) -> str:
    return "" if value is None else str(value)


def _values(rows: list[list[str]]) -> list[list[object]]:
    """Cells compared as numbers where they are numbers: a workbook keeps 50.0 as 50."""
    def value(text: str) -> object:
        try:
            return float(text)
        except ValueError:
            return text
    return [[value(cell) for cell in row] for row in rows]


def test_the_dashboard_draws_its_charts_offline(client, auth, world):
    auth.login("staff@example.org")
    response = client.get("/staff/dashboard")
    html = response.get_data(as_text=True)
    page = ScreenTables()
    page.feed(html)
    assert {"organisations_by_country", "introduction_funnel", "listings_over_time",
            "events"} <= set(page.charts)
    # Nothing is fetched from elsewhere: no script or stylesheet from another host.
    assert not re.search(r'(src|href)="(https?:)?//', html)
    for uri in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html):
        assert "<script" not in base64.b64decode(uri).decode()


def test_bad_filters_are_a_400_that_keeps_the_input(client, auth, world):
    auth.login("staff@example.org")
    response = client.get("/staff/dashboard?start=2025-13-01&end=2025-01-01&country=XX")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Not a valid date value" in html and 'value="2025-01-01"' in html
    assert "Not a valid choice" in html
    reversed_period = client.get("/staff/dashboard?start=2025-02-01&end=2025-01-01")
    assert reversed_period.status_code == 400
    assert "comes before its start" in reversed_period.get_data(as_text=True)
    export = client.get("/staff/dashboard/events.csv?start=nonsense")
    assert export.status_code == 400 and "Not a valid date value" in export.get_data(True)
    assert client.get("/staff/dashboard/nothing.csv").status_code == 404


def test_the_dashboard_in_chinese(client, auth, world):
    auth.login("staff@example.org")
    client.post("/language", data={"language": "zh", "next": "/staff/dashboard"})
    html = client.get("/staff/dashboard").get_data(as_text=True)
    assert "数据看板" in html
    assert "越南" in html


# --- the public page --------------------------------------------------------------------

def test_the_public_page_hides_cells_with_fewer_than_three_organisations(app, client, world):
    with app.test_request_context():
        shown = {table.key: table.rows for table in results.results()}
    assert shown["network_by_country"] == [["China", 3], ["Viet Nam", "<3"],
                                           ["Thailand", "<3"]]
    # Water: solutions by s1 and s2, needs by b1 and b3; waste: one organisation each side.
    assert shown["listings_by_sector"] == [["Water", "<3", "<3"],
                                           ["Solid waste", "<3", "<3"]]
    # Requested: five organisations behind three introductions; later stages, only two.
    assert shown["introductions_reached"] == [
        ["Requested", 3], ["Contacted", "<3"], ["Meeting", "<3"], ["NDA", "<3"],
        ["Pilot", "<3"], ["Contract", 0]]
    assert shown["events_held"] == [["Yixing Forum", "2025-06-01", "Yixing", "<3", 0],
                                    ["Wuzhou B2B", "2025-03-10", "Wuzhou", 3, "<3"]]
    response = client.get("/results")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Da Nang City" not in html and "Yixing Water" not in html
    assert "&lt;3" in html


def test_the_public_page_shows_cells_once_three_organisations_are_behind_them(app, world):
    for index in range(3):
        listing(SolutionFactory, OrganizationFactory(name=f"More {index}"),
                submitted="2025-07-01", published="2025-07-02", sectors=["WST.BIO"])
    with app.test_request_context():
        shown = {table.key: table.rows for table in results.results()}
    assert shown["listings_by_sector"][1] == ["Solid waste", 4, "<3"]
    assert shown["network_by_country"][0] == ["China", 6]


def test_the_public_page_in_chinese(client, world):
    client.post("/language", data={"language": "zh", "next": "/results"})
    html = client.get("/results").get_data(as_text=True)
    assert "中国" in html
