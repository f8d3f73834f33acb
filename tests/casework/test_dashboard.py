"""The staff dashboard: each figure computed from cases filed through the intake, the page in English and Chinese,
the CSV downloads, and who may open them."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from casework.extensions import db
from casework.models import (
    CaseStatus,
    Priority,
    Recovery,
    RecoveryKind,
    Referral,
    ReferralKind,
    ReferralStatus,
    ReportedLoss,
    Resolution,
    Role,
    utcnow,
)
from casework.services import chains, dashboard
from casework.services.access import AccessDenied

USDT = "0xdAC17F958D2ee523a2206206994597C13D831ec7"
WBTC = "0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599"
SVG = "{http://www.w3.org/2000/svg}"


def add_loss(case, raw: int, decimals: int, symbol: str, token: str | None, chain_id: int = 1) -> None:
    db.session.add(ReportedLoss(case=case, chain_id=chain_id, asset_symbol=symbol, token_address=token,
                                amount_raw=raw, decimals=decimals))


def recovered_amount(referral: Referral, kind: RecoveryKind = RecoveryKind.FROZEN, raw: int | None = None) -> None:
    """What the referral's target froze (all that reached it, unless raw says less) or returned."""
    db.session.flush()
    db.session.add(Recovery(case_id=referral.case.id, referral=referral, kind=kind, chain_id=referral.chain_id,
                            token_address=referral.token_address, symbol=referral.symbol, decimals=referral.decimals,
                            amount_raw=referral.amount_raw if raw is None else raw))


def freeze_request(case, name: str, *, status=ReferralStatus.PROPOSED, raw: int | None = None, decimals: int = 6,
                   symbol: str = "USDT", token: str | None = USDT, address: str | None = None) -> Referral:
    referral = Referral(case=case, kind=ReferralKind.EXCHANGE_FREEZE, target_name=name, status=status, chain_id=1,
                        token_address=token, symbol=symbol, decimals=decimals, amount_raw=raw,
                        target_address=address or "0x" + f"{len(case.referrals) + 1:040x}")
    db.session.add(referral)
    return referral


@pytest.fixture
def handler(make_user):
    return make_user(Role.HANDLER)


def test_open_cases_are_counted_by_status_and_priority(app, make_case, handler):
    cases = [make_case().case for _ in range(4)]
    cases[0].priority, cases[1].priority = Priority.CRITICAL, Priority.CRITICAL
    cases[2].status, cases[2].priority = CaseStatus.INVESTIGATING, Priority.LOW
    cases[3].status, cases[3].resolution = CaseStatus.CLOSED, Resolution.UNRECOVERABLE
    db.session.commit()
    figure = dashboard.open_cases(handler)
    assert figure.count(CaseStatus.SUBMITTED, Priority.CRITICAL) == 2
    assert figure.count(CaseStatus.INVESTIGATING, Priority.LOW) == 1
    assert figure.total == 3  # the closed case is not open
    assert all(status is not CaseStatus.CLOSED for status, _ in figure.counts)


def test_new_cases_per_day_fill_days_without_cases_with_zero_in_utc(app, make_case, handler):
    today = utcnow().date()
    late = datetime.combine(today - timedelta(days=2), datetime.max.time(), tzinfo=UTC) - timedelta(minutes=1)
    moments = [late, late - timedelta(hours=3), late + timedelta(minutes=2),  # 23:59 and 20:59, then 00:01 next day
               datetime.combine(today - timedelta(days=40), datetime.min.time(), tzinfo=UTC)]
    for moment in moments:
        make_case().case.submitted_at = moment
    make_case()  # now
    db.session.commit()
    days = dashboard.new_cases_per_day(handler)
    assert len(days) == 30 and days[0].day == today - timedelta(days=29) and days[-1].day == today
    by_day = {line.day: line.cases for line in days}
    assert by_day[today - timedelta(days=2)] == 2
    assert by_day[today - timedelta(days=1)] == 1
    assert by_day[today] == 1
    assert sum(by_day.values()) == 4  # the case of 40 days ago is outside the window
    assert by_day[today - timedelta(days=10)] == 0


def test_new_cases_per_day_count_a_utc_day_whatever_the_victims_time_zone(app, make_case, handler):
    # 23:30 in Shanghai on the 2nd is 15:30 UTC on the 2nd; 07:30 in Shanghai on the 3rd is 23:30 UTC on the 2nd.
    day = utcnow().date() - timedelta(days=5)
    for hour in (15, 23):
        make_case().case.submitted_at = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(
            hours=hour, minutes=30)
    db.session.commit()
    by_day = {line.day: line.cases for line in dashboard.new_cases_per_day(handler)}
    assert by_day[day] == 2 and by_day[day + timedelta(days=1)] == 0


def test_losses_are_summed_exactly_per_asset_in_base_units(app, make_case, handler):
    first, second, merged, recovered = (make_case(loss_usdt=1_000).case for _ in range(4))
    huge = 2**200 + 1  # beyond any SQL integer and any float's precision
    add_loss(first, huge, 18, "SHIB", "0x95aD61b0a150d79219dCF64E1E6Cc01f0B64C4cE")
    add_loss(second, huge, 18, "SHIB", "0x95ad61b0a150d79219dcf64e1e6cc01f0b64c4ce")  # the same token, lower case
    add_loss(first, 150_000_000, 8, "WBTC", WBTC)  # 1.5 WBTC
    add_loss(second, 10**18 // 4, 18, "ETH", None)
    merged.merged_into_id = first.id
    recovered.status, recovered.resolution = CaseStatus.CLOSED, Resolution.RECOVERED
    # make_case reports 1,000 USDT (no token contract given) for each case: frozen amounts of that asset.
    recovered_amount(freeze_request(first, "Binance", status=ReferralStatus.FROZEN, raw=400 * 10**6, token=None))
    recovered_amount(freeze_request(second, "Binance", status=ReferralStatus.FROZEN, raw=5 * 10**6 + 1, token=None))
    freeze_request(second, "OKX", status=ReferralStatus.SENT, raw=999 * 10**6, token=None)  # not frozen
    # Frozen, but of another USDT contract; and part of it returned.
    okx = freeze_request(second, "OKX", status=ReferralStatus.FROZEN, raw=10**6)
    recovered_amount(okx)
    recovered_amount(okx, RecoveryKind.RETURNED, 10**5)
    # A frozen amount on the merged duplicate is left out, as its loss is.
    recovered_amount(freeze_request(merged, "Binance", status=ReferralStatus.FROZEN, raw=7, token=None))
    db.session.commit()

    lines = {line.asset.symbol: line for line in dashboard.losses_per_asset(handler) if line.cases}
    assert set(lines) == {"USDT", "SHIB", "WBTC", "ETH"}
    usdt = lines["USDT"]
    # The merged duplicate is left out.
    assert (usdt.cases, usdt.reported_raw, usdt.frozen_raw) == (3, 3_000 * 10**6, 405 * 10**6 + 1)
    assert usdt.closed_recovered == 1 and usdt.closed_partially_recovered == 0
    assert lines["SHIB"].reported_raw == 2 * huge and lines["SHIB"].cases == 2
    assert lines["WBTC"].asset.decimals == 8 and lines["WBTC"].reported_raw == 150_000_000
    assert lines["ETH"].asset.token_address is None and lines["ETH"].reported_raw == 10**18 // 4
    only_frozen = [line for line in dashboard.losses_per_asset(handler) if not line.cases]
    assert [(line.asset.token_address, line.reported_raw, line.frozen_raw, line.returned_raw)
            for line in only_frozen] == [(USDT.lower(), 0, 10**6, 10**5)]

    table = dashboard.figure_table(handler, "losses")
    rows = {row[0]: row for row in table.rows if row[3] != "0"}
    assert rows["USDT"][4:7] == ["3000", "405.000001", "0"]
    assert rows["WBTC"][4] == "1.5" and rows["ETH"][4] == "0.25"
    assert rows["SHIB"][4] == str(2 * huge)[:-18] + "." + str(2 * huge)[-18:]


def test_referrals_are_counted_by_kind_and_outcome(app, make_case, handler):
    case = make_case().case
    freeze_request(case, "Binance", status=ReferralStatus.FROZEN)
    freeze_request(case, "OKX", status=ReferralStatus.FROZEN)
    freeze_request(case, "Kraken", status=ReferralStatus.DECLINED)
    db.session.add(Referral(case=case, kind=ReferralKind.POLICE, target_name="Police", status=ReferralStatus.SENT))
    db.session.commit()
    figure = dashboard.referrals_by_outcome(handler)
    assert figure.count(ReferralKind.EXCHANGE_FREEZE, ReferralStatus.FROZEN) == 2
    assert figure.count(ReferralKind.EXCHANGE_FREEZE, ReferralStatus.DECLINED) == 1
    assert figure.count(ReferralKind.POLICE, ReferralStatus.SENT) == 1
    assert figure.count(ReferralKind.LAWYER, ReferralStatus.SENT) == 0


def test_top_exchanges_rank_by_cases_and_add_up_amounts_per_asset(app, make_case, handler):
    cases = [make_case().case for _ in range(3)]
    for case in cases:
        freeze_request(case, "Binance", raw=10**6)
    freeze_request(cases[0], "Binance", raw=2 * 10**6, status=ReferralStatus.FROZEN)  # a second deposit address
    freeze_request(cases[0], "Binance", raw=10**17, decimals=18, symbol="ETH", token=None)
    freeze_request(cases[0], "OKX", raw=None)
    freeze_request(cases[1], "OKX", raw=7)
    for number in range(12):
        freeze_request(cases[2], f"Exchange {number:02d}", raw=1)
    db.session.add(Referral(case=cases[0], kind=ReferralKind.POLICE, target_name="Binance"))  # not a freeze
    db.session.commit()

    lines = dashboard.top_exchanges(handler)
    assert len(lines) == 10
    binance, okx = lines[0], lines[1]
    assert (binance.name, binance.cases, binance.referrals, binance.frozen) == ("Binance", 3, 5, 1)
    assert {(item.asset.symbol, item.amount_raw) for item in binance.amounts} == {("USDT", 5 * 10**6),
                                                                               ("ETH", 10**17)}
    assert (okx.name, okx.cases, okx.referrals) == ("OKX", 2, 2)
    assert [(item.asset.symbol, item.amount_raw) for item in okx.amounts] == [("USDT", 7)]
    assert [line.name for line in lines[2:]] == [f"Exchange {n:02d}" for n in range(8)]


def test_every_figure_needs_a_staff_role(app, make_user):
    inactive = make_user(Role.HANDLER)
    inactive.active = False
    db.session.commit()
    for figure in (dashboard.open_cases, dashboard.new_cases_per_day, dashboard.losses_per_asset,
                   dashboard.referrals_by_outcome, dashboard.top_exchanges):
        with pytest.raises(AccessDenied):
            figure(inactive)


def _figures(html: str) -> dict[str, ET.Element]:
    """Each inline chart of the page, parsed as XML, by its id."""
    charts = {}
    start = 0
    while (start := html.find("<svg", start)) != -1:
        end = html.index("</svg>", start) + len("</svg>")
        svg = ET.fromstring(html[start:end])  # noqa: S314 - our own output
        charts[svg.find(f"{SVG}title").get("id")] = svg
        start = end
    return charts


def test_the_page_shows_each_chart_with_its_table_and_csv_link(app, client, make_case, handler, login):
    case = make_case().case
    freeze_request(case, "<script>alert(1)</script> Exchange", raw=10**6)
    db.session.commit()
    login(handler)
    response = client.get("/staff/dashboard")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    charts = _figures(html)
    assert set(charts) == {f"chart-{slug}-title" for slug in dashboard.FIGURES}
    for slug in dashboard.FIGURES:
        assert f'href="/staff/dashboard/{slug}.csv"' in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; Exchange" in html
    texts = [node.text for node in charts["chart-exchanges-title"].iter(f"{SVG}text")]
    assert "<script>alert(1)</script> Exchange" in texts and "1 case" in texts
    assert 'href="/staff/dashboard"' in html  # in the navigation
    assert "style=" not in html.split("<main", 1)[1]  # the CSP allows no inline style


def test_the_page_is_in_chinese_for_a_chinese_reader(app, client, make_case, handler, login):
    make_case()
    login(handler)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN,zh;q=0.9"
    html = client.get("/staff/dashboard").get_data(as_text=True)
    assert "仪表板" in html
    texts = [node.text for node in _figures(html)["chart-open-cases-title"].iter(f"{SVG}text")]
    assert "已提交" in texts and "Submitted" not in texts


def test_csv_files_are_utf8_with_a_bom_and_cannot_run_formulas(app, client, make_case, handler, login):
    case = make_case().case
    freeze_request(case, "=HYPERLINK(\"http://evil.example\")", raw=10**6)
    freeze_request(case, "币安", raw=2 * 10**6)
    db.session.commit()
    login(handler)
    response = client.get("/staff/dashboard/exchanges.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="casework-exchanges-')
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["Exchange", "Cases", "Freeze requests", "Funds frozen", "Amounts that reached it"]
    by_name = {row[0]: row for row in rows[1:]}
    assert set(by_name) == {"'=HYPERLINK(\"http://evil.example\")", "币安"}
    assert by_name["币安"] == ["币安", "1", "1", "0", f"2 USDT · {chains.chain_name(1)}"]
    open_cases = list(csv.reader(io.StringIO(client.get("/staff/dashboard/open-cases.csv").data.decode("utf-8-sig"))))
    assert open_cases[0][0] == "Status" and open_cases[-1][0] == "Total" and open_cases[-1][-1] == "1"
    days = list(csv.reader(io.StringIO(client.get("/staff/dashboard/new-cases.csv").data.decode("utf-8-sig"))))
    assert len(days) == 31 and days[-1] == [utcnow().date().isoformat(), "1"]
    assert client.get("/staff/dashboard/nothing.csv").status_code == 404


@pytest.mark.parametrize("role", list(Role))
def test_every_staff_role_can_open_the_dashboard(app, client, make_user, login, role):
    login(make_user(role))
    assert client.get("/staff/dashboard").status_code == 200
    assert client.get("/staff/dashboard/losses.csv").status_code == 200


def test_anonymous_readers_are_sent_to_sign_in(app, client):
    for url in ("/staff/dashboard", "/staff/dashboard/losses.csv"):
        response = client.get(url)
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
