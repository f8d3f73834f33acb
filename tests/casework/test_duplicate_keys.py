"""Rows the schema holds once: a decoded movement (native ones, with no log index, included) and a referral per
case, kind, chain and target; the migration that added those keys removes the copies stored before."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from casework.extensions import db
from casework.models import Case, FlowEdge, Referral, ReferralKind, ReferralStatus, Transfer, TransferKind
from casework.services import evidence, tracing
from evidence.models import Movement, RawRecord
from evidence.trace import FreezeProposal
from tests.fixtures.factories import ATTACKER, VICTIM, at_once

TX = "0x" + "5e" * 32
DEPOSIT = "0x3333333333333333333333333333333333333333"
WHEN = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
REVISION = "b9d2f1a3c5e7"


def _transaction_record() -> RawRecord:
    result = {"hash": TX, "from": VICTIM, "to": ATTACKER, "value": hex(10**18), "blockNumber": "0x10"}
    return RawRecord("transaction", 1, "eth_getTransactionByHash", (TX,), json.dumps(result), None, "rpc.test", WHEN)


def _native_movement(record: RawRecord) -> Movement:
    return Movement(kind="native", chain_id=1, tx_hash=TX, log_index=None, block_number=16, timestamp=WHEN,
                    tx_status=1, tx_from=VICTIM, tx_to=ATTACKER, token=None, from_address=VICTIM,
                    to_address=ATTACKER, value=10**18, decimals=18, symbol="ETH", source_record=record.sha256)


def _transfer_values(case_id: int, record_id: int, **overrides) -> dict:
    values = dict(case_id=case_id, evidence_record_id=record_id, chain_id=1, tx_hash=TX, log_index=None,
                  kind=TransferKind.NATIVE, from_address=VICTIM, to_address=ATTACKER, amount_raw=10**18,
                  block_number=16, block_time=WHEN)
    return {**values, **overrides}


def _count(model, **where) -> int:
    query = select(func.count()).select_from(model)
    for column, value in where.items():
        query = query.where(getattr(model, column) == value)
    return db.session.scalar(query)


# Transfers


def test_the_same_native_movement_recorded_twice_is_stored_once(app, make_case):
    case = make_case().case
    record = _transaction_record()
    for _ in range(2):
        stored = evidence.append_records(case, [record], actor=None)
        evidence.store_movements(case, [_native_movement(record)], stored)
        db.session.commit()
    assert _count(Transfer, case_id=case.id) == 1


def test_a_second_row_for_a_native_movement_is_refused_by_the_database(app, make_case):
    case = make_case().case
    record = _transaction_record()
    stored = evidence.append_records(case, [record], actor=None)
    evidence.store_movements(case, [_native_movement(record)], stored)
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(insert(Transfer).values(_transfer_values(case.id, stored[record.sha256].id)))
    db.session.rollback()
    assert _count(Transfer, case_id=case.id) == 1


def test_token_movements_of_one_transaction_stay_apart_by_log_index(app, make_case):
    case = make_case().case
    record_id = evidence.append_records(case, [_transaction_record()], actor=None)[_transaction_record().sha256].id
    for log_index in (0, 1):
        db.session.execute(insert(Transfer).values(_transfer_values(case.id, record_id, log_index=log_index,
                                                                    kind=TransferKind.ERC20)))
    db.session.execute(insert(Transfer).values(_transfer_values(case.id, record_id)))
    db.session.commit()
    assert _count(Transfer, case_id=case.id) == 3


# Referrals


def _proposal(amount: int = 10**18) -> FreezeProposal:
    return FreezeProposal(kind="exchange_freeze", target="Harbour Exchange", address=DEPOSIT, chain_id=1, token=None,
                          symbol="ETH", decimals=18, amount=amount, tx_hashes=(TX,), reason="deposit address")


def test_two_traces_proposing_the_same_freeze_at_once_leave_one_referral(app, make_case):
    case_id = make_case().case.id

    def propose() -> int:
        return tracing.propose_referrals(db.session.get(Case, case_id), [_proposal()])

    assert sorted(at_once(app, propose, 2)) == [0, 1]
    assert _count(Referral, case_id=case_id) == 1


def test_a_trace_updates_the_proposed_referral_and_leaves_one_already_sent(app, make_case):
    case = make_case().case
    assert tracing.propose_referrals(case, [_proposal(amount=5)]) == 1
    assert tracing.propose_referrals(case, [_proposal(amount=7)]) == 0
    db.session.commit()
    referral = db.session.scalars(select(Referral).where(Referral.case_id == case.id)).one()
    assert referral.amount_raw == 7
    referral.status = ReferralStatus.SENT
    db.session.commit()
    tracing.propose_referrals(case, [_proposal(amount=9)])
    db.session.commit()
    db.session.refresh(referral)
    assert (referral.amount_raw, referral.status) == (7, ReferralStatus.SENT)


def test_a_second_referral_to_the_same_target_is_refused_by_the_database(app, make_case):
    case = make_case().case
    row = dict(case_id=case.id, kind=ReferralKind.EXCHANGE_FREEZE, status=ReferralStatus.PROPOSED,
               target_name="Harbour Exchange", target_address=DEPOSIT, chain_id=1)
    db.session.execute(insert(Referral).values(row))
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(insert(Referral).values(row))
    db.session.rollback()


def test_referrals_without_an_address_are_not_limited(app, make_case):
    case = make_case().case
    for force in ("City police", "Provincial police"):
        db.session.execute(insert(Referral).values(case_id=case.id, kind=ReferralKind.POLICE,
                                                   status=ReferralStatus.PROPOSED, target_name=force))
    db.session.commit()
    assert _count(Referral, case_id=case.id) == 2


# The migration


def _insert(name: str, **values) -> int:
    """A row written as the schema before the migration takes it (no ORM model: those describe the schema after)."""
    table = sa.table(name, sa.column("id"), *(sa.column(key) for key in values))
    return db.session.execute(sa.insert(table).values(values).returning(table.c.id)).scalar_one()


def test_the_migration_removes_copies_stored_before_the_keys(app, make_case):
    case = make_case().case
    record_id = evidence.append_records(case, [_transaction_record()], actor=None)[_transaction_record().sha256].id
    db.session.commit()
    case_id = case.id  # read now: after the downgrade the ORM's Case describes columns the table does not have
    db.session.rollback()  # end the read's transaction: on PostgreSQL its lock on cases would block the downgrade
    script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
    before = script.get_revision(REVISION).down_revision
    downgrade(revision=before)
    try:
        stamp = WHEN.replace(tzinfo=None) if db.engine.dialect.name == "sqlite" else WHEN
        transfer = dict(case_id=case_id, evidence_record_id=record_id, chain_id=1, tx_hash=TX, kind="native",
                        from_address=VICTIM, to_address=ATTACKER, amount_raw="1000", block_number=16,
                        block_time=stamp)
        kept = _insert("transfers", **transfer)
        copy = _insert("transfers", **transfer, pattern="direct_drain")
        other_case = _insert("transfers", **{**transfer, "tx_hash": "0x" + "6f" * 32})
        edge = _insert("flow_edges", case_id=case_id, chain_id=1, hop=1, from_address=VICTIM, to_address=ATTACKER,
                       amount_raw="1000", tx_hash=TX, block_time=stamp, transfer_id=copy)
        referral = dict(case_id=case_id, kind="exchange_freeze", target_name="Harbour", target_address=DEPOSIT,
                        chain_id=1, created_at=stamp)
        _insert("referrals", **referral, status="proposed")
        worked_on = _insert("referrals", **referral, status="sent")
        _insert("referrals", **referral, status="proposed")
        db.session.commit()
    finally:
        upgrade()
    db.session.expire_all()
    assert sorted(db.session.scalars(select(Transfer.id).where(Transfer.case_id == case.id))) == [kept, other_case]
    assert db.session.get(Transfer, kept).pattern == "direct_drain"
    assert db.session.get(FlowEdge, edge).transfer_id == kept
    assert db.session.scalars(select(Referral.id).where(Referral.case_id == case.id)).all() == [worked_on]
