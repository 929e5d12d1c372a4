"""Interface language: chosen explicitly, remembered per user, or taken from the browser."""

from flask import Flask, request, session
from flask_login import current_user

from marketplace.constants import LANGUAGES
from marketplace.extensions import babel


def select_locale() -> str:
    chosen = session.get("language")
    if chosen in LANGUAGES:
        return chosen
    if current_user and current_user.is_authenticated and current_user.language in LANGUAGES:
        return current_user.language
    return request.accept_languages.best_match(list(LANGUAGES)) or "en"


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(app.root_path + "/translations"),
    )
