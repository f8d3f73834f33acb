"""Language choice: the victim's or staff member's explicit switch, else the signed-in staff member's saved language,
else the browser's Accept-Language."""

from __future__ import annotations

from flask import has_request_context, request, session
from flask_login import current_user

# Locale codes as Babel names them -> the name shown in the language switch (in its own language).
LANGUAGES = {"en": "English", "zh_Hans_CN": "简体中文"}
DEFAULT_LOCALE = "en"


def normalise_locale(code: str | None) -> str | None:
    """Map a browser or user language code (en-GB, zh-CN, zh-Hans, zh_Hans_CN) to a shipped locale."""
    if not code:
        return None
    lowered = code.strip().replace("_", "-").lower()
    if lowered in {"zh-hans-cn", "zh_hans_cn"} or lowered.startswith("zh"):
        # Traditional-Chinese readers also read Simplified better than English.
        return "zh_Hans_CN"
    if lowered.startswith("en"):
        return "en"
    return None


def select_locale() -> str:
    """Flask-Babel's locale selector (outside a request, e.g. in the CLI or a job: the default)."""
    if not has_request_context():
        return DEFAULT_LOCALE
    chosen = normalise_locale(session.get("lang"))
    if chosen:
        return chosen
    if current_user and current_user.is_authenticated:
        chosen = normalise_locale(getattr(current_user, "preferred_language", None))
        if chosen:
            return chosen
    for code, _quality in request.accept_languages:
        matched = normalise_locale(code)
        if matched:
            return matched
    return DEFAULT_LOCALE
