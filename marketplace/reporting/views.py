"""The staff dashboard and its exports, and the public results page."""

from __future__ import annotations

import io
import zipfile

from flask import Blueprint, abort, current_app, flash, render_template, request
from flask_babel import gettext as _

from marketplace import constants
from marketplace.accounts.access import staff_required
from marketplace.input_guards import BadInput
from marketplace.reporting import charts, exports, results
from marketplace.reporting.dashboard import dashboard
from marketplace.reporting.forms import ScopeForm
from marketplace.reporting.tables import cell_text
from marketplace.spreadsheets import download_headers
from marketplace.templating import sector_name

bp = Blueprint("reporting", __name__)
# The table macro (templates/reporting/_tables.html) draws every report table with these.
bp.add_app_template_global(charts.image_uri, "chart_uri")
bp.add_app_template_global(cell_text, "cell_text")


def _scope_form() -> ScopeForm:
    form = ScopeForm(request.args)
    if not form.validate():  # an export link with bad filters: the error page says why
        raise BadInput(" ".join(str(error) for errors in form.errors.values()
                                for error in errors))
    return form


def _scope_lines(form: ScopeForm) -> list[str]:
    """The filters in words, at the top of every review report."""
    scope = form.scope()
    every = _("All")
    return [
        _("ASEAN-China EST Marketplace: review report"),
        _("Period: %(start)s to %(end)s", start=scope.start or _("the beginning"),
          end=scope.end or _("today")),
        _("Country: %(value)s", value=constants.COUNTRIES.get(scope.country, every)),
        _("Sector: %(value)s", value=sector_name(scope.sector) if scope.sector else every),
        _("Demonstration base: %(value)s", value=constants.BASES.get(scope.base, every)),
    ]


@bp.get("/staff/dashboard")
@staff_required
def staff_dashboard():
    form = ScopeForm(request.args)
    if not form.validate():
        # Keep what was typed in the form, and say what is wrong with it.
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return render_template("reporting/dashboard.html", form=form, sections=[]), 400
    return render_template("reporting/dashboard.html", form=form,
                           sections=dashboard(form.scope()), export_args=form.query_args())


@bp.get("/staff/dashboard/<key>.csv")
@staff_required
def table_csv(key: str):
    form = _scope_form()
    table = exports.find_table(dashboard(form.scope()), key)
    if table is None:
        abort(404)
    return exports.table_csv(table), 200, download_headers(f"{key}{_suffix(form)}.csv")


@bp.get("/staff/dashboard/review.xlsx")
@staff_required
def review_workbook():
    form = _scope_form()
    body = exports.workbook(dashboard(form.scope()), _scope_lines(form))
    return body, 200, download_headers(f"review{_suffix(form)}.xlsx", exports.XLSX_TYPE)


@bp.get("/staff/dashboard/review.pdf")
@staff_required
def review_pdf():
    form = _scope_form()
    return _pdf(form), 200, download_headers(f"review{_suffix(form)}.pdf", exports.PDF_TYPE)


@bp.get("/staff/dashboard/review.zip")
@staff_required
def review_bundle():
    """The review report as one download: the workbook and the PDF summary."""
    form = _scope_form()
    sections, lines, suffix = dashboard(form.scope()), _scope_lines(form), _suffix(form)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(f"review{suffix}.xlsx", exports.workbook(sections, lines))
        bundle.writestr(f"review{suffix}.pdf", _pdf(form, sections, lines))
    return out.getvalue(), 200, download_headers(f"review{suffix}.zip", "application/zip")


@bp.get("/results")
def public_results():
    return render_template("reporting/results.html", tables=results.results(),
                           minimum=results.MIN_ORGANISATIONS, suppressed=results.SUPPRESSED)


def _pdf(form: ScopeForm, sections=None, lines=None) -> bytes:
    try:
        return exports.pdf(sections or dashboard(form.scope()), lines or _scope_lines(form))
    except OSError:  # WeasyPrint could not load pango: the server lacks a system library
        current_app.logger.exception("PDF export needs pango (see the README)")
        abort(503, description=_("The PDF summary cannot be made on this server (its PDF "
                                 "library is missing); the workbook still works."))


def _suffix(form: ScopeForm) -> str:
    scope = form.scope()
    return "".join(f"-{part}" for part in (scope.start, scope.end) if part)

