"""Administration pages (admins only): staff accounts."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from casework.services import users

bp = Blueprint("admin", __name__, url_prefix="/staff/admin")


@bp.get("/users")
@login_required
def user_list():
    return render_template("web/admin/users.html", users=users.list_users(current_user))
