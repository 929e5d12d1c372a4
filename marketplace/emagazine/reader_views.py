"""The E-magazine for readers: subscribing with double opt-in, the archive of sent issues
and its Atom feed.  Staff compose and send issues in ``emagazine_staff``."""

from __future__ import annotations

import html
from datetime import datetime
from xml.etree import ElementTree as ET

import nh3
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.constants import LANGUAGES
from marketplace.emagazine import subscribers
from marketplace.emagazine.forms import SubscribeForm
from marketplace.extensions import db
from marketplace.form_fields import ActionForm
from marketplace.models import Issue, IssueEdition
from marketplace.models._time import utcnow
from marketplace.models.states import IssueStatus
from marketplace.pagination import page_number
from marketplace.templating import current_language, render_markdown
from marketplace.tokens import InvalidToken

bp = Blueprint("emagazine", __name__, url_prefix="/emagazine")

ATOM = "http://www.w3.org/2005/Atom"
FEED_ENTRIES = 50
SUMMARY_LENGTH = 300
ET.register_namespace("", ATOM)  # Atom as the default namespace, not "ns0:"


# --- subscribing ---------------------------------------------------------------------------

@bp.route("/subscribe", methods=["GET", "POST"])
def subscribe():
    if request.args.get("sent"):
        return render_template("emagazine/subscribe.html", sent=True)
    form = SubscribeForm(data={"language": current_language()}
                         if request.method == "GET" else None)
    if form.validate_on_submit():
        subscribers.sign_up(form.email.data, _preferences(form), request.remote_addr or "")
        # The same answer whatever happened (new, known, rate-limited): no address fishing.
        return redirect(url_for("emagazine.subscribe", sent=1))
    return render_template("emagazine/subscribe.html", form=form), 400 if form.errors else 200


def _preferences(form) -> subscribers.Preferences:
    return subscribers.Preferences.clean(form.language.data, form.countries.data,
                                         form.sectors.data)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """The link in the e-mail shows a button; only its POST confirms, because mail scanners
    open links and must not subscribe anyone."""
    try:
        subscriber, preferences = subscribers.check(token)
    except InvalidToken as error:
        return render_template("emagazine/confirm.html", invalid=str(error)), 400
    form = ActionForm()
    if request.method == "GET":
        return render_template("emagazine/confirm.html", form=form, token=token,
                               email=subscriber.email, preferences=preferences)
    if not form.validate_on_submit():
        abort(400)
    try:
        subscribers.confirm(token, request.remote_addr or "")
    except InvalidToken as error:  # the same link posted twice at the same moment
        return render_template("emagazine/confirm.html", invalid=str(error)), 400
    flash(_("Thank you: %(email)s will receive the E-magazine.", email=subscriber.email),
          "success")
    return redirect(url_for("emagazine.archive"))


# --- the archive -----------------------------------------------------------------------------

def _sent_issues():
    return (select(Issue).where(Issue.status == IssueStatus.SENT)
            .options(selectinload(Issue.editions))
            .order_by(Issue.sent_at.desc(), Issue.id.desc()))


def _language() -> str:
    asked = request.args.get("lang", "")
    return asked if asked in LANGUAGES else current_language()


@bp.get("")
def archive():
    page = db.paginate(_sent_issues(), page=page_number(), per_page=20, error_out=False)
    return render_template("emagazine/archive.html", page=page, language=_language())


@bp.get("/<slug>")
def issue(slug: str):
    """Only sent issues are public; drafts and scheduled ones do not exist here."""
    found = db.session.scalar(_sent_issues().where(Issue.slug == slug))
    edition = found.edition(_language()) if found is not None else None
    if edition is None:
        abort(404)
    others = [e for e in found.editions if e.language != edition.language]
    return render_template("emagazine/issue.html", issue=found, edition=edition,
                           others=others)


@bp.get("/feed.atom")
def feed():
    issues = db.session.scalars(_sent_issues().limit(FEED_ENTRIES)).all()
    body = ET.tostring(_atom_feed(issues, _language()), encoding="utf-8",
                       xml_declaration=True)
    return Response(body, mimetype="application/atom+xml")


def _atom_feed(issues: list[Issue], language: str) -> ET.Element:
    feed = ET.Element(f"{{{ATOM}}}feed")
    _text(feed, "id", url_for("emagazine.archive", _external=True))
    _text(feed, "title", _("EST Marketplace E-magazine"))
    _text(feed, "updated", _atom_date(_sent_at(issues[0]) if issues else utcnow()))
    _link(feed, request.url, "self", "application/atom+xml")
    _link(feed, url_for("emagazine.archive", lang=language, _external=True), "alternate")
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    _text(author, "name", _("ASEAN-China EST Marketplace"))
    for issue in issues:
        edition = issue.edition(language)
        if edition is not None:
            _entry(feed, issue, edition)
    return feed


def _entry(feed: ET.Element, issue: Issue, edition: IssueEdition) -> None:
    entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
    # The id names the issue, not an edition: it must not change with the reader's language.
    _text(entry, "id", url_for("emagazine.issue", slug=issue.slug, _external=True))
    _text(entry, "title", edition.title)
    _text(entry, "updated", _atom_date(_sent_at(issue)))
    _link(entry, url_for("emagazine.issue", slug=issue.slug, lang=edition.language,
                         _external=True), "alternate", "text/html")
    _text(entry, "summary", _summary(edition))


def _text(parent: ET.Element, tag: str, value: str) -> None:
    ET.SubElement(parent, f"{{{ATOM}}}{tag}").text = value


def _link(parent: ET.Element, href: str, rel: str, kind: str = "text/html") -> None:
    ET.SubElement(parent, f"{{{ATOM}}}link", href=href, rel=rel, type=kind)


def _sent_at(issue: Issue) -> datetime:
    return issue.sent_at or issue.started_at or issue.created_at


def _atom_date(when: datetime) -> str:
    return when.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _summary(edition: IssueEdition) -> str:
    """The introduction as plain text (Markdown rendered, then stripped), or the headings."""
    source = edition.intro or " · ".join(s.heading for s in edition.sections)
    text = html.unescape(nh3.clean(str(render_markdown(source)), tags=set()))
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_LENGTH else text[:SUMMARY_LENGTH - 1].rstrip() + "…"
