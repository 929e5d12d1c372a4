"""The EST marketplace web application."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from marketplace.config import load_settings
from search import embeddings

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.environ.get("MARKETPLACE_INSTANCE_PATH", str(PROJECT_ROOT / "instance")),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder="static",
    )
    app.config.from_mapping(load_settings(os.environ, app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)
    # Before anything embeds: OpenMP reads its thread count once (search/embeddings.py).
    embeddings.limit_threads(app.config["EMBEDDER_THREADS"])
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    # Imported here, not at the top: every module of the app imports this package first (for
    # ``marketplace.extensions``), so importing them at the top would be a cycle.
    from marketplace import (
        cli,
        errors,
        http_security,
        i18n,
        input_guards,
        logs,
        taxonomy,
        templating,
    )
    from marketplace.blueprints import register_blueprints
    from marketplace.extensions import csrf, db, limiter, login_manager, migrate
    from marketplace.outbox import relay

    logs.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), compare_type=True)
    http_security.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    i18n.init_app(app)
    templating.init_app(app)
    taxonomy.init_app(app)
    errors.init_app(app)
    relay.init_app(app, publisher=app.config.get("OUTBOX_PUBLISHER") or _default_publisher(app))
    input_guards.init_app(app)  # before the blueprints: their rules use its converters
    register_blueprints(app)
    cli.init_app(app)
    return app


def _default_publisher(app: Flask):
    """Celery when Redis is configured, else handle events in this process."""
    from marketplace import jobs
    from marketplace.outbox import topics

    if app.config.get("REDIS_URL") and not app.config.get("JOBS_IN_PROCESS"):
        return jobs.celery_publisher
    return topics.inline_publisher
