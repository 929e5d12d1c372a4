"""Security headers on every response, and trust in the proxies in front of the app.

The Content-Security-Policy allows scripts and styles from our own origin only, so that markup
a template fails to escape still cannot run script: every page's JavaScript lives in
``marketplace/static/*.js`` and every style in ``app.css`` (no inline handlers, no ``style=""``).
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from marketplace.config import PRODUCTION

CSP_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

# Pages that show an e-mail's HTML in a sandboxed srcdoc iframe.  The iframe inherits the page's
# policy, and our e-mails carry their CSS inline (mail clients ignore stylesheets), so these
# staff pages alone allow inline styles; scripts stay forbidden there too.
INLINE_STYLE_ENDPOINTS = frozenset({"staff.outbox_message", "emagazine_staff.preview"})

STATIC_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}

HSTS = "max-age=31536000"  # one year; sent only in production, which is served over HTTPS


def init_app(app: Flask) -> None:
    _trust_proxies(app)
    hsts = app.config["MARKETPLACE_ENV"] == PRODUCTION

    @app.after_request
    def _security_headers(response):
        for name, value in STATIC_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        if hsts:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response


def content_security_policy() -> str:
    directives = dict(CSP_DIRECTIVES)
    if request.endpoint in INLINE_STYLE_ENDPOINTS:
        directives["style-src"] = "'self' 'unsafe-inline'"
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def _trust_proxies(app: Flask) -> None:
    """Read the client's address, scheme and host from X-Forwarded-* set by that many proxies.

    With 0 (the default) the headers are ignored: anyone could forge them when no proxy
    overwrites them.
    """
    counts = {
        "x_for": app.config["PROXY_FIX_X_FOR"],
        "x_proto": app.config["PROXY_FIX_X_PROTO"],
        "x_host": app.config["PROXY_FIX_X_HOST"],
    }
    if any(counts.values()):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_port=0, x_prefix=0, **counts)
