"""The directory of organisations: every staff member may read it (the list and one entry, opened from a referral
or a label); admins add, edit and deactivate entries. The service checks who may do what."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from casework.extensions import db
from casework.models import ChannelKind, OrganisationKind, Requester
from casework.services import directory
from casework.services.access import Permission, can
from casework.services.directory import DirectoryError

bp = Blueprint("directory", __name__, url_prefix="/staff/admin/organisations")
BLANK_FACT_ROWS = 2


def _fact_field_choices() -> list[tuple[str, str]]:
    return [(name, directory.fact_field_title(name)) for name in directory.FACT_FIELDS]


class FactForm(Form):
    """One fact of an entry; the service checks the source and date (an empty row is dropped)."""

    field = SelectField(_l("About"), choices=[], validate_choice=False)
    text = TextAreaField(_l("Fact"), validators=[Optional(), Length(max=1_000)])
    source = StringField(_l("Source (web address, or \"not verified\")"), validators=[Optional(), Length(max=500)])
    checked_on = StringField(_l("Date checked (YYYY-MM-DD)"), validators=[Optional(), Length(max=10)])


class OrganisationForm(FlaskForm):
    """Every field of an entry; directory.checked_data checks them all again."""

    slug = StringField(_l("Short name (in the entry's address)"), validators=[Optional(), Length(max=80)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=[], validate_choice=False)
    country = StringField(_l("Country (two-letter code; empty: worldwide)"), validators=[Optional(), Length(max=2)])
    requester = SelectField(_l("Who may ask"), choices=[], validate_choice=False)
    channel_kind = SelectField(_l("How it is reached"), choices=[], validate_choice=False)
    channel = StringField(_l("Channel (e-mail address, web address or telephone number)"),
                          validators=[Optional(), Length(max=500)])
    requirements = TextAreaField(_l("Requirements"), validators=[Optional(), Length(max=5_000)])
    turnaround = StringField(_l("Usual turnaround"), validators=[Optional(), Length(max=200)])
    courtesy_hold_days = StringField(_l("Courtesy hold (days until a police report must follow)"),
                                     validators=[Optional(), Length(max=10)])
    follow_up_days = StringField(_l("Follow-up (days)"), validators=[Optional(), Length(max=10)])
    can_freeze = BooleanField(_l("Can freeze funds"))
    aliases = TextAreaField(_l("Aliases (one per line: the names labels and traces use)"),
                            validators=[Optional(), Length(max=6_000)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5_000)])
    facts = FieldList(FormField(FactForm), min_entries=0, max_entries=directory.MAX_FACTS + BLANK_FACT_ROWS)

    def set_choices(self) -> OrganisationForm:
        self.kind.choices = OrganisationKind.choices()
        self.requester.choices = Requester.choices()
        self.channel_kind.choices = ChannelKind.choices()
        for entry in self.facts:
            entry.form.field.choices = _fact_field_choices()
        return self

    def values(self) -> dict:
        return {name: self[name].data for name in (
            "name", "kind", "country", "requester", "channel_kind", "channel", "requirements", "turnaround",
            "courtesy_hold_days", "follow_up_days", "can_freeze", "aliases", "notes")} | {
            "facts": [entry.form.data for entry in self.facts]}


class ActiveForm(FlaskForm):
    """Deactivate or activate an entry."""

    active = HiddenField()


def _editor(form: OrganisationForm, *, slug: str | None, error: str | None = None, status: int = 200):
    return render_template("web/directory/edit.html", form=form.set_choices(), slug=slug, error=error), status


def _blank_form(values: dict | None = None) -> OrganisationForm:
    values = dict(values or {"kind": OrganisationKind.EXCHANGE.value, "requester": Requester.POLICE.value,
                             "channel_kind": ChannelKind.NONE.value, "follow_up_days": "2", "facts": []})
    values["facts"] = list(values["facts"]) + [{"field": "general"}] * BLANK_FACT_ROWS
    return OrganisationForm(formdata=None, data=values)


@bp.get("")
@login_required
def index():
    query, kind, country = (request.args.get(name, "")[:100] for name in ("q", "kind", "country"))
    entries = [directory.entry_view(org) for org in directory.search(current_user, query, kind, country)]
    return render_template("web/directory/index.html", entries=entries, query=query, kind=kind, country=country,
                           kinds=OrganisationKind.choices(), can_edit=can(current_user, Permission.MANAGE_DIRECTORY))


@bp.get("/new")
@login_required
def new():
    directory.require_editor(current_user)
    return _editor(_blank_form(), slug=None)


@bp.post("")
@login_required
def create():
    directory.require_editor(current_user)
    form = OrganisationForm().set_choices()
    if form.validate_on_submit():
        try:
            organisation = directory.create_organisation(current_user, form.slug.data, form.values())
        except DirectoryError as error:
            db.session.rollback()
            return _editor(form, slug=None, error=error.message, status=422)
        db.session.commit()
        flash(_("Directory entry added."))
        return redirect(url_for(".show", slug=organisation.slug))
    return _editor(form, slug=None, error=_("Check the fields marked below."), status=422)


@bp.get("/<slug>")
@login_required
def show(slug: str):
    organisation = directory.get(current_user, slug)
    return render_template("web/directory/show.html", entry=directory.entry_view(organisation),
                           can_edit=can(current_user, Permission.MANAGE_DIRECTORY), active_form=ActiveForm())


@bp.get("/<slug>/edit")
@login_required
def edit(slug: str):
    directory.require_editor(current_user)
    return _editor(_blank_form(directory.form_values(directory.get(current_user, slug))), slug=slug)


@bp.post("/<slug>")
@login_required
def update(slug: str):
    directory.require_editor(current_user)
    form = OrganisationForm().set_choices()
    if form.validate_on_submit():
        try:
            directory.update_organisation(current_user, slug, form.values())
        except DirectoryError as error:
            db.session.rollback()
            return _editor(form, slug=slug, error=error.message, status=422)
        db.session.commit()
        flash(_("Directory entry saved."))
        return redirect(url_for(".show", slug=slug))
    return _editor(form, slug=slug, error=_("Check the fields marked below."), status=422)


@bp.post("/<slug>/active")
@login_required
def set_active(slug: str):
    form = ActiveForm()
    if form.validate_on_submit():
        organisation = directory.set_active(current_user, slug, form.active.data == "1")
        db.session.commit()
        flash(_("Directory entry activated.") if organisation.active else _(
            "Directory entry deactivated: no new request, label link or checklist uses it."))
    return redirect(url_for(".show", slug=slug))
