"""The directory of organisations: who can freeze what, who may ask them, by which channel, and the deadlines
their answer sets off. The route a referral takes comes from here (`route_for`), never from a second table.

The shipped entries live in casework/data/organisations.yaml and are loaded by `import_file` (the `directory
import` command): an upsert by slug that keeps every entry an admin edited since it was imported. An entry's
`updated_by_id` says which: None means "as imported", a user means an admin changed it. Admins edit entries with
`create_organisation`/`update_organisation` and deactivate them with `set_active` (never delete: referrals point
at them). Everyone on the staff may read the directory.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from casework.extensions import db
from casework.models import ChannelKind, Organisation, OrganisationKind, ReferralKind, Requester, User, utcnow
from casework.services.access import Permission, require
from casework.services.report_answers import country_name
from casework.services.workflow import WorkflowError
from forms.secrets import find_secret, secret_warning

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
SHIPPED_FILE = DATA_DIR / "organisations.yaml"
# The devnet's staged exchange: loaded by `make run` and the test fixtures, never by the production import.
DEMO_FILE = DATA_DIR / "organisations-demo.yaml"
NOT_VERIFIED = "not verified"
# What a fact may be about: a field of the entry, or the entry as a whole.
FACT_FIELDS = ("general", "requester", "channel", "requirements", "turnaround", "courtesy_hold_days",
               "follow_up_days", "can_freeze")
AGENCY_KINDS = (OrganisationKind.POLICE, OrganisationKind.CONSUMER_AGENCY, OrganisationKind.REGULATOR)
MAX_HOLD_DAYS = 90
MAX_FOLLOW_UP_DAYS = 60
MAX_ALIASES = 30
MAX_FACTS = 40

_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?")
_COUNTRY = re.compile(r"[A-Z]{2}")
_EMAIL = re.compile(r"[^@\s<>\"']{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+")
_URL = re.compile(r"https?://[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+(?::\d{1,5})?"
                  r"(?:[/?#][^\s<>\"']*)?")
_PHONE = re.compile(r"\+?[0-9][0-9 ()-]{1,28}[0-9]|[0-9]{2,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class DirectoryError(WorkflowError):
    """An entry that cannot be saved as given; `message` says what to fix."""


@dataclass(frozen=True)
class Route:
    """How a request to one organisation goes.

    `kind`: the referral to draft now (an exchange that takes victims' requests: an exchange freeze; one that
    takes only police: the police package first; one that needs a court order: the lawyer handover). `can_act`:
    False for an organisation that cannot freeze or act (a self-custody wallet's maker) or an inactive entry:
    nothing is ever proposed or sent to it. `police_report_due`: how long a courtesy hold lasts unless a police
    report follows (None: no such deadline).
    """

    organisation: Organisation
    kind: ReferralKind
    can_act: bool
    requester: Requester
    channel_kind: ChannelKind
    channel: str | None
    police_report_due: timedelta | None
    follow_up: timedelta


@dataclass(frozen=True)
class Fact:
    """One fact about an entry, where it was read and when (`source` NOT_VERIFIED and no date when unconfirmed)."""

    field: str
    text: str
    source: str
    checked_on: date | None

    @property
    def verified(self) -> bool:
        return self.source != NOT_VERIFIED

    def as_json(self) -> dict[str, Any]:
        return {"field": self.field, "text": self.text, "source": self.source,
                "checked_on": self.checked_on.isoformat() if self.checked_on else None}


@dataclass(frozen=True)
class OrganisationData:
    """Everything an entry holds, checked (`checked_data` builds one from a file entry or a form)."""

    name: str
    kind: OrganisationKind
    requester: Requester
    channel_kind: ChannelKind
    country: str | None = None
    channel: str | None = None
    requirements: str | None = None
    turnaround: str | None = None
    courtesy_hold_days: int | None = None
    follow_up_days: int = 2
    can_freeze: bool = False
    aliases: tuple[str, ...] = ()
    notes: str | None = None
    facts: tuple[Fact, ...] = field(default_factory=tuple)

    def apply_to(self, organisation: Organisation) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == "aliases":
                value = list(value)
            elif item.name == "facts":
                value = [fact.as_json() for fact in value]
            setattr(organisation, item.name, value)

    def matches(self, organisation: Organisation) -> bool:
        probe = Organisation()
        self.apply_to(probe)
        return all(getattr(probe, item.name) == getattr(organisation, item.name) for item in fields(self))


def _text(value: Any, label: str, max_chars: int, *, required: bool = False, one_line: bool = True) -> str | None:
    text = _CONTROL.sub("", str(value if value is not None else "")).replace("\r\n", "\n").strip()
    if one_line:
        text = " ".join(text.split())
    if not text:
        if required:
            raise DirectoryError(_("%(field)s is required.", field=label))
        return None
    finding = find_secret(text)
    if finding is not None:
        raise DirectoryError(secret_warning(finding.kind))
    if len(text) > max_chars:
        raise DirectoryError(_("%(field)s is too long: at most %(max)d characters.", field=label, max=max_chars))
    return text


def _choice(enum_type, value: Any, label: str):
    try:
        return enum_type(value.value if hasattr(value, "value") else str(value or "").strip())
    except ValueError:
        raise DirectoryError(_("Choose %(field)s from the list.", field=label)) from None


def _days(value: Any, label: str, low: int, high: int) -> int | None:
    if value is None or value == "":
        return None
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise DirectoryError(_("%(field)s must be a whole number of days.", field=label)) from None
    if isinstance(value, bool) or not low <= days <= high:
        raise DirectoryError(_("%(field)s must be between %(low)d and %(high)d days.", field=label, low=low,
                               high=high))
    return days


def checked_channel(kind: ChannelKind, channel: str | None) -> str | None:
    """The channel as stored, or DirectoryError when it does not fit its kind (an e-mail address for e-mail, an
    http(s) URL for a web form or portal, digits for a telephone, nothing for "no channel")."""
    channel = _text(channel, _("Channel"), 500)
    if channel is None:
        return None
    if kind is ChannelKind.NONE:
        raise DirectoryError(_("Leave the channel empty, or choose how it is reached."))
    if kind is ChannelKind.EMAIL and not _EMAIL.fullmatch(channel):
        raise DirectoryError(_("Give the channel as an e-mail address, such as freeze@exchange.example."))
    if kind in (ChannelKind.WEB_FORM, ChannelKind.PORTAL) and not _URL.fullmatch(channel):
        raise DirectoryError(_("Give the channel as a web address starting with https://."))
    if kind is ChannelKind.PHONE and not _PHONE.fullmatch(channel):
        raise DirectoryError(_("Give the channel as a telephone number (digits, spaces, +, - and brackets)."))
    return channel


def _checked_on(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise DirectoryError(_("Give the date a fact was checked as YYYY-MM-DD.")) from None


def checked_fact(raw: Mapping[str, Any]) -> Fact | None:
    """One fact as stored, None for an empty row, DirectoryError for a bad one: its source is a web address
    (with the date it was checked there, not in the future) or "not verified" (with no date)."""
    text = _text(raw.get("text"), _("The fact"), 1_000)
    source = " ".join(str(raw.get("source") or "").split())
    checked_on = _checked_on(raw.get("checked_on"))
    if text is None:
        if source or checked_on:
            raise DirectoryError(_("Write the fact, or clear its source and date."))
        return None
    fact_field = str(raw.get("field") or "general").strip()
    if fact_field not in FACT_FIELDS:
        raise DirectoryError(_("Choose what the fact is about from the list."))
    if not source or source.casefold() == NOT_VERIFIED:
        if checked_on is not None:
            raise DirectoryError(_("A fact that is not verified has no date checked: give its source, or clear "
                                   "the date."))
        return Fact(fact_field, text, NOT_VERIFIED, None)
    if not _URL.fullmatch(source) or len(source) > 500:
        raise DirectoryError(_("Give a fact's source as the web address where it is stated, or \"not verified\"."))
    if checked_on is None:
        raise DirectoryError(_("Give the date the fact was checked at its source."))
    if checked_on > utcnow().date():
        raise DirectoryError(_("The date a fact was checked cannot be in the future."))
    return Fact(fact_field, text, source, checked_on)


def _aliases(value: Any) -> tuple[str, ...]:
    items = value.splitlines() if isinstance(value, str) else list(value or [])
    aliases: list[str] = []
    for item in items:
        alias = _text(item, _("An alias"), 200)
        if alias and _norm(alias) not in {_norm(a) for a in aliases}:
            aliases.append(alias)
    if len(aliases) > MAX_ALIASES:
        raise DirectoryError(_("Give at most %(max)d aliases.", max=MAX_ALIASES))
    return tuple(aliases)


def checked_data(raw: Mapping[str, Any]) -> OrganisationData:
    """An entry's fields from a file entry or a form (plain values), checked; DirectoryError names the problem."""
    kind = _choice(OrganisationKind, raw.get("kind"), _("the kind"))
    requester = _choice(Requester, raw.get("requester"), _("who may ask"))
    channel_kind = _choice(ChannelKind, raw.get("channel_kind") or ChannelKind.NONE.value, _("how it is reached"))
    country = (str(raw.get("country") or "").strip().upper()) or None
    if country is not None and not _COUNTRY.fullmatch(country):
        raise DirectoryError(_("Give the country as its two-letter code (such as CN or GB), or leave it empty."))
    facts = tuple(fact for fact in (checked_fact(item) for item in raw.get("facts") or ()) if fact is not None)
    if len(facts) > MAX_FACTS:
        raise DirectoryError(_("Give at most %(max)d facts.", max=MAX_FACTS))
    can_freeze = bool(raw.get("can_freeze"))
    if requester is Requester.NOBODY and can_freeze:
        raise DirectoryError(_("An organisation nobody may ask cannot be marked as able to freeze."))
    return OrganisationData(
        name=_text(raw.get("name"), _("Name"), 200, required=True), kind=kind, requester=requester,
        channel_kind=channel_kind, country=country, channel=checked_channel(channel_kind, raw.get("channel")),
        requirements=_text(raw.get("requirements"), _("Requirements"), 5_000, one_line=False),
        turnaround=_text(raw.get("turnaround"), _("Usual turnaround"), 200),
        courtesy_hold_days=_days(raw.get("courtesy_hold_days"), _("Courtesy hold"), 1, MAX_HOLD_DAYS),
        follow_up_days=_days(raw.get("follow_up_days"), _("Follow-up"), 1, MAX_FOLLOW_UP_DAYS) or 2,
        can_freeze=can_freeze, aliases=_aliases(raw.get("aliases")),
        notes=_text(raw.get("notes"), _("Notes"), 5_000, one_line=False), facts=facts,
    )


def checked_slug(slug: Any) -> str:
    """A slug as stored (lower-case letters, digits and hyphens), or DirectoryError."""
    slug = str(slug or "").strip().lower()
    if not _SLUG.fullmatch(slug):
        raise DirectoryError(_("Give a short name for the address of the entry: lower-case letters, digits and "
                               "hyphens, such as \"harbour-exchange\"."))
    return slug


# --- Import ----------------------------------------------------------------------------------------------------

@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: list[str] = field(default_factory=list)  # slugs an admin edited, left as they are
    problems: list[str] = field(default_factory=list)


def import_entries(entries: Iterable[Mapping[str, Any]], *, replace: bool = False) -> ImportResult:
    """Upsert entries by slug: new ones are added, imported ones brought up to date, and one an admin edited since
    it was imported is kept as it is unless `replace`. A bad entry is skipped and named in `problems`; entries
    the file does not list are left alone. The caller commits."""
    result = ImportResult()
    existing = {org.slug: org for org in db.session.scalars(select(Organisation))}
    for number, entry in enumerate(entries, start=1):
        try:
            if not isinstance(entry, Mapping):
                raise DirectoryError(_("An entry must be a mapping of fields."))
            slug = checked_slug(entry.get("slug"))
            data = checked_data(entry)
        except DirectoryError as error:
            result.problems.append(f"entry {number} ({entry.get('slug', '?') if isinstance(entry, Mapping) else '?'}):"
                                   f" {error.message}")
            continue
        active = entry.get("active", True) is not False
        organisation = existing.get(slug)
        if organisation is None:
            organisation = existing[slug] = Organisation(slug=slug, active=active)
            data.apply_to(organisation)
            db.session.add(organisation)
            result.added += 1
        elif organisation.updated_by_id is not None and not replace:
            result.kept.append(slug)
        elif data.matches(organisation) and organisation.active is active and organisation.updated_by_id is None:
            result.unchanged += 1
        else:
            data.apply_to(organisation)
            organisation.active, organisation.updated_by_id = active, None
            result.updated += 1
    db.session.flush()
    return result


def import_file(path: str | Path = SHIPPED_FILE, *, replace: bool = False) -> ImportResult:
    """Import a directory file (YAML with a list under `organisations`); see import_entries."""
    try:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return ImportResult(problems=[f"{path}: cannot be read as YAML ({str(exc).splitlines()[0]})"])
    entries = loaded.get("organisations") if isinstance(loaded, dict) else None
    if not isinstance(entries, list):
        return ImportResult(problems=[f"{path}: expected a list of entries under 'organisations'"])
    return import_entries(entries, replace=replace)


def load_shipped(*, demo: bool = False) -> ImportResult:
    """The shipped entries (and the devnet demo's exchange with `demo`), as `make run` and the tests load them."""
    result = import_file(SHIPPED_FILE)
    if demo:
        extra = import_file(DEMO_FILE)
        result.added += extra.added
        result.updated += extra.updated
        result.unchanged += extra.unchanged
        result.kept += extra.kept
        result.problems += extra.problems
    return result


# --- Looking entries up ----------------------------------------------------------------------------------------

def _norm(name: str) -> str:
    return " ".join(name.casefold().split())


def _names(organisation: Organisation) -> set[str]:
    return {_norm(organisation.name), _norm(organisation.slug), *(_norm(a) for a in organisation.aliases or ())}


def organisations_for_names(names: Iterable[str | None]) -> dict[str, Organisation]:
    """For each name that an active entry answers to (see organisation_for_name), that entry; one query for all."""
    wanted = {name for name in names if name}
    if not wanted:
        return {}
    by_name: dict[str, Organisation] = {}
    for organisation in db.session.scalars(select(Organisation).where(Organisation.active.is_(True))
                                           .order_by(Organisation.id)):
        for known in _names(organisation):
            by_name.setdefault(known, organisation)
    found = {}
    for name in wanted:
        organisation = by_name.get(_norm(name)) or by_name.get(_norm(name.split(":", 1)[0]))
        if organisation is not None:
            found[name] = organisation
    return found


def organisation_for_name(name: str | None) -> Organisation | None:
    """The active entry whose name, slug or one of whose aliases is this name (a label's or trace's exchange name,
    compared case-insensitively); also matches a label such as "Harbour Exchange: Deposit" by its part before
    the colon. None when the directory has no such entry."""
    return organisations_for_names([name]).get(name) if name else None


def wallet_maker_for(wallet_app: str | None) -> Organisation | None:
    """The directory's entry for the maker of a victim's wallet app (the report's `wallet_app`), if it is one."""
    organisation = organisation_for_name(wallet_app)
    return organisation if organisation is not None and organisation.kind is OrganisationKind.WALLET_MAKER else None


def agencies_for(country: str | None) -> list[Organisation]:
    """The active police, consumer-protection and regulator entries for a victim's country (ISO code), police
    first; empty for an unknown or missing country."""
    country = (country or "").strip().upper()
    if not _COUNTRY.fullmatch(country):
        return []
    rows = db.session.scalars(select(Organisation).where(
        Organisation.country == country, Organisation.active.is_(True), Organisation.kind.in_(AGENCY_KINDS)))
    return sorted(rows, key=lambda org: (AGENCY_KINDS.index(org.kind), org.name.casefold()))


def route_for(organisation: Organisation) -> Route:
    """The route a request to this organisation takes (see Route)."""
    can_act = (organisation.requester is not Requester.NOBODY and organisation.active
               and organisation.kind is not OrganisationKind.WALLET_MAKER)
    by_requester = {Requester.POLICE: ReferralKind.POLICE, Requester.COURT_ORDER: ReferralKind.LAWYER}
    if organisation.kind is OrganisationKind.STABLECOIN_ISSUER:
        kind = by_requester.get(organisation.requester, ReferralKind.STABLECOIN_ISSUER)
    elif organisation.kind is OrganisationKind.EXCHANGE:
        kind = by_requester.get(organisation.requester, ReferralKind.EXCHANGE_FREEZE)
    elif organisation.kind is OrganisationKind.CONSUMER_AGENCY:
        kind = ReferralKind.CONSUMER_AGENCY
    elif organisation.kind is OrganisationKind.LAWYER:
        kind = ReferralKind.LAWYER
    else:
        kind = ReferralKind.POLICE
    hold = organisation.courtesy_hold_days if organisation.requester is Requester.VICTIM else None
    return Route(
        organisation=organisation, kind=kind, can_act=can_act, requester=organisation.requester,
        channel_kind=organisation.channel_kind, channel=organisation.channel,
        police_report_due=timedelta(days=hold) if hold else None,
        follow_up=timedelta(days=organisation.follow_up_days or 2),
    )


def facts_of(organisation: Organisation) -> list[Fact]:
    """The entry's facts as stored (a malformed stored fact is shown as not verified rather than dropped)."""
    facts = []
    for raw in organisation.facts or ():
        try:
            fact = checked_fact(raw)
        except DirectoryError:
            fact = Fact(str(raw.get("field") or "general"), str(raw.get("text") or ""), NOT_VERIFIED, None)
        if fact is not None:
            facts.append(fact)
    return facts


def channel_verified(organisation: Organisation) -> bool:
    """True when a fact about the channel was checked at its source (so the victim is not told "not verified")."""
    return any(fact.field == "channel" and fact.verified for fact in facts_of(organisation))


# --- Staff pages -----------------------------------------------------------------------------------------------

def search(user: User, text: str = "", kind: str = "", country: str = "") -> list[Organisation]:
    """Entries whose name, slug or an alias contains text, of a kind and country when given; active ones first."""
    require(user, Permission.VIEW_CASES)
    query = select(Organisation)
    if kind in {k.value for k in OrganisationKind}:
        query = query.where(Organisation.kind == OrganisationKind(kind))
    country = country.strip().upper()
    if country:
        query = query.where(Organisation.country == country[:2])
    wanted = _norm(text or "")
    rows = [org for org in db.session.scalars(query) if not wanted or any(wanted in name for name in _names(org))]
    return sorted(rows, key=lambda org: (not org.active, org.kind.value, org.name.casefold()))


def get(user: User, slug: str) -> Organisation:
    """One entry for a staff member to read; NotFound when there is none."""
    require(user, Permission.VIEW_CASES)
    organisation = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
    if organisation is None:
        raise NotFound(_("There is no such directory entry."))
    return organisation


def create_organisation(user: User, slug: str, raw: Mapping[str, Any]) -> Organisation:
    """A new entry, by an admin. The caller commits."""
    require(user, Permission.MANAGE_DIRECTORY)
    slug = checked_slug(slug)
    data = checked_data(raw)
    if db.session.scalar(select(Organisation.id).where(Organisation.slug == slug)) is not None:
        raise DirectoryError(_("Another entry already uses the short name %(slug)s: choose another.", slug=slug))
    organisation = Organisation(slug=slug, active=True, updated_by_id=user.id)
    data.apply_to(organisation)
    db.session.add(organisation)
    db.session.flush()
    return organisation


def update_organisation(user: User, slug: str, raw: Mapping[str, Any]) -> Organisation:
    """Change every field of an entry, by an admin; a later import keeps it as the admin left it."""
    require(user, Permission.MANAGE_DIRECTORY)
    organisation = get(user, slug)
    checked_data(raw).apply_to(organisation)
    organisation.updated_by_id, organisation.updated_at = user.id, utcnow()
    return organisation


def set_active(user: User, slug: str, active: bool) -> Organisation:
    """Deactivate an entry (no new route, label link or checklist line uses it; referrals keep pointing at it) or
    activate it again. Entries are never deleted."""
    require(user, Permission.MANAGE_DIRECTORY)
    organisation = get(user, slug)
    organisation.active = active
    organisation.updated_by_id, organisation.updated_at = user.id, utcnow()
    return organisation


@dataclass(frozen=True)
class FactLine:
    about: str
    text: str
    source: str | None  # None: not verified
    checked_on: date | None


def fact_field_title(name: str) -> str:
    """What a fact is about, in the reader's language."""
    titles = {"general": _("The entry as a whole"), "requester": _("Who may ask"), "channel": _("Channel"),
              "requirements": _("Requirements"), "turnaround": _("Usual turnaround"),
              "courtesy_hold_days": _("Courtesy hold"), "follow_up_days": _("Follow-up"),
              "can_freeze": _("Can freeze funds")}
    return titles.get(name, titles["general"])


@dataclass(frozen=True)
class EntryView:
    """An entry as the staff pages show it (plain values, titles in the reader's language)."""

    slug: str
    name: str
    kind: str
    kind_value: str
    country: str | None  # its name in the reader's language
    requester: str
    channel_kind: str
    channel: str | None
    channel_verified: bool
    requirements: str | None
    turnaround: str | None
    courtesy_hold_days: int | None
    follow_up_days: int
    can_freeze: bool
    can_act: bool
    route: str
    aliases: tuple[str, ...]
    notes: str | None
    facts: tuple[FactLine, ...]
    active: bool
    edited_by_admin: bool


def entry_view(organisation: Organisation) -> EntryView:
    """The page's view of one entry, with the route a request to it takes."""
    route = route_for(organisation)
    return EntryView(
        slug=organisation.slug, name=organisation.name, kind=organisation.kind.title,
        kind_value=organisation.kind.value, country=country_name(organisation.country) or None,
        requester=organisation.requester.title,
        channel_kind=organisation.channel_kind.title, channel=organisation.channel,
        channel_verified=channel_verified(organisation), requirements=organisation.requirements,
        turnaround=organisation.turnaround, courtesy_hold_days=organisation.courtesy_hold_days,
        follow_up_days=organisation.follow_up_days, can_freeze=organisation.can_freeze, can_act=route.can_act,
        route=route.kind.title, aliases=tuple(organisation.aliases or ()), notes=organisation.notes,
        facts=tuple(FactLine(fact_field_title(f.field), f.text, f.source if f.verified else None, f.checked_on)
                    for f in facts_of(organisation)),
        active=organisation.active,
        edited_by_admin=organisation.updated_by_id is not None,
    )


def form_values(organisation: Organisation) -> dict[str, Any]:
    """An entry's fields as the editor's form shows them (aliases one per line, facts as rows)."""
    return {
        "name": organisation.name, "kind": organisation.kind.value, "country": organisation.country or "",
        "requester": organisation.requester.value, "channel_kind": organisation.channel_kind.value,
        "channel": organisation.channel or "", "requirements": organisation.requirements or "",
        "turnaround": organisation.turnaround or "",
        "courtesy_hold_days": "" if organisation.courtesy_hold_days is None else str(organisation.courtesy_hold_days),
        "follow_up_days": str(organisation.follow_up_days), "can_freeze": organisation.can_freeze,
        "aliases": "\n".join(organisation.aliases or ()), "notes": organisation.notes or "",
        "facts": [{**fact.as_json(), "checked_on": fact.as_json()["checked_on"] or ""}
                  for fact in facts_of(organisation)],
    }


def require_editor(user: User) -> None:
    """Raise AccessDenied unless the user may edit the directory (before an editor page is even shown)."""
    require(user, Permission.MANAGE_DIRECTORY)


def entry_slugs(names: Iterable[str | None]) -> dict[str, str]:
    """For each shown name (a label's, a trace node's exchange, a referral's target) that an active entry answers
    to, the slug of its page: one query for the whole page."""
    return {name: organisation.slug for name, organisation in organisations_for_names(names).items()}
