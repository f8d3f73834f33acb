"""The report wizard's forms, one per step, built from choices the application passes in (chains, zones, ...).

Pure: no database, no app. `step_form(step, choices, chain_ids, formdata)` builds the form for a step; the
application validates it, saves `saved_values(form)` in the draft, and later rebuilds each step's form from the
saved values to validate the whole report again before filing it.

Every text field runs the secret guard first. `StepForm.validate` then sweeps all raw input, whatever the field,
so a recovery phrase typed into a date or a select is refused as well and never rendered back into the page.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    Field,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms import i18n as wtforms_i18n
from wtforms.fields.choices import SelectChoice
from wtforms.form import BaseForm
from wtforms.meta import DefaultMeta
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from forms.secrets import NoSecrets, find_secrets, redact_secrets, secret_warning
from forms.validators import (
    DiscoveredAfter,
    EmailAddress,
    EvmAddress,
    InvalidInput,
    PhoneNumber,
    ReportedTime,
    TextLength,
    TimeZoneName,
    TokenAmount,
    TxHashList,
    normalize_evm_address,
)

LOCAL_TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
MAX_ADDRESSES = 20
MAX_LOSS_ROWS = 20
STATEMENT_MAX_CHARS = 10_000
LIST_FIELD_MAX_CHARS = 2_000
MAX_FIAT_CENTS = 2**63 - 1  # what the case's loss record holds (BIGINT)
FIAT_CURRENCIES = ("USD", "CNY", "EUR", "GBP", "HKD", "TWD", "SGD", "MYR", "JPY", "KRW", "AUD", "CAD")
WALLET_APPS = ("imToken", "MetaMask", "Trust Wallet", "TokenPocket", "Ledger")
EXCHANGES = ("Binance", "OKX", "HTX (Huobi)", "Coinbase", "Kraken", "Bybit", "KuCoin", "Gate", "Bitget", "MEXC")
NATIVE = "native"
OTHER_TOKEN = "token"  # noqa: S105 - a choice value, not a secret
OTHER = "other"
MAX_TOKEN_DECIMALS = 77  # what the case's loss record accepts (10^77 base units still fit in 256 bits)
SYMBOL_MAX_CHARS = 32
# What the application read from the chain about an "another token" row (see ChainAnswer); never what was typed.
CHAIN_FACT_FIELDS = ("chain_checked", "chain_answer", "chain_symbol", "chain_decimals")


class ChainAnswer(enum.Enum):
    """What the chain said about a token contract the victim named."""

    TOKEN = "token"  # noqa: S105 - a state, not a secret: the contract gave its decimals (and maybe its symbol)
    NO_DECIMALS = "no_decimals"  # a contract, but decimals() is missing, reverts or makes no sense
    NO_CONTRACT = "no_contract"  # nothing is deployed at the address on that chain
    UNREACHABLE = "unreachable"  # the chain's RPC endpoints did not answer


@dataclass(frozen=True)
class Step:
    """One page of the wizard."""

    name: str
    title: str | object  # a lazy string


STEPS: tuple[Step, ...] = (
    Step("incident", _l("What happened")),
    Step("wallet", _l("Your wallet")),
    Step("transactions", _l("The transactions")),
    Step("losses", _l("What was taken")),
    Step("other_side", _l("The other side")),
    Step("evidence", _l("Evidence and your account")),
    Step("contact", _l("Contact and consent")),
)
STEP_NAMES = tuple(step.name for step in STEPS)


# The other side's contacts and the reports made elsewhere, by the names the answers keep them under.
CONTACT_LABELS = {
    "websites": _l("Websites or domains"),
    "phones": _l("Phone numbers"),
    "emails": _l("E-mail addresses"),
    "social": _l("Social media or chat accounts (Telegram, WeChat, WhatsApp, ...)"),
    "apps": _l("App or platform names"),
}
PRIOR_REPORT_LABELS = {
    "police_report_number": _l("Police report number (if any)"),
    "police_agency": _l("Police station or agency"),
    "platform_ticket": _l("Ticket number with an exchange or wallet's support (if any)"),
}


@dataclass(frozen=True)
class TokenChoice:
    """A token the victim may pick by name on a chain (a known stablecoin)."""

    symbol: str
    address: str
    decimals: int


@dataclass(frozen=True)
class ChainChoice:
    """A chain the victim may pick, with what a loss form needs to know about its coins."""

    chain_id: int
    name: str
    native_symbol: str
    native_decimals: int
    tokens: tuple[TokenChoice, ...] = ()

    def token(self, symbol: str) -> TokenChoice | None:
        """The named token on this chain, if listed."""
        return next((token for token in self.tokens if token.symbol == symbol), None)


@dataclass(frozen=True)
class WizardChoices:
    """The choices offered by the forms, supplied by the application (its chain registry, the reader's language)."""

    incident_types: Sequence[tuple[str, str]]
    chains: Sequence[ChainChoice]
    time_zones: Sequence[tuple[str, str]]
    countries: Sequence[tuple[str, str]]
    languages: Sequence[tuple[str, str]]
    _by_id: dict[int, ChainChoice] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {chain.chain_id: chain for chain in self.chains})

    def chain(self, chain_id: int) -> ChainChoice | None:
        """A chain by id, or None when it is not offered."""
        return self._by_id.get(chain_id)

    def selected(self, chain_ids: Sequence[int]) -> list[ChainChoice]:
        """The offered chains among `chain_ids`, in the order given."""
        return [chain for chain_id in chain_ids if (chain := self._by_id.get(chain_id))]


@functools.cache
def _wtforms_translations(language: str):
    return wtforms_i18n.get_translations([language])


class _Meta(DefaultMeta):
    """WTForms' own messages ("Not a valid choice.") in the reader's language."""

    def get_translations(self, form):
        locale = get_locale()
        return _wtforms_translations("zh" if locale is not None and locale.language == "zh" else "en")


def _leaf_fields(fields: Iterator[Field] | BaseForm) -> Iterator[Field]:
    """Every input field of a form, entering lists and sub-forms."""
    for item in fields:
        if isinstance(item, FieldList):
            for entry in item.entries:
                yield from _leaf_fields([entry])
        elif isinstance(item, FormField):
            yield from _leaf_fields(item.form)
        else:
            yield item


class StepForm(Form):
    """A wizard step. Validation also refuses a secret typed into any field and takes it out of the form."""

    Meta = _Meta

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        return self._sweep_secrets() and valid

    def _sweep_secrets(self) -> bool:
        clean = True
        for item in _leaf_fields(self):
            if any(isinstance(validator, NoSecrets) for validator in item.validators):
                continue  # already guarded, its input scanned
            raw = [value for value in (item.raw_data or []) if isinstance(value, str)]
            findings = [found for value in raw if (found := find_secrets(value))]
            if not findings:
                continue
            clean = False
            item.raw_data = [redact_secrets(value) if isinstance(value, str) else value for value in item.raw_data]
            if isinstance(item.data, str):
                item.data = redact_secrets(item.data)
            warning = secret_warning(findings[0][0].kind)
            errors = list(item.errors or [])
            if warning not in errors:
                item.errors = [warning]  # the warning alone: other messages might make the victim retype it
        return clean


class MultiCheckboxField(SelectMultipleField):
    """Several choices as check boxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AddressList:
    """EVM addresses one per line (or separated by spaces or commas); leaves them checksummed, without repeats."""

    def __init__(self, max_count: int = MAX_ADDRESSES) -> None:
        self.max_count = max_count

    def __call__(self, form: BaseForm, field: Field) -> None:
        if not isinstance(field.data, str) or not field.data.strip():
            return
        addresses: dict[str, None] = {}
        for position, value in enumerate(field.data.replace(",", " ").split(), start=1):
            try:
                addresses.setdefault(normalize_evm_address(value))
            except InvalidInput as error:
                raise ValidationError(
                    _("Address %(n)d: %(reason)s", n=position, reason=error.message)
                ) from None
        if len(addresses) > self.max_count:
            raise ValidationError(_("At most %(max)d addresses, please.", max=self.max_count))
        field.data = "\n".join(addresses)


def _options(pairs: Iterable[tuple[object, object]]) -> list[SelectChoice]:
    """Choices for a select, radio or check-box field."""
    return [SelectChoice(value, label) for value, label in pairs]


@functools.lru_cache(maxsize=16)
def _long_values(pairs: tuple[tuple[str, str], ...]) -> frozenset[str]:
    """The values of a long, unchanging list, as a set."""
    return frozenset(value for value, _label in pairs)


@functools.lru_cache(maxsize=16)
def _long_options(pairs: tuple[tuple[str, str], ...]) -> tuple[SelectChoice, ...]:
    """Choices of a long, unchanging list (time zones, countries), built once."""
    return tuple(_options(pairs))


def lines(text: str | None) -> list[str]:
    """The non-empty lines of a text area, stripped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _required(message) -> list:
    return [NoSecrets(), DataRequired(message=message)]


def _optional_text(max_chars: int) -> list:
    return [Optional(), NoSecrets(), TextLength(max_chars=max_chars)]


class IncidentForm(StepForm):
    incident_type = RadioField(_l("What happened?"), validators=[InputRequired(_l("Choose what happened."))])
    time_zone = SelectField(
        _l("Your time zone"),
        validate_choice=False,  # TimeZoneName checks it, faster than scanning 600 choices
        validators=[DataRequired(_l("Choose your time zone.")), TimeZoneName()],
        description=_l("The times below are read in this zone. Agencies need times with their zone."),
    )
    incident_at = DateTimeLocalField(
        _l("When did it happen? (if you know)"),
        format=LOCAL_TIME_FORMATS,
        validators=[Optional(), ReportedTime("time_zone")],
    )
    discovered_at = DateTimeLocalField(
        _l("When did you notice?"),
        format=LOCAL_TIME_FORMATS,
        validators=[
            InputRequired(_l("Enter the date and time you noticed the loss.")),
            ReportedTime("time_zone"),
            DiscoveredAfter("incident_at", "time_zone"),
        ],
    )
    wallet_app = RadioField(
        _l("Which wallet app were you using?"),
        choices=_options([*((app, app) for app in WALLET_APPS), (OTHER, _l("Another wallet, or I don't know"))]),
        validators=[InputRequired(_l("Choose a wallet, or 'Another wallet'."))],
    )
    wallet_app_other = StringField(_l("Name of the other wallet"), validators=_optional_text(60))
    first_contact = TextAreaField(
        _l("How were you first contacted? (optional)"),
        validators=_optional_text(200),
        description=_l("For example: a message on Telegram, a call from 'customer service', an advert, a website."),
    )
    resume_email = StringField(
        _l("E-mail address for a link to continue later (optional)"),
        validators=[Optional(), NoSecrets(), EmailAddress()],
    )


class WalletForm(StepForm):
    chain_ids = MultiCheckboxField(
        _l("Which chains were the stolen funds on?"),
        coerce=int,
        validators=[DataRequired(_l("Choose at least one chain."))],
    )
    victim_addresses = TextAreaField(
        _l("Your wallet address(es), one per line"),
        validators=[*_required(_l("Enter the address of your wallet.")), AddressList()],
        description=_l("An address starts with 0x and has 42 characters. Copy it from your wallet's receive screen."),
    )


class OtherSideForm(StepForm):
    attacker_addresses = TextAreaField(
        _l("Addresses the funds went to, one per line (if you know them)"),
        validators=[Optional(), NoSecrets(), AddressList()],
    )
    websites = TextAreaField(CONTACT_LABELS["websites"], validators=_optional_text(LIST_FIELD_MAX_CHARS))
    phones = TextAreaField(CONTACT_LABELS["phones"], validators=_optional_text(LIST_FIELD_MAX_CHARS))
    emails = TextAreaField(CONTACT_LABELS["emails"], validators=_optional_text(LIST_FIELD_MAX_CHARS))
    social = TextAreaField(CONTACT_LABELS["social"], validators=_optional_text(LIST_FIELD_MAX_CHARS))
    apps = TextAreaField(CONTACT_LABELS["apps"], validators=_optional_text(LIST_FIELD_MAX_CHARS))
    exchanges = MultiCheckboxField(
        _l("Exchanges involved (where you bought, or where the funds went)"),
        choices=_options((name, name) for name in EXCHANGES),
    )
    exchanges_other = StringField(_l("Other exchanges"), validators=_optional_text(200))


class EvidenceForm(StepForm):
    statement = TextAreaField(
        _l("Tell us what happened, in your own words"),
        validators=[
            NoSecrets(),
            DataRequired(_l("Describe what happened, even briefly.")),
            TextLength(max_chars=STATEMENT_MAX_CHARS, min_chars=20),
        ],
        description=_l(
            "Who contacted you, what you were asked to do, what you clicked or signed, and when. "
            "Never write your recovery phrase or private key. At most %(max)s characters: add anything longer "
            "as a file.",
            max=f"{STATEMENT_MAX_CHARS:,}",
        ),
    )
    files = MultipleFileField(
        _l("Screenshots, chat exports or documents (optional)"),
        description=_l("PNG, JPEG, GIF, WebP, PDF or text files, up to 10 MB each."),
    )
    police_report_number = StringField(PRIOR_REPORT_LABELS["police_report_number"], validators=_optional_text(100))
    police_agency = StringField(PRIOR_REPORT_LABELS["police_agency"], validators=_optional_text(200))
    platform_ticket = StringField(PRIOR_REPORT_LABELS["platform_ticket"], validators=_optional_text(200))


class ContactForm(StepForm):
    name = StringField(_l("Your name"), validators=[*_required(_l("Enter your name.")), TextLength(max_chars=200)])
    country = SelectField(
        _l("Country where you live"),
        validate_choice=False,  # checked against a set in validate_country
        validators=[InputRequired(_l("Choose your country."))],
    )
    country_codes: frozenset[str] = frozenset()
    jurisdiction = StringField(_l("City and province or state (optional)"), validators=_optional_text(120))
    email = StringField(_l("E-mail"), validators=[Optional(), NoSecrets(), EmailAddress()])
    phone = StringField(_l("Phone"), validators=[Optional(), NoSecrets(), PhoneNumber(region_field="country")])
    preferred_language = SelectField(_l("Language for messages about your case"))
    consent_law_enforcement = BooleanField(_l("You may share my report with the police and other law enforcement."))
    consent_exchanges = BooleanField(
        _l("You may share my report with exchanges and stablecoin issuers, to ask them to freeze the funds.")
    )
    consent_consumer_agencies = BooleanField(
        _l("You may share my report with consumer-protection agencies.")
    )

    def validate_country(self, field: Field) -> None:
        if field.data not in self.country_codes:
            raise ValidationError(_("Choose your country."))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not (self.email.data or "").strip() and not (self.phone.data or "").strip():
            self.email.errors = [
                *self.email.errors,
                _("Give an e-mail address or a phone number, so that your handler can reach you."),
            ]
            return False
        return valid


@functools.lru_cache(maxsize=64)
def _transactions_form(chains: tuple[ChainChoice, ...]) -> type[StepForm]:
    """A text area of transaction hashes per chosen chain, and 'I don't know the hashes'."""
    attributes = {
        f"tx_{chain.chain_id}": TextAreaField(
            _l("Transaction hashes on %(chain)s, one per line", chain=chain.name),
            validators=[Optional(), NoSecrets(), TxHashList()],
        )
        for chain in chains
    }
    hash_fields = list(attributes)

    def validate_unknown_hashes(form: StepForm, field: Field) -> None:
        if not field.data and not any((form[name].data or "").strip() for name in hash_fields):
            raise ValidationError(
                _("Enter at least one transaction hash, or tick 'I don't know the transaction hashes'.")
            )

    attributes["unknown_hashes"] = BooleanField(
        _l("I don't know the transaction hashes"),
        description=_l("That is fine: we can find the transactions from your wallet address."),
    )
    attributes["validate_unknown_hashes"] = validate_unknown_hashes
    return type("TransactionsForm", (StepForm,), attributes)


def _loss_row_form(chains: Sequence[ChainChoice]) -> type[Form]:
    """One asset lost: chain, which coin or token, amount, and what it was worth.

    For "another token" the decimals come from the chain: the application puts what the chain said about the
    contract into the row's `chain_*` fields before validating, and the victim confirms it (`token_confirmed`
    holds the confirmation they ticked). Only when the chain could not say does the victim type the decimals.
    """
    by_id = {chain.chain_id: chain for chain in chains}
    symbols = sorted({token.symbol for chain in chains for token in chain.tokens})
    natives = ", ".join(sorted({chain.native_symbol for chain in chains}))

    def decimals(row: Form) -> int:
        chain = by_id.get(row.chain_id.data)
        if row.asset.data == NATIVE and chain:
            return chain.native_decimals
        if row.asset.data == OTHER_TOKEN:
            # Until the decimals are known, the amount is only checked for its form; the row asks for them.
            known = row.token()[1]
            return known if known is not None else MAX_TOKEN_DECIMALS
        token = chain.token(row.asset.data) if chain else None
        return token.decimals if token else MAX_TOKEN_DECIMALS

    class LossRow(Form):
        Meta = _Meta

        chain_id = SelectField(_l("Chain"), coerce=int, choices=_options((c.chain_id, c.name) for c in chains))
        asset = SelectField(
            _l("Coin or token"),
            default=NATIVE,
            choices=_options([
                (NATIVE, _l("The chain's own coin (%(symbols)s)", symbols=natives)),
                *((symbol, symbol) for symbol in symbols),
                (OTHER_TOKEN, _l("Another token (give its contract address)")),
            ]),
        )
        amount = StringField(_l("Amount"), validators=[Optional(), NoSecrets(), TokenAmount(decimals)])
        token_address = StringField(_l("Token contract address"), validators=[Optional(), NoSecrets(), EvmAddress()])
        chain_checked = HiddenField()
        chain_answer = HiddenField()
        chain_symbol = HiddenField()
        chain_decimals = HiddenField()
        token_confirmed = HiddenField()  # rendered as a check box whose value is `confirmation()`
        token_symbol = StringField(_l("Token symbol"), validators=_optional_text(SYMBOL_MAX_CHARS))
        token_decimals = IntegerField(
            _l("Token decimals"), validators=[Optional(), NumberRange(min=0, max=MAX_TOKEN_DECIMALS)]
        )
        fiat_value = StringField(
            _l("What it was worth then (optional)"), validators=[Optional(), NoSecrets(), TokenAmount(2)]
        )
        fiat_currency = SelectField(
            _l("Currency"), default="", choices=_options([("", "—"), *((c, c) for c in FIAT_CURRENCIES)])
        )

        def is_blank(self) -> bool:
            return not any((self[name].data or "").strip() for name in ("amount", "token_address", "fiat_value"))

        def chain_name(self) -> str:
            chain = by_id.get(self.chain_id.data)
            return chain.name if chain else ""

        def chain_facts(self) -> tuple[ChainAnswer, str | None, int | None] | None:
            """What the chain said about the contract now typed (answer, symbol, decimals); None if not asked."""
            try:
                address = normalize_evm_address(self.token_address.data or "")
                answer = ChainAnswer(self.chain_answer.data)
            except (InvalidInput, ValueError):
                return None
            if self.chain_checked.data != address:
                return None  # the answer was about another address
            text = self.chain_decimals.data or ""
            plain = text.isascii() and text.isdigit() and len(text) < 3
            decimals = int(text) if plain and int(text) <= MAX_TOKEN_DECIMALS else None
            if answer is ChainAnswer.TOKEN and decimals is None:
                return None
            return answer, (self.chain_symbol.data or "").strip() or None, decimals

        def token(self) -> tuple[str | None, int | None]:
            """An "another token" row's symbol and decimals: the chain's, else what the victim typed."""
            facts = self.chain_facts()
            typed_symbol = (self.token_symbol.data or "").strip().upper() or None
            if facts is not None and facts[0] is ChainAnswer.TOKEN:
                return facts[1] or typed_symbol, facts[2]
            if facts is None or self.token_decimals.errors:
                return typed_symbol, None
            value = self.token_decimals.data
            return typed_symbol, value if isinstance(value, int) and 0 <= value <= MAX_TOKEN_DECIMALS else None

        def confirmation(self) -> str:
            """The value of the box the victim ticks to confirm the chain's answer (void once the answer changes)."""
            facts = self.chain_facts()
            return f"{self.chain_checked.data}:{facts[2]}:{facts[1] or ''}" if facts else ""

        def chain_note(self) -> str:
            """Why the victim must type the decimals themselves, or ""."""
            facts = self.chain_facts()
            if facts is None or facts[0] is ChainAnswer.TOKEN:
                return ""
            if facts[0] is ChainAnswer.UNREACHABLE:
                return _(
                    "We could not reach %(chain)s to read this token's decimals. Enter them yourself: your wallet "
                    "or the block explorer shows them on the token's page.",
                    chain=self.chain_name(),
                )
            if facts[0] is ChainAnswer.NO_DECIMALS:
                return _(
                    "This contract does not say how many decimals it has. Enter them yourself: the block explorer "
                    "shows them on the token's page."
                )
            return ""

        def validate_asset(self, field: Field) -> None:
            chain = by_id.get(self.chain_id.data)
            if field.data in (NATIVE, OTHER_TOKEN) or chain is None or chain.token(field.data):
                return
            raise ValidationError(
                _(
                    "%(symbol)s is not on our list for %(chain)s: choose 'Another token' and give its contract "
                    "address.",
                    symbol=field.data,
                    chain=chain.name,
                )
            )

        def validate(self, extra_validators=None) -> bool:
            # What a used row needs depends on other fields, so it is checked here: a field's own chain stops
            # at Optional() when it is empty.
            valid = super().validate(extra_validators)
            if self.is_blank():  # an unused row: nothing in it is kept, so nothing in it can be wrong
                for item in self:
                    item.errors = []
                return True
            needed = [(self.amount, _("Enter the amount that was taken."))]
            if self.asset.data == OTHER_TOKEN:
                needed.append((self.token_address, _("Enter the token's contract address (it starts with 0x).")))
                valid = self._check_token(needed) and valid
            for item, message in needed:
                if not (item.data or "").strip() and not item.errors:
                    item.errors = [message]
                    valid = False
            return valid

        def _check_token(self, needed: list) -> bool:
            """The chain's answer about the contract, confirmed, or the decimals typed where the chain cannot say."""
            if not (self.token_address.data or "").strip() or self.token_address.errors:
                return True  # the address's own message says what to do first
            facts = self.chain_facts()
            if facts is None:
                self.token_address.errors = [_("We have not checked this contract yet: press Next to look it up.")]
                return False
            answer, chain_symbol, _decimals = facts
            if answer is ChainAnswer.NO_CONTRACT:
                self.token_address.errors = [_(
                    "There is no contract at this address on %(chain)s. Check the address, and that the chain "
                    "chosen above is the one the token is on.",
                    chain=self.chain_name(),
                )]
                return False
            if chain_symbol is None:
                needed.append((self.token_symbol, _("Enter the token's symbol, for example USDT.")))
            if answer is ChainAnswer.TOKEN:
                if self.token_confirmed.data != self.confirmation():
                    self.token_confirmed.errors = [
                        _("Check what %(chain)s says about this token, and tick the box if it is the one that was "
                          "taken.", chain=self.chain_name())
                    ]
                    return False
                return True
            if self.token_decimals.data is None and not self.token_decimals.errors:
                self.token_decimals.errors = [self.chain_note()]
                return False
            return not self.token_decimals.errors

        def validate_fiat_value(self, field: Field) -> None:
            if (field.data or "").strip() and not field.errors and Decimal(field.data) * 100 > MAX_FIAT_CENTS:
                raise ValidationError(_("For a value this large, write it in your statement instead."))

        def validate_fiat_currency(self, field: Field) -> None:
            if (self.fiat_value.data or "").strip() and not field.data:
                raise ValidationError(_("Choose the currency of the value."))

    return LossRow


@functools.lru_cache(maxsize=64)
def _losses_form(chains: tuple[ChainChoice, ...]) -> type[StepForm]:
    row = _loss_row_form(chains)

    class LossesForm(StepForm):
        losses = FieldList(FormField(row), min_entries=1, max_entries=MAX_LOSS_ROWS)

        def validate_losses(self, field: Field) -> None:
            if all(entry.form.is_blank() for entry in field.entries):
                raise ValidationError(_("Enter at least one amount that was taken."))

    return LossesForm


_STATIC_FORMS: Mapping[str, type[StepForm]] = {
    "incident": IncidentForm,
    "wallet": WalletForm,
    "other_side": OtherSideForm,
    "evidence": EvidenceForm,
    "contact": ContactForm,
}


def step_form(
    step: str,
    choices: WizardChoices,
    chain_ids: Sequence[int] = (),
    formdata: MultiDict | None = None,
    data: Mapping[str, object] | None = None,
) -> StepForm:
    """The form of one step, its choices filled in; `chain_ids` are the chains chosen in the wallet step."""
    chains = tuple(choices.selected(chain_ids) or choices.chains[:1])
    if step == "transactions":
        form_class = _transactions_form(chains)
    elif step == "losses":
        form_class = _losses_form(chains)
    else:
        form_class = _STATIC_FORMS[step]
    form = form_class(formdata=formdata, data=dict(data or {}))
    if step == "incident":
        form.incident_type.choices = _options(choices.incident_types)
        zones = _long_options(tuple(choices.time_zones))
        form.time_zone.choices = [SelectChoice("", _l("Choose your time zone")), *zones]
    elif step == "wallet":
        form.chain_ids.choices = _options((chain.chain_id, chain.name) for chain in choices.chains)
    elif step == "contact":
        form.country.choices = [SelectChoice("", _l("Choose your country")), *_long_options(tuple(choices.countries))]
        form.country_codes = _long_values(tuple(choices.countries))
        form.preferred_language.choices = _options(choices.languages)
    return form


def _as_text(item: Field) -> list[str]:
    """The value to save for one field: its canonical data when valid, else what was typed."""
    if item.errors or item.data is None:
        return [value for value in (item.raw_data or []) if isinstance(value, str)]
    if isinstance(item, BooleanField):
        return ["y"] if item.data else []
    if isinstance(item.data, datetime):
        return [item.data.strftime(LOCAL_TIME_FORMATS[0])]
    if isinstance(item.data, list | tuple):
        return [str(value) for value in item.data]
    return [str(item.data)]


def saved_values(form: StepForm) -> dict[str, list[str]]:
    """A step's answers as form data (name -> values), to keep in the draft and post back into the form later.

    Call after validate(): valid fields give their canonical form, invalid ones what was typed (secrets removed).
    """
    values = {}
    for item in _leaf_fields(form):
        if isinstance(item, MultipleFileField):
            continue
        texts = [redact_secrets(text) for text in _as_text(item)]
        if texts:
            values[item.name] = texts
    return values


def as_formdata(values: Mapping[str, Sequence[str]] | None) -> MultiDict:
    """Saved answers back as form data."""
    return MultiDict([(name, value) for name, items in (values or {}).items() for value in items])
