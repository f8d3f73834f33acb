"""Command line: `flask --app casework users create|list`, `demo seed`, `check`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from casework.extensions import db
from casework.models import Case, Role
from casework.services import evidence as evidence_service
from casework.services import jobs
from casework.services import labels as label_service
from casework.services import users as user_service
from evidence.errors import EvidenceError

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


evidence_cli = AppGroup("evidence", help="Captured on-chain evidence.")


@evidence_cli.command("verify")
@click.argument("reference")
@click.option("--refetch", is_flag=True, help="Also fetch every transaction, receipt and block again and compare.")
def verify_evidence(reference: str, refetch: bool) -> None:
    """Recompute every record hash and the hash chain of case REFERENCE; exit 1 on any mismatch."""
    case = db.session.scalar(select(Case).where(Case.reference == reference.strip().upper()))
    if case is None:
        raise click.ClickException(f"There is no case {reference}.")
    clients: dict[int, object] = {}

    def fetch_again(record):
        client = clients.setdefault(record.chain_id, jobs.rpc_client(record.chain_id))
        return client.call(record.method, list(record.params)).result

    try:
        result = evidence_service.verify_case(case, refetch=fetch_again if refetch else None)
    except EvidenceError as exc:
        raise click.ClickException(f"Could not re-fetch from the chain: {exc}") from None
    if not result.ok:
        click.echo(f"{case.reference}: evidence does NOT verify: {result.reason}", err=True)
        raise SystemExit(1)
    what = "hashes, chain and the chain's current answers" if refetch else "hashes and chain"
    older = f"; {result.legacy_records} in the canonical form before RFC 8785" if result.legacy_records else ""
    click.echo(f"{case.reference}: {result.checked} records verified ({what} match{older}).")


labels_cli = AppGroup("labels", help="Address labels (exchanges, bridges, mixers, attackers, ...).")


@labels_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--chain-id", type=int, default=None, help="Chain of labels whose file does not say (default: any).")
def import_labels(file: str, chain_id: int | None) -> None:
    """Import labels from a GraphSense TagPack (.yaml), an etherscan-labels JSON (.json) or a CSV file."""
    result = label_service.import_file(file, chain_id=chain_id)
    db.session.commit()
    for problem in result.problems:
        click.echo(f"skipped {problem}", err=True)
    click.echo(f"{result.added} labels added, {result.updated} updated, {len(result.problems)} entries skipped.")
    if result.problems and not (result.added or result.updated):
        raise SystemExit(1)


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
    app.cli.add_command(evidence_cli)
    app.cli.add_command(labels_cli)
