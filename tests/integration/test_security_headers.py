"""Security headers on every response (issue 9, item 8) and the configurable trust in proxies:
X-Forwarded-* count only when PROXY_FIX_* says how many proxies set them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from marketplace import create_app
from marketplace.emagazine import subscribers
from marketplace.extensions import db

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
PAGES = ("/", "/solutions", "/login", "/static/app.css", "/no-such-page")


def _csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return dict(part.strip().partition(" ")[::2] for part in policy.split(";"))


@pytest.mark.parametrize("path", PAGES)
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    response.close()  # a static file is streamed from an open file

    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    csp = _csp(response)
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["img-src"] == "'self' data:"
    assert csp["object-src"] == "'none'"
    assert csp["base-uri"] == "'self'"
    assert csp["form-action"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"


def test_no_page_allows_inline_script(client):
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


def test_pages_have_no_inline_script_or_style_for_the_policy_to_block():
    # E-mails are exempt: mail clients need inline CSS, and they are not served as pages.
    offenders = []
    pattern = re.compile(r"<script>|<style|\son[a-z]+=|\sstyle=|javascript:", re.IGNORECASE)
    for template in TEMPLATES.rglob("*.html"):
        if "email" in template.relative_to(TEMPLATES).parts:
            continue
        for number, line in enumerate(template.read_text().splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{template.relative_to(TEMPLATES)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_the_language_switcher_is_driven_by_a_script_file(client):
    page = client.get("/").get_data(as_text=True)
    assert 'data-autosubmit' in page and "onchange" not in page
    assert '<script src="/static/app.js" defer></script>' in page
    with client.get("/static/app.js") as script:
        assert script.status_code == 200


def test_hsts_is_not_sent_outside_production(client):
    assert "Strict-Transport-Security" not in client.get("/").headers


def _app(database_url: str, **config):
    return create_app({
        "TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False, "MAIL_TRANSPORT": "outbox", **config,
    })


@pytest.fixture
def make_app(app, database_url):
    """Apps with other settings, on the test database (``app`` empties it afterwards)."""
    made = []

    def make(**config):
        other = _app(database_url, MAIL_OUTBOX_DIR=app.config["MAIL_OUTBOX_DIR"], **config)

        @other.get("/_test/request")
        def whoami():
            from flask import request

            return {"addr": request.remote_addr, "scheme": request.scheme, "host": request.host}

        made.append(other)
        return other

    yield make
    for other in made:
        with other.app_context():
            db.engine.dispose()


def test_hsts_is_sent_in_production(make_app):
    production = make_app(MARKETPLACE_ENV="production")
    response = production.test_client().get("/")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


FORWARDED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https",
             "X-Forwarded-Host": "market.example.org"}


def test_forwarded_headers_are_ignored_without_a_proxy(make_app):
    seen = make_app().test_client().get(
        "/_test/request", headers=FORWARDED, environ_base={"REMOTE_ADDR": "10.0.0.2"}).json
    assert seen == {"addr": "10.0.0.2", "scheme": "http", "host": "localhost"}


def test_forwarded_headers_count_behind_a_configured_proxy(make_app):
    proxied = make_app(PROXY_FIX_X_FOR=1, PROXY_FIX_X_PROTO=1, PROXY_FIX_X_HOST=1)
    seen = proxied.test_client().get(
        "/_test/request", headers=FORWARDED, environ_base={"REMOTE_ADDR": "10.0.0.2"}).json
    assert seen == {"addr": "203.0.113.9", "scheme": "https", "host": "market.example.org"}


def test_only_the_last_proxy_hop_is_trusted(make_app):
    # A client can send its own X-Forwarded-For; the proxy appends the address it saw.
    proxied = make_app(PROXY_FIX_X_FOR=1)
    seen = proxied.test_client().get(
        "/_test/request", headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.9"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"}).json
    assert seen["addr"] == "203.0.113.9"


def test_the_emagazine_opt_in_records_the_client_address_behind_a_proxy(make_app):
    proxied = make_app(PROXY_FIX_X_FOR=1)
    response = proxied.test_client().post(
        "/emagazine/subscribe", data={"email": "mai@example.org", "language": "en"},
        headers={"X-Forwarded-For": "203.0.113.9"}, environ_base={"REMOTE_ADDR": "10.0.0.2"})

    assert response.status_code == 302
    db.session.expire_all()
    assert subscribers.find("mai@example.org").signup_ip == "203.0.113.9"


@pytest.mark.parametrize("setting", ["PROXY_FIX_X_FOR", "PROXY_FIX_X_PROTO", "PROXY_FIX_X_HOST"])
def test_proxy_settings_are_read_from_the_environment(setting, tmp_path):
    from marketplace.config import ENV_SETTINGS, load_settings

    assert setting in ENV_SETTINGS
    assert load_settings({}, str(tmp_path))[setting] == 0
    assert load_settings({setting: "2"}, str(tmp_path))[setting] == 2


@pytest.mark.parametrize("path", ["/staff/outbox/some-message", "/staff/emagazine/1/preview"])
def test_only_the_mail_previews_allow_inline_styles(app, path):
    # Their sandboxed iframe shows an e-mail's HTML, whose CSS is inline; it inherits the policy.
    from marketplace.http_security import content_security_policy

    with app.test_request_context(path):
        policy = content_security_policy()
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "script-src 'self';" in policy
