"""The checklist templates, per incident type, as admins edit them (Permission.MANAGE_TEMPLATES).

A shipped item (seeded with a `key`) shows its title in the reader's language until an admin writes a title of their
own; clearing the title brings the shipped one back. Items are never deleted, only deactivated: a case's tasks keep
pointing at the item they came from. A change applies to checklists added afterwards, not to existing tasks.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.exceptions import NotFound

from casework.extensions import db
from casework.models import IncidentType, TaskTemplateItem, User
from casework.models.tasks import TITLE_MAX_CHARS, task_title
from casework.services import portal
from casework.services.access import Permission, require
from casework.services.workflow import WorkflowError

MAX_DUE_DAYS = 365


@dataclass(frozen=True)
class TemplateItemLine:
    id: int
    title: str
    # The shipped title in the reader's language when the item has one (shown as a hint while editing).
    shipped_title: str | None
    custom_title: str
    position: int
    due_days: int | None
    active: bool


@dataclass(frozen=True)
class TemplateGroup:
    incident_type: str
    incident: str
    items: list[TemplateItemLine]


def template_groups(user: User) -> list[TemplateGroup]:
    """Every incident type's checklist items (active first, in order), for the admin page."""
    require(user, Permission.MANAGE_TEMPLATES)
    items = list(db.session.scalars(select(TaskTemplateItem).order_by(
        TaskTemplateItem.active.desc(), TaskTemplateItem.position, TaskTemplateItem.id)))
    return [
        TemplateGroup(
            incident_type=kind.value, incident=kind.title,
            items=[
                TemplateItemLine(id=item.id, title=item.display_title,
                                 shipped_title=task_title(item.key) if item.key else None,
                                 custom_title=item.title or "", position=item.position, due_days=item.due_days,
                                 active=item.active)
                for item in items if item.incident_type is kind
            ],
        )
        for kind in IncidentType
    ]


def _checked(title: str | None, due_days: int | None, *, required: bool) -> tuple[str | None, int | None]:
    title = portal.checked_text(title or "", TITLE_MAX_CHARS, required=required) or None
    if due_days is not None and not 0 <= due_days <= MAX_DUE_DAYS:
        raise WorkflowError(_("Give the due date as 0 to %(max)d days after the report.", max=MAX_DUE_DAYS))
    return title, due_days


def add_item(user: User, incident_type: IncidentType | str, title: str, due_days: int | None,
             position: int | None = None) -> TaskTemplateItem:
    """A new checklist item for an incident type (last unless a position is given). The caller commits."""
    require(user, Permission.MANAGE_TEMPLATES)
    try:
        incident_type = IncidentType(incident_type)
    except ValueError:
        raise WorkflowError(_("Choose an incident type from the list.")) from None
    title, due_days = _checked(title, due_days, required=True)
    if position is None:
        position = (db.session.scalar(select(func.max(TaskTemplateItem.position))
                                      .where(TaskTemplateItem.incident_type == incident_type)) or 0) + 1
    item = TaskTemplateItem(incident_type=incident_type, title=title, due_days=due_days, position=position,
                            active=True)
    db.session.add(item)
    return item


def _item(item_id: int) -> TaskTemplateItem:
    item = db.session.get(TaskTemplateItem, item_id)
    if item is None:
        raise NotFound(_("There is no such checklist item."))
    return item


def edit_item(user: User, item_id: int, *, title: str, due_days: int | None, position: int) -> TaskTemplateItem:
    """Change an item's title (empty: a shipped item's own title again), due days and position."""
    require(user, Permission.MANAGE_TEMPLATES)
    item = _item(item_id)
    title, due_days = _checked(title, due_days, required=item.key is None)
    item.title, item.due_days, item.position = title, due_days, position
    return item


def set_active(user: User, item_id: int, active: bool) -> TaskTemplateItem:
    """Deactivate an item (new checklists leave it out) or activate it again."""
    require(user, Permission.MANAGE_TEMPLATES)
    item = _item(item_id)
    item.active = active
    return item
