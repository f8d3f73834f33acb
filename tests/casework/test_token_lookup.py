"""A token given by its contract address: symbol and decimals come from the (real, anvil) chain, the victim confirms
them, and nothing is ever guessed: where the chain cannot say, the victim types the decimals."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from casework.extensions import db
from casework.models import ReportDraft, ReportedLoss
from casework.services import chains
from evidence.devnet.anvil import free_port
from tests.casework.test_report_wizard import answers, post_step, submit
from tests.evidence.faultproxy import FaultProxy
from tests.evidence.scenario import actor, deploy, fund

DEVNET = "31337"
NOBODY = "0x000000000000000000000000000000000000dEaD"


@pytest.fixture(scope="module")
def tokens(w3):
    """A 6-decimal token and one without metadata, deployed on the session's anvil (undone afterwards)."""
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    issuer = actor("token lookup issuer")
    fund(w3, issuer)
    six = deploy(w3, "SixDecimalToken", "Lookup Dollar", "LUSD", sender=issuer)
    bare = deploy(w3, "NoMetadataToken", sender=issuer)
    yield {"six": six.address, "bare": bare.address}
    w3.provider.make_request("evm_revert", [snapshot])


def to_the_loss_step(client) -> None:
    steps = answers()
    steps[2] = {"chain_ids": [DEVNET], "victim_addresses": steps[2]["victim_addresses"]}
    steps[3] = {"unknown_hashes": "y"}
    for number in (1, 2, 3):
        assert post_step(client, number, steps[number]).status_code == 302


def loss(address: str, amount: str = "25,000", **more) -> dict:
    return {"losses-0-chain_id": DEVNET, "losses-0-asset": "token", "losses-0-amount": amount,
            "losses-0-token_address": address, **{f"losses-0-{name}": value for name, value in more.items()}}


def confirmation_in(page: str) -> str:
    return html.unescape(re.search(r'name="losses-0-token_confirmed" value="([^"]+)"', page).group(1))


def finish_and_submit(client) -> tuple[ReportedLoss, str]:
    """Complete the wizard and submit; the loss stored, and the review page shown before."""
    for number in (5, 6, 7):
        assert post_step(client, number, answers()[number]).status_code == 302
    review = client.get("/report/review")
    assert review.status_code == 200
    page = review.get_data(as_text=True)
    assert submit(client).status_code == 302
    db.session.expire_all()
    return db.session.scalars(select(ReportedLoss)).one(), page


def test_a_six_decimal_token_is_read_from_the_chain_confirmed_and_stored_in_its_own_units(client, devnet, tokens):
    to_the_loss_step(client)
    first = post_step(client, 4, loss(tokens["six"].lower()))
    page = first.get_data(as_text=True)
    assert first.status_code == 200
    assert "Local devnet says this contract is the token LUSD, with 6 decimals." in html.unescape(page)
    assert "tick the box if it is the one that was taken" in page
    assert 'name="losses-0-token_decimals"' not in page  # nothing to type: the chain said

    confirmed = post_step(client, 4, loss(tokens["six"].lower(),
                                          token_confirmed=confirmation_in(page)))
    assert confirmed.status_code == 302, confirmed.get_data(as_text=True)
    stored, review = finish_and_submit(client)
    assert (stored.asset_symbol, stored.decimals, stored.amount_raw) == ("LUSD", 6, 25_000 * 10**6)
    assert f"25,000 LUSD (Local devnet) <code>{tokens['six']}</code>, 6 decimals" in review
    assert stored.token_address == tokens["six"]
    done = client.get("/report/done").get_data(as_text=True)
    link = re.search(r'id="tracking-link" href="([^"]+)"', done).group(1)
    opened = client.get(urlsplit(link).path)
    portal = client.get(opened.headers["Location"]).get_data(as_text=True)
    assert "25,000 LUSD" in portal and f"Token contract {tokens['six']}, 6 decimals" in portal


def test_chain_answers_sent_by_the_browser_are_ignored(client, devnet, tokens):
    to_the_loss_step(client)
    forged = loss(tokens["six"], chain_checked=tokens["six"], chain_answer="token", chain_symbol="LUSD",
                  chain_decimals="18", token_confirmed=f"{tokens['six']}:18:LUSD")
    page = post_step(client, 4, forged).get_data(as_text=True)
    assert "with 6 decimals" in page and "tick the box" in page
    db.session.expire_all()
    saved = db.session.scalars(select(ReportDraft)).one().answers["losses"]
    assert saved["losses-0-chain_decimals"] == ["6"]


def test_a_contract_without_decimals_makes_the_victim_type_them(client, devnet, tokens):
    to_the_loss_step(client)
    page = post_step(client, 4, loss(tokens["bare"])).get_data(as_text=True)
    assert "This contract does not say how many decimals it has." in page
    assert 'name="losses-0-token_decimals"' in page and 'name="losses-0-token_symbol"' in page
    typed = post_step(client, 4, loss(tokens["bare"], amount="12.5", token_symbol="bare", token_decimals="2"))
    assert typed.status_code == 302, typed.get_data(as_text=True)
    stored, _review = finish_and_submit(client)
    assert (stored.asset_symbol, stored.decimals, stored.amount_raw) == ("BARE", 2, 1250)


def test_an_unreachable_chain_is_said_and_the_decimals_are_asked_for_never_assumed(app, client, devnet, tokens):
    app.config["DEVNET_RPC_URL"] = f"http://127.0.0.1:{free_port()}"
    chains.init_app(app)
    to_the_loss_step(client)
    page = post_step(client, 4, loss(tokens["six"], token_symbol="LUSD")).get_data(as_text=True)
    assert "We could not reach Local devnet to read this token&#39;s decimals." in page
    assert "tick the box" not in page
    assert post_step(client, 4, loss(tokens["six"], token_symbol="LUSD", token_decimals="6")).status_code == 302


def test_an_address_with_no_contract_is_refused_with_the_reason(client, devnet, tokens):
    to_the_loss_step(client)
    page = post_step(client, 4, loss(NOBODY, token_symbol="X", token_decimals="6")).get_data(as_text=True)
    assert "There is no contract at this address on Local devnet." in page


def test_a_confirmation_for_another_address_does_not_carry_over(client, devnet, tokens):
    to_the_loss_step(client)
    page = post_step(client, 4, loss(tokens["six"])).get_data(as_text=True)
    moved = post_step(client, 4, loss(tokens["bare"], token_confirmed=confirmation_in(page)))
    assert moved.status_code == 200
    assert "does not say how many decimals" in moved.get_data(as_text=True)


@pytest.fixture
def proxied_devnet(app, devnet):
    """The devnet chain reached through a real proxy that counts requests and can fail them."""
    with FaultProxy(devnet.rpc_url, hang_seconds=0.5) as proxy:
        app.config["DEVNET_RPC_URL"] = proxy.url
        chains.init_app(app)
        yield proxy


def two_tokens(tokens) -> dict:
    second = {key.replace("losses-0-", "losses-1-"): value for key, value in loss(tokens["bare"]).items()}
    return {**loss(tokens["six"]), **second}


def test_every_token_of_the_step_is_asked_in_one_request_and_a_known_answer_is_not_asked_again(
        client, proxied_devnet, tokens):
    to_the_loss_step(client)
    before = proxied_devnet.requests
    page = post_step(client, 4, two_tokens(tokens)).get_data(as_text=True)
    assert proxied_devnet.requests == before + 1
    assert "with 6 decimals" in page and "does not say how many decimals" in page
    after = proxied_devnet.requests
    post_step(client, 4, loss(tokens["six"], token_confirmed=confirmation_in(page)))
    assert proxied_devnet.requests == after  # the draft holds the chain's answer about this token


def test_a_chain_that_does_not_answer_in_time_is_said_to_be_unreachable(client, proxied_devnet, tokens):
    to_the_loss_step(client)
    proxied_devnet.fail_next("timeout")
    page = post_step(client, 4, loss(tokens["six"])).get_data(as_text=True)
    assert "We could not reach Local devnet to read this token&#39;s decimals." in page


def test_digits_int_cannot_read_are_refused_not_a_server_error(client, devnet, tokens):
    assert post_step(client, 1, answers()[1]).status_code == 302
    assert post_step(client, 2, {"chain_ids": ["³"], "victim_addresses": answers()[2]["victim_addresses"]}
                     ).status_code == 200
    to_the_loss_step(client)
    assert post_step(client, 4, {**loss(tokens["six"]), "losses-0-chain_id": "³"}).status_code == 200
    assert post_step(client, 4, {**loss(tokens["six"]), "losses-0-token_decimals": "³"}).status_code == 200
