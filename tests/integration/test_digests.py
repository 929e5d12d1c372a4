"""Match digests in embedded mode: content, never twice, unsubscribing and preferences.

The Celery worker, Redis and a real SMTP server are exercised in test_workers.py; here the
same service code runs in-process and writes to the .eml outbox.
"""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from marketplace.digests import content, sending
from marketplace.extensions import db
from marketplace.mailing import suppressions
from marketplace.mailing.transport import MailSession
from marketplace.models import DigestDelivery, MailSuppression, Match
from marketplace.outbox import relay as outbox_module
from tests.factories import NeedFactory, SolutionFactory, UserFactory

TODAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TOMORROW = TODAY + timedelta(days=1)


@pytest.fixture
def buyer_world():
    """A buyer whose published need has two matches, one better than the other."""
    buyer = UserFactory(buyer=True, name="Lan", email="lan@danang.example")
    need = NeedFactory(organization=buyer.organization, published=True,
                       title="Wastewater plant for Da Nang")
    good = SolutionFactory(published=True, title="Membrane bioreactor, Yixing")
    fair = SolutionFactory(published=True, title="Constructed wetland kit")
    reasons = [{"kind": "sectors", "detail": {"codes": ["WAT.MUN"]}},
               {"kind": "semantic", "detail": {"level": "close"}}]
    matches = [Match(need=need, solution=good, score=0.9,
                     evidence=0.9, delivered=True, reasons=reasons),
               Match(need=need, solution=fair, score=0.4,
                     evidence=0.4, delivered=True, reasons=reasons)]
    db.session.add_all(matches)
    db.session.commit()
    outbox_module.mark_committed_as_handled()  # these tests add matches by hand
    return buyer, need, matches


def _digests_to(outbox, email):
    return [m for m in outbox.messages() if m["To"] == email]


def test_period_keys():
    assert sending.period_for("immediate", TODAY) == "immediate:2026-11-30T09:00"
    assert sending.period_for("daily", TODAY) == "daily:2026-11-30"
    assert sending.period_for("weekly", TODAY) == "weekly:2026-W49"
    with pytest.raises(ValueError):
        sending.period_for("hourly", TODAY)


def test_a_digest_lists_new_matches_best_first_with_reasons_and_links(buyer_world, outbox):
    buyer, need, _ = buyer_world

    assert sending.schedule("daily", TODAY) == 1

    [message] = _digests_to(outbox, buyer.email)
    assert message["Subject"] == "2 new matches on the EST Marketplace"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert text.index("Membrane bioreactor") < text.index("Constructed wetland")
    assert "For your listing: Wastewater plant for Da Nang" in text
    assert "Same sector: Municipal wastewater" in text
    assert "Close in meaning" in text and "similarity" not in text
    assert "http://localhost/solutions/" in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert 'style="' in html and "<style" not in html  # CSS inlined


def test_unsubscribe_headers_follow_rfc_8058(buyer_world, outbox):
    buyer, _, _ = buyer_world
    sending.schedule("daily", TODAY)

    message = outbox.last()
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = message["List-Unsubscribe"]
    assert link.startswith("<http://localhost/unsubscribe/") and link.endswith(">")
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert link[1:-1] in text  # the visible link is the same
    assert "http://localhost/my/notifications" in text


def test_the_scheduler_firing_twice_sends_one_digest(buyer_world, outbox):
    buyer, _, _ = buyer_world
    sending.schedule("daily", TODAY)
    sending.schedule("daily", TODAY)
    sending.send_batch(sending.period_for("daily", TODAY), [buyer.id])  # a duplicate job

    assert len(_digests_to(outbox, buyer.email)) == 1
    assert db.session.query(DigestDelivery).count() == 1


def test_a_match_never_reappears_and_nothing_new_sends_nothing(buyer_world, outbox):
    buyer, need, _ = buyer_world
    sending.schedule("daily", TODAY)

    sending.schedule("daily", TOMORROW)
    assert len(_digests_to(outbox, buyer.email)) == 1  # nothing new: no e-mail

    newcomer = SolutionFactory(published=True, title="Sludge dryer")
    db.session.add(Match(need=need, solution=newcomer, score=0.7,
                         evidence=0.7, delivered=True, reasons=[]))
    db.session.commit()
    sending.schedule("daily", TOMORROW + timedelta(days=1))

    latest = _digests_to(outbox, buyer.email)[-1]
    text = latest.get_body(preferencelist=("plain",)).get_content()
    assert "Sludge dryer" in text
    assert "Membrane bioreactor" not in text
    assert latest["Subject"] == "1 new match on the EST Marketplace"


def test_dismissed_and_unpublished_matches_are_never_sent(buyer_world, outbox):
    buyer, need, (good, fair) = buyer_world
    good.buyer_state = "dismissed"
    fair.solution.status = "archived"
    db.session.commit()

    assert content.preview(buyer) is None
    sending.schedule("daily", TODAY)
    assert _digests_to(outbox, buyer.email) == []


def test_suppliers_hear_about_needs_for_their_solutions(buyer_world, outbox):
    _, need, (good, _) = buyer_world
    supplier = UserFactory(organization=good.solution.organization, name="Wei")

    sending.schedule("daily", TODAY)

    [message] = _digests_to(outbox, supplier.email)
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert need.title in text and "/needs/" in text


def test_the_switches_and_frequencies_are_respected(buyer_world, outbox):
    buyer, _, _ = buyer_world
    buyer.digest_need_matches = False
    db.session.commit()
    sending.schedule("daily", TODAY)
    assert _digests_to(outbox, buyer.email) == []

    buyer.digest_need_matches, buyer.digest_frequency = True, "weekly"
    db.session.commit()
    sending.schedule("daily", TODAY)
    assert _digests_to(outbox, buyer.email) == []
    sending.schedule("weekly", TODAY)
    assert len(_digests_to(outbox, buyer.email)) == 1


def test_the_digest_comes_in_the_readers_language(buyer_world, outbox):
    buyer, _, _ = buyer_world
    buyer.language = "zh"
    db.session.commit()
    sending.schedule("daily", TODAY)

    message = outbox.last()
    assert message["Subject"] == "EST 环境技术平台有 2 个新匹配"
    assert "相同领域" in message.get_body(preferencelist=("plain",)).get_content()


def test_saved_search_hits_published_after_saving(app, outbox):
    buyer = UserFactory(buyer=True)
    old = SolutionFactory(published=True, title="Old biogas digester")
    outbox_module.publish_committed()
    saved_at = datetime.now(UTC)
    from marketplace.models import SavedSearch

    db.session.add(SavedSearch(user=buyer, kind="solution", query="", filters={},
                               created_at=saved_at))
    new = SolutionFactory(published=True, title="New biogas digester",
                          published_at=saved_at + timedelta(seconds=1))
    outbox_module.publish_committed()

    sending.schedule("daily", TODAY)

    text = outbox.last().get_body(preferencelist=("plain",)).get_content()
    assert new.title in text and old.title not in text
    assert "New results for your saved searches" in text


# -- unsubscribing -------------------------------------------------------------------------

def _token(email):
    return suppressions.unsubscribe_token(email, "digests")


def test_get_only_asks_to_confirm(buyer_world, client):
    buyer, _, _ = buyer_world
    page = client.get(f"/unsubscribe/{_token(buyer.email)}")

    assert page.status_code == 200
    assert "Stop sending match digests to lan@danang.example?" in page.get_data(as_text=True)
    assert db.session.query(MailSuppression).count() == 0


@pytest.mark.parametrize("body", ["form", "multipart"])
def test_one_click_post_unsubscribes_without_cookies_or_csrf(app, buyer_world, body, outbox):
    buyer, _, _ = buyer_world
    app.config["WTF_CSRF_ENABLED"] = True
    data = {"List-Unsubscribe": "One-Click"}
    try:
        client = app.test_client(use_cookies=False)
        response = client.post(f"/unsubscribe/{_token(buyer.email)}", data=data,
                               content_type="multipart/form-data" if body == "multipart"
                               else "application/x-www-form-urlencoded")
    finally:
        app.config["WTF_CSRF_ENABLED"] = False

    assert response.status_code == 200  # an answer, not a redirect
    assert suppressions.is_suppressed(buyer.email, "digests")
    db.session.refresh(buyer)
    assert buyer.digest_frequency == "off"

    sending.schedule("daily", TODAY)
    sending.send_now()
    assert _digests_to(outbox, buyer.email) == []  # nothing more, ever


def test_tampered_tokens_are_rejected(buyer_world, client):
    buyer, _, _ = buyer_world
    token = _token(buyer.email)
    forged = suppressions.unsubscribe_token("someone-else@example.org", "digests")
    tampered = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    swapped = forged.split(".")[0] + "." + ".".join(token.split(".")[1:])

    for bad in (tampered, swapped, "not-a-token"):
        assert client.post(f"/unsubscribe/{bad}").status_code == 400
        assert client.get(f"/unsubscribe/{bad}").status_code == 400
    assert db.session.query(MailSuppression).count() == 0


def test_a_bounced_address_gets_no_digest(buyer_world, outbox):
    buyer, _, _ = buyer_world
    suppressions.mark_bounced(buyer.email, "550 no such user")
    assert sending.schedule("daily", TODAY) == 0
    assert _digests_to(outbox, buyer.email) == []


# -- preferences -----------------------------------------------------------------------------

def test_preferences_are_saved_and_resubscribe(buyer_world, client, auth):
    buyer, _, _ = buyer_world
    suppressions.unsubscribe(buyer.email, "digests")
    auth.login(buyer)

    response = client.post("/my/notifications", data={
        "frequency": "weekly", "need_matches": "y", "saved_searches": "y"})

    assert response.status_code == 302
    db.session.refresh(buyer)
    assert (buyer.digest_frequency, buyer.digest_need_matches, buyer.digest_solution_matches,
            buyer.digest_saved_searches) == ("weekly", True, False, True)
    assert not suppressions.is_suppressed(buyer.email, "digests")


def test_bad_preferences_are_refused_and_kept(buyer_world, client, auth):
    buyer, _, _ = buyer_world
    auth.login(buyer)
    response = client.post("/my/notifications", data={"frequency": "hourly",
                                                       "need_matches": "y"})
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)
    db.session.refresh(buyer)
    assert buyer.digest_frequency == "daily"


# -- commands --------------------------------------------------------------------------------

def test_preview_renders_without_claiming(buyer_world, runner, outbox):
    buyer, _, _ = buyer_world
    result = runner.invoke(args=["digests", "preview", "--user", buyer.email])

    assert result.exit_code == 0, result.output
    assert "Membrane bioreactor" in result.output
    assert db.session.scalar(select(DigestDelivery)) is None
    assert outbox.messages() == []


def test_send_now(buyer_world, runner, outbox):
    buyer, _, _ = buyer_world
    result = runner.invoke(args=["digests", "send", "--now", "--user", buyer.email])
    assert result.exit_code == 0, result.output
    assert "1 digest(s) sent." in result.output
    assert len(_digests_to(outbox, buyer.email)) == 1
    again = runner.invoke(args=["digests", "send", "--now"])
    assert "0 digest(s) sent." in again.output


# -- end to end, embedded --------------------------------------------------------------------

def test_publishing_a_matching_solution_sends_an_immediate_digest(client, auth, outbox):
    """What `make run` shows: staff publish a solution, the demo buyer hears at once."""
    buyer = UserFactory(buyer=True, digest_frequency="immediate")
    NeedFactory(organization=buyer.organization, published=True, country="VN",
                title="Municipal wastewater treatment for Can Tho")
    pending = SolutionFactory(pending=True, countries_served=["VN"],
                              title="Compact municipal wastewater treatment plant")
    outbox_module.publish_committed()
    assert _digests_to(outbox, buyer.email) == []

    auth.login(UserFactory(staff=True))
    client.post(f"/staff/review/solution/{pending.id}",
                data={"approve-submit": "Approve", "approve-note": ""})

    [message] = _digests_to(outbox, buyer.email)
    assert pending.title in message.get_body(preferencelist=("plain",)).get_content()


def test_the_unsubscribe_header_is_written_as_a_plain_link(buyer_world, outbox):
    """Folded the default way, a long List-Unsubscribe became RFC 2047 encoded words, in
    which receivers find no link: one-click unsubscribe would silently not work."""
    sending.schedule("daily", TODAY)
    raw = next(outbox.folder.glob("*.eml")).read_bytes()
    header = next(line for line in raw.split(b"\r\n") if line.startswith(b"List-Unsubscribe:"))
    assert header.startswith(b"List-Unsubscribe: <http://localhost/unsubscribe/")
    assert b"=?" not in header and header.endswith(b">")


def test_at_most_five_matches_per_listing_best_first_grouped_by_listing(outbox):
    buyer = UserFactory(buyer=True, email="mai@hue.example")
    first = NeedFactory(organization=buyer.organization, published=True, title="Need one")
    second = NeedFactory(organization=buyer.organization, published=True, title="Need two")
    for n in range(7):
        db.session.add(Match(need=first, solution=SolutionFactory(published=True,
                                                                  title=f"Offer {n}"),
                             score=0.5, evidence=0.5 + n / 100, delivered=True, reasons=[]))
    db.session.add(Match(need=second, solution=SolutionFactory(published=True, title="Best"),
                         score=0.5, evidence=0.99, delivered=True, reasons=[]))
    db.session.commit()
    outbox_module.mark_committed_as_handled()

    sending.schedule("daily", TODAY)

    [message] = _digests_to(outbox, buyer.email)
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert message["Subject"] == "6 new matches on the EST Marketplace"
    # The listing with the best match comes first; then the five best of the other.
    assert text.index("For your listing: Need two") < text.index("Best") < text.index(
        "For your listing: Need one")
    offers = [f"Offer {n}" for n in (6, 5, 4, 3, 2)]
    assert [text.index(title) for title in offers] == sorted(text.index(t) for t in offers)
    assert "Offer 1" not in text and "Offer 0" not in text
    assert text.count("For your listing:") == 2


def test_a_match_below_the_bar_is_never_sent(outbox):
    buyer = UserFactory(buyer=True, email="an@hue.example")
    need = NeedFactory(organization=buyer.organization, published=True)
    monitor = SolutionFactory(published=True, title="Air quality micro-stations",
                              summary="PM2.5 sensors.", keywords=["sensors"],
                              description="Sensor networks.", sectors=["AIR.MON"])
    db.session.add(Match(need=need, solution=monitor, score=0.9, evidence=0.2,
                         delivered=False, reasons=[]))
    db.session.commit()
    outbox_module.mark_committed_as_handled()

    assert content.preview(buyer) is None
    sending.schedule("daily", TODAY)
    assert _digests_to(outbox, buyer.email) == []


def test_a_claimed_digest_whose_matches_were_all_dismissed_is_not_sent(buyer_world, outbox):
    buyer, _, matches = buyer_world
    period = sending.period_for("daily", TODAY)
    claimed, _ = sending._claim_batch(period, [buyer.id])
    claimed[0].status = "retrying"  # a transient failure released it: a retry will send it
    for match in matches:  # ... but meanwhile its matches were dismissed
        match.buyer_state = "dismissed"
    db.session.commit()

    with MailSession() as session:
        assert sending.deliver(buyer.id, period, session) == 0

    assert _digests_to(outbox, buyer.email) == []
    assert db.session.get(DigestDelivery, claimed[0].id).status == "skipped"


def test_a_need_with_nothing_relevant_in_the_pool_gets_no_match_and_no_digest(outbox):
    """The real matcher and rule: a coral-reef need among wastewater, solar and air offers."""
    from tests.integration.test_search import _drain, other_listings

    other_listings()
    SolutionFactory(published=True)  # the factory's MBR plant for municipal wastewater
    buyer = UserFactory(buyer=True, email="reef@trat.example", digest_frequency="immediate")
    reef = NeedFactory(organization=buyer.organization, published=True, country="VN",
                       title="Coral reef restoration in a marine park",
                       description="We want to restore 3 ha of bleached coral reef with "
                                   "coral gardening and reef structures.",
                       sectors=["BIO.CST"], capacity=3, capacity_unit="ha")
    _drain()

    assert db.session.scalar(select(Match).where(Match.need_id == reef.id,
                                                 Match.delivered)) is None
    sending.schedule("daily", TODAY)
    assert _digests_to(outbox, buyer.email) == []
