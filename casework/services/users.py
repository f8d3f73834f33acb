"""Staff accounts: creation, password hashing (argon2id), authentication, who is on duty, each one's own settings."""

from __future__ import annotations

import logging
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from casework import timezones
from casework.extensions import db
from casework.i18n import LANGUAGES
from casework.models import Role, SlaWarnings, User, utcnow
from casework.services.access import Permission, can, require

log = logging.getLogger(__name__)
_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so both cases take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))

MIN_PASSWORD_LENGTH = 12


class UserError(ValueError):
    """A staff account could not be created or changed; the message says why."""


class SettingsError(UserError):
    """A setting was refused: `field` names it (time_zone, language, sla_warnings), the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader."""
    try:
        return db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None


def normalise_email(email: str) -> str:
    """Lower-cased, syntax-checked e-mail address (no DNS look-up)."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise UserError(_("%(email)s is not a valid e-mail address.", email=email)) from None


def create_user(email: str, password: str, role: Role, display_name: str | None = None) -> User:
    """Create a staff account (the caller commits)."""
    email = normalise_email(email)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise UserError(_("A user with the e-mail %(email)s already exists.", email=email))
    user = User(email=email, role=role, display_name=display_name or email.split("@")[0])
    set_password(user, password)
    db.session.add(user)
    return user


def set_password(user: User, password: str) -> None:
    """Replace a user's password (the caller commits)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(_("Passwords need at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    user.password_hash = _hasher.hash(password)


def authenticate(email: str, password: str) -> User | None:
    """Return the active user with these credentials, or None (same cost for unknown e-mails)."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    stored = user.password_hash if user is not None else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    return user


def list_users(actor: User | None = None) -> list[User]:
    """All staff accounts, by role then e-mail; actor must be allowed to manage users or set who is on duty (None:
    the CLI)."""
    if actor is not None and not can(actor, Permission.MANAGE_USERS):
        require(actor, Permission.SET_ON_DUTY)
    return list(db.session.scalars(select(User).order_by(User.role, User.email)))


def set_on_duty(actor: User, user_id: int, on_duty: bool) -> User:
    """Mark a staff member on duty (they hear about cases nobody is assigned to) or off; supervisors and admins.
    Raises NotFound for an unknown user. The caller commits."""
    require(actor, Permission.SET_ON_DUTY)
    user = db.session.get(User, user_id) if 0 < user_id < 2**31 else None
    if user is None:
        raise NotFound(_("There is no staff member %(id)s.", id=user_id))
    if user.on_duty is not on_duty:
        user.on_duty = on_duty
        log.info("Staff member %s set %s duty by %s.", user.id, "on" if on_duty else "off", actor.id)
    return user


def save_settings(user: User, *, time_zone: str, language: str, sla_warnings: str) -> User:
    """A staff member's own settings: the zone the console shows times in, the language of the console and their
    e-mails, and SLA warnings one by one or in a daily digest. An empty zone or language means the default (the
    configured zone; the browser's language). Raises SettingsError naming what is wrong; the caller commits."""
    zone = time_zone.strip()
    if zone and not timezones.is_known(zone):
        raise SettingsError("time_zone", _("“%(zone)s” is not a time zone we know. Choose one from the list, such "
                                           "as Asia/Shanghai or Europe/Berlin.", zone=zone[:64]))
    if language and language not in LANGUAGES:
        raise SettingsError("language", _("Choose one of the languages offered."))
    try:
        delivery = SlaWarnings(sla_warnings)
    except ValueError:
        raise SettingsError("sla_warnings", _("Choose how you want to hear about SLA warnings.")) from None
    user.time_zone, user.preferred_language, user.sla_warnings = zone or None, language or None, delivery
    return user
