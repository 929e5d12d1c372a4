"""Bad input answers a clear 4xx, never a 500, on SQLite and on PostgreSQL (issue 9, item 9).

Page numbers, ids in paths, NUL bytes and a sweep of odd query strings over every GET route.
"""

from __future__ import annotations

import re

import pytest
from werkzeug.routing import IntegerConverter

from tests.factories import NeedFactory, SolutionFactory, UserFactory

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
    from marketplace.services import search as search_service

    assert search_service.MAX_PAGE * search_service.PER_PAGE <= 10_000
    response = client.get(f"/search?page={search_service.MAX_PAGE + 1}")
    assert response.status_code == 400
    assert f"from 1 to {search_service.MAX_PAGE}" in response.get_data(as_text=True)


def test_search_page_count_is_capped_at_the_deepest_page(app):
    from marketplace.services.search import MAX_PAGE, SearchPage

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
