"""The "act now" checklist a victim gets after reporting, on the confirmation page and in the e-mail.

One function chooses and orders the actions for the incident type, the wallet app, the country where the victim
lives and what they already did (a police report made); the page renders them as HTML and the e-mail as text, so
both always say the same thing. Each common wallet gets its own way to revoke approvals; any other wallet the
general one. The directory of organisations adds the agencies of the victim's country ("report to ...", each with
its channel, marked when the channel is not verified) and, when it knows the wallet's maker cannot freeze
anything, says so and warns of anyone posing as its support.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from casework.extensions import db
from casework.models import Case, ChannelKind, IncidentType, OrganisationKind, ReportExtras, Requester
from casework.services import directory

# Where a wallet whose secret may be known to the thief must be abandoned rather than cleaned up.
_COMPROMISED_WALLET = {IncidentType.LEAKED_SECRET, IncidentType.FAKE_WALLET}
# Where the thief usually holds a token approval (or may, when the victim signed something on request).
_APPROVALS = {
    IncidentType.APPROVAL_PHISHING,
    IncidentType.FAKE_SUPPORT,
    IncidentType.INVESTMENT_SCAM,
    IncidentType.FAKE_WALLET,
    IncidentType.OTHER,
}


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Agency:
    """Where to report: a directory entry's name, how to reach it (a web address in `url` too), and "(not
    verified)" in `note` when the channel was not confirmed at its source."""

    name: str
    how: str
    url: str | None
    note: str


@dataclass(frozen=True)
class Action:
    """One thing to do now: a short title, an explanation, and where to do it."""

    key: str
    title: str
    text: str
    links: tuple[Link, ...] = ()
    agencies: tuple[Agency, ...] = ()


@dataclass(frozen=True)
class AgencyEntry:
    """What the checklist needs of an agency's directory entry (plain values: the same in every language)."""

    name: str
    kind: OrganisationKind
    channel_kind: ChannelKind
    channel: str | None
    channel_verified: bool


@dataclass(frozen=True)
class DirectoryFacts:
    """What the directory says for a victim's country and wallet app: the agencies to report to, and the wallet
    maker's name when it cannot freeze anything."""

    agencies: tuple[AgencyEntry, ...] = ()
    wallet_maker: str | None = None


def directory_facts(country: str | None, wallet_app: str | None) -> DirectoryFacts:
    """The directory's entries for this country and wallet app, read once (the checklist is then pure)."""
    agencies = tuple(
        AgencyEntry(org.name, org.kind, org.channel_kind, org.channel, directory.channel_verified(org))
        for org in directory.agencies_for(country)
    )
    maker = directory.wallet_maker_for(wallet_app)
    cannot_freeze = maker is not None and (maker.requester is Requester.NOBODY or not maker.can_freeze)
    return DirectoryFacts(agencies, maker.name if cannot_freeze else None)


def _move_funds(incident_type: IncidentType) -> Action:
    urgent = incident_type in _COMPROMISED_WALLET
    return Action(
        "move_funds",
        _("Move what is left to a new wallet made on a clean device"),
        (_("Do this first: whoever has your recovery phrase or key can take the rest at any moment.") + " "
         if urgent else "")
        + _(
            "Create a new wallet on a device that was not involved (not the phone or computer you used when this "
            "happened), write its new recovery phrase on paper, and send whatever remains in the old wallet to it. "
            "Never import the old recovery phrase into the new wallet, and never type it anywhere."
        ),
    )


def _sentences(first: str, second: str) -> str:
    """Two sentences one after the other, as the language writes them (Chinese puts no space between)."""
    return _("%(first)s %(second)s", first=first, second=second)


def _wallet_revoke_step(wallet_app: str | None) -> str | None:
    """Where this wallet app lets its user see and revoke approvals, or None for a wallet we do not know."""
    name = " ".join((wallet_app or "").casefold().split())
    if name == "imtoken":
        return _("imToken has its own approval manager: in the wallet, open 授权管理 (Authorization management) and "
                 "cancel the approvals you do not recognise.")
    if name == "metamask":
        return _("MetaMask has no approval list of its own: open revoke.cash in the browser where MetaMask is "
                 "installed (or in the MetaMask app's browser), connect the wallet, and confirm each revoke in "
                 "MetaMask.")
    if name == "trust wallet":
        return _("In Trust Wallet, open revoke.cash in the app's built-in browser (the Discover or Browser tab), "
                 "connect the wallet, and confirm each revoke in Trust Wallet.")
    if name == "tokenpocket":
        return _("In TokenPocket, use its approval check tool (授权检测) to see and cancel approvals.")
    if name in ("ledger", "ledger live"):
        return _("Ledger Live cannot revoke approvals: connect your Ledger to revoke.cash through a browser wallet "
                 "such as MetaMask or Rabby, and confirm each revoke on the Ledger device itself.")
    return None


def _revoke(wallet_app: str | None) -> Action:
    text = _(
        "A scam site or app often gets permission to spend your tokens, and keeps it after the theft. Check every "
        "approval given by your address and revoke the ones you do not recognise, on revoke.cash or with the token "
        "approval checker of Etherscan or BscScan. Revoking costs a small network fee."
    )
    own_way = _wallet_revoke_step(wallet_app) or _(
        "If your wallet app has an approval or authorization manager of its own, you can revoke there as well."
    )
    return Action(
        "revoke",
        _("Revoke the approvals you gave"),
        _sentences(text, own_way),
        (
            Link("revoke.cash", "https://revoke.cash"),
            Link(_("Etherscan token approval checker"), "https://etherscan.io/tokenapprovalchecker"),
            Link(_("BscScan token approval checker"), "https://bscscan.com/tokenapprovalchecker"),
        ),
    )


def _police(country: str | None, reported: bool) -> Action:
    why = _(
        "Exchanges and stablecoin issuers mostly freeze funds only when the police ask them, so this report matters."
    )
    if reported:
        return Action(
            "police_reported",
            _("Keep your police report at hand"),
            _sentences(_("You gave us your police report number, so it is on your case. Keep the receipt, and tell "
                         "the police about anything new you find."), why),
        )
    country = (country or "").upper()
    if country == "CN":
        return Action(
            "police",
            _("Report it to the police"),
            _sentences(_(
                "Call 110 or go to your local police station (派出所), and ask for the report receipt (报案回执) "
                "with its number. You can also report in the National Anti-Fraud Center app (国家反诈中心)."
            ), why),
        )
    if country == "US":
        return Action(
            "police",
            _("Report it to the FBI's IC3 and to your local police"),
            _sentences(_("File a complaint with the FBI's Internet Crime Complaint Center (IC3) and keep its complaint "
                         "number."), why),
            (Link("IC3", "https://www.ic3.gov"),),
        )
    if country == "GB":
        return Action(
            "police",
            _("Report it to Report Fraud"),
            _sentences(_("Report it to Report Fraud, the UK's national fraud reporting service, and keep the crime "
                         "reference number it gives you."), why),
            (Link("Report Fraud", "https://www.reportfraud.police.uk"),),
        )
    return Action(
        "police",
        _("Report it to the police where you live"),
        _sentences(
            _("Report the theft to the police where you live and ask for a written report with its number."), why
        ),
    )


def _how(entry: AgencyEntry) -> Agency:
    channel = entry.channel
    url = channel if channel and entry.channel_kind in (ChannelKind.WEB_FORM, ChannelKind.PORTAL) else None
    if not channel:
        how = _("how to reach it is not confirmed yet")
    elif url:
        how = channel
    elif entry.channel_kind is ChannelKind.EMAIL:
        how = _("write to %(address)s", address=channel)
    elif entry.channel_kind is ChannelKind.PHONE:
        how = _("call %(number)s", number=channel)
    else:
        how = channel
    return Agency(entry.name, how, url, _("(not verified)") if channel and not entry.channel_verified else "")


def _agencies(agencies: tuple[AgencyEntry, ...], reported: bool) -> Action | None:
    # A victim who already reported to the police is not sent to the police again.
    listed = tuple(_how(a) for a in agencies if not (reported and a.kind is OrganisationKind.POLICE))
    if not listed:
        return None
    return Action(
        "agencies",
        _("Report it to these services for your country"),
        _("Each of them takes reports from victims where you live. Give them your case reference, and keep the "
          "reference number they give you."),
        agencies=listed,
    )


def _wallet_maker(name: str) -> Action:
    return Action(
        "wallet_maker",
        _("%(wallet)s cannot freeze or return your funds", wallet=name),
        _("%(wallet)s is a self-custody wallet: its maker never holds your funds and cannot freeze, reverse or "
          "recover them. Anyone who says they are %(wallet)s support and asks you for a fee or your recovery "
          "phrase is a scammer.", wallet=name),
    )


def _recovery_scams() -> Action:
    return Action(
        "recovery_scams",
        _("Beware of anyone offering to get the money back"),
        _(
            "Past victims are targeted again by fake lawyers, \"recovery agents\", hackers and fake police who "
            "promise to recover the funds for a fee. Nobody can recover stolen crypto for an upfront fee, and we "
            "never ask for one, nor for your recovery phrase. We contact you only through your case's page and the "
            "e-mail you gave us."
        ),
    )


def _specific(incident_type: IncidentType) -> Action | None:
    if incident_type is IncidentType.SIM_SWAP:
        return Action(
            "sim_swap",
            _("Take your phone number back"),
            _(
                "Call your mobile operator from another phone, get your number back and ask for a SIM or port-out "
                "lock. Then change the passwords of your e-mail and exchange accounts, and use an authenticator app "
                "instead of SMS codes."
            ),
        )
    if incident_type is IncidentType.ACCOUNT_TAKEOVER:
        return Action(
            "account",
            _("Ask the exchange to lock your account"),
            _(
                "Contact the exchange through its official app or website (never a number someone sent you), ask "
                "them to lock the account and stop pending withdrawals, then change the password and two-factor "
                "codes."
            ),
        )
    if incident_type is IncidentType.INVESTMENT_SCAM:
        return Action(
            "stop_paying",
            _("Stop paying the platform"),
            _(
                "A platform that asks for a \"tax\", a fee or a deposit before you can withdraw is part of the scam, "
                "and the balance it shows is not real. Do not send anything more."
            ),
        )
    if incident_type is IncidentType.FAKE_SUPPORT:
        return Action(
            "stop_contact",
            _("Stop talking to the \"support\" agent"),
            _(
                "Real support never asks for your recovery phrase or to move funds. Uninstall any remote-access app "
                "they asked you to install (such as AnyDesk or TeamViewer)."
            ),
        )
    if incident_type is IncidentType.FAKE_WALLET:
        return Action(
            "remove_app",
            _("Delete the fake app"),
            _("Remove it, and install wallets only from the wallet's official website or its official store page."),
        )
    return None


def _keep_evidence() -> Action:
    return Action(
        "evidence",
        _("Keep every trace"),
        _(
            "Keep the chats, screenshots, website addresses and transaction records; do not delete the conversation "
            "or the app. You can add them to your case later."
        ),
    )


def act_now(
    incident_type: IncidentType,
    country: str | None = None,
    wallet_app: str | None = None,
    *,
    reported_to_police: bool = False,
    found: DirectoryFacts | None = None,
) -> list[Action]:
    """What this victim should do now, most urgent first; `reported_to_police`: they gave a police report number;
    `found`: what the directory says for them (read from it when not given)."""
    if found is None:
        found = directory_facts(country, wallet_app)
    actions: list[Action] = []
    specific = _specific(incident_type)
    if incident_type in _COMPROMISED_WALLET:
        actions.append(_move_funds(incident_type))
    if specific is not None and incident_type is not IncidentType.FAKE_WALLET:
        actions.append(specific)
    if incident_type in _APPROVALS:
        actions.append(_revoke(wallet_app))
    if incident_type not in _COMPROMISED_WALLET and incident_type is not IncidentType.ACCOUNT_TAKEOVER:
        actions.append(_move_funds(incident_type))
    if specific is not None and incident_type is IncidentType.FAKE_WALLET:
        actions.append(specific)
    actions.append(_police(country, reported_to_police))
    agencies = _agencies(found.agencies, reported_to_police)
    if agencies is not None:
        actions.append(agencies)
    if found.wallet_maker:
        actions.append(_wallet_maker(found.wallet_maker))
    actions += [_recovery_scams(), _keep_evidence()]
    return actions


def for_case(case: Case) -> list[Action]:
    """The checklist for a filed case, as its victim got it at submit (shown again in the portal)."""
    prior = db.session.scalar(select(ReportExtras.prior_reports).where(ReportExtras.case_id == case.id))
    reported = bool((prior or {}).get("police_report_number"))
    country = case.reporter.country if case.reporter else None
    return act_now(case.incident_type, country, case.wallet_app, reported_to_police=reported)


def as_text(actions: list[Action]) -> str:
    """The checklist as plain text for an e-mail."""
    parts = []
    for number, action in enumerate(actions, start=1):
        lines = [f"{number}. {action.title}", f"   {action.text}"]
        lines += [f"   {link.label}: {link.url}" for link in action.links]
        lines += [f"   - {agency.name}: {agency.how}" + (f" {agency.note}" if agency.note else "")
                  for agency in action.agencies]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)
