"""Shared fixtures.

The database is SQLite by default; set TEST_DATABASE_URL to run the same suite on PostgreSQL
(``make test`` does both).  The schema is built once per run by the migrations.  Each test
commits for real - requests run in their own sessions, as in production - and the tables are
emptied afterwards.  (A rolled-back outer transaction would hide data from the separate
processes the later integration tests start, such as Celery workers.)
"""

from __future__ import annotations

import contextvars
import os
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from marketplace import create_app
from marketplace.extensions import db, limiter
from tests import factories

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")


def _reset_postgres(url: str) -> None:
    """Drop and recreate the public schema, so the migrations start from empty."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def _instance_path(tmp_path_factory):
    """Apps made in tests keep their instance folder (secret key, outbox) out of the repo."""
    os.environ["MARKETPLACE_INSTANCE_PATH"] = str(tmp_path_factory.mktemp("instance"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if TEST_DATABASE_URL:
        url = TEST_DATABASE_URL
        # No skipping: if PostgreSQL was asked for and is not there, every test errors.
        _reset_postgres(url)
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def app(database_url):
    instance = Path(os.environ["MARKETPLACE_INSTANCE_PATH"])
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "MAIL_TRANSPORT": "outbox",
        "MAIL_OUTBOX_DIR": str(instance / "outbox"),
        "SERVER_NAME": "localhost",
        "PUBLIC_BASE_URL": "http://localhost",
    })
    with app.app_context():
        upgrade()
    yield app
    # Close pooled connections now, not in the garbage collector (a ResourceWarning).
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _app_context(request):
    """Every test that uses the app runs inside its context and leaves the tables empty."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        yield
        db.session.info.pop("outbox_to_publish", None)  # the test is over: nothing to publish
        db.session.remove()
        _empty_tables()
        limiter.reset()  # the limits stay on; each test starts with none used
        backend = app.extensions.pop("search_backend", None)
        if backend is not None:
            backend.drop()
    for message in Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"):
        message.unlink()


# A pure cache keyed by content: keeping it between tests saves recomputing embeddings.
KEPT_TABLES = {"embedding_cache"}


def _empty_tables() -> None:
    tables = [t for t in db.metadata.sorted_tables if t.name not in KEPT_TABLES]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(t.name for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                conn.execute(table.delete())


class IsolatedClient(FlaskClient):
    """Runs each request in a fresh context, as in production.

    Flask reuses an app context that is already pushed - here, the test's own - which would
    share ``g``, the cached locale and the database session between the test and its requests
    and hide bugs.  An empty ``contextvars.Context`` makes every request start clean.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, user_or_email, password: str = factories.PASSWORD):
        email = getattr(user_or_email, "email", user_or_email)
        response = self._client.post("/login", data={"email": email, "password": password})
        assert response.status_code == 302, "login failed"
        return response

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


class Outbox:
    """The mail the app wrote, read back as a person would."""

    def __init__(self, folder: str):
        self.folder = Path(folder)

    def messages(self):
        from email import policy
        from email.parser import BytesParser

        return [BytesParser(policy=policy.default).parsebytes(p.read_bytes())
                for p in sorted(self.folder.glob("*.eml"))]

    def last(self):
        messages = self.messages()
        assert messages, "no mail was written"
        return messages[-1]

    def last_link(self, path_prefix: str) -> str:
        body = self.last().get_body(preferencelist=("plain",)).get_content()
        match = re.search(r"http://localhost(" + re.escape(path_prefix) + r"\S+)", body)
        assert match, f"no {path_prefix} link in: {body}"
        return match.group(1)


@pytest.fixture
def outbox(app):
    return Outbox(app.config["MAIL_OUTBOX_DIR"])


@pytest.fixture
def is_postgres(database_url) -> bool:
    return make_url(database_url).get_backend_name() == "postgresql"
