"""Staff evidence actions on a case: queue or run captures (the evidence section of the case page)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField

from casework.extensions import db
from casework.models import JobStatus
from casework.services import cases as case_service
from casework.services import jobs

bp = Blueprint("evidence", __name__, url_prefix="/staff/cases/<reference>/evidence")


class CaptureForm(FlaskForm):
    run_now = BooleanField(default=True)


@bp.post("/capture")
@login_required
def capture(reference: str):
    case = case_service.get_for(current_user, reference)
    form = CaptureForm()
    if not form.validate_on_submit():
        flash(_("The form could not be read; try again."), "error")
        return redirect(url_for("console.case_detail", reference=case.reference))
    try:
        queued = jobs.capture_reported(case, actor=current_user)
        db.session.commit()
    except jobs.JobError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("console.case_detail", reference=case.reference))
    if form.run_now.data:
        for job in queued:
            job = jobs.run_now(job, actor=current_user)
            if job.status is JobStatus.DONE:
                flash(_("Capture done: %(summary)s", summary=job.progress))
            else:
                flash(_("Capture did not finish: %(error)s", error=job.last_error or ""), "error")
    else:
        flash(_("Capture queued; the scheduler will run it within seconds."))
    return redirect(url_for("console.case_detail", reference=case.reference) + "#evidence")
