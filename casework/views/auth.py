"""Staff sign-in and sign-out."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from casework.extensions import db, limiter
from casework.services import users
from casework.views.forms import LoginForm

bp = Blueprint("auth", __name__, url_prefix="/staff")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("console.cases"))
    form = LoginForm()
    if form.validate_on_submit():
        user = users.authenticate(form.email.data, form.password.data)
        if user is not None:
            db.session.commit()
            login_user(user)
            return redirect(url_for("console.cases"))
        # One message for a wrong password and an unknown e-mail: it reveals nothing.
        form.password.errors.append(_("The e-mail or password is not right."))
    return render_template("web/auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash(_("You are signed out."))
    return redirect(url_for("auth.login"))
