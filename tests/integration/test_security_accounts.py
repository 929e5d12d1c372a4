"""Issue 9, accounts: redirects after sign-in, e-mail links, throttling, sessions, enumeration
and transactional mail sent as jobs.  Each test failed on the code before its fix."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select

from marketplace.accounts.registration import find_user_by_email
from marketplace.config import load_settings
from marketplace.extensions import db
from marketplace.mailing import transport
from marketplace.models import OutboxEvent, User
from marketplace.outbox import relay
from tests.factories import PASSWORD, UserFactory
from tests.integration.test_accounts import NEW_ORG as NEW_ACCOUNT
from tests.support.smtp_sink import SmtpSink

# private_redis, smtp_sink, celery_worker, celery_mode (see test_workers.py).
pytest_plugins = ["tests.support.processes"]

# ---------------------------------------------------------------------------------------------
# Item 3: open redirects.  Browsers strip tab/CR/LF and read "\" as "/", so each of these
# would reach another site (or run script) if followed.
BYPASSES = [
    "//evil.example/x", "/\\evil.example", "\\\\evil.example", "/\t/evil.example",
    "/\r\n/evil.example", "/%09/evil.example", "/%2F%2Fevil.example", "/%5Cevil.example",
    "/%2F/evil.example", "%2F%2Fevil.example", "/%252F%252Fevil.example",
    "https://evil.example/", "https:evil.example", "javascript:alert(1)",
    "evil.example", " //evil.example", "/\x00/evil.example",
]


def _is_local(location: str) -> bool:
    return location.startswith("/") and location[1:2] not in ("/", "\\")


@pytest.mark.parametrize("target", BYPASSES)
def test_login_never_redirects_off_site(client, target):
    UserFactory(email="me@example.org")

    response = client.post("/login", query_string={"next": target},
                           data={"email": "me@example.org", "password": PASSWORD})

    if "\x00" in target:  # input_guards refuses a NUL in any query parameter first
        assert response.status_code == 400
        return
    assert response.status_code == 302
    assert response.headers["Location"] == "/my"


@pytest.mark.parametrize("target", BYPASSES)
def test_language_switch_never_redirects_off_site(client, target):
    response = client.post("/language", data={"language": "zh", "next": target})

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/browse/solutions?q=water&page=2", "/my", "/a%20b"])
def test_same_site_paths_are_followed(client, target):
    UserFactory(email="me@example.org")

    login = client.post("/login", query_string={"next": target},
                        data={"email": "me@example.org", "password": PASSWORD})
    language = client.post("/language", data={"language": "en", "next": target})

    assert login.headers["Location"] == target
    assert language.headers["Location"] == target


# ---------------------------------------------------------------------------------------------
# Item 1: e-mail links come from PUBLIC_BASE_URL, never from the request's Host.
EVIL = "http://evil.example"


@pytest.fixture
def any_host(app, monkeypatch):
    """As in production: no SERVER_NAME, so Flask builds request URLs from the Host header
    (the test app's SERVER_NAME would hide the bug)."""
    monkeypatch.setitem(app.config, "SERVER_NAME", None)


def _links(message) -> list[str]:
    body = message.get_body(preferencelist=("plain",)).get_content()
    return re.findall(r"https?://\S+", body)


def test_password_reset_link_ignores_the_request_host(client, outbox, any_host):
    UserFactory(email="me@example.org")

    client.post("/password/forgot", data={"email": "me@example.org"}, base_url=EVIL)

    links = _links(outbox.last())
    assert links and all(link.startswith("http://localhost/") for link in links)


def test_verification_link_ignores_the_request_host(client, outbox, any_host):
    client.post("/register", data=NEW_ACCOUNT, base_url=EVIL)

    links = _links(outbox.last())
    assert links and all(link.startswith("http://localhost/") for link in links)


def test_external_url_uses_the_public_base_url_inside_a_request(app, any_host):
    with app.test_request_context("/", base_url=EVIL):
        assert transport.external_url("public.home") == "http://localhost/"


def test_unknown_hosts_are_refused_when_trusted_hosts_are_set(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", ["localhost"])

    assert client.get("/", base_url=EVIL).status_code == 400
    assert client.get("/").status_code == 200


def test_production_trusts_only_the_public_host_by_default(tmp_path):
    environ = {"MARKETPLACE_ENV": "production", "SECRET_KEY": "k", "DATABASE_URL": "sqlite://",
               "PUBLIC_BASE_URL": "https://est.example.org"}

    default = load_settings(environ, str(tmp_path))["TRUSTED_HOSTS"]
    listed = load_settings({**environ, "TRUSTED_HOSTS": "a.example, b.example"},
                           str(tmp_path))["TRUSTED_HOSTS"]

    # Loopback stays trusted for the container's own healthcheck.
    assert default == ["est.example.org", "localhost", "127.0.0.1"]
    assert listed == ["a.example", "b.example"]
    assert load_settings({}, str(tmp_path))["TRUSTED_HOSTS"] is None


# ---------------------------------------------------------------------------------------------
# Item 5: a copied session or remember cookie dies at logout and at a password change.
def _login(client, email="me@example.org", password=PASSWORD, remember=False):
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    response = client.post("/login", data=data)
    assert response.status_code == 302, "login failed"
    return response


def _signed_in(app, cookies: dict[str, str]) -> bool:
    """Whether a fresh browser holding only these cookies is signed in."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other.get("/my").status_code == 200


def _cookies(client, *names) -> dict[str, str]:
    return {name: client.get_cookie(name).value for name in names if client.get_cookie(name)}


def test_a_copied_session_cookie_dies_at_logout(app, client):
    UserFactory(email="me@example.org")
    _login(client)
    copied = _cookies(client, "session")
    assert _signed_in(app, copied)

    client.post("/logout")

    assert not _signed_in(app, copied)


def test_a_copied_remember_cookie_dies_at_logout(app, client):
    UserFactory(email="me@example.org")
    _login(client, remember=True)
    copied = _cookies(client, "remember_token")
    assert _signed_in(app, copied)

    client.post("/logout")

    assert not _signed_in(app, copied)


def test_the_remember_cookie_differs_per_login_and_is_lax_and_short_lived(client):
    UserFactory(email="me@example.org")
    first = _login(client, remember=True)
    first_token = client.get_cookie("remember_token").value
    client.post("/logout")
    _login(client, remember=True)

    header = next(h for h in first.headers.getlist("Set-Cookie")
                  if h.startswith("remember_token="))
    cookie = client.get_cookie("remember_token")
    assert cookie.value != first_token
    assert "SameSite=Lax" in header and "HttpOnly" in header
    assert cookie.expires - datetime.now(UTC) < timedelta(days=31)


def test_a_password_change_ends_every_other_session(app, client):
    user = UserFactory(email="me@example.org")
    other_device = app.test_client()
    _login(other_device, remember=True)
    copied = _cookies(other_device, "session", "remember_token")
    _login(client)

    response = client.post("/account", data={
        "password-current": PASSWORD, "password-password": "new password 1",
        "password-confirm": "new password 1", "password-submit": "Change"})

    assert response.status_code == 302
    assert client.get("/my").status_code == 200  # the device that changed it stays in
    assert not _signed_in(app, copied)
    assert not _signed_in(app, {"remember_token": copied["remember_token"]})
    db.session.refresh(user)
    assert user.check_password("new password 1")


def test_a_password_reset_ends_every_session(app, client, outbox):
    UserFactory(email="me@example.org")
    _login(client, remember=True)
    copied = _cookies(client, "session", "remember_token")
    client.post("/logout")
    client.post("/password/forgot", data={"email": "me@example.org"})

    # Log in again elsewhere, then reset: that session ends too.
    other_device = app.test_client()
    _login(other_device)
    elsewhere = _cookies(other_device, "session")
    link = outbox.last_link("/password/reset/")
    client.post(link, data={"password": "a brand new pw", "confirm": "a brand new pw"})

    assert not _signed_in(app, copied)
    assert not _signed_in(app, elsewhere)


def test_sign_out_everywhere(app, client):
    UserFactory(email="me@example.org")
    other_device = app.test_client()
    _login(other_device, remember=True)
    copied = _cookies(other_device, "session", "remember_token")
    _login(client)
    assert "Sign out everywhere" in client.get("/account").get_data(as_text=True)

    response = client.post("/account/sign-out-everywhere")

    assert response.status_code == 302
    assert not _signed_in(app, copied)
    assert client.get("/my").status_code == 302


def test_sign_out_everywhere_needs_a_post_a_csrf_token_and_a_login(app, client):
    UserFactory(email="me@example.org")
    assert client.post("/account/sign-out-everywhere").status_code == 302  # to the login
    _login(client)
    assert client.get("/account/sign-out-everywhere").status_code == 405
    copied = _cookies(client, "session")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/account/sign-out-everywhere")
    finally:
        app.config["WTF_CSRF_ENABLED"] = False

    assert response.status_code == 400
    assert _signed_in(app, copied)


def test_login_starts_a_new_session(client):
    UserFactory(email="me@example.org")
    with client.session_transaction() as session:
        session["csrf_token"] = "set-before-login"
        session["planted"] = "by an attacker"

    _login(client)

    with client.session_transaction() as session:
        assert session.get("csrf_token") != "set-before-login"
        assert "planted" not in session


# ---------------------------------------------------------------------------------------------
# Item 4: throttling sign-in and the mails anyone can trigger, per account and per address.
def _wrong_login(client, email="me@example.org", ip="10.0.0.1"):
    return client.post("/login", data={"email": email, "password": "wrong password"},
                       environ_base={"REMOTE_ADDR": ip})


def test_login_is_throttled_per_account(app, client):
    UserFactory(email="me@example.org")
    UserFactory(email="colleague@example.org")
    allowed = int(app.config["LOGIN_RATE_LIMIT"].split()[0])
    for number in range(allowed):
        # From changing addresses: the per-address limit must not be what stops them.
        assert _wrong_login(client, ip=f"10.0.1.{number}").status_code == 400

    right = client.post("/login", data={"email": "ME@example.org ", "password": PASSWORD},
                        environ_base={"REMOTE_ADDR": "10.0.2.1"})

    assert right.status_code == 429
    assert "Too many attempts" in right.get_data(as_text=True)
    assert "Retry-After" in right.headers
    assert client.get("/my").status_code == 302
    # Another account is not locked by it.
    assert _login(client, email="colleague@example.org").status_code == 302


def test_login_is_throttled_per_address(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_IP_RATE_LIMIT", "3 per minute")
    for number in range(3):
        assert _wrong_login(client, email=f"guess{number}@example.org").status_code == 400

    assert _wrong_login(client, email="another@example.org").status_code == 429
    assert _wrong_login(client, email="another@example.org", ip="10.9.9.9").status_code == 400


def test_successful_logins_do_not_use_up_the_limit(app, client):
    UserFactory(email="me@example.org")
    for _ in range(int(app.config["LOGIN_RATE_LIMIT"].split()[0]) + 2):
        _login(client)
        client.post("/logout")


def test_password_reset_mails_are_throttled_per_address(app, client, outbox):
    UserFactory(email="me@example.org")
    allowed = int(app.config["MAIL_LINK_RATE_LIMIT"].split()[0])
    for number in range(allowed):
        response = client.post("/password/forgot", data={"email": "me@example.org"},
                               environ_base={"REMOTE_ADDR": f"10.0.3.{number}"})
        assert response.status_code == 302

    refused = client.post("/password/forgot", data={"email": "Me@example.org"})

    assert refused.status_code == 429
    assert "Too many attempts" in refused.get_data(as_text=True)
    assert len(outbox.messages()) == allowed


def test_password_reset_mails_are_throttled_per_ip(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_LINK_IP_RATE_LIMIT", "2 per minute")
    for number in range(2):
        assert client.post("/password/forgot",
                           data={"email": f"x{number}@example.org"}).status_code == 302

    assert client.post("/password/forgot", data={"email": "y@example.org"}).status_code == 429


def test_verification_mails_are_throttled_per_user(app, client, outbox):
    UserFactory(email="me@example.org", unverified=True)
    _login(client)
    allowed = int(app.config["MAIL_LINK_RATE_LIMIT"].split()[0])
    for number in range(allowed):
        response = client.post("/verify/resend", environ_base={"REMOTE_ADDR": f"10.0.4.{number}"})
        assert response.status_code == 302

    assert client.post("/verify/resend").status_code == 429
    assert len(outbox.messages()) == allowed


def test_rate_limits_live_in_redis_database_2_in_production(tmp_path):
    production = {"MARKETPLACE_ENV": "production", "SECRET_KEY": "k", "DATABASE_URL": "sqlite://",
                  "REDIS_URL": "redis://redis:6379"}

    assert load_settings(production, str(tmp_path))["RATELIMIT_STORAGE_URI"] == \
        "redis://redis:6379/2"
    assert load_settings({}, str(tmp_path))["RATELIMIT_STORAGE_URI"] == "memory://"


# ---------------------------------------------------------------------------------------------
# Item 13: account mail goes out as a job after the commit, retried like the digests.
@pytest.fixture
def smtp(app, monkeypatch):
    sink = SmtpSink().start()
    monkeypatch.setitem(app.config, "MAIL_TRANSPORT", "smtp")
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", sink.port)
    monkeypatch.setitem(app.config, "RETRY_BASE_SECONDS", 1)
    yield sink
    sink.stop()


def test_registration_answers_even_when_smtp_says_try_later(client, smtp):
    smtp.reply_with("a.nguyen@danang.example", "451 4.3.0 try again later", times=1)

    response = client.post("/register", data=NEW_ACCOUNT)

    assert response.status_code == 302
    assert find_user_by_email(NEW_ACCOUNT["email"]) is not None
    assert smtp.wait_for(1, timeout=10), "the verification mail was not retried"
    assert "Confirm your e-mail" in smtp.messages()[0]["Subject"]


def test_password_reset_answers_even_when_smtp_says_try_later(client, smtp):
    UserFactory(email="me@example.org")
    smtp.reply_with("me@example.org", "421 4.7.0 too busy", times=1)

    response = client.post("/password/forgot", data={"email": "me@example.org"})

    assert response.status_code == 302
    assert smtp.wait_for(1, timeout=10), "the reset mail was not retried"
    assert "/password/reset/" in smtp.messages()[0].get_body(("plain",)).get_content()


def test_on_celery_the_worker_retries_the_verification_mail(
        client, celery_mode, celery_worker, smtp_sink):
    smtp_sink.reply_with("a.nguyen@danang.example", "451 4.3.0 try again later", times=1)

    response = client.post("/register", data=NEW_ACCOUNT)

    assert response.status_code == 302
    assert smtp_sink.wait_for(1, timeout=60), celery_worker.log()
    link = re.search(r"http://localhost(/verify/\S+)",
                     smtp_sink.messages()[0].get_body(("plain",)).get_content()).group(1)
    celery_worker.wait_idle()
    assert client.get(link).status_code == 302
    assert find_user_by_email(NEW_ACCOUNT["email"]).email_verified


def test_account_mail_is_an_outbox_event_carrying_ids_only(client):
    client.post("/register", data=NEW_ACCOUNT)

    user = find_user_by_email(NEW_ACCOUNT["email"])
    event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.topic == relay.ACCOUNT_MAIL))
    assert event.payload == {"mail": "verify_email", "user": user.id}
    assert event.handled_at is not None


def test_a_refused_registration_writes_no_mail_event(client):
    client.post("/register", data={**NEW_ACCOUNT, "join_code": "no-such-code", "org_name": ""})

    assert db.session.scalar(select(func.count()).select_from(OutboxEvent)) == 0


# ---------------------------------------------------------------------------------------------
# Item 12: nobody can tell from the answers whether an address has an account.
def _flashes(client) -> list:
    with client.session_transaction() as session:
        return session.get("_flashes", [])


def test_registering_a_taken_address_answers_like_a_new_one(app, client, outbox):
    owner = UserFactory(email="taken@example.org", name="Owner")
    fresh = app.test_client()

    taken = client.post("/register", data={**NEW_ACCOUNT, "email": "TAKEN@example.org"})
    new = fresh.post("/register", data={**NEW_ACCOUNT, "email": "new@example.org"})

    assert (taken.status_code, taken.headers["Location"]) == \
        (new.status_code, new.headers["Location"])
    assert [text.replace("taken@", "new@") for _, text in _flashes(client)] == \
        [text for _, text in _flashes(fresh)]
    assert client.get("/my").status_code == fresh.get("/my").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(User)) == 2
    db.session.refresh(owner)
    assert owner.name == "Owner" and owner.check_password(PASSWORD)
    mails = {message["To"]: message for message in outbox.messages()}
    assert "Confirm your e-mail" in mails["new@example.org"]["Subject"]
    warning = mails["taken@example.org"]
    assert "tried to register" in warning["Subject"]
    body = warning.get_body(("plain",)).get_content()
    assert "http://localhost/login" in body and "http://localhost/password/forgot" in body
    assert "/verify/" not in body and "/password/reset/" not in body


def test_a_taken_address_with_a_wrong_join_code_answers_like_a_new_one(client):
    UserFactory(email="taken@example.org")
    data = {**NEW_ACCOUNT, "join_code": "no-such-code", "org_name": ""}

    taken = client.post("/register", data={**data, "email": "taken@example.org"})
    new = client.post("/register", data={**data, "email": "new@example.org"})

    assert taken.status_code == new.status_code == 400
    assert "No organisation has this code." in taken.get_data(as_text=True)
    assert "already exists" not in taken.get_data(as_text=True)


class _CountingHasher:
    """Counts the slow argon2 calls: equal counts mean equal time."""

    def __init__(self, hasher):
        self.hasher, self.calls = hasher, 0

    def hash(self, *args):
        self.calls += 1
        return self.hasher.hash(*args)

    def verify(self, *args):
        self.calls += 1
        return self.hasher.verify(*args)


@pytest.fixture
def argon2_calls(monkeypatch):
    from marketplace.models import users

    counter = _CountingHasher(users._hasher)
    monkeypatch.setattr(users, "_hasher", counter)
    return counter


def _calls_for(counter, action) -> int:
    before = counter.calls
    action()
    return counter.calls - before


def test_failed_logins_cost_the_same_for_unknown_known_and_deactivated_accounts(
        client, argon2_calls):
    UserFactory(email="me@example.org")
    UserFactory(email="gone@example.org", is_active_account=False)

    costs = {email: _calls_for(argon2_calls, lambda e=email: _wrong_login(client, email=e))
             for email in ("me@example.org", "nobody@example.org", "gone@example.org")}

    assert set(costs.values()) == {1}, costs


def test_registering_a_taken_address_costs_a_password_hash_too(client, argon2_calls):
    UserFactory(email="taken@example.org")

    taken = _calls_for(argon2_calls, lambda: client.post(
        "/register", data={**NEW_ACCOUNT, "email": "taken@example.org"}))
    new = _calls_for(argon2_calls, lambda: client.post(
        "/register", data={**NEW_ACCOUNT, "email": "new@example.org"}))

    assert taken == new == 1


# Item 9 (CR/LF in next): a header-splitting attempt answers with a redirect home, not a 500.
@pytest.mark.parametrize("raw", ["/%0D%0ALocation:%20http://evil.example", "%0d%0a%0d%0a<x>"])
def test_cr_lf_in_next_never_fails(client, raw):
    UserFactory(email="me@example.org")

    login = client.post(f"/login?next={raw}",
                        data={"email": "me@example.org", "password": PASSWORD})
    language = client.post("/language", data={"language": "en", "next": unquote(raw)})

    assert (login.status_code, login.headers["Location"]) == (302, "/my")
    assert (language.status_code, language.headers["Location"]) == (302, "/")
    assert "evil" not in str(login.headers) + str(language.headers)
