"""What a digest carries: the new ledger matches and saved-search hits a user has not heard
about yet (never one that side dismissed, never one an earlier digest carried), the entries
as the e-mail shows them, and the rendered e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload, lazyload

from marketplace.discovery.explanations import explain
from marketplace.discovery.search_page import search
from marketplace.extensions import db
from marketplace.listings import browse
from marketplace.listings.lifecycle import live_filter
from marketplace.mailing import suppressions
from marketplace.mailing.transport import external_url, render_email
from marketplace.models import (
    DigestItem,
    Match,
    Need,
    SavedSearch,
    Solution,
    User,
)
from marketplace.models.mail import DIGEST_LIST
from marketplace.models.states import MatchState

MAX_MATCHES = 20  # per digest; the rest wait for the next one
MAX_MATCHES_PER_LISTING = 5  # a digest is read, not scrolled: the best few per listing
MAX_HITS_PER_SEARCH = 5


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
        .where(own_cls.organization_id.in_(org_ids), own_state != MatchState.DISMISSED,
               Match.delivered, live_filter(own_cls), live_filter(other_cls)))
    by_org: dict[int, list[tuple[int, float, int]]] = {}
    for org_id, listing_id, evidence, match_id in rows:
        by_org.setdefault(org_id, []).append((listing_id, evidence or 0.0, match_id))
    return by_org


def _saved_search_hits(user: User, seen: set[str]) -> list[NewItem]:
    """Listings published after the search was saved that it now finds."""

    items = []
    for saved in db.session.scalars(select(SavedSearch).where(SavedSearch.user_id == user.id)):
        args = browse.BrowseFilters(q=saved.query, **saved.filters)
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
    return (match.delivered and state != MatchState.DISMISSED and match.need.is_live
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
    return render_entries(user, *digest_entries(user, items))


def render_entries(user: User, matches: list[MatchEntry], hits: list[HitEntry]):
    """The digest e-mail for entries already chosen (see ``digest_entries``)."""
    return render_email(
        "digest", user.email, user.language or "en",
        headers=suppressions.unsubscribe_headers(user.email, DIGEST_LIST),
        user=user, matches=matches, hits=hits, explain=explain,
        unsubscribe_link=suppressions.unsubscribe_url(user.email, DIGEST_LIST),
        preferences_link=external_url("notifications.preferences"))


def preview(user: User):
    """The digest ``user`` would get now, rendered without claiming or sending anything."""
    items = [DigestItem(user_id=user.id, rank=rank, **item.columns())
             for rank, item in enumerate(collect_items(user))]
    if not items:
        return None
    return render_digest(user, items)
