"""Whatever is posted to any step of the wizard, in whatever order, the answer is never a server error."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forms.phrases import CHINESE, ENGLISH
from tests.casework.test_report_wizard import answers, fill_wizard
from tests.fixtures.factories import csrf_token

FIELDS = {
    1: ["incident_type", "time_zone", "incident_at", "discovered_at", "wallet_app", "wallet_app_other",
        "first_contact", "resume_email"],
    2: ["chain_ids", "victim_addresses"],
    3: ["tx_1", "tx_56", "tx_31337", "tx_999", "unknown_hashes"],
    4: [f"losses-{row}-{name}" for row in (0, 1, 7, 99999) for name in
        ("chain_id", "asset", "amount", "token_address", "token_symbol", "token_decimals", "fiat_value",
         "fiat_currency")],
    5: ["attacker_addresses", "websites", "phones", "emails", "social", "apps", "exchanges", "exchanges_other"],
    6: ["statement", "police_report_number", "police_agency", "platform_ticket", "remove_file"],
    7: ["name", "country", "jurisdiction", "email", "phone", "preferred_language", "consent_law_enforcement",
        "consent_exchanges", "consent_consumer_agencies"],
}
PIECES = st.sampled_from([
    *sorted(ENGLISH)[::211], *sorted(CHINESE)[::173], " ", "\n", "\r\n", ",", "0x", "a" * 40, "f" * 64, "1",
    "-1", "1e5", "9" * 90, "1,000.5", "2026-11-20T10:00", "9999-12-31T23:59", "1900-01-01T00:00", "Asia/Shanghai",
    "Mars/Base", "../../", "<script>alert(1)</script>", "\x00", "\u202e", "𝔘", "y", "native", "token", "USDT",
    "USD", "CN", "zh_Hans_CN", "56", "31337", "approval_phishing", "other", "+86 138", "@", "%(n)d", "{{ 7*7 }}",
])
VALUES = st.one_of(st.text(max_size=200), st.lists(PIECES, max_size=30).map("".join))
STEP_POST = st.tuples(
    st.integers(min_value=1, max_value=7),
    st.sampled_from(["next", "back", "save", "add_row", "upload", "", "unknown"]),
    st.lists(st.tuples(st.integers(min_value=0, max_value=100), VALUES), max_size=12),
    st.booleans(),
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(posts=st.lists(STEP_POST, min_size=1, max_size=4), finish=st.booleans())
def test_no_input_to_any_step_causes_a_server_error(client, posts, finish):
    if client.get("/report/step/7").status_code != 200:
        fill_wizard(client)
    token = csrf_token(client, "/report/")
    for number, action, picks, with_file in posts:
        data = {"csrf_token": token, "action": action}
        names = FIELDS[number]
        for index, value in picks:
            data.setdefault(names[index % len(names)], []).append(value)
        kwargs = {}
        if with_file and number == 6:
            data["files"] = [(io.BytesIO(value.encode("utf-8", "surrogatepass")[:4096] or b"x"), value[:80] or "f")
                             for _index, value in picks[:2]]
            kwargs["content_type"] = "multipart/form-data"
        response = client.post(f"/report/step/{number}", data=data, **kwargs)
        assert response.status_code < 500, response.get_data(as_text=True)[:2000]
        assert client.get(f"/report/step/{number}").status_code < 500
    assert client.get("/report/review").status_code < 500
    if finish:
        for number, data in answers().items():
            client.post(f"/report/step/{number}", data={**data, "csrf_token": token, "action": "next"})
        assert client.post("/report/submit", data={"csrf_token": token}).status_code < 500
        assert client.get("/report/done").status_code < 500
