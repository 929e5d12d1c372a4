"""``/healthz``: the process is up and serving.  For load balancers and container health
checks, and the reference a load test measures the app's own pages against (bench/web.py):
no database, no template, no session."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}
