"""Role checks: who reaches which staff page."""

import pytest

from casework.models import Role
from casework.services.access import AccessDenied, Permission, can, require


# Supervisors open the staff list too: they set who is on duty there (tests/casework/test_first_hour.py).
@pytest.mark.parametrize("role", [Role.HANDLER, Role.LEGAL])
def test_non_admin_staff_cannot_reach_admin_pages(client, make_user, login, role):
    login(make_user(role))
    response = client.get("/staff/admin/users")
    assert response.status_code == 403
    assert "Your role does not allow this" in response.get_data(as_text=True)


def test_admin_reaches_the_staff_list(client, make_user, login):
    admin = make_user(Role.ADMIN)
    other = make_user(Role.HANDLER)
    login(admin)
    page = client.get("/staff/admin/users").get_data(as_text=True)
    assert admin.email in page and other.email in page


def test_signed_out_visitors_are_sent_to_sign_in(client, make_case):
    filed = make_case()
    for url in ("/staff/cases", f"/staff/cases/{filed.case.reference}", "/staff/admin/users"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/staff/login" in response.headers["Location"]


def test_case_detail_shows_the_report_and_escapes_user_text(client, make_user, login, make_case):
    filed = make_case(summary="<script>alert('x')</script> they took 2,500 USDT")
    login(make_user(Role.LEGAL))
    page = client.get(f"/staff/cases/{filed.case.reference}").get_data(as_text=True)
    assert "&lt;script&gt;alert(" in page
    assert "<script>alert(" not in page
    assert "2,500 USDT" in page


def test_unknown_case_reference_is_a_clear_404(client, make_user, login):
    login(make_user(Role.HANDLER))
    response = client.get("/staff/cases/CW-2026-999999")
    assert response.status_code == 404


def test_permissions_are_checked_in_the_service_layer(app, make_user):
    handler, legal, admin = make_user(Role.HANDLER), make_user(Role.LEGAL), make_user(Role.ADMIN)
    assert can(handler, Permission.WORK_CASES) and not can(legal, Permission.WORK_CASES)
    assert can(admin, Permission.MANAGE_USERS) and not can(handler, Permission.MANAGE_USERS)
    assert not can(None, Permission.VIEW_CASES)
    with pytest.raises(AccessDenied):
        require(handler, Permission.MANAGE_USERS)
    handler.active = False
    assert not can(handler, Permission.VIEW_CASES)
