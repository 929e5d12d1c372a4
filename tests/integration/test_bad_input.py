"""Bad input answers a clear 4xx, never a 500, on SQLite and on PostgreSQL (issue 9, item 9).

Page numbers, ids in paths, NUL bytes and a sweep of odd query strings over every GET route.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from werkzeug.datastructures import MultiDict
from werkzeug.routing import IntegerConverter

from marketplace.extensions import db
from marketplace.models import Event, Issue, IssueEdition, IssueSection
from tests.factories import NeedFactory, SolutionFactory, UserFactory

NUL_MESSAGE = "contains a NUL character"

# (url, as staff): every page that takes ?page=
PAGINATED = [
    ("/solutions", False),
    ("/needs", False),
    ("/search", False),
    ("/search?q=sewage", False),
    ("/search?sort=newest", False),
    ("/emagazine", False),
    ("/staff/organizations", True),
    ("/staff/organizations?show=all", True),
]

HUGE_PAGES = [str(2**62), str(2**63), str(10**30), "9" * 5000, "10001"]
MALFORMED_PAGES = ["0", "-1", "abc", "1.5", "sNaN", "1e3", "%EF%BC%91"]  # the last: a fullwidth 1


def _get(client, url: str, **query):
    separator = "&" if "?" in url else "?"
    suffix = "&".join(f"{k}={v}" for k, v in query.items())
    return client.get(url + (separator + suffix if suffix else ""))


@pytest.mark.parametrize(("url", "as_staff"), PAGINATED)
def test_a_page_number_out_of_range_is_a_clear_400(client, auth, url, as_staff):
    if as_staff:
        auth.login(UserFactory(staff=True))
    for page in HUGE_PAGES + MALFORMED_PAGES:
        response = _get(client, url, page=page)

        assert response.status_code == 400, page
        assert "Page numbers are whole numbers from 1 to" in response.get_data(as_text=True)


@pytest.mark.parametrize(("url", "as_staff"), PAGINATED)
def test_pages_in_range_still_work(client, auth, url, as_staff):
    if as_staff:
        auth.login(UserFactory(staff=True))
    for page in ("", "1", "2", "500"):
        assert _get(client, url, page=page).status_code == 200


def test_search_pages_stop_where_the_engine_stops(client):
    """Elasticsearch answers at most 10,000 hits (max_result_window): the page's last link
    and the deepest page it accepts stay inside that window, on both backends."""
    from marketplace.discovery import search_page

    assert search_page.MAX_PAGE * search_page.PER_PAGE <= 10_000
    response = client.get(f"/search?page={search_page.MAX_PAGE + 1}")
    assert response.status_code == 400
    assert f"from 1 to {search_page.MAX_PAGE}" in response.get_data(as_text=True)


def test_search_page_count_is_capped_at_the_deepest_page(app):
    from marketplace.discovery.search_page import MAX_PAGE, SearchPage

    assert SearchPage(kind="solution", listings=[], total=10**6, page=1).pages == MAX_PAGE


def test_browse_paginates_with_the_helper(client):
    for n in range(25):
        SolutionFactory(published=True, title=f"Solution number {n:02d}")
    NeedFactory(published=True)

    second = client.get("/solutions?page=2").get_data(as_text=True)
    assert "Solution number 04" in second and "Solution number 05" not in second


# -- ids in paths ---------------------------------------------------------------------------

# Past PostgreSQL's INTEGER (the id columns), past SQLite's and PostgreSQL's BIGINT, absurd.
HUGE_IDS = [str(2**31), str(2**63), "9" * 5000]
_PLACEHOLDER = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")


def _path(rule: str, number: str, default: str = "x") -> str:
    """The rule's path with ``number`` for every <int:...> and a valid value elsewhere."""

    def fill(match: re.Match) -> str:
        converter, arguments = match.group(1), match.group(2)
        if converter == "int":
            return number
        if converter == "any":
            return arguments.split(",")[0].strip().strip("'\"")
        return default

    return _PLACEHOLDER.sub(fill, rule)


def _methods(rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def _int_rules(app) -> list:
    rules = [r for r in app.url_map.iter_rules()
             if any(isinstance(c, IntegerConverter) for c in r._converters.values())]
    assert len(rules) > 15  # every route with an id, not an empty sweep
    return rules


@pytest.mark.parametrize("as_staff", [False, True], ids=["anonymous", "staff"])
def test_ids_too_big_for_the_database_are_a_404_on_every_route(app, client, auth, as_staff):
    if as_staff:
        auth.login(UserFactory(staff=True))
    answers = {}
    for rule in _int_rules(app):
        for number in HUGE_IDS:
            for method in _methods(rule):
                path = _path(rule.rule, number)
                answers[method, path[:80]] = client.open(path, method=method).status_code

    assert {key: code for key, code in answers.items() if code != 404} == {}


def test_the_largest_id_the_database_holds_is_still_routed(app, client):
    # 2**31 - 1 is a valid INTEGER: the route answers (404: no such listing), no crash.
    assert client.get(f"/solutions/{2**31 - 1}").status_code == 404
    assert app.url_map.bind("localhost").match(f"/solutions/{2**31 - 1}")[0] == "public.detail"


# -- NUL bytes ------------------------------------------------------------------------------

class _Forms(HTMLParser):
    """The POST forms of a page, each as (action, [(name, value)]) as a browser would send."""

    TYPED = {"email": "nul\x00@example.org", "password": "correct horse\x00 battery",
             "url": "https://example.org/\x00nul", "number": "5\x00",
             "date": "2027-03-01\x00", "datetime-local": "2027-03-01T10:00\x00"}

    def __init__(self, page_url: str):
        super().__init__()
        self.page_url, self.forms, self._form, self._select, self._textarea = \
            page_url, [], None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("method", "get").lower() == "post":
            self._form = (a.get("action") or self.page_url, [])
            self.forms.append(self._form)
        elif self._form is None or "name" not in a:
            if tag == "option" and self._select is not None:
                self._option(a)
        elif tag == "input":
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form[1].append((a["name"], a.get("value", "y")))
            elif kind != "file":
                value = a.get("value") or self.TYPED.get(kind, "Typed text")
                self._form[1].append((a["name"], _with_nul(value)))
        elif tag == "textarea":
            self._textarea = [a["name"], ""]
        elif tag == "select":
            self._select = [a["name"], "multiple" in a, None, []]

    def _option(self, a):
        name, multiple, first, chosen = self._select
        if first is None:
            self._select[2] = a.get("value", "")
        if "selected" in a:
            chosen.append(a.get("value", ""))

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            self._form[1].append((name, _with_nul(text or "Typed\ntext")))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            name, multiple, first, chosen = self._select
            for value in chosen or ([] if multiple or first is None else [first]):
                self._form[1].append((name, _with_nul(value)))
            self._select = None


def _with_nul(value: str) -> str:
    middle = len(value) // 2
    return value[:middle] + "\x00" + value[middle:]


@pytest.fixture
def world(app):
    """One of everything a page can show, so every form is on its page."""
    supplier = UserFactory()
    buyer = UserFactory(buyer=True)
    staff = UserFactory(staff=True)
    solution = SolutionFactory(published=True, organization=supplier.organization)
    pending = SolutionFactory(pending=True, organization=supplier.organization)
    need = NeedFactory(published=True, organization=buyer.organization)
    issue = Issue(slug="november-2026", audience={})
    en = IssueEdition(language="en", title="November news", intro="Hello.")
    en.sections = [IssueSection(kind="manual", heading="From the bases", body="Yixing fair.")]
    issue.editions = [en, IssueEdition(language="zh", title="十一月通讯", intro="你好。")]
    event = Event(title="Yixing forum", kind="forum", base="yixing",
                  starts_on=date.today() + timedelta(days=30))
    db.session.add_all([issue, event])
    db.session.commit()
    return SimpleNamespace(supplier=supplier, buyer=buyer, staff=staff, solution=solution,
                           pending=pending, need=need, issue=issue, event=event,
                           section=en.sections[0])


def _form_pages(w) -> dict:
    """Who sees which pages with forms: None is anonymous."""
    return {
        None: ["/register", "/login", "/password/forgot", "/emagazine/subscribe"],
        "supplier": ["/", "/account", "/my/organization", "/solutions/new",
                     f"/solutions/{w.solution.id}/edit", f"/solutions/{w.solution.id}",
                     f"/needs/{w.need.id}", "/my/notifications", "/my/emagazine",
                     "/search?q=sewage", "/my"],
        "buyer": ["/needs/new", f"/needs/{w.need.id}/edit", f"/solutions/{w.solution.id}"],
        "staff": ["/staff/", f"/staff/review/solution/{w.pending.id}", "/staff/emagazine/",
                  f"/staff/emagazine/{w.issue.id}", "/staff/events", "/staff/events/new",
                  f"/staff/events/{w.event.id}/edit", "/staff/organizations?show=all"],
    }


@pytest.mark.parametrize("who", [None, "supplier", "buyer", "staff"])
def test_nul_in_every_form_field_is_removed_not_a_500(client, auth, world, who):
    """PostgreSQL refuses NUL in text; the form goes on with what was typed, minus the NULs."""
    posted, failures = 0, {}
    for page in _form_pages(world)[who]:
        if who:
            auth.login(getattr(world, who))
        parser = _Forms(page)
        parser.feed(client.get(page).get_data(as_text=True))
        for action, fields in parser.forms:
            if action.startswith("/logout"):
                continue
            try:
                status = client.post(action, data=MultiDict(fields)).status_code
            except Exception as error:  # noqa: BLE001 - the test names every crash
                status = f"{type(error).__name__}: {str(error)[:200]}"
            posted += 1
            if status not in (200, 302, 400, 403, 404):
                failures[action] = status
    assert posted >= {None: 4, "supplier": 8, "buyer": 2, "staff": 10}[who]
    assert failures == {}


def test_a_form_with_nul_re_renders_what_was_typed(client):
    response = client.post("/register", data={
        "name": "Ana\x00 Lima", "email": "ana\x00@example.org", "password": "short",
        "confirm": "short", "role": "supplier", "language": "en"})

    page = response.get_data(as_text=True)
    assert response.status_code in (200, 400)
    assert 'value="Ana Lima"' in page and 'value="ana@example.org"' in page


@pytest.mark.parametrize("as_staff", [False, True], ids=["anonymous", "staff"])
def test_nul_in_a_query_parameter_is_a_clear_400_on_every_page(app, client, auth, world,
                                                               as_staff):
    if as_staff:
        auth.login(world.staff)
    answers = {}
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint != "static":
            path = _path(rule.rule, "1")
            for query in ("q=%00", "page=1%00", "x%00=1"):
                response = client.get(f"{path}?{query}")
                if response.status_code != 400 or NUL_MESSAGE not in response.get_data(
                        as_text=True):
                    answers[path, query] = response.status_code
    assert answers == {}


@pytest.mark.parametrize("path", ["/emagazine/a%00b", "/unsubscribe/a%00b", "/verify/a%00b",
                                  "/password/reset/a%00b", "/emagazine/confirm/a%00b",
                                  "/staff/outbox/a%00b", "/solutions/1%00"])
def test_nul_in_a_path_is_a_clear_400(client, path):
    for method in ("GET", "POST"):
        response = client.open(path, method=method)
        assert response.status_code == 400
        assert NUL_MESSAGE in response.get_data(as_text=True)


def test_nul_in_a_non_form_body_is_a_clear_400(client):
    response = client.post("/login", data='{"email": "a\\u0000b"}',
                           content_type="application/json")
    assert response.status_code == 400
    response = client.post("/login", data=b"a\x00b", content_type="text/plain")
    assert response.status_code == 400
