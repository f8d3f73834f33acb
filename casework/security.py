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


def install_log_filter() -> None:
    """Put the filter on the loggers that print request paths (once per process)."""
    for name in ("werkzeug", "gunicorn.access", "gunicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(existing, PrivateLinkFilter) for existing in logger.filters):
            logger.addFilter(PrivateLinkFilter())


def init_app(app: Flask) -> None:
    """Register the header hook and the log filter."""
    app.after_request(add_security_headers)
    install_log_filter()
