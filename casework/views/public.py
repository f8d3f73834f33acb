"""Public pages: the landing page and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for

from casework.views.forms import LanguageForm

bp = Blueprint("public", __name__)


@bp.get("/")
def landing():
    return render_template("web/landing.html")


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so the switch cannot be used as an open redirect."""
    if not target:
        return url_for("public.landing")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("public.landing")
    return target


@bp.post("/language")
def set_language():
    form = LanguageForm()
    if form.validate_on_submit():
        session["lang"] = form.lang.data
    return redirect(_safe_next(form.next.data or request.referrer and urlsplit(request.referrer).path))
