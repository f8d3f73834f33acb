"""Command line: `flask --app casework users create|list`, `demo seed`, `check`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from casework.extensions import db
from casework.models import Role
from casework.services import users as user_service

users_cli = AppGroup("users", help="Staff accounts.")


@users_cli.command("create")
@click.option("--email", required=True, help="The staff member's e-mail (their sign-in name).")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]), help="Their role.")
@click.option("--name", "display_name", default=None, help="Display name (default: from the e-mail).")
@click.password_option(prompt="Password", help="Prompted for when not given.")
def create_user(email: str, role: str, display_name: str | None, password: str) -> None:
    """Create a staff account."""
    try:
        user = user_service.create_user(email, password, Role(role), display_name)
        db.session.commit()
    except user_service.UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created {user.role.value} {user.email}.")


@users_cli.command("list")
def list_users() -> None:
    """List staff accounts."""
    for user in user_service.list_users():
        state = "active" if user.active else "inactive"
        click.echo(f"{user.email}\t{user.role.value}\t{state}\t{user.display_name}")


def check_database() -> None:
    """Raise a one-line ClickException when the database cannot be reached."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "no answer"
        raise click.ClickException(
            f"Cannot reach the database at {db.engine.url.render_as_string(hide_password=True)} ({reason}). "
            "Start it or fix CASEWORK_DATABASE_URL."
        ) from None


@click.command("check")
@with_appcontext
def check() -> None:
    """Check the configuration and that the database answers."""
    check_database()
    click.echo("Configuration and database are fine.")


def init_app(app: Flask) -> None:
    """Register the command groups on the app."""
    app.cli.add_command(users_cli)
    app.cli.add_command(check)
