"""`flask cases transition|priority|merge`: the console's service functions and permission checks, run as the
--as user; a refusal is one line and exit status 1, and changes nothing."""

from __future__ import annotations

from sqlalchemy import select

from casework.extensions import db
from casework.models import Case, CaseEvent, CaseStatus, EventKind, Priority, Resolution, Role


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=["cases", *args])


def fresh(case_id: int) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case_id)


def one_line_refusal(result, text: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    [line] = [line for line in result.output.splitlines() if line.strip()]
    assert text in line, line


def test_transition_moves_a_case_and_closing_needs_its_details(app, make_case, make_user):
    handler = make_user(Role.HANDLER)
    filed = make_case()
    moved = run(app, "transition", filed.reference.lower(), "triage", "--reason", "reading it", "--as", handler.email)
    assert moved.exit_code == 0, moved.output
    assert f"{filed.reference}: status is now triage." in moved.output
    refused = run(app, "transition", filed.reference, "closed", "--reason", "done", "--as", handler.email)
    one_line_refusal(refused, "Choose a resolution before closing the case.")
    closed = run(app, "transition", filed.reference, "closed", "--reason", "done", "--as", handler.email,
                 "--resolution", "unrecoverable", "--victim-summary", "We could not recover the funds.")
    assert closed.exit_code == 0, closed.output
    case = fresh(filed.case_id)
    assert case.status is CaseStatus.CLOSED and case.resolution is Resolution.UNRECOVERABLE
    [event] = [e for e in case.events if e.action is EventKind.STATUS and e.data["after"] == "closed"]
    assert event.actor_id == handler.id and event.summary == "done"


def test_transition_refuses_an_illegal_move_a_legal_user_and_an_unknown_case_or_account(app, make_case, make_user):
    filed = make_case()
    handler, legal = make_user(Role.HANDLER), make_user(Role.LEGAL)
    one_line_refusal(run(app, "transition", filed.reference, "recovery", "--reason", "x", "--as", handler.email),
                     "can become: Triage, Awaiting victim")
    one_line_refusal(run(app, "transition", filed.reference, "triage", "--reason", "x", "--as", legal.email),
                     "Your role does not allow this.")
    one_line_refusal(run(app, "transition", "CW-1999-000001", "triage", "--reason", "x", "--as", handler.email),
                     "There is no case CW-1999-000001")
    one_line_refusal(run(app, "transition", filed.reference, "triage", "--reason", "x", "--as", "nobody@example.org"),
                     "There is no active staff account nobody@example.org")
    assert fresh(filed.case_id).status is CaseStatus.SUBMITTED


def test_priority_is_set_by_a_supervisor_only_and_given_back_to_the_facts(app, make_case, make_user):
    filed = make_case()
    supervisor, handler = make_user(Role.SUPERVISOR), make_user(Role.HANDLER)
    one_line_refusal(run(app, "priority", filed.reference, "low", "--reason", "x", "--as", handler.email),
                     "Your role does not allow this.")
    done = run(app, "priority", filed.reference, "low", "--reason", "small loss", "--as", supervisor.email)
    assert done.exit_code == 0 and "priority is now low (set by hand)" in done.output
    assert fresh(filed.case_id).priority is Priority.LOW
    back = run(app, "priority", filed.reference, "facts", "--reason", "rule is right", "--as", supervisor.email)
    assert back.exit_code == 0 and "priority is now high (from the facts)" in back.output
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == filed.case_id,
                                                        CaseEvent.action == EventKind.PRIORITY)).all()
    assert [(e.data["after"], e.data["override"], e.actor_id) for e in events] == [
        ("low", True, supervisor.id), ("high", False, supervisor.id)]


def test_merge_runs_the_same_service_and_refusals(app, make_case, make_user):
    target, duplicate = make_case(), make_case()
    supervisor, handler = make_user(Role.SUPERVISOR), make_user(Role.HANDLER)
    one_line_refusal(run(app, "merge", duplicate.reference, target.reference, "--reason", "x", "--as", handler.email),
                     "Your role does not allow this.")
    one_line_refusal(run(app, "merge", duplicate.reference, duplicate.reference, "--reason", "x",
                         "--as", supervisor.email), "A case cannot be merged into itself")
    done = run(app, "merge", duplicate.reference, target.reference, "--reason", "same theft", "--as", supervisor.email)
    assert done.exit_code == 0, done.output
    assert f"{duplicate.reference}: merged into {target.reference} and closed as a duplicate." in done.output
    case = fresh(duplicate.case_id)
    assert case.merged_into_id == target.case_id and case.resolution is Resolution.DUPLICATE
    again = run(app, "merge", duplicate.reference, target.reference, "--reason", "same", "--as", supervisor.email)
    one_line_refusal(again, f"was already merged into {target.reference}")
