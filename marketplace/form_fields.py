"""What every form shares: field types that keep what was typed (comma lists, URLs, decimal
amounts, single lines), choice lists, and ``ActionForm`` for a CSRF-protected button.
"""

from __future__ import annotations

import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DecimalField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    URLField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

from marketplace import constants
from marketplace.models.introductions import DECLINE_REASONS
from marketplace.taxonomy import taxonomy
from marketplace.templating import current_language, safe_url

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TRL_CHOICES = [(n, str(n)) for n in range(1, 10)]


def choices(mapping: dict) -> list[tuple[str, str]]:
    return [(code, str(label)) for code, label in mapping.items()]


def country_choices() -> list[tuple[str, str]]:
    return choices(constants.COUNTRIES)


def unit_choices() -> list[tuple[str, str]]:
    return [("", "—")] + [(code, str(unit[2])) for code, unit in constants.CAPACITY_UNITS.items()]


def currency_choices() -> list[tuple[str, str]]:
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


DIGEST_FREQUENCY_CHOICES = [
    ("immediate", _l("As soon as there is something new")),
    ("daily", _l("Once a day")),
    ("weekly", _l("Once a week")),
    ("off", _l("Never")),
]


# -- the E-magazine (staff) ------------------------------------------------------------------

AUDIENCE_ROLE_CHOICES = [("subscriber", _l("Public subscribers")),
                         ("supplier", _l("Suppliers")), ("buyer", _l("Buyers"))]


def sector_choices() -> list[tuple[str, str]]:
    return taxonomy().choices(current_language())


def decline_reason_field() -> SelectField:
    """Why a request is declined: the introductions' list, for introductions and meetings."""
    return SelectField(_l("Reason"), validators=[InputRequired(_l("Choose a reason."))],
                       choices=[("", _l("Choose a reason"))]
                       + [(code, constants.DECLINE_REASON_LABELS[code])
                          for code in DECLINE_REASONS])


def decline_note_field() -> TextAreaField:
    return TextAreaField(_l("A few words (required for “Other”)"),
                         validators=[Optional(), Length(max=DECLINE_NOTE_LIMIT)])


DECLINE_NOTE_LIMIT = 500


class ActionForm(FlaskForm):
    """A button that changes state: CSRF-protected, no fields."""

    submit = SubmitField()


# Keys are marketplace.models.emagazine.EVENT_KINDS (a test keeps them equal).
EVENT_KIND_NAMES = {
    "forum": _l("Forum"),
    "exhibition": _l("Exhibition"),
    "b2b": _l("B2B brokerage"),
    "training": _l("Training"),
    "visit": _l("Pilot-project visit"),
}
