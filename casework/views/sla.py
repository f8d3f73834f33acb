"""The SLA pages: the supervisors' page (/staff/sla: at-risk and breached cases, compliance over a period, breaches
per week, CSV downloads)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casework.services import sla_page
from casework.services.workflow import WorkflowError
from casework.views.dashboard import csv_download

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
