"""Match digests: what each user has not heard about yet, sent at most once per period.

The flow for one user and one period (``daily:2026-11-30``):

1. *Collect* the new items: ledger matches for the user's organisation's listings (never
   one that side dismissed) and saved-search hits, minus everything an earlier digest carried.
   Nothing new means no e-mail.
2. *Claim* a ``DigestDelivery`` row, unique per (user, period), with its ``DigestItem`` rows,
   unique per (user, item), and commit - before anything is submitted.  A second scheduler
   run or a concurrent worker fails the claim and stops.
3. *Send* and record, as every mailing does (``marketplace.services.bulk_send``, over the
   claim-before-send of ``marketplace.services.delivery``): transient failures are retried,
   a 5xx marks the address bounced, and a claim whose worker died is taken over by the next
   ``schedule`` run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import exists, select
from sqlalchemy.orm import joinedload, lazyload

from marketplace import jobs
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
from marketplace.services import bulk_send, subscriptions
from marketplace.services.listings import live_filter
from marketplace.services.mail import MailSession, external_url, render_email

FREQUENCIES = ("immediate", "daily", "weekly")
MAX_MATCHES = 20  # per digest; the rest wait for the next one
MAX_MATCHES_PER_LISTING = 5  # a digest is read, not scrolled: the best few per listing
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
    with bulk_send.scheduler_lock(f"digests.schedule:{frequency}") as mine:
        if not mine:
            return 0
        period = period_for(frequency, now or utcnow())
        # Claims whose worker died mid-send, and retries that were lost: send them again.
        _bulk(period).requeue_stale(DigestDelivery.period == period)
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


# --- sending ---------------------------------------------------------------------------------

class DigestMailing:
    """One period's digests, as ``bulk_send.BulkSend`` sends them: a user is claimed with the
    new items the digest carries; a digest whose items were all dismissed or withdrawn since
    is skipped."""

    model = DigestDelivery
    list_name = DIGEST_LIST
    retry_job = "digests.send_one"

    def __init__(self, period: str) -> None:
        self.period = period

    def claims(self, users: Sequence[User]) -> list[DigestDelivery]:
        return [_new_claim(user, self.period, items)
                for user, items in collect_items_for(list(users)).items() if items]

    def render(self, row: DigestDelivery):
        matches, hits = digest_entries(row.user, _items_of(row))
        return _render(row.user, matches, hits) if matches or hits else None

    def still_sending(self) -> bool:
        return True  # a period's digests are never paused

    def address(self, row: DigestDelivery) -> str:
        return row.user.email

    def retry_args(self, row: DigestDelivery) -> tuple:
        return (self.period, row.user_id)


def _bulk(period: str) -> bulk_send.BulkSend:
    return bulk_send.BulkSend(DigestMailing(period))


def send_batch(period: str, user_ids: list[int]) -> int:
    """The ``digests.send_batch`` job: one SMTP connection for many users, whose new items
    are collected and claimed together (a few queries and one commit for the batch, still
    before anything is sent).  A transient failure for one user becomes a retried
    ``send_one`` job; the batch goes on."""
    bulk = _bulk(period)
    with bulk_send.keeping_rows():
        claimed, others = _claim_batch(period, user_ids)
        # Already claimed once: retries, take-overs, races (each sent only if still free).
        taken = db.session.scalars(select(DigestDelivery).where(
            DigestDelivery.period == period, DigestDelivery.user_id.in_(others))
            .order_by(DigestDelivery.user_id)).all()
        return bulk.send(claimed, take_over=taken)


def send_one(period: str, user_id: int) -> int:
    """The ``digests.send_one`` job (retried with backoff on transient failures)."""
    with MailSession() as session:
        return deliver(user_id, period, session)


def deliver(user_id: int, period: str, session: MailSession) -> int:
    """Claim, send and record one user's digest.  Returns 1 if an e-mail went out."""
    bulk = _bulk(period)
    row = db.session.scalar(select(DigestDelivery).where(
        DigestDelivery.user_id == user_id, DigestDelivery.period == period))
    if row is not None:
        return bulk.take_over(row, session)
    claimed, _ = _claim_batch(period, [user_id])
    return bulk.deliver(claimed[0], session) if claimed else 0


def _claim_batch(period: str, user_ids: list[int]) -> tuple[list[DigestDelivery], list[int]]:
    """Claim this period's digest for every user in ``user_ids`` who has something new.

    Returns the new claims, and the users who already had a delivery row for the period
    (those are taken over, and sent only if free).
    """
    existing = set(db.session.scalars(select(DigestDelivery.user_id).where(
        DigestDelivery.period == period, DigestDelivery.user_id.in_(user_ids))))
    users = [user for user in db.session.scalars(
        select(User).where(User.id.in_([u for u in user_ids if u not in existing])))
        if wants_digest(user)]
    return _bulk(period).claim(users), sorted(existing)


def _new_claim(user: User, period: str, items: list[NewItem]) -> DigestDelivery:
    return DigestDelivery(user_id=user.id, user=user, period=period, status="claimed",
                          attempts=1,
                          items=[DigestItem(user_id=user.id, rank=rank, **item.columns())
                                 for rank, item in enumerate(items)])


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
    return collect_items_for([user])[user]


def collect_items_for(users: list[User]) -> dict[User, list[NewItem]]:
    """``collect_items`` for many users at once, in a handful of queries."""
    ids = [user.id for user in users]
    seen: dict[int, set[str]] = {user_id: set() for user_id in ids}
    for user_id, key in db.session.execute(select(DigestItem.user_id, DigestItem.item_key)
                                           .where(DigestItem.user_id.in_(ids))):
        seen[user_id].add(key)
    need_side = _matches_by_org([u.organization_id for u in users if u.digest_need_matches],
                                Need, Match.need_id, Match.buyer_state)
    solution_side = _matches_by_org(
        [u.organization_id for u in users if u.digest_solution_matches],
        Solution, Match.solution_id, Match.supplier_state)
    with_searches = set(db.session.scalars(select(SavedSearch.user_id).where(
        SavedSearch.user_id.in_(ids)))) if ids else set()
    found = {}
    for user in users:
        candidates = ((need_side.get(user.organization_id, []) if user.digest_need_matches
                       else [])
                      + (solution_side.get(user.organization_id, [])
                         if user.digest_solution_matches else []))
        items = [NewItem(key=f"match:{match_id}", match_id=match_id)
                 for match_id in _best_per_listing(candidates, seen[user.id])]
        if user.digest_saved_searches and user.id in with_searches:
            items += _saved_search_hits(user, seen[user.id])
        found[user] = items
    return found


def _best_per_listing(candidates: list[tuple[int, float, int]], seen: set[str]) -> list[int]:
    """Match ids for one digest: at most MAX_MATCHES_PER_LISTING new ones per listing, best
    first, grouped by listing (the listing with the best match first); MAX_MATCHES in all."""
    by_listing: dict[int, list[tuple[float, int]]] = {}
    for listing_id, evidence, match_id in candidates:
        if f"match:{match_id}" not in seen:
            by_listing.setdefault(listing_id, []).append((evidence, match_id))
    groups = [sorted(group, reverse=True)[:MAX_MATCHES_PER_LISTING]
              for group in by_listing.values()]
    groups.sort(key=lambda group: group[0], reverse=True)
    return [match_id for group in groups for _, match_id in group][:MAX_MATCHES]


def _matches_by_org(org_ids: list[int | None], own_cls, own_column, own_state
                    ) -> dict[int, list[tuple[int, float, int]]]:
    """(own listing id, evidence, match id) of the delivered matches on each organisation's
    live listings of one kind, both sides live, not dismissed by that side."""
    org_ids = [org_id for org_id in set(org_ids) if org_id is not None]
    if not org_ids:
        return {}
    other_cls = Solution if own_cls is Need else Need
    other_column = Match.solution_id if own_cls is Need else Match.need_id
    rows = db.session.execute(
        select(own_cls.organization_id, own_cls.id, Match.evidence, Match.id)
        .join(own_cls, own_cls.id == own_column)
        .join(other_cls, other_cls.id == other_column)
        .where(own_cls.organization_id.in_(org_ids), own_state != "dismissed",
               Match.delivered, live_filter(own_cls), live_filter(other_cls)))
    by_org: dict[int, list[tuple[int, float, int]]] = {}
    for org_id, listing_id, evidence, match_id in rows:
        by_org.setdefault(org_id, []).append((listing_id, evidence or 0.0, match_id))
    return by_org


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
            if not _still_worth_sending(match, own_is_need):
                continue
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


def _still_worth_sending(match: Match, own_is_need: bool) -> bool:
    """A match claimed for a digest may since have been dismissed, fallen below the bar, or
    lost a listing (withdrawn, expired): then it is left out."""
    state = match.buyer_state if own_is_need else match.supplier_state
    return (match.delivered and state != "dismissed" and match.need.is_live
            and match.solution.is_live)


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
    return _render(user, *digest_entries(user, items))


def _render(user: User, matches: list[MatchEntry], hits: list[HitEntry]):
    from marketplace.services.explanations import explain

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
