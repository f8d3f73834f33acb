"""The victim adds the same address, transaction hash or file twice, one after the other or in two requests at the same
moment (a double tap, two tabs): the case holds it once, with one event, and the second add is answered
"already on your case", never with an error page."""

from __future__ import annotations

import io
import queue
import threading
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select, text

from casework.extensions import db
from casework.models import CaseAddress, CaseEvent, CaseFile, EventKind, ReportedTransaction
from tests.fixtures.factories import at_once, csrf_token

NEW_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
NEW_HASH = "0x" + "cd" * 32
SCREENSHOT = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
# What each add posts (a function: a file's stream is read once), the rows it makes and its event.
ADDS = {
    "address": ("addresses",
                lambda: {"address-chain_id": "1", "address-address": NEW_ADDRESS, "address-role": "attacker"},
                CaseAddress, CaseAddress.address == NEW_ADDRESS, EventKind.ADDRESS_ADDED),
    "transaction": ("transactions", lambda: {"tx-chain_id": "1", "tx-tx_hash": NEW_HASH},
                    ReportedTransaction, ReportedTransaction.tx_hash == NEW_HASH, EventKind.TRANSACTION_ADDED),
    "file": ("files", lambda: {"file-file": (io.BytesIO(SCREENSHOT), "wallet.png")},
             CaseFile, CaseFile.original_name == "wallet.png", EventKind.FILE_ADDED),
}


def _victim_client(app, filed):
    client = app.test_client()
    assert client.get(f"/track/{filed.case.reference}/{filed.access_token}").status_code == 302
    return client


def _post(client, filed, action: str, data: dict):
    page = f"/track/{filed.case.reference}"
    return client.post(f"{page}/{action}", data={"csrf_token": csrf_token(client, page), **data})


@contextmanager
def _both_checked_before_either_writes(table: str):
    """PostgreSQL: hold the table's writes back (SHARE lock: reads go on) until both requests wait to insert, so both
    have looked for the row before either adds it, the interleaving that broke. (SQLite needs no help: the ORM's
    writes wait for the commit there, after both looked.)"""
    if db.engine.dialect.name != "postgresql":
        yield
        return
    with db.engine.connect() as holder:
        holder.execute(text(f"LOCK TABLE {table} IN SHARE MODE"))
        yield lambda: _release_when_waiting(holder, table)


def _release_when_waiting(holder, table: str) -> None:
    waiting = text("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = CAST(:table AS regclass)")
    with db.engine.connect() as watcher:
        for _ in range(600):
            if watcher.execute(waiting, {"table": table}).scalar_one() >= 2:
                break
            time.sleep(0.05)
    holder.rollback()


def _stored(case_id: int, model, where, kind: EventKind) -> tuple[int, int]:
    rows = db.session.scalar(select(func.count()).select_from(model).where(model.case_id == case_id, where))
    events = db.session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id,
                                                                                CaseEvent.action == kind))
    return rows, events


@pytest.mark.parametrize("what", sorted(ADDS))
def test_adding_the_same_thing_twice_keeps_it_once_and_says_so(client, make_case, what):
    action, data, model, where, kind = ADDS[what]
    filed = make_case()
    client.get(f"/track/{filed.case.reference}/{filed.access_token}")
    first, second = _post(client, filed, action, data()), _post(client, filed, action, data())
    assert first.status_code == 302
    assert second.status_code == 422
    assert "already on your case" in second.get_data(as_text=True)
    assert _stored(filed.case.id, model, where, kind) == (1, 1)


@pytest.mark.parametrize("what", sorted(ADDS))
def test_two_identical_adds_at_the_same_moment_store_one_and_answer_both(app, client, make_case, what):
    action, data, model, where, kind = ADDS[what]
    filed = make_case()
    clients: queue.Queue = queue.Queue()  # a client each (the `client` fixture set their class): two tabs
    for _ in range(2):
        victim = _victim_client(app, filed)
        clients.put((victim, csrf_token(victim, f"/track/{filed.case.reference}")))

    def add():
        client, token = clients.get()
        response = client.post(f"/track/{filed.case.reference}/{action}", data={"csrf_token": token, **data()})
        return response.status_code, response.get_data(as_text=True)

    answers: list = []
    with _both_checked_before_either_writes(model.__tablename__) as release:
        requests = threading.Thread(target=lambda: answers.extend(at_once(app, add, 2)))
        requests.start()
        if release is not None:
            release()
        requests.join()
    answers.sort()
    assert [status for status, _page in answers] == [302, 422]
    assert "already on your case" in answers[1][1]
    assert _stored(filed.case.id, model, where, kind) == (1, 1)
