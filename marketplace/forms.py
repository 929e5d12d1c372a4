"""Every form in the product.  Each validates on the server and keeps what was typed."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    EmailField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    URLField,
)
from wtforms.validators import (
    URL,
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from marketplace import constants
from marketplace.taxonomy import taxonomy
from marketplace.templating import current_language

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TRL_CHOICES = [(n, str(n)) for n in range(1, 10)]


def _choices(mapping: dict) -> list[tuple[str, str]]:
    return [(code, str(label)) for code, label in mapping.items()]


def _country_choices() -> list[tuple[str, str]]:
    return _choices(constants.COUNTRIES)


def _unit_choices() -> list[tuple[str, str]]:
    return [("", "—")] + [(code, str(unit[2])) for code, unit in constants.CAPACITY_UNITS.items()]


def _currency_choices() -> list[tuple[str, str]]:
    return [("", "—")] + [(c, c) for c in constants.CURRENCIES]


class CommaListField(StringField):
    """A free-text list typed as "a, b, c"; the data is a list of trimmed, distinct items."""

    def _value(self) -> str:
        return ", ".join(self.data or [])

    def process_formdata(self, valuelist):
        raw = valuelist[0] if valuelist else ""
        self.data = list(dict.fromkeys(item.strip() for item in raw.split(",") if item.strip()))


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
        self.org_kind.choices = [("", "—")] + _choices(constants.ORG_KINDS)
        self.org_country.choices = [("", "—")] + _country_choices()
        self.org_base.choices = [("", _l("None"))] + _choices(constants.BASES)

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


DIGEST_FREQUENCY_CHOICES = [
    ("immediate", _l("As soon as there is something new")),
    ("daily", _l("Once a day")),
    ("weekly", _l("Once a week")),
    ("off", _l("Never")),
]


class NotificationsForm(FlaskForm):
    frequency = SelectField(_l("Send me match digests"), choices=DIGEST_FREQUENCY_CHOICES)
    need_matches = BooleanField(_l("Solutions found for my needs"))
    solution_matches = BooleanField(_l("Needs found for my solutions"))
    saved_searches = BooleanField(_l("New results for my saved searches"))
    submit = SubmitField(_l("Save"))


# -- the E-magazine (staff) ------------------------------------------------------------------

AUDIENCE_ROLE_CHOICES = [("subscriber", _l("Public subscribers")),
                         ("supplier", _l("Suppliers")), ("buyer", _l("Buyers"))]


def _sector_choices() -> list[tuple[str, str]]:
    return taxonomy().choices(current_language())


class NewIssueForm(FlaskForm):
    title_en = StringField(_l("Title (English)"), validators=[DataRequired(), Length(max=200)])
    title_zh = StringField(_l("Title (Chinese)"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("Create the issue"))


class AudienceForm(FlaskForm):
    """Each empty list means everyone."""

    languages = SelectMultipleField(_l("Languages"), validators=[Optional()],
                                    choices=_choices(constants.LANGUAGES))
    countries = SelectMultipleField(_l("Countries"), validators=[Optional()],
                                    choices=_country_choices())
    sectors = SelectMultipleField(_l("Sectors"), validators=[Optional()])
    roles = SelectMultipleField(_l("Who"), validators=[Optional()],
                                choices=AUDIENCE_ROLE_CHOICES)
    submit = SubmitField(_l("Save the audience"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sectors.choices = _sector_choices()


class EditionForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    intro = TextAreaField(_l("Editorial introduction (Markdown)"),
                          validators=[Optional(), Length(max=20000)])
    submit = SubmitField(_l("Save the edition"))


class NewSectionForm(FlaskForm):
    kind = SelectField(_l("Section"), choices=_choices(constants.SECTION_KINDS))
    heading = StringField(_l("Heading"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("Add the section"))


class SectionForm(FlaskForm):
    heading = StringField(_l("Heading"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("Text (Markdown)"), validators=[Optional(), Length(max=50000)])
    submit = SubmitField(_l("Save the section"))


class TestSendForm(FlaskForm):
    addresses = TextAreaField(_l("Send a test to (one address per line, at most 10)"),
                              validators=[DataRequired()])
    language = SelectField(_l("Edition"), choices=_choices(constants.LANGUAGES))
    submit = SubmitField(_l("Send a test"))

    def validate_addresses(self, field):
        addresses = [line.strip() for line in (field.data or "").splitlines() if line.strip()]
        bad = [a for a in addresses if not EMAIL_PATTERN.match(a)]
        if bad:
            raise ValidationError(_l("Not an e-mail address: %(bad)s", bad=", ".join(bad)))
        if len(addresses) > 10:
            raise ValidationError(_l("At most 10 addresses."))
        field.addresses = addresses


class ScheduleForm(FlaskForm):
    when = DateTimeLocalField(_l("Send at (UTC)"), validators=[DataRequired()])
    submit = SubmitField(_l("Schedule"))


class SendNowForm(FlaskForm):
    confirm = BooleanField(_l("Yes, send this issue to its audience now"),
                           validators=[DataRequired(_l("Tick the box to confirm."))])
    submit = SubmitField(_l("Send now"))


class ActionForm(FlaskForm):
    """A button that changes state: CSRF-protected, no fields."""

    submit = SubmitField()


class RoleForm(FlaskForm):
    """An administrator sets the role of an account: granting or revoking staff, or
    promoting to administrator."""

    email = EmailField(_l("E-mail of the account"),
                       validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField(_l("Role"), choices=list(constants.ROLES.items()))
    submit = SubmitField(_l("Set role"))


# -- organisations ------------------------------------------------------------------------


class OrganizationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), validators=[DataRequired()])
    country = SelectField(_l("Country"), validators=[DataRequired()])
    city = StringField(_l("City"), validators=[Optional(), Length(max=120)])
    base = SelectField(_l("Demonstration base"), validators=[Optional()])
    website = URLField(_l("Website"), validators=[Optional(), URL(), Length(max=300)])
    description = TextAreaField(_l("About the organisation (Markdown)"),
                                validators=[Optional(), Length(max=5000)])
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = _choices(constants.ORG_KINDS)
        self.country.choices = _country_choices()
        self.base.choices = [("", _l("None"))] + _choices(constants.BASES)


# -- listings ---------------------------------------------------------------------------------


def _validate_range(low, high, label):
    if low.data is not None and high.data is not None and low.data > high.data:
        high.errors = [*high.errors, _l("Must not be below the minimum %(what)s.", what=label)]
        return False
    return True


class ReferenceForm(Form):
    place = StringField(_l("Place"), validators=[Optional(), Length(max=200)])
    year = IntegerField(_l("Year"), validators=[Optional(), NumberRange(1950, 2100)])
    capacity = StringField(_l("Capacity"), validators=[Optional(), Length(max=100)])
    text = StringField(_l("What was done"), validators=[Optional(), Length(max=500)])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        # Not an inline validator: Optional() on the year would stop it from running.
        if self.place.data and self.place.data.strip() and not self.year.data:
            self.year.errors = [*self.year.errors, _l("Give the year of this reference.")]
            ok = False
        return ok


class ListingForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(min=5, max=200)])
    description = TextAreaField(_l("Description (Markdown)"),
                                validators=[Optional(), Length(max=20000)])
    sectors = SelectMultipleField(_l("Sectors"), validators=[
        DataRequired(message=_l("Choose at least one sector."))])
    capacity_unit = SelectField(_l("Capacity unit"), validators=[Optional()])
    currency = SelectField(_l("Currency"), validators=[Optional()])
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sectors.choices = taxonomy().choices(current_language())
        self.capacity_unit.choices = _unit_choices()
        self.currency.choices = _currency_choices()


class SolutionForm(ListingForm):
    summary = TextAreaField(_l("Summary"), validators=[DataRequired(), Length(max=300)],
                            description=_l("At most 300 characters; shown in lists and e-mails."))
    keywords = CommaListField(_l("Keywords"), description=_l("Separate with commas."))
    trl = SelectField(_l("Technology readiness level (TRL)"), coerce=int, choices=TRL_CHOICES,
                      default=7, validators=[InputRequired()])
    capacity_min = DecimalField(_l("Capacity from"), places=None,
                                validators=[Optional(), NumberRange(min=0)])
    capacity_max = DecimalField(_l("Capacity to"), places=None,
                                validators=[Optional(), NumberRange(min=0)])
    price_min = DecimalField(_l("Indicative price from"), places=None,
                             validators=[Optional(), NumberRange(min=0)])
    price_max = DecimalField(_l("Indicative price to"), places=None,
                             validators=[Optional(), NumberRange(min=0)])
    countries_served = SelectMultipleField(_l("Countries served"), validators=[
        DataRequired(message=_l("Choose at least one country."))])
    languages = SelectMultipleField(_l("Languages of service"), validators=[Optional()])
    certifications = CommaListField(
        _l("Certifications and eco-labels"),
        description=_l("For example: ISO 14001, China Environmental Labelling"))
    references = FieldList(FormField(ReferenceForm), min_entries=3, max_entries=10)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.countries_served.choices = _country_choices()
        self.languages.choices = list(constants.LISTING_LANGUAGES.items())

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        ok &= _validate_range(self.capacity_min, self.capacity_max, _l("capacity"))
        ok &= _validate_range(self.price_min, self.price_max, _l("price"))
        if (self.capacity_min.data is not None or self.capacity_max.data is not None) \
                and not self.capacity_unit.data:
            self.capacity_unit.errors = [*self.capacity_unit.errors,
                                         _l("Give the unit of the capacity.")]
            ok = False
        if (self.price_min.data is not None or self.price_max.data is not None) \
                and not self.currency.data:
            self.currency.errors = [*self.currency.errors, _l("Give the currency of the price.")]
            ok = False
        return bool(ok)


class NeedForm(ListingForm):
    country = SelectField(_l("Country"), validators=[DataRequired()])
    city = StringField(_l("City or region"), validators=[Optional(), Length(max=120)])
    capacity = DecimalField(_l("Required capacity"), places=None,
                            validators=[Optional(), NumberRange(min=0)])
    budget_min = DecimalField(_l("Budget from"), places=None,
                              validators=[Optional(), NumberRange(min=0)])
    budget_max = DecimalField(_l("Budget to"), places=None,
                              validators=[Optional(), NumberRange(min=0)])
    deadline = DateField(_l("Deadline"), validators=[Optional()])
    min_trl = SelectField(_l("Minimum TRL"), coerce=int, choices=TRL_CHOICES, default=6,
                          validators=[InputRequired()])
    required_certifications = CommaListField(_l("Required certifications"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = [(c, str(constants.COUNTRIES[c])) for c in constants.ASEAN_COUNTRIES]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        ok &= _validate_range(self.budget_min, self.budget_max, _l("budget"))
        if self.capacity.data is not None and not self.capacity_unit.data:
            self.capacity_unit.errors = [*self.capacity_unit.errors,
                                         _l("Give the unit of the capacity.")]
            ok = False
        if (self.budget_min.data is not None or self.budget_max.data is not None) \
                and not self.currency.data:
            self.currency.errors = [*self.currency.errors, _l("Give the currency of the budget.")]
            ok = False
        return bool(ok)


# -- staff ----------------------------------------------------------------------------------


class ApproveForm(FlaskForm):
    note = TextAreaField(_l("Note to the owner (optional)"),
                         validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Approve and publish"))


class RejectForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (the owner will see this)"),
        validators=[DataRequired(message=_l("Say why, so the owner can fix it.")),
                    Length(max=2000)])
    submit = SubmitField(_l("Reject"))


# -- the E-magazine (readers) and events ------------------------------------------------------


class _ReaderPreferencesForm(FlaskForm):
    """What a reader receives; leaving countries or sectors empty means all of them."""

    language = SelectField(_l("Language of the E-magazine"),
                           choices=_choices(constants.LANGUAGES))
    countries = SelectMultipleField(_l("Countries you follow"), validators=[Optional()],
                                    description=_l("Leave empty to hear about all of them."))
    sectors = SelectMultipleField(_l("Sectors you follow"), validators=[Optional()],
                                  description=_l("Leave empty to hear about all of them."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.countries.choices = _country_choices()  # the ten ASEAN members and China
        self.sectors.choices = _sector_choices()


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class SubscribeForm(_ReaderPreferencesForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)],
                       filters=[_strip])  # pasted addresses often carry a space
    submit = SubmitField(_l("Subscribe"))


class EmagazineSettingsForm(_ReaderPreferencesForm):
    subscribed = BooleanField(_l("Send me the E-magazine"))
    submit = SubmitField(_l("Save"))


# Keys are marketplace.models.emagazine.EVENT_KINDS (a test keeps them equal).
EVENT_KIND_NAMES = {
    "forum": _l("Forum"),
    "exhibition": _l("Exhibition"),
    "training": _l("Training"),
}


class EventForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=_choices(EVENT_KIND_NAMES))
    base = SelectField(_l("Demonstration base"), choices=_choices(constants.BASES))
    starts_on = DateField(_l("Starts on"), validators=[DataRequired()])
    ends_on = DateField(_l("Ends on"), validators=[Optional()],
                        description=_l("Leave empty for a one-day event."))
    location = StringField(_l("Venue"), validators=[Optional(), Length(max=200)])
    url = URLField(_l("Web page"), validators=[Optional(), URL(), Length(max=500)])
    description = TextAreaField(_l("Description (Markdown)"),
                                validators=[Optional(), Length(max=20000)])
    submit = SubmitField(_l("Save"))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.starts_on.data and self.ends_on.data and self.ends_on.data < self.starts_on.data:
            self.ends_on.errors = [*self.ends_on.errors,
                                   _l("The event cannot end before it starts.")]
            ok = False
        return ok
