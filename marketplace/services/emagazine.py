"""The E-magazine: audiences, editions, automatic sections, and sending an issue.

Sending walks a per-recipient ledger (``IssueDelivery``, unique per issue and address) with
the bulk sending every mailing shares (``marketplace.services.bulk_send``: claims, chunks,
deferral, take-over) over the claim-before-send, transport, rate limit, retries and bounce
handling of ``marketplace.services.delivery``.  What is the E-magazine's own is
``IssueMailing``.  The steps:

``start`` plans the recipients and queues ``emagazine.send_batch`` jobs.  Each batch claims
its recipients in one transaction, then sends them one by one, checking every few messages
that the issue is still ``sending`` (pause) and the addresses still wanted (unsubscribe,
bounce).
``tick`` (every minute) starts due scheduled issues, takes over claims whose worker died,
re-plans recipients a killed batch never reached, and marks finished issues sent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, or_, select, true, update
from sqlalchemy.exc import IntegrityError

from marketplace import jobs
from marketplace.extensions import db
from marketplace.models import Issue, IssueDelivery, IssueEdition, Subscriber, User
from marketplace.models._time import utcnow
from marketplace.models.mail import EMAGAZINE_LIST, EVERY_LIST, MailSuppression
from marketplace.services import bulk_send, delivery, subscriptions
from marketplace.services.mail import (
    MailSession,
    build_message,
    external_url,
    render_parts,
)
from marketplace.templating import markdown_escape, markdown_link

FINISHED = ("sent", "failed", "bounced", "suppressed")
UNSUBSCRIBE_PLACEHOLDER = "https://unsubscribe.invalid/TOKEN"


# --- audiences -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Recipient:
    subscriber_id: int
    email: str
    language: str
    role: str  # subscriber, supplier or buyer
    countries: tuple[str, ...]
    sectors: tuple[str, ...]


def _in_segment(recipient: Recipient, audience: dict) -> bool:
    """Each list in the audience narrows it; an empty list (or a subscriber with no
    preference) means everyone.  Sectors match up and down the taxonomy tree."""
    languages, roles = audience.get("languages") or [], audience.get("roles") or []
    countries, sectors = audience.get("countries") or [], audience.get("sectors") or []
    if languages and recipient.language not in languages:
        return False
    if roles and recipient.role not in roles:
        return False
    if countries and recipient.countries and not set(countries) & set(recipient.countries):
        return False
    if sectors and recipient.sectors and not any(
            a.startswith(b) or b.startswith(a) for a in sectors for b in recipient.sectors):
        return False
    return True


def recipients(audience: dict, only_ids: list[int] | None = None) -> list[Recipient]:
    """Confirmed subscribers in the segment whose address may be mailed, by id (of
    ``only_ids``, if given: a sending batch)."""
    suppressed = exists().where(MailSuppression.email == Subscriber.email,
                                MailSuppression.list_name.in_((EMAGAZINE_LIST, EVERY_LIST)))
    rows = db.session.execute(
        select(Subscriber.id, Subscriber.email, Subscriber.language, Subscriber.countries,
               Subscriber.sectors, User.role)
        .outerjoin(User, User.id == Subscriber.user_id)
        .where(Subscriber.status == "confirmed", ~suppressed,
               Subscriber.id.in_(only_ids) if only_ids is not None else true())
        .order_by(Subscriber.id))
    found = [Recipient(sid, email, language or "en",
                       role if role in ("supplier", "buyer") else "subscriber",
                       tuple(countries or ()), tuple(sectors or ()))
             for sid, email, language, countries, sectors, role in rows]
    return [r for r in found if _in_segment(r, audience)]


def segment_count(audience: dict) -> int:
    return len(recipients(audience))


# --- rendering -------------------------------------------------------------------------------

def archive_url(issue: Issue, language: str) -> str:
    return external_url("emagazine.issue", slug=issue.slug, lang=language)


def _context(issue: Issue, edition: IssueEdition, unsubscribe_link: str) -> dict:
    return {"issue": issue, "edition": edition, "unsubscribe_link": unsubscribe_link,
            "browser_link": archive_url(issue, edition.language),
            "manage_link": external_url("emagazine.subscribe")}


def render_issue(issue: Issue, language: str, to: str, *, test: bool = False,
                 unsubscribe_link: str | None = None):
    """The e-mail for one reader: their edition (English if there is none in their
    language), List-Unsubscribe headers, and the view-in-browser link."""
    edition = issue.edition(language)
    link = unsubscribe_link or subscriptions.unsubscribe_url(to, EMAGAZINE_LIST)
    subject, text, html = render_parts("emagazine", edition.language,
                                       **_context(issue, edition, link))
    if test:
        subject = f"[TEST] {subject}"
    return build_message(subject, text, html, to,
                         subscriptions.unsubscribe_headers(to, EMAGAZINE_LIST, url=link))


class _EditionCache:
    """Renders each edition once per batch and personalises it by replacing a placeholder
    with the reader's unsubscribe link: rendering and CSS inlining are the costly part."""

    def __init__(self, issue: Issue) -> None:
        self.issue = issue
        self._parts: dict[str, tuple[str, str, str]] = {}

    def message_for(self, recipient: Recipient | IssueDelivery):
        """The message for a reader (anything with their ``email`` and ``language``)."""
        edition = self.issue.edition(recipient.language)
        parts = self._parts.get(edition.language)
        if parts is None:
            parts = render_parts("emagazine", edition.language,
                                 **_context(self.issue, edition, UNSUBSCRIBE_PLACEHOLDER))
            self._parts[edition.language] = parts
        link = subscriptions.unsubscribe_url(recipient.email, EMAGAZINE_LIST)
        subject, text, html = (part.replace(UNSUBSCRIBE_PLACEHOLDER, link) for part in parts)
        return build_message(subject, text, html, recipient.email,
                             subscriptions.unsubscribe_headers(recipient.email,
                                                               EMAGAZINE_LIST, url=link))


# --- the workflow ----------------------------------------------------------------------------

class WorkflowError(Exception):
    """A step that is not allowed in the issue's current state."""


def schedule(issue: Issue, when) -> None:
    if issue.status not in ("draft", "scheduled"):
        raise WorkflowError(_l("Only a draft can be scheduled."))
    _check_editions(issue)
    issue.status, issue.scheduled_at = "scheduled", when
    db.session.commit()


def unschedule(issue: Issue) -> None:
    if issue.status != "scheduled":
        raise WorkflowError(_l("This issue is not scheduled."))
    issue.status = "draft"
    db.session.commit()


def _check_editions(issue: Issue) -> None:
    languages = {edition.language for edition in issue.editions}
    if not {"en", "zh"} <= languages:
        raise WorkflowError(_l("An issue needs an English and a Chinese edition before sending."))


def start(issue: Issue) -> int:
    """Send now: plan the recipients and queue the batches.  Returns how many."""
    if issue.status not in ("draft", "scheduled"):
        raise WorkflowError(_l("This issue has already been sent or is being sent."))
    _check_editions(issue)
    issue.status, issue.started_at = "sending", utcnow()
    issue.recipient_count = segment_count(issue.audience or {})
    db.session.commit()
    return plan(issue.id)


def pause(issue: Issue) -> None:
    if issue.status != "sending":
        raise WorkflowError(_l("Only an issue that is sending can be paused."))
    issue.status = "paused"
    db.session.commit()


def resume(issue: Issue) -> int:
    if issue.status != "paused":
        raise WorkflowError(_l("Only a paused issue can be resumed."))
    issue.status = "sending"
    db.session.commit()
    return plan(issue.id)


def plan(issue_id: int) -> int:
    """Queue batches for the recipients with no delivery row yet (safe to repeat)."""
    issue = db.session.get(Issue, issue_id)
    done = set(db.session.scalars(select(IssueDelivery.subscriber_id)
                                  .where(IssueDelivery.issue_id == issue_id)))
    todo = [r.subscriber_id for r in recipients(issue.audience or {})
            if r.subscriber_id not in done]
    # Who the issue is for from now on: readers who left the audience since it was counted
    # (unsubscribed while it was paused) must not be waited for.  Committed before the
    # batches run, since they compare it with the ledger to tell when the issue is done.
    issue.recipient_count = len(done) + len(todo)
    db.session.commit()
    size = current_app.config["EMAGAZINE_BATCH_SIZE"]
    for start_at in range(0, len(todo), size):
        jobs.enqueue("emagazine.send_batch", issue_id, todo[start_at:start_at + size])
    if not todo:
        finish_if_done(issue)
    return len(todo)


class IssueMailing:
    """One issue, as ``bulk_send.BulkSend`` sends it: a reader is claimed with the address
    and language planned for them; the issue can be paused."""

    model = IssueDelivery
    list_name = EMAGAZINE_LIST
    retry_job = "emagazine.send_one"

    def __init__(self, issue: Issue, render=None) -> None:
        """``render``: a row's message; by default the edition rendered for that reader."""
        self.issue_id = issue.id  # kept: a commit may expire ``issue`` between two looks
        self._render = render or (lambda row: render_issue(issue, row.language, row.email))

    def claims(self, batch: Sequence[Recipient]) -> list[IssueDelivery]:
        return [_new_claim(self.issue_id, recipient) for recipient in batch]

    def render(self, row: IssueDelivery):
        return self._render(row)

    def still_sending(self) -> bool:
        return current_status(self.issue_id) == "sending"

    def address(self, row: IssueDelivery) -> str:
        return row.email

    def retry_args(self, row: IssueDelivery) -> tuple:
        return (row.id,)


def send_batch(issue_id: int, subscriber_ids: list[int]) -> int:
    """The ``emagazine.send_batch`` job: claim the batch's readers still in the audience,
    then send each the edition, rendered once per language for the batch."""
    with bulk_send.keeping_rows():  # the issue and its editions, too, are read all along
        issue = db.session.get(Issue, issue_id)
        if issue is None or issue.status != "sending":
            return 0
        batch = recipients(issue.audience or {}, only_ids=subscriber_ids)
        _skip(issue_id, set(subscriber_ids) - {r.subscriber_id for r in batch})
        cache = _EditionCache(issue)
        bulk = bulk_send.BulkSend(IssueMailing(issue, render=cache.message_for))
        sent = bulk.send(list(claim(issue, batch).values()))
        db.session.expire_all()  # the issue as it is now, not as the batch found it
        finish_if_done(db.session.get(Issue, issue_id))
        return sent


def send_one(delivery_id: int) -> int:
    """The ``emagazine.send_one`` job: a retry, or a claim taken over from a dead worker."""
    row = db.session.get(IssueDelivery, delivery_id)
    if row is None:
        return 0
    issue = db.session.get(Issue, row.issue_id)
    with MailSession() as session:
        sent = bulk_send.BulkSend(IssueMailing(issue)).take_over(row, session)
    finish_if_done(issue)
    return sent


def claim(issue: Issue, batch: list[Recipient]) -> dict[int, IssueDelivery]:
    """Claim the issue for each recipient in ``batch``, committed before anything is sent;
    recipients someone else has already claimed are left out.  By subscriber id."""
    if not batch:
        return {}
    existing = set(db.session.scalars(select(IssueDelivery.subscriber_id).where(
        IssueDelivery.issue_id == issue.id,
        IssueDelivery.subscriber_id.in_([r.subscriber_id for r in batch]))))
    fresh = [r for r in batch if r.subscriber_id not in existing]
    rows = bulk_send.BulkSend(IssueMailing(issue)).claim(fresh)
    return {row.subscriber_id: row for row in rows}


def _new_claim(issue_id: int, recipient: Recipient) -> IssueDelivery:
    return IssueDelivery(issue_id=issue_id, subscriber_id=recipient.subscriber_id,
                         email=recipient.email, language=recipient.language,
                         status="claimed", attempts=1)


def _skip(issue_id: int, subscriber_ids: set[int]) -> None:
    """Planned recipients who left the audience before their batch ran (unsubscribed,
    bounced) are recorded as skipped, so the issue does not wait for them forever."""
    if not subscriber_ids:
        return
    existing = set(db.session.scalars(select(IssueDelivery.subscriber_id).where(
        IssueDelivery.issue_id == issue_id, IssueDelivery.subscriber_id.in_(subscriber_ids))))
    for sid, email, language in db.session.execute(
            select(Subscriber.id, Subscriber.email, Subscriber.language)
            .where(Subscriber.id.in_(subscriber_ids - existing))).all():
        try:
            with db.session.begin_nested():
                db.session.add(IssueDelivery(issue_id=issue_id, subscriber_id=sid, email=email,
                                             language=language or "en", status="suppressed"))
        except IntegrityError:
            pass  # a concurrent batch recorded it first
    db.session.commit()


def current_status(issue_id: int) -> str:
    """The issue's status in the database, whatever this session holds."""
    return db.session.scalar(select(Issue.status).where(Issue.id == issue_id))


def finish_if_done(issue: Issue | None) -> bool:
    """Mark the issue sent once every planned recipient has a finished delivery."""
    if issue is None or issue.status != "sending":
        return False
    counts = progress(issue)
    if counts["remaining"] or counts["in_flight"]:
        return False
    done = db.session.execute(update(Issue).where(Issue.id == issue.id,
                                                  Issue.status == "sending")
                              .values(status="sent", sent_at=utcnow())).rowcount
    db.session.commit()
    return bool(done)


def progress(issue: Issue) -> dict[str, int]:
    """What the staff page's progress bar shows."""
    by_status = Counter(dict(db.session.execute(
        select(IssueDelivery.status, func.count()).where(IssueDelivery.issue_id == issue.id)
        .group_by(IssueDelivery.status)).all()))
    finished = sum(by_status[s] for s in FINISHED)
    in_flight = sum(by_status[s] for s in delivery.UNFINISHED)
    total = max(issue.recipient_count, finished + in_flight)
    return {"total": total, "sent": by_status["sent"],
            "failed": by_status["failed"] + by_status["bounced"],
            "skipped": by_status["suppressed"], "in_flight": in_flight,
            "remaining": total - finished - in_flight, "status": issue.status}


# --- the periodic job --------------------------------------------------------------------------

def tick() -> None:
    """The ``emagazine.tick`` job, every minute: start due issues, recover dead workers.
    One at a time (a lock shared in Redis), so two schedulers cannot start an issue twice."""
    with bulk_send.scheduler_lock("emagazine.tick") as mine:
        if mine:
            _tick()


def _tick() -> None:
    now = utcnow()
    grace = timedelta(seconds=current_app.config["EMAGAZINE_SCHEDULE_GRACE"])
    for issue in db.session.scalars(select(Issue).where(Issue.status == "scheduled",
                                                        Issue.scheduled_at <= now)):
        if issue.scheduled_at >= now - grace:
            start(issue)
        # else: long past its time (after downtime): staff must confirm; see is_overdue
    for issue in db.session.scalars(select(Issue).where(Issue.status == "sending")):
        _recover(issue)


def is_overdue(issue: Issue) -> bool:
    grace = timedelta(seconds=current_app.config["EMAGAZINE_SCHEDULE_GRACE"])
    return (issue.status == "scheduled" and issue.scheduled_at is not None
            and issue.scheduled_at < utcnow() - grace)


def _recover(issue: Issue) -> None:
    """Claims whose worker died are taken over; recipients a killed batch never reached are
    planned again - but only once nothing has moved for the claim timeout, so batches that
    are merely queued are not planned twice."""
    bulk_send.BulkSend(IssueMailing(issue)).requeue_stale(IssueDelivery.issue_id == issue.id)
    last_activity = db.session.scalar(select(func.max(IssueDelivery.claimed_at))
                                      .where(IssueDelivery.issue_id == issue.id))
    quiet_since = last_activity or issue.started_at
    if quiet_since is None or quiet_since < delivery.stale_before():
        plan(issue.id)
    finish_if_done(issue)


# --- test sends ----------------------------------------------------------------------------

def test_send(issue: Issue, addresses: list[str], language: str) -> int:
    """Send the edition to ``addresses`` with [TEST] in the subject; no ledger rows."""
    with MailSession() as session:
        for address in addresses:
            session.send(render_issue(issue, language, address, test=True))
    return len(addresses)


def edition_or_none(issue: Issue, language: str) -> IssueEdition | None:
    return next((e for e in issue.editions if e.language == language), None)


def preview_html(issue: Issue, language: str) -> str:
    """The HTML part exactly as a reader in ``language`` gets it (with a sample link)."""
    message = render_issue(issue, language, "reader@example.org",
                           unsubscribe_link=UNSUBSCRIBE_PLACEHOLDER)
    return message.get_body(preferencelist=("html",)).get_content()


# --- automatic sections --------------------------------------------------------------------

RECENT = timedelta(days=30)
UPCOMING = timedelta(days=120)
SECTION_LIMIT = 10


def fill_section(section) -> None:
    """Write the marketplace's current content into an automatic section, as Markdown that
    staff then review and edit.  Hand-written kinds are left alone."""
    from flask_babel import force_locale

    filler = _FILLERS.get(section.kind)
    if filler is None:
        return
    with force_locale(section.edition.language):
        section.body = filler() or _nothing_yet()


def _nothing_yet() -> str:
    from flask_babel import gettext as _

    return _("Nothing new this time.")


def _listing_line(listing) -> str:
    url = external_url("public.detail", plural=listing.kind + "s", listing_id=listing.id)
    return f"- {markdown_link(listing.title, url)} — {markdown_escape(listing.organization.name)}"


def _new_solutions() -> str:
    from marketplace.models import Solution
    from marketplace.services.listings import live_filter
    from marketplace.templating import sector_name

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
    from marketplace.models import Need
    from marketplace.services.listings import live_filter

    needs = db.session.scalars(select(Need).where(live_filter(Need))
                               .order_by(Need.published_at.desc()).limit(SECTION_LIMIT))
    return "\n".join(_listing_line(need) for need in needs)


def _notable_matches() -> str:
    """Delivered matches either side marked interesting, best first: introductions in the
    making.  Never one below the delivery bar, whatever its verdict."""
    from flask_babel import gettext as _

    from marketplace.models import Match

    matches = db.session.scalars(
        select(Match).where(Match.delivered, (Match.buyer_state == "interesting")
                            | (Match.supplier_state == "interesting"))
        .order_by(Match.evidence.desc(), Match.score.desc()).limit(SECTION_LIMIT))
    lines = []
    for match in matches:
        if match.need.is_live and match.solution.is_live:
            lines.append(_("- %(solution)s for %(need)s",
                           solution=_listing_line(match.solution)[2:],
                           need=_listing_line(match.need)[2:]))
    return "\n".join(lines)


def _upcoming_events() -> str:
    from marketplace.constants import BASES
    from marketplace.models import Event

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
