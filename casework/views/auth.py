"""Staff sign-in, sign-out, and each staff member's own settings (time zone, language, SLA warnings)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, login_required, login_user, logout_user

from casework import timezones
from casework.extensions import db, limiter
from casework.models import SlaWarnings, utcnow
from casework.services import users
from casework.views.forms import LoginForm, SettingsForm

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


def _settings_page(form: SettingsForm, status: int = 200):
    form.sla_warnings.choices = SlaWarnings.choices()
    zone = timezones.zone_of(current_user)
    return render_template(
        "web/auth/settings.html", form=form, zones=sorted(timezones.available()), zone=zone,
        default_zone=current_app.config["STAFF_TIMEZONE"], now_here=timezones.in_zone(utcnow(), zone),
        digest_hour=current_app.config["SLA_DIGEST_HOUR"],
    ), status


@bp.get("/settings")
@login_required
def settings():
    form = SettingsForm(formdata=None, time_zone=current_user.time_zone or "",
                        language=current_user.preferred_language or "",
                        sla_warnings=current_user.sla_warnings.value)
    return _settings_page(form)


@bp.post("/settings")
@login_required
def save_settings():
    form = SettingsForm()
    if form.validate_on_submit():
        try:
            users.save_settings(current_user, time_zone=form.time_zone.data or "", language=form.language.data or "",
                                sla_warnings=form.sla_warnings.data or "")
        except users.SettingsError as error:
            db.session.rollback()
            form[error.field].errors.append(str(error))
        else:
            db.session.commit()
            # The console follows the saved language at once (the header's switch still changes it per session).
            if current_user.preferred_language:
                session["lang"] = current_user.preferred_language
            else:
                session.pop("lang", None)
            refresh()
            flash(_("Your settings are saved."))
            return redirect(url_for(".settings"))
    return _settings_page(form, 422)
