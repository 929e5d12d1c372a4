"""Template helpers: Markdown through a sanitiser, Markdown as plain text for excerpts and
search snippets, user-supplied URLs through ``safe_url``, labels for codes, the language menu."""

from __future__ import annotations

import functools
import html
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


# Markdown syntax, for reading it as plain text (``plain_text``).  Line patterns first:
_HEADING = re.compile(r"^ {0,3}#{1,6}(?:[ \t]+|$)(.*?)(?:[ \t]+#+)?[ \t]*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])[ \t]+")
_QUOTE = re.compile(r"^\s*(?:>[ \t]?)+")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_TABLE_RULE = re.compile(r"^[ \t|:-]*-{3,}[ \t|:-]*$")
_LINK_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:[ \t]*\S+.*$")
# ... then inline ones: links and images keep their text; emphasis and code marks go, but
# not the underscore inside a word (snake_case) nor a lone star between spaces (5 * 3).
_LINK = re.compile(r"!?\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])")
_EMPHASIS = re.compile(r"(?<!\w)[*_]{1,3}(?=\S)|(?<=\S)[*_]{1,3}(?!\w)|`+|\|")
# A backslash escape stands for its character: it is kept aside (as a private-use character)
# while the syntax goes, so "\*" stays a star.  Never <, > or &: fragments are HTML.
_ESCAPABLE = "\\`*_{}[]()#+-.!|"
_ESCAPE = re.compile(r"\\([" + re.escape(_ESCAPABLE) + "])")
_KEPT = {0xE000 + ord(c): c for c in _ESCAPABLE}
_SENTENCE_END = tuple(".!?:;…。！？：；")
# Where highlight fragments mark matches (see search/backends: "<mark>...</mark>").
_MARK_OPEN, _MARK_CLOSE = "<mark>", "</mark>"
_OPEN, _CLOSE = "\x02", "\x03"


def plain_text(text: str | None) -> str:
    """Markdown source read as one line of plain text, for excerpts, snippets and e-mails:
    "## Overview\\n\\nMBR **plants**" -> "Overview. MBR plants".  Headings and list items end
    as sentences, so they do not run into the next line.  It works on a piece cut anywhere
    (a highlight fragment), since it only removes syntax and never needs the whole."""
    text = _ESCAPE.sub(lambda m: chr(0xE000 + ord(m.group(1))), text or "")
    lines = []
    for line in text.splitlines():
        if _RULE.match(line) or _TABLE_RULE.match(line) or _LINK_DEFINITION.match(line):
            continue
        # A snippet may start where a line does, after the backend's "…".
        cut = "…" if line.startswith("…") else ""
        line = line.removeprefix(cut)
        heading = _HEADING.match(line)
        line = heading.group(1) if heading else _QUOTE.sub("", line)
        item = _LIST_ITEM.match(line)
        line = _EMPHASIS.sub("", _LINK.sub(r"\1", line[item.end():] if item else line)).strip()
        if line and (heading or item) and not _ends_sentence(line):
            line += "."
        lines.append(cut + line)
    return " ".join(" ".join(lines).split()).translate(_KEPT)


def _ends_sentence(line: str) -> bool:
    return line.translate({ord(_OPEN): None, ord(_CLOSE): None}).endswith(_SENTENCE_END)


def plain_fragment(fragment: str | None) -> Markup:
    """A highlight fragment (HTML-escaped text with <mark> tags, as both search backends
    return it) with its Markdown syntax removed and its marks kept."""
    text = (fragment or "").translate({ord(_OPEN): None, ord(_CLOSE): None})
    text = plain_text(text.replace(_MARK_OPEN, _OPEN).replace(_MARK_CLOSE, _CLOSE))
    return Markup(text.replace(_OPEN, _MARK_OPEN).replace(_CLOSE, _MARK_CLOSE))


def shorten(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:.") + "…"


def excerpt(listing, limit: int = 220) -> str:
    """What a card, a search result or an e-mail shows of a listing: a solution's summary, a
    need's description, as plain text.  Raw HTML in the Markdown is dropped, not shown."""
    source = listing.summary if listing.kind == "solution" else listing.description
    return _excerpt_of(source or "", limit)


@functools.lru_cache(maxsize=4096)
def _excerpt_of(source: str, limit: int) -> str:
    """``excerpt`` depends on the text alone: cached, since a digest run shows the same few
    hundred listings in thousands of e-mails (twice each: text and HTML)."""
    return shorten(plain_text(html.unescape(nh3.clean(source, tags=set()))), limit)


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
    app.jinja_env.filters["plain_fragment"] = plain_fragment
    app.jinja_env.filters["excerpt"] = excerpt
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
        "stage_name": constants.INTRODUCTION_STAGES,
        "decline_reason_name": constants.DECLINE_REASON_LABELS,
        "wish_name": constants.WISH_LABELS,
        "schedule_state_name": constants.SCHEDULE_STATES,
        "meeting_request_status_name": constants.MEETING_REQUEST_STATUSES,
        "meeting_status_name": constants.MEETING_STATUSES,
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
