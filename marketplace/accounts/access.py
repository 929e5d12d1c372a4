"""Who may reach what: the login manager's user loader and role decorators."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from marketplace.extensions import db, login_manager
from marketplace.models import User

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please sign in to see that page.")
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The user of a session or remember cookie, whose id is "<id>:<session token>"
    (``User.get_id``): once the token rotates, cookies issued before no longer sign in."""
    number, _, token = user_id.partition(":")
    if not number.isdigit() or not token or len(number) > 18:
        return None
    user = db.session.get(User, int(number))
    return user if user is not None and user.has_session_token(token) else None


def staff_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_staff:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def admin_required(view):
    """Admins alone: they manage staff accounts, read the mail outbox (reset links) and send
    the E-magazine to its audience.  Plain staff moderate and compose."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def organization_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if current_user.organization_id is None:
            abort(403)
        return view(*args, **kwargs)

    return wrapped
