"""The staff console: the case queue and a case's page."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from casework.services import cases as case_service

bp = Blueprint("console", __name__, url_prefix="/staff")


@bp.get("/cases")
@login_required
def cases():
    return render_template("web/console/cases.html", cases=case_service.queue_for(current_user))


@bp.get("/cases/<reference>")
@login_required
def case_detail(reference: str):
    return render_template("web/console/case.html", case=case_service.get_for(current_user, reference))
