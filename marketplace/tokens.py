"""Signed, expiring tokens for links sent by e-mail. Each purpose has its own salt."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

VERIFY_EMAIL = "verify-email"
RESET_PASSWORD = "reset-password"
UNSUBSCRIBE = "unsubscribe"
EMAGAZINE_CONFIRM = "emagazine-confirm"

# Unsubscribe links must keep working in old e-mails, so they last a year.  A sign-up left
# unconfirmed for two days is stale: the reader can simply sign up again.
MAX_AGE = {VERIFY_EMAIL: 7 * 24 * 3600, RESET_PASSWORD: 2 * 3600,
           UNSUBSCRIBE: 365 * 24 * 3600, EMAGAZINE_CONFIRM: 48 * 3600}


class InvalidToken(Exception):
    pass


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=purpose)


def make_token(purpose: str, payload: dict) -> str:
    return _serializer(purpose).dumps(payload)


def read_token(purpose: str, token: str) -> dict:
    try:
        return _serializer(purpose).loads(token, max_age=MAX_AGE[purpose])
    except SignatureExpired as exc:
        raise InvalidToken("expired") from exc
    except BadSignature as exc:
        raise InvalidToken("invalid") from exc
