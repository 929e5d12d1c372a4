"""Template helpers: Markdown through a sanitiser, user-supplied URLs through ``safe_url``,
labels for codes, the language menu."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

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


# Characters that make links, images, emphasis, code or tables anywhere in a line.
_MARKDOWN_INLINE = re.compile(r"([\\`*_{}\[\]()!|])")
# What starts a heading, quote or list, and so matters only at the start of the line.
_MARKDOWN_LINE_START = re.compile(r"^(\s*\d*)([#+\-]|(?<=\d)[.)])")


def markdown_escape(text: str | None) -> str:
    """Plain text (a name, a title) made inert inside Markdown: it renders as itself, never
    as a link, an image, emphasis, a heading or raw HTML.  Everything the marketplace writes
    into Markdown goes through this, since the sanitiser lets ``<a href="https:...">`` by.
    One line: a newline could start a link reference definition."""
    text = " ".join((text or "").split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKDOWN_INLINE.sub(r"\\\1", text)
    return _MARKDOWN_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


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


WEB_SCHEMES = ("http", "https")
# Browsers drop tabs and newlines anywhere in a URL ("java\tscript:" is "javascript:") and
# C0 controls and spaces at either end; we do the same before looking at the scheme.
_DROPPED_ANYWHERE = re.compile(r"[\t\n\r]")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\\<>\"'`]")


def safe_url(value: str | None) -> str:
    """``value`` as a normalised http(s) URL (scheme and host lower-cased), or "".

    The one gate for every URL a user typed: forms store only what passes it, and templates
    render stored URLs through it, so a row saved before the check cannot become a link to
    ``javascript:``.  Refused: other schemes, scheme-relative and schemeless addresses,
    user names before the host (``https://trusted@evil``), spaces, controls and backslashes.
    """
    if not isinstance(value, str):
        return ""
    url = _DROPPED_ANYWHERE.sub("", value).strip(_C0_AND_SPACE)
    if _FORBIDDEN.search(url):
        return ""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError when it is not a number below 65536
    except ValueError:
        return ""
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if scheme not in WEB_SCHEMES or not host or "@" in parts.netloc:
        return ""
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    return urlunsplit((scheme, netloc, parts.path, parts.query, parts.fragment))


def markdown_link(text: str, url: str | None) -> str:
    """A Markdown link to ``url`` if it is a safe web address, else the text alone."""
    href = safe_url(url)
    if not href:
        return markdown_escape(text)
    # Parentheses would end the link's destination early.
    href = href.replace("(", "%28").replace(")", "%29")
    return f"[{markdown_escape(text)}]({href})"


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale else "en"


def sector_name(code: str) -> str:
    tree = taxonomy()
    return tree[code].name(current_language()) if code in tree else code


def init_app(app: Flask) -> None:
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["sector_name"] = sector_name
    app.jinja_env.filters["safe_url"] = safe_url
    labels = {
        "country_name": constants.COUNTRIES,
        "status_name": constants.STATUSES,
        "org_kind_name": constants.ORG_KINDS,
        "base_name": constants.BASES,
        "language_name": constants.LISTING_LANGUAGES,
        "moderation_action_name": constants.MODERATION_ACTIONS,
        "issue_status_name": constants.ISSUE_STATUSES,
        "section_kind_name": constants.SECTION_KINDS,
        "dismiss_reason_name": constants.DISMISS_REASON_LABELS,
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
