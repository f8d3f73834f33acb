"""Command line: `flask --app casework users create|list`, `cases transition|priority|merge`, `directory import`,
`sla import-policies|sweep|digest|report`, `labels import`, `evidence verify`, `dossier render`, `demo seed`,
`check`."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import NotFound

from casework.extensions import db
from casework.i18n import LANGUAGES
from casework.models import Case, CaseStatus, DocumentAudience, Priority, Resolution, Role, User, utcnow
from casework.services import cases as case_service
from casework.services import directory, dossiers, jobs, merge, priority, sla_clocks, sla_policies, sla_sweep, workflow
from casework.services import evidence as evidence_service
from casework.services import labels as label_service
from casework.services import users as user_service
from casework.services.access import AccessDenied
from casework.services.sla_digest import send_digests
from casework.services.workflow import WorkflowError
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


directory_cli = AppGroup("directory", help="The directory of organisations (exchanges, issuers, wallets, agencies).")


@directory_cli.command("import")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--replace", is_flag=True, help="Also overwrite the entries an admin edited since they were imported.")
@click.option("--demo", is_flag=True, help="Also import the devnet demo's exchange (organisations-demo.yaml).")
def import_directory(file: str | None, replace: bool, demo: bool) -> None:
    """Import FILE (default: the shipped casework/data/organisations.yaml), upserting entries by slug."""
    paths = [file or directory.SHIPPED_FILE] + ([directory.DEMO_FILE] if demo else [])
    results = [directory.import_file(path, replace=replace) for path in paths]
    db.session.commit()
    problems = [problem for result in results for problem in result.problems]
    kept = [slug for result in results for slug in result.kept]
    for problem in problems:
        click.echo(f"skipped {problem}", err=True)
    if kept:
        click.echo(f"kept as an admin edited them (use --replace to overwrite): {', '.join(kept)}")
    click.echo(f"{sum(r.added for r in results)} entries added, {sum(r.updated for r in results)} updated, "
               f"{sum(r.unchanged for r in results)} unchanged, {len(kept)} kept, {len(problems)} skipped.")
    if problems:
        raise SystemExit(1)


sla_cli = AppGroup("sla", help="SLA policies, the escalation sweep and compliance figures.")


@sla_cli.command("import-policies")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_sla_policies(file: str) -> None:
    """Replace the SLA policies and calendars with a YAML file's (format: casework/sla_policies.yaml)."""
    with open(file, encoding="utf-8") as handle:
        text = handle.read()
    try:
        recomputed = sla_clocks.import_policies(text)
    except sla_policies.PolicyError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Policies imported; {recomputed} running clocks recomputed.")


@sla_cli.command("sweep")
def sla_sweep_once() -> None:
    """Run one escalation sweep and print what it escalated."""
    told = sla_sweep.sweep()
    for item in told:
        click.echo(f"{item.reference} {item.metric.value} {item.level.value} (due {item.due_at:%Y-%m-%d %H:%M} UTC): "
                   f"{item.recipients} staff told")
    click.echo(f"{len(told)} escalations.")


@sla_cli.command("digest")
def sla_digest_once() -> None:
    """Write the daily SLA digests that are due (each staff member's digest hour has come in their zone) and print
    them; a day already written is left alone, so running it again, or beside the scheduler, sends nothing twice."""
    written = send_digests()
    for item in written:
        outcome = f"{item.warnings} warnings, queued for sending" if item.warnings else "no warnings, nothing sent"
        click.echo(f"{item.email} {item.local_date.isoformat()}: {outcome}")
    click.echo(f"{len(written)} digests.")


@sla_cli.command("report")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--days", type=click.IntRange(min=1), default=None, help="Only clocks started in the last N days.")
def sla_report(as_json: bool, days: int | None) -> None:
    """Print compliance per metric and priority."""
    since = utcnow() - timedelta(days=days) if days else None
    figures = sla_sweep.report(since=since)
    if as_json:
        click.echo(json.dumps([figure.as_dict() for figure in figures], indent=2))
        return
    click.echo(f"{'metric':<18} {'priority':<9} {'started':>7} {'met':>6} {'breached':>8} {'running':>7} compliance")
    for f in figures:
        share = "-" if f.compliance is None else f"{f.compliance:.1%}"
        click.echo(f"{f.metric.value:<18} {f.priority.value:<9} {f.started:>7} {f.met:>6} {f.breached:>8} "
                   f"{f.running:>7} {share}")


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


cases_cli = AppGroup("cases", help="Change a case as a staff member (the same rules as the console).")
FOLLOW_FACTS = "facts"


def _acting_user(email: str) -> User:
    """The staff member a command acts as: their role decides what it may do."""
    user = db.session.scalar(select(User).where(User.email == user_service.normalise_email(email)))
    if user is None or not user.active:
        raise click.ClickException(f"There is no active staff account {email}.")
    return user


def _run_on_case(email: str, reference: str, change: Callable[[User, Case], str]) -> None:
    """Run one service call on case `reference` as the user `email`, commit and say what was done; a refusal is
    one line on stderr and exit status 1, and nothing is changed."""
    user = _acting_user(email)
    try:
        case = case_service.get_for(user, reference)
        done = change(user, case)
    except (WorkflowError, AccessDenied) as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    except NotFound as exc:
        db.session.rollback()
        raise click.ClickException(exc.description or f"There is no case {reference}.") from None
    db.session.commit()
    click.echo(done)


@cases_cli.command("transition")
@click.argument("reference")
@click.argument("status", type=click.Choice([s.value for s in CaseStatus]))
@click.option("--reason", required=True, help="Why (staff only).")
@click.option("--as", "email", required=True, help="The e-mail of the staff member acting.")
@click.option("--resolution", type=click.Choice([r.value for r in Resolution]), default=None,
              help="When closing: the resolution.")
@click.option("--victim-summary", default=None, help="When closing: the summary the victim reads.")
@click.option("--confirm-open-referrals", is_flag=True, help="Close even though referrals are still open.")
@click.option("--confirm-open-tasks", is_flag=True, help="Close even though tasks are still open.")
def transition(reference: str, status: str, reason: str, email: str, resolution: str | None,
               victim_summary: str | None, confirm_open_referrals: bool, confirm_open_tasks: bool) -> None:
    """Move case REFERENCE to STATUS (workflow.transition_case)."""

    def change(user: User, case: Case) -> str:
        workflow.transition_case(case, status, actor=user, reason=reason, resolution=resolution,
                                 victim_summary=victim_summary, expected=case.status,
                                 confirm_open_referrals=confirm_open_referrals,
                                 confirm_open_tasks=confirm_open_tasks)
        return f"{case.reference}: status is now {case.status.value}."

    _run_on_case(email, reference, change)


@cases_cli.command("priority")
@click.argument("reference")
@click.argument("level", metavar="PRIORITY", type=click.Choice([*(p.value for p in Priority), FOLLOW_FACTS]))
@click.option("--reason", required=True, help="Why (staff only).")
@click.option("--as", "email", required=True, help="The e-mail of the supervisor acting.")
def set_priority(reference: str, level: str, reason: str, email: str) -> None:
    """Set the priority of case REFERENCE by hand, or give it back to the facts with PRIORITY "facts"."""

    def change(user: User, case: Case) -> str:
        state = priority.priority_state(case)
        if level == FOLLOW_FACTS:
            priority.clear_override(user, case, reason=reason, expected=state)
        else:
            priority.override_priority(user, case, level, reason=reason, expected=state)
        how = "set by hand" if case.priority_overridden else "from the facts"
        return f"{case.reference}: priority is now {case.priority.value} ({how})."

    _run_on_case(email, reference, change)


@cases_cli.command("merge")
@click.argument("duplicate")
@click.argument("target")
@click.option("--reason", required=True, help="Why (staff only).")
@click.option("--as", "email", required=True, help="The e-mail of the supervisor acting.")
def merge_cases(duplicate: str, target: str, reason: str, email: str) -> None:
    """Merge case DUPLICATE into case TARGET (closed as a duplicate; nothing is deleted)."""

    def change(user: User, case: Case) -> str:
        merge.merge_case(user, case, merge.find_target(target), reason=reason, expected_status=case.status.value)
        return f"{case.reference}: merged into {case.merged_into.reference} and closed as a duplicate."

    _run_on_case(email, duplicate, change)


dossier_cli = AppGroup("dossier", help="Documents for legal teams (PDF dossiers).")


@dossier_cli.command("render")
@click.argument("reference")
@click.option("--audience", required=True,
              type=click.Choice([a.value for a in dossiers.RENDERABLE]), help="Who the document is for.")
@click.option("--lang", "language", default="en", show_default=True, type=click.Choice(sorted(LANGUAGES)),
              help="The document's language.")
@click.option("--referral", "referral_id", type=int, default=None,
              help="For exchange_freeze: the id of the freeze request the letter is for.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="Where to write the PDF.")
def render_dossier(reference: str, audience: str, language: str, referral_id: int | None, output: str) -> None:
    """Issue a case's document from the command line: recorded as issued (its hash and code) like any other."""
    case = db.session.scalar(select(Case).where(Case.reference == reference.strip().upper()))
    if case is None:
        raise click.ClickException(f"There is no case {reference}.")
    referral = next((r for r in case.referrals if r.id == referral_id), None)
    try:
        issued = dossiers.issue(case, DocumentAudience(audience), language=language, actor=None, referral=referral)
    except dossiers.DossierError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    with open(output, "wb") as handle:
        handle.write(issued.pdf)
    db.session.commit()
    click.echo(f"Wrote {output}: {len(issued.pdf)} bytes, SHA-256 {issued.document.sha256}, "
               f"verification code {dossiers.display_code(issued.document.code)}.")


def init_app(app: Flask) -> None:
    """Register the command groups on the app."""
    app.cli.add_command(users_cli)
    app.cli.add_command(check)
    app.cli.add_command(evidence_cli)
    app.cli.add_command(labels_cli)
    app.cli.add_command(directory_cli)
    app.cli.add_command(cases_cli)
    app.cli.add_command(sla_cli)
    app.cli.add_command(dossier_cli)
