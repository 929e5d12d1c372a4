"""The digest preferences form.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    SelectField,
    SubmitField,
)

from marketplace.form_fields import DIGEST_FREQUENCY_CHOICES


class NotificationsForm(FlaskForm):
    frequency = SelectField(_l("Send me match digests"), choices=DIGEST_FREQUENCY_CHOICES)
    need_matches = BooleanField(_l("Solutions found for my needs"))
    solution_matches = BooleanField(_l("Needs found for my solutions"))
    saved_searches = BooleanField(_l("New results for my saved searches"))
    submit = SubmitField(_l("Save"))
