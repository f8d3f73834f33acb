"""The directory of organisations: the shipped entries and their import, the route each kind of entry gives, name
matching, agencies by country, the staff pages and the victim's checklist."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import yaml
from flask_babel import force_locale
from sqlalchemy import event, select

from casework.extensions import db, limiter
from casework.models import IncidentType, Organisation, ReferralKind, Requester, Role, TraceRun
from casework.services import checklist
from casework.services import directory as directory_service
from casework.services import labels as label_service
from casework.services.access import AccessDenied
from casework.services.directory import DirectoryError
from casework.services.tokens import new_access_token
from evidence import labels as evidence_labels
from tests.fixtures.factories import csrf_token

from .test_case_page import EMPTY_GRAPH

CHECKED = date(2026, 12, 2)
NEW_ENTRY = {"slug": "river-exchange", "name": "River Exchange", "kind": "exchange", "requester": "victim",
             "channel_kind": "email", "channel": "desk@river.example", "courtesy_hold_days": "5",
             "follow_up_days": "2", "aliases": "River\nRiver Ex", "requirements": "The victim's statement.",
             "facts-0-field": "channel", "facts-0-text": "Their desk address.",
             "facts-0-source": "https://river.example/freeze", "facts-0-checked_on": "2026-12-01",
             "facts-1-field": "general", "facts-1-text": "", "facts-1-source": "", "facts-1-checked_on": ""}


def entry(slug: str) -> Organisation:
    return db.session.scalar(select(Organisation).where(Organisation.slug == slug))


def shipped_entries() -> list[dict]:
    return [*yaml.safe_load(directory_service.SHIPPED_FILE.read_text())["organisations"],
            *yaml.safe_load(directory_service.DEMO_FILE.read_text())["organisations"]]


# --- The shipped data and its import ---------------------------------------------------------------------------

def test_every_shipped_fact_has_its_source_and_date_or_says_it_is_not_verified():
    for item in shipped_entries():
        assert item["facts"], f"{item['slug']} has no facts"
        for fact in item["facts"]:
            if fact["source"] == directory_service.NOT_VERIFIED:
                assert "checked_on" not in fact, item["slug"]
            else:
                assert fact["source"].startswith("https://") and fact["checked_on"] == CHECKED, item["slug"]
        if item.get("channel"):
            assert any(fact["field"] == "channel" for fact in item["facts"]), f"{item['slug']}: channel's source?"


def test_the_shipped_directory_has_the_entries_recovery_needs(app, directory):
    wanted = {"binance", "okx", "coinbase", "kraken", "bybit", "htx", "kucoin", "bitget", "gate", "tether",
              "circle", "imtoken", "tokenpocket", "metamask", "trust-wallet", "harbour-exchange"}
    assert wanted <= set(db.session.scalars(select(Organisation.slug)))
    for country in ("CN", "HK", "TW", "SG", "US", "GB"):
        assert directory_service.agencies_for(country), country
    harbour = entry("harbour-exchange")
    assert harbour.channel.endswith("@harbour.example") and "Not a real organisation" in harbour.notes


def test_the_import_is_idempotent(app):
    first = directory_service.load_shipped(demo=True)
    db.session.commit()
    assert first.problems == [] and first.added == len(shipped_entries())
    again = directory_service.load_shipped(demo=True)
    assert (again.added, again.updated, again.unchanged) == (0, 0, len(shipped_entries()))


def test_an_entry_an_admin_edited_is_kept_by_the_import_unless_replace(app, directory, make_user):
    admin = make_user(Role.ADMIN)
    values = directory_form_values("binance")
    directory_update(admin, "binance", {**values, "requirements": "Ask the desk we know."})
    result = directory_import()
    assert result.kept == ["binance"] and entry("binance").requirements == "Ask the desk we know."
    replaced = directory_import(replace=True)
    assert replaced.updated == 1 and entry("binance").requirements.startswith("Only law-enforcement agents")
    assert entry("binance").updated_by_id is None


def directory_form_values(slug):
    return directory_service.form_values(entry(slug))


def directory_update(user, slug, values):
    directory_service.update_organisation(user, slug, values)
    db.session.commit()


def directory_import(replace=False):
    result = directory_service.import_file(directory_service.SHIPPED_FILE, replace=replace)
    db.session.commit()
    return result


def test_an_import_brings_an_untouched_entry_up_to_date_and_adds_new_ones(app, directory):
    changed = {**next(e for e in shipped_entries() if e["slug"] == "okx"), "turnaround": "About a day."}
    new = {"slug": "new-desk", "name": "New Desk", "kind": "exchange", "requester": "police",
           "channel_kind": "none", "facts": [{"field": "general", "text": "Opened.", "source": "not verified"}]}
    result = directory_service.import_entries([changed, new])
    assert (result.added, result.updated, result.problems) == (1, 1, [])
    assert entry("okx").turnaround == "About a day." and entry("new-desk").updated_by_id is None


@pytest.mark.parametrize("bad, message", [
    ({"channel_kind": "email", "channel": "not an address"}, "e-mail address"),
    ({"channel_kind": "web_form", "channel": "javascript:alert(1)"}, "https://"),
    ({"kind": "bank"}, "the kind"),
    ({"country": "China"}, "two-letter code"),
    ({"facts": [{"field": "general", "text": "Seen.", "source": "https://x.example", "checked_on": None}]},
     "date the fact was checked"),
    ({"facts": [{"field": "general", "text": "Seen.", "source": "not verified", "checked_on": "2026-12-01"}]},
     "not verified has no date"),
    ({"facts": [{"field": "general", "text": "Seen.", "source": "https://x.example", "checked_on": "2099-01-01"}]},
     "future"),
    ({"requester": "nobody", "can_freeze": True}, "cannot be marked"),
])
def test_a_bad_entry_is_skipped_with_its_reason_and_the_rest_is_imported(app, bad, message):
    good = {"slug": "good-desk", "name": "Good Desk", "kind": "exchange", "requester": "police",
            "channel_kind": "none"}
    result = directory_service.import_entries([good, {**good, "slug": "bad-desk", **bad}])
    assert result.added == 1 and len(result.problems) == 1 and message in result.problems[0]
    assert "bad-desk" in result.problems[0] and entry("bad-desk") is None


def test_the_import_command_reports_what_it_did(app, tmp_path):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["directory", "import", "--demo"])
    assert first.exit_code == 0, first.output
    assert f"{len(shipped_entries())} entries added, 0 updated" in first.output
    assert "0 entries added, 0 updated" in runner.invoke(args=["directory", "import"]).output
    broken = tmp_path / "broken.yaml"
    broken.write_text("organisations:\n  - slug: x\n    name: X\n")
    failed = runner.invoke(args=["directory", "import", str(broken)])
    assert failed.exit_code == 1 and "skipped entry 1 (x)" in failed.output


# --- Routes ----------------------------------------------------------------------------------------------------

def test_an_exchange_that_takes_victims_requests_gets_a_courtesy_freeze_and_its_police_report_deadline(app,
                                                                                                       directory):
    route = directory_service.route_for(entry("harbour-exchange"))
    assert route.kind is ReferralKind.EXCHANGE_FREEZE and route.can_act and route.requester is Requester.VICTIM
    assert route.police_report_due == timedelta(days=7) and route.channel == "freeze@harbour.example"
    assert route.follow_up == timedelta(days=2)


def test_a_police_only_exchange_gets_the_police_package_first_and_no_courtesy_deadline(app, directory):
    route = directory_service.route_for(entry("binance"))
    assert route.kind is ReferralKind.POLICE and route.can_act and route.police_report_due is None
    # A hold length on an exchange only the police may ask sets off no deadline for the victim.
    entry("binance").courtesy_hold_days = 7
    assert directory_service.route_for(entry("binance")).police_report_due is None


def test_issuers_are_asked_by_their_requester(app, directory):
    usdt, usdc = directory_service.route_for(entry("tether")), directory_service.route_for(entry("circle"))
    assert usdt.kind is ReferralKind.POLICE and usdt.requester is Requester.POLICE and usdt.can_act
    assert usdc.kind is ReferralKind.LAWYER and usdc.requester is Requester.COURT_ORDER and usdc.can_act
    entry("tether").requester = Requester.VICTIM
    assert directory_service.route_for(entry("tether")).kind is ReferralKind.STABLECOIN_ISSUER


@pytest.mark.parametrize("slug", ["imtoken", "metamask", "trust-wallet", "tokenpocket"])
def test_a_wallet_maker_cannot_act(app, directory, slug):
    route = directory_service.route_for(entry(slug))
    assert route.can_act is False and route.requester is Requester.NOBODY and route.channel is None


def test_an_inactive_entry_cannot_act_and_is_not_found_by_name(app, directory, make_user):
    directory_service.set_active(make_user(Role.ADMIN), "harbour-exchange", False)
    assert directory_service.route_for(entry("harbour-exchange")).can_act is False
    assert directory_service.organisation_for_name("Harbour Exchange") is None


# --- Names -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, slug", [
    ("Harbour Exchange", "harbour-exchange"), ("  harbour   EXCHANGE ", "harbour-exchange"),
    ("Harbour Exchange: Deposit", "harbour-exchange"), ("harbour-exchange", "harbour-exchange"),
    ("Huobi", "htx"), ("币安", "binance"), ("Binance: Hot Wallet 14", "binance"), ("USDT", "tether"),
    ("imtoken", "imtoken"),
])
def test_names_match_by_name_slug_or_alias_ignoring_case_and_a_labels_suffix(app, directory, name, slug):
    assert directory_service.organisation_for_name(name).slug == slug


@pytest.mark.parametrize("name", [None, "", "Nowhere Exchange", "Deposit"])
def test_a_name_the_directory_lacks_finds_nothing(app, directory, name):
    assert directory_service.organisation_for_name(name) is None


def test_many_names_are_looked_up_in_one_query(app, directory):
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        found = directory_service.entry_slugs(["Harbour Exchange", "OKX: Deposit 3", "Gate.io", "Nowhere", None])
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert found == {"Harbour Exchange": "harbour-exchange", "OKX: Deposit 3": "okx", "Gate.io": "gate"}
    assert len(statements) == 1


# --- Agencies --------------------------------------------------------------------------------------------------

def test_agencies_for_a_country_are_its_police_consumer_bodies_and_regulators_police_first(app, directory):
    china = directory_service.agencies_for("cn")
    kinds = [org.kind.value for org in china]
    assert kinds == sorted(kinds, key=["police", "consumer_agency", "regulator"].index)
    assert {"cn-cyberpolice", "cn-anti-fraud-centre", "cn-consumer-association"} <= {org.slug for org in china}
    assert {org.slug for org in directory_service.agencies_for("GB")} == {"gb-report-fraud", "gb-fca"}
    assert {org.slug for org in directory_service.agencies_for("US")} == {"us-ic3", "us-ftc"}
    assert directory_service.agencies_for(None) == [] and directory_service.agencies_for("XX") == []
    assert directory_service.agencies_for("not a country") == []


def test_an_inactive_agency_is_left_out(app, directory, make_user):
    directory_service.set_active(make_user(Role.ADMIN), "us-ftc", False)
    assert [org.slug for org in directory_service.agencies_for("US")] == ["us-ic3"]


# --- The victim's checklist ------------------------------------------------------------------------------------

def _checklist(country, wallet, *, language="en", reported=False):
    with force_locale(language):
        actions = checklist.act_now(IncidentType.APPROVAL_PHISHING, country, wallet, reported_to_police=reported)
        return {action.key: action for action in actions}, checklist.as_text(actions)


def test_the_checklist_tells_the_victim_where_to_report_and_that_the_wallet_maker_cannot_freeze(app, directory):
    actions, text = _checklist("HK", "imToken")
    agencies = actions["agencies"].agencies
    assert [a.name for a in agencies][0].startswith("Hong Kong Police Anti-Deception")
    assert agencies[0].how == "call 18222" and agencies[0].note == ""  # checked at the ADCC's own page
    assert "how to reach it is not confirmed yet" in text  # the Consumer Council's channel
    assert actions["wallet_maker"].title == "imToken cannot freeze or return your funds"
    assert "scammer" in actions["wallet_maker"].text and "recovery phrase" in actions["wallet_maker"].text
    assert text.index("imToken cannot freeze") < text.index("Beware of anyone offering")


def test_the_checklist_in_chinese(app, directory):
    actions, text = _checklist("CN", "imToken", language="zh_Hans_CN")
    assert actions["agencies"].title == "向您所在国家或地区的这些机构报告"
    assert "http://www.cyberpolice.cn （未核实）" in text and "拨打 110 （未核实）" in text
    assert actions["wallet_maker"].title == "imToken 无法冻结或退回您的资金" and "骗子" in actions["wallet_maker"].text


def test_a_victim_who_reported_to_the_police_is_only_sent_to_the_other_agencies(app, directory):
    actions, text = _checklist("CN", "imToken", reported=True)
    assert [a.name for a in actions["agencies"].agencies] == ["中国消费者协会 (China Consumers Association)",
                                                              "全国12315平台 (market regulator's consumer complaints)"]
    assert "110" not in text


@pytest.mark.parametrize("wallet", ["SafePal", "Binance", None])
def test_no_wallet_warning_for_a_wallet_the_directory_does_not_know_as_a_maker(app, directory, wallet):
    actions, _ = _checklist("GB", wallet)
    assert "wallet_maker" not in actions and "agencies" in actions


def test_without_directory_entries_the_checklist_is_as_before(app):
    actions, _ = _checklist("GB", "imToken")
    assert "agencies" not in actions and "wallet_maker" not in actions and "police" in actions


def test_the_portal_shows_the_checklist(app, client, directory, make_case):
    case = make_case().case
    token, case.access_token_hash = new_access_token()
    db.session.commit()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert client.get(f"/track/{case.reference}/{token}").status_code == 302
    page = client.get(f"/track/{case.reference}").get_data(as_text=True)
    assert 'id="what-to-do"' in page and "imToken cannot freeze or return your funds" in page


# --- The staff pages -------------------------------------------------------------------------------------------

def _signed_in(app, role, make_user, login_as):
    limiter.reset()
    client = app.test_client()
    login_as(client, make_user(role))
    return client


@pytest.fixture
def login_as(client):
    from tests.fixtures.factories import PASSWORD

    def sign_in(other_client, user):
        token = csrf_token(other_client, "/staff/login")
        response = other_client.post("/staff/login", data={"email": user.email, "password": PASSWORD,
                                                           "csrf_token": token})
        assert response.status_code == 302

    return sign_in


def _post(client, url, data):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, "/staff/admin/organisations")})


def test_staff_search_the_list_by_name_kind_and_country(app, directory, make_user, login_as):
    legal = _signed_in(app, Role.LEGAL, make_user, login_as)
    page = legal.get("/staff/admin/organisations?q=huobi").get_data(as_text=True)
    assert ">HTX</a>" in page and "Binance" not in page
    police_cn = legal.get("/staff/admin/organisations?kind=police&country=cn").get_data(as_text=True)
    assert "cn-police-110" in police_cn and "cn-consumer-association" not in police_cn and "hk-adcc" not in police_cn
    assert "Add an entry" not in police_cn


def test_a_handler_reads_an_entry_with_its_facts_but_cannot_edit_it(app, directory, make_user, login_as):
    handler = _signed_in(app, Role.HANDLER, make_user, login_as)
    page = handler.get("/staff/admin/organisations/binance").get_data(as_text=True)
    assert "https://www.binance.com/en/support/law-enforcement/guidelines" in page and "2026-12-02" in page
    assert "not verified" in page and "/edit" not in page
    assert handler.get("/staff/admin/organisations/new").status_code == 403
    assert handler.get("/staff/admin/organisations/binance/edit").status_code == 403
    assert _post(handler, "/staff/admin/organisations", NEW_ENTRY).status_code == 403
    assert _post(handler, "/staff/admin/organisations/binance", {**NEW_ENTRY, "name": "Mine"}).status_code == 403
    assert _post(handler, "/staff/admin/organisations/binance/active", {"active": "0"}).status_code == 403
    assert entry("binance").name == "Binance" and entry("binance").active and entry("river-exchange") is None
    with pytest.raises(AccessDenied):
        directory_service.update_organisation(make_user(Role.SUPERVISOR), "binance", directory_form_values("binance"))
    assert handler.get("/staff/admin/organisations/no-such-entry").status_code == 404


def test_an_admin_adds_an_entry_with_its_facts(app, make_user, login_as):
    admin = _signed_in(app, Role.ADMIN, make_user, login_as)
    assert admin.get("/staff/admin/organisations/new").status_code == 200
    response = _post(admin, "/staff/admin/organisations", NEW_ENTRY)
    assert response.status_code == 302 and response.headers["Location"].endswith("/river-exchange")
    river = entry("river-exchange")
    assert river.aliases == ["River", "River Ex"] and river.courtesy_hold_days == 5 and river.updated_by_id
    assert river.facts == [{"field": "channel", "text": "Their desk address.",
                            "source": "https://river.example/freeze", "checked_on": "2026-12-01"}]
    assert directory_service.route_for(river).police_report_due == timedelta(days=5)
    again = _post(admin, "/staff/admin/organisations", NEW_ENTRY)
    assert again.status_code == 422 and "already uses the short name river-exchange" in again.get_data(as_text=True)


@pytest.mark.parametrize("change, message", [
    ({"channel": "desk at river"}, "Give the channel as an e-mail address"),
    ({"facts-0-source": "the desk told me"}, "web address where it is stated"),
    ({"facts-0-checked_on": "yesterday"}, "YYYY-MM-DD"),
    ({"courtesy_hold_days": "a week"}, "whole number of days"),
    ({"courtesy_hold_days": "400"}, "between 1 and 90 days"),
    ({"name": ""}, "Name is required"),
    ({"notes": "abandon ability able about above absent absorb abstract absurd abuse access accident"},
     "recovery phrase"),
])
def test_bad_input_gets_a_clear_message_and_loses_nothing(app, make_user, login_as, change, message):
    admin = _signed_in(app, Role.ADMIN, make_user, login_as)
    response = _post(admin, "/staff/admin/organisations", {**NEW_ENTRY, **change})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and message in page, page
    assert "River Ex" in page and "Their desk address." in page  # what was typed is shown again
    assert entry("river-exchange") is None


def test_an_admin_edits_every_field_and_the_facts(app, directory, make_user, login_as):
    admin = _signed_in(app, Role.ADMIN, make_user, login_as)
    form = admin.get("/staff/admin/organisations/kucoin/edit").get_data(as_text=True)
    assert 'name="facts-1-text"' in form and 'name="facts-3-text"' in form  # two facts and two blank rows
    values = {**NEW_ENTRY, "name": "KuCoin", "requester": "police", "channel_kind": "portal",
              "channel": "https://www.kucoin.com/law", "country": "sc", "can_freeze": "y",
              "facts-1-field": "requester", "facts-1-text": "Police only.", "facts-1-source": "not verified"}
    assert _post(admin, "/staff/admin/organisations/kucoin", values).status_code == 302
    kucoin = entry("kucoin")
    assert (kucoin.channel, kucoin.country, kucoin.can_freeze, kucoin.slug) == (
        "https://www.kucoin.com/law", "SC", True, "kucoin")
    assert [f["source"] for f in kucoin.facts] == ["https://river.example/freeze", "not verified"]
    assert directory_service.import_file(directory_service.SHIPPED_FILE).kept == ["kucoin"]


def test_an_entry_is_deactivated_never_deleted(app, directory, make_user, login_as):
    admin = _signed_in(app, Role.ADMIN, make_user, login_as)
    assert _post(admin, "/staff/admin/organisations/okx/active", {"active": "0"}).status_code == 302
    assert entry("okx").active is False
    page = admin.get("/staff/admin/organisations/okx").get_data(as_text=True)
    assert "This entry is deactivated" in page
    assert not any("DELETE" in rule.methods for rule in app.url_map.iter_rules() if rule.endpoint.startswith(
        "directory."))
    assert _post(admin, "/staff/admin/organisations/okx/active", {"active": "1"}).status_code == 302
    assert entry("okx").active is True


def test_what_an_admin_typed_is_escaped(app, make_user, login_as):
    admin = _signed_in(app, Role.ADMIN, make_user, login_as)
    _post(admin, "/staff/admin/organisations", {**NEW_ENTRY, "name": "<script>alert(1)</script>",
                                                "notes": '<img src=x onerror="alert(1)">'})
    page = admin.get("/staff/admin/organisations/river-exchange").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page and "<img src=x" not in page
    listing = admin.get("/staff/admin/organisations").get_data(as_text=True)
    assert "<script>alert(1)" not in listing


def test_the_services_refuse_what_the_forms_would(app, make_user):
    admin = make_user(Role.ADMIN)
    with pytest.raises(DirectoryError, match="short name"):
        directory_service.create_organisation(admin, "Not A Slug!", {"name": "X", "kind": "exchange",
                                                             "requester": "police"})
    with pytest.raises(DirectoryError, match="Leave the channel empty"):
        directory_service.checked_channel(directory_service.ChannelKind.NONE, "anything")


# --- Links from labels and the trace ---------------------------------------------------------------------------

def test_a_label_whose_name_the_directory_knows_links_to_its_entry(app, directory, make_user, login_as):
    label_service.upsert([
        evidence_labels.AddressLabel(1, "0x" + "a1" * 20, "Harbour Exchange: Hot wallet", "exchange_hot_wallet",
                                     "test", 1.0),
        evidence_labels.AddressLabel(1, "0x" + "b2" * 20, "Nowhere Exchange: Deposit", "exchange_deposit",
                                     "test", 1.0)])
    db.session.commit()
    handler = _signed_in(app, Role.HANDLER, make_user, login_as)
    page = handler.get("/staff/labels").get_data(as_text=True)
    assert re.search(r'<a href="/staff/admin/organisations/harbour-exchange"[^>]*>Harbour Exchange: Hot wallet</a>',
                     page)
    assert "<td>Nowhere Exchange: Deposit</td>" in page


def test_the_trace_exchanges_and_freeze_requests_link_to_their_entries(app, directory, make_case, make_user,
                                                                       login_as):
    from casework.models import Referral, ReferralStatus

    case = make_case().case
    nodes = [{"address": "0x" + "c3" * 20, "label": None, "category": None, "label_source": None,
              "is_endpoint": True, "role": "exchange_deposit", "hop": 1, "exchange": name, "truncated": False}
             for name in ("Harbour Exchange", "Nowhere Exchange")]
    db.session.add(TraceRun(case_id=case.id, chain_id=1, graph={**EMPTY_GRAPH, "nodes": nodes}))
    db.session.add(Referral(case_id=case.id, kind=ReferralKind.EXCHANGE_FREEZE, status=ReferralStatus.PROPOSED,
                            target_name="Harbour Exchange", target_address="0x" + "c3" * 20, chain_id=1))
    db.session.commit()
    handler = _signed_in(app, Role.HANDLER, make_user, login_as)
    page = handler.get(f"/staff/cases/{case.reference}").get_data(as_text=True)
    assert page.count('href="/staff/admin/organisations/harbour-exchange"') == 2
    assert "Nowhere Exchange <span class=\"muted\">(not in the directory)</span>" in page


def test_the_demo_set_up_loads_the_directory_with_the_devnet_exchange(app):
    from casework.services import demo

    assert demo.load_directory() == len(shipped_entries())
    assert directory_service.organisation_for_name("Harbour Exchange").slug == "harbour-exchange"
    assert demo.load_directory() == 0
