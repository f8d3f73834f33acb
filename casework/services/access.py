"""Who may do what. Every service that reads or changes a case checks here, not in the views."""

from __future__ import annotations

import enum

from flask_babel import gettext as _

from casework.models import Role, User


class AccessDenied(Exception):
    """The signed-in user's role does not allow the operation; the message is shown to them."""


class Permission(enum.Enum):
    VIEW_CASES = "view_cases"
    WORK_CASES = "work_cases"
    REOPEN_CASES = "reopen_cases"
    ASSIGN_CASES = "assign_cases"
    OVERRIDE_PRIORITY = "override_priority"
    MERGE_CASES = "merge_cases"
    MANAGE_TEMPLATES = "manage_templates"
    DOWNLOAD_DOSSIERS = "download_dossiers"
    MANAGE_USERS = "manage_users"
    MANAGE_DIRECTORY = "manage_directory"
    SET_ON_DUTY = "set_on_duty"  # who hears about unassigned cases (casework.services.alerts)
    VIEW_SLA = "view_sla"  # the SLA page: at-risk and breached cases, compliance (casework.services.sla_page)
    MANAGE_SLA = "manage_sla"  # SLA policies and calendars (casework.services.sla_admin)


# Admins hold every permission (User.has_role treats admin as every role).
GRANTS: dict[Permission, frozenset[Role]] = {
    Permission.VIEW_CASES: frozenset({Role.HANDLER, Role.SUPERVISOR, Role.LEGAL}),
    Permission.WORK_CASES: frozenset({Role.HANDLER, Role.SUPERVISOR}),
    Permission.REOPEN_CASES: frozenset({Role.SUPERVISOR}),
    Permission.ASSIGN_CASES: frozenset({Role.SUPERVISOR}),
    Permission.OVERRIDE_PRIORITY: frozenset({Role.SUPERVISOR}),
    Permission.MERGE_CASES: frozenset({Role.SUPERVISOR}),
    Permission.MANAGE_TEMPLATES: frozenset(),
    Permission.DOWNLOAD_DOSSIERS: frozenset({Role.HANDLER, Role.SUPERVISOR, Role.LEGAL}),
    Permission.MANAGE_USERS: frozenset(),
    Permission.MANAGE_DIRECTORY: frozenset(),
    Permission.SET_ON_DUTY: frozenset({Role.SUPERVISOR}),
    Permission.VIEW_SLA: frozenset({Role.SUPERVISOR}),
    Permission.MANAGE_SLA: frozenset(),
}


def can(user: User | None, permission: Permission) -> bool:
    """True when user is an active staff member whose role grants permission."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return False
    return user.has_role(*GRANTS[permission])


def require(user: User | None, permission: Permission) -> None:
    """Raise AccessDenied unless user holds permission."""
    if not can(user, permission):
        raise AccessDenied(_("Your role does not allow this. Ask a supervisor or an administrator."))
