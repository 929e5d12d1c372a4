"""Settings, read from the environment once, inside the app factory.

With nothing set the product runs in *embedded* mode: SQLite under ``instance/``, the local
search backend, jobs in-process and mail written as ``.eml`` files.  ``MARKETPLACE_ENV=production``
switches to production mode, which refuses to start without its secrets.
"""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

EMBEDDED = "embedded"
PRODUCTION = "production"

# How many proxies to trust for X-Forwarded-For, -Proto and -Host (marketplace/http_security.py).
PROXY_SETTINGS = ("PROXY_FIX_X_FOR", "PROXY_FIX_X_PROTO", "PROXY_FIX_X_HOST")

# Every setting read from the environment, with its embedded default.  docker-compose.yml and
# .env.example must use exactly these names (a test checks that).
ENV_SETTINGS = (
    "MARKETPLACE_ENV",
    "MARKETPLACE_INSTANCE_PATH",
    "SECRET_KEY",
    "DATABASE_URL",
    "SEARCH_BACKEND",
    "ELASTICSEARCH_URL",
    "ELASTICSEARCH_TIMEOUT",
    "ELASTICSEARCH_RETRIES",
    "SEARCH_INDEX_PREFIX",
    "REDIS_URL",
    "MAIL_TRANSPORT",
    "SMTP_HOST",
    "SMTP_PORT",
    "MAIL_FROM",
    "MAIL_RATE_PER_SECOND",
    "PUBLIC_BASE_URL",
    "TRUSTED_HOSTS",
    "RETRY_BASE_SECONDS",
    "EMBEDDER_THREADS",
    *PROXY_SETTINGS,
)

REQUIRED_IN_PRODUCTION = ("SECRET_KEY", "DATABASE_URL")


class ConfigurationError(RuntimeError):
    """Raised when production settings are missing or invalid."""


def load_settings(environ: Mapping[str, str], instance_path: str) -> dict:
    """Build the Flask config mapping from ``environ``."""
    mode = _mode(environ)
    instance = Path(instance_path)
    embedded = mode == EMBEDDED
    redis_url = environ.get("REDIS_URL", "" if embedded else "redis://127.0.0.1:6379")
    return {
        "MARKETPLACE_ENV": mode,
        # JSON lines for a log collector in production, readable text when embedded.
        "LOG_FORMAT": environ.get("LOG_FORMAT", "text" if embedded else "json"),
        "LOG_LEVEL": environ.get("LOG_LEVEL", "INFO"),
        "SECRET_KEY": environ.get("SECRET_KEY") or _embedded_secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": _database_url(
            environ.get("DATABASE_URL") or f"sqlite:///{instance / 'marketplace.db'}"
        ),
        "SEARCH_BACKEND": environ.get("SEARCH_BACKEND", "local" if embedded else "elasticsearch"),
        # One node, or several separated by commas: requests go round them and fail over.
        "ELASTICSEARCH_URL": environ.get("ELASTICSEARCH_URL", "http://127.0.0.1:9200"),
        # Seconds before a request counts as failed, and how many times a request that could
        # not connect or timed out is sent again (to another node, when there are several).
        "ELASTICSEARCH_TIMEOUT": _positive_number(environ, "ELASTICSEARCH_TIMEOUT", 10.0),
        "ELASTICSEARCH_RETRIES": _whole_number(environ, "ELASTICSEARCH_RETRIES", 3),
        # The start of every index and alias name: deployments sharing a cluster differ here.
        "SEARCH_INDEX_PREFIX": environ.get("SEARCH_INDEX_PREFIX", "est"),
        # Redis databases: 0 = Celery broker, 1 = Celery results, 2 = rate limits and locks.
        "REDIS_URL": redis_url,
        # First delay of a retried job (doubling each time, at most 10 minutes).
        "RETRY_BASE_SECONDS": int(environ.get("RETRY_BASE_SECONDS", "10")),
        # Math threads (the embedder's OpenMP, numpy's BLAS) per process.  One per web or
        # Celery worker process: run as many processes as cores.  Bulk commands (`flask
        # search reindex`, `flask demo seed`) take every core unless told --threads.
        "EMBEDDER_THREADS": _positive_int(environ, "EMBEDDER_THREADS", 1),
        **_mail_settings(environ, instance, embedded),
        **_web_security_settings(environ, redis_url, embedded),
    }


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    return _whole_number(environ, name, default, least=1)


def _whole_number(environ: Mapping[str, str], name: str, default: int, least: int = 0) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < least:
        raise ConfigurationError(
            f"{name} must be a whole number of at least {least}, not {raw!r}")
    return int(raw)


def _positive_number(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ConfigurationError(f"{name} must be a number of seconds above 0, not {raw!r}")
    return value


def _mode(environ: Mapping[str, str]) -> str:
    """``embedded`` or ``production``; production refuses to start without its settings."""
    mode = environ.get("MARKETPLACE_ENV", EMBEDDED).strip().lower() or EMBEDDED
    if mode not in (EMBEDDED, PRODUCTION):
        raise ConfigurationError(
            f"MARKETPLACE_ENV must be '{EMBEDDED}' or '{PRODUCTION}', not {mode!r}"
        )
    if mode == PRODUCTION:
        missing = [name for name in REQUIRED_IN_PRODUCTION if not environ.get(name)]
        if missing:
            raise ConfigurationError(
                "Production mode needs these environment variables: " + ", ".join(missing)
            )
    return mode


def _mail_settings(environ: Mapping[str, str], instance: Path, embedded: bool) -> dict:
    return {
        "MAIL_TRANSPORT": environ.get("MAIL_TRANSPORT", "outbox" if embedded else "smtp"),
        "MAIL_OUTBOX_DIR": str(instance / "outbox"),  # the mail folder of the outbox transport
        "SMTP_HOST": environ.get("SMTP_HOST", "127.0.0.1"),
        "SMTP_PORT": int(environ.get("SMTP_PORT", "25")),
        "MAIL_FROM": environ.get("MAIL_FROM", "EST Marketplace <no-reply@est-marketplace.local>"),
        # One limit for every worker together (counted in Redis); 0 means no limit.
        "MAIL_RATE_PER_SECOND": int(environ.get("MAIL_RATE_PER_SECOND", "500")),
        "DIGEST_BATCH_SIZE": 200,  # users per digest job: one SMTP connection each
        "SCHEDULER_TIME_LIMIT": 20.0,  # seconds CP-SAT may take for an event's meetings
        # A delivery claimed but not sent after this long (its worker died) is sent again.
        "MAIL_CLAIM_TIMEOUT": 600,
        "EMAGAZINE_BATCH_SIZE": 250,  # recipients per sending job
        # A scheduled issue more than this late (the site was down) waits for staff to confirm.
        "EMAGAZINE_SCHEDULE_GRACE": 3600,
    }


def _web_security_settings(environ: Mapping[str, str], redis_url: str, embedded: bool) -> dict:
    public_base_url = environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    return {
        # Flask-Limiter: shared by every web process in production; per process when embedded.
        "RATELIMIT_STORAGE_URI": f"{redis_url.rstrip('/')}/2" if redis_url else "memory://",
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,  # Redis down: limit per process
        "RATELIMIT_HEADERS_ENABLED": True,  # Retry-After on a 429
        # Failed sign-ins per account (the e-mail typed) and per client address...
        "LOGIN_RATE_LIMIT": "10 per 15 minutes",
        "LOGIN_IP_RATE_LIMIT": "50 per 15 minutes",
        # ...and reset or confirmation mails per address (or user) and per client address.
        "MAIL_LINK_RATE_LIMIT": "3 per 15 minutes",
        "MAIL_LINK_IP_RATE_LIMIT": "20 per hour",
        # Expressions of interest an organisation may send (introductions).
        "INTRODUCTION_RATE_LIMIT": "20 per day",
        "PUBLIC_BASE_URL": public_base_url,
        # Flask answers 400 to any other Host header (None: any host, for `make run`).
        "TRUSTED_HOSTS": _trusted_hosts(environ.get("TRUSTED_HOSTS", ""), public_base_url,
                                        embedded),
        # How many proxies in front of the app set X-Forwarded-For, -Proto and -Host (0: none,
        # and the headers are ignored).  See marketplace/http_security.py.
        **{name: int(environ.get(name, "0")) for name in PROXY_SETTINGS},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": not embedded,
        "REMEMBER_COOKIE_SECURE": not embedded,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": timedelta(days=30),
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    }


def _trusted_hosts(listed: str, public_base_url: str, embedded: bool) -> list[str] | None:
    """The ``TRUSTED_HOSTS`` comma list; by default, in production, the public host and
    loopback (the container's healthcheck asks for localhost)."""
    hosts = [host.strip() for host in listed.split(",") if host.strip()]
    if hosts:
        return hosts
    if embedded:
        return None
    return list(dict.fromkeys([urlsplit(public_base_url).hostname or "localhost",
                               "localhost", "127.0.0.1"]))


def _database_url(url: str) -> str:
    # docker images and hosting platforms hand out postgres:// URLs; SQLAlchemy wants the
    # driver named, and we use psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _embedded_secret_key(instance: Path) -> str:
    """A random key kept in ``instance/`` so sessions survive restarts of ``make run``."""
    key_file = instance / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    os.chmod(key_file, 0o600)
    return key
