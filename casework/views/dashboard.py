"""The staff dashboard (/staff/dashboard): figures across all cases as SVG charts with their tables, and each
figure's table as a CSV download."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, render_template
from flask_login import current_user, login_required

from casework.models import utcnow
from casework.services import dashboard

bp = Blueprint("dashboard", __name__, url_prefix="/staff")

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@bp.get("/dashboard")
@login_required
def index():
    return render_template("web/console/dashboard.html", page=dashboard.dashboard_page(current_user))


def _cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


@bp.get("/dashboard/<figure>.csv")
@login_required
def figure_csv(figure: str):
    table = dashboard.figure_table(current_user, figure)
    return csv_download(table, f"casework-{figure}-{utcnow().date().isoformat()}")


def csv_download(table: dashboard.Table, name: str) -> Response:
    """A table as a CSV file to download (name without .csv): formula-like cells neutralised, UTF-8 with a BOM."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_cell(header) for header in table.headers])
    writer.writerows([_cell(value) for value in row] for row in table.rows)
    # A byte order mark, so that spreadsheet programs read the file as UTF-8 (Chinese names, the middle dot).
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv")
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
