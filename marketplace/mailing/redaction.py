"""What the mail outbox viewer may show: written mail minus the secrets in its links.

A password-reset or verification link is a bearer credential: whoever reads it can take the
account over.  The outbox keeps the real message (embedded mode delivers through it), so the
viewer redacts the token in every part it shows.  Kept free of Flask so it can be tested alone.
"""

from __future__ import annotations

import re

PLACEHOLDER = "[token-redacted]"

# The routes whose last path segment is a token (auth.reset_password, auth.verify_email).
# A token is URL-safe base64 with dots (itsdangerous); /verify/resend is a page, not a token.
_TOKEN_LINK = re.compile(r"(/password/reset/|/verify/)(?!resend\b)[A-Za-z0-9_.\-]+")


def redact_token_links(text: str) -> str:
    """``text`` (plain or HTML) with the token of every reset and verification link replaced
    by PLACEHOLDER; everything else untouched."""
    return _TOKEN_LINK.sub(lambda m: m.group(1) + PLACEHOLDER, text)
