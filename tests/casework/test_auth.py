"""Staff sign-in, sign-out, CSRF and the sign-in rate limit."""

from casework.models import Role
from tests.fixtures.factories import PASSWORD, csrf_token


def test_staff_sign_in_with_right_password_opens_the_case_list(client, make_user, make_case):
    user = make_user(Role.HANDLER)
    filed = make_case()
    token = csrf_token(client, "/staff/login")
    response = client.post("/staff/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/staff/cases")
    page = client.get("/staff/cases").get_data(as_text=True)
    assert filed.case.reference in page


def test_email_is_matched_without_regard_to_case(client, make_user):
    user = make_user(Role.HANDLER, email="Mixed.Case@Example.org")
    token = csrf_token(client, "/staff/login")
    response = client.post("/staff/login", data={"email": "MIXED.case@example.ORG", "password": PASSWORD,
                                                 "csrf_token": token})
    assert response.status_code == 302
    assert user.email == "mixed.case@example.org"


def test_wrong_password_and_unknown_email_get_the_same_message(client, make_user):
    user = make_user(Role.HANDLER)
    token = csrf_token(client, "/staff/login")
    wrong_password = client.post("/staff/login", data={"email": user.email, "password": "not it at all",
                                                       "csrf_token": token})
    unknown_email = client.post("/staff/login", data={"email": "nobody@example.org", "password": PASSWORD,
                                                      "csrf_token": token})
    assert wrong_password.status_code == unknown_email.status_code == 200
    message = "The e-mail or password is not right."
    assert message in wrong_password.get_data(as_text=True)
    assert message in unknown_email.get_data(as_text=True)
    assert client.get("/staff/cases").status_code == 302  # still signed out


def test_deactivated_staff_cannot_sign_in(client, make_user, app):
    from casework.extensions import db

    user = make_user(Role.HANDLER)
    user.active = False
    db.session.commit()
    token = csrf_token(client, "/staff/login")
    response = client.post("/staff/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert "The e-mail or password is not right." in response.get_data(as_text=True)


def test_form_post_without_csrf_token_is_refused(client, make_user):
    user = make_user(Role.HANDLER)
    response = client.post("/staff/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert client.get("/staff/cases").status_code == 302


def test_language_switch_without_csrf_token_is_refused(client):
    response = client.post("/language", data={"lang": "zh_Hans_CN"})
    assert response.status_code == 400


def test_sign_out_ends_the_session(client, make_user, login):
    login(make_user(Role.HANDLER))
    assert client.get("/staff/cases").status_code == 200
    token = csrf_token(client, "/staff/cases")
    assert client.post("/staff/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/staff/cases").status_code == 302


def test_too_many_sign_in_attempts_are_refused_with_a_clear_message(client, make_user, app):
    user = make_user(Role.HANDLER)
    token = csrf_token(client, "/staff/login")
    limit = int(app.config["LOGIN_RATE_LIMIT"].split()[0])
    for _ in range(limit):
        response = client.post("/staff/login", data={"email": user.email, "password": "wrong guess",
                                                     "csrf_token": token})
        assert response.status_code == 200
    blocked = client.post("/staff/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert blocked.status_code == 429
    assert "too many attempts" in blocked.get_data(as_text=True).lower()
    assert client.get("/staff/cases").status_code == 302  # even the right password waits
