"""Issued documents: rendering and downloading a case's dossiers (staff), and the public verification page."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from casework.extensions import db, limiter
from casework.i18n import LANGUAGES
from casework.models import DocumentAudience
from casework.services import dossiers

bp = Blueprint("documents", __name__)

# The largest PDF /verify reads (ours are far smaller; a bigger upload cannot be one we issued).
MAX_VERIFY_BYTES = 20 * 1024 * 1024


class IssueForm(FlaskForm):
    audience = HiddenField(default=DocumentAudience.EVIDENCE.value, validators=[DataRequired()])
    language = SelectField(_l("Language"), choices=list(LANGUAGES.items()), validators=[DataRequired()])
    referral = IntegerField(validators=[Optional()])  # the freeze request a letter is for


class VerifyForm(FlaskForm):
    document = FileField(_l("The PDF file"))
    reference = StringField(_l("Or its SHA-256 hash or verification code"), validators=[Length(max=200)])


@bp.post("/staff/cases/<reference>/documents")
@login_required
def issue(reference: str):
    form = IssueForm()
    if not form.validate_on_submit():
        flash(_("Choose the document's language."), "error")
        return redirect(url_for("console.case_detail", reference=reference, _anchor="documents"))
    try:
        audience = DocumentAudience(form.audience.data)
        issued = dossiers.issue_for(current_user, reference, audience, form.language.data, form.referral.data)
    except (ValueError, dossiers.DossierError) as error:
        db.session.rollback()
        flash(getattr(error, "message", _("This kind of document cannot be issued.")), "error")
        return redirect(url_for("console.case_detail", reference=reference, _anchor="documents"))
    db.session.commit()
    flash(_("The document was issued with verification code %(code)s.",
            code=dossiers.display_code(issued.document.code)))
    return redirect(url_for("console.case_detail", reference=reference, _anchor="documents"))


@bp.get("/staff/cases/<reference>/documents/<int:document_id>.pdf")
@login_required
def download(reference: str, document_id: int):
    document, pdf = dossiers.download(current_user, reference, document_id)
    db.session.commit()
    response = Response(pdf, mimetype="application/pdf")
    name = f"{document.case.reference}-{document.audience.value}-{dossiers.display_code(document.code)}.pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/verify", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["VERIFY_RATE_LIMIT"])
def verify():
    """Whether we issued a document, found by the PDF itself, its SHA-256 or its code (typed, or in the link of the
    document's QR code); nothing of its case's content."""
    form = VerifyForm()
    result = None
    if form.validate_on_submit():
        result = _check(form.document.data, form.reference.data or "")
    elif request.method == "POST":
        result = Answer(error=_("The form could not be read. Reload the page and try again."))
    elif request.args.get("code"):
        form.reference.data = request.args["code"][:200]
        result = _check(None, form.reference.data)
    status = 400 if result is not None and result.error else 200
    return render_template("web/verify.html", form=form, result=result), status


@dataclass(frozen=True)
class Answer:
    asked: str = ""
    found: dossiers.IssuedFacts | None = None
    error: str | None = None


@bp.get("/staff/cases/<reference>/documents/<int:document_id>/transfers.<extension>")
@login_required
def transfers_sheet(reference: str, document_id: int, extension: str):
    """The transfers table of an issued dossier as CSV or XLSX (the file attached inside its PDF)."""
    document, sheet, media_type = dossiers.download_sheet(current_user, reference, document_id, extension)
    db.session.commit()
    response = Response(sheet, mimetype=media_type)
    name = f"{document.case.reference}-transfers-{dossiers.display_code(document.code)}.{extension}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _check(upload, typed: str) -> Answer:
    typed = typed.strip()
    if upload:
        digest = dossiers.sha256_of(upload.stream, limit=MAX_VERIFY_BYTES)
        if digest is None:
            return Answer(error=_("This file is larger than any document we issue, so it is not one of ours."))
        return Answer(digest, dossiers.lookup(sha256=digest))
    if len(typed) == 64 and all(ch in "0123456789abcdef" for ch in typed.lower()):
        return Answer(typed.lower(), dossiers.lookup(sha256=typed))
    code = dossiers.normalise_code(typed)
    if len(code) == dossiers.VERIFICATION_CODE_LENGTH and code.isalnum() and code.isascii():
        return Answer(dossiers.display_code(code), dossiers.lookup(code=code))
    return Answer(error=_("Upload the PDF, or enter its SHA-256 hash (64 characters 0-9 and a-f) or the 10-character "
                          "verification code printed on its first page."))
