"""The E-magazine for readers: double opt-in sign-up, account settings, the public archive
and its Atom feed, and the staff events calendar.  Sending issues is tested with the staff
side."""

import time
from datetime import date, timedelta
from xml.etree import ElementTree as ET

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select

from marketplace import tokens
from marketplace.emagazine import audience, subscribers
from marketplace.extensions import db
from marketplace.form_fields import EVENT_KIND_NAMES
from marketplace.mailing import suppressions
from marketplace.models import Event, Issue, IssueEdition, IssueSection, Subscriber
from marketplace.models._time import utcnow
from marketplace.models.emagazine import EVENT_KINDS
from tests.factories import UserFactory

SIGNUP_IP, CONFIRM_IP = "203.0.113.5", "198.51.100.7"
ATOM = "{http://www.w3.org/2005/Atom}"


def _sign_up(client, email="Mai@Example.org", **fields):
    data = {"email": email, "language": "en", **fields}
    return client.post("/emagazine/subscribe", data=data,
                       environ_base={"REMOTE_ADDR": SIGNUP_IP})


def _confirm(client, link):
    return client.post(link, environ_base={"REMOTE_ADDR": CONFIRM_IP})


def _confirmations(outbox, email="mai@example.org"):
    return [m for m in outbox.messages() if m["To"] == email]


def _subscriber(email="mai@example.org") -> Subscriber:
    db.session.expire_all()  # the requests committed in their own sessions
    return subscribers.find(email)


# -- double opt-in ------------------------------------------------------------------------

def test_sign_up_is_pending_until_the_link_is_confirmed(client, outbox):
    response = _sign_up(client, language="zh", countries=["VN", "TH"], sectors=["WAT.MUN"])

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/emagazine/subscribe?sent=1")
    assert "Check your inbox" in client.get(response.headers["Location"]).get_data(as_text=True)
    subscriber = _subscriber()
    assert (subscriber.email, subscriber.status, subscriber.signup_ip) == \
        ("mai@example.org", "pending", SIGNUP_IP)
    assert subscriber.confirmed_at is None

    [message] = _confirmations(outbox)
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "越南, 泰国" in text  # in the language asked for
    link = outbox.last_link("/emagazine/confirm/")

    page = client.get(link)  # what a mail scanner does: it must change nothing
    assert page.status_code == 200
    assert "Confirm my subscription" in page.get_data(as_text=True)
    assert _subscriber().status == "pending"

    response = _confirm(client, link)
    assert response.status_code == 302 and response.headers["Location"].endswith("/emagazine")
    subscriber = _subscriber()
    assert subscriber.status == "confirmed"
    assert subscriber.confirmed_ip == CONFIRM_IP
    assert utcnow() - subscriber.confirmed_at < timedelta(minutes=1)
    assert (subscriber.language, subscriber.countries, subscriber.sectors) == \
        ("zh", ["VN", "TH"], ["WAT.MUN"])
    assert [r.email for r in audience.recipients({})] == ["mai@example.org"]


def test_unconfirmed_subscribers_get_no_issues(client):
    _sign_up(client)

    assert _subscriber().status == "pending"
    assert audience.recipients({}) == []


def _link_for(subscriber):
    token = subscribers.confirmation_token(subscriber, subscribers.Preferences())
    return f"/emagazine/confirm/{token}"


def test_an_expired_link_is_refused_and_changes_nothing(client, monkeypatch):
    _sign_up(client)
    subscriber = _subscriber()
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp",
                      lambda self: int(time.time()) - 49 * 3600)
        link = _link_for(subscriber)

    for response in (client.get(link), _confirm(client, link)):
        assert response.status_code == 400
        assert "This confirmation link has expired" in response.get_data(as_text=True)
    assert _subscriber().status == "pending"


def test_a_link_signed_47_hours_ago_still_works(client, monkeypatch):
    _sign_up(client)
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp",
                      lambda self: int(time.time()) - 47 * 3600)
        link = _link_for(_subscriber())

    assert _confirm(client, link).status_code == 302
    assert _subscriber().status == "confirmed"


def test_tampered_and_foreign_tokens_are_refused(client, outbox):
    _sign_up(client)
    subscriber = _subscriber()
    token = outbox.last_link("/emagazine/confirm/").rsplit("/", 1)[1]
    payload = {"s": subscriber.id, "e": "someone-else@example.org",
               "p": {"l": "en", "c": [], "s": []}}
    bad_tokens = [
        token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"),  # signature broken
        tokens.make_token(tokens.EMAGAZINE_CONFIRM, payload),  # another address
        suppressions.unsubscribe_token("mai@example.org", "emagazine"),  # another purpose
    ]
    for bad in bad_tokens:
        for response in (client.get(f"/emagazine/confirm/{bad}"),
                         _confirm(client, f"/emagazine/confirm/{bad}")):
            assert response.status_code == 400
            assert "This confirmation link is not valid" in response.get_data(as_text=True)
    assert _subscriber().status == "pending"


def test_signing_up_again_makes_no_duplicate_and_at_most_three_mails_an_hour(client, outbox):
    for email in ("mai@example.org", "MAI@example.org", " Mai@Example.org", "mai@example.org"):
        assert _sign_up(client, email=email).status_code == 302

    assert db.session.scalar(select(db.func.count()).select_from(Subscriber)) == 1
    assert len(_confirmations(outbox)) == 3

    subscriber = _subscriber()
    subscriber.confirmations_window_start = utcnow() - timedelta(minutes=61)
    db.session.commit()
    _sign_up(client)
    _sign_up(client)
    assert len(_confirmations(outbox)) == 5


def test_the_answer_does_not_tell_who_is_subscribed(client, outbox):
    _sign_up(client)
    _confirm(client, outbox.last_link("/emagazine/confirm/"))
    for _ in range(3):
        _sign_up(client, email="flood@example.org")

    answers = {(r.status_code, r.headers["Location"]) for r in (
        _sign_up(client, email="nobody@example.org"),  # new
        _sign_up(client),  # confirmed
        _sign_up(client, email="flood@example.org"),  # rate-limited
    )}
    assert len(answers) == 1


def test_a_confirmed_subscriber_changes_preferences_only_through_the_link(client, outbox):
    _sign_up(client, countries=["VN"])
    _confirm(client, outbox.last_link("/emagazine/confirm/"))
    first_confirmation = _subscriber().confirmed_at

    _sign_up(client, language="zh", countries=["TH"])
    subscriber = _subscriber()
    assert (subscriber.status, subscriber.language, subscriber.countries) == \
        ("confirmed", "en", ["VN"])

    _confirm(client, outbox.last_link("/emagazine/confirm/"))
    subscriber = _subscriber()
    assert (subscriber.language, subscriber.countries) == ("zh", ["TH"])
    assert subscriber.confirmed_at == first_confirmation  # the original opt-in record


def test_confirming_again_after_unsubscribing_lifts_the_suppression(client, outbox):
    _sign_up(client)
    _confirm(client, outbox.last_link("/emagazine/confirm/"))
    suppressions.unsubscribe("mai@example.org", "emagazine")
    assert _subscriber().status == "unsubscribed"

    _sign_up(client)
    assert _subscriber().status == "pending"
    assert suppressions.is_suppressed("mai@example.org", "emagazine")
    _confirm(client, outbox.last_link("/emagazine/confirm/"))

    assert _subscriber().status == "confirmed"
    assert not suppressions.is_suppressed("mai@example.org", "emagazine")
    assert len(audience.recipients({})) == 1


def test_the_unsubscribe_page_names_the_list(client):
    token = suppressions.unsubscribe_token("mai@example.org", "emagazine")
    page = client.get(f"/unsubscribe/{token}").get_data(as_text=True)
    assert "Stop sending the E-magazine to mai@example.org?" in page

    page = client.post(f"/unsubscribe/{token}").get_data(as_text=True)
    assert "/emagazine/subscribe" in page


# -- account holders ----------------------------------------------------------------------

def test_a_verified_user_subscribes_from_the_settings_at_once(client, auth, outbox):
    user = UserFactory(email="wei@example.org")
    auth.login(user)

    response = client.post("/my/emagazine", data={"subscribed": "y", "language": "zh",
                                                  "sectors": ["WAT"]},
                           environ_base={"REMOTE_ADDR": CONFIRM_IP})

    assert response.status_code == 302
    subscriber = _subscriber("wei@example.org")
    assert (subscriber.status, subscriber.user_id, subscriber.language, subscriber.sectors) == \
        ("confirmed", user.id, "zh", ["WAT"])
    assert subscriber.confirmed_ip == CONFIRM_IP
    assert _confirmations(outbox, "wei@example.org") == []
    [recipient] = audience.recipients({})
    assert recipient.role == "supplier"
    assert "Subscribed" in client.get("/my/emagazine").get_data(as_text=True)


def test_unsubscribing_and_back_from_the_settings(client, auth):
    user = UserFactory(email="wei@example.org")
    auth.login(user)
    client.post("/my/emagazine", data={"subscribed": "y", "language": "en"})

    client.post("/my/emagazine", data={"language": "en"})  # box unticked
    assert _subscriber("wei@example.org").status == "unsubscribed"
    assert suppressions.is_suppressed("wei@example.org", "emagazine")
    assert audience.recipients({}) == []

    client.post("/my/emagazine", data={"subscribed": "y", "language": "en"})
    assert _subscriber("wei@example.org").status == "confirmed"
    assert not suppressions.is_suppressed("wei@example.org", "emagazine")


def test_an_unverified_user_must_confirm_by_mail(client, auth, outbox):
    user = UserFactory(email="new@example.org", unverified=True)
    auth.login(user)

    client.post("/my/emagazine", data={"subscribed": "y", "language": "en"})

    subscriber = _subscriber("new@example.org")
    assert (subscriber.status, subscriber.user_id) == ("pending", user.id)
    assert len(_confirmations(outbox, "new@example.org")) == 1
    assert "Waiting for confirmation" in client.get("/my/emagazine").get_data(as_text=True)


def test_the_account_page_links_to_the_settings(client, auth):
    auth.login(UserFactory())
    assert "/my/emagazine" in client.get("/account").get_data(as_text=True)


# -- the archive --------------------------------------------------------------------------

def _issue(slug, status="sent", days_ago=0, titles=None):
    issue = Issue(slug=slug, status=status, audience={},
                  sent_at=utcnow() - timedelta(days=days_ago) if status == "sent" else None)
    for language, title in (titles or {"en": f"{slug} in English"}).items():
        edition = IssueEdition(language=language, title=title,
                               intro="**Bold** news & more from the [bases](https://x.org).")
        edition.sections = [IssueSection(position=0, heading=f"Events {language}",
                                         body="A forum in Yixing.")]
        issue.editions.append(edition)
    db.session.add(issue)
    db.session.commit()
    return issue


@pytest.fixture
def issues():
    return {
        "older": _issue("march", days_ago=30, titles={"en": "March news", "zh": "三月新闻"}),
        "newer": _issue("april", days_ago=1, titles={"en": "April news"}),
        "draft": _issue("may", status="draft", titles={"en": "May draft"}),
        "scheduled": _issue("june", status="scheduled", titles={"en": "June plan"}),
    }


def _no_subscriber_tokens(page: str) -> None:
    assert "unsubscribe/" not in page
    # The only "token" allowed is the page's own CSRF field (language menu, sign-out).
    assert "token" not in page.replace('name="csrf_token"', "")


def test_the_archive_lists_sent_issues_newest_first(client, issues):
    page = client.get("/emagazine").get_data(as_text=True)

    assert page.index("April news") < page.index("March news")
    assert "三月新闻" in page  # the other edition is linked
    assert "May draft" not in page and "June plan" not in page
    assert "/emagazine/subscribe" in page
    _no_subscriber_tokens(page)


def test_an_issue_in_each_language_with_english_fallback(client, issues):
    english = client.get("/emagazine/march?lang=en").get_data(as_text=True)
    chinese = client.get("/emagazine/march?lang=zh").get_data(as_text=True)
    fallback = client.get("/emagazine/april?lang=zh").get_data(as_text=True)

    assert "March news" in english and "/emagazine/march?lang=zh" in english
    assert "三月新闻" in chinese and "Events zh" in chinese
    assert "/emagazine/march?lang=en" in chinese
    assert "April news" in fallback
    assert "<strong>Bold</strong>" in english  # the shared partial renders the Markdown
    for page in (english, chinese, fallback):
        _no_subscriber_tokens(page)


def test_an_issue_defaults_to_the_visitors_language(client, issues):
    page = client.get("/emagazine/march", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "三月新闻" in page.get_data(as_text=True)


@pytest.mark.parametrize("slug", ["may", "june", "no-such-issue"])
def test_only_sent_issues_are_public(client, auth, issues, slug):
    assert client.get(f"/emagazine/{slug}").status_code == 404
    auth.login(UserFactory(staff=True))  # staff preview drafts on the staff side, not here
    assert client.get(f"/emagazine/{slug}").status_code == 404


def test_the_atom_feed_lists_sent_issues(client, issues):
    response = client.get("/emagazine/feed.atom")

    assert response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}id") == "http://localhost/emagazine"
    assert feed.findtext(f"{ATOM}title")
    assert feed.findtext(f"{ATOM}author/{ATOM}name")
    assert feed.findtext(f"{ATOM}updated").endswith("Z")
    [self_link] = [link for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert self_link.get("href") == "http://localhost/emagazine/feed.atom"

    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["April news", "March news"]
    first = entries[0]
    assert first.findtext(f"{ATOM}id") == "http://localhost/emagazine/april"
    assert first.find(f"{ATOM}link").get("href") == "http://localhost/emagazine/april?lang=en"
    assert first.findtext(f"{ATOM}updated").endswith("Z")
    assert first.findtext(f"{ATOM}summary") == "Bold news & more from the bases."
    _no_subscriber_tokens(response.get_data(as_text=True))


def test_the_atom_feed_in_chinese_and_when_empty(client, issues):
    feed = ET.fromstring(client.get("/emagazine/feed.atom?lang=zh").data)
    assert [e.findtext(f"{ATOM}title") for e in feed.findall(f"{ATOM}entry")] == \
        ["April news", "三月新闻"]

    for issue in issues.values():
        db.session.delete(issue)
    db.session.commit()
    empty = ET.fromstring(client.get("/emagazine/feed.atom").data)
    assert empty.findall(f"{ATOM}entry") == [] and empty.findtext(f"{ATOM}updated")


def test_the_site_navigation_links_to_the_e_magazine(client):
    assert 'href="/emagazine"' in client.get("/").get_data(as_text=True)


# -- events (staff) -----------------------------------------------------------------------

GOOD_EVENT = {"title": "Water forum", "kind": "forum", "base": "yixing",
              "starts_on": "2099-05-10", "ends_on": "2099-05-11", "location": "Yixing EST park",
              "url": "https://example.org/forum", "description": "Two days of talks."}


@pytest.fixture
def staff(auth):
    user = UserFactory(staff=True)
    auth.login(user)
    return user


def test_the_event_kinds_are_the_models():
    assert tuple(EVENT_KIND_NAMES) == EVENT_KINDS


def test_staff_create_edit_and_delete_an_event(client, staff):
    assert client.post("/staff/events/new", data=GOOD_EVENT).status_code == 302
    event = db.session.scalar(select(Event))
    assert (event.title, event.kind, event.base, event.starts_on, event.ends_on) == \
        ("Water forum", "forum", "yixing", date(2099, 5, 10), date(2099, 5, 11))

    form = client.get(f"/staff/events/{event.id}/edit").get_data(as_text=True)
    assert 'value="Water forum"' in form
    response = client.post(f"/staff/events/{event.id}/edit",
                           data={**GOOD_EVENT, "title": "Water and sludge forum",
                                 "ends_on": "", "url": ""})
    assert response.status_code == 302
    db.session.expire_all()
    assert (event.title, event.ends_on, event.url) == ("Water and sludge forum", None, "")

    assert client.post(f"/staff/events/{event.id}/delete").status_code == 302
    assert db.session.scalar(select(Event)) is None
    assert client.post(f"/staff/events/{event.id}/delete").status_code == 404


def test_the_list_separates_upcoming_and_past_events(client, staff):
    today = utcnow().date()
    db.session.add_all([
        Event(title="Wuzhou training", kind="training", base="wuzhou", starts_on=today),
        Event(title="Old expo", kind="exhibition", base="shenzhen",
              starts_on=today - timedelta(days=40), ends_on=today - timedelta(days=38)),
    ])
    db.session.commit()

    page = client.get("/staff/events").get_data(as_text=True)
    assert page.index("Upcoming") < page.index("Wuzhou training") < page.index("Past") \
        < page.index("Old expo")
    assert "Training" in page and "Shenzhen" in page


def test_invalid_events_show_errors_and_keep_the_input(client, staff):
    bad = {**GOOD_EVENT, "title": "", "kind": "party", "base": "paris",
           "starts_on": "2099-05-10", "ends_on": "2099-05-01", "url": "not a url",
           "location": "Hall 3"}

    response = client.post("/staff/events/new", data=bad)

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert page.count("This field is required.") == 1  # the title
    assert page.count("Not a valid choice.") == 2  # kind and base
    assert "The event cannot end before it starts." in page
    assert "Give a web address that starts with https:// or http://." in page
    assert 'value="Hall 3"' in page and 'value="not a url"' in page
    assert 'value="2099-05-01"' in page
    assert db.session.scalar(select(Event)) is None


def test_others_cannot_touch_events(client, auth):
    event = Event(title="Water forum", kind="forum", base="yixing", starts_on=date(2099, 1, 1))
    db.session.add(event)
    db.session.commit()

    assert "/login" in client.get("/staff/events").headers["Location"]
    auth.login(UserFactory())
    assert client.get("/staff/events").status_code == 403
    assert client.post("/staff/events/new", data=GOOD_EVENT).status_code == 403
    assert client.post(f"/staff/events/{event.id}/edit",
                       data={**GOOD_EVENT, "title": "Hijacked"}).status_code == 403
    assert client.post(f"/staff/events/{event.id}/delete").status_code == 403

    db.session.expire_all()
    assert db.session.scalar(select(Event.title)) == "Water forum"
    assert db.session.scalar(select(db.func.count()).select_from(Event)) == 1


def test_deleting_needs_a_post_with_csrf(app, client, staff):
    event = Event(title="Water forum", kind="forum", base="yixing", starts_on=date(2099, 1, 1))
    db.session.add(event)
    db.session.commit()

    assert client.get(f"/staff/events/{event.id}/delete").status_code == 405
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert client.post(f"/staff/events/{event.id}/delete").status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert db.session.scalar(select(db.func.count()).select_from(Event)) == 1
