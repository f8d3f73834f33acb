"""Security headers on every response, and private links kept out of the logs."""

from __future__ import annotations

import logging
import re

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def add_security_headers(response: Response) -> Response:
    """Set CSP, framing, sniffing and referrer headers (private links must not leak via Referer)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


# Paths under a case's private area that are actions, not tokens (see casework/views/track.py).
TRACK_ACTIONS = ("messages", "information", "addresses", "transactions", "files", "report.pdf", "forget")


class PrivateLinkFilter(logging.Filter):
    """Replace the secret tokens of private links (tracking and report-resume links) in log lines:
    access logs print request paths, and a token in a log would open a victim's case or draft."""

    _ACTIONS = "|".join(map(re.escape, TRACK_ACTIONS))
    _LINKS = re.compile(
        rf"(/track/[^/\s?#\"']+/)(?!(?:{_ACTIONS})(?:[\s?#\"']|$))[^/\s?#\"']+"
        rf"|(/report/resume/)[^/\s?#\"']+"
    )

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/track/" in message or "/report/resume/" in message:
            redacted = self._LINKS.sub(lambda m: (m.group(1) or m.group(2)) + "[token]", message)
            record.msg, record.args = redacted, None
        return True


class DatabaseDetailFilter(logging.Filter):
    """Blank the row values a database puts in its error details: PostgreSQL names the duplicate key's value
    ("Key (email)=(...) already exists") and a refused row's columns ("Failing row contains (...)"), so a
    traceback of a failed write would carry a victim's e-mail or name. (SQLAlchemy's own rendering of the bound
    values is off: hide_parameters, see create_app.) Set on handlers, so it sees every record they print,
    tracebacks included."""

    _DETAILS = re.compile(r"(Key \([^)]*\)=\().*?(\) (?:already exists|is not present))|(Failing row contains \().*\)")

    def _redact(self, text: str) -> str:
        return self._DETAILS.sub(lambda m: f"{m.group(1)}[hidden]{m.group(2)}" if m.group(1)
                                 else f"{m.group(3)}[hidden])", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "Key (" in message or "Failing row" in message:
            record.msg, record.args = self._redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and ("Key (" in record.exc_text or "Failing row" in record.exc_text):
            record.exc_text = self._redact(record.exc_text)
        return True


def install_log_filter() -> None:
    """Put the filters where they see what is printed (once per process): the private-link filter on the loggers
    that print request paths, the database-detail filter on every handler of the root and gunicorn loggers."""
    for name in ("werkzeug", "gunicorn.access", "gunicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(existing, PrivateLinkFilter) for existing in logger.filters):
            logger.addFilter(PrivateLinkFilter())
    for name in (None, "gunicorn.error"):
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(existing, DatabaseDetailFilter) for existing in handler.filters):
                handler.addFilter(DatabaseDetailFilter())


def init_app(app: Flask) -> None:
    """Register the header hook and the log filter."""
    app.after_request(add_security_headers)
    install_log_filter()
