"""What a filed case gives the victim to keep: the private tracking link, and the confirmation e-mail with the
reference, that link and the act-now checklist in their language. Links in e-mails start with the configured
PUBLIC_URL (services/links.py)."""

from __future__ import annotations

import functools
from urllib.parse import quote

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from casework.models import IncidentType
from casework.services import checklist
from casework.services.filing import NewReport


def tracking_path(reference: str, token: str) -> str:
    """The path of a case's private tracking link, /track/<reference>/<token> (served by the victim's portal)."""
    if "track.private_link" in current_app.view_functions:
        return current_app.url_map.bind("localhost").build(
            "track.private_link", {"reference": reference, "token": token}
        )
    return f"/track/{quote(reference)}/{quote(token)}"


def confirmation_email(report: NewReport, reference: str, tracking_url: str) -> tuple[str, str]:
    """The confirmation e-mail's subject and body in the victim's language: the reference, the private link and
    the act-now checklist."""
    language = report.reporter.preferred_language
    text = _confirmation_sentences(language)
    body = "\n\n".join(
        [
            text["received"] % {"reference": reference},
            text["link"] + "\n" + tracking_url,
            text["what_now"],
            _checklist_text(report.incident_type, report.reporter.country, report.wallet_app,
                            bool(report.prior_reports.get("police_report_number")),
                            checklist.directory_facts(report.reporter.country, report.wallet_app), language),
            text["never"],
        ]
    )
    return text["subject"] % {"reference": reference}, body


@functools.lru_cache(maxsize=16)
def _confirmation_sentences(language: str) -> dict[str, str]:
    """The confirmation e-mail's sentences in this language, %(reference)s still to fill in (the same for every
    case: translated once per process)."""
    with force_locale(language):
        return {
            "subject": _("Your report %(reference)s"),
            "received": _("We have received your report. Your case reference is %(reference)s."),
            "link": _("Follow your case, message your handler and add information with this private link. Keep it "
                      "to yourself: it opens your case."),
            "what_now": _("What to do now:"),
            "never": _("We will never ask for your recovery phrase, your private key or any fee."),
        }


@functools.lru_cache(maxsize=1024)
def _checklist_text(incident_type: IncidentType, country: str | None, wallet_app: str | None,
                    reported_to_police: bool, found: checklist.DirectoryFacts, language: str) -> str:
    """The act-now checklist as e-mail text; the same for every victim with the same answers, directory entries
    and language."""
    with force_locale(language):
        return checklist.as_text(checklist.act_now(incident_type, country, wallet_app,
                                                   reported_to_police=reported_to_police, found=found))
