"""Demo data for `make run`: the staged thefts filed as cases, demo staff, and start-up errors."""

import socket

from sqlalchemy import select

from casework.extensions import db
from casework.models import AddressRole, Case, IncidentType, Role
from casework.services import demo, users
from evidence.devnet import staging


def test_each_staged_theft_is_filed_once_as_a_case(app, staged_thefts):
    references = demo.file_demo_cases(staged_thefts)
    assert len(references) == 2
    assert demo.file_demo_cases(staged_thefts) == []  # a second `make run` files nothing new
    cases = {c.incident_type: c for c in db.session.scalars(select(Case))}
    phishing = staged_thefts.theft(staging.APPROVAL_PHISHING)
    filed = cases[IncidentType.APPROVAL_PHISHING]
    assert {t.tx_hash for t in filed.transactions} == {phishing.step("approve").tx_hash, phishing.step("drain").tx_hash}
    assert filed.losses[0].amount_raw == phishing.stolen_token_amount
    victim = next(a for a in filed.addresses if a.role is AddressRole.VICTIM)
    assert victim.address == phishing.address_of("victim")
    leaked = cases[IncidentType.LEAKED_SECRET]
    assert leaked.transactions == []  # that victim did not know the hashes
    assert {loss.asset_symbol for loss in leaked.losses} == {staged_thefts.token.symbol, "ETH"}


def test_demo_staff_get_one_account_per_role_with_kept_passwords(app, tmp_path):
    credentials = tmp_path / "demo-credentials.json"
    first = demo.ensure_demo_staff(credentials)
    again = demo.ensure_demo_staff(credentials)
    assert {login.role for login in first} == set(Role)
    assert [(login.email, login.password) for login in first] == [(login.email, login.password) for login in again]
    assert credentials.stat().st_mode & 0o077 == 0
    for login in first:
        assert users.authenticate(login.email, login.password) is not None


def test_make_run_refuses_a_busy_web_port_in_one_line(capsys):
    from casework import devrun

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert devrun.main(["--port", str(port)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"make run: Port {port} is already in use: stop what listens there or run 'make run PORT=5001'."


def test_make_run_reports_an_unreachable_database_in_one_line_and_stops_the_chain(monkeypatch, tmp_path, capsys):
    from casework import devrun
    from evidence.devnet.anvil import free_port, port_in_use

    devnet_port = free_port()
    monkeypatch.setenv("CASEWORK_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("CASEWORK_SECRET_KEY", "k")
    monkeypatch.setenv("CASEWORK_DEVNET_RPC_URL", f"http://127.0.0.1:{devnet_port}")
    assert devrun.main(["--port", str(free_port()), "--instance", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("make run: Cannot reach the database at postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert "\n" not in err
    assert not port_in_use(devnet_port)  # the chain was stopped, not left behind


def test_missing_node_or_anvil_is_named_in_one_line(monkeypatch, tmp_path):
    import pytest

    from evidence.devnet import anvil

    monkeypatch.setattr(anvil, "NPM_SCOPE", tmp_path)
    monkeypatch.setattr(anvil.shutil, "which", lambda name: None)
    with pytest.raises(anvil.AnvilError, match=r"^Node.js is not installed: install it"):
        anvil.anvil_binary()
    monkeypatch.setattr(anvil.shutil, "which", lambda name: "/usr/bin/node" if name == "node" else None)
    with pytest.raises(anvil.AnvilError, match=r"^anvil is not installed: run 'make setup'"):
        anvil.anvil_binary()
