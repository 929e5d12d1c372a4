"""Digest preferences, and unsubscribing from e-mail lists with one click (RFC 8058)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.extensions import csrf, db
from marketplace.forms import NotificationsForm
from marketplace.models.mail import DIGEST_LIST
from marketplace.services import subscriptions
from marketplace.services.tokens import InvalidToken

bp = Blueprint("notifications", __name__)


@bp.route("/my/notifications", methods=["GET", "POST"])
@login_required
def preferences():
    user = current_user
    form = NotificationsForm(data={
        "frequency": user.digest_frequency, "need_matches": user.digest_need_matches,
        "solution_matches": user.digest_solution_matches,
        "saved_searches": user.digest_saved_searches,
    } if request.method == "GET" else None)
    if form.validate_on_submit():
        user.digest_frequency = form.frequency.data
        user.digest_need_matches = form.need_matches.data
        user.digest_solution_matches = form.solution_matches.data
        user.digest_saved_searches = form.saved_searches.data
        if user.digest_frequency != "off":
            subscriptions.resubscribe(user.email, DIGEST_LIST)
        db.session.commit()
        flash(_("Your e-mail preferences are saved."), "success")
        return redirect(url_for("notifications.preferences"))
    status = 400 if form.errors else 200
    return render_template("notifications/preferences.html", form=form,
                           bounced=subscriptions.is_suppressed(user.email, "*")), status


@bp.get("/unsubscribe/<token>")
def unsubscribe_confirm(token: str):
    """A GET never changes anything (mail scanners follow links): it asks to confirm."""
    try:
        email, list_name = subscriptions.read_unsubscribe_token(token)
    except InvalidToken:
        return render_template("notifications/unsubscribe.html", invalid=True), 400
    return render_template("notifications/unsubscribe.html", email=email,
                           list_name=list_name, token=token, done=False)


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # one-click: mail clients POST with no cookies and no CSRF token
def unsubscribe(token: str):
    try:
        email, list_name = subscriptions.read_unsubscribe_token(token)
    except InvalidToken:
        return render_template("notifications/unsubscribe.html", invalid=True), 400
    subscriptions.unsubscribe(email, list_name)
    # 200 with the answer, no redirect: RFC 8058 clients do not follow one.
    return render_template("notifications/unsubscribe.html", email=email,
                           list_name=list_name, done=True)
