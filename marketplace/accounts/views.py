"""Accounts: register, verify e-mail, sign in and out, reset and change the password."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user

from marketplace.accounts import registration
from marketplace.accounts.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
    SettingsForm,
)
from marketplace.extensions import db, limiter
from marketplace.form_fields import ActionForm
from marketplace.models import Organization, User
from marketplace.tokens import InvalidToken
from marketplace.urls import safe_next

bp = Blueprint("auth", __name__)


# -- throttling (Flask-Limiter; the limits are settings in config.py) ----------------------
def _setting(name: str):
    return lambda: current_app.config[name]


def _too_many() -> str:
    return _("Too many attempts. Please wait a few minutes, then try again.")


def _by_address() -> str:
    return "ip:" + get_remote_address()


def _by_email_typed() -> str:
    return "email:" + User.normalise_email(request.form.get("email", ""))


def _by_user() -> str:
    return f"user:{current_user.id}"


def _failed(response) -> bool:
    return response.status_code == 400  # a wrong e-mail or password re-renders the form


def _throttled(setting: str, key_func, **options):
    return limiter.limit(_setting(setting), key_func=key_func, methods=["POST"],
                         error_message=_too_many, **options)


login_limits = (_throttled("LOGIN_RATE_LIMIT", _by_email_typed, deduct_when=_failed),
                _throttled("LOGIN_IP_RATE_LIMIT", _by_address, deduct_when=_failed))
# Reset links, and the registrations that mail an address's owner.
forgot_limits = (_throttled("MAIL_LINK_RATE_LIMIT", _by_email_typed),
                 _throttled("MAIL_LINK_IP_RATE_LIMIT", _by_address))
resend_limits = (_throttled("MAIL_LINK_RATE_LIMIT", _by_user),
                 _throttled("MAIL_LINK_IP_RATE_LIMIT", _by_address))


def _limited(limits):
    def decorate(view):
        for limit in limits:
            view = limit(view)
        return view
    return decorate


@bp.route("/register", methods=["GET", "POST"])
@_limited(forgot_limits)  # a taken address mails its owner: no mail bombing through here
def register():
    if current_user.is_authenticated:
        return redirect(url_for("listings.dashboard"))
    form = RegisterForm()
    if form.validate_on_submit():
        organization = None
        if not form.join_code.data:
            organization = Organization(
                name=form.org_name.data.strip(), kind=form.org_kind.data,
                country=form.org_country.data, city=(form.org_city.data or "").strip(),
                base=form.org_base.data or None,
            )
        try:
            registration.register(
                email=form.email.data, password=form.password.data, name=form.name.data,
                role=form.role.data, language=form.language.data,
                organization=organization, join_code=form.join_code.data or "",
            )
        except registration.RegistrationError as error:
            db.session.rollback()
            getattr(form, error.field).errors.append(str(error))
        else:
            db.session.commit()
            # The same answer whether the address was new or taken (its owner gets a mail
            # instead): nobody learns from it which addresses have accounts.
            flash(_("Thank you. We have sent a message to %(email)s: open the link in it to "
                    "confirm your address, then sign in.",
                    email=User.normalise_email(form.email.data)), "success")
            return redirect(url_for("auth.login"))
    elif form.is_submitted():
        flash(_("Please correct the marked fields."), "error")
    return render_template("auth/register.html", form=form), 400 if form.errors else 200


@bp.get("/verify/<token>")
def verify_email(token: str):
    try:
        user = registration.verify_email(token)
    except InvalidToken:
        flash(_("This confirmation link is invalid or has expired. Sign in to get a new one."),
              "error")
        return redirect(url_for("auth.login"))
    db.session.commit()
    flash(_("Thank you: %(email)s is confirmed.", email=user.email), "success")
    return redirect(url_for("listings.dashboard") if current_user.is_authenticated
                    else url_for("auth.login"))


@bp.post("/verify/resend")
@login_required
@_limited(resend_limits)
def resend_verification():
    if ActionForm().validate_on_submit() and not current_user.email_verified:
        registration.send_verification_email(current_user)
        db.session.commit()
        flash(_("A new confirmation link is on its way to %(email)s.",
                email=current_user.email), "success")
    return redirect(url_for("listings.dashboard"))


@bp.route("/login", methods=["GET", "POST"])
@_limited(login_limits)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("listings.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        user = registration.authenticate(form.email.data, form.password.data)
        if user is not None:
            _start_session(user, remember=form.remember.data)
            flash(_("Signed in. Welcome back, %(name)s.", name=user.name), "success")
            return redirect(safe_next(request.args.get("next"), url_for("listings.dashboard")))
        form.password.errors.append(_("The e-mail or password is wrong."))
    return render_template("auth/login.html", form=form), 400 if form.errors else 200


def _start_session(user, *, remember: bool = False) -> None:
    # A new session: nothing set before sign-in (a planted CSRF secret, say) carries over.
    session.clear()
    login_user(user, remember=remember)
    session["language"] = user.language


@bp.post("/logout")
def logout():
    if ActionForm().validate_on_submit():
        _end_every_session()
        flash(_("You are signed out."), "info")
    return redirect(url_for("public.home"))


@bp.post("/account/sign-out-everywhere")
@login_required
def sign_out_everywhere():
    if ActionForm().validate_on_submit():
        _end_every_session()
        flash(_("You are signed out on every device."), "info")
        return redirect(url_for("auth.login"))
    abort(400)


def _end_every_session() -> None:
    """Sign out here, and make every copy of this user's cookies worthless."""
    if current_user.is_authenticated:
        current_user.end_all_sessions()
        db.session.commit()
    logout_user()
    session.pop("language", None)


@bp.route("/password/forgot", methods=["GET", "POST"])
@_limited(forgot_limits)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        registration.send_password_reset_email(form.email.data)
        db.session.commit()
        # Same answer whether or not the account exists: no address fishing.
        flash(_("If an account exists for %(email)s, a reset link is on its way.",
                email=form.email.data), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form), 400 if form.errors else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        registration.user_for_reset_token(token)
    except InvalidToken:
        flash(_("This reset link is invalid, used or expired. Ask for a new one."), "error")
        return redirect(url_for("auth.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        registration.reset_password(token, form.password.data)
        db.session.commit()
        flash(_("Your password is changed. Sign in with the new one."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form), 400 if form.errors else 200


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    settings = SettingsForm(obj=current_user, prefix="settings")
    password = ChangePasswordForm(prefix="password")
    if settings.submit.data and settings.validate_on_submit():
        current_user.name = settings.name.data.strip()
        current_user.language = settings.language.data
        session["language"] = current_user.language
        db.session.commit()
        flash(_("Your settings are saved."), "success")
        return redirect(url_for("auth.account"))
    if password.submit.data and password.validate_on_submit():
        if current_user.check_password(password.current.data):
            current_user.set_password(password.password.data)  # ends every session...
            db.session.commit()
            _start_session(current_user._get_current_object())  # ...but this one
            flash(_("Your password is changed. Other devices are signed out."), "success")
            return redirect(url_for("auth.account"))
        password.current.errors.append(_("That is not your current password."))
    status = 400 if settings.errors or password.errors else 200
    return render_template("auth/account.html", settings=settings, password=password), status
