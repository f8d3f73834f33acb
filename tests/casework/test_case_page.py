"""The staff case page's view-model and the fund-flow graph: access is checked in the service, and
templates get plain values (no query-running globals)."""

import pytest
from werkzeug.exceptions import NotFound

from casework.extensions import db
from casework.models import Role, TraceRun
from casework.services import case_page, queue
from casework.services.access import AccessDenied
from evidence.trace import FlowGraph

EMPTY_GRAPH = FlowGraph(chain_id=1, seeds=(), from_block=0, to_block=0, max_depth=1, max_breadth=1, nodes=(),
                        edges=(), proposals=(), records=()).to_dict()


def _trace_run(case) -> TraceRun:
    run = TraceRun(case_id=case.id, chain_id=1, graph=EMPTY_GRAPH)
    db.session.add(run)
    db.session.commit()
    return run


def _deactivated(make_user):
    user = make_user(Role.HANDLER)
    user.active = False
    db.session.commit()
    return user


def test_the_case_page_is_refused_to_a_user_without_access(make_user, make_case):
    case = make_case().case
    with pytest.raises(AccessDenied):
        case_page.case_page(_deactivated(make_user), case.reference)


def test_the_flow_graph_is_refused_to_a_user_without_access(make_user, make_case):
    case = make_case().case
    run = _trace_run(case)
    with pytest.raises(AccessDenied):
        case_page.flow_graph_svg(_deactivated(make_user), case.reference, run.id)


def test_another_cases_graph_is_not_found_through_this_case(make_user, make_case):
    mine, other = make_case().case, make_case().case
    run = _trace_run(other)
    handler = make_user(Role.HANDLER)
    with pytest.raises(NotFound):
        case_page.flow_graph_svg(handler, mine.reference, run.id)
    assert case_page.flow_graph_svg(handler, other.reference, run.id).startswith("<svg")


def test_the_view_model_holds_plain_values(make_user, make_case):
    case = make_case(summary="My USDT was taken.").case
    page = case_page.case_page(make_user(Role.LEGAL), case.reference)
    assert page.reference == case.reference and page.statement == "My USDT was taken."
    assert page.losses[0].amount == "2,500" and page.losses[0].symbol == "USDT"
    assert {line.role for line in page.addresses} == {"Victim", "Attacker"}
    assert not (page.actions.reply or page.actions.add_note or page.actions.run_evidence or page.actions.confirm_theft)
    assert page.timeline and all(isinstance(entry.title, str) for entry in page.timeline)


def test_templates_get_no_service_functions(app):
    names = {"evidence_jobs", "evidence_transfers", "evidence_head", "latest_trace", "other_cases",
             "chain_registry", "timedelta", "theft_patterns"}
    assert names.isdisjoint(app.jinja_env.globals)


def test_the_queue_is_refused_without_access_and_lists_plain_values(make_user, make_case):
    case = make_case().case
    with pytest.raises(AccessDenied):
        queue.find_cases(_deactivated(make_user), queue.QueueQuery())
    [line] = queue.find_cases(make_user(Role.HANDLER), queue.QueueQuery()).lines
    assert (line.reference, line.losses, line.handler) == (case.reference, "2,500 USDT", None)
