"""The JSON API at /api/v1 for the systems around a team (flask-smorest; OpenAPI at /api/v1/openapi.json).

Authentication is a bearer token of a staff member (casework.services.api_tokens), never the session cookie, so
the blueprint needs no CSRF token. Each token has its own rate limit (API_RATE_LIMIT). Every error is JSON
(casework.api.errors).
"""

from __future__ import annotations

import hashlib

from flask import Flask, current_app, g, request
from flask_limiter.util import get_remote_address
from flask_smorest import Api
from werkzeug.exceptions import Unauthorized

from casework.api import errors
from casework.api.views import bp
from casework.extensions import csrf, limiter
from casework.services import api_tokens

BEARER = "bearer"
SECURITY_SCHEME = "bearerAuth"


class CaseworkApi(Api):
    """flask-smorest's Api documenting the API's own error shape; its errors are answered by the blueprint's
    handlers (flask-smorest's app-wide HTTPException handler would turn every HTML error page into JSON)."""

    ERROR_SCHEMA = errors.ErrorSchema

    def _register_error_handlers(self) -> None:
        """Left to casework.api.errors (the blueprint) and casework.web (unmatched paths under /api/v1)."""


def _presented_token() -> str | None:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != BEARER:
        return None
    return secret.strip() or None


def _rate_key() -> str:
    """Counted per token presented (by its hash), else per client address."""
    secret = _presented_token()
    if secret:
        return "api-token:" + hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()[:32]
    return "api-addr:" + (get_remote_address() or "")


def _rate_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


@bp.before_request
def _authenticate() -> None:
    user = api_tokens.authenticate(_presented_token())
    if user is None:
        raise Unauthorized()
    g.api_user = user


errors.register(bp)
limiter.limit(_rate_limit, key_func=_rate_key)(bp)
csrf.exempt(bp)


def init_app(app: Flask) -> None:
    """Register the API and its OpenAPI document on app."""
    app.config.update(
        API_TITLE="Casework API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=errors.PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "security": [{SECURITY_SCHEME: []}],
            "components": {"securitySchemes": {SECURITY_SCHEME: {
                "type": "http", "scheme": "bearer",
                "description": "A staff member's API token (create one at /staff/tokens).",
            }}},
            "info": {"description": "Cases, notes, status changes and referrals of Casework. Errors are "
                     "{\"error\": {\"code\", \"message\", \"fields\"}}; each token is rate-limited (429 with "
                     "Retry-After)."},
        },
    )
    api = CaseworkApi(app)
    api.register_blueprint(bp)
