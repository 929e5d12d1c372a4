"""Command-line tools: one group per domain (`flask demo ...`, `flask listings ...`, ...)."""

from __future__ import annotations

import json
import os

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select
from werkzeug.serving import run_simple

from marketplace import jobs
from marketplace.accounts.registration import find_user_by_email
from marketplace.calendar import meetings, schedule
from marketplace.demo import b2b_day, introductions, track_record, world
from marketplace.digests import content, sending
from marketplace.discovery import index_check, indexing, match_evaluation, matching
from marketplace.discovery.match_audit import audit
from marketplace.discovery.matching import rebuild_all
from marketplace.discovery.ranking_evaluation import database_with_schema, evaluate
from marketplace.extensions import db
from marketplace.listings.lifecycle import expire_overdue_and_commit
from marketplace.models import Event, Organization, User
from marketplace.models._time import utcnow
from marketplace.models.states import IntroductionStage
from marketplace.outbox import relay
from search import embeddings

demo_cli = AppGroup("demo", help="The demo world.")
listings_cli = AppGroup("listings", help="Listing upkeep.")
users_cli = AppGroup("users", help="Accounts.")
search_cli = AppGroup("search", help="The search index.")
digests_cli = AppGroup("digests", help="Match digest e-mails.")
matches_cli = AppGroup("matches", help="The match ledger and its delivery rule.")
events_cli = AppGroup("events", help="Events and their B2B meetings.")


def bulk_threads(command):
    """``--threads`` for a command that embeds in bulk and is run alone: every core unless
    told otherwise (web and worker processes keep EMBEDDER_THREADS, one by default)."""
    def apply(context, _parameter, threads: int) -> int:
        embeddings.limit_threads(threads)  # before the command's first embedding
        return threads

    return click.option("--threads", type=click.IntRange(min=1), default=os.cpu_count() or 1,
                        show_default="every core", expose_value=False, callback=apply,
                        help="Math threads for the embedder.")(command)


@demo_cli.command("seed")
@bulk_threads
@click.option("--if-empty", is_flag=True, help="Do nothing if the database has organisations.")
def demo_seed(if_empty: bool) -> None:
    """Build the clearly labelled demo world and print its logins."""
    if if_empty and db.session.scalar(select(func.count()).select_from(Organization)):
        click.echo("The database already has data; demo seed skipped.")
        return
    logins = world.seed()
    db.session.commit()
    _index_and_match_everything()
    introductions.introduce(world.DOMAIN)  # from the matches just found
    db.session.commit()
    b2b_day.build(world.DOMAIN)  # its suggestions and requests come from those matches too
    b2b_day.build_past(world.DOMAIN)
    track_record.build(world.DOMAIN)  # a past for the dashboard and the results page
    db.session.commit()
    click.echo(f"\nDemo logins (password for all: {world.DEMO_PASSWORD})")
    for role, email in logins:
        click.echo(f"  {role:<9} {email}")


def _index_and_match_everything() -> None:
    relay.mark_committed_as_handled()
    db.session.remove()  # start the bulk work on an empty session
    indexed, matches = rebuild_all()
    click.echo(f"{indexed} listings indexed, {matches} matches in the ledger.")


@listings_cli.command("expire")
def listings_expire() -> None:
    """Mark published listings past their expiry date as expired."""
    changed = expire_overdue_and_commit()
    click.echo(f"{changed} listing(s) expired.")


@users_cli.command("create-staff")
@click.argument("email")
@click.option("--name", default="Staff")
@click.option("--admin", is_flag=True)
@click.password_option()
def users_create_staff(email: str, name: str, admin: bool, password: str) -> None:
    """Create a staff (or admin) account."""
    if find_user_by_email(email):
        raise click.ClickException(f"{email} already has an account.")
    user = User(email=User.normalise_email(email), name=name, role="admin" if admin else "staff",
                email_verified_at=utcnow())
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}.")


@search_cli.command("reindex")
@bulk_threads
def search_reindex() -> None:
    """Build new indices from the database and swap them in, with no downtime."""
    for kind in ("solution", "need"):
        try:
            click.echo(f"{indexing.rebuild_index(kind)} {kind}(s) indexed.")
        except indexing.RebuildRunning:
            raise click.ClickException(f"A rebuild of the {kind} index is already running; "
                                       "try again when it has finished.") from None


@search_cli.command("check")
@click.option("--repair", is_flag=True, help="Fix what is missing, stale or extra.")
def search_check(repair: bool) -> None:
    """Report listings missing, stale or extra in the index."""
    problems = False
    for kind in ("solution", "need"):
        report = index_check.check(kind)
        click.echo(f"{kind}s: {len(report.missing)} missing, {len(report.stale)} stale, "
                   f"{len(report.extra)} extra")
        for label in ("missing", "stale", "extra"):
            ids = getattr(report, label)
            if ids:
                click.echo(f"  {label}: {', '.join(map(str, ids[:50]))}"
                           + (" ..." if len(ids) > 50 else ""))
        if not report.ok:
            problems = True
            if repair:
                index_check.repair(report)
                click.echo(f"  repaired {kind}s")
    if problems and not repair:
        raise SystemExit(1)


@search_cli.command("relay")
def search_relay() -> None:
    """Resend outbox events that were never handled."""
    click.echo(f"{relay.relay_pending()} event(s) resent.")


@click.command("eval-ranking")
@click.argument("corpus", type=click.Path(exists=True, dir_okay=False))
@click.option("--queries", type=click.Path(exists=True, dir_okay=False),
              help="TSV of needs (lang, categories, text); default: query by example.")
@click.option("--backend", "backend_name", type=click.Choice(["local", "elasticsearch"]),
              default="local", show_default=True)
@click.option("--k", default=10, show_default=True)
@click.option("--run-file", type=click.Path(dir_okay=False), help="Write a TREC run file.")
@with_appcontext
def eval_ranking(corpus, queries, backend_name, k, run_file) -> None:
    """Measure nDCG@k and recall@k on a labelled corpus, in a temporary index."""
    with database_with_schema() as temporary:
        if temporary:
            click.echo("The database has no tables yet (`flask db upgrade` creates them): "
                       "caching embeddings in a temporary one.", err=True)
        result = evaluate(corpus, queries, backend_name, k, run_file)
    click.echo(json.dumps(result, indent=2, ensure_ascii=False))


@click.command("eval-matching")
@click.argument("folder", type=click.Path(exists=True, file_okay=False), required=False)
@click.option("--backend", "backend_name", type=click.Choice(["local", "elasticsearch"]),
              default="local", show_default=True)
@click.option("--direction", type=click.Choice(["need", "solution", "both"]), default="both",
              show_default=True, help="Whose matches: a need's solutions, a solution's needs.")
@click.option("--run-file", type=click.Path(dir_okay=False),
              help="Write every ranked pair, delivered or not, with its grade (TSV).")
@click.option("--json", "as_json", is_flag=True, help="Print only the JSON.")
@click.option("--from-ledger", is_flag=True,
              help="Instead: how many pairs people dismissed the current rule would still "
                   "deliver, in this database.")
@with_appcontext
def eval_matching(folder, backend_name, direction, run_file, as_json, from_ledger) -> None:
    """Measure what the ledger delivers (precision, recall, nDCG) on labelled listings, in a
    temporary world of its own."""
    if from_ledger:
        click.echo(json.dumps(match_evaluation.dismissed_still_delivered(), indent=2))
        return
    if folder is None:
        raise click.UsageError("Give the folder of a labelled set, or --from-ledger.")

    directions = match_evaluation.DIRECTIONS if direction == "both" else (direction,)
    summary = match_evaluation.evaluate(folder, backend_name, directions, run_file)
    if not as_json:
        click.echo(match_evaluation.table(summary))
    click.echo(json.dumps(summary, indent=2, ensure_ascii=False))


@matches_cli.command("rescore")
def matches_rescore() -> None:
    """Re-apply the delivery rule to the whole ledger (after the rule changes)."""
    counts = matching.rescore_all()
    click.echo(f"{counts['delivered']} delivered ({counts['added']} new), {counts['kept']} kept "
               f"as history or for their verdicts, {counts['removed']} removed.")


@matches_cli.command("audit")
def matches_audit() -> None:
    """How the live ledger looks to a person: sector families, listings left without a
    match although an obvious candidate exists."""
    report = audit()
    click.echo(f"Delivered matches: {report.delivered}; sharing a sector family: "
               f"{report.same_family} ({report.family_share:.1%}).")
    for label, listings in (("Needs", report.needs_without_match),
                            ("Solutions", report.solutions_without_match)):
        click.echo(f"{label} with no delivered match although a live listing in their sector "
                   f"serves their country: {len(listings)}")
        for listing in listings:
            click.echo(f"  #{listing.id} {listing.title} ({', '.join(listing.sectors)})")
    stages = ", ".join(f"{stage} {report.introduction_stages[stage]}"
                       for stage in IntroductionStage if stage in report.introduction_stages)
    click.echo(f"Introductions made from matches, by stage: {stages or 'none'}")
    reasons = ", ".join(f"{reason} {count}" for reason, count
                        in sorted(report.decline_reasons.items(), key=lambda kv: -kv[1]))
    click.echo(f"Declined, by reason: {reasons or 'none'}")


def _user_by_email(email: str):
    user = find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No user with the e-mail address {email}")
    return user


@digests_cli.command("send")
@click.option("--now", is_flag=True, required=True,
              help="Send every due digest now, in this process, instead of waiting for the "
                   "scheduler.")
@click.option("--user", "email", help="Only this user's digest.")
def digests_send(now: bool, email: str | None) -> None:
    """Send the digests that are due (each user's current period, at most once)."""
    user = _user_by_email(email) if email else None
    if user is not None and user.digest_frequency not in sending.FREQUENCIES:
        raise click.ClickException(f"{user.email} has digests turned off.")
    click.echo(f"{sending.send_now(user)} digest(s) sent.")


@digests_cli.command("preview")
@click.option("--user", "email", required=True, help="Whose digest to render.")
@click.option("--html", is_flag=True, help="Print the HTML part instead of the plain text.")
def digests_preview(email: str, html: bool) -> None:
    """Render a user's next digest without sending it or marking anything as sent."""
    message = content.preview(_user_by_email(email))
    if message is None:
        click.echo(f"Nothing new for {email}: no digest would be sent.")
        return
    click.echo(f"Subject: {message['Subject']}\n")
    part = message.get_body(preferencelist=("html",) if html else ("plain",))
    click.echo(part.get_content())


@events_cli.command("schedule")
@click.argument("event_id", type=int)
@click.option("--time-limit", default=schedule.DEFAULT_TIME_LIMIT, show_default=True,
              type=click.FloatRange(min=0.1), help="Seconds CP-SAT may search.")
def events_schedule(event_id: int, time_limit: float) -> None:
    """Place the event's accepted meeting requests in slots and tables (a proposal until
    staff publish it; after that, the people affected are told what changed)."""
    event = db.session.get(Event, event_id)
    if event is None:
        raise click.ClickException(f"No event {event_id}.")
    try:
        result = schedule.run(event, time_limit=time_limit)
    except meetings.MeetingError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"{result.meetings} meetings placed by {result.solver} ({result.status}); "
               f"the greedy baseline placed {result.greedy_meetings}.")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@with_appcontext
def serve(host: str, port: int) -> None:
    """Serve the product with its background jobs in this process (embedded mode)."""
    app = current_app._get_current_object()
    if jobs.uses_celery():
        click.echo("REDIS_URL is set: run Celery workers and beat for the background jobs.")
    else:
        jobs.start_embedded_scheduler(app)
        click.echo("Background jobs run in this process (embedded scheduler started).")
    click.echo(f"Math threads for the embedder: {app.config['EMBEDDER_THREADS']} "
               "(EMBEDDER_THREADS).")
    # Werkzeug directly: Flask's app.run() refuses to start inside a `flask` command.
    run_simple(host, port, app, threaded=True, use_reloader=False)


def init_app(app: Flask) -> None:
    for group in (demo_cli, listings_cli, users_cli, search_cli, digests_cli, matches_cli,
                  events_cli):
        app.cli.add_command(group)
    app.cli.add_command(serve)
    app.cli.add_command(eval_ranking)
    app.cli.add_command(eval_matching)
