"""The case page's assignment and task forms, and the admin's checklist template form. The services check every
rule again; these only parse what was sent."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from casework.models.tasks import TITLE_MAX_CHARS
from casework.services.assignment import REASON_MAX_CHARS
from casework.services.task_templates import MAX_DUE_DAYS


class TakeForm(FlaskForm):
    """Take an unassigned case; `expected_handler` is the handler the page showed ("" for nobody)."""

    expected_handler = HiddenField()


class AssignForm(FlaskForm):
    """A supervisor assigns, reassigns or unassigns (assignment.NOBODY) the case."""

    expected_handler = HiddenField()
    handler = SelectField(_l("Assign to"), choices=[], validate_choice=False,
                          validators=[DataRequired(message=_l("Choose a handler."))])
    reason = TextAreaField(_l("Reason (needed to reassign)"), validators=[Optional(), Length(max=REASON_MAX_CHARS)])


class TaskForm(FlaskForm):
    title = StringField(_l("Task"), validators=[DataRequired(message=_l("Write what is to be done.")),
                                                Length(max=TITLE_MAX_CHARS)])
    assignee = SelectField(_l("Who"), choices=[], validate_choice=False, validators=[Optional()])
    due_on = DateField(_l("Due on"), validators=[Optional()])


class TaskStateForm(FlaskForm):
    """Mark a task done or open again (the CSRF token is all it sends)."""


class TemplateItemForm(FlaskForm):
    incident_type = SelectField(_l("Incident type"), choices=[], validate_choice=False, validators=[Optional()])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=TITLE_MAX_CHARS)])
    due_days = IntegerField(_l("Due (days after the report)"),
                            validators=[Optional(), NumberRange(min=0, max=MAX_DUE_DAYS)])
    position = IntegerField(_l("Position"), validators=[Optional(), NumberRange(min=0, max=1000)])


class TemplateActiveForm(FlaskForm):
    """Deactivate or activate a checklist item."""

    active = HiddenField()


class OnDutyForm(FlaskForm):
    """Put a staff member on duty ("1") or take them off ("0")."""

    on_duty = HiddenField()
