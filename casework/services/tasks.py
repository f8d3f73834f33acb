"""A case's tasks: added by hand or from the incident type's checklist, done and reopened, each change logged.

Every change needs Permission.WORK_CASES and writes a TASK CaseEvent (change, title, task_id). A closed case's
tasks are not changed. Marking done and reopening are compare-and-sets on the task's state, so a second click or a
colleague's change at the same moment is refused with a message rather than logged twice. `add_checklist` adds the
active template items of the case's incident type that the case does not have yet: calling it again adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from werkzeug.exceptions import NotFound

from casework.extensions import db
from casework.models import Case, CaseEvent, CaseStatus, EventKind, Role, Task, TaskTemplateItem, User, utcnow
from casework.models.tasks import TITLE_MAX_CHARS
from casework.services import portal
from casework.services.access import Permission, can, require
from casework.services.workflow import WorkflowError

ASSIGNABLE_ROLES = (Role.HANDLER, Role.SUPERVISOR)


@dataclass(frozen=True)
class TaskLine:
    id: int
    title: str
    assignee: str | None
    due_on: date | None
    overdue: bool
    done: bool
    done_by: str | None
    done_at: datetime | None
    created_by: str | None
    created_at: datetime


@dataclass(frozen=True)
class TaskSection:
    """The case page's tasks: open ones first (in checklist order), then the done ones (latest first)."""

    tasks: list[TaskLine]
    open_count: int
    can_work: bool
    # (user id, display name) for the assignee select; "" is nobody.
    assignees: list[tuple[str, str]]


def _task_event(case: Case, user: User, task: Task, change: str) -> CaseEvent:
    return CaseEvent.record(case, user, EventKind.TASK, change=change, title=task.title, key=task.key,
                            task_id=task.id)


def _refuse_closed(case: Case) -> None:
    if case.status is CaseStatus.CLOSED:
        raise WorkflowError(_("This case is closed: its tasks cannot change."))


def assignable_staff() -> list[User]:
    """The active handlers and supervisors (who may hold a case or a task), by name."""
    return list(db.session.scalars(
        select(User).where(User.active.is_(True), User.role.in_(ASSIGNABLE_ROLES))
        .order_by(User.display_name, User.id)))


def parse_user_id(value: str | int | None) -> int | None:
    """A staff member's id as a form sends it ("" or None for nobody); WorkflowError for anything else."""
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise WorkflowError(_("Choose a handler from the list.")) from None


def _assignee(assignee_id: str | int | None) -> User | None:
    assignee_id = parse_user_id(assignee_id)
    if assignee_id is None:
        return None
    user = db.session.get(User, assignee_id)
    if user is None or not user.active or user.role not in ASSIGNABLE_ROLES:
        raise WorkflowError(_("Choose an active handler or supervisor."))
    return user


def _next_position(case: Case) -> int:
    return (db.session.scalar(select(func.max(Task.position)).where(Task.case_id == case.id)) or 0) + 1


def add_task(user: User, case: Case, title: str, assignee_id: str | int | None, due_on: date | None) -> Task:
    """A task added by hand (assignee_id as the form sent it). An open task with the same title is refused (a form
    sent twice adds it once)."""
    require(user, Permission.WORK_CASES)
    _refuse_closed(case)
    title = portal.checked_text(title or "", TITLE_MAX_CHARS, required=True)
    assignee = _assignee(assignee_id)
    same = db.session.scalar(select(Task.id).where(Task.case_id == case.id, Task.title == title,
                                                   Task.done_at.is_(None)).limit(1))
    if same is not None:
        raise WorkflowError(_("This case already has an open task “%(title)s”.", title=title))
    task = Task(case=case, title=title, assignee=assignee, due_on=due_on, position=_next_position(case),
                created_by=user)
    db.session.add(task)
    db.session.flush()
    _task_event(case, user, task, "added")
    return task


def task_of(case: Case, task_id: int) -> Task:
    """The case's task with this id; 404 for another case's task or none."""
    task = db.session.scalar(select(Task).where(Task.id == task_id, Task.case_id == case.id))
    if task is None:
        raise NotFound(_("This case has no such task."))
    return task


def complete_task(user: User, case: Case, task_id: int) -> Task:
    """Mark a task done; refused when it already is."""
    return _set_done(user, case, task_id, done=True)


def reopen_task(user: User, case: Case, task_id: int) -> Task:
    """Mark a done task open again; refused when it is open."""
    return _set_done(user, case, task_id, done=False)


def _set_done(user: User, case: Case, task_id: int, *, done: bool) -> Task:
    require(user, Permission.WORK_CASES)
    _refuse_closed(case)
    task = task_of(case, task_id)
    state = Task.done_at.is_(None) if done else Task.done_at.is_not(None)
    changed = db.session.execute(
        update(Task).where(Task.id == task.id, state)
        .values(done_at=utcnow() if done else None, done_by_id=user.id if done else None)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if changed != 1:
        db.session.refresh(task)
        if done:
            raise WorkflowError(_("“%(title)s” is already done. Nothing was changed.", title=task.display_title))
        raise WorkflowError(_("“%(title)s” is already open. Nothing was changed.", title=task.display_title))
    db.session.refresh(task)
    _task_event(case, user, task, "done" if done else "reopened")
    return task


def add_checklist(user: User, case: Case) -> list[Task]:
    """Add the incident type's active checklist items the case does not have yet; returns the tasks added."""
    require(user, Permission.WORK_CASES)
    have = set(db.session.scalars(select(Task.template_item_id).where(
        Task.case_id == case.id, Task.template_item_id.is_not(None))))
    items = db.session.scalars(
        select(TaskTemplateItem).where(TaskTemplateItem.incident_type == case.incident_type,
                                       TaskTemplateItem.active.is_(True))
        .order_by(TaskTemplateItem.position, TaskTemplateItem.id))
    position = _next_position(case)
    added = []
    for item in items:
        if item.id in have:
            continue
        with force_locale("en"):  # the stored title is the record; a shipped key is shown in the reader's language
            title = item.display_title
        due_on = (case.submitted_at + timedelta(days=item.due_days)).date() if item.due_days is not None else None
        task = Task(case=case, title=title, key=None if item.title else item.key, due_on=due_on, position=position,
                    template_item_id=item.id, created_by=user)
        position += 1
        db.session.add(task)
        added.append(task)
    db.session.flush()
    for task in added:
        _task_event(case, user, task, "added")
    return added


def _name(user: User | None) -> str | None:
    return user.display_name if user is not None else None


def task_section(user: User, case: Case) -> TaskSection:
    """The case's tasks for user (who may see the case), open first."""
    require(user, Permission.VIEW_CASES)
    rows = list(db.session.scalars(select(Task).where(Task.case_id == case.id)))
    open_rows = sorted((t for t in rows if t.done_at is None), key=lambda t: (t.position, t.id))
    done_rows = sorted((t for t in rows if t.done_at is not None), key=lambda t: t.done_at, reverse=True)
    today = utcnow().date()
    can_work = can(user, Permission.WORK_CASES) and case.status is not CaseStatus.CLOSED
    assignees = []
    if can_work:
        assignees = [(str(u.id), u.display_name) for u in assignable_staff()]
    return TaskSection(
        tasks=[
            TaskLine(id=t.id, title=t.display_title, assignee=_name(t.assignee), due_on=t.due_on,
                     overdue=t.done_at is None and t.due_on is not None and t.due_on < today,
                     done=t.done_at is not None, done_by=_name(t.done_by), done_at=t.done_at,
                     created_by=_name(t.created_by), created_at=t.created_at)
            for t in [*open_rows, *done_rows]
        ],
        open_count=len(open_rows),
        can_work=can_work,
        assignees=assignees,
    )
