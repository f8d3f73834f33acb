"""Staff evidence actions on a case: capture, discovery, tracing, confirming the theft, adding an attacker address,
the graph."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

from flask import Blueprint, Response, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField
from wtforms.validators import DataRequired, NumberRange

from casework.extensions import db
from casework.models import Case, EvidenceJob, JobStatus
from casework.services import case_page, chains, jobs, tracing
from casework.services import cases as case_service
from casework.views.console import _submit_on_case  # the case page's own way to show a failed form again
from casework.views.evidence_forms import AttackerForm

bp = Blueprint("evidence", __name__, url_prefix="/staff/cases/<reference>/evidence")


class CaptureForm(FlaskForm):
    run_now = BooleanField(default=True)
    # Empty: each hash on the chain the victim named; a chain: every hash looked for there.
    chain_id = SelectField(_l("Chain"), coerce=lambda value: int(value) if value else None, validate_choice=False)


class ChainForm(FlaskForm):
    chain_id = SelectField(_l("Chain"), coerce=int, validators=[DataRequired()])
    run_now = BooleanField(default=True)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.chain_id.choices = [(c.chain_id, c.name) for c in chains.registry()]


class DiscoverForm(ChainForm):
    since = DateField(_l("From (UTC date)"), validators=[DataRequired()])
    until = DateField(_l("To (UTC date, included)"), validators=[DataRequired()])


class TraceForm(ChainForm):
    depth = IntegerField(_l("Hops"), default=tracing.DEFAULT_DEPTH, validators=[NumberRange(1, 10)])
    breadth = IntegerField(_l("Branches per address"), default=tracing.DEFAULT_BREADTH,
                           validators=[NumberRange(1, 20)])


class ConfirmForm(FlaskForm):
    pass


def _back(reference: str):
    return redirect(url_for("console.case_detail", reference=reference) + "#evidence")


def _form_errors(form: FlaskForm) -> None:
    for field, errors in form.errors.items():
        label = getattr(form, field).label.text if hasattr(form, field) else field
        for error in errors:
            flash(f"{label}: {error}", "error")


def _run(queued: list[EvidenceJob], run_now: bool) -> None:
    if not run_now:
        flash(_("Queued; the scheduler will run it within seconds."))
        return
    for job in queued:
        try:
            job = jobs.run_now(job, actor=current_user)
        except jobs.JobError as exc:
            flash(str(exc), "error")
            continue
        if job.status is JobStatus.DONE:
            flash(_("Done: %(summary)s", summary=job.progress))
        else:
            flash(_("Did not finish: %(error)s", error=job.last_error or ""), "error")


def _queue_and_run(reference: str, form: FlaskForm, make_jobs: Callable[[Case], list[EvidenceJob]]):
    """The shared shape of the evidence actions: check the form, queue the jobs, run them now if asked."""
    case = case_service.get_for(current_user, reference)
    if not form.validate_on_submit():
        _form_errors(form)
        return _back(case.reference)
    try:
        queued = make_jobs(case)
        db.session.commit()
    except jobs.JobError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _back(case.reference)
    _run(queued, form.run_now.data)
    return _back(case.reference)


@bp.post("/capture")
@login_required
def capture(reference: str):
    form = CaptureForm()
    if form.chain_id.data is not None and form.chain_id.data not in chains.registry():
        form.chain_id.data = None
    return _queue_and_run(reference, form, lambda case: jobs.capture_reported(case, actor=current_user,
                                                                               on_chain=form.chain_id.data))


@bp.post("/discover")
@login_required
def discover(reference: str):
    form = DiscoverForm()

    def queue(case: Case) -> list[EvidenceJob]:
        since = datetime.combine(form.since.data, time.min, UTC)
        until = datetime.combine(form.until.data, time.min, UTC) + timedelta(days=1)
        return [jobs.queue_discovery(case, form.chain_id.data, since, until, actor=current_user)]

    return _queue_and_run(reference, form, queue)


@bp.post("/trace")
@login_required
def trace(reference: str):
    form = TraceForm()
    return _queue_and_run(reference, form, lambda case: [
        jobs.queue_trace(case, form.chain_id.data, depth=form.depth.data, breadth=form.breadth.data,
                         actor=current_user)
    ])


@bp.post("/transfers/<int:transfer_id>/confirm")
@login_required
def confirm(reference: str, transfer_id: int):
    case = case_service.get_for(current_user, reference)
    if ConfirmForm().validate_on_submit():
        try:
            tracing.confirm_theft(case, transfer_id, actor=current_user)
            db.session.commit()
            flash(_("Marked as part of the theft; its recipient is now an attacker address to trace from."))
        except ValueError as exc:
            db.session.rollback()
            flash(str(exc), "error")
    return _back(case.reference)


@bp.post("/attackers")
@login_required
def add_attacker(reference: str):
    form = AttackerForm(prefix="attacker")
    return _submit_on_case(
        reference, form, "attacker_form",
        lambda case: tracing.add_attacker_address(case, form.chain_id.data, form.address.data,
                                                  reason=form.reason.data, actor=current_user),
        form.address, lambda case: _("Added as an attacker address: a trace now starts from it."), "add-attacker")


@bp.get("/graph/<int:run_id>.svg")
@login_required
def graph(reference: str, run_id: int):
    svg = case_page.flow_graph_svg(current_user, reference, run_id,
                                   page_url=url_for("console.case_detail", reference=reference))
    # Opened on its own (the case page draws it inline): nothing in it may run, and it needs no other resource.
    policy = "default-src 'none'"
    return Response(svg, mimetype="image/svg+xml", headers={"Content-Security-Policy": policy})
