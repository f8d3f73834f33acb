"""The report wizard's final submit: a claimed draft (`drafts.claim_draft`) becomes a case, with its files and the
confirmation e-mail, in the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from casework.models import IncidentType, utcnow
from casework.services.cases import assign_reference
from casework.services.confirmation import confirmation_email, tracking_path
from casework.services.drafts import ClaimedDraft
from casework.services.filing import NewReport, write_case
from casework.services.links import public_url
from casework.services.mail import queue_email


@dataclass(frozen=True)
class Submitted:
    """A filed case and what the victim must see once: the token of the private tracking link."""

    reference: str
    access_token: str
    tracking_path: str
    incident_type: IncidentType
    country: str | None
    wallet_app: str | None


def submit_draft(draft: ClaimedDraft, report: NewReport, *, now: datetime | None = None) -> Submitted:
    """File the case a claimed draft describes, move its files to the case and queue the confirmation e-mail:
    all in the caller's transaction (the one that claimed the draft), so a failure leaves the draft as it was
    and no case.

    `report` is what `report_answers.report_to_submit(draft)` built.
    """
    now = now or utcnow()
    case_id, token = write_case(report, now, files_of_draft=draft.id)
    # Last, so that concurrent submits wait for this transaction's counter row only while it finishes.
    reference = assign_reference(case_id, now)
    path = tracking_path(reference, token)
    if report.reporter.email:
        subject, body = confirmation_email(report, reference, public_url(path))
        queue_email(report.reporter.email, subject, body, case_id=case_id)
    return Submitted(
        reference=reference,
        access_token=token,
        tracking_path=path,
        incident_type=report.incident_type,
        country=report.reporter.country,
        wallet_app=report.wallet_app,
    )
