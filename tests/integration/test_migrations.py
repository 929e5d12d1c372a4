"""Only migrations create the schema: they must build it from empty, match the models, and
go back down cleanly."""

import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from marketplace import create_app
from marketplace.extensions import db


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = "est_test_migrations"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


# SQLite cannot reflect expression indexes (lower(email)); batch migrations reflect tables.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection:sqlalchemy.exc.SAWarning")
def test_migrations_build_the_schema_from_empty_and_match_the_models(
        empty_database_url, tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url,
                      "SECRET_KEY": "x"})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            with warnings.catch_warnings():
                # Alembic cannot compare the lower(email) index on SQLite and says so; the
                # next test proves the index works.
                warnings.simplefilter("ignore", UserWarning)
                diff = compare_metadata(
                    MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
        assert diff == []
        tables = set(inspect(db.engine).get_table_names())
        assert {"users", "organizations", "solutions", "needs", "moderation_decisions"} <= tables

        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}

        upgrade()
        assert "solutions" in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_email_is_unique_whatever_its_case(app):
    from sqlalchemy.exc import IntegrityError

    from tests.factories import UserFactory

    UserFactory(email="same@example.org")
    with pytest.raises(IntegrityError):
        # Bypass the app's lower-casing to prove the database itself refuses.
        db.session.execute(text(
            "INSERT INTO users (email, password_hash, name, role, language, is_active_account,"
            " created_at) VALUES ('SAME@example.org', 'x', 'x', 'buyer', 'en', true,"
            " CURRENT_TIMESTAMP)"))
    db.session.rollback()
