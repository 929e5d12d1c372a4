"""The introduction forms: expressing interest, answering, moving along, writing."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from marketplace import constants
from marketplace.form_fields import choices, decline_note_field, decline_reason_field
from marketplace.models.introductions import MESSAGE_LIMIT

NOTE_LIMIT = 500


class InterestForm(FlaskForm):
    # No ``required``: a select always sends its chosen option; a forged value is refused.
    own_listing = SelectField(_l("From your listing"), coerce=int)
    message = TextAreaField(_l("Your message"), validators=[
        DataRequired(_l("Write a short message: say who you are and what you hope for.")),
        Length(max=MESSAGE_LIMIT)])
    wishes = SelectMultipleField(_l("You would like (optional)"), validators=[Optional()],
                                 choices=choices(constants.WISH_LABELS),
                                 widget=ListWidget(prefix_label=False),
                                 option_widget=CheckboxInput())
    submit = SubmitField(_l("Send the request"))


class _Versioned(FlaskForm):
    # The version of the introduction the page showed: a move made on an older page is refused.
    version = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])


class AcceptForm(_Versioned):
    submit = SubmitField(_l("Accept and share contact details"))


class DeclineForm(_Versioned):
    reason = decline_reason_field()
    note = decline_note_field()
    submit = SubmitField(_l("Decline"))


class MoveForm(_Versioned):
    stage = HiddenField(validators=[DataRequired()])
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=NOTE_LIMIT)])


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Message"), validators=[
        DataRequired(_l("The message is empty.")), Length(max=MESSAGE_LIMIT)])
    submit = SubmitField(_l("Send"))


class ProposeForm(FlaskForm):
    """Staff propose an introduction between two listings, on the parties' behalf."""

    need_id = IntegerField(_l("Need (number)"), validators=[InputRequired()])
    solution_id = IntegerField(_l("Solution (number)"), validators=[InputRequired()])
    message = TextAreaField(_l("Message to both sides"), validators=[
        DataRequired(), Length(max=MESSAGE_LIMIT)])
    submit = SubmitField(_l("Propose the introduction"))
