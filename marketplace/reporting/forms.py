"""The dashboard's filters: a GET form, so a filtered dashboard is a link staff can share."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import Form, SelectField
from wtforms.fields import DateField
from wtforms.validators import Optional, ValidationError

from marketplace import constants
from marketplace.reporting.scope import Scope
from marketplace.taxonomy import taxonomy
from marketplace.templating import current_language


class ScopeForm(Form):
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])
    country = SelectField(_l("Country"), validators=[Optional()])
    sector = SelectField(_l("Sector"), validators=[Optional()])
    base = SelectField(_l("Demonstration base"), validators=[Optional()])

    def __init__(self, formdata, **kwargs):
        super().__init__(formdata, **kwargs)
        everything = [("", _l("All"))]
        self.country.choices = everything + [
            (code, constants.COUNTRIES[code]) for code in ("CN", *constants.ASEAN_COUNTRIES)]
        self.sector.choices = everything + taxonomy().choices(current_language())
        self.base.choices = everything + list(constants.BASES.items())

    def validate_end(self, field) -> None:
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError(_l("The end of the period comes before its start."))

    def scope(self) -> Scope:
        return Scope(start=self.start.data, end=self.end.data,
                     country=self.country.data or None, sector=self.sector.data or None,
                     base=self.base.data or None)

    def query_args(self) -> dict[str, str]:
        """The filters as URL arguments, for the export links."""
        return {name: str(field.data) for name, field in self._fields.items() if field.data}
