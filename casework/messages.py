"""Words the application stores for a later reader: a message key and its values, put into words in the reader's
language only when shown.

Code that runs outside a request (the scheduler above all) has no reader to write for, so what it reports (a job's
progress, result and failure; an audit event's staff summary) is stored as `{"key": ..., "values": {...}}` and
rendered here, with gettext and ngettext, when the staff case page is built. A new message is one function in
MESSAGES; `say` refuses a key that is not there, so nothing unrenderable is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

Message = dict[str, Any]


def _captured(found: int, transfers: int, chain: str, not_found: list[str], pending: list[str]) -> str:
    parts = [_("%(captured)s, %(movements)s",
               captured=ngettext("%(num)d captured", "%(num)d captured", found),
               movements=ngettext("%(num)d value movement", "%(num)d value movements", transfers))]
    if not_found:
        parts.append(_("not found on %(chain)s (try another chain): %(hashes)s", chain=chain,
                       hashes=", ".join(not_found)))
    if pending:
        parts.append(_("not yet mined: %(hashes)s", hashes=", ".join(pending)))
    return _("; ").join(parts)


def _traced(hops: int, proposals: int) -> str:
    return _("%(hops)s; %(proposals)s.", hops=ngettext("%(num)d hop traced", "%(num)d hops traced", hops),
             proposals=ngettext("%(num)d freeze request proposed", "%(num)d freeze requests proposed", proposals))


def _abandoned(attempts: int) -> str:
    return ngettext("The worker running this job stopped %(num)d time without finishing (it may have run out of "
                    "memory or been killed), so it is not retried. Queue a smaller job, or ask the team to look at "
                    "the scheduler's log.",
                    "The worker running this job stopped %(num)d times without finishing (it may have run out of "
                    "memory or been killed), so it is not retried. Queue a smaller job, or ask the team to look at "
                    "the scheduler's log.", attempts)


def _recorded(records: int, transfers: int, **_details: Any) -> str:
    return _("%(records)s, %(movements)s",
             records=ngettext("%(num)d raw record", "%(num)d raw records", records),
             movements=ngettext("%(num)d value movement", "%(num)d value movements", transfers))


def _traced_event(hops: int, proposals: int, **_details: Any) -> str:
    return _("%(hops)s, %(proposals)s", hops=ngettext("%(num)d hop", "%(num)d hops", hops),
             proposals=ngettext("%(num)d freeze proposal", "%(num)d freeze proposals", proposals))


def _status_change(before: str, after: str, reason: str = "", resolution: str | None = None,
                   **_details: Any) -> str:
    from casework.models.enums import CaseStatus, Resolution  # imported here: casework.models imports this module

    change = _("%(before)s → %(after)s", before=CaseStatus(before).title, after=CaseStatus(after).title)
    if resolution:
        change = _("%(change)s (%(resolution)s)", change=change, resolution=Resolution(resolution).title)
    return _with_reason(change, reason)


def _with_reason(change: str, reason: str = "") -> str:
    return _("%(change)s: %(reason)s", change=change, reason=reason) if reason else change


def _assigned(before: str | None = None, after: str | None = None, reason: str = "", **_details: Any) -> str:
    """before/after: the handlers' display names (None: nobody)."""
    if after and before:
        change = _("%(before)s → %(after)s", before=before, after=after)
    elif after:
        change = _("Assigned to %(name)s", name=after)
    else:
        change = _("Unassigned (was %(name)s)", name=before or "?")
    return _with_reason(change, reason)


def _priority(before: str, after: str, reason: str = "", override: bool = False, **_details: Any) -> str:
    from casework.models.enums import Priority

    change = _("%(before)s → %(after)s", before=Priority(before).title, after=Priority(after).title)
    if override:
        change = _("%(change)s (set by a supervisor)", change=change)
    else:
        change = _("%(change)s (recomputed from the facts)", change=change)
    return _with_reason(change, reason)


TASK_CHANGES = {
    "added": lambda: _("added"), "done": lambda: _("done"), "reopened": lambda: _("reopened"),
    "assigned": lambda: _("reassigned"), "rescheduled": lambda: _("new due date"), "removed": lambda: _("removed"),
}


def _task(change: str, title: str, key: str | None = None, **_details: Any) -> str:
    """change: one of TASK_CHANGES; title: the task's title as it was written; key: a shipped checklist item's key,
    whose title is shown in the reader's language."""
    from casework.models.tasks import DEFAULT_TASK_TITLES

    if key in DEFAULT_TASK_TITLES:
        title = str(DEFAULT_TASK_TITLES[key])
    return _("%(title)s: %(change)s", title=title, change=TASK_CHANGES[change]())


def _referral(target: str, before: str, after: str, note: str = "", change: str | None = None, where: str = "",
              **_details: Any) -> str:
    """change: what happened besides (or instead of) a status change: REFERRAL_CHANGES; where: where it was sent."""
    from casework.models.enums import ReferralStatus

    said = _("%(target)s: %(before)s → %(after)s", target=target, before=ReferralStatus(before).title,
             after=ReferralStatus(after).title) if before != after else _("%(target)s: %(status)s", target=target,
                                                                           status=ReferralStatus(after).title)
    if change in REFERRAL_CHANGES:
        said = _("%(change)s (%(what)s)", change=said, what=REFERRAL_CHANGES[change](where))
    return _with_reason(said, note)


REFERRAL_CHANGES: dict[str, Callable[[str], str]] = {
    "opened": lambda where: _("opened by hand"),
    "redrafted": lambda where: _("draft written again"),
    "edited": lambda where: _("draft edited"),
    "sent": lambda where: _("sent to %(where)s", where=where),
    "follow_up": lambda where: _("follow-up recorded"),
    "police_report": lambda where: _("the police report reached the target"),
}


def _recovery(target: str, what: str, amount: str, **_details: Any) -> str:
    if what == "returned":
        return _("%(target)s returned %(amount)s", target=target, amount=amount)
    return _("%(target)s froze %(amount)s", target=target, amount=amount)


def _first_hour(step: str, **_details: Any) -> str:
    steps = {
        "queued": _("Evidence work queued at submission"),
        "confirmed": _("Transfers matching the reported losses confirmed as the theft"),
        "trace_queued": _("Trace from the attacker addresses queued"),
        "drafted": _("Freeze requests drafted for the handler to check and send"),
    }
    return steps.get(step, step)


def _sla_escalated(level: str, metric: str, reference: str, due_at: str, target: str | None = None) -> str:
    """target: the referral's target, for a referral's clock (its follow-up, a courtesy hold's police report)."""
    from casework.models.enums import SlaMetric  # the models import this module

    values = {"metric": SlaMetric(metric).title, "reference": reference,
              "due": datetime.fromisoformat(due_at).strftime("%Y-%m-%d %H:%M UTC")}
    if target is not None:
        values["target"] = target
        if level == "warning":
            return _("%(metric)s (%(target)s) for case %(reference)s is due at %(due)s.", **values)
        if level == "breach":
            return _("%(metric)s (%(target)s) for case %(reference)s is overdue: it was due at %(due)s.", **values)
        return _("%(metric)s (%(target)s) for case %(reference)s is still overdue (it was due at %(due)s): the head "
                 "of the team has been told.", **values)
    if level == "warning":
        return _("%(metric)s for case %(reference)s is due at %(due)s.", **values)
    if level == "breach":
        return _("%(metric)s for case %(reference)s is overdue: it was due at %(due)s.", **values)
    return _("%(metric)s for case %(reference)s is still overdue (it was due at %(due)s): the head of the team has "
             "been told.", **values)


def _audience(audience: str) -> str:
    from casework.models.enums import DocumentAudience  # imported here: casework.models imports this module

    return DocumentAudience(audience).title


def _language(language: str) -> str:
    from casework.i18n import LANGUAGES

    return str(LANGUAGES.get(language, language))


MESSAGES: dict[str, Callable[..., str]] = {
    # An evidence job's progress and failures (EvidenceJob.progress_message, .error_message).
    "job.running": lambda attempt: _("Running (attempt %(n)d)", n=attempt),
    "job.retry": lambda at: _("Will retry at %(time)s UTC", time=datetime.fromisoformat(at).strftime("%H:%M:%S")),
    "job.failed": lambda attempts: ngettext("Failed after %(num)d attempt", "Failed after %(num)d attempts", attempts),
    "job.abandoned": _abandoned,
    "job.unexpected": lambda: _("An unexpected error stopped this job; it has been logged for the team."),
    # The evidence package's own message (English, as it raised it), inside ours.
    "job.evidence_error": lambda error: _("The chain could not be read: %(error)s", error=error),
    # What a finished job did (its handler's result).
    "capture.done": _captured,
    "discovery.none": lambda chain: _("No victim address on %(chain)s to discover from.", chain=chain),
    "discovery.done": lambda found: ngettext(
        "%(num)d outgoing transfer or approval found: confirm whether it is the theft.",
        "%(num)d outgoing transfers and approvals found: confirm which are the theft.", found),
    "trace.none": lambda chain: _("No attacker address on %(chain)s to trace from. Mark the transfer that took the "
                                  "funds as part of the theft (under “Value movements”: capture the reported "
                                  "transactions or discover outgoing transfers first), or add an attacker address "
                                  "with a reason (“Add an attacker address”), then trace again.", chain=chain),
    "trace.done": _traced,
    # Staff summaries of audit events, from the event's data (EventKind.staff_summary names them).
    "event.evidence": _recorded,
    "event.discovery": lambda found, **_details: ngettext("%(num)d outgoing transfer found",
                                                          "%(num)d outgoing transfers found", found),
    "event.trace": _traced_event,
    "event.status": _status_change,
    "event.assigned": _assigned,
    "event.priority": _priority,
    "event.task": _task,
    "event.merged": lambda into, reason="", **_details: _with_reason(_("Merged into %(reference)s",
                                                                       reference=into), reason),
    "event.duplicate_merged": lambda duplicate, reason="", **_details: _with_reason(
        _("%(reference)s merged into this case", reference=duplicate), reason),
    "event.referral": _referral,
    "event.attacker_added": lambda address, reason="", **_details: _with_reason(
        _("%(address)s marked as an attacker address", address=address), reason),
    "event.recovery": _recovery,
    "event.first_hour": _first_hour,
    "event.document_issued": lambda audience, language, code, sha256, **_details: _(
        "%(audience)s (%(language)s) issued, verification code %(code)s, SHA-256 %(sha256)s",
        audience=_audience(audience), language=_language(language), code=code, sha256=sha256),
    "event.document_downloaded": lambda audience, code, **_details: _(
        "%(audience)s %(code)s downloaded", audience=_audience(audience), code=code),
    # Staff alerts (casework.services.alerts).
    "alert.freeze_drafted": lambda reference, count, targets: ngettext(
        "%(reference)s: the funds were traced to %(targets)s; %(num)d freeze request is drafted for you to check "
        "and send.",
        "%(reference)s: the funds were traced to %(targets)s; %(num)d freeze requests are drafted for you to check "
        "and send.", count, reference=reference, targets=", ".join(targets)),
    # The SLA sweep's alerts (casework.services.sla_sweep): a warning, a breach, the head of the team.
    "sla.escalated": _sla_escalated,
}


def say(key: str, **values: Any) -> Message:
    """A message to store: its key and JSON values. Raises KeyError for a key MESSAGES does not know."""
    if key not in MESSAGES:
        raise KeyError(key)
    return {"key": key, "values": values}


def words(message: Mapping[str, Any] | None) -> str | None:
    """A stored message in the reader's language; None for none, for a key no longer known, or for values that do
    not fit it (an audit event written before its kind had a staff summary), so the caller can fall back."""
    if not message or message.get("key") not in MESSAGES:
        return None
    try:
        return MESSAGES[message["key"]](**message.get("values", {}))
    except (KeyError, TypeError, ValueError):
        return None
