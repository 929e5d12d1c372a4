"""The form an owner dismisses a match with, and why.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    SelectField,
    SubmitField,
)
from wtforms.validators import (
    Optional,
)

from marketplace import constants
from marketplace.models.discovery import DISMISS_REASONS


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
