"""Whatever is typed into the portal's forms (or its links), the answer is never a server error."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fixtures.factories import csrf_token

PIECES = st.sampled_from([
    "0x", "0X", "ab" * 20, "cd" * 32, "AbCd" * 10, "private key: ", "私钥", "助记词是", "abandon " * 11 + "about",
    "<script>alert(1)</script>", "<img src=file:///etc/passwd>", "\x00", "\u200b", "\r\n", "１２３", "%", "%(n)s",
    "{{ 7*7 }}", "'; DROP TABLE cases; --", "CW-2026-000001", "/track/CW-2026-000001/x", " ", "é", "🙂",
])
TEXT = st.one_of(st.text(max_size=300), st.lists(PIECES, max_size=30).map("".join))
FIELDS = {
    "messages": st.fixed_dictionaries({"message-body": TEXT}),
    "information": st.fixed_dictionaries({"info-text": TEXT}),
    "addresses": st.fixed_dictionaries({
        "address-chain_id": st.one_of(st.just("1"), TEXT), "address-address": TEXT,
        "address-role": st.one_of(st.sampled_from(["attacker", "victim", "other"]), TEXT), "address-label": TEXT,
    }),
    "transactions": st.fixed_dictionaries({
        "tx-chain_id": st.one_of(st.just("1"), TEXT), "tx-tx_hash": TEXT, "tx-note": TEXT,
    }),
}
FUZZ = settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture
def opened(app, client, make_case):
    app.config.update(TRACK_POST_RATE_LIMIT="100000 per hour", TRACK_RATE_LIMIT="100000 per minute",
                      TRACK_REFERENCE_RATE_LIMIT="100000 per hour")
    filed = make_case()
    client.get(f"/track/{filed.case.reference}/{filed.access_token}")
    return filed


@FUZZ
@given(action=st.sampled_from(sorted(FIELDS)), data=st.data())
def test_no_case_page_form_input_gives_a_server_error(client, opened, action, data):
    fields = data.draw(FIELDS[action])
    page = f"/track/{opened.case.reference}"
    response = client.post(f"{page}/{action}", data={"csrf_token": csrf_token(client, page), **fields})
    assert response.status_code in (302, 422), response.status_code
    if response.status_code == 422:
        assert "<script>alert(1)</script>" not in response.get_data(as_text=True)


@FUZZ
@given(reference=TEXT, code=TEXT)
def test_no_tracking_form_input_gives_a_server_error(client, opened, reference, code):
    response = client.post("/track", data={"reference": reference, "access_code": code,
                                           "csrf_token": csrf_token(client, "/track")})
    assert response.status_code in (200, 302)


@FUZZ
@given(reference=st.text(min_size=1, max_size=80), token=st.text(min_size=1, max_size=80))
def test_no_private_link_gives_a_server_error(client, opened, reference, token):
    response = client.get(f"/track/{quote(reference, safe='')}/{quote(token, safe='')}")
    assert response.status_code < 500
