"""The SLA pages: the supervisors' page (/staff/sla: at-risk and breached cases, compliance over a period, breaches
per week, CSV downloads) and the admins' policies and calendars (/staff/admin/sla: edit, upload, download)."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from casework.extensions import db
from casework.models import Priority
from casework.services import sla_admin, sla_page
from casework.services.sla_policies import PolicyError
from casework.services.workflow import WorkflowError
from casework.views.dashboard import csv_download
from casework.views.sla_forms import CalendarForm, PolicyFileForm, PolicyForm

bp = Blueprint("sla", __name__, url_prefix="/staff")


@bp.get("/sla")
@login_required
def index():
    """The period is a GET form: a bad date shows its message beside the default period's figures."""
    try:
        period, error = sla_page.parse_period(request.args), None
    except WorkflowError as problem:
        period, error = sla_page.default_period(), problem.message
    page = sla_page.sla_page(current_user, period)
    return render_template("web/console/sla.html", page=page, error=error, max_days=sla_page.MAX_DAYS,
                           form_values={"from": request.args.get("from", period.first.isoformat()),
                                        "to": request.args.get("to", period.last.isoformat())}), 400 if error else 200


@bp.get("/sla/<table>.csv")
@login_required
def table_csv(table: str):
    try:
        period = sla_page.parse_period(request.args)
    except WorkflowError as problem:
        return render_template("web/errors/error.html", status=400, title=_("This list cannot be made"),
                               message=problem.message), 400
    rows = sla_page.csv_table(current_user, table, period)
    return csv_download(rows, f"casework-sla-{table}-{period.first.isoformat()}-{period.last.isoformat()}")


def _admin_page(*, failed: str | None = None, error: str | None = None, status: int = 200):
    """The admin page; after a refused change, `failed` names its form ("policy-<metric>", "calendar-<name>",
    "file") and the form shows what was sent with the message."""
    return render_template("web/admin/sla.html", page=sla_admin.admin_page(current_user), failed=failed,
                           error=error, sent=request.form if failed else None, priorities=list(Priority),
                           file_form=PolicyFileForm(formdata=None)), status


@bp.get("/admin/sla")
@login_required
def admin():
    return _admin_page()


@bp.get("/admin/sla/policies.yaml")
@login_required
def download():
    text = sla_admin.policy_file(current_user)
    response = Response(text, mimetype="application/yaml")
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="sla_policies.yaml"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _saved(change, failed: str, done: str, anchor: str):
    """Call the service, commit and go back to the page; a refused change rolls back and shows its message."""
    try:
        recomputed = change()
    except PolicyError as problem:
        db.session.rollback()
        return _admin_page(failed=failed, error=str(problem), status=422)
    db.session.commit()
    flash(" ".join((done, ngettext("%(num)d running clock recomputed.", "%(num)d running clocks recomputed.",
                                   recomputed))))
    return redirect(url_for(".admin", _anchor=anchor))


@bp.post("/admin/sla/policies/<metric>")
@login_required
def edit_policy(metric: str):
    form = PolicyForm()
    if not form.validate_on_submit():
        return _admin_page(failed=f"policy-{metric}", error=_("Give a target and a warning for every priority."),
                           status=422)
    cells = dict(zip(Priority, form.cells.entries, strict=True))
    return _saved(lambda: sla_admin.edit_policy(
        current_user, metric, calendar=form.calendar.data or "",
        targets={p: cell.form.target.data for p, cell in cells.items()},
        warnings={p: cell.form.warning.data for p, cell in cells.items()},
        heads={p: cell.form.head_after.data for p, cell in cells.items()},
    ), f"policy-{metric}", _("Policy saved."), f"policy-{metric}")


@bp.post("/admin/sla/calendars/<path:name>")
@login_required
def edit_calendar(name: str):
    form = CalendarForm()
    if not form.validate_on_submit():
        return _admin_page(failed=f"calendar-{name}", error=_("Give the opening hours of all seven days."),
                           status=422)
    return _saved(lambda: sla_admin.edit_calendar(
        current_user, name, around_the_clock=form.around_the_clock.data, timezone=form.timezone.data or "",
        weekly=[entry.data or "" for entry in form.weekly.entries], country=form.country.data or "",
        subdivision=form.subdivision.data or "", closed=form.closed.data or "",
    ), f"calendar-{name}", _("Calendar saved."), "calendars")


@bp.post("/admin/sla/file")
@login_required
def upload():
    form = PolicyFileForm()
    if not form.validate_on_submit():
        return _admin_page(failed="file", error=_("Choose a file first."), status=422)
    return _saved(lambda: sla_admin.import_file(current_user, form.file.data.read()), "file",
                  _("Policy file imported."), "file")
