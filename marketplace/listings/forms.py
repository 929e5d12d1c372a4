"""The listing forms: solutions and needs, and the moderators' approve and reject.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from marketplace import constants
from marketplace.form_fields import (
    TRL_CHOICES,
    CommaListField,
    amount_field,
    country_choices,
    currency_choices,
    title_rules,
    unit_choices,
)
from marketplace.models import Need, Solution
from marketplace.taxonomy import taxonomy
from marketplace.templating import current_language

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
        self.capacity_unit.choices = unit_choices()
        self.currency.choices = currency_choices()


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
        self.countries_served.choices = country_choices()
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
