"""A scammer contact (website, phone, e-mail, social handle) in the one form two reports of it share, so that cases
naming the same contact in different spellings are found together. Pure: no Flask, no database."""

from __future__ import annotations

import re
import unicodedata

# The kinds of ReportExtras.scammer_contacts that name one party. "apps" names platforms (Telegram, WeChat): two
# cases naming the same app share nothing.
LINKING_KINDS = ("websites", "phones", "emails", "social")
MAX_VALUE_CHARS = 300
MIN_PHONE_DIGITS = 6
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
_SPACES = re.compile(r"\s+")


def _site(text: str) -> str:
    text = _SCHEME.sub("", text)
    text = text.removeprefix("www.")
    return text.split("#", 1)[0].rstrip("/")


def normalise_contact(kind: str, value: str) -> str | None:
    """The shared form of one contact of `kind`, or None when nothing usable is left (or the kind does not link).

    websites: lower case, no scheme, no "www.", no fragment or trailing slash; phones: digits only, without an
    international "00" prefix (so "+86 138-0013-8000" and "0086 13800138000" match); emails: lower case, no
    "mailto:"; social: lower case, no leading "@", and a profile link as a site.
    """
    if kind not in LINKING_KINDS:
        return None
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip().lower()
    if kind == "websites":
        text = _site(text)
    elif kind == "phones":
        text = re.sub(r"\D", "", text).removeprefix("00")
        if len(text) < MIN_PHONE_DIGITS:
            return None
    elif kind == "emails":
        text = text.removeprefix("mailto:").strip()
    else:
        text = _site(text).lstrip("@").strip()
    return text[:MAX_VALUE_CHARS] or None


def contact_rows(contacts: dict[str, list[str]] | dict[str, tuple[str, ...]]) -> list[dict[str, str]]:
    """The (kind, value) rows of a report's scammer contacts, normalised and each once."""
    seen: dict[tuple[str, str], None] = {}
    for kind in LINKING_KINDS:
        for value in contacts.get(kind, ()) or ():
            normal = normalise_contact(kind, str(value))
            if normal:
                seen.setdefault((kind, normal), None)
    return [{"kind": kind, "value": value} for kind, value in seen]
