"""Administration pages (admins only): staff accounts, and the checklist templates per incident type."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casework.extensions import db
from casework.models import IncidentType
from casework.services import portal, task_templates, users
from casework.services.workflow import WorkflowError
from casework.views.work_forms import OnDutyForm, TemplateActiveForm, TemplateItemForm

bp = Blueprint("admin", __name__, url_prefix="/staff/admin")


@bp.get("/users")
@login_required
def user_list():
    return render_template("web/admin/users.html", users=users.list_users(current_user))


@bp.post("/users/<int:user_id>/on-duty")
@login_required
def set_on_duty(user_id: int):
    form = OnDutyForm()
    if not form.validate_on_submit() or form.on_duty.data not in ("0", "1"):
        flash(_("This form has expired: reload the page and try again."), "error")
        return redirect(url_for(".user_list"))
    user = users.set_on_duty(current_user, user_id, form.on_duty.data == "1")
    db.session.commit()
    flash(_("%(name)s is now on duty.", name=user.display_name) if user.on_duty
          else _("%(name)s is now off duty.", name=user.display_name))
    return redirect(url_for(".user_list"))


def _templates_page(add_form: TemplateItemForm | None = None, failed_item: int | None = None,
                    item_form: TemplateItemForm | None = None, status: int = 200):
    groups = task_templates.template_groups(current_user)
    add_form = add_form or TemplateItemForm(formdata=None, prefix="add")
    add_form.incident_type.choices = IncidentType.choices()
    return render_template("web/admin/task_templates.html", groups=groups, add_form=add_form,
                           failed_item=failed_item, item_form=item_form, active_form=TemplateActiveForm(),
                           max_due_days=task_templates.MAX_DUE_DAYS), status


@bp.get("/task-templates")
@login_required
def task_template_list():
    return _templates_page()


def _save(change, form: TemplateItemForm, done: str, *, failed_item: int | None = None):
    """Validate, call the service, commit and go back to the list; else show it again with the message."""
    if form.validate_on_submit():
        try:
            change()
        except (WorkflowError, portal.PortalError) as error:
            db.session.rollback()
            form.title.errors.append(error.message)
        else:
            db.session.commit()
            flash(done)
            return redirect(url_for(".task_template_list"))
    if failed_item is None:
        return _templates_page(add_form=form, status=422)
    return _templates_page(failed_item=failed_item, item_form=form, status=422)


@bp.post("/task-templates")
@login_required
def add_task_template_item():
    form = TemplateItemForm(prefix="add")
    return _save(lambda: task_templates.add_item(current_user, form.incident_type.data, form.title.data,
                                                 form.due_days.data, form.position.data),
                 form, _("Checklist item added."))


@bp.post("/task-templates/<int:item_id>")
@login_required
def edit_task_template_item(item_id: int):
    form = TemplateItemForm(prefix=f"item{item_id}")
    return _save(lambda: task_templates.edit_item(current_user, item_id, title=form.title.data,
                                                  due_days=form.due_days.data, position=form.position.data or 0),
                 form, _("Checklist item saved."), failed_item=item_id)


@bp.post("/task-templates/<int:item_id>/active")
@login_required
def set_task_template_item_active(item_id: int):
    form = TemplateActiveForm()
    if form.validate_on_submit():
        item = task_templates.set_active(current_user, item_id, form.active.data == "1")
        db.session.commit()
        flash(_("Checklist item activated.") if item.active else _("Checklist item deactivated: new checklists "
                                                                  "leave it out."))
    return redirect(url_for(".task_template_list"))
