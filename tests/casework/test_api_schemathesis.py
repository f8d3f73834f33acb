"""Schemathesis against the API's own OpenAPI document (/api/v1/openapi.json), through WSGI, with a supervisor's
token: every operation, with generated valid and invalid input, never answers 5xx and always answers as documented
(status code, content type, headers, body schema). Path parameters are drawn from generated values and from the
seeded cases and referrals, so requests reach the services and not only the 404.

The document is read once at collection from an app without a database (schemathesis's fixture-based loader does
not run on pytest 9.2: it reads a private attribute pytest removed); each test then calls the app of the `app`
fixture, on the test's own database.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from casework import create_app
from casework.extensions import db
from casework.models import Referral, ReferralKind, ReferralStatus, Role
from casework.services import api_tokens

EXAMPLES = 25  # per operation: the whole run stays within about a minute
SEEDED: dict = {}


def _document() -> dict:
    app = create_app({"TESTING": True, "SECRET_KEY": "openapi", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


schema = schemathesis.openapi.from_dict(_document())


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Mostly a seeded case or referral (so requests reach the services), sometimes the generated value."""
    for name in ("reference", "referral_id"):
        if name in (path_parameters or {}):
            seeded = [{**path_parameters, name: value} for value in SEEDED[name]]
            return st.sampled_from([path_parameters, *seeded, *seeded])
    return st.just(path_parameters)


@pytest.fixture
def api(app, make_case, make_user):
    """The app with three cases, referrals in every status and a supervisor's token; returns (app, Authorization
    header)."""
    app.config["API_RATE_LIMIT"] = "100000 per minute"
    cases = [make_case(hours_ago=hours).case for hours in (1, 2, 3)]
    referrals = [Referral(case=cases[number % 3], kind=ReferralKind.EXCHANGE_FREEZE, status=status,
                          target_name=f"Exchange {number}", chain_id=1, symbol="USDT", decimals=6, amount_raw=10**9)
                 for number, status in enumerate(list(ReferralStatus) * 2)]
    db.session.add_all(referrals)
    new = api_tokens.create_token(make_user(Role.SUPERVISOR), "schemathesis")
    db.session.commit()
    SEEDED.update(reference=[case.reference for case in cases], referral_id=[referral.id for referral in referrals])
    return app, {"Authorization": f"Bearer {new.secret}"}


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented_and_never_5xx(case, api):
    app, headers = api
    # Every request, the checks' own probes included, goes to this test's app and database.
    case.operation.app = case.operation.schema.app = app
    case.call_and_validate(headers=headers, excluded_checks=_overridden_negatives(case))


def _overridden_negatives(case) -> list:
    """This test sends its token with every request and draws path values from the seeded rows, so an invalid header
    (a missing Authorization) or path value that schemathesis made can be valid again when it is sent: its check that
    invalid input is refused does not apply then. Invalid query strings and bodies are still checked."""
    meta = getattr(case, "meta", None)
    invalid = {str(getattr(location, "value", location)) for location, info in (getattr(meta, "components", None)
                                                                               or {}).items()
               if getattr(info.mode, "value", info.mode) == "negative"}
    return [schemathesis.checks.negative_data_rejection] if invalid & {"header", "path"} else []
