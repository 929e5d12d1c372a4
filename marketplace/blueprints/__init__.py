"""One blueprint per area of the site."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from marketplace import access  # noqa: F401  (registers the user loader)
    from marketplace.blueprints import (
        auth,
        emagazine,
        emagazine_staff,
        events,
        listings,
        matches,
        notifications,
        public,
        staff,
    )

    app.register_blueprint(public.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(listings.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(matches.bp)
    app.register_blueprint(notifications.bp)
    app.register_blueprint(emagazine_staff.bp)
    app.register_blueprint(emagazine.bp)
    app.register_blueprint(events.bp)
