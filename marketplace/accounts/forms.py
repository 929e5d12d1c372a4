"""The account forms: registering, signing in, passwords, settings, roles and organisations.
Each validates on the server and keeps what was typed.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    Length,
    Optional,
)

from marketplace import constants
from marketplace.form_fields import HttpUrlField, choices, country_choices, title_rules


def password_rules():
    return [DataRequired(), Length(min=10, max=200, message=_l("Use at least 10 characters."))]


# -- accounts ---------------------------------------------------------------------------------


class RegisterForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=password_rules())
    confirm = PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    role = SelectField(_l("I want to"), choices=[
        ("supplier", _l("Offer solutions (supplier)")),
        ("buyer", _l("Post needs (buyer)")),
    ])
    language = SelectField(_l("Language"), choices=list(constants.LANGUAGES.items()))
    join_code = StringField(_l("Join code of an existing organisation"),
                            validators=[Optional(), Length(max=32)],
                            description=_l("Ask a colleague: it is on their organisation page."))
    org_name = StringField(_l("Organisation name"), validators=[Optional(), Length(max=200)])
    org_kind = SelectField(_l("Kind of organisation"), validators=[Optional()])
    org_country = SelectField(_l("Country"), validators=[Optional()])
    org_city = StringField(_l("City"), validators=[Optional(), Length(max=120)])
    org_base = SelectField(_l("Demonstration base"), validators=[Optional()])
    submit = SubmitField(_l("Create account"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.org_kind.choices = [("", "—")] + choices(constants.ORG_KINDS)
        self.org_country.choices = [("", "—")] + country_choices()
        self.org_base.choices = [("", _l("None"))] + choices(constants.BASES)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not self.join_code.data:
            for field in (self.org_name, self.org_kind, self.org_country):
                if not field.data:
                    field.errors = [*field.errors, _l("Required unless you give a join code.")]
                    ok = False
        return ok


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Keep me signed in"))
    submit = SubmitField(_l("Sign in"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])
    submit = SubmitField(_l("Send reset link"))


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=password_rules())
    confirm = PasswordField(
        _l("Repeat new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    submit = SubmitField(_l("Set password"))


class ChangePasswordForm(ResetPasswordForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])


class SettingsForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    language = SelectField(_l("Language"), choices=list(constants.LANGUAGES.items()))
    submit = SubmitField(_l("Save"))


class RoleForm(FlaskForm):
    """An administrator sets the role of an account: granting or revoking staff, or
    promoting to administrator."""

    email = EmailField(_l("E-mail of the account"),
                       validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField(_l("Role"), choices=list(constants.ROLES.items()))
    submit = SubmitField(_l("Set role"))


# -- organisations ------------------------------------------------------------------------


class OrganizationForm(FlaskForm):
    name = StringField(_l("Name"), validators=title_rules())
    kind = SelectField(_l("Kind"), validators=[DataRequired()])
    country = SelectField(_l("Country"), validators=[DataRequired()])
    city = StringField(_l("City"), validators=[Optional(), Length(max=120)])
    base = SelectField(_l("Demonstration base"), validators=[Optional()])
    website = HttpUrlField(_l("Website"), validators=[Optional(), Length(max=300)])
    description = TextAreaField(_l("About the organisation (Markdown)"),
                                validators=[Optional(), Length(max=5000)])
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = choices(constants.ORG_KINDS)
        self.country.choices = country_choices()
        self.base.choices = [("", _l("None"))] + choices(constants.BASES)
