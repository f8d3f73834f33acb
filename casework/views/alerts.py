"""Staff alerts: the console header's unread notices (a template global), the page listing them, and "mark read"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField

from casework.extensions import db
from casework.models import Case, StaffAlert
from casework.services import alerts

bp = Blueprint("alerts", __name__, url_prefix="/staff/alerts")
HEADER_ALERTS = 5


class MarkReadForm(FlaskForm):
    """Mark one alert read (alert_id), or every unread one (no alert_id)."""

    alert_id = HiddenField()


@dataclass(frozen=True)
class AlertLine:
    """An alert as the templates show it."""

    id: int
    text: str
    reference: str | None
    created_at: datetime


def _lines(rows: list[StaffAlert]) -> list[AlertLine]:
    references = dict(db.session.execute(
        select(Case.id, Case.reference).where(Case.id.in_({row.case_id for row in rows if row.case_id}))
    ).all()) if rows else {}
    return [AlertLine(row.id, row.text, references.get(row.case_id), row.created_at) for row in rows]


@bp.app_context_processor
def header_alerts():
    """`staff_alerts()` for the header: the signed-in staff member's newest unread alerts (read only when called)."""

    def staff_alerts() -> list[AlertLine]:
        if not current_user.is_authenticated:
            return []
        return _lines(alerts.unread_for(current_user, limit=HEADER_ALERTS + 1))

    return {"staff_alerts": staff_alerts, "header_alert_count": HEADER_ALERTS}


@bp.get("")
@login_required
def index():
    return render_template("web/alerts/index.html", lines=_lines(alerts.unread_for(current_user, limit=200)),
                           form=MarkReadForm())


@bp.post("/read")
@login_required
def mark_read():
    form = MarkReadForm()
    if not form.validate_on_submit():
        flash(_("This form has expired: reload the page and try again."), "error")
        return redirect(url_for(".index"))
    raw = (form.alert_id.data or "").strip()
    if raw and not raw.isdigit():
        flash(_("Choose an alert from the list."), "error")
        return redirect(url_for(".index"))
    count = alerts.mark_read(current_user, [int(raw)] if raw else None)
    db.session.commit()
    flash(_("Marked as read.") if count else _("Nothing left to mark as read."))
    target = request.form.get("next", "")
    return redirect(target if target.startswith("/staff/") and "//" not in target else url_for(".index"))
