"""Staff pages for address labels: search them, and name an address."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from casework.extensions import db
from casework.models import ANY_CHAIN
from casework.services import chains, directory
from casework.services import labels as label_service

bp = Blueprint("labels", __name__, url_prefix="/staff/labels")


class LabelForm(FlaskForm):
    address = StringField(_l("Address"), validators=[DataRequired(), Length(max=64)])
    name = StringField(lazy_pgettext("address label", "Name"), validators=[DataRequired(), Length(max=200)])
    category = SelectField(_l("Category"))
    chain_id = SelectField(_l("Chain"), coerce=int)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.chain_id.choices = [(ANY_CHAIN, _("Every EVM chain"))] + [(c.chain_id, c.name) for c in chains.registry()]
        self.category.choices = label_service.category_choices()


@bp.route("", methods=["GET", "POST"])
@login_required
def index():
    form = LabelForm()
    if form.validate_on_submit():
        try:
            chain_id = form.chain_id.data if form.chain_id.data != ANY_CHAIN else None
            label_service.save_label(current_user, chain_id, form.address.data, form.name.data, form.category.data)
            db.session.commit()
            flash(_("Label saved."))
            return redirect(url_for("labels.index", q=form.address.data.strip().lower()))
        except label_service.LabelError as exc:
            db.session.rollback()
            form.address.errors.append(str(exc))
    query = request.args.get("q", "")[:100]
    labels = label_service.search(current_user, query)
    return render_template("web/labels/index.html", form=form, labels=labels, query=query,
                           entries=directory.entry_slugs(label.name for label in labels))
