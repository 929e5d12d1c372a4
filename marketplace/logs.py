"""Log lines that say where they come from: the request, or the job and its task.

Every ``logging`` logger (the app's, Flask's, SQLAlchemy's) goes through structlog's formatter,
so each line carries what ``structlog.contextvars`` holds at that moment: ``request_id``
during a web request; ``job`` and ``task_id`` while a job runs.  Lines are JSON in production
(``LOG_FORMAT=json``, one object per line for the log collector) and readable key=value text
when embedded.  Jobs log their start and their end, with the duration and the outcome.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import structlog
from flask import Flask, g, request

log = structlog.get_logger("marketplace.jobs")

# An id a proxy or the client sent is kept if it looks like one (it is echoed in a header).
_INCOMING_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
REQUEST_ID_HEADER = "X-Request-ID"

_SHARED = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


class _StandardError(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now (a test's capture, a worker's redirect)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def formatter(json_lines: bool) -> logging.Formatter:
    """Renders any log record, with the context it was logged in, as JSON or as text."""
    renderer = (structlog.processors.JSONRenderer() if json_lines
                else structlog.dev.ConsoleRenderer(colors=False))
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED, structlog.processors.format_exc_info],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer])


def configure(json_lines: bool, level: str = "INFO") -> None:
    """Route every logger through one structlog formatter (idempotent: the last call wins)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _StandardError)]:
        root.removeHandler(handler)
    handler = _StandardError()
    handler.setFormatter(formatter(json_lines))
    root.addHandler(handler)
    # Our own lines (the app's and the search library's) at LOG_LEVEL; other libraries (SMTP
    # servers, HTTP clients) only warn.
    root.setLevel(logging.WARNING)
    for ours in ("marketplace", "search"):
        logging.getLogger(ours).setLevel(level)
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger, cache_logger_on_first_use=True)


def adopt_handlers(logger: logging.Logger, config) -> None:
    """Give handlers set up by someone else (the Celery worker's) our formatter."""
    for handler in logger.handlers:
        handler.setFormatter(formatter(config.get("LOG_FORMAT", "text") == "json"))


def init_app(app: Flask) -> None:
    json_lines = app.config.get("LOG_FORMAT", "text") == "json"
    configure(json_lines, app.config.get("LOG_LEVEL", "INFO"))
    app.before_request(_bind_request_id)
    app.after_request(_echo_request_id)
    app.teardown_request(lambda _error: structlog.contextvars.clear_contextvars())


def _bind_request_id() -> None:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if _INCOMING_ID.fullmatch(incoming) else uuid.uuid4().hex
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=g.request_id)


def _echo_request_id(response):
    if "request_id" in g:
        response.headers[REQUEST_ID_HEADER] = g.request_id
    return response


@contextmanager
def job_context(job: str, task_id: str | None = None) -> Iterator[None]:
    """Every line logged inside carries the job and its task id; the job's start and end are
    logged, with its duration and outcome ("ok" or the exception's name).  Nested jobs (an
    embedded job running another inline) get their own ids and restore the outer ones."""
    task_id = task_id or uuid.uuid4().hex
    with structlog.contextvars.bound_contextvars(job=job, task_id=task_id):
        log.info("job started")
        started = time.perf_counter()
        outcome = "ok"
        try:
            yield
        except BaseException as error:
            outcome = type(error).__name__
            raise
        finally:
            log.info("job finished", outcome=outcome,
                     duration_ms=round(1000 * (time.perf_counter() - started), 1))
