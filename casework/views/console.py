"""The staff console: the case queue and a case's page."""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casework.extensions import db
from casework.models import Case
from casework.services import (
    assignment,
    case_files,
    case_page,
    dossiers,
    linked,
    merge,
    priority,
    queue,
    referral_panel,
    tasks,
    thread,
    workflow,
)
from casework.services import cases as case_service
from casework.services import sla_clocks as clocks
from casework.services.portal import PortalError
from casework.services.submissions import AlreadyDone
from casework.views.case_forms import MergeForm, PriorityForm
from casework.views.evidence_forms import attacker_form
from casework.views.forms import StatusForm
from casework.views.work_forms import AssignForm, TakeForm, TaskForm, TaskStateForm
from forms.portal import MessageForm, NoteForm

bp = Blueprint("console", __name__, url_prefix="/staff")


@bp.get("/cases")
@login_required
def cases():
    """The queue: filters, search, order and page in the query string (a GET form: nothing changes)."""
    try:
        query, error = queue.parse_query(request.args, user=current_user), None
    except workflow.WorkflowError as problem:
        query, error = queue.QueueQuery(), problem.message
    return render_template(
        "web/console/cases.html", page=queue.find_cases(current_user, query), query=query, error=error,
        filters=queue.filter_choices(current_user),
    ), 400 if error else 200


@bp.get("/cases.csv")
@login_required
def cases_csv():
    """The filtered queue as CSV: every matching case, streamed."""
    try:
        query = queue.parse_query(request.args, user=current_user)
    except workflow.WorkflowError as problem:
        return render_template("web/errors/error.html", status=400, title=_("This list cannot be made"),
                               message=problem.message), 400
    rows = queue.export_csv(current_user, query)
    return Response(stream_with_context(rows), mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=cases.csv", "Cache-Control": "private, no-store",
    })


def _case_page(case: Case, *, reply_form: MessageForm | None = None, note_form: NoteForm | None = None,
               status_form: StatusForm | None = None, priority_form: PriorityForm | None = None,
               merge_form: MergeForm | None = None, status: int = 200, **work_forms):
    options = workflow.status_options(current_user, case)
    status_form = status_form or StatusForm(formdata=None, prefix="status")
    status_form.current.data = options.current
    status_form.to.choices = [("", _("Choose…")), *options.choices]
    status_form.resolution.choices = [("", _("Choose…")), *options.resolutions]
    return render_template(
        "web/console/case.html",
        page=case_page.case_page(current_user, case.reference),
        reply_form=reply_form or MessageForm(formdata=None, prefix="reply"),
        note_form=note_form or NoteForm(formdata=None, prefix="note"),
        status_form=status_form,
        status_options=options,
        referrals=referral_panel.panel(current_user, case, work_forms.pop("referral_failed", None)),
        clocks=clocks.clock_lines(case),
        documents=dossiers.panel(current_user, case),
        **_priority_and_linked(case, priority_form, merge_form),
        **_work_sections(case, work_forms),
        attacker_form=attacker_form(case, work_forms.get("attacker_form")),
    ), status


@bp.get("/cases/<reference>")
@login_required
def case_detail(reference: str):
    case = case_service.get_for(current_user, reference)
    if case_page.record_view(current_user, case) is not None:
        db.session.commit()
    return _case_page(case)


@bp.get("/cases/<reference>/files/<int:file_id>")
@login_required
def case_file(reference: str, file_id: int):
    opened = case_files.open_case_file(current_user, reference, file_id)
    db.session.commit()
    response = send_file(opened.path, mimetype=opened.content_type, as_attachment=not opened.inline,
                         download_name=opened.download_name, conditional=False, etag=False, max_age=0)
    # Nothing in a file may run or load anything, even an image opened on its own.
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _submit_on_case(reference: str, form, form_name: str, act: Callable[[Case], object], error_field,
                    done: Callable[[Case], str], anchor: str):
    """Validate a case-page form, run its service call, commit, say `done` and go back to the section; else show
    the page again with the service's message under error_field (nothing of the failed call is kept)."""
    case = case_service.get_for(current_user, reference)
    if form.validate_on_submit():
        try:
            act(case)
        except AlreadyDone as done_before:
            db.session.rollback()
            flash(done_before.message)
            return redirect(url_for("console.case_detail", reference=case.reference, _anchor=anchor))
        except (PortalError, workflow.WorkflowError) as error:
            db.session.rollback()
            error_field.errors.append(error.message)
        else:
            db.session.commit()
            flash(done(case))
            return redirect(url_for("console.case_detail", reference=case.reference, _anchor=anchor))
    return _case_page(case, **{form_name: form}, status=422)


@bp.post("/cases/<reference>/messages")
@login_required
def reply(reference: str):
    form = MessageForm(prefix="reply")
    return _submit_on_case(reference, form, "reply_form",
                           lambda case: thread.reply_to_victim(current_user, case, form.body.data, once=form.once.data),
                           form.body,
                           lambda case: _("Reply sent. The victim sees it in their case portal."), "thread")


@bp.post("/cases/<reference>/notes")
@login_required
def add_note(reference: str):
    form = NoteForm(prefix="note")
    return _submit_on_case(reference, form, "note_form",
                           lambda case: thread.add_note(current_user, case, form.body.data, once=form.once.data),
                           form.body,
                           lambda case: _("Note added."), "notes")


@bp.post("/cases/<reference>/status")
@login_required
def change_status(reference: str):
    form = StatusForm(prefix="status")

    def transition(case: Case) -> object:
        return workflow.transition_case(
            case, form.to.data, actor=current_user, reason=form.reason.data, expected=form.current.data,
            resolution=form.resolution.data or None, victim_summary=form.victim_summary.data,
            confirm_open_referrals=form.confirm_open_work.data, confirm_open_tasks=form.confirm_open_work.data,
        )

    return _submit_on_case(reference, form, "status_form", transition, form.to,
                           lambda case: _("Status updated: the case is now %(status)s.", status=case.status.title),
                           "status")


def _priority_and_linked(case: Case, priority_form: PriorityForm | None, merge_form: MergeForm | None) -> dict:
    """The priority form (supervisors) and the linked-cases section with its merge form, for the case page."""
    options = priority.priority_options(current_user, case)
    priority_form = priority_form or PriorityForm(formdata=None, prefix="priority")
    if options is not None:
        priority_form.current.data = options.state
        priority_form.priority.choices = options.choices
        if priority_form.priority.data is None:
            priority_form.priority.data = options.current
    merge_form = merge_form or MergeForm(formdata=None, prefix="merge")
    merge_form.current.data = case.status.value
    return {"priority_options": options, "priority_form": priority_form,
            "linked": linked.linked_section(current_user, case), "merge_form": merge_form}


@bp.post("/cases/<reference>/priority")
@login_required
def change_priority(reference: str):
    form = PriorityForm(prefix="priority")

    def change(case: Case) -> object:
        if form.follow_facts.data:
            return priority.clear_override(current_user, case, reason=form.reason.data, expected=form.current.data)
        return priority.override_priority(current_user, case, form.priority.data, reason=form.reason.data,
                                          expected=form.current.data)

    return _submit_on_case(reference, form, "priority_form", change, form.reason,
                           lambda case: _("Priority updated: the case is now %(priority)s.",
                                          priority=case.priority.title), "priority")


@bp.post("/cases/<reference>/merge")
@login_required
def merge_case(reference: str):
    form = MergeForm(prefix="merge")

    def join(case: Case) -> object:
        return merge.merge_case(current_user, case, merge.find_target(form.target.data), reason=form.reason.data,
                                expected_status=form.current.data)

    return _submit_on_case(reference, form, "merge_form", join, form.target,
                           lambda case: _("%(reference)s was merged into %(target)s and closed as a duplicate.",
                                          reference=case.reference, target=case.merged_into.reference), "linked")


# Assignment and tasks


def _work_sections(case: Case, forms: dict) -> dict:
    """The assignment and task sections' view-models and forms (a failed form is shown again with its errors)."""
    section = assignment.assignment_section(current_user, case)
    task_section = tasks.task_section(current_user, case)
    take_form = forms.get("take_form") or TakeForm(formdata=None, prefix="take")
    assign_form = forms.get("assign_form") or AssignForm(formdata=None, prefix="assign")
    task_form = forms.get("task_form") or TaskForm(formdata=None, prefix="task")
    for form in (take_form, assign_form):
        form.expected_handler.data = section.expected_handler_id
    assign_form.handler.choices = [("", _("Choose…")), *section.choices, (assignment.NOBODY, _("Nobody (unassign)"))]
    task_form.assignee.choices = [("", _("Nobody yet")), *task_section.assignees]
    return {"assignment": section, "take_form": take_form, "assign_form": assign_form, "tasks": task_section,
            "task_form": task_form, "task_state_form": forms.get("task_state_form") or TaskStateForm(prefix="state")}


@bp.post("/cases/<reference>/take")
@login_required
def take(reference: str):
    form = TakeForm(prefix="take")
    return _submit_on_case(
        reference, form, "take_form",
        lambda case: assignment.take_case(current_user, case, expected_handler_id=form.expected_handler.data),
        form.expected_handler, lambda case: _("You hold this case now."), "assignment")


@bp.post("/cases/<reference>/assign")
@login_required
def assign(reference: str):
    form = AssignForm(prefix="assign")
    return _submit_on_case(
        reference, form, "assign_form",
        lambda case: assignment.assign_case(
            current_user, case, assignment.handler_for(current_user, form.handler.data), reason=form.reason.data,
            expected_handler_id=form.expected_handler.data),
        form.handler, lambda case: _("Handler updated."), "assignment")


@bp.post("/cases/<reference>/tasks")
@login_required
def add_task(reference: str):
    form = TaskForm(prefix="task")
    return _submit_on_case(
        reference, form, "task_form",
        lambda case: tasks.add_task(current_user, case, form.title.data, form.assignee.data, form.due_on.data),
        form.title, lambda case: _("Task added."), "tasks")


@bp.post("/cases/<reference>/tasks/<int:task_id>/done")
@login_required
def complete_task(reference: str, task_id: int):
    form = TaskStateForm(prefix="state")
    return _submit_on_case(reference, form, "task_state_form",
                           lambda case: tasks.complete_task(current_user, case, task_id), form.csrf_token,
                           lambda case: _("Task done."), "tasks")


@bp.post("/cases/<reference>/tasks/<int:task_id>/reopen")
@login_required
def reopen_task(reference: str, task_id: int):
    form = TaskStateForm(prefix="state")
    return _submit_on_case(reference, form, "task_state_form",
                           lambda case: tasks.reopen_task(current_user, case, task_id), form.csrf_token,
                           lambda case: _("Task reopened."), "tasks")
