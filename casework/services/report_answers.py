"""The wizard's answers: the choices its forms offer, each step's form, and turning a draft's answers into a report.

The draft keeps each step's answers as form data; `report_from_answers` rebuilds and validates every step's form
again (the server is the authority, and time has passed since the step was saved) before building the NewReport.
Each step's POST that leaves every step answered (the last step's Next, which leads to the review page, or a
change made afterwards) does that and keeps the report on the draft with a digest of what else it depended on
(`report_for_review`); the review page and the submit reuse it while the draft still holds it, since new answers
void it, and the digest matches (`report_to_submit`), and validate again otherwise. The digest
carries the report's schema (REPORT_SCHEMA_VERSION and the report's field names), so a report kept by an older
release is validated again rather than read in a shape it no longer has.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import zoneinfo
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from babel import Locale
from eth_utils import to_checksum_address
from flask_babel import get_locale

from casework.i18n import LANGUAGES
from casework.models import AddressRole, IncidentType, ReportDraft
from casework.services import chains as chain_registry
from casework.services.drafts import ClaimedDraft, first_incomplete_step
from casework.services.filing import AddressInput, LossInput, NewReport, ReporterInput, TransactionInput
from evidence.stablecoins import stablecoins_on
from forms.report import (
    CONTACT_LABELS,
    NATIVE,
    OTHER,
    OTHER_TOKEN,
    PRIOR_REPORT_LABELS,
    STEP_NAMES,
    ChainChoice,
    StepForm,
    TokenChoice,
    WizardChoices,
    as_formdata,
    lines,
    step_form,
)
from forms.validators import parse_amount, to_utc

# Bump when validation tightens or the meaning of a report's fields changes: reports kept on drafts by an earlier
# release are then validated again. (Renamed or added fields change the digest by themselves: see REPORT_PARTS.)
REPORT_SCHEMA_VERSION = 1
# The dataclasses a kept report is made of; their field names are part of the review digest.
REPORT_PARTS = (NewReport, ReporterInput, LossInput, AddressInput, TransactionInput)

# Offered first in the lists: where most of our victims live.
COMMON_TIME_ZONES = (
    "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Kuala_Lumpur", "Europe/London",
    "America/New_York", "America/Chicago", "America/Los_Angeles", "Australia/Sydney", "UTC",
)
COMMON_COUNTRIES = ("CN", "HK", "TW", "SG", "MY", "US", "GB", "CA", "AU")


class StepInvalid(Exception):
    """A step's saved answers no longer pass validation; `step` names it."""

    def __init__(self, step: str) -> None:
        super().__init__(step)
        self.step = step


@functools.cache
def _time_zones() -> tuple[tuple[str, str], ...]:
    names = sorted(zoneinfo.available_timezones() - {"localtime", "Factory", "posixrules"})
    ordered = [*COMMON_TIME_ZONES, *(name for name in names if name not in COMMON_TIME_ZONES)]
    return tuple((name, name.replace("_", " ")) for name in ordered)


@functools.cache
def _countries(locale: str) -> tuple[tuple[str, str], ...]:
    import phonenumbers

    territories = Locale.parse(locale).territories
    codes = sorted(
        (code for code in phonenumbers.SUPPORTED_REGIONS if code in territories and code not in COMMON_COUNTRIES),
        key=lambda code: territories[code],
    )
    return tuple((code, territories[code]) for code in (*COMMON_COUNTRIES, *codes))


def chain_choices() -> list[ChainChoice]:
    """The chains the wizard offers (the configured ones) with their native coin and known stablecoins."""
    return [
        ChainChoice(
            chain.chain_id,
            chain.name,
            chain.native_symbol,
            chain.native_decimals,
            tuple(TokenChoice(coin.symbol, coin.address, coin.decimals) for coin in stablecoins_on(chain.chain_id)),
        )
        for chain in chain_registry.registry()
    ]


def wizard_choices() -> WizardChoices:
    """The choices the wizard offers, in the reader's language, from the configured chains."""
    return WizardChoices(
        incident_types=IncidentType.choices(),
        chains=chain_choices(),
        time_zones=_time_zones(),
        countries=_countries(str(get_locale() or "en")),
        languages=list(LANGUAGES.items()),
    )


def country_name(code: str | None) -> str:
    """A country's name in the reader's language."""
    return dict(_countries(str(get_locale() or "en"))).get(code or "", code or "")


def chosen_chain_ids(answers: Mapping[str, Any]) -> list[int]:
    """The chains ticked in the wallet step (valid integers only)."""
    values = (answers.get("wallet") or {}).get("chain_ids", [])
    # ASCII digits only: int() refuses some characters isdigit() accepts (superscripts such as "³").
    return [int(value) for value in values
            if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 12]


def _defaults(step: str, answers: Mapping[str, Any], locale: str) -> dict[str, object]:
    """What a step shows before the victim has answered it."""
    chinese = locale.startswith("zh")
    if step == "incident":
        return {"time_zone": "Asia/Shanghai" if chinese else ""}
    if step == "contact":
        email = (answers.get("incident") or {}).get("resume_email", [""])[0]
        return {"preferred_language": locale, "country": "CN" if chinese else "", "email": email}
    if step == "losses":
        return {"losses": [{"chain_id": chain_id} for chain_id in chosen_chain_ids(answers)[:1]]}
    return {}


def form_for(
    step: str, answers: Mapping[str, Any], locale: str, choices: WizardChoices, formdata=None
) -> StepForm:
    """A step's form: from the posted data, else the saved answers, else its defaults."""
    chain_ids = chosen_chain_ids(answers)
    if formdata is not None:
        return step_form(step, choices, chain_ids, formdata=formdata)
    if step in answers:
        return step_form(step, choices, chain_ids, formdata=as_formdata(answers[step]))
    return step_form(step, choices, chain_ids, data=_defaults(step, answers, locale))


def validated_forms(answers: Mapping[str, Any], locale: str, choices: WizardChoices) -> dict[str, StepForm]:
    """Every step's form rebuilt from the saved answers and validated; StepInvalid names the first that fails."""
    forms = {}
    for step in STEP_NAMES:
        if step not in answers:
            raise StepInvalid(step)
        form = form_for(step, answers, locale, choices)
        if not form.validate():
            raise StepInvalid(step)
        forms[step] = form
    return forms


def _losses(form: StepForm, choices: WizardChoices) -> list[LossInput]:
    losses = []
    for entry in form.losses.entries:
        row = entry.form
        if row.is_blank():
            continue
        chain = choices.chain(row.chain_id.data)
        if row.asset.data == NATIVE:
            symbol, decimals, token_address = chain.native_symbol, chain.native_decimals, None
        elif row.asset.data == OTHER_TOKEN:
            symbol, decimals = row.token()  # the chain's, confirmed by the victim, or typed where it could not say
            token_address = row.token_address.data
        else:
            token = chain.token(row.asset.data)
            symbol, decimals, token_address = token.symbol, token.decimals, to_checksum_address(token.address)
        fiat_cents = parse_amount(row.fiat_value.data, 2)[0] if (row.fiat_value.data or "").strip() else None
        losses.append(
            LossInput(
                chain_id=chain.chain_id,
                asset_symbol=symbol,
                amount_raw=parse_amount(row.amount.data, decimals)[0],
                decimals=decimals,
                token_address=token_address,
                fiat_value_cents=fiat_cents,
                fiat_currency=row.fiat_currency.data or None if fiat_cents is not None else None,
            )
        )
    return losses


def _addresses(text: str | None, chain_ids: Sequence[int], role: AddressRole) -> list[AddressInput]:
    # An EVM address is the same on every EVM chain: record it on each chain the victim named.
    return [AddressInput(chain_id, address, role) for address in lines(text) for chain_id in chain_ids]


def report_from_answers(answers: Mapping[str, Any], locale: str, choices: WizardChoices) -> NewReport:
    """The report a complete draft describes; StepInvalid names the first step that needs the victim again."""
    forms = validated_forms(answers, locale, choices)
    incident, wallet, transactions = forms["incident"], forms["wallet"], forms["transactions"]
    other_side, evidence, contact = forms["other_side"], forms["evidence"], forms["contact"]
    zone = incident.time_zone.data
    chain_ids = list(dict.fromkeys(wallet.chain_ids.data))
    wallet_app = incident.wallet_app.data
    if wallet_app == OTHER:
        wallet_app = (incident.wallet_app_other.data or "").strip() or None
    exchanges = [*other_side.exchanges.data, *(name.strip() for name in (other_side.exchanges_other.data or "")
                                               .replace("，", ",").split(",") if name.strip())]
    return NewReport(
        incident_type=IncidentType(incident.incident_type.data),
        reporter=ReporterInput(
            name=contact.name.data.strip(),
            email=(contact.email.data or "").strip() or None,
            phone=(contact.phone.data or "").strip() or None,
            country=contact.country.data or None,
            preferred_language=contact.preferred_language.data or locale,
            jurisdiction=(contact.jurisdiction.data or "").strip() or None,
            consent_law_enforcement=contact.consent_law_enforcement.data,
            consent_exchanges=contact.consent_exchanges.data,
            consent_consumer_agencies=contact.consent_consumer_agencies.data,
        ),
        summary=evidence.statement.data,
        incident_at=to_utc(incident.incident_at.data, zone) if incident.incident_at.data else None,
        discovered_at=to_utc(incident.discovered_at.data, zone),
        victim_timezone=zone,
        wallet_app=wallet_app,
        first_contact=(incident.first_contact.data or "").strip() or None,
        chain_ids=tuple(chain_ids),
        losses=tuple(_losses(forms["losses"], choices)),
        addresses=tuple(
            _addresses(wallet.victim_addresses.data, chain_ids, AddressRole.VICTIM)
            + _addresses(other_side.attacker_addresses.data, chain_ids, AddressRole.ATTACKER)
        ),
        transactions=tuple(
            TransactionInput(chain_id, tx_hash)
            for chain_id in chain_ids
            if f"tx_{chain_id}" in transactions
            for tx_hash in lines(transactions[f"tx_{chain_id}"].data)
        ),
        exchanges_involved=tuple(dict.fromkeys(exchanges)),
        scammer_contacts={kind: tuple(lines(other_side[kind].data)) for kind in CONTACT_LABELS
                          if lines(other_side[kind].data)},
        prior_reports={name: evidence[name].data.strip() for name in PRIOR_REPORT_LABELS
                       if (evidence[name].data or "").strip()},
    )


def review_digest(locale: str, chains: Sequence[ChainChoice]) -> str:
    """A SHA-256 of what validating a draft depends on besides its answers (new answers void a review anyway: see
    `ReportDraft`): the report's schema, the draft's language and the chains offered.

    Time is left out on purpose: passing time never makes a validated report invalid (dates may not lie in the
    future, nothing has a lower bound).
    """
    material = b"\n".join([_schema_material(REPORT_SCHEMA_VERSION, REPORT_PARTS), locale.encode("utf-8"),
                           _chains_material(tuple(chains))])
    return hashlib.sha256(material).hexdigest()


@functools.lru_cache(maxsize=4)
def _schema_material(version: int, parts: tuple[type, ...]) -> bytes:
    """The report's schema as bytes for the digest: its version and the field names of each part."""
    names = [[part.__name__, *(item.name for item in dataclasses.fields(part))] for part in parts]
    return json.dumps([version, names], separators=(",", ":")).encode("utf-8")


@functools.lru_cache(maxsize=16)
def _chains_material(chains: tuple[ChainChoice, ...]) -> bytes:
    """The chains offered, as bytes for the digest (the same in every request while the configuration holds)."""
    return json.dumps([dataclasses.astuple(chain) for chain in chains], separators=(",", ":")).encode("utf-8")


def report_for_review(draft: ReportDraft) -> NewReport:
    """Validate every step of the draft and build its report; StepInvalid names the first step that fails.

    The report is kept on the draft with the digest of what else was validated (the caller commits), for the
    review page and the submit. Called by the step POSTs that leave every step answered: the review page itself
    writes nothing.
    """
    choices = wizard_choices()
    report = report_from_answers(draft.answers, draft.locale, choices)
    digest = review_digest(draft.locale, choices.chains)
    if draft.reviewed_report is None or draft.reviewed_digest != digest:
        draft.reviewed_digest, draft.reviewed_report = digest, _as_plain(report)
    return report


def keep_report_if_complete(draft: ReportDraft) -> str | None:
    """Once every step of the draft is answered, validate them all and keep the report (`report_for_review`; the
    caller commits); returns the step that no longer passes, if one does."""
    if first_incomplete_step(draft) is not None:
        return None
    try:
        report_for_review(draft)
    except StepInvalid as invalid:
        return invalid.step
    return None


def report_to_submit(draft: ReportDraft | ClaimedDraft) -> NewReport:
    """The report kept for the review, if the draft still holds it and its digest still matches (same schema,
    language and chains offered); else the answers validated again. Writes nothing."""
    reviewed = draft.reviewed_report
    if reviewed is not None and draft.reviewed_digest == review_digest(draft.locale, chain_choices()):
        return _from_plain(reviewed)
    return report_from_answers(draft.answers, draft.locale, wizard_choices())


def _as_plain(report: NewReport) -> dict[str, Any]:
    """A NewReport as JSON values (enums by value, times in ISO 8601); `_from_plain` turns it back."""

    def plain(value: Any) -> Any:
        if isinstance(value, IncidentType | AddressRole):
            return value.value
        if isinstance(value, datetime):
            return value.isoformat()
        if dataclasses.is_dataclass(value):
            return {item.name: plain(getattr(value, item.name)) for item in dataclasses.fields(value)}
        if isinstance(value, tuple | list):
            return [plain(item) for item in value]
        if isinstance(value, Mapping):
            return {key: plain(item) for key, item in value.items()}
        return value

    return plain(report)


def _from_plain(data: Mapping[str, Any]) -> NewReport:
    def moment(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value) if value is not None else None

    return NewReport(
        incident_type=IncidentType(data["incident_type"]),
        reporter=ReporterInput(**data["reporter"]),
        summary=data["summary"],
        incident_at=moment(data["incident_at"]),
        discovered_at=moment(data["discovered_at"]),
        victim_timezone=data["victim_timezone"],
        wallet_app=data["wallet_app"],
        first_contact=data["first_contact"],
        chain_ids=tuple(data["chain_ids"]),
        losses=tuple(LossInput(**loss) for loss in data["losses"]),
        addresses=tuple(AddressInput(**{**address, "role": AddressRole(address["role"])})
                        for address in data["addresses"]),
        transactions=tuple(TransactionInput(**tx) for tx in data["transactions"]),
        exchanges_involved=tuple(data["exchanges_involved"]),
        scammer_contacts={kind: tuple(values) for kind, values in data["scammer_contacts"].items()},
        prior_reports=dict(data["prior_reports"]),
    )
