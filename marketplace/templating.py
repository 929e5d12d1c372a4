"""Template helpers: Markdown through a sanitiser, labels for codes, the language menu."""

from __future__ import annotations

import markdown as markdown_lib
import nh3
from flask import Flask
from flask_babel import get_locale
from markupsafe import Markup

from marketplace import constants
from marketplace.taxonomy import taxonomy

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "a", "blockquote", "code", "pre",
    "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "hr",
}


def render_markdown(text: str | None) -> Markup:
    html = markdown_lib.markdown(text or "", extensions=["tables", "sane_lists"])
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener",
    )
    return Markup(clean)


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale else "en"


def sector_name(code: str) -> str:
    tree = taxonomy()
    return tree[code].name(current_language()) if code in tree else code


def init_app(app: Flask) -> None:
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["sector_name"] = sector_name
    labels = {
        "country_name": constants.COUNTRIES,
        "status_name": constants.STATUSES,
        "org_kind_name": constants.ORG_KINDS,
        "base_name": constants.BASES,
        "language_name": constants.LISTING_LANGUAGES,
        "moderation_action_name": constants.MODERATION_ACTIONS,
        "issue_status_name": constants.ISSUE_STATUSES,
        "section_kind_name": constants.SECTION_KINDS,
    }
    for name, mapping in labels.items():
        app.jinja_env.filters[name] = _labeller(mapping)
    app.jinja_env.filters["unit_name"] = _unit_name
    app.jinja_env.filters["number"] = _format_number

    @app.context_processor
    def inject_globals() -> dict:
        return {
            "LANGUAGES": constants.LANGUAGES,
            "current_language": current_language(),
            "is_embedded": app.config["MARKETPLACE_ENV"] == "embedded",
        }


def _labeller(mapping: dict):
    """A filter showing a code's label in the reader's language, or the code if unknown."""
    return lambda code: mapping.get(code, code) if code else ""


def _unit_name(unit: str | None) -> str:
    return str(constants.CAPACITY_UNITS[unit][2]) if unit in constants.CAPACITY_UNITS else ""


def _format_number(value: float | int | None) -> str:
    if value is None:
        return ""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")
