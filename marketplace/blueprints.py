"""The site's areas: each domain's views are a blueprint, registered here in one place."""

from flask import Flask

from marketplace import health
from marketplace.accounts import access  # noqa: F401  (registers the user loader)
from marketplace.accounts import views as accounts
from marketplace.calendar import meeting_views
from marketplace.calendar import public_views as public_calendar
from marketplace.calendar import views as calendar
from marketplace.discovery import match_views, search_views
from marketplace.emagazine import reader_views, staff_views
from marketplace.introductions import staff_views as introductions_staff
from marketplace.introductions import views as introductions
from marketplace.listings import owner_views, public_views
from marketplace.notifications import views as notifications
from marketplace.reporting import views as reporting
from marketplace.staff import views as staff


def register_blueprints(app: Flask) -> None:
    for blueprint in (public_views.bp, search_views.bp, accounts.bp, owner_views.bp, staff.bp,
                      match_views.bp, notifications.bp, staff_views.bp, reader_views.bp,
                      calendar.bp, public_calendar.bp, meeting_views.bp, introductions.bp,
                      introductions_staff.bp, reporting.bp, health.bp):
        app.register_blueprint(blueprint)
