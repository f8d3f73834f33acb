"""E-mails telling the victim that stolen funds were frozen or returned, or that a courtesy hold needs their police
report by a date, in their language, through the outbox.

Both ways a referral's target can be recorded as having frozen or returned funds tell the victim once: recording an
amount (recoveries.record_recovery: the e-mail names it) and moving the referral to frozen or returned without one
(referrals.update_referral, from the console's status form or the API). Sending a freeze request to an exchange that
holds funds only until a police report follows tells the victim the date (referrals.send_referral): only they can
make that report, and the funds are released when it does not come. The portal shows the same news.
"""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from casework import timezones
from casework.models import Case, RecoveryKind, Referral
from casework.services import links, mail, portal
from casework.services.victim_report import exchange_name


def tell_funds(case: Case, kind: RecoveryKind, amount: str | None = None) -> None:
    """E-mail the case's victim (if they gave an address) that funds were frozen or returned; amount as shown, e.g.
    "600 USDT", or None when none was recorded. In the caller's transaction."""
    reporter = case.reporter
    if reporter is None or not reporter.email:
        return
    with force_locale(reporter.preferred_language or "en"):
        if kind is RecoveryKind.FROZEN:
            subject = _("Your case %(reference)s: funds frozen", reference=case.reference)
            if amount:
                news = _("%(amount)s of the stolen funds has been frozen where it was traced to. A freeze is not yet "
                         "a return: your case handler is working on getting the funds back to you.", amount=amount)
            else:
                news = _("Stolen funds have been frozen where they were traced to. A freeze is not yet a return: "
                         "your case handler is working on getting the funds back to you.")
        else:
            subject = _("Your case %(reference)s: funds returned", reference=case.reference)
            if amount:
                news = _("%(amount)s of the stolen funds is being returned. Your case handler will tell you where "
                         "and how it reaches you.", amount=amount)
            else:
                news = _("Stolen funds are being returned. Your case handler will tell you where and how they reach "
                         "you.")
        _send(case, subject, news)


def tell_police_report_due(referral: Referral) -> None:
    """E-mail the case's victim that the freeze request sent to referral's target holds the funds only until a police
    report follows, and by when (in the victim's zone). In the caller's transaction."""
    case, due_at = referral.case, referral.police_report_due_at
    if due_at is None or case.reporter is None or not case.reporter.email:
        return
    with force_locale(case.reporter.preferred_language or "en"):
        when = timezones.written_in(due_at, case.victim_timezone)
        subject = _("Your case %(reference)s: report the theft to the police by %(date)s", reference=case.reference,
                    date=when)
        news = _("We have asked %(exchange)s to freeze the stolen funds. %(exchange)s can hold them only for a short "
                 "time unless a police report follows: report the theft to the police by %(date)s, ask for a written "
                 "report with its number, and send us the number in a message on your case's page.",
                 exchange=exchange_name(referral), date=when)
        _send(case, subject, news)


def _send(case: Case, subject: str, news: str) -> None:
    """Queue one piece of news to the victim, in the locale in force, with the way back to their case."""
    body = _(
        "News about your case %(reference)s:\n\n%(news)s\n\n"
        "To read more, open the private link you received when you filed your report, or go to %(url)s and "
        "enter your case reference and access code.\n\n"
        "Casework will never ask for your recovery phrase, your private key or any fee, and nobody needs one to "
        "return your funds.",
        reference=case.reference, news=news, url=links.public_url(portal.PORTAL_PATH))
    mail.queue_email(case.reporter.email, subject, body, case_id=case.id)
