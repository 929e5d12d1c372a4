"""Command-line tools: one group per domain (`flask demo ...`, `flask listings ...`, ...)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import func, select

from marketplace.extensions import db

demo_cli = AppGroup("demo", help="The demo world.")
listings_cli = AppGroup("listings", help="Listing upkeep.")
users_cli = AppGroup("users", help="Accounts.")


@demo_cli.command("seed")
@click.option("--if-empty", is_flag=True, help="Do nothing if the database has organisations.")
def demo_seed(if_empty: bool) -> None:
    """Build the clearly labelled demo world and print its logins."""
    from marketplace import demo
    from marketplace.models import Organization

    if if_empty and db.session.scalar(select(func.count()).select_from(Organization)):
        click.echo("The database already has data; demo seed skipped.")
        return
    logins = demo.seed()
    db.session.commit()
    click.echo(f"\nDemo logins (password for all: {demo.DEMO_PASSWORD})")
    for role, email in logins:
        click.echo(f"  {role:<9} {email}")


@listings_cli.command("expire")
def listings_expire() -> None:
    """Mark published listings past their expiry date as expired."""
    from marketplace.services.listings import expire_overdue

    changed = expire_overdue()
    db.session.commit()
    click.echo(f"{changed} listing(s) expired.")


@users_cli.command("create-staff")
@click.argument("email")
@click.option("--name", default="Staff")
@click.option("--admin", is_flag=True)
@click.password_option()
def users_create_staff(email: str, name: str, admin: bool, password: str) -> None:
    """Create a staff (or admin) account."""
    from marketplace.models import User
    from marketplace.models._time import utcnow
    from marketplace.services.accounts import find_user_by_email

    if find_user_by_email(email):
        raise click.ClickException(f"{email} already has an account.")
    user = User(email=User.normalise_email(email), name=name, role="admin" if admin else "staff",
                email_verified_at=utcnow())
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}.")


def init_app(app: Flask) -> None:
    for group in (demo_cli, listings_cli, users_cli):
        app.cli.add_command(group)
