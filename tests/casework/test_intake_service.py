"""Filing a case through the intake service: one transaction, an event, a documented priority."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from casework.extensions import db
from casework.models import AddressRole, Case, CaseEvent, EvidenceJob, IncidentType, Priority, ReportExtras, utcnow
from casework.services import filing
from casework.services.cases import format_reference
from casework.services.tokens import token_matches
from tests.fixtures.factories import at_once


def _report(**overrides) -> filing.NewReport:
    now = utcnow()
    values = dict(
        incident_type=IncidentType.FAKE_SUPPORT,
        reporter=filing.ReporterInput(name="张伟"),
        incident_at=now - timedelta(hours=2),
        losses=(filing.LossInput(chain_id=1, asset_symbol="USDT", amount_raw=500 * 10**6, decimals=6),),
    )
    values.update(overrides)
    return filing.NewReport(**values)


def test_filing_writes_the_case_its_parts_and_a_submitted_event(app):
    filed = filing.file_case(_report())
    db.session.commit()
    case = db.session.get(Case, filed.case.id)
    assert case.reporter.name == "张伟"
    assert [e.action for e in case.events] == ["submitted"]
    assert case.events[0].actor_label == "victim"
    assert token_matches(filed.access_token, case.access_token_hash)


def test_a_failure_while_filing_leaves_no_half_case(app):
    bad = _report(addresses=(filing.AddressInput(chain_id=1, address="0x123", role=AddressRole.VICTIM),))
    with pytest.raises(Exception):  # noqa: B017 - the database refuses the short address
        filing.file_case(bad)
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0
    assert db.session.scalar(select(func.count()).select_from(CaseEvent)) == 0


@pytest.mark.parametrize(
    "hours_ago, usdt, exchange, expected",
    [
        (2, 50_000, False, Priority.CRITICAL),   # fresh and large
        (2, 300, True, Priority.CRITICAL),       # fresh and funds at an exchange
        (2, 300, False, Priority.HIGH),          # fresh but small
        (24 * 10, 20_000, False, Priority.HIGH), # old but large
        (24 * 10, 2_000, False, Priority.NORMAL),
        (24 * 90, 300, False, Priority.LOW),
    ],
)
def test_priority_follows_recency_size_and_freezability(hours_ago, usdt, exchange, expected):
    now = utcnow()
    report = _report(
        incident_at=now - timedelta(hours=hours_ago),
        losses=(filing.LossInput(chain_id=1, asset_symbol="USDT", amount_raw=usdt * 10**6, decimals=6),),
        exchanges_involved=("Binance",) if exchange else (),
    )
    assert filing.assess_priority(report, now) is expected


def test_a_usd_fiat_value_sizes_a_non_stablecoin_loss():
    now = utcnow()
    loss = filing.LossInput(chain_id=1, asset_symbol="ETH", amount_raw=3 * 10**18, decimals=18,
                            fiat_value_cents=1_200_000, fiat_currency="USD")
    report = _report(incident_at=now - timedelta(days=60), losses=(loss,))
    assert filing.assess_priority(report, now) is Priority.HIGH


def test_a_filed_case_is_numbered_and_keeps_no_provisional_reference(app):
    filed = filing.file_case(_report())
    db.session.commit()
    now = utcnow()
    assert filed.reference == format_reference(now.year, 1) == filed.case.reference
    assert db.session.scalar(select(func.count()).select_from(Case).where(Case.reference.like("pending-%"))) == 0


def test_a_rolled_back_filing_gives_its_number_back(app):
    filing.file_case(_report())
    db.session.rollback()
    filed = filing.file_case(_report())
    db.session.commit()
    assert filed.reference == format_reference(utcnow().year, 1)


def test_concurrent_filings_get_consecutive_references(app):
    """Each filing writes its rows first and waits for the counter row only at the end: none fails, none
    shares a number, none is left with its provisional reference."""
    results = at_once(app, lambda: filing.file_case(_report()).reference, 4)
    year = utcnow().year
    assert sorted(results) == [format_reference(year, number) for number in range(1, 5)]
    assert sorted(db.session.scalars(select(Case.reference))) == sorted(results)


def test_every_part_of_a_full_report_is_written_exactly(app):
    """Several rows of each kind, every optional field, the largest amount: what is read back is what was filed
    (on PostgreSQL the case and its rows are one statement; on SQLite one per table)."""
    now = utcnow()
    victim, attacker, exchange = ("0x" + digit * 40 for digit in "123")
    report = _report(
        reporter=filing.ReporterInput(
            name="李 <b>伟</b>", email="li@example.org", phone="+8613800138000", country="CN",
            preferred_language="zh_Hans_CN", jurisdiction="上海", consent_law_enforcement=True,
            consent_exchanges=True, consent_consumer_agencies=False,
        ),
        summary="假客服让我“验证钱包”。",
        incident_at=now - timedelta(hours=3), discovered_at=now - timedelta(hours=2), victim_timezone="Asia/Shanghai",
        wallet_app="imToken", first_contact="Telegram", chain_ids=(56, 1, 56),
        losses=(
            filing.LossInput(chain_id=1, asset_symbol="USDT", amount_raw=2**256 - 1, decimals=6,
                             token_address="0xdAC17F958D2ee523a22062069cCfd8C7e88F9C03".lower(),
                             fiat_value_cents=123_456_789_012, fiat_currency="CNY"),
            filing.LossInput(chain_id=1, asset_symbol="ETH", amount_raw=3 * 10**18, decimals=18),
            filing.LossInput(chain_id=56, asset_symbol="BNB", amount_raw=1, decimals=18),
        ),
        addresses=(
            filing.AddressInput(chain_id=1, address=victim, role=AddressRole.VICTIM),
            filing.AddressInput(chain_id=1, address=attacker, role=AddressRole.ATTACKER, label="drainer"),
            filing.AddressInput(chain_id=56, address=exchange, role=AddressRole.EXCHANGE_DEPOSIT, label="Binance"),
        ),
        transactions=(
            filing.TransactionInput(chain_id=1, tx_hash="0x" + "ab" * 32, note="the drain"),
            filing.TransactionInput(chain_id=56, tx_hash="0x" + "cd" * 32),
        ),
        exchanges_involved=("Binance", "OKX"),
        scammer_contacts={"websites": ("imtoken-help.example",), "phones": ("+85212345678", "+85287654321")},
        prior_reports={"police_report_number": "SH-2026-0042"},
    )
    filed = filing.file_case(report, now=now)
    db.session.commit()
    db.session.expire_all()
    case = filed.case
    assert (case.summary, case.wallet_app, case.first_contact, case.victim_timezone) == (
        report.summary, "imToken", "Telegram", "Asia/Shanghai")
    assert case.chain_ids == [1, 56] and case.incident_at == report.incident_at
    assert case.discovered_at == report.discovered_at and case.submitted_at == now
    reporter = case.reporter
    assert {key: getattr(reporter, key) for key in vars(report.reporter)} == vars(report.reporter)
    assert sorted((vars(loss) for loss in report.losses), key=repr) == sorted(
        ({key: getattr(loss, key) for key in vars(report.losses[0])} for loss in case.losses), key=repr)
    assert {(a.chain_id, a.address, a.role, a.label) for a in case.addresses} == {
        (a.chain_id, a.address, a.role, a.label) for a in report.addresses}
    assert {(t.chain_id, t.tx_hash, t.note) for t in case.transactions} == {
        (t.chain_id, t.tx_hash, t.note) for t in report.transactions}
    extras = db.session.scalars(select(ReportExtras).where(ReportExtras.case_id == case.id)).one()
    assert extras.exchanges == ["Binance", "OKX"] and extras.prior_reports == {"police_report_number": "SH-2026-0042"}
    assert extras.scammer_contacts == {"websites": ["imtoken-help.example"], "phones": ["+85212345678", "+85287654321"]}
    event, queued = sorted(case.events, key=lambda e: e.id)
    assert (event.action, event.actor_label, event.actor_id, event.created_at) == ("submitted", "victim", None, now)
    assert event.data == {"priority": case.priority.value, "incident_type": "fake_support"}
    # The first-hour evidence work goes in with the case: a capture per chain, a discovery from the victim.
    assert (queued.action, queued.actor_id, queued.data["step"]) == ("first_hour", None, "queued")
    evidence_jobs = db.session.scalars(select(EvidenceJob).where(EvidenceJob.case_id == case.id)).all()
    assert sorted((j.kind.value, j.params["chain_id"], j.status.value, j.next_attempt_at == now)
                  for j in evidence_jobs) == [("capture", 1, "queued", True), ("capture", 56, "queued", True),
                                              ("discover", 1, "queued", True)]
    assert all(j.params["first_hour"] for j in evidence_jobs)


def test_a_report_without_extras_writes_no_extras_row(app):
    filed = filing.file_case(_report())
    db.session.commit()
    assert db.session.scalars(select(ReportExtras).where(ReportExtras.case_id == filed.case_id)).all() == []
