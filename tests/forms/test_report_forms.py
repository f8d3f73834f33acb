"""The report wizard's step forms: what each step accepts, the canonical values it keeps, and the secret sweep."""

from datetime import UTC, datetime, timedelta

import pytest
from eth_account.hdaccount.mnemonic import Mnemonic
from werkzeug.datastructures import MultiDict

from forms.report import (
    STEP_NAMES,
    ChainChoice,
    TokenChoice,
    WizardChoices,
    as_formdata,
    saved_values,
    step_form,
)

VICTIM = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
HASH_A, HASH_B = "0x" + "a" * 64, "0x" + "b" * 64
CHOICES = WizardChoices(
    incident_types=[("approval_phishing", "Approval phishing"), ("other", "Other")],
    chains=[
        ChainChoice(1, "Ethereum", "ETH", 18, (TokenChoice("USDT", "0xdac17f958d2ee523a2206206994597c13d831ec7", 6),)),
        ChainChoice(56, "BNB Smart Chain", "BNB", 18, (TokenChoice("USDC", "0x8ac7", 18),)),
    ],
    time_zones=[("Asia/Shanghai", "Asia/Shanghai"), ("UTC", "UTC")],
    countries=[("CN", "China"), ("US", "United States")],
    languages=[("en", "English"), ("zh_Hans_CN", "简体中文")],
)


def local(hours_ago: float, zone_offset_hours: int = 8) -> str:
    moment = datetime.now(UTC) - timedelta(hours=hours_ago) + timedelta(hours=zone_offset_hours)
    return moment.strftime("%Y-%m-%dT%H:%M")


def submit(step: str, chains=(1,), **fields):
    data = MultiDict()
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            data.add(name, item)
    form = step_form(step, CHOICES, chains, formdata=data)
    form.validate()
    return form


def incident(**overrides):
    fields = {"incident_type": "approval_phishing", "time_zone": "Asia/Shanghai", "incident_at": local(3),
              "discovered_at": local(2), "wallet_app": "imToken"}
    return submit("incident", **{**fields, **overrides})


def loss(chains=(1,), **row):
    return submit("losses", chains, **{f"losses-0-{name}": value for name, value in row.items()})


def test_a_complete_incident_step_is_valid():
    assert incident().errors == {}


def test_discovery_before_the_incident_is_refused():
    form = incident(incident_at=local(2), discovered_at=local(5))
    assert "earlier than the time it happened" in form.discovered_at.errors[0]


def test_a_future_time_and_an_unknown_zone_are_refused():
    assert "in the future" in incident(discovered_at=local(-48)).discovered_at.errors[0]
    assert incident(time_zone="Mars/Olympus").time_zone.errors


def test_the_discovery_time_is_required_but_the_incident_time_is_not():
    assert incident(incident_at="").errors == {}
    assert incident(discovered_at="").discovered_at.errors


def test_wallet_addresses_are_checksummed_and_merged():
    form = submit("wallet", (), chain_ids=["1", "56"],
                  victim_addresses=f"{VICTIM.lower()}\n{VICTIM}, {VICTIM.upper().replace('0X', '0x')}")
    assert form.errors == {} and form.victim_addresses.data == VICTIM and form.chain_ids.data == [1, 56]


def test_a_mistyped_checksum_names_the_address():
    form = submit("wallet", (), chain_ids=["1"], victim_addresses=f"{VICTIM}\n{VICTIM[:-1]}D")
    assert form.victim_addresses.errors[0].startswith("Address 2:") and "checksum" in form.victim_addresses.errors[0]


def test_transactions_need_a_hash_or_i_dont_know():
    assert submit("transactions", (1, 56)).unknown_hashes.errors
    assert submit("transactions", (1, 56), unknown_hashes="y").errors == {}
    form = submit("transactions", (1, 56), tx_1=f"{HASH_A}\n{HASH_B}\n{HASH_A}")
    assert form.errors == {} and form.tx_1.data == f"{HASH_A}\n{HASH_B}"


def test_amounts_respect_the_decimals_of_the_chosen_asset():
    assert loss(chain_id="1", asset="native", amount="0.000000000000000001").errors == {}
    assert "at most 6 digits" in loss(chain_id="1", asset="USDT", amount="1.1234567").losses[0].amount.errors[0]
    assert loss(chain_id="1", asset="USDT", amount="1,234.5").losses[0].amount.data == "1234.5"


def test_a_token_missing_from_the_chain_list_is_explained():
    form = loss(chain_id="1", asset="USDC", amount="10", chains=(1, 56))
    assert "not on our list for Ethereum" in form.losses[0].asset.errors[0]


def test_another_token_needs_its_contract_and_the_chains_answer_about_it():
    row = loss(chain_id="1", asset="token", amount="10").losses[0]
    assert row.token_address.errors
    unasked = loss(chain_id="1", asset="token", amount="10", token_address=VICTIM, token_decimals="18").losses[0]
    assert "press Next to look it up" in unasked.token_address.errors[0]


def test_decimals_the_chain_gave_need_the_victims_confirmation_and_typed_ones_are_ignored():
    said = {"chain_id": "1", "asset": "token", "amount": "10.5", "token_address": VICTIM.lower(),
            "chain_checked": VICTIM, "chain_answer": "token", "chain_symbol": "FAKE", "chain_decimals": "2",
            "token_decimals": "18"}
    row = loss(**said).losses[0]
    assert "tick the box" in row.token_confirmed.errors[0]
    confirmed = loss(**said, token_confirmed=row.confirmation())
    assert confirmed.errors == {} and confirmed.losses[0].form.token() == ("FAKE", 2)
    too_precise = loss(**{**said, "amount": "10.555"}, token_confirmed=row.confirmation())
    assert "at most 2 digits" in too_precise.losses[0].amount.errors[0]


def test_where_the_chain_cannot_say_the_victim_types_symbol_and_decimals():
    unreachable = {"chain_id": "1", "asset": "token", "amount": "10.5", "token_address": VICTIM,
                   "chain_checked": VICTIM, "chain_answer": "unreachable"}
    row = loss(**unreachable).losses[0]
    assert "could not reach Ethereum" in row.token_decimals.errors[0] and row.token_symbol.errors
    typed = loss(**unreachable, token_symbol="fake", token_decimals="2")
    assert typed.errors == {} and typed.losses[0].form.token() == ("FAKE", 2)


def test_a_value_needs_its_currency_and_must_fit():
    assert loss(chain_id="1", asset="native", amount="1", fiat_value="3000").losses[0].fiat_currency.errors
    assert not loss(chain_id="1", asset="native", amount="1", fiat_value="99999999", fiat_currency="USD").errors
    huge = loss(chain_id="1", asset="native", amount="1", fiat_value="99999999999999999999", fiat_currency="USD")
    assert "statement" in huge.losses[0].fiat_value.errors[0]


def test_blank_loss_rows_are_ignored_but_one_is_needed():
    assert "at least one amount" in submit("losses", (1,), **{"losses-0-chain_id": "1"}).losses.errors[0]
    form = submit("losses", (1,), **{"losses-0-chain_id": "1", "losses-0-asset": "native", "losses-0-amount": "2",
                                     "losses-1-chain_id": "1", "losses-1-asset": "native"})
    assert form.errors == {}


def test_contact_needs_an_email_or_a_phone_and_reads_the_phone_in_the_country():
    fields = {"name": "Li Wei", "country": "CN", "preferred_language": "zh_Hans_CN"}
    assert "e-mail address or a phone number" in submit("contact", **fields).email.errors[0]
    form = submit("contact", **fields, phone="138 0013 8000")
    assert form.errors == {} and form.phone.data == "+8613800138000"


@pytest.mark.parametrize("field", ["time_zone", "incident_type", "discovered_at", "wallet_app"])
def test_a_phrase_typed_into_any_field_is_refused_and_removed(field):
    phrase = Mnemonic().generate(12)
    form = incident(**{field: phrase})
    assert "recovery phrase" in form[field].errors[0]
    assert phrase not in str(form[field].raw_data) and phrase not in str(saved_values(form))


def test_saved_values_bring_the_form_back_as_it_was():
    for step, chains, fields in [
        ("incident", (), {"incident_type": "approval_phishing", "time_zone": "Asia/Shanghai",
                          "discovered_at": local(2), "wallet_app": "other", "wallet_app_other": "Bitpie"}),
        ("wallet", (), {"chain_ids": ["1", "56"], "victim_addresses": VICTIM.lower()}),
        ("losses", (1,), {"losses-0-chain_id": "1", "losses-0-asset": "USDT", "losses-0-amount": "1,000"}),
        ("contact", (), {"name": "A", "country": "US", "email": "A@Example.org", "preferred_language": "en",
                         "consent_exchanges": "y"}),
    ]:
        form = submit(step, chains, **fields)
        assert form.errors == {}
        again = step_form(step, CHOICES, chains, formdata=as_formdata(saved_values(form)))
        assert again.validate() and again.data == form.data


def test_every_step_has_a_form():
    assert all(step_form(step, CHOICES, (1,)) is not None for step in STEP_NAMES)
