"""Issue 9, content findings: user-supplied URLs, review of edited listings, Markdown that the
marketplace writes, bad numbers and titles, and limits on lists, saved searches and
confirmation links."""

import re
from datetime import date, timedelta

import pytest

from marketplace import templating
from marketplace.discovery import indexing
from marketplace.emagazine import rendering, sections
from marketplace.extensions import db
from marketplace.listings import lifecycle as listing_service
from marketplace.models import Event, Need, Solution
from marketplace.models._time import utcnow
from tests.factories import OrganizationFactory, SolutionFactory, UserFactory


def _refresh(*objects):
    for obj in objects:
        db.session.refresh(obj)


# -- item 2: only http and https URLs, normalised, rendered through one helper ---------------

BAD_URLS = [
    "javascript:alert(1)",
    "JAVASCRIPT:alert(1)",
    "java\tscript:alert(1)",
    " javascript:alert(1)",
    "javascript://example.org/%0Aalert(document.domain)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example",
    "evil.example",
    "http://",
    "https:///path",
    "http://trusted.example@evil.example/",
    "http://exa mple.org/",
    "http://example.org:99999/",
    "http:\\\\evil.example",
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_the_safe_url_helper_refuses_everything_but_http_and_https(url):
    assert templating.safe_url(url) == ""


@pytest.mark.parametrize(("typed", "stored"), [
    ("https://example.org", "https://example.org"),
    ("  HTTPS://Example.ORG/Path?q=A#B ", "https://example.org/Path?q=A#B"),
    ("http://exam\tple.org/a\nb", "http://example.org/ab"),
    ("http://example.org:8080/x", "http://example.org:8080/x"),
])
def test_the_safe_url_helper_normalises(typed, stored):
    assert templating.safe_url(typed) == stored


def _organization_form(**fields):
    return {"name": "Clean Water Co", "kind": "enterprise", "country": "CN", "city": "Yixing",
            "base": "yixing", **fields}


@pytest.mark.parametrize("url", BAD_URLS)
def test_the_organisation_website_accepts_only_http_and_https(client, auth, url):
    user = UserFactory()
    auth.login(user)

    response = client.post("/my/organization", data=_organization_form(website=url))

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Give a web address that starts with https:// or http://." in page
    _refresh(user.organization)
    assert user.organization.website == ""


def test_the_organisation_website_is_stored_normalised(client, auth):
    user = UserFactory()
    auth.login(user)

    response = client.post("/my/organization",
                           data=_organization_form(website=" HTTPS://Clean-Water.EXAMPLE/about "))

    assert response.status_code == 302
    _refresh(user.organization)
    assert user.organization.website == "https://clean-water.example/about"
    page = client.get(f"/organizations/{user.organization_id}").get_data(as_text=True)
    assert 'href="https://clean-water.example/about" rel="nofollow noopener"' in page


def test_a_bad_website_already_stored_is_not_a_link(client):
    org = OrganizationFactory(website="javascript://x.example/%0Aalert(document.domain)")

    page = client.get(f"/organizations/{org.id}").get_data(as_text=True)

    assert "javascript" not in page.lower()


def test_the_event_page_address_accepts_only_http_and_https(client, auth):
    auth.login(UserFactory(staff=True))
    data = {"title": "Yixing EST Fair", "kind": "exhibition", "base": "yixing",
            "starts_on": "2027-05-01", "url": "javascript:alert(1)"}

    response = client.post("/staff/events/new", data=data)

    assert response.status_code == 400
    assert "Give a web address that starts with https:// or http://." in \
        response.get_data(as_text=True)
    assert db.session.query(Event).count() == 0


def test_the_e_magazine_does_not_link_a_bad_event_address(app):
    from marketplace.models import IssueSection

    db.session.add(Event(title="Yixing EST Fair", kind="exhibition", base="yixing",
                         starts_on=date.today() + timedelta(days=10),
                         url="javascript:alert(1)"))
    db.session.commit()
    section = IssueSection(kind="events", heading="Events")
    with app.test_request_context():
        section.body = sections._upcoming_events()

    assert "javascript" not in section.body
    assert "Yixing EST Fair" in section.body



# -- item 6: any content change goes back to review, whatever the status ---------------------

EDITED_SOLUTION = {"title": "MBR plant, now with a phishing link", "summary": "Compact MBR plant.",
                   "sectors": ["WAT.MUN"], "trl": "8", "countries_served": ["VN"]}


@pytest.mark.parametrize("expiry", ["by the job", "by the clock"])
def test_editing_an_expired_listing_then_renewing_it_needs_a_review(client, auth, expiry):
    owner = UserFactory()
    solution = SolutionFactory(organization=owner.organization, published=True,
                               expires_at=utcnow() - timedelta(days=1),
                               status="expired" if expiry == "by the job" else "published")
    auth.login(owner)

    client.post(f"/solutions/{solution.id}/edit", data=EDITED_SOLUTION)
    client.post(f"/solutions/{solution.id}/renew")

    _refresh(solution)
    assert solution.status == "pending" and not solution.is_live
    assert solution.title == EDITED_SOLUTION["title"]
    actions = [d.action for d in listing_service.history(solution)]
    assert "resubmitted" in actions and "renewed" not in actions
    auth.logout()
    assert EDITED_SOLUTION["title"] not in client.get("/solutions").get_data(as_text=True)
    assert client.get(f"/solutions/{solution.id}").status_code == 404
    assert solution in listing_service.pending_review()["solution"]
    assert indexing.index_listing("solution", solution.id) is False  # dropped from search


def test_renewing_an_unchanged_expired_listing_keeps_it_published(client, auth):
    owner = UserFactory()
    solution = SolutionFactory(organization=owner.organization, published=True,
                               status="expired", expires_at=utcnow() - timedelta(days=1))
    auth.login(owner)

    client.post(f"/solutions/{solution.id}/renew")

    _refresh(solution)
    assert solution.status == "published" and solution.is_live


def test_every_reviewed_state_goes_back_to_review_when_edited(app):
    owner = UserFactory()
    for status in ("published", "expired", "archived"):
        solution = SolutionFactory(organization=owner.organization, status=status)
        assert listing_service.mark_edited(solution, owner)
        assert solution.status == "pending"


# -- item 7: what the marketplace writes into Markdown is escaped; renames are re-verified ----

PLANTED = [
    '<a href="https://phish.example">x</a>',
    "[click](https://phish.example)",
    "<https://phish.example>",
    "![x](https://phish.example/pixel.png)",
    "x\n\n[ref]: https://phish.example\n\n[ref]",
    "&lt;a href=&quot;https://phish.example&quot;&gt;x&lt;/a&gt;",
    "# Heading **bold** _em_ `code`",
]


def _link_targets(html: str) -> list[str]:
    """The href of every real <a> element (escaped text shows as &lt;a, not <a)."""
    return re.findall(r'<a\s[^>]*href="([^"]*)"', html)


@pytest.mark.parametrize("text", PLANTED)
def test_escaped_text_renders_as_the_same_text_and_never_a_link(app, text):
    import html

    rendered = str(templating.render_markdown(f"- [{templating.markdown_escape(text)}]"
                                              f"(https://site.example/) — "
                                              f"{templating.markdown_escape(text)}"))

    assert _link_targets(rendered) == ["https://site.example/"] and "<img" not in rendered
    assert "<strong>" not in rendered and "<h1>" not in rendered
    assert html.unescape(rendered).count(" ".join(text.split())) == 2


@pytest.mark.parametrize("name", PLANTED[:3])
def test_an_organisation_name_plants_no_link_in_the_e_magazine(app, name):
    from marketplace.models import Issue, IssueEdition, IssueSection

    org = OrganizationFactory(name=name)
    SolutionFactory(organization=org, published=True, title=f"Title {name}")
    issue = Issue(slug="december", audience={})
    edition = IssueEdition(language="en", title="December", intro="")
    section = IssueSection(kind="new_solutions", heading="New")
    edition.sections = [section]
    issue.editions = [edition, IssueEdition(language="zh", title="十二月", intro="")]
    db.session.add(issue)
    db.session.commit()

    with app.test_request_context():
        sections.fill_section(section)
        db.session.commit()
        message = rendering.render_issue(issue, "en", "reader@example.org")
        html = message.get_body(preferencelist=("html",)).get_content()

    assert not [href for href in _link_targets(html) if "phish.example" in href]
    assert any("http://localhost/solutions/" in href for href in _link_targets(html))


def test_renaming_a_verified_organisation_sends_it_back_to_staff(client, auth):
    user = UserFactory(organization__verified=True, organization__name="Clean Water Co")
    staff = UserFactory(staff=True)
    auth.login(user)

    client.post("/my/organization", data=_organization_form(name="Clean Water Co (new)"))

    _refresh(user.organization)
    assert not user.organization.is_verified
    auth.logout()
    auth.login(staff)
    queue = client.get("/staff/organizations").get_data(as_text=True)
    assert "Clean Water Co (new)" in queue


# -- item 9: numbers a column cannot hold, and line breaks in titles -------------------------

GOOD_SOLUTION = {
    "title": "Integrated anaerobic digestion for food waste",
    "summary": "Wet AD with biogas upgrading for markets and canteens.",
    "sectors": ["WST.BIO"], "trl": "8", "capacity_min": "10", "capacity_max": "200",
    "capacity_unit": "t/day", "price_min": "1000", "price_max": "5000", "currency": "USD",
    "countries_served": ["TH"],
}
GOOD_NEED = {
    "title": "Leachate treatment for the Nong Khai landfill", "sectors": ["WST.LFL"],
    "country": "TH", "capacity": "150", "capacity_unit": "m3/day", "budget_min": "200000",
    "budget_max": "800000", "currency": "THB", "min_trl": "7",
}
NOT_A_NUMBER = "Give an ordinary number, not NaN or infinity."


@pytest.mark.parametrize(("value", "message"), [
    ("sNaN", NOT_A_NUMBER), ("NaN", NOT_A_NUMBER), ("-nan", NOT_A_NUMBER),
    ("Infinity", NOT_A_NUMBER), ("-Infinity", NOT_A_NUMBER), ("inf", NOT_A_NUMBER),
    ("1e12", "At most 11 digits before the decimal point."),
    ("123456789012", "At most 11 digits before the decimal point."),
    ("1.2345", "At most 3 decimal places."),
])
@pytest.mark.parametrize("field", ["capacity_min", "capacity_max"])
def test_solution_capacity_refuses_what_the_column_cannot_hold(client, auth, field, value,
                                                               message):
    auth.login(UserFactory())

    response = client.post("/solutions/new", data={**GOOD_SOLUTION, field: value})

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert f'value="{value}"' in page  # what was typed is kept
    assert db.session.query(Solution).count() == 0


@pytest.mark.parametrize(("field", "value", "message"), [
    ("price_min", "sNaN", NOT_A_NUMBER),
    ("price_max", "Infinity", NOT_A_NUMBER),
    ("price_max", "1e15", "At most 14 digits before the decimal point."),
    ("price_min", "0.001", "At most 2 decimal places."),
])
def test_solution_price_refuses_what_the_column_cannot_hold(client, auth, field, value,
                                                            message):
    auth.login(UserFactory())

    response = client.post("/solutions/new", data={**GOOD_SOLUTION, field: value})

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("capacity", "sNaN", NOT_A_NUMBER),
    ("capacity", "-Infinity", NOT_A_NUMBER),
    ("capacity", "99999999999999", "At most 11 digits before the decimal point."),
    ("budget_min", "NaN", NOT_A_NUMBER),
    ("budget_max", "1e20", "At most 14 digits before the decimal point."),
    ("budget_max", "10.555", "At most 2 decimal places."),
])
def test_need_numbers_refuse_what_the_column_cannot_hold(client, auth, field, value, message):
    auth.login(UserFactory(buyer=True))

    response = client.post("/needs/new", data={**GOOD_NEED, field: value})

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and f'value="{value}"' in page
    assert db.session.query(Need).count() == 0


def test_the_largest_numbers_the_columns_hold_are_saved(client, auth):
    auth.login(UserFactory())

    response = client.post("/solutions/new", data={
        **GOOD_SOLUTION, "capacity_min": "1.5", "capacity_max": "99999999999.999",
        "price_min": "0.01", "price_max": "99999999999999.99"})

    assert response.status_code == 302
    solution = db.session.query(Solution).one()
    assert solution.capacity_max == pytest.approx(99999999999.999)
    assert solution.price_max == pytest.approx(99999999999999.99)


@pytest.fixture
def staff_issue(auth):
    from marketplace.models import Issue, IssueEdition, IssueSection

    # An admin: plain staff may test-send only to their own address.
    auth.login(UserFactory(admin=True))
    issue = Issue(slug="december", audience={})
    en = IssueEdition(language="en", title="December", intro="")
    en.sections = [IssueSection(kind="manual", heading="News", body="")]
    issue.editions = [en, IssueEdition(language="zh", title="十二月", intro="")]
    db.session.add(issue)
    db.session.commit()
    return issue


ONE_LINE = "Keep it on one line."


@pytest.mark.parametrize("title", ["December\r\nBcc: everyone@example.org", "Dec\nember",
                                   "Dec\rember"])
def test_an_edition_title_with_a_line_break_is_refused(client, staff_issue, title):
    response = client.post(f"/staff/emagazine/{staff_issue.id}/editions/en",
                           data={"ed-en-title": title, "ed-en-intro": "kept intro"})

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert ONE_LINE in page and "kept intro" in page
    _refresh(staff_issue.editions[0])
    assert staff_issue.editions[0].title == "December"
    assert client.get(f"/staff/emagazine/{staff_issue.id}/preview?lang=en").status_code == 200


def test_new_issue_and_section_titles_with_a_line_break_are_refused(client, staff_issue):
    from marketplace.models import Issue

    response = client.post("/staff/emagazine/new",
                           data={"title_en": "Jan\r\nuary", "title_zh": "一月"})
    assert response.status_code == 400 and ONE_LINE in response.get_data(as_text=True)
    assert db.session.query(Issue).count() == 1

    response = client.post(f"/staff/emagazine/{staff_issue.id}/editions/en/sections",
                           data={"new-en-kind": "manual", "new-en-heading": "A\nB"})
    assert response.status_code == 400 and ONE_LINE in response.get_data(as_text=True)

    section = staff_issue.editions[0].sections[0]
    response = client.post(f"/staff/emagazine/{staff_issue.id}/sections/{section.id}",
                           data={f"s{section.id}-heading": "A\r\nB", f"s{section.id}-body": ""})
    assert response.status_code == 400 and ONE_LINE in response.get_data(as_text=True)


def test_a_title_with_a_line_break_already_stored_still_previews_and_test_sends(
        client, staff_issue, outbox):
    edition = staff_issue.editions[0]
    edition.title = "December\r\nnews"
    db.session.commit()

    assert client.get(f"/staff/emagazine/{staff_issue.id}/preview?lang=en").status_code == 200
    response = client.post(f"/staff/emagazine/{staff_issue.id}/test",
                           data={"addresses": "editor@example.org", "language": "en"})
    assert response.status_code == 302
    assert outbox.last()["Subject"] == "[TEST] December news"


def test_a_listing_title_with_a_line_break_is_refused(client, auth):
    auth.login(UserFactory())

    response = client.post("/solutions/new",
                           data={**GOOD_SOLUTION, "title": "Anaerobic\r\ndigestion plant"})

    assert response.status_code == 400 and ONE_LINE in response.get_data(as_text=True)


# -- item 10: limits on lists, saved searches and confirmation links -------------------------

@pytest.mark.parametrize("field", ["keywords", "certifications"])
def test_a_solution_list_has_a_count_limit(client, auth, field):
    auth.login(UserFactory())
    typed = ", ".join(f"item {n}" for n in range(21))

    response = client.post("/solutions/new", data={**GOOD_SOLUTION, field: typed})

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "At most 20 items." in page and "item 20" in page
    assert db.session.query(Solution).count() == 0


@pytest.mark.parametrize("field", ["keywords", "certifications"])
def test_a_solution_list_item_has_a_length_limit(client, auth, field):
    auth.login(UserFactory())

    response = client.post("/solutions/new",
                           data={**GOOD_SOLUTION, field: f"short, {'x' * 61}"})

    assert response.status_code == 400
    assert "Each item at most 60 characters." in response.get_data(as_text=True)


def test_required_certifications_have_the_same_limits(client, auth):
    auth.login(UserFactory(buyer=True))
    typed = ", ".join(f"ISO {n}" for n in range(21))

    response = client.post("/needs/new", data={**GOOD_NEED, "required_certifications": typed})

    assert response.status_code == 400 and "At most 20 items." in response.get_data(as_text=True)


def test_twenty_items_of_sixty_characters_are_fine(client, auth):
    auth.login(UserFactory())
    typed = ", ".join(f"{n:02d}" + "k" * 58 for n in range(20))

    response = client.post("/solutions/new", data={**GOOD_SOLUTION, "keywords": typed})

    assert response.status_code == 302
    assert len(db.session.query(Solution).one().keywords) == 20


def test_saved_searches_are_capped_per_user(client, auth):
    from marketplace.discovery import saved_searches
    from marketplace.models import SavedSearch

    user = UserFactory(buyer=True)
    auth.login(user)
    for n in range(saved_searches.MAX_PER_USER):
        response = client.post("/search/save", data={"kind": "solution", "q": f"biogas {n}"})
        assert response.status_code == 302

    response = client.post("/search/save", data={"kind": "solution", "q": "one too many"},
                           follow_redirects=True)

    assert "You already have 20 saved searches" in response.get_data(as_text=True)
    assert db.session.query(SavedSearch).filter_by(user_id=user.id).count() == 20
    other = UserFactory()
    auth.logout()
    auth.login(other)
    client.post("/search/save", data={"kind": "solution", "q": "mine"})
    assert db.session.query(SavedSearch).filter_by(user_id=other.id).count() == 1


def test_saving_the_same_search_twice_keeps_one(client, auth):
    from marketplace.models import SavedSearch

    auth.login(UserFactory(buyer=True))
    client.post("/search/save", data={"kind": "solution", "q": "biogas", "country": "VN"})
    response = client.post("/search/save", data={"kind": "solution", "q": "biogas",
                                                 "country": "VN"}, follow_redirects=True)

    assert "already saved" in response.get_data(as_text=True)
    assert db.session.query(SavedSearch).count() == 1


def _e_magazine_sign_up(client, email="mai@example.org"):
    return client.post("/emagazine/subscribe", data={"email": email, "language": "en"})


def _subscriber_status(email="mai@example.org"):
    from marketplace.emagazine import subscribers

    db.session.expire_all()
    return subscribers.find(email).status


def test_a_confirmation_link_does_not_resubscribe_after_an_unsubscribe(client, outbox):
    from marketplace.mailing import suppressions

    _e_magazine_sign_up(client)
    link = outbox.last_link("/emagazine/confirm/")
    assert client.post(link).status_code == 302
    assert _subscriber_status() == "confirmed"
    suppressions.unsubscribe("mai@example.org", "emagazine")

    again = client.post(link)
    opened = client.get(link)

    assert again.status_code == 400 and opened.status_code == 400
    assert "already been used" in opened.get_data(as_text=True)
    assert _subscriber_status() == "unsubscribed"
    assert suppressions.is_suppressed("mai@example.org", "emagazine")


def test_a_confirmation_link_works_once(client, outbox):
    _e_magazine_sign_up(client)
    link = outbox.last_link("/emagazine/confirm/")

    assert client.post(link).status_code == 302
    assert client.post(link).status_code == 400


def test_an_unused_link_sent_before_an_unsubscribe_is_refused(client, outbox):
    from marketplace.mailing import suppressions

    _e_magazine_sign_up(client)
    first = outbox.last_link("/emagazine/confirm/")
    _e_magazine_sign_up(client)
    second = outbox.last_link("/emagazine/confirm/")
    assert client.post(first).status_code == 302
    suppressions.unsubscribe("mai@example.org", "emagazine")

    assert client.post(second).status_code == 400
    assert _subscriber_status() == "unsubscribed"


def test_signing_up_again_after_an_unsubscribe_sends_a_link_that_works(client, outbox):
    from marketplace.mailing import suppressions

    _e_magazine_sign_up(client)
    client.post(outbox.last_link("/emagazine/confirm/"))
    suppressions.unsubscribe("mai@example.org", "emagazine")

    _e_magazine_sign_up(client)
    assert client.post(outbox.last_link("/emagazine/confirm/")).status_code == 302
    assert _subscriber_status() == "confirmed"
