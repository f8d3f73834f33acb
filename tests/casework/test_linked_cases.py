"""Linked cases: by a shared attacker address (same chain, attacker role), by an address the trace reached, and by
each kind of scammer contact in its normalised form; never the case itself; shown on the case page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from casework.extensions import db
from casework.models import AddressRole, CaseContact, FlowEdge, IncidentType, Role, utcnow
from casework.services import filing, linked
from forms.contacts import contact_rows, normalise_contact
from tests.fixtures.factories import ATTACKER, VICTIM

OTHER_ATTACKER = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def file_report(*, attacker: str | None = OTHER_ATTACKER, chain_id: int = 1, role: AddressRole = AddressRole.ATTACKER,
                contacts: dict[str, tuple[str, ...]] | None = None) -> filing.FiledCase:
    now = utcnow()
    addresses = [filing.AddressInput(chain_id=chain_id, address=VICTIM, role=AddressRole.VICTIM)]
    if attacker:
        addresses.append(filing.AddressInput(chain_id=chain_id, address=attacker, role=role))
    filed = filing.file_case(filing.NewReport(
        incident_type=IncidentType.FAKE_SUPPORT,
        reporter=filing.ReporterInput(name="Wang Fang", email="victim@example.org"),
        summary="A fake support agent asked me to move my coins.",
        incident_at=now - timedelta(hours=3), chain_ids=(chain_id,), addresses=tuple(addresses),
        scammer_contacts=contacts or {},
    ))
    db.session.commit()
    return filed


def links_of(user, filed) -> dict[str, list[str]]:
    return {line.reference: line.shares for line in linked.linked_cases(user, filed.case)}


@pytest.fixture
def handler(make_user):
    return make_user(Role.HANDLER)


def test_cases_sharing_an_attacker_address_are_linked_and_a_case_is_not_linked_to_itself(app, make_case, handler):
    first, second = make_case(), make_case()
    unrelated = file_report()
    assert links_of(handler, first) == {second.reference: [f"attacker address {ATTACKER}"]}
    assert links_of(handler, second) == {first.reference: [f"attacker address {ATTACKER}"]}
    assert links_of(handler, unrelated) == {}


def test_the_same_address_in_another_role_or_on_another_chain_does_not_link(app, make_case, handler):
    case = make_case()
    file_report(attacker=ATTACKER, role=AddressRole.INTERMEDIARY)
    file_report(attacker=ATTACKER, chain_id=56)
    assert links_of(handler, case) == {}


def test_an_address_the_trace_reached_links_to_the_case_that_names_it_attacker(app, make_case, handler):
    traced = make_case()
    named = file_report(attacker=OTHER_ATTACKER)
    db.session.add(FlowEdge(case_id=traced.case_id, chain_id=1, hop=1, from_address=ATTACKER,
                            to_address=OTHER_ATTACKER.lower(), amount_raw=10, tx_hash="0x" + "ef" * 32,
                            block_time=utcnow()))
    db.session.commit()
    assert links_of(handler, traced) == {
        named.reference: [f"attacker address {OTHER_ATTACKER}, reached by this case's trace"]}


@pytest.mark.parametrize("stored", [OTHER_ATTACKER, OTHER_ATTACKER.lower()])
def test_a_case_whose_attacker_another_case_traced_to_is_linked_to_it_too(app, make_case, handler, stored):
    """The link holds from both ends: the case naming the attacker also sees the case whose trace reached it."""
    traced = make_case()
    named = file_report(attacker=OTHER_ATTACKER)
    db.session.add(FlowEdge(case_id=traced.case_id, chain_id=1, hop=1, from_address=ATTACKER, to_address=stored,
                            amount_raw=10, tx_hash="0x" + "ef" * 32, block_time=utcnow()))
    db.session.add(FlowEdge(case_id=traced.case_id, chain_id=56, hop=1, from_address=ATTACKER,
                            to_address=OTHER_ATTACKER, amount_raw=10, tx_hash="0x" + "ee" * 32, block_time=utcnow()))
    db.session.commit()
    assert links_of(handler, named) == {
        traced.reference: [f"attacker address {OTHER_ATTACKER}, reached by that case's trace"]}


@pytest.mark.parametrize(("kind", "given", "other", "shown"), [
    ("websites", "https://www.Fake-Airdrop.com/", "fake-airdrop.com", "website fake-airdrop.com"),
    ("phones", "+86 138-0013-8000", "0086 13800138000", "phone 8613800138000"),
    ("emails", "Support@Wallet-Help.EXAMPLE", "mailto:support@wallet-help.example",
     "e-mail support@wallet-help.example"),
    ("social", "@CryptoHelper_Official", "cryptohelper_official", "account cryptohelper_official"),
])
def test_cases_sharing_a_scammer_contact_are_linked_in_its_normalised_form(app, handler, kind, given, other, shown):
    first = file_report(attacker=None, contacts={kind: (given,)})
    second = file_report(attacker=None, contacts={kind: (other,)})
    file_report(attacker=None, contacts={kind: ("someone-else-entirely.example",)})
    assert links_of(handler, first) == {second.reference: [shown]}
    assert links_of(handler, second) == {first.reference: [shown]}


def test_a_shared_app_name_does_not_link(app, handler):
    first = file_report(attacker=None, contacts={"apps": ("Telegram",)})
    file_report(attacker=None, contacts={"apps": ("telegram",)})
    assert links_of(handler, first) == {}


def test_filing_stores_each_contact_once_normalised(app):
    filed = file_report(contacts={"websites": ("https://scam.example/", "scam.example"), "phones": ("12",),
                                  "apps": ("WhatsApp",), "emails": ("A@B.example",)})
    rows = db.session.execute(select(CaseContact.kind, CaseContact.value).where(CaseContact.case_id == filed.case_id)
                              .order_by(CaseContact.kind)).all()
    assert rows == [("emails", "a@b.example"), ("websites", "scam.example")]


def test_the_normaliser_keeps_paths_and_drops_what_does_not_identify():
    assert normalise_contact("websites", "HTTP://www.scam.example/claim/#top") == "scam.example/claim"
    assert normalise_contact("social", "https://t.me/ScamBot/") == "t.me/scambot"
    assert normalise_contact("phones", "call me") is None
    assert normalise_contact("apps", "Telegram") is None
    assert contact_rows({"emails": ["x@y.example", "X@Y.example "]}) == [{"kind": "emails", "value": "x@y.example"}]


def test_the_case_page_lists_linked_cases_for_every_staff_role(client, make_case, make_user, login):
    first, second = make_case(), make_case()
    login(make_user(Role.LEGAL))
    html = client.get(f"/staff/cases/{first.reference}").get_data(as_text=True)
    section = html[html.index('id="linked"'):]
    assert f'href="/staff/cases/{second.reference}"' in section and f"attacker address {ATTACKER}" in section
    assert f'href="/staff/cases/{first.reference}"' not in section


def test_a_case_with_nothing_shared_says_so(client, make_user, login):
    filed = file_report()
    login(make_user(Role.HANDLER))
    html = client.get(f"/staff/cases/{filed.reference}").get_data(as_text=True)
    assert "No other case shares an attacker address or a scammer contact with this one." in html
