"""Small staff-side forms (sign-in, language switch, a case's status). The victim's forms live in the forms package."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from casework.i18n import LANGUAGES
from casework.models import SlaWarnings


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


class LanguageForm(FlaskForm):
    lang = SelectField(_l("Language"), choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()])
    next = HiddenField()


class SettingsForm(FlaskForm):
    """A staff member's own settings; the values are checked by users.save_settings. The view sets the choices of
    sla_warnings (SlaWarnings.choices(), in the reader's language)."""

    time_zone = StringField(_l("Time zone"), validators=[Length(max=64)])
    language = SelectField(_l("Language"), choices=[SelectChoice("", _l("The browser's language")),
                                                     *(SelectChoice(code, name) for code, name in LANGUAGES.items())],
                           validate_choice=False)
    sla_warnings = RadioField(_l("SLA warnings by e-mail"), choices=[], validate_choice=False,
                              default=SlaWarnings.EMAIL.value)


class StatusForm(FlaskForm):
    """Move a case to another status. `current` is the status the page showed, so a stale form is refused; the
    choices are the case's allowed next states (set by the view); closing fills in resolution and victim_summary.
    Lengths and the closing rules are checked again by workflow.transition_case."""

    current = HiddenField(validators=[DataRequired()])
    to = SelectField(_l("New status"), choices=[], validate_choice=False,
                     validators=[DataRequired(message=_l("Choose the new status."))])
    reason = TextAreaField(_l("Reason (staff only)"),
                           validators=[DataRequired(message=_l("Give a reason for the change.")), Length(max=2_000)])
    resolution = SelectField(_l("Resolution (when closing)"), choices=[], validate_choice=False,
                             validators=[Optional()])
    victim_summary = TextAreaField(_l("Summary for the victim (when closing)"),
                                   validators=[Optional(), Length(max=2_000)])
    confirm_open_work = BooleanField(_l("Close anyway, with what is still open"))


class ApiTokenForm(FlaskForm):
    """Create an API token; the name says which system uses it (checked again by api_tokens.create_token)."""

    name = StringField(_l("Name of the token"), validators=[DataRequired(message=_l("Give the token a name.")),
                                                          Length(max=100)])


class RevokeTokenForm(FlaskForm):
    """Revoke a token (the form carries only its CSRF token)."""
