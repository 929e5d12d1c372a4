"""The page where a user sees and deletes their saved searches (so the cap is no dead end)."""

import re

from marketplace.discovery import saved_searches
from marketplace.extensions import db
from marketplace.models import SavedSearch
from tests.factories import UserFactory

PAGE = "/my/saved-searches"


def _saved(user, query="biogas", kind="solution", **filters):
    search = SavedSearch(user_id=user.id, kind=kind, query=query, filters=filters)
    db.session.add(search)
    db.session.commit()
    return search


def test_the_page_lists_only_my_saved_searches(client, auth):
    me, other = UserFactory(), UserFactory()
    mine = _saved(me, "biogas digester", country="VN", trl=6)
    _saved(other, "secret tender")
    auth.login(me)

    page = client.get(PAGE).get_data(as_text=True)

    assert "biogas digester" in page
    assert "secret tender" not in page
    assert "TRL" in page and "6" in page
    assert f"/my/saved-searches/{mine.id}/delete" in page
    assert "/search?" in page and "q=biogas+digester" in page  # re-runs the search


def test_deleting_my_saved_search(client, auth):
    me = UserFactory()
    search = _saved(me)
    auth.login(me)

    response = client.post(f"/my/saved-searches/{search.id}/delete", follow_redirects=True)

    assert response.status_code == 200
    assert "deleted" in response.get_data(as_text=True)
    assert db.session.query(SavedSearch).count() == 0


def test_deleting_another_users_saved_search_is_404(client, auth):
    other = UserFactory()
    theirs = _saved(other)
    auth.login(UserFactory())

    response = client.post(f"/my/saved-searches/{theirs.id}/delete")

    assert response.status_code == 404
    assert db.session.query(SavedSearch).filter_by(id=theirs.id).count() == 1
    assert client.post("/my/saved-searches/999999/delete").status_code == 404


def test_anonymous_users_are_sent_to_sign_in(client):
    search = _saved(UserFactory())

    for response in (client.get(PAGE), client.post(f"/my/saved-searches/{search.id}/delete")):
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    assert db.session.query(SavedSearch).count() == 1


def test_delete_needs_the_csrf_token(app, client, auth):
    me = UserFactory()
    search = _saved(me)
    auth.login(me)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = client.post(f"/my/saved-searches/{search.id}/delete")
        assert db.session.query(SavedSearch).count() == 1
        page = client.get(PAGE).get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        accepted = client.post(f"/my/saved-searches/{search.id}/delete",
                               data={"csrf_token": token})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False

    assert refused.status_code == 400
    assert accepted.status_code == 302
    assert db.session.query(SavedSearch).count() == 0


def test_at_the_cap_deleting_one_lets_me_save_again(client, auth):
    me = UserFactory()
    searches = [_saved(me, f"biogas {n}") for n in range(saved_searches.MAX_PER_USER)]
    auth.login(me)

    refused = client.post("/search/save", data={"kind": "solution", "q": "new one"},
                          follow_redirects=True).get_data(as_text=True)
    assert 'href="/my/saved-searches"' in refused  # the message says where to delete some
    client.post(f"/my/saved-searches/{searches[0].id}/delete")
    client.post("/search/save", data={"kind": "solution", "q": "new one"})

    queries = {s.query for s in db.session.query(SavedSearch).filter_by(user_id=me.id)}
    assert len(queries) == saved_searches.MAX_PER_USER
    assert "new one" in queries and "biogas 0" not in queries


def test_the_preferences_page_links_to_saved_searches(client, auth):
    auth.login(UserFactory())

    assert 'href="/my/saved-searches"' in client.get("/my/notifications").get_data(as_text=True)
