"""The /api/v1 endpoints: thin, as the console's views are. Each parses its input (the schemas), calls the same
service function the console calls with the token's user, commits, and returns plain values."""

from __future__ import annotations

import re

import marshmallow as ma
from flask import abort, g
from flask_babel import gettext as _
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from casework.api import schemas
from casework.api.errors import ErrorSchema, json_error
from casework.extensions import db
from casework.models import Case, CaseStatus, IncidentType, Priority, ReferralStatus, User
from casework.services import case_facts, case_page, queue, recoveries, referrals, thread, workflow
from casework.services import cases as case_service

bp = Blueprint("api", __name__, url_prefix="/api/v1", description="Cases, notes, transitions and referrals.")
REFERENCE = re.compile(r"[A-Za-z]{2}-\d{4}-\d{6}")


def _user() -> User:
    return g.api_user


def _case(reference: str) -> Case:
    """The case the path names, for the token's user (a malformed reference is simply not found)."""
    if not REFERENCE.fullmatch(reference):
        abort(404)
    return case_service.get_for(_user(), reference)


def _find(user: User, args: dict) -> tuple[list[Case], bool]:
    """The cases of the list endpoint and whether there is a next page: the console queue's own search and order
    (queue.find_cases), from the arguments the schema validated."""
    query = queue.QueueQuery(
        statuses=tuple(CaseStatus(s) for s in args["status"]) if args.get("status") else queue.OPEN_STATUSES,
        priority=Priority(args["priority"]) if args.get("priority") else None,
        incident_type=IncidentType(args["incident_type"]) if args.get("incident_type") else None,
        chain_id=args.get("chain_id"), handler_id=args.get("handler_id"), unassigned=bool(args.get("unassigned")),
        created_from=args.get("created_from"), created_to=args.get("created_to"), q=(args.get("q") or "").strip(),
        sort=args["sort"], page=args["page"], per_page=args["per_page"],
    )
    found = queue.find_cases(user, query)
    references = [line.reference for line in found.lines]
    by_reference = {case.reference: case for case in db.session.scalars(
        select(Case).where(Case.reference.in_(references))
        .options(selectinload(Case.losses), selectinload(Case.assigned_handler), selectinload(Case.referrals)))}
    return [by_reference[reference] for reference in references], found.has_next


@bp.get("/cases")
@bp.arguments(schemas.CaseQuerySchema, location="query", as_kwargs=True, unknown=ma.RAISE)
@bp.response(200, schemas.CasePageSchema)
@bp.doc(summary="List and search cases", description="Open cases, most urgent first, unless `status` or `sort` "
        "says otherwise.")
def list_cases(**args):
    lines, has_next = _find(_user(), args)
    return {"items": [case_facts.case_line(case) for case in lines], "page": args["page"],
            "per_page": args["per_page"], "has_next": has_next}


@bp.get("/cases/<reference>")
@bp.response(200, schemas.CaseSchema)
@bp.doc(summary="Get a case")
def get_case(reference: str):
    case = _case(reference)
    if case_page.record_view(_user(), case) is not None:  # staff reading a case is logged, as on the case page
        db.session.commit()
    return case_facts.case_facts(_user(), case)


@bp.post("/cases/<reference>/notes")
@bp.arguments(schemas.NoteInSchema)
@bp.response(201, schemas.NoteSchema)
@bp.doc(summary="Add an internal note", description="Staff only; the victim never sees it. Needs a role that "
        "works cases.")
def add_note(body: dict, reference: str):
    case = _case(reference)
    note = thread.add_note(_user(), case, body["body"])
    db.session.commit()
    return {"id": note.id, "case_reference": case.reference, "created_at": note.created_at}


@bp.post("/cases/<reference>/transitions")
@bp.arguments(schemas.TransitionInSchema)
@bp.response(200, schemas.TransitionSchema)
@bp.alt_response(409, schema=ErrorSchema, description="`conflict`: the case's status does not allow this change (the "
                 "message says what it allows); `stale`: the case changed since `expected`. Nothing was changed.")
@bp.doc(summary="Change a case's status", description="The console's status change: the same table of allowed "
        "moves, closing rules and permissions.")
def transition(body: dict, reference: str):
    case = _case(reference)
    event = workflow.transition_case(
        case, body["to"], actor=_user(), reason=body["reason"], expected=body.get("expected"),
        resolution=body.get("resolution"), victim_summary=body.get("victim_summary"),
        confirm_open_referrals=body["confirm_open_referrals"], confirm_open_tasks=body["confirm_open_tasks"],
    )
    db.session.commit()
    return {"event_id": event.id, "case": case_facts.case_line(case)}


@bp.get("/cases/<reference>/referrals")
@bp.response(200, schemas.ReferralListSchema)
@bp.doc(summary="List a case's referrals")
def list_referrals(reference: str):
    case = _case(reference)
    return {"items": [case_facts.referral_facts(r) for r in referrals.referrals_of(_user(), case)]}


@bp.patch("/referrals/<int:referral_id>")
@bp.arguments(schemas.ReferralUpdateSchema)
@bp.response(200, schemas.ReferralSchema)
@bp.alt_response(409, schema=ErrorSchema, description="`bad_amount`: the amount cannot be recorded (too many "
                 "decimals for the asset, more than reached the target, no such asset, or sent with another status "
                 "than frozen or returned); `conflict`: the referral's status does not allow this "
                 "change; `stale`: it changed since `expected`. Nothing was changed.")
@bp.doc(summary="Record a referral's new status", description="E.g. an exchange's compliance desk posting "
        "`frozen` with the amount it froze. Needs a role that works cases.")
def update_referral(body: dict, referral_id: int):
    referral = referrals.get_referral_for(_user(), referral_id)
    if body.get("amount") is None:
        referrals.update_referral(_user(), referral, body["status"], note=body.get("note"),
                                  expected=body.get("expected"))
    elif body["status"] not in (ReferralStatus.FROZEN.value, ReferralStatus.RETURNED.value):
        return json_error(409, _("Send an amount only with the status frozen or returned."), code="bad_amount")
    else:
        try:
            recoveries.record_recovery(_user(), referral, body["status"], body["amount"],
                                       asset=body.get("asset"), expected=body.get("expected"), note=body.get("note"))
        except recoveries.BadAmount as problem:
            db.session.rollback()
            return json_error(409, problem.message, code="bad_amount")
    db.session.commit()
    return case_facts.referral_facts(referral)
