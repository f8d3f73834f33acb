"""The victim's report wizard (/report): seven steps saved as a server-side draft, a review, and the confirmation.

The draft is found through the secret token of its resume link, kept in the session while the victim works (and
e-mailed once if they gave an address). Works without JavaScript: every button is a plain form submission.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from casework.extensions import db, limiter
from casework.models import IncidentType, ReportDraft
from casework.services import checklist, drafts, filing, intake, links, report_answers, token_lookup, uploads
from forms.report import CONTACT_LABELS, MAX_LOSS_ROWS, PRIOR_REPORT_LABELS, STEP_NAMES, STEPS, saved_values

bp = Blueprint("report", __name__, url_prefix="/report")

DRAFT_KEY = "report_draft"
SUBMITTED_KEY = "report_submitted"


def _current_draft() -> ReportDraft | None:
    draft = drafts.find_draft(session.get(DRAFT_KEY))
    if draft is None:
        session.pop(DRAFT_KEY, None)
    return draft


def _step_url(step: str | None) -> str:
    if step is None:
        return url_for(".review")
    return url_for(".step", number=STEP_NAMES.index(step) + 1)


def _resume_url(token: str) -> str:
    return links.public_url(drafts.resume_path(token))


@bp.get("/")
def start():
    draft = _current_draft()
    return render_template(
        "web/report/start.html",
        draft=draft,
        continue_url=_step_url(drafts.first_incomplete_step(draft)) if draft else None,
        resume_url=_resume_url(session[DRAFT_KEY]) if draft else None,
    )


@bp.route("/step/<int:number>", methods=["GET", "POST"])
def step(number: int):
    if not 1 <= number <= len(STEPS):
        abort(404)
    name = STEP_NAMES[number - 1]
    draft = _current_draft()
    if draft is None and number > 1:
        return redirect(url_for(".step", number=1))
    if draft is not None and request.method == "GET":
        first = drafts.first_incomplete_step(draft)
        if first is not None and STEP_NAMES.index(first) < number - 1:
            return redirect(_step_url(first))
    locale = draft.locale if draft is not None else str(get_locale())
    answers = draft.answers if draft is not None else {}
    choices = report_answers.wizard_choices()
    if request.method == "GET":
        form = report_answers.form_for(name, answers, locale, choices)
        return _render_step(number, form, draft)

    formdata = request.form
    if name == "losses":
        db.session.commit()  # ends the read transaction: none is held while the chain is asked about tokens
        formdata = token_lookup.with_chain_facts(formdata, answers.get("losses"))
    form = report_answers.form_for(name, answers, locale, choices, formdata=formdata)
    valid = form.validate()
    action = "remove_file" if request.form.get("remove_file") else request.form.get("action", "next")
    if draft is None:
        draft, session[DRAFT_KEY] = drafts.new_draft(locale)
    file_errors = _handle_files(draft) if name == "evidence" else []
    if action == "add_row" and name == "losses" and len(form.losses.entries) < MAX_LOSS_ROWS:
        form.losses.append_entry()
    drafts.save_step(draft, name, saved_values(form), complete=valid)
    if name == "incident" and valid and form.resume_email.data:
        drafts.email_resume_link_once(draft, form.resume_email.data, session[DRAFT_KEY])
    failing_step = report_answers.keep_report_if_complete(draft)  # here, so that the review page writes nothing
    db.session.commit()

    if action == "back":
        return redirect(url_for(".step", number=number - 1) if number > 1 else url_for(".start"))
    if action == "save":
        return redirect(url_for(".saved"))
    if action in ("add_row", "remove_file", "upload") or not valid or file_errors:
        form.files_errors = file_errors
        return _render_step(number, form, draft)
    if failing_step is not None and number == len(STEPS):  # on the way to the review, a step needs the victim again
        return _back_to(failing_step)
    return redirect(_step_url(drafts.first_incomplete_step(draft)) if number == len(STEPS)
                    else url_for(".step", number=number + 1))


def _handle_files(draft: ReportDraft) -> list[str]:
    """Remove the file the victim asked to remove, store the files sent; messages for those refused."""
    remove = request.form.get("remove_file", "")
    if remove.isascii() and remove.isdigit() and len(remove) < 12:
        uploads.remove_from_draft(draft, int(remove))
    errors = []
    for storage in request.files.getlist("files"):
        if not storage.filename:
            continue
        try:
            uploads.store_upload(storage.stream, storage.filename, draft=draft)
        except uploads.UploadRejected as rejected:
            errors.append(_("%(name)s: %(reason)s", name=uploads.display_name(storage.filename),
                            reason=rejected.message))
    return errors


def _render_step(number: int, form, draft: ReportDraft | None):
    name = STEP_NAMES[number - 1]
    files = uploads.files_of_draft(draft) if draft is not None and name == "evidence" else []
    return render_template(
        f"web/report/steps/{name}.html",
        form=form,
        number=number,
        steps=STEPS,
        step=STEPS[number - 1],
        completed=set(draft.completed_steps) if draft is not None else set(),
        files=[{"id": f.id, "name": f.original_name, "size": f.size, "type": f.content_type} for f in files],
        file_errors=getattr(form, "files_errors", []),
    )


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error):
    flash(_("What you sent is larger than we accept at once (32 MB). Send the files a few at a time."), "error")
    return redirect(request.path if request.path.startswith("/report/step/") else url_for(".start"))


@bp.get("/saved")
def saved():
    draft = _current_draft()
    if draft is None:
        return redirect(url_for(".start"))
    return render_template("web/report/saved.html", resume_url=_resume_url(session[DRAFT_KEY]),
                           continue_url=_step_url(drafts.first_incomplete_step(draft)))


@bp.get("/resume/<token>")
@limiter.limit("30 per minute")
def resume(token: str):
    draft = drafts.find_draft(token)
    if draft is None:
        return render_template("web/report/resume_invalid.html"), 404
    session[DRAFT_KEY] = token
    return redirect(_step_url(drafts.first_incomplete_step(draft)))


@bp.post("/discard")
def discard():
    draft = _current_draft()
    if draft is not None:
        drafts.discard_draft(draft)
        db.session.commit()
    session.pop(DRAFT_KEY, None)
    return redirect(url_for(".step", number=1))


def _back_to(step: str):
    """Send the victim back to a step whose saved answers no longer pass, saying why."""
    flash(_("Please check this step again before sending your report."), "error")
    return redirect(_step_url(step))


def _report_or_redirect(draft):
    """The report to submit (kept by the POST that led to the review, or the answers validated again), or a
    redirect to the first step that needs the victim again."""
    try:
        return report_answers.report_to_submit(draft)
    except report_answers.StepInvalid as invalid:
        return _back_to(invalid.step)


@bp.get("/review")
def review():
    draft = _current_draft()
    if draft is None:
        return redirect(url_for(".start"))
    report = _report_or_redirect(draft)
    if not isinstance(report, filing.NewReport):
        return report
    files = [{"name": f.original_name, "size": f.size} for f in uploads.files_of_draft(draft)]
    return render_template(
        "web/report/review.html",
        report=report,
        files=files,
        steps=STEPS,
        number=len(STEPS) + 1,
        completed=set(draft.completed_steps),
        contact_titles=CONTACT_LABELS,
        prior_titles=PRIOR_REPORT_LABELS,
        country_name=report_answers.country_name(report.reporter.country),
    )


@bp.app_template_filter("local_time")
def local_time(moment: datetime, zone: str) -> str:
    """An aware time shown in the victim's zone, with the zone written out."""
    return f"{moment.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} ({zone})"


@bp.post("/submit")
@limiter.limit("20 per minute")
def submit():
    draft = drafts.claim_draft(session.get(DRAFT_KEY))
    if draft is None:  # expired, or already submitted (a double click: the first submit filed it)
        db.session.rollback()
        session.pop(DRAFT_KEY, None)
        return redirect(url_for(".done") if session.get(SUBMITTED_KEY) else url_for(".start"))
    report = _report_or_redirect(draft)
    if not isinstance(report, filing.NewReport):
        db.session.rollback()  # the draft stays: a step needs the victim again
        return report
    submitted = intake.submit_draft(draft, report)
    db.session.commit()
    session.pop(DRAFT_KEY, None)
    session[SUBMITTED_KEY] = {
        "reference": submitted.reference,
        "path": submitted.tracking_path,
        "incident_type": submitted.incident_type.value,
        "country": submitted.country,
        "wallet_app": submitted.wallet_app,
        "reported_to_police": bool(report.prior_reports.get("police_report_number")),
    }
    return redirect(url_for(".done"))


@bp.get("/done")
def done():
    submitted = session.get(SUBMITTED_KEY)
    if not isinstance(submitted, dict):
        return redirect(url_for(".start"))
    actions = checklist.act_now(IncidentType(submitted["incident_type"]), submitted["country"],
                                submitted["wallet_app"], reported_to_police=submitted.get("reported_to_police", False))
    return render_template(
        "web/report/done.html",
        reference=submitted["reference"],
        tracking_url=links.public_url(submitted["path"]),
        actions=actions,
    )
