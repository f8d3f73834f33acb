"""The staff queue (/staff/cases): each filter and their combinations, the search over every kind of fact (a Chinese
name, an address or hash by its beginning in either case, the scammer's phone and website), the orders, the pages,
the CSV export, bad query values and who may see it; on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import timedelta

import pytest
from sqlalchemy import text
from werkzeug.datastructures import MultiDict

from casework.extensions import db
from casework.models import AddressRole, Case, CaseStatus, IncidentType, Priority, Resolution, Role, User, utcnow
from casework.services import filing, portal, queue, search_index
from casework.services.access import AccessDenied
from casework.services.queue import QueueQuery
from casework.services.workflow import WorkflowError
from tests.fixtures.factories import csrf_token

_numbers = itertools.count(1)
DRAINER = "0xAbC1d2e3F4A5B6C7D8e9F0A1b2c3D4e5f6A7b8c9"  # EIP-55 checksummed, as the portal stores it
HASH = "0x" + "9f" * 2 + "c0ffee" + "1" * 54


def _address(number: int) -> str:
    return "0x" + f"{number:040x}"


def _file(*, name: str = "Li Wei", email: str | None = None, phone: str | None = None, addresses: tuple = (),
          hashes: tuple = (), contacts: dict | None = None, incident: IncidentType = IncidentType.APPROVAL_PHISHING,
          chains: tuple = (1,), priority: Priority | None = None, status: CaseStatus | None = None,
          handler=None, submitted_days_ago: float = 0) -> Case:
    """File a case through the intake service, then set what the test needs (priority, status, handler, age)."""
    n = next(_numbers)
    report = filing.NewReport(
        incident_type=incident,
        reporter=filing.ReporterInput(name=name, email=email or f"victim{n}@example.org", phone=phone),
        summary="Funds were taken.", chain_ids=chains,
        losses=(filing.LossInput(chain_id=chains[0] if chains else 1, asset_symbol="USDT", amount_raw=n * 10**6,
                                 decimals=6),),
        addresses=tuple(filing.AddressInput(chain_id=1, address=a, role=AddressRole.ATTACKER)
                        for a in addresses or (_address(n),)),
        transactions=tuple(filing.TransactionInput(chain_id=1, tx_hash=h) for h in hashes),
        scammer_contacts={kind: tuple(values) for kind, values in (contacts or {}).items()},
    )
    case = filing.file_case(report, now=utcnow() - timedelta(days=submitted_days_ago)).case
    if priority is not None:
        case.priority = priority
    if status is CaseStatus.CLOSED:
        case.status, case.resolution = status, Resolution.UNRECOVERABLE
    elif status is not None:
        case.status = status
    if handler is not None:
        case.assigned_handler_id = handler.id
    db.session.commit()
    return case


def _refs(user, **args) -> list[str]:
    return [line.reference for line in queue.find_cases(user, queue.parse_query(args, user=user)).lines]


@pytest.fixture
def handler(make_user):
    return make_user(Role.HANDLER)


# The default list and the filters


def test_the_default_queue_is_the_open_cases_most_urgent_first_then_oldest(handler):
    normal_old = _file(priority=Priority.NORMAL, submitted_days_ago=3)
    critical = _file(priority=Priority.CRITICAL, submitted_days_ago=1)
    normal_new = _file(priority=Priority.NORMAL, submitted_days_ago=1)
    low = _file(priority=Priority.LOW, submitted_days_ago=9)
    high = _file(priority=Priority.HIGH)
    _file(priority=Priority.CRITICAL, status=CaseStatus.CLOSED)
    assert _refs(handler) == [c.reference for c in (critical, high, normal_old, normal_new, low)]


def test_a_merged_duplicate_is_hidden_unless_closed_cases_are_asked_for(handler):
    target = _file()
    duplicate = _file(status=CaseStatus.CLOSED)
    duplicate.merged_into_id = target.id
    db.session.commit()
    assert _refs(handler) == [target.reference]
    assert _refs(handler, status="closed") == [duplicate.reference]


def test_status_filter_takes_several_statuses_repeated_or_with_commas(handler):
    triage = _file(status=CaseStatus.TRIAGE)
    waiting = _file(status=CaseStatus.AWAITING_VICTIM)
    _file(status=CaseStatus.INVESTIGATING)
    closed = _file(status=CaseStatus.CLOSED)
    assert set(_refs(handler, status="triage,awaiting_victim")) == {triage.reference, waiting.reference}
    args = MultiDict([("status", "triage"), ("status", "closed")])
    found = queue.find_cases(handler, queue.parse_query(args, user=handler)).lines
    assert {line.reference for line in found} == {triage.reference, closed.reference}


def test_priority_incident_and_chain_filters(handler):
    high_phish = _file(priority=Priority.HIGH)
    high_swap = _file(priority=Priority.HIGH, incident=IncidentType.SIM_SWAP, chains=(1, 56))
    _file(priority=Priority.LOW, incident=IncidentType.SIM_SWAP)
    assert _refs(handler, priority="high") == [high_phish.reference, high_swap.reference]
    assert _refs(handler, priority="high", incident="sim_swap") == [high_swap.reference]
    assert _refs(handler, chain="56") == [high_swap.reference]


def test_handler_unassigned_and_my_cases(make_user, handler):
    other = make_user(Role.SUPERVISOR)
    mine = _file(handler=handler)
    theirs = _file(handler=other)
    nobody = _file()
    assert _refs(handler, mine="1") == [mine.reference]
    assert _refs(handler, handler=str(other.id)) == [theirs.reference]
    assert _refs(handler, unassigned="1") == [nobody.reference]
    assert _refs(other, mine="1") == [theirs.reference]


def test_created_range_counts_whole_days(handler):
    today = _file()
    week_ago = _file(submitted_days_ago=7)
    _file(submitted_days_ago=30)
    day = (utcnow() - timedelta(days=7)).date()
    assert _refs(handler, **{"from": day.isoformat(), "to": day.isoformat()}) == [week_ago.reference]
    assert _refs(handler, **{"from": day.isoformat()}) == [week_ago.reference, today.reference]
    assert _refs(handler, **{"from": day.isoformat(), "sort": "newest"}) == [today.reference, week_ago.reference]


def test_filters_combine_with_search(make_user, handler):
    wanted = _file(name="张伟", priority=Priority.HIGH, handler=handler)
    _file(name="张伟", priority=Priority.LOW, handler=handler)
    _file(name="张伟", priority=Priority.HIGH)
    _file(name="Li Wei", priority=Priority.HIGH, handler=handler)
    assert _refs(handler, q="张伟", priority="high", mine="1") == [wanted.reference]


# The search


@pytest.mark.parametrize("typed", ["张伟", "张", "伟", " 张伟 "])
def test_a_chinese_name_is_found_by_its_characters(handler, typed):
    zhang_wei = _file(name="张伟")
    _file(name="王芳")
    assert _refs(handler, q=typed) == [zhang_wei.reference]


def test_a_chinese_name_does_not_match_the_same_characters_apart(handler):
    _file(name="伟张")
    zhang_san = _file(name="张三")
    assert _refs(handler, q="张伟") == []
    assert _refs(handler, q="张三") == [zhang_san.reference]


@pytest.mark.parametrize("typed", ["0xabc1", "0xABC1D2", DRAINER, DRAINER.lower(), DRAINER.upper()[2:], "0xabc1..."])
def test_an_address_is_found_by_its_beginning_in_any_case(handler, typed):
    case = _file(addresses=(DRAINER,))
    _file(addresses=(_address(77),))
    assert _refs(handler, q=typed) == [case.reference]


@pytest.mark.parametrize("typed", [HASH, HASH.upper().replace("0X", "0x"), HASH[:12], HASH[:12].upper()])
def test_a_transaction_hash_is_found_in_upper_or_lower_case(handler, typed):
    case = _file(hashes=(HASH,))
    _file(hashes=("0x" + "ab" * 32,))
    assert _refs(handler, q=typed) == [case.reference]


def test_reporter_name_and_email_are_found(handler):
    anna = _file(name="Anna Schmidt", email="anna.schmidt@mail.example")
    _file(name="Bob Stone", email="bob@other.example")
    assert _refs(handler, q="schmidt") == [anna.reference]
    assert _refs(handler, q="Anna Schm") == [anna.reference]
    assert _refs(handler, q="anna.schmidt@mail.example") == [anna.reference]
    assert _refs(handler, q="mail.example") == [anna.reference]


@pytest.mark.parametrize("typed", ["+86 138 0013 8000", "13800138000", "138-0013-8000", "+8613800138000"])
def test_a_scammer_phone_is_found_however_it_is_typed(handler, typed):
    case = _file(contacts={"phones": ["+86 138 0013 8000"]})
    _file(contacts={"phones": ["+1 415 555 0100"]})
    assert _refs(handler, q=typed) == [case.reference]


def test_scammer_website_email_social_and_app_are_found(handler):
    case = _file(contacts={"websites": ["https://airdrop-claim.example/connect"], "emails": ["support@fake.example"],
                           "social": ["@crypto_helper_88"], "apps": ["SafeMoonX"]})
    _file(contacts={"websites": ["https://honest.example"]})
    for typed in ("airdrop-claim.example", "airdrop-claim", "support@fake.example", "crypto_helper_88", "safemoonx"):
        assert _refs(handler, q=typed) == [case.reference], typed


def test_a_case_is_found_by_its_reference_or_its_beginning(handler):
    first, second = _file(), _file()
    assert _refs(handler, q=first.reference) == [first.reference]
    assert _refs(handler, q=first.reference.lower()) == [first.reference]
    assert set(_refs(handler, q=first.reference[:8])) == {first.reference, second.reference}


def test_every_word_of_a_search_must_match(handler):
    anna = _file(name="Anna Schmidt", addresses=(DRAINER,))
    _file(name="Anna Berg")
    assert _refs(handler, q="anna 0xabc1") == [anna.reference]


def test_an_address_the_victim_adds_later_is_found(handler):
    case = _file()
    portal.add_address(case, 1, DRAINER, AddressRole.ATTACKER)
    db.session.commit()
    assert _refs(handler, q="0xabc1d2") == [case.reference]


def test_search_text_is_not_sql_or_a_pattern(handler):
    li_wei = _file(name="Li Wei")
    for typed in ("' OR 1=1 --", "a & b | !c", "wei:*", "li%wei", "l_ wei"):
        assert _refs(handler, q=typed) in ([], [li_wei.reference]), typed
    assert _refs(handler, q="' OR 1=1 --") == []
    assert _refs(handler, q="%li%") == _refs(handler, q="li") == [li_wei.reference]
    for typed in ("%", "_", "!!"):
        with pytest.raises(WorkflowError):
            queue.parse_query({"q": typed}, user=handler)


# Orders and pages


def test_sort_orders(handler):
    old = _file(priority=Priority.LOW, submitted_days_ago=5)
    new = _file(priority=Priority.NORMAL, submitted_days_ago=1)
    middle = _file(priority=Priority.CRITICAL, submitted_days_ago=3)
    db.session.get(Case, old.id).summary = "touched"
    db.session.commit()
    assert _refs(handler) == [middle.reference, new.reference, old.reference]
    assert _refs(handler, sort="newest") == [new.reference, middle.reference, old.reference]
    assert _refs(handler, sort="oldest") == [old.reference, middle.reference, new.reference]
    assert _refs(handler, sort="updated")[0] == old.reference


def test_pages_hold_per_page_cases_and_say_whether_there_is_a_next(handler):
    cases = [_file(submitted_days_ago=10 - i) for i in range(5)]
    refs = [c.reference for c in cases]
    pages = [queue.find_cases(handler, QueueQuery(sort="oldest", page=n, per_page=2)) for n in (1, 2, 3, 4)]
    assert [[line.reference for line in p.lines] for p in pages] == [refs[0:2], refs[2:4], refs[4:5], []]
    assert [p.has_next for p in pages] == [True, True, False, False]
    assert (pages[1].first, pages[1].last, pages[1].total, pages[1].total_capped) == (3, 4, 5, False)
    exact = queue.find_cases(handler, QueueQuery(per_page=5))
    assert (exact.has_next, len(exact.lines)) == (False, 5)


def test_the_total_is_counted_only_up_to_a_cap(handler, monkeypatch):
    for _ in range(4):
        _file()
    monkeypatch.setattr(queue, "TOTAL_CAP", 3)
    page = queue.find_cases(handler, QueueQuery(per_page=2))
    assert (page.total, page.total_capped, page.has_next) == (3, True, True)


def test_the_page_keeps_the_filters_in_its_links(client, login, handler):
    for _ in range(3):
        _file(name="张伟", priority=Priority.HIGH)
    login(handler)
    response = client.get("/staff/cases?q=%E5%BC%A0%E4%BC%9F&priority=high&status=triage&status=submitted&per_page=1")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "page=2" in body and "priority=high" in body and "status=triage&amp;status=submitted" in body
    assert "q=%E5%BC%A0%E4%BC%9F" in body
    csv_link = body.split('href="/staff/cases.csv?', 1)[1].split('"', 1)[0]
    assert "priority=high" in csv_link and "&amp;page=" not in csv_link and not csv_link.startswith("page=")


def test_the_filters_beyond_search_stay_folded_until_one_is_in_use(client, login, handler):
    """On a phone the filter form would fill the screen: the filters beyond search and order are folded, and open
    (saying how many are in use) while one narrows the list; a search alone leaves them folded."""
    _file(name="Li Wei")
    login(handler)
    for url in ("/staff/cases", "/staff/cases?q=Li&sort=newest",
                "/staff/cases?q=&priority=&incident=&chain=&handler=&from=&to=&sort=urgency"):
        body = client.get(url).get_data(as_text=True)
        assert '<details class="queue-more">' in body, url
        assert "in use)" not in body
    body = client.get("/staff/cases?priority=high&unassigned=1&chain=").get_data(as_text=True)
    assert '<details class="queue-more" open>' in body
    assert "More filters (2 in use)" in body


def test_an_empty_result_says_so_and_offers_to_clear_the_filters(client, login, handler):
    _file(name="Li Wei")
    login(handler)
    body = client.get("/staff/cases?q=nobody-like-this").get_data(as_text=True)
    assert "No case matches these filters." in body
    assert 'href="/staff/cases">Clear the filters and show every open case' in body


def test_the_page_shows_the_list_as_plain_escaped_values(client, login, handler):
    case = _file(name="<script>alert(1)</script>", contacts={"websites": ["https://x.example"]})
    handler.display_name = "<b>Hand</b>"
    db.session.get(Case, case.id).assigned_handler_id = handler.id
    db.session.commit()
    login(handler)
    body = client.get("/staff/cases?q=script").get_data(as_text=True)
    assert case.reference in body and "&lt;b&gt;Hand&lt;/b&gt;" in body and "<b>Hand</b>" not in body


# CSV


def _csv(client, query: str = "") -> tuple[int, str, list[list[str]]]:
    response = client.get("/staff/cases.csv" + query)
    raw = response.get_data()
    text = raw.decode("utf-8")
    return response.status_code, text, list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_the_csv_has_every_matching_case_not_one_page_with_a_bom(client, login, handler):
    for n in range(3):
        _file(name=f"张伟{n}")
    _file(name="Other Person")
    login(handler)
    status, text, rows = _csv(client, "?q=%E5%BC%A0%E4%BC%9F&per_page=1&page=1")
    assert status == 200 and text.startswith("\ufeff")
    assert rows[0][:3] == ["Reference", "Status", "Priority"]
    assert len(rows) == 4
    assert all(row[1] == "Submitted" for row in rows[1:])


def test_csv_cells_that_would_run_as_formulas_are_neutralised(client, login, handler):
    handler.display_name = "=HYPERLINK(\"http://evil.example\")"
    db.session.commit()
    _file(handler=handler)
    login(handler)
    _status, _text, rows = _csv(client)
    assert rows[1][7] == "'=HYPERLINK(\"http://evil.example\")"
    assert [queue.neutralise(v) for v in ("+1", "-1", "@x", "\tx", "ok")] == ["'+1", "'-1", "'@x", "'\tx", "ok"]


def test_the_csv_is_in_the_readers_language(client, login, handler):
    _file(name="张伟")
    login(handler)
    token = csrf_token(client, "/staff/cases")
    client.post("/language", data={"lang": "zh_Hans_CN", "next": "/staff/cases", "csrf_token": token})
    _status, _text, rows = _csv(client)
    assert rows[0][0] == "案件编号" and rows[1][1] == "已提交"


# Bad values, access


@pytest.mark.parametrize("query", [
    "status=lost", "priority=urgent", "incident=robbery", "chain=abc", "chain=999999", "handler=me", "page=0",
    "page=-1", "page=99999999999", "page=abc", "per_page=0", "per_page=201", "from=2026-13-01", "to=yesterday",
    "from=2026-05-02&to=2026-05-01", "sort=random", "unassigned=1&handler=3", "mine=1&unassigned=1",
    "q=" + "x" * 201, "q=%21%21%21", "page=%EF%BC%92",
])
def test_bad_query_values_get_a_message_and_a_400_never_a_500(client, login, handler, query):
    _file()
    login(handler)
    page = client.get("/staff/cases?" + query)
    assert page.status_code == 400
    assert 'class="flash flash-error" role="alert"' in page.get_data(as_text=True)
    listing = client.get("/staff/cases.csv?" + query)
    assert listing.status_code == 400 and listing.mimetype == "text/html"


def test_parse_query_messages_say_what_to_give(handler):
    with pytest.raises(WorkflowError, match="Choose one from the list"):
        queue.parse_query({"status": "lost"}, user=handler)
    with pytest.raises(WorkflowError, match="pages go from 1"):
        queue.parse_query({"page": "0"}, user=handler)
    assert queue.parse_query({}, user=handler) == QueueQuery()


def test_an_unknown_handler_finds_nothing_and_a_huge_one_is_refused(client, login, handler):
    _file(handler=handler)
    login(handler)
    for handler_id in ("424242", str(2**31 - 1)):
        response = client.get(f"/staff/cases?handler={handler_id}")
        assert response.status_code == 200 and "No case matches these filters." in response.get_data(as_text=True)
    for query in (f"handler={2**31}", "handler=999999999999999999", f"chain={2**63}"):
        response = client.get(f"/staff/cases?{query}")
        assert response.status_code == 400 and "is too large" in response.get_data(as_text=True)


def test_a_query_survives_its_own_links(make_user, handler):
    other = make_user(Role.SUPERVISOR)
    args = MultiDict([("status", "triage"), ("status", "closed"), ("priority", "high"), ("incident", "sim_swap"),
                      ("chain", "1"), ("handler", str(other.id)), ("from", "2026-01-01"), ("to", "2026-02-01"),
                      ("q", "张伟 0xabc"), ("sort", "oldest"), ("page", "3"), ("per_page", "20")])
    query = queue.parse_query(args, user=handler)
    again = queue.parse_query(MultiDict([(k, v) for k, values in query.args().items()
                                         for v in (values if isinstance(values, list) else [values])]), user=handler)
    assert again == query
    mine = queue.parse_query({"mine": "1"}, user=handler)
    assert mine.args() == {"mine": "1"} and mine.handler_id == handler.id


def test_a_legal_user_can_view_the_queue_and_its_csv(client, login, make_user):
    case = _file()
    legal = make_user(Role.LEGAL)
    login(legal)
    page = client.get("/staff/cases")
    assert page.status_code == 200 and case.reference in page.get_data(as_text=True)
    assert ">My cases<" not in page.get_data(as_text=True)
    assert client.get("/staff/cases.csv").status_code == 200


def test_handlers_see_a_my_cases_link(client, login, handler):
    login(handler)
    assert 'href="/staff/cases?mine=1">My cases<' in client.get("/staff/cases").get_data(as_text=True)
    assert client.get("/staff/cases?mine=1").status_code == 200


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for url in ("/staff/cases", "/staff/cases.csv", "/staff/cases?mine=1"):
        response = client.get(url)
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_find_cases_and_export_refuse_a_deactivated_user(handler):
    handler.active = False
    db.session.commit()
    with pytest.raises(AccessDenied):
        queue.find_cases(handler, QueueQuery())
    with pytest.raises(AccessDenied):
        queue.export_csv(handler, QueueQuery())


def test_the_search_document_holds_the_facts_normalised(handler):
    case = _file(name="Zhao Lei 赵磊", addresses=(DRAINER,), contacts={"phones": ["+44 20 7946 0958"]})
    document = search_index.document_from_rows(db.session.connection(), case.id)
    assert document.startswith("zhao lei 赵 磊 ")
    assert DRAINER.lower() in document and "442079460958" in document and "2079460958" in document
    key = {"sqlite": text("SELECT document FROM case_search WHERE rowid = :id"),
           "postgresql": text("SELECT document FROM case_search WHERE case_id = :id")}[db.engine.dialect.name]
    stored = db.session.execute(key, {"id": case.id}).scalar_one()
    assert stored == document


def test_the_migration_indexes_the_cases_that_exist_and_goes_back_down(app, handler):
    from flask_migrate import downgrade, upgrade

    reference = _file(name="Existing Person", contacts={"websites": ["https://old-scam.example"]}).reference
    handler_id = handler.id
    db.session.remove()
    downgrade(revision="d4e6f8a0b2c4")
    assert "case_search" not in db.inspect(db.engine).get_table_names()
    upgrade()
    handler = db.session.get(User, handler_id)
    assert _refs(handler, q="existing person") == [reference]
    assert _refs(handler, q="old-scam.example") == [reference]
