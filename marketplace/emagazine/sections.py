"""Automatic sections: the marketplace's current content (new solutions, open needs, notable
matches, upcoming events) written into an issue as Markdown that staff can still edit.
"""

from __future__ import annotations

from datetime import timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select

from marketplace.constants import BASES
from marketplace.extensions import db
from marketplace.listings.lifecycle import live_filter
from marketplace.mailing.transport import external_url
from marketplace.models import Event, Match, Need, Solution
from marketplace.models._time import utcnow
from marketplace.models.states import MatchState
from marketplace.templating import markdown_escape, markdown_link, sector_name

# --- automatic sections --------------------------------------------------------------------

RECENT = timedelta(days=30)
UPCOMING = timedelta(days=120)
SECTION_LIMIT = 10


def fill_section(section) -> None:
    """Write the marketplace's current content into an automatic section, as Markdown that
    staff then review and edit.  Hand-written kinds are left alone."""
    filler = _FILLERS.get(section.kind)
    if filler is None:
        return
    with force_locale(section.edition.language):
        section.body = filler() or _nothing_yet()


def _nothing_yet() -> str:
    return _("Nothing new this time.")


def _listing_line(listing) -> str:
    url = external_url("public.detail", plural=listing.kind + "s", listing_id=listing.id)
    return f"- {markdown_link(listing.title, url)} — {markdown_escape(listing.organization.name)}"


def _new_solutions() -> str:
    solutions = db.session.scalars(
        select(Solution).where(live_filter(Solution), Solution.published_at >= utcnow() - RECENT)
        .order_by(Solution.published_at.desc()).limit(SECTION_LIMIT * 3)).all()
    groups: dict[str, list] = {}
    for solution in solutions:
        top = (solution.sectors[0].split(".")[0]) if solution.sectors else ""
        groups.setdefault(top, []).append(solution)
    blocks = [f"**{markdown_escape(sector_name(top)) if top else '—'}**\n\n"
              + "\n".join(_listing_line(s) for s in items[:SECTION_LIMIT])
              for top, items in sorted(groups.items())]
    return "\n\n".join(blocks)


def _open_needs() -> str:
    needs = db.session.scalars(select(Need).where(live_filter(Need))
                               .order_by(Need.published_at.desc()).limit(SECTION_LIMIT))
    return "\n".join(_listing_line(need) for need in needs)


def _notable_matches() -> str:
    """Delivered matches either side marked interesting, best first: introductions in the
    making.  Never one below the delivery bar, whatever its verdict."""
    matches = db.session.scalars(
        select(Match).where(Match.delivered, (Match.buyer_state == MatchState.INTERESTING)
                            | (Match.supplier_state == MatchState.INTERESTING))
        .order_by(Match.evidence.desc(), Match.score.desc()).limit(SECTION_LIMIT))
    lines = []
    for match in matches:
        if match.need.is_live and match.solution.is_live:
            lines.append(_("- %(solution)s for %(need)s",
                           solution=_listing_line(match.solution)[2:],
                           need=_listing_line(match.need)[2:]))
    return "\n".join(lines)


def _upcoming_events() -> str:
    today = utcnow().date()
    events = db.session.scalars(
        # Started but not over (a three-day fair) still counts as upcoming.
        select(Event).where(or_(Event.starts_on >= today, Event.ends_on >= today),
                            Event.starts_on <= today + UPCOMING)
        .order_by(Event.starts_on).limit(SECTION_LIMIT))
    lines = []
    for event in events:
        title = markdown_link(event.title, event.url)
        where = ", ".join(filter(None, [str(BASES.get(event.base, event.base)), event.location]))
        lines.append(f"- **{event.starts_on:%Y-%m-%d}** {title} — {markdown_escape(where)}")
    return "\n".join(lines)


_FILLERS = {"new_solutions": _new_solutions, "open_needs": _open_needs,
            "matches": _notable_matches, "events": _upcoming_events}
