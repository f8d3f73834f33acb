"""The case page's priority and merge forms (supervisors). Each carries the state the page was loaded with, so a
stale or repeated form is refused by the service; the services check every rule again."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length


class PriorityForm(FlaskForm):
    """Set the priority by hand (`override`), or hand it back to the rule (`follow_facts`)."""

    current = HiddenField(validators=[DataRequired()])
    priority = SelectField(_l("Priority"), choices=[], validate_choice=False)
    reason = TextAreaField(_l("Reason (staff only)"),
                           validators=[DataRequired(message=_l("Give a reason for the change.")), Length(max=2_000)])
    override = SubmitField(_l("Set this priority"))
    follow_facts = SubmitField(_l("Follow the facts again"))


class MergeForm(FlaskForm):
    """Merge this case (a duplicate) into another one."""

    current = HiddenField(validators=[DataRequired()])
    target = StringField(_l("Merge this case into (reference)"),
                         validators=[DataRequired(message=_l("Choose the case to merge this one into.")),
                                     Length(max=64)])
    reason = TextAreaField(_l("Reason (staff only)"),
                           validators=[DataRequired(message=_l("Give a reason for the change.")), Length(max=2_000)])
