"""Friendly error pages; JSON problem details under /api/."""

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

from marketplace.extensions import db


def _respond(error: HTTPException):
    if isinstance(error, SecurityError):
        # A Host outside TRUSTED_HOSTS: Flask built no URL adapter, so no page can be drawn.
        return error.description, error.code, {"Content-Type": "text/plain; charset=utf-8"}
    if request.path.startswith("/api/"):
        body = {"type": "about:blank", "title": error.name, "status": error.code,
                "detail": error.description}
        response = jsonify(body)
        response.status_code = error.code or 500
        response.mimetype = "application/problem+json"
        return response
    has_page = error.code in (400, 403, 404, 429, 500)
    template = f"errors/{error.code}.html" if has_page else "errors/generic.html"
    return render_template(template, error=error), error.code


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        return _respond(error)

    @app.errorhandler(InternalServerError)
    def handle_server_error(error: InternalServerError):
        # The failed request may have left the session mid-transaction.
        db.session.rollback()
        return _respond(error)
