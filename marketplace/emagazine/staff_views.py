"""Staff compose, preview, test, schedule and send E-magazine issues.

Who may do what (issue 9, item 11).  The steps that mail the whole audience are an
administrator's: *schedule*, *send* and *resume*.  Any staff member composes drafts, chooses
the audience, previews, sends a test to their own address, and may *pause* a send or
*unschedule* an issue (stopping mail is always allowed).  A scheduled issue is frozen for
plain staff, so what an administrator approved is what goes out: staff unschedule it to edit
it, and an administrator schedules it again.  Every step is written to the audit log.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from marketplace import audit
from marketplace.accounts.access import admin_required, staff_required
from marketplace.constants import LANGUAGES
from marketplace.emagazine import audience, rendering, sections, workflow
from marketplace.emagazine.forms import (
    AudienceForm,
    EditionForm,
    NewIssueForm,
    NewSectionForm,
    ScheduleForm,
    SectionForm,
    SendNowForm,
    TestSendForm,
)
from marketplace.extensions import db
from marketplace.form_fields import ActionForm
from marketplace.mailing.transport import TransientMailError
from marketplace.models import AuditAction, Issue, IssueEdition, IssueSection
from marketplace.models.states import IssueStatus

bp = Blueprint("emagazine_staff", __name__, url_prefix="/staff/emagazine")

EDITABLE = (IssueStatus.DRAFT, IssueStatus.SCHEDULED)  # by admins; plain staff edit drafts only
RESERVED_SLUGS = {"subscribe", "confirm", "feed-atom", "feed"}


def _issue(issue_id: int, *, editable: bool = False) -> Issue:
    issue = db.session.get(Issue, issue_id)
    if issue is None:
        abort(404)
    if editable and issue.status not in _editable_statuses():
        if issue.status == IssueStatus.SCHEDULED:
            flash(_("A scheduled issue changes only by an administrator. Move it back to "
                    "draft to edit it; an administrator then schedules it again."), "error")
        else:
            flash(_("This issue is being sent or has been sent; it can no longer change."),
                  "error")
        abort(redirect(url_for("emagazine_staff.edit", issue_id=issue.id)))
    return issue


def _editable_statuses() -> tuple[str, ...]:
    return EDITABLE if current_user.is_admin else (IssueStatus.DRAFT,)


def _to_issue(issue: Issue, anchor: str = ""):
    return redirect(url_for("emagazine_staff.edit", issue_id=issue.id) + anchor)


@bp.get("/")
@staff_required
def index():
    issues = db.session.scalars(select(Issue).order_by(Issue.created_at.desc())).all()
    return render_template("emagazine_staff/index.html", issues=issues, form=NewIssueForm(),
                           progress={i.id: workflow.progress(i) for i in issues})


@bp.post("/new")
@staff_required
def create():
    form = NewIssueForm()
    if not form.validate_on_submit():
        issues = db.session.scalars(select(Issue).order_by(Issue.created_at.desc())).all()
        return render_template("emagazine_staff/index.html", issues=issues, form=form,
                               progress={i.id: workflow.progress(i) for i in issues}), 400
    issue = Issue(slug=_unique_slug(form.title_en.data), created_by_id=current_user.id,
                  audience={})
    issue.editions = [IssueEdition(language="en", title=form.title_en.data.strip()),
                      IssueEdition(language="zh", title=form.title_zh.data.strip())]
    db.session.add(issue)
    db.session.commit()
    flash(_("Issue created. Write the editions, choose the audience, then preview."), "success")
    return _to_issue(issue)


def _unique_slug(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:80] or "issue"
    if base in RESERVED_SLUGS:  # the archive's own pages live beside the issues
        base += "-issue"
    slug, n = base, 2
    while db.session.scalar(select(Issue.id).where(Issue.slug == slug)) is not None:
        slug, n = f"{base}-{n}", n + 1
    return slug


@bp.get("/<int:issue_id>")
@staff_required
def edit(issue_id: int):
    return _edit_page(_issue(issue_id))


def _edit_page(issue: Issue, status: int = 200, **forms):
    chosen = issue.audience or {}
    page_forms = {
        "audience_form": AudienceForm(data=chosen, formdata=None),
        "edition_forms": {e.language: EditionForm(obj=e, prefix=f"ed-{e.language}",
                                                  formdata=None) for e in issue.editions},
        "new_section_forms": {e.language: NewSectionForm(prefix=f"new-{e.language}",
                                                         formdata=None)
                              for e in issue.editions},
        "section_forms": {s.id: SectionForm(obj=s, prefix=f"s{s.id}", formdata=None)
                          for e in issue.editions for s in e.sections},
        # Staff test on themselves; an admin may list other addresses.
        "test_form": TestSendForm(data={"addresses": current_user.email}, formdata=None),
        "schedule_form": ScheduleForm(formdata=None),
        "send_form": SendNowForm(formdata=None),
        "action_form": ActionForm(formdata=None),
    }
    for key, form in forms.items():  # the submitted form, with its errors and input
        if isinstance(page_forms.get(key), dict):
            page_forms[key] = {**page_forms[key], **form}
        else:
            page_forms[key] = form
    return render_template("emagazine_staff/edit.html", issue=issue,
                           editable=issue.status in _editable_statuses(),
                           recipient_count=audience.segment_count(chosen),
                           progress=workflow.progress(issue),
                           overdue=workflow.is_overdue(issue), languages=LANGUAGES,
                           **page_forms), status


@bp.get("/audience-count")
@staff_required
def audience_count():
    """The live count shown while staff choose a segment."""
    chosen = {key: request.args.getlist(key)
                for key in ("languages", "countries", "sectors", "roles")}
    return jsonify(count=audience.segment_count(chosen))


@bp.post("/<int:issue_id>/audience")
@staff_required
def save_audience(issue_id: int):
    issue = _issue(issue_id, editable=True)
    form = AudienceForm()
    if not form.validate_on_submit():
        return _edit_page(issue, 400, audience_form=form)
    issue.audience = {key: getattr(form, key).data or []
                      for key in ("languages", "countries", "sectors", "roles")}
    db.session.commit()
    flash(_("Audience saved: %(count)d recipients.",
            count=audience.segment_count(issue.audience)), "success")
    return _to_issue(issue, "#audience")


@bp.post("/<int:issue_id>/editions/<any(en, zh):language>")
@staff_required
def save_edition(issue_id: int, language: str):
    issue = _issue(issue_id, editable=True)
    edition = rendering.edition_or_none(issue, language) or abort(404)
    form = EditionForm(prefix=f"ed-{language}")
    if not form.validate_on_submit():
        return _edit_page(issue, 400, edition_forms={language: form})
    edition.title, edition.intro = form.title.data.strip(), form.intro.data or ""
    db.session.commit()
    flash(_("Edition saved."), "success")
    return _to_issue(issue, f"#edition-{language}")


@bp.post("/<int:issue_id>/editions/<any(en, zh):language>/sections")
@staff_required
def add_section(issue_id: int, language: str):
    issue = _issue(issue_id, editable=True)
    edition = rendering.edition_or_none(issue, language) or abort(404)
    form = NewSectionForm(prefix=f"new-{language}")
    if not form.validate_on_submit():
        return _edit_page(issue, 400, new_section_forms={language: form})
    section = IssueSection(kind=form.kind.data, heading=form.heading.data.strip(),
                           position=len(edition.sections))
    edition.sections.append(section)
    sections.fill_section(section)
    db.session.commit()
    flash(_("Section added. Automatic sections are filled from the marketplace; review and "
            "edit the text before sending."), "success")
    return _to_issue(issue, f"#section-{section.id}")


def _section(issue: Issue, section_id: int) -> IssueSection:
    section = db.session.get(IssueSection, section_id)
    if section is None or section.edition.issue_id != issue.id:
        abort(404)
    return section


@bp.post("/<int:issue_id>/sections/<int:section_id>")
@staff_required
def save_section(issue_id: int, section_id: int):
    issue = _issue(issue_id, editable=True)
    section = _section(issue, section_id)
    form = SectionForm(prefix=f"s{section.id}")
    if not form.validate_on_submit():
        return _edit_page(issue, 400, section_forms={section.id: form})
    section.heading, section.body = form.heading.data.strip(), form.body.data or ""
    db.session.commit()
    flash(_("Section saved."), "success")
    return _to_issue(issue, f"#section-{section.id}")


@bp.post("/<int:issue_id>/sections/<int:section_id>/refill")
@staff_required
def refill_section(issue_id: int, section_id: int):
    issue = _issue(issue_id, editable=True)
    section = _section(issue, section_id)
    if ActionForm().validate_on_submit():
        sections.fill_section(section)
        db.session.commit()
        flash(_("Section refilled from the marketplace."), "success")
    return _to_issue(issue, f"#section-{section.id}")


@bp.post("/<int:issue_id>/sections/<int:section_id>/delete")
@staff_required
def delete_section(issue_id: int, section_id: int):
    issue = _issue(issue_id, editable=True)
    section = _section(issue, section_id)
    if ActionForm().validate_on_submit():
        db.session.delete(section)
        db.session.commit()
        flash(_("Section removed."), "success")
    return _to_issue(issue)


@bp.get("/<int:issue_id>/preview")
@staff_required
def preview(issue_id: int):
    """The issue exactly as a reader in the chosen language and segment gets it."""
    issue = _issue(issue_id)
    language = request.args.get("lang", "en")
    if language not in LANGUAGES:
        abort(404)
    chosen = {key: request.args.getlist(key) or (issue.audience or {}).get(key, [])
                for key in ("languages", "countries", "sectors", "roles")}
    message = rendering.render_issue(issue, language, "reader@example.org",
                                     unsubscribe_link=rendering.UNSUBSCRIBE_PLACEHOLDER)
    return render_template(
        "emagazine_staff/preview.html", issue=issue, language=language, message=message,
        html=message.get_body(preferencelist=("html",)).get_content(),
        text=message.get_body(preferencelist=("plain",)).get_content(),
        recipient_count=audience.segment_count(chosen), languages=LANGUAGES)


@bp.post("/<int:issue_id>/test")
@staff_required
def test_send(issue_id: int):
    issue = _issue(issue_id)
    form = TestSendForm()
    if not form.validate_on_submit():
        return _edit_page(issue, 400, test_form=form)
    addresses = form.addresses.addresses
    if not current_user.is_admin and {a.lower() for a in addresses} != {current_user.email}:
        # Ten addresses a click is a small mass send: plain staff test on themselves.
        form.addresses.errors.append(_("Send the test to your own address (%(email)s); an "
                                       "administrator can send tests to others.",
                                       email=current_user.email))
        return _edit_page(issue, 403, test_form=form)
    try:
        count = rendering.test_send(issue, addresses, form.language.data)
    except TransientMailError as error:
        flash(_("The mail server did not take the test: %(error)s", error=str(error)), "error")
        return _edit_page(issue, 502, test_form=form)
    # No state changes with a test, so the entry is the transaction's only row.
    audit.record(current_user, AuditAction.ISSUE_TEST_SENT, issue, to=addresses,
                 language=form.language.data)
    db.session.commit()
    flash(_("Test sent to %(count)d address(es), marked [TEST]. No delivery was recorded.",
            count=count), "success")
    return _to_issue(issue)


@bp.post("/<int:issue_id>/schedule")
@admin_required  # a mass send, later
def schedule(issue_id: int):
    issue = _issue(issue_id, editable=True)
    form = ScheduleForm()
    if not form.validate_on_submit():
        return _edit_page(issue, 400, schedule_form=form)
    when = form.when.data.replace(tzinfo=UTC)
    return _step(issue, lambda: workflow.schedule(issue, when),
                 _("Scheduled. It goes out at the chosen time."),
                 AuditAction.ISSUE_SCHEDULED, when=when)


@bp.post("/<int:issue_id>/send")
@admin_required  # a mass send, now
def send(issue_id: int):
    issue = _issue(issue_id)
    form = SendNowForm()
    if not form.validate_on_submit():
        return _edit_page(issue, 400, send_form=form)
    return _step(issue, lambda: workflow.start(issue), _("Sending has started."),
                 AuditAction.ISSUE_SENT, recipients=audience.segment_count(issue.audience or {}))


# The workflow's one-button steps: the service checks that the step fits the issue's state.
# Resuming mails the rest of the audience, so it is an admin's; stopping is anyone's.
STEPS = {
    "unschedule": (workflow.unschedule, _l("Back to draft."), AuditAction.ISSUE_UNSCHEDULED,
                   False),
    "pause": (workflow.pause, _l("Paused. Nothing more goes out until you resume."),
              AuditAction.ISSUE_PAUSED, False),
    "resume": (workflow.resume, _l("Sending resumed."), AuditAction.ISSUE_RESUMED, True),
}


@bp.post("/<int:issue_id>/<any(unschedule, pause, resume):step>")
@staff_required
def step(issue_id: int, step: str):
    action, message, audit_action, admin_only = STEPS[step]
    if admin_only and not current_user.is_admin:
        abort(403)
    issue = _issue(issue_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return _step(issue, lambda: action(issue), message, audit_action)


def _step(issue: Issue, action, message: str, audit_action: AuditAction, **detail):
    """Run a workflow step with its audit entry: the service's commit writes both."""
    edition = issue.edition("en")
    audit.record(current_user, audit_action, issue, title=edition.title if edition else "",
                 **detail)
    try:
        action()
    except workflow.WorkflowError as error:
        db.session.rollback()  # the step did not happen: neither does its entry
        flash(str(error), "error")
    else:
        flash(str(message), "success")
    return _to_issue(issue)


@bp.get("/<int:issue_id>/progress")
@staff_required
def progress(issue_id: int):
    """Polled by the live progress bar."""
    return jsonify(workflow.progress(_issue(issue_id)))
