"""Cross-cutting web concerns: error pages, template filters (formatting only: templates never run queries)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Context, Decimal

from flask import Flask, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from casework import timezones
from casework.i18n import LANGUAGES
from casework.services import chains
from casework.services.access import AccessDenied

log = logging.getLogger(__name__)


def format_amount(raw: int, decimals: int) -> str:
    """A base-unit integer as a decimal string with thousands separators, without trailing zeros."""
    # scaleb rounds to the context's precision (28 digits by default); a uint256 has up to 78.
    value = Decimal(raw).scaleb(-decimals, Context(prec=100))
    text = f"{value:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_utc(moment: datetime) -> str:
    """An aware datetime shown in UTC with the zone written out."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def format_local(moment: datetime) -> str:
    """An aware datetime in the signed-in staff member's zone (else the configured STAFF_TIMEZONE), zone named."""
    return timezones.in_zone(moment, timezones.zone_of(current_user))


def _error_page(status: int, title: str, message: str):
    return render_template("web/errors/error.html", status=status, title=title, message=message), status


def init_app(app: Flask) -> None:
    """Register error handlers, template filters and the language globals."""

    @app.context_processor
    def template_globals():
        return {"languages": LANGUAGES, "current_locale": str(get_locale())}

    app.add_template_filter(format_amount, "amount")
    app.add_template_filter(format_utc, "utc")
    app.add_template_filter(format_local, "local")
    app.add_template_filter(chains.chain_name, "chain_name")

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return _error_page(
            400,
            _("This form has expired"),
            _("For your security the form could not be accepted. Go back, reload the page and send it again."),
        )

    @app.errorhandler(AccessDenied)
    def access_denied(error: AccessDenied):
        return _error_page(403, _("Not allowed"), str(error))

    @app.errorhandler(429)
    def too_many_requests(error: HTTPException):
        return _error_page(
            429,
            _("Too many attempts"),
            _("There have been too many attempts from your connection. Wait a few minutes, then try again."),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        from casework.api import errors as api_errors

        if api_errors.in_api(request.path):  # no API route matched (404, 405): still the API's JSON
            return api_errors.http_error(error)
        pages = {
            403: (_("Not allowed"), _("Your account cannot open this page.")),
            404: (_("Page not found"), _("The page you asked for does not exist.")),
            405: (_("Not allowed"), _("This address cannot be used that way.")),
            413: (_("File too large"), _("The file is larger than we accept. Send a smaller file.")),
        }
        title, message = pages.get(error.code, (error.name, ""))
        return _error_page(error.code or 500, title, message)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        log.exception("Unhandled error")
        return _error_page(
            500,
            _("Something went wrong on our side"),
            _("Nothing you sent has been lost. Please try again in a moment."),
        )
