"""The case page's form for adding an attacker address by hand (its route is in casework.views.evidence)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from casework.models import Case
from casework.services import chains, tracing
from forms.secrets import NoSecrets


class AttackerForm(FlaskForm):
    chain_id = SelectField(_l("Chain"), coerce=int, validators=[DataRequired()])
    # NoSecrets first: a key pasted here is taken out before the page shows the form again.
    address = StringField(_l("Attacker address"), validators=[NoSecrets(), DataRequired(), Length(max=200)])
    reason = TextAreaField(_l("Why it is the attacker's"), validators=[
        NoSecrets(), DataRequired(), Length(max=tracing.ATTACKER_REASON_MAX_CHARS)])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.chain_id.choices = [(c.chain_id, c.name) for c in chains.registry()]


def attacker_form(case: Case, form: AttackerForm | None = None) -> AttackerForm:
    """The form as the case page shows it: a failed one again, else a blank one on the chain the victim named."""
    if form is not None:
        return form
    form = AttackerForm(formdata=None, prefix="attacker")
    form.chain_id.data = next(iter(sorted(case.chain_ids)), None)
    return form
