"""Every form in the product.  Each validates on the server and keeps what was typed."""

from __future__ import annotations

import re
from decimal import Decimal

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
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

from marketplace import constants
from marketplace.models import Need, Solution
from marketplace.models.search import DISMISS_REASONS
from marketplace.taxonomy import taxonomy
from marketplace.templating import current_language, safe_url

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
    """A free-text list typed as "a, b, c"; the data is a list of trimmed, distinct items.

    Bounded in count and length: each item is indexed, matched and shown on cards.
    """

    MAX_ITEMS = 20
    MAX_ITEM_LENGTH = 60

    def _value(self) -> str:
        if self.raw_data:  # what was typed, on a page shown again with errors
            return self.raw_data[0]
        return ", ".join(self.data or [])

    def process_formdata(self, valuelist):
        raw = valuelist[0] if valuelist else ""
        self.data = list(dict.fromkeys(item.strip() for item in raw.split(",") if item.strip()))

    def pre_validate(self, form) -> None:
        items = self.data or []
        if len(items) > self.MAX_ITEMS:
            raise ValidationError(_l("At most %(n)s items.", n=self.MAX_ITEMS))
        if any(len(item) > self.MAX_ITEM_LENGTH for item in items):
            raise ValidationError(_l("Each item at most %(n)s characters.",
                                     n=self.MAX_ITEM_LENGTH))


class HttpUrlField(URLField):
    """A web address: only http and https, stored normalised (see ``templating.safe_url``).

    Every URL a user types goes through this field, so nothing else can reach an ``href``.
    A refused address is shown back as typed, with the error.
    """

    def pre_validate(self, form) -> None:
        if not self.data or not self.data.strip():
            self.data = ""
            return
        clean = safe_url(self.data)
        if not clean:
            raise ValidationError(
                _l("Give a web address that starts with https:// or http://."))
        self.data = clean


class ColumnDecimalField(DecimalField):
    """A decimal number that fits its database column: finite, with no more digits before
    and after the point than the column's precision and scale allow.

    Python's Decimal reads "sNaN" and "Infinity"; comparing the first raises and saving
    either (or a number too long) fails in the database, so each would be a 500.  The
    limits are read from the column, so the form and the schema cannot drift apart.
    """

    def __init__(self, label=None, validators=None, *, column, **kwargs):
        super().__init__(label, validators, places=None, **kwargs)
        self.max_places = column.type.scale
        self.max_integer_digits = column.type.precision - column.type.scale

    def pre_validate(self, form) -> None:
        problem = self._problem(self.data)
        if problem:
            # No value, so no later check (a range, a form's min <= max) compares a NaN;
            # the page shows what was typed from the raw input.  StopValidation: the same.
            self.data = None
            raise StopValidation(problem)

    def _problem(self, value: Decimal | float | int | None):
        if value is None:
            return None
        if not isinstance(value, Decimal):  # not typed now: the stored value, on an edit
            value = Decimal(repr(value))
        if not value.is_finite():
            return _l("Give an ordinary number, not NaN or infinity.")
        if value != 0 and value.adjusted() + 1 > self.max_integer_digits:
            return _l("At most %(n)s digits before the decimal point.", n=self.max_integer_digits)
        if max(0, -value.normalize().as_tuple().exponent) > self.max_places:
            return _l("At most %(n)s decimal places.", n=self.max_places)
        return None


# Every line-break character str.splitlines() knows: mail headers fold on them.
_LINE_BREAK = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]")


class SingleLine:
    """For titles, names and headings.  They become mail subjects and page headings, where a
    line break is a 500 when the mail is built (or a header injection)."""

    def __call__(self, form, field) -> None:
        if isinstance(field.data, str) and _LINE_BREAK.search(field.data):
            raise ValidationError(_l("Keep it on one line."))


def title_rules(min_length: int = -1, max_length: int = 200) -> list:
    return [DataRequired(), Length(min=min_length, max=max_length), SingleLine()]


def amount_field(label, column) -> ColumnDecimalField:
    """An optional, non-negative quantity stored in ``column`` (a capacity, price, budget)."""
    return ColumnDecimalField(label, column=column, validators=[Optional(), NumberRange(min=0)])


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
    title_en = StringField(_l("Title (English)"), validators=title_rules())
    title_zh = StringField(_l("Title (Chinese)"), validators=title_rules())
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
    title = StringField(_l("Title"), validators=title_rules())
    intro = TextAreaField(_l("Editorial introduction (Markdown)"),
                          validators=[Optional(), Length(max=20000)])
    submit = SubmitField(_l("Save the edition"))


class NewSectionForm(FlaskForm):
    kind = SelectField(_l("Section"), choices=_choices(constants.SECTION_KINDS))
    heading = StringField(_l("Heading"), validators=title_rules())
    submit = SubmitField(_l("Add the section"))


class SectionForm(FlaskForm):
    heading = StringField(_l("Heading"), validators=title_rules())
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


class DismissForm(FlaskForm):
    """Dismiss a match, optionally saying why (read back by ``flask eval-matching``).

    No reason is a valid answer; a value outside the list is not.  ``Optional`` after the
    choice check lets an empty or absent reason through and nothing else.
    """

    reason = SelectField(
        _l("Reason (optional)"), validators=[Optional()],
        choices=[("", "—")] + [(code, constants.DISMISS_REASON_LABELS[code])
                               for code in DISMISS_REASONS])
    submit = SubmitField(_l("Dismiss"))


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
    title = StringField(_l("Title"), validators=title_rules(min_length=5))
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
    capacity_min = amount_field(_l("Capacity from"), Solution.__table__.c.capacity_min)
    capacity_max = amount_field(_l("Capacity to"), Solution.__table__.c.capacity_max)
    price_min = amount_field(_l("Indicative price from"), Solution.__table__.c.price_min)
    price_max = amount_field(_l("Indicative price to"), Solution.__table__.c.price_max)
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
    capacity = amount_field(_l("Required capacity"), Need.__table__.c.capacity)
    budget_min = amount_field(_l("Budget from"), Need.__table__.c.budget_min)
    budget_max = amount_field(_l("Budget to"), Need.__table__.c.budget_max)
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
    title = StringField(_l("Title"), validators=title_rules())
    kind = SelectField(_l("Kind"), choices=_choices(EVENT_KIND_NAMES))
    base = SelectField(_l("Demonstration base"), choices=_choices(constants.BASES))
    starts_on = DateField(_l("Starts on"), validators=[DataRequired()])
    ends_on = DateField(_l("Ends on"), validators=[Optional()],
                        description=_l("Leave empty for a one-day event."))
    location = StringField(_l("Venue"), validators=[Optional(), Length(max=200)])
    url = HttpUrlField(_l("Web page"), validators=[Optional(), Length(max=500)])
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
