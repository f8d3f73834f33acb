"""JSON errors for everything under /api/v1: `{"error": {"code": ..., "message": ..., "fields": {...}}}`.

Never an HTML page, never a 500 for bad input: HTTP errors keep their status; input that is not valid is 422 (with
the fields); a change the case's current state does not allow is 409 `conflict`, one made on a stale view of it
409 `stale`; a role that may not is 403; a rate limit is 429 with Retry-After.
"""

from __future__ import annotations

import logging
import time

import marshmallow as ma
from flask import Blueprint, jsonify
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from casework.extensions import db, limiter
from casework.services.access import AccessDenied
from casework.services.api_tokens import TokenError
from casework.services.portal import PortalError
from casework.services.workflow import StaleChange, WorkflowError

log = logging.getLogger(__name__)
PREFIX = "/api/v1"

CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "stale", 413: "too_large", 415: "unsupported_media_type", 422: "invalid", 429: "rate_limited",
    500: "server_error",
}


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "A stable, machine-readable error code."})
    message = ma.fields.String(required=True, metadata={"description": "What went wrong, for a person to read."})
    fields = ma.fields.Dict(metadata={"description": "Validation errors by location and field (422 only)."})


class ErrorSchema(ma.Schema):
    error = ma.fields.Nested(ErrorBodySchema, required=True)


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be read. Check that the body is valid JSON."),
        401: _("Send a valid API token in the header: Authorization: Bearer <token>."),
        403: _("Your role does not allow this. Ask a supervisor or an administrator."),
        404: _("There is nothing at this address."),
        405: _("This address cannot be used with this method."),
        413: _("The request is too large."),
        415: _("Send the body as JSON (Content-Type: application/json)."),
        422: _("Some values are missing or not valid."),
        429: _("Too many requests with this token. Wait, then try again."),
    }


def json_error(status: int, message: str | None = None, *, code: str | None = None, fields: dict | None = None,
               headers: dict | None = None):
    """An error response of the API's one shape."""
    body: dict = {"code": code or CODES.get(status, "error"), "message": message or _messages().get(status, "")}
    if fields:
        body["fields"] = fields
    response = jsonify({"error": body})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def in_api(path: str) -> bool:
    """True for a path the API answers (so its errors are JSON even when no route matched)."""
    return path == PREFIX or path.startswith(PREFIX + "/")


def http_error(error: HTTPException):
    """An HTTP error as JSON; the validation errors webargs gathered become `fields`."""
    status = error.code or 500
    if status == 429:
        return rate_limited(error)
    data = getattr(error, "data", None) or {}
    fields = data.get("messages") or data.get("errors")
    message = None
    if status == 404 and error.description and error.description != type(error).description:
        message = error.description  # a service's own "There is no case CW-..."
    headers = {"WWW-Authenticate": 'Bearer realm="casework"'} if status == 401 else {}
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    return json_error(status, message, fields=fields, headers=headers)


def rate_limited(_error: HTTPException):
    current = limiter.current_limit
    retry_after = max(1, current.reset_at - int(time.time())) if current is not None else 60
    return json_error(429, headers={"Retry-After": str(retry_after)})


def register(bp: Blueprint) -> None:
    """Answer every error raised under the blueprint as JSON."""

    @bp.errorhandler(AccessDenied)
    def access_denied(error: AccessDenied):
        db.session.rollback()
        return json_error(403, str(error))

    @bp.errorhandler(StaleChange)
    def stale(error: StaleChange):
        db.session.rollback()
        return json_error(409, error.message)

    @bp.errorhandler(WorkflowError)
    def conflict(error: WorkflowError):
        db.session.rollback()
        return json_error(409, error.message, code="conflict")

    @bp.errorhandler(PortalError)
    @bp.errorhandler(TokenError)
    def refused(error):
        db.session.rollback()
        return json_error(422, error.message)

    # Code-specific handlers are looked up before class ones: the app's HTML 429 page must not answer here.
    bp.register_error_handler(429, rate_limited)
    bp.register_error_handler(HTTPException, http_error)

    @bp.errorhandler(Exception)
    def unexpected(error: Exception):
        db.session.rollback()
        log.exception("Unhandled error in the API")
        return json_error(500, _("Something went wrong on our side. Nothing was changed; try again in a moment."))
