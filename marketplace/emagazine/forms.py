"""The E-magazine's forms: composing, testing and scheduling an issue (staff), subscribing
and reading preferences (readers).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    Length,
    Optional,
    ValidationError,
)

from marketplace import constants
from marketplace.form_fields import (
    AUDIENCE_ROLE_CHOICES,
    EMAIL_PATTERN,
    choices,
    country_choices,
    sector_choices,
    title_rules,
)


class NewIssueForm(FlaskForm):
    title_en = StringField(_l("Title (English)"), validators=title_rules())
    title_zh = StringField(_l("Title (Chinese)"), validators=title_rules())
    submit = SubmitField(_l("Create the issue"))


class AudienceForm(FlaskForm):
    """Each empty list means everyone."""

    languages = SelectMultipleField(_l("Languages"), validators=[Optional()],
                                    choices=choices(constants.LANGUAGES))
    countries = SelectMultipleField(_l("Countries"), validators=[Optional()],
                                    choices=country_choices())
    sectors = SelectMultipleField(_l("Sectors"), validators=[Optional()])
    roles = SelectMultipleField(_l("Who"), validators=[Optional()],
                                choices=AUDIENCE_ROLE_CHOICES)
    submit = SubmitField(_l("Save the audience"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sectors.choices = sector_choices()


class EditionForm(FlaskForm):
    title = StringField(_l("Title"), validators=title_rules())
    intro = TextAreaField(_l("Editorial introduction (Markdown)"),
                          validators=[Optional(), Length(max=20000)])
    submit = SubmitField(_l("Save the edition"))


class NewSectionForm(FlaskForm):
    kind = SelectField(_l("Section"), choices=choices(constants.SECTION_KINDS))
    heading = StringField(_l("Heading"), validators=title_rules())
    submit = SubmitField(_l("Add the section"))


class SectionForm(FlaskForm):
    heading = StringField(_l("Heading"), validators=title_rules())
    body = TextAreaField(_l("Text (Markdown)"), validators=[Optional(), Length(max=50000)])
    submit = SubmitField(_l("Save the section"))


class TestSendForm(FlaskForm):
    addresses = TextAreaField(_l("Send a test to (one address per line, at most 10)"),
                              validators=[DataRequired()])
    language = SelectField(_l("Edition"), choices=choices(constants.LANGUAGES))
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


# -- the E-magazine (readers) and events ------------------------------------------------------


class _ReaderPreferencesForm(FlaskForm):
    """What a reader receives; leaving countries or sectors empty means all of them."""

    language = SelectField(_l("Language of the E-magazine"),
                           choices=choices(constants.LANGUAGES))
    countries = SelectMultipleField(_l("Countries you follow"), validators=[Optional()],
                                    description=_l("Leave empty to hear about all of them."))
    sectors = SelectMultipleField(_l("Sectors you follow"), validators=[Optional()],
                                  description=_l("Leave empty to hear about all of them."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.countries.choices = country_choices()  # the ten ASEAN members and China
        self.sectors.choices = sector_choices()


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class SubscribeForm(_ReaderPreferencesForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)],
                       filters=[_strip])  # pasted addresses often carry a space
    submit = SubmitField(_l("Subscribe"))


class EmagazineSettingsForm(_ReaderPreferencesForm):
    subscribed = BooleanField(_l("Send me the E-magazine"))
    submit = SubmitField(_l("Save"))
