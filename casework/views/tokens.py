"""API tokens: each staff member lists, creates and revokes their own (/staff/tokens); admins see and revoke
everyone's (/staff/admin/tokens). A new token is shown once, on the page the creation answers, and never again."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casework.extensions import db
from casework.services import api_tokens
from casework.services.access import Permission, can
from casework.views.forms import ApiTokenForm, RevokeTokenForm

bp = Blueprint("tokens", __name__, url_prefix="/staff")


def _own_page(form: ApiTokenForm | None = None, *, new_token: api_tokens.NewToken | None = None, status: int = 200):
    return render_template(
        "web/tokens/own.html", tokens=api_tokens.tokens_of(current_user),
        form=form or ApiTokenForm(formdata=None), revoke_form=RevokeTokenForm(),
        new_secret=new_token.secret if new_token else None, is_admin=can(current_user, Permission.MANAGE_USERS),
    ), status


@bp.get("/tokens")
@login_required
def own():
    return _own_page()


@bp.post("/tokens")
@login_required
def create():
    form = ApiTokenForm()
    if form.validate_on_submit():
        try:
            new_token = api_tokens.create_token(current_user, form.name.data)
        except api_tokens.TokenError as error:
            db.session.rollback()
            form.name.errors.append(error.message)
        else:
            db.session.commit()
            body, status = _own_page(new_token=new_token, status=201)
            # The token is on this page only: never cached, never in the session (flash) or a URL.
            return body, status, {"Cache-Control": "no-store"}
    return _own_page(form, status=422)


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    if RevokeTokenForm().validate_on_submit():
        token = api_tokens.revoke_token(current_user, token_id)
        db.session.commit()
        flash(_("The token “%(name)s” is revoked: it no longer works.", name=token.name))
    return redirect(url_for(".own"))


@bp.get("/admin/tokens")
@login_required
def admin_list():
    return render_template("web/tokens/admin.html", tokens=api_tokens.all_tokens(current_user),
                           revoke_form=RevokeTokenForm())


@bp.post("/admin/tokens/<int:token_id>/revoke")
@login_required
def admin_revoke(token_id: int):
    if RevokeTokenForm().validate_on_submit():
        token = api_tokens.revoke_token(current_user, token_id, any_owner=True)
        db.session.commit()
        flash(_("The token “%(name)s” is revoked: it no longer works.", name=token.name))
    return redirect(url_for(".admin_list"))
