"""API tokens: created by a staff member for themselves (shown once), revoked by them or an admin, and the one check
every /api/v1 request goes through (`authenticate`).

A token is `cw_` and 43 random URL-safe characters; only its SHA-256 is stored, with its first characters as the
prefix a listing shows. A token stops working when it is revoked or its owner is deactivated.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update
from werkzeug.exceptions import NotFound

from casework.extensions import db
from casework.models import ApiToken, User, utcnow
from casework.services.access import AccessDenied, Permission, require

TOKEN_PREFIX = "cw_"  # noqa: S105 - the public start of every token, not a secret
PREFIX_CHARS = 10
NAME_MAX_CHARS = 100
# last_used_at is written at most this often per token, not at every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenError(ValueError):
    """A token could not be created or revoked; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class NewToken:
    """A token just created: `secret` is shown to its owner this once and is stored nowhere."""

    token: ApiToken
    secret: str


@dataclass(frozen=True)
class TokenLine:
    """A token as a listing shows it (never the token itself)."""

    id: int
    name: str
    prefix: str
    owner: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def hash_token(secret: str) -> str:
    """The stored form of a token: hex SHA-256 (the token has 256 random bits, so no slow hash is needed)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _require_staff(user: User | None) -> None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        raise AccessDenied(_("Your role does not allow this. Ask a supervisor or an administrator."))


def create_token(user: User, name: str) -> NewToken:
    """A new token for user (any active staff member, for themselves); the caller commits. A second token of the same
    name while the first is not revoked is refused (so a form sent twice makes one token)."""
    _require_staff(user)
    name = " ".join((name or "").split())
    if not name:
        raise TokenError(_("Give the token a name, such as the system that will use it."))
    if len(name) > NAME_MAX_CHARS:
        raise TokenError(_("Keep the name under %(num)d characters.", num=NAME_MAX_CHARS))
    taken = db.session.scalar(select(ApiToken.id).where(
        ApiToken.user_id == user.id, ApiToken.name == name, ApiToken.revoked_at.is_(None)))
    if taken is not None:
        raise TokenError(_("You already have a token named “%(name)s”. Revoke it first, or choose another name.",
                           name=name))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, token_hash=hash_token(secret), prefix=secret[:PREFIX_CHARS])
    db.session.add(token)
    db.session.flush()
    return NewToken(token=token, secret=secret)


def _lines(query) -> list[TokenLine]:
    return [
        TokenLine(id=t.id, name=t.name, prefix=t.prefix, owner=t.user.display_name, created_at=t.created_at,
                  last_used_at=t.last_used_at, revoked_at=t.revoked_at)
        for t in db.session.scalars(query.order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(),
                                                   ApiToken.id.desc()))
    ]


def tokens_of(user: User) -> list[TokenLine]:
    """user's own tokens, active first, newest first."""
    _require_staff(user)
    return _lines(select(ApiToken).where(ApiToken.user_id == user.id))


def all_tokens(user: User) -> list[TokenLine]:
    """Every staff member's tokens (admins only)."""
    require(user, Permission.MANAGE_USERS)
    return _lines(select(ApiToken).join(ApiToken.user))


def revoke_token(user: User, token_id: int, *, any_owner: bool = False) -> ApiToken:
    """Revoke one of user's own tokens, or (any_owner, admins only) anyone's; the caller commits. Revoking a revoked
    token changes nothing. Another user's token is not found on one's own page (its existence is not told)."""
    if any_owner:
        require(user, Permission.MANAGE_USERS)
    else:
        _require_staff(user)
    token = db.session.get(ApiToken, token_id) if 0 < token_id < 2**31 else None
    if token is None or (token.user_id != user.id and not any_owner):
        raise NotFound(_("There is no such token."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


def authenticate(secret: str | None) -> User | None:
    """The active staff member whose active token this is, or None. Notes when the token was last used (committed at
    once, at most every LAST_USED_RESOLUTION)."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        db.session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now)
                           .execution_options(synchronize_session=False))
        db.session.commit()
    return token.user
