"""What mail a user gets: digest and E-magazine preferences, saved searches, and
unsubscribing from e-mail lists with one click (RFC 8058)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from marketplace.discovery import saved_searches
from marketplace.emagazine import subscribers
from marketplace.emagazine.forms import EmagazineSettingsForm
from marketplace.extensions import csrf, db
from marketplace.form_fields import ActionForm
from marketplace.mailing import suppressions
from marketplace.models.mail import DIGEST_LIST, EMAGAZINE_LIST
from marketplace.models.states import SubscriberStatus
from marketplace.notifications.forms import NotificationsForm
from marketplace.tokens import InvalidToken

bp = Blueprint("notifications", __name__)

# How the unsubscribe page names each list: "Stop sending <label> to ...?"
LIST_LABELS = {DIGEST_LIST: _l("match digests"), EMAGAZINE_LIST: _l("the E-magazine")}


@bp.route("/my/notifications", methods=["GET", "POST"])
@login_required
def preferences():
    user = current_user
    form = NotificationsForm(data={
        "frequency": user.digest_frequency, "need_matches": user.digest_need_matches,
        "solution_matches": user.digest_solution_matches,
        "saved_searches": user.digest_saved_searches,
        "introduction_notice": user.introduction_notice,
    } if request.method == "GET" else None)
    if form.validate_on_submit():
        user.digest_frequency = form.frequency.data
        user.digest_need_matches = form.need_matches.data
        user.digest_solution_matches = form.solution_matches.data
        user.digest_saved_searches = form.saved_searches.data
        user.introduction_notice = form.introduction_notice.data or user.introduction_notice
        if user.digest_frequency != "off":
            suppressions.resubscribe(user.email, DIGEST_LIST)
        db.session.commit()
        flash(_("Your e-mail preferences are saved."), "success")
        return redirect(url_for("notifications.preferences"))
    status = 400 if form.errors else 200
    return render_template("notifications/preferences.html", form=form,
                           bounced=suppressions.is_suppressed(user.email, "*")), status


@bp.get("/my/saved-searches")
@login_required
def saved_search_list():
    return render_template("notifications/saved_searches.html",
                           searches=saved_searches.for_user(current_user),
                           limit=saved_searches.MAX_PER_USER, action_form=ActionForm())


@bp.post("/my/saved-searches/<int:saved_id>/delete")
@login_required
def delete_saved_search(saved_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    if not saved_searches.delete(current_user, saved_id):
        abort(404)  # another user's search is "not found", not "forbidden"
    db.session.commit()
    flash(_("The saved search is deleted."), "success")
    return redirect(url_for("notifications.saved_search_list"))


@bp.route("/my/emagazine", methods=["GET", "POST"])
@login_required
def emagazine():
    user = current_user
    subscriber = subscribers.for_user(user)
    form = EmagazineSettingsForm(data=_emagazine_settings(user, subscriber)
                                 if request.method == "GET" else None)
    if form.validate_on_submit():
        _save_emagazine_settings(form, user)
        return redirect(url_for("notifications.emagazine"))
    status = 400 if form.errors else 200
    return render_template("notifications/emagazine.html", form=form, subscriber=subscriber,
                           bounced=suppressions.is_suppressed(user.email, "*")), status


def _save_emagazine_settings(form: EmagazineSettingsForm, user) -> None:
    if not form.subscribed.data:
        subscribers.unsubscribe_account(user)
        flash(_("You will get no more issues of the E-magazine."), "success")
        return
    preferences = subscribers.Preferences.clean(form.language.data, form.countries.data,
                                                form.sectors.data)
    if subscribers.subscribe_account(user, preferences, request.remote_addr or ""):
        flash(_("Your E-magazine settings are saved."), "success")
    else:  # the account's address is not verified: it must be proven first
        flash(_("Please confirm your address: we have sent a link to %(email)s.",
                email=user.email), "info")


def _emagazine_settings(user, subscriber) -> dict:
    if subscriber is None:
        return {"subscribed": False, "language": user.language}
    return {"subscribed": subscriber.status != SubscriberStatus.UNSUBSCRIBED,
            "language": subscriber.language,
            "countries": subscriber.countries, "sectors": subscriber.sectors}


@bp.get("/unsubscribe/<token>")
def unsubscribe_confirm(token: str):
    """A GET never changes anything (mail scanners follow links): it asks to confirm."""
    try:
        email, list_name = suppressions.read_unsubscribe_token(token)
    except InvalidToken:
        return render_template("notifications/unsubscribe.html", invalid=True), 400
    return render_template("notifications/unsubscribe.html", email=email,
                           list_name=list_name, list_label=LIST_LABELS[list_name],
                           token=token, done=False)


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # one-click: mail clients POST with no cookies and no CSRF token
def unsubscribe(token: str):
    try:
        email, list_name = suppressions.read_unsubscribe_token(token)
    except InvalidToken:
        return render_template("notifications/unsubscribe.html", invalid=True), 400
    suppressions.unsubscribe(email, list_name)
    # 200 with the answer, no redirect: RFC 8058 clients do not follow one.
    return render_template("notifications/unsubscribe.html", email=email,
                           list_name=list_name, list_label=LIST_LABELS[list_name], done=True)
