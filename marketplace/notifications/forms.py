"""The mail preferences form: match digests, and messages in introductions."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    SelectField,
    SubmitField,
)
from wtforms.validators import Optional

from marketplace.form_fields import DIGEST_FREQUENCY_CHOICES


class NotificationsForm(FlaskForm):
    frequency = SelectField(_l("Send me match digests"), choices=DIGEST_FREQUENCY_CHOICES)
    need_matches = BooleanField(_l("Solutions found for my needs"))
    solution_matches = BooleanField(_l("Needs found for my solutions"))
    saved_searches = BooleanField(_l("New results for my saved searches"))
    # Optional: only members of an organisation see it (staff have no introductions).
    introduction_notice = SelectField(_l("Messages in my introductions"), validators=[
        Optional()], choices=[("immediate", _l("Each by e-mail at once")),
                              ("daily", _l("One summary a day"))])
    submit = SubmitField(_l("Save"))
