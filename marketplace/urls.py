"""Where the site may send a visitor next: the one check for every ``next`` parameter."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

# Browsers drop tab, CR and LF anywhere in a URL and read "\" as "/", so "/\t/evil.example"
# and "/\evil.example" both lead to //evil.example.  No same-site link needs either.
_REFUSED = re.compile(r"[\x00-\x1f\x7f\\]")


def safe_next(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site, else ``default``.

    Checked on the text as given and on every percent-decoded form of it, so that a path that
    is decoded once more on the way (by a proxy, a framework, the browser) cannot turn into
    another site either.
    """
    if not target:
        return default
    form, seen = target, set()
    while form not in seen:
        if not _is_local_path(form):
            return default
        seen.add(form)
        form = unquote(form)
    return target


def _is_local_path(value: str) -> bool:
    if _REFUSED.search(value) or not value.startswith("/") or value.startswith("//"):
        return False
    parts = urlsplit(value)
    return not parts.scheme and not parts.netloc
