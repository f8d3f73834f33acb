"""The referrals panel's forms on the staff case page: open a referral to a directory entry, draft, edit, send,
change status, record an amount frozen or returned, record a follow-up, record that the police report reached the
target of a courtesy hold. Each form posts here, calls one service
function and goes back to the referral; a refused one shows the case page again with what was written and why."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from casework.extensions import db
from casework.models import Case, Referral
from casework.services import cases as case_service
from casework.services import recoveries, referrals
from casework.services.referral_panel import Failed
from casework.services.workflow import WorkflowError
from casework.views import console

bp = Blueprint("referrals", __name__, url_prefix="/staff/cases/<reference>/referrals")


class OpenReferralForm(FlaskForm):
    organisation = SelectField(_l("Directory entry"), choices=[], validate_choice=False)
    note = TextAreaField(_l("Why (staff only)"), validators=[Optional()])


class DraftForm(FlaskForm):
    """Write (or write again) the request from the case's facts; `expected` is the status the page showed."""

    expected = HiddenField()


class EditDraftForm(DraftForm):
    subject = StringField(_l("Subject"))
    body = TextAreaField(_l("Text of the request"))


class SendForm(DraftForm):
    sent_to = StringField(_l("Where you sent it (web form, portal, ticket number)"), validators=[Optional()])


class ReferralStatusForm(DraftForm):
    status = SelectField(_l("New status"), choices=[], validate_choice=False)
    note = TextAreaField(_l("Note (staff only)"), validators=[Optional()])


class AmountForm(DraftForm):
    kind = SelectField(_l("Frozen or returned"), choices=[], validate_choice=False)
    asset = SelectField(_l("Asset"), choices=[], validate_choice=False)
    amount = StringField(_l("Amount"))
    note = TextAreaField(_l("Note (staff only)"), validators=[Optional()])


class PoliceReportForm(DraftForm):
    note = TextAreaField(_l("What was sent, and how (the report's number, the address)"))


class FollowUpForm(DraftForm):
    note = TextAreaField(_l("What the target said or what you did"))
    next_on = DateField(_l("Next follow-up (UTC date)"), validators=[Optional()])


def _submit(reference: str, referral_id: int | None, form: FlaskForm, name: str,
            act: Callable[[Case, Referral | None], object], done: str):
    case = case_service.get_for(current_user, reference)
    anchor = f"referral-{referral_id}" if referral_id else "referrals"
    if form.validate_on_submit():
        try:
            referral = referrals.referral_on(current_user, case, referral_id) if referral_id else None
            act(case, referral)
        except WorkflowError as error:
            db.session.rollback()
            message = error.message
        else:
            db.session.commit()
            flash(done)
            return redirect(url_for("console.case_detail", reference=case.reference, _anchor=anchor))
    else:
        message = next((f"{getattr(form, field).label.text}: {errors[0]}" for field, errors in form.errors.items()),
                       _("Check the form."))
    data = {key: value for key, value in request.form.items() if key != "csrf_token"}
    return console._case_page(case, status=422, referral_failed=Failed(referral_id, name, data, message))


@bp.post("")
@login_required
def open_referral(reference: str):
    form = OpenReferralForm()
    return _submit(reference, None, form, "open", lambda case, _referral: referrals.open_referral(
        current_user, case, _int(form.organisation.data), note=form.note.data),
        _("Referral opened and drafted: check the draft, then send it."))


@bp.post("/<int:referral_id>/draft")
@login_required
def draft(reference: str, referral_id: int):
    form = DraftForm()
    return _submit(reference, referral_id, form, "draft", lambda case, referral: referrals.draft_referral(
        current_user, referral, expected=form.expected.data), _("Draft written: check it, then send it."))


@bp.post("/<int:referral_id>/edit")
@login_required
def edit(reference: str, referral_id: int):
    form = EditDraftForm()
    return _submit(reference, referral_id, form, "edit", lambda case, referral: referrals.edit_draft(
        current_user, referral, form.subject.data, form.body.data, expected=form.expected.data), _("Draft saved."))


@bp.post("/<int:referral_id>/send")
@login_required
def send(reference: str, referral_id: int):
    form = SendForm()
    return _submit(reference, referral_id, form, "send", lambda case, referral: referrals.send_referral(
        current_user, referral, sent_to=form.sent_to.data, expected=form.expected.data),
        _("Referral sent. Its follow-up date is set."))


@bp.post("/<int:referral_id>/status")
@login_required
def change_status(reference: str, referral_id: int):
    form = ReferralStatusForm()
    return _submit(reference, referral_id, form, "status", lambda case, referral: referrals.update_referral(
        current_user, referral, form.status.data, note=form.note.data, expected=form.expected.data),
        _("Referral updated."))


@bp.post("/<int:referral_id>/amount")
@login_required
def record_amount(reference: str, referral_id: int):
    form = AmountForm()
    return _submit(reference, referral_id, form, "amount", lambda case, referral: recoveries.record_recovery(
        current_user, referral, form.kind.data, form.amount.data, asset=form.asset.data, expected=form.expected.data,
        note=form.note.data), _("Amount recorded. The victim is told by e-mail and in their portal."))


@bp.post("/<int:referral_id>/follow-up")
@login_required
def follow_up(reference: str, referral_id: int):
    form = FollowUpForm()
    return _submit(reference, referral_id, form, "follow_up", lambda case, referral: referrals.record_follow_up(
        current_user, referral, form.note.data, form.next_on.data, expected=form.expected.data),
        _("Follow-up recorded."))


@bp.post("/<int:referral_id>/police-report")
@login_required
def police_report(reference: str, referral_id: int):
    form = PoliceReportForm()
    return _submit(reference, referral_id, form, "police_report", lambda case, referral:
                   referrals.record_police_report(current_user, referral, form.note.data,
                                                  expected=form.expected.data),
                   _("Police report recorded: the courtesy hold's deadline is met."))


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None
