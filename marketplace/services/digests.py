"""Match digests: what each user has not heard about yet, sent at most once per period.

The flow for one user and one period (``daily:2026-11-30``):

1. *Collect* the new items: ledger matches for the user's organisation's listings (never
   one that side dismissed) and saved-search hits, minus everything an earlier digest carried.
   Nothing new means no e-mail.
2. *Claim* a ``DigestDelivery`` row, unique per (user, period), with its ``DigestItem`` rows,
   unique per (user, item), and commit - before anything is submitted.  A second scheduler
   run or a concurrent worker fails the claim and stops.
3. *Send* and record, with the claim-before-send shared by every bulk sender
   (``marketplace.services.delivery``): transient failures are retried, a 5xx marks the
   address bounced, and a claim whose worker died is taken over by the next ``schedule`` run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, lazyload

from marketplace import coordination, jobs
from marketplace.extensions import db
from marketplace.models import (
    DigestDelivery,
    DigestItem,
    Match,
    Need,
    SavedSearch,
    Solution,
    User,
)
from marketplace.models._time import utcnow
from marketplace.models.mail import DIGEST_LIST, EVERY_LIST, MailSuppression
from marketplace.services import delivery, subscriptions
from marketplace.services.listings import live_filter
from marketplace.services.mail import (
    MailSession,
    TransientMailError,
    external_url,
    render_email,
)

log = logging.getLogger(__name__)

FREQUENCIES = ("immediate", "daily", "weekly")
MAX_MATCHES = 20  # per digest; the rest wait for the next one
MAX_HITS_PER_SEARCH = 5


def period_for(frequency: str, now: datetime) -> str:
    """The period a digest belongs to: one e-mail per user per period."""
    if frequency == "immediate":
        return f"immediate:{now:%Y-%m-%dT%H:%M}"
    if frequency == "daily":
        return f"daily:{now:%Y-%m-%d}"
    if frequency == "weekly":
        year, week, _ = now.isocalendar()
        return f"weekly:{year}-W{week:02d}"
    raise ValueError(f"unknown digest frequency {frequency!r}")


# --- scheduling ------------------------------------------------------------------------------

def schedule(frequency: str, now: datetime | None = None) -> int:
    """The ``digests.schedule`` job: queue this period's digests in batches.

    One scheduler at a time (a lock shared in Redis); firing twice for one period is harmless
    because claims are unique.  Returns how many users were queued.
    """
    with coordination.exclusive(f"digests.schedule:{frequency}", ttl_seconds=300) as mine:
        if not mine:
            log.info("digests.schedule(%s) is already running elsewhere", frequency)
            return 0
        period = period_for(frequency, now or utcnow())
        _requeue_stale_claims(period)
        user_ids = due_user_ids(frequency, period)
        size = current_app.config["DIGEST_BATCH_SIZE"]
        for start in range(0, len(user_ids), size):
            jobs.enqueue("digests.send_batch", period, user_ids[start:start + size])
        return len(user_ids)


def due_user_ids(frequency: str, period: str) -> list[int]:
    """Users on ``frequency`` with no digest for ``period`` yet and mail not suppressed."""
    already = exists().where(DigestDelivery.user_id == User.id, DigestDelivery.period == period)
    suppressed = exists().where(MailSuppression.email == User.email,
                                MailSuppression.list_name.in_((DIGEST_LIST, EVERY_LIST)))
    return list(db.session.scalars(
        select(User.id).where(User.digest_frequency == frequency, User.is_active_account,
                              User.email_verified_at.is_not(None), ~already, ~suppressed)
        .order_by(User.id)))


def _requeue_stale_claims(period: str) -> None:
    """Claims whose worker died mid-send, and retries that were lost: send them again
    (``send_one`` takes each over only if it is still free)."""
    stale = db.session.scalars(select(DigestDelivery.user_id).where(
        DigestDelivery.period == period, delivery.free_condition(DigestDelivery)))
    for user_id in stale:
        jobs.enqueue("digests.send_one", period, user_id)


# --- sending ---------------------------------------------------------------------------------

def send_batch(period: str, user_ids: list[int]) -> int:
    """The ``digests.send_batch`` job: one SMTP connection for many users.  A transient
    failure for one user becomes a retried ``send_one`` job; the batch goes on."""
    sent = 0
    with MailSession() as session:
        for user_id in user_ids:
            try:
                sent += deliver(user_id, period, session)
            except TransientMailError as error:
                log.warning("digest for user %s deferred: %s", user_id, error)
                jobs.enqueue("digests.send_one", period, user_id,
                             countdown=jobs.retry_delay(0))
    return sent


def send_one(period: str, user_id: int) -> int:
    """The ``digests.send_one`` job (retried with backoff on transient failures)."""
    with MailSession() as session:
        return deliver(user_id, period, session)


def deliver(user_id: int, period: str, session: MailSession) -> int:
    """Claim, send and record one user's digest.  Returns 1 if an e-mail went out."""
    row = _claimed_delivery(user_id, period)
    if row is None:
        return 0
    user = row.user
    return delivery.send_claimed(row, email=user.email, list_name=DIGEST_LIST,
                                 render=lambda: render_digest(user, _items_of(row)),
                                 session=session)


def _claimed_delivery(user_id: int, period: str) -> DigestDelivery | None:
    """The delivery this worker now owns, or None if there is nothing (more) to send."""
    row = db.session.scalar(select(DigestDelivery).where(
        DigestDelivery.user_id == user_id, DigestDelivery.period == period))
    if row is None:
        return _claim(user_id, period)
    return row if delivery.take_over(row) else None


def _claim(user_id: int, period: str) -> DigestDelivery | None:
    user = db.session.get(User, user_id)
    if user is None or not wants_digest(user):
        return None
    items = collect_items(user)
    if not items:
        return None  # nothing new: no e-mail
    delivery = DigestDelivery(user_id=user_id, period=period, status="claimed", attempts=1)
    delivery.items = [DigestItem(user_id=user_id, rank=rank, **item.columns())
                      for rank, item in enumerate(items)]
    db.session.add(delivery)
    try:
        db.session.commit()
    except IntegrityError:  # another run claimed this period, or one of these items
        db.session.rollback()
        return None
    return delivery


def wants_digest(user: User) -> bool:
    return (user.digest_frequency in FREQUENCIES and user.is_active_account
            and user.email_verified_at is not None)


# --- content ---------------------------------------------------------------------------------

@dataclass
class NewItem:
    """Something to tell a user about, before it is claimed."""

    key: str
    match_id: int | None = None
    saved_search_id: int | None = None
    listing_kind: str | None = None
    listing_id: int | None = None

    def columns(self) -> dict:
        return {"item_key": self.key, "match_id": self.match_id,
                "saved_search_id": self.saved_search_id, "listing_kind": self.listing_kind,
                "listing_id": self.listing_id}


def collect_items(user: User) -> list[NewItem]:
    """Everything new for ``user``, best first: matches, then saved-search hits."""
    seen = set(db.session.scalars(select(DigestItem.item_key)
                                  .where(DigestItem.user_id == user.id)))
    items = [NewItem(key=f"match:{match_id}", match_id=match_id)
             for match_id in _new_match_ids(user) if f"match:{match_id}" not in seen]
    items = items[:MAX_MATCHES]
    if user.digest_saved_searches:
        items += _saved_search_hits(user, seen)
    return items


def _new_match_ids(user: User) -> list[int]:
    if user.organization_id is None:
        return []
    ids: list[tuple[float, int]] = []
    if user.digest_need_matches:
        ids += _matches_on_side(user.organization_id, Need, Match.need_id, Match.buyer_state)
    if user.digest_solution_matches:
        ids += _matches_on_side(user.organization_id, Solution, Match.solution_id,
                                Match.supplier_state)
    return [match_id for _, match_id in sorted(ids, reverse=True)]


def _matches_on_side(org_id: int, own_cls, own_column, own_state) -> list[tuple[float, int]]:
    """Matches on ``org_id``'s live listings of one kind, both sides live, not dismissed."""
    other_cls = Solution if own_cls is Need else Need
    other_column = Match.solution_id if own_cls is Need else Match.need_id
    rows = db.session.execute(
        select(Match.score, Match.id)
        .join(own_cls, own_cls.id == own_column)
        .join(other_cls, other_cls.id == other_column)
        .where(own_cls.organization_id == org_id, own_state != "dismissed",
               live_filter(own_cls), live_filter(other_cls))
        .order_by(Match.score.desc()).limit(MAX_MATCHES * 5))
    return [(score, match_id) for score, match_id in rows]


def _saved_search_hits(user: User, seen: set[str]) -> list[NewItem]:
    """Listings published after the search was saved that it now finds."""
    from marketplace.services import browse
    from marketplace.services.search import search

    items = []
    for saved in db.session.scalars(select(SavedSearch).where(SavedSearch.user_id == user.id)):
        args = browse.Filters(q=saved.query, **saved.filters)
        page = search(saved.kind, args, sort="relevance" if saved.query else "newest")
        fresh = [listing for listing in page.listings
                 if listing.published_at and listing.published_at > saved.created_at
                 and listing.organization_id != user.organization_id]
        for listing in fresh[:MAX_HITS_PER_SEARCH]:
            key = f"saved:{saved.id}:{saved.kind}:{listing.id}"
            if key not in seen:
                items.append(NewItem(key=key, saved_search_id=saved.id,
                                     listing_kind=saved.kind, listing_id=listing.id))
    return items


def _items_of(delivery: DigestDelivery) -> list[DigestItem]:
    return list(delivery.items)


# --- rendering -------------------------------------------------------------------------------

@dataclass
class MatchEntry:
    """A ledger match as the reader sees it: their listing and the one found for it."""

    own: Solution | Need
    other: Solution | Need
    score: float
    reasons: list[dict]
    link: str


@dataclass
class HitEntry:
    search: SavedSearch
    listing: Solution | Need
    link: str


def digest_entries(user: User, items: list[DigestItem]) -> tuple[list[MatchEntry],
                                                                  list[HitEntry]]:
    matches, hits = [], []
    loaded = _matches_with_listings([item.match_id for item in items
                                     if item.match_id is not None])
    for item in items:
        if item.match_id is not None:
            match = loaded.get(item.match_id)
            if match is None:
                continue
            own_is_need = match.need.organization_id == user.organization_id
            own, other = (match.need, match.solution) if own_is_need else (match.solution,
                                                                             match.need)
            matches.append(MatchEntry(own=own, other=other, score=match.score,
                                      reasons=match.reasons, link=_listing_url(other)))
        elif item.saved_search_id is not None:
            saved = db.session.get(SavedSearch, item.saved_search_id)
            cls = Solution if item.listing_kind == "solution" else Need
            listing = db.session.get(cls, item.listing_id)
            if saved is not None and listing is not None:
                hits.append(HitEntry(search=saved, listing=listing,
                                     link=_listing_url(listing)))
    return matches, hits


def _matches_with_listings(match_ids: list[int]) -> dict[int, Match]:
    """The matches with both listings and their organisations, in one query (one lazy load
    each would be five or six statements per match); the listings' sectors and countries,
    which a digest does not show, are left to load only if something reads them."""
    if not match_ids:
        return {}
    rows = db.session.scalars(select(Match).where(Match.id.in_(match_ids)).options(
        joinedload(Match.need).options(joinedload(Need.organization),
                                       lazyload(Need.sector_links)),
        joinedload(Match.solution).options(joinedload(Solution.organization),
                                           lazyload(Solution.sector_links),
                                           lazyload(Solution.country_links))))
    return {match.id: match for match in rows}


def _listing_url(listing) -> str:
    return external_url("public.detail", plural=listing.kind + "s", listing_id=listing.id)


def render_digest(user: User, items: list[DigestItem]):
    """The digest e-mail, in the user's language, with one-click unsubscribe headers."""
    from marketplace.services.explanations import explain

    matches, hits = digest_entries(user, items)
    return render_email(
        "digest", user.email, user.language or "en",
        headers=subscriptions.unsubscribe_headers(user.email, DIGEST_LIST),
        user=user, matches=matches, hits=hits, explain=explain,
        unsubscribe_link=subscriptions.unsubscribe_url(user.email, DIGEST_LIST),
        preferences_link=external_url("notifications.preferences"))


def preview(user: User):
    """The digest ``user`` would get now, rendered without claiming or sending anything."""
    items = [DigestItem(user_id=user.id, rank=rank, **item.columns())
             for rank, item in enumerate(collect_items(user))]
    if not items:
        return None
    return render_digest(user, items)


def send_now(user: User | None = None) -> int:
    """``flask digests send --now``: every due digest (or one user's), in this process."""
    now = utcnow()
    users = [user] if user else db.session.scalars(
        select(User).where(User.digest_frequency.in_(FREQUENCIES)).order_by(User.id)).all()
    sent = 0
    with MailSession() as session:
        for each in users:
            sent += deliver(each.id, period_for(each.digest_frequency, now), session)
    return sent
