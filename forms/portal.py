"""Forms of the victim's case portal (/track) and of the staff side of the victim thread.

Every free-text field runs the secret guard first (it stops validation and removes the secret from the form), then
the shared validators of forms.validators. Chain choices come from the application's chain registry at run time:
call `set_chain_choices` before validating.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from forms.secrets import NoSecrets
from forms.validators import EmailAddress, EvmAddress, TextLength, TxHash

MESSAGE_MAX_CHARS = 5_000
INFORMATION_MAX_CHARS = 10_000
LABEL_MAX_CHARS = 200
TX_NOTE_MAX_CHARS = 500

# The roles a victim can give an address, in their words (values are the case's AddressRole values).
VICTIM_ADDRESS_ROLES = [
    SelectChoice("attacker", _l("The thief's or scammer's address")),
    SelectChoice("victim", _l("My own address")),
    SelectChoice("exchange_deposit", _l("An exchange deposit address")),
    SelectChoice("intermediary", _l("An address the funds passed through")),
    SelectChoice("other", _l("Other, or I am not sure")),
]


class TrackForm(FlaskForm):
    """Open a case with its reference and the access code of the private link (or the whole link)."""

    reference = StringField(
        _l("Case reference"),
        validators=[DataRequired(message=_l("Enter your case reference, for example CW-2026-000123.")), Length(max=64)],
    )
    # A password field: the code is never written back into the page.
    access_code = PasswordField(
        _l("Access code or private link"),
        validators=[DataRequired(message=_l("Enter the access code from your private link.")), Length(max=512)],
    )


class NewLinkForm(FlaskForm):
    """Ask for a new private link, sent to the e-mail address the case holds."""

    reference = StringField(
        _l("Case reference"),
        validators=[DataRequired(message=_l("Enter your case reference, for example CW-2026-000123.")), Length(max=64)],
    )
    email = StringField(
        _l("The e-mail address you gave in your report"),
        validators=[DataRequired(message=_l("Enter the e-mail address you gave in your report.")), Length(max=254),
                    EmailAddress()],
    )


def new_once_key() -> str:
    """A fresh key for one showing of a form (see SentOnce)."""
    return secrets.token_urlsafe(18)


class SentOnce:
    """A form whose submission must take effect once: each showing carries a new random key, kept when the form is
    shown again with an error, so a double click, a resent request or a reload after a slow answer posts the same
    key again and the service (casework.services.submissions) does nothing the second time."""

    once = HiddenField(default=new_once_key, validators=[Optional(), Length(max=64)])


class MessageForm(SentOnce, FlaskForm):
    """A message in the case thread (from the victim, or a staff reply)."""

    body = TextAreaField(
        _l("Your message"),
        validators=[NoSecrets(), DataRequired(message=_l("Write a message first.")),
                    TextLength(max_chars=MESSAGE_MAX_CHARS)],
    )


class InformationForm(SentOnce, FlaskForm):
    """More about what happened, added to the case after it was filed."""

    text = TextAreaField(
        _l("What would you like to add?"),
        validators=[NoSecrets(), DataRequired(message=_l("Write what you would like to add first.")),
                    TextLength(max_chars=INFORMATION_MAX_CHARS)],
    )


class AddressForm(FlaskForm):
    """An address that matters to the case, with its role."""

    chain_id = SelectField(_l("Chain"), coerce=int, choices=[])
    address = StringField(
        _l("Address"),
        validators=[NoSecrets(), DataRequired(message=_l("Enter an address.")), Length(max=200), EvmAddress()],
    )
    role = SelectField(_l("Whose address is it?"), choices=VICTIM_ADDRESS_ROLES)
    label = StringField(
        _l("Note (optional)"), validators=[NoSecrets(), Optional(), TextLength(max_chars=LABEL_MAX_CHARS)]
    )


class TransactionForm(FlaskForm):
    """A transaction hash that belongs to the case."""

    chain_id = SelectField(_l("Chain"), coerce=int, choices=[])
    tx_hash = StringField(
        _l("Transaction hash"),
        validators=[NoSecrets(), DataRequired(message=_l("Enter a transaction hash.")), Length(max=200), TxHash()],
    )
    note = StringField(
        _l("What was this transaction? (optional)"),
        validators=[NoSecrets(), Optional(), TextLength(max_chars=TX_NOTE_MAX_CHARS)],
    )


class FileForm(FlaskForm):
    """A screenshot, chat export or document added to the case."""

    file = FileField(_l("File"), validators=[FileRequired(message=_l("Choose a file first."))])


class NoteForm(SentOnce, FlaskForm):
    """An internal note (staff only, never shown to the victim)."""

    body = TextAreaField(
        _l("Internal note"),
        validators=[NoSecrets(), DataRequired(message=_l("Write the note first.")),
                    TextLength(max_chars=INFORMATION_MAX_CHARS)],
    )


def set_chain_choices(
    form: AddressForm | TransactionForm, chains: Iterable[tuple[int, str]], default: int | None
) -> None:
    """Offer the configured chains (id, name), preselecting `default` on a fresh form."""
    form.chain_id.choices = [SelectChoice(chain_id, name) for chain_id, name in chains]
    if default is not None and not form.is_submitted():
        form.chain_id.data = default
