"""The SLA admin page's forms: one metric's policy, one calendar, a policy file. The service (sla_admin) checks
every value again and says what is wrong; these only parse what was sent."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, FieldList, Form, FormField, StringField, TextAreaField

from casework.models import Priority


class DurationsForm(Form):
    """A metric's durations at one priority (the policy form holds one per priority, in Priority's order)."""

    target = StringField()
    warning = StringField()
    head_after = StringField()


class PolicyForm(FlaskForm):
    calendar = StringField()
    cells = FieldList(FormField(DurationsForm), min_entries=len(Priority), max_entries=len(Priority))


class CalendarForm(FlaskForm):
    around_the_clock = BooleanField()
    timezone = StringField()
    weekly = FieldList(StringField(), min_entries=7, max_entries=7)
    country = StringField()
    subdivision = StringField()
    closed = TextAreaField()


class PolicyFileForm(FlaskForm):
    file = FileField(_l("Policy file (YAML)"), validators=[FileRequired(message=_l("Choose a file first."))])
