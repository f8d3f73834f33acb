"""Absolute links to the site, for e-mails and for links a victim copies from a page.

Built from the configured public address (CASEWORK_PUBLIC_URL), never from the request: a request's Host header is
whatever the client sent, so a link built from it could put another site's address in front of a victim.
"""

from __future__ import annotations

from flask import current_app


def public_url(path: str) -> str:
    """The absolute URL of a path on this site (the path starts with /)."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + path
