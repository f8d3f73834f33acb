"""What the scheduler wrote is read in the reader's language: a job's result, progress and failure, and the staff
timeline's summaries of capture, discovery and trace are stored as messages and data, put into words when the case
page is built. Rows written before (English text) are still shown as they were stored. Against the real devnet."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from casework.extensions import db
from casework.messages import say, words
from casework.models import (
    Case,
    CaseEvent,
    EventKind,
    EvidenceJob,
    IncidentType,
    JobKind,
    JobStatus,
    Role,
    utcnow,
)
from casework.services import chains, demo, jobs, tracing
from tests.evidence.faultproxy import FaultProxy
from tests.fixtures.factories import run_evidence_work

CHINESE = {"Accept-Language": "zh-CN,zh;q=0.9"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


@pytest.fixture
def phishing_case(app, devnet, staged_thefts) -> Case:
    demo.file_demo_cases(staged_thefts, first_hour_work=False)
    demo.import_devnet_labels(staged_thefts)
    return db.session.scalar(select(Case).where(Case.incident_type == IncidentType.APPROVAL_PHISHING))


@pytest.fixture
def read_page(client, login, make_user):
    """The staff case page's text as a handler reading it in a language sees it."""
    login(make_user(Role.HANDLER))

    def read(case: Case, language: dict[str, str]) -> str:
        response = client.get(f"/staff/cases/{case.reference}", headers=language)
        assert response.status_code == 200
        return html.unescape(response.get_data(as_text=True))

    return read


def _by_the_scheduler(case: Case, staged_thefts) -> None:
    run_evidence_work(case, staged_thefts.chain_id)
    assert {job.status for job in jobs.jobs_for(case)} == {JobStatus.DONE}


def test_the_results_of_jobs_the_scheduler_ran_are_in_the_readers_language(phishing_case, staged_thefts, read_page):
    _by_the_scheduler(phishing_case, staged_thefts)
    chinese, english = read_page(phishing_case, CHINESE), read_page(phishing_case, ENGLISH)
    assert re.search(r"已固定 \d+ 笔，\d+ 笔资金流动", chinese)
    assert re.search(r"发现 \d+ 笔转出和授权：请确认哪些属于被盗。", chinese)
    assert re.search(r"已追踪 \d+ 跳；建议 \d+ 项冻结申请。", chinese)
    assert re.search(r"\d+ captured, \d+ value movements?", english)
    assert re.search(r"\d+ outgoing transfers? (or|and) approvals? found: confirm", english)
    assert re.search(r"\d+ hops? traced; \d+ freeze requests? proposed\.", english)
    for leftover in ("captured, ", "hops traced", "freeze request", "value movement", "approvals found"):
        assert leftover not in chinese


def test_the_timeline_summaries_of_capture_discovery_and_trace_are_in_the_readers_language(
        phishing_case, staged_thefts, read_page):
    _by_the_scheduler(phishing_case, staged_thefts)
    events = {event.action: event for event in phishing_case.events}
    assert {EventKind.EVIDENCE, EventKind.DISCOVERY, EventKind.TRACE} <= events.keys()
    assert all(events[kind].summary == "" for kind in (EventKind.EVIDENCE, EventKind.DISCOVERY, EventKind.TRACE))
    chinese, english = read_page(phishing_case, CHINESE), read_page(phishing_case, ENGLISH)
    assert re.search(r"\d+ 条原始记录，\d+ 笔资金流动", chinese)
    assert re.search(r"发现 \d+ 笔转出交易", chinese)
    assert re.search(r"\d+ 跳，\d+ 项冻结建议", chinese)
    assert re.search(r"\d+ raw records?, \d+ value movements?", english)
    assert re.search(r"\d+ outgoing transfers? found", english)
    assert re.search(r"\d+ hops?, \d+ freeze proposals?", english)
    for leftover in ("raw record", "transfers found", "freeze proposal"):
        assert leftover not in chinese


def test_a_failed_attempt_says_why_and_when_it_is_retried_in_the_readers_language(app, devnet, phishing_case,
                                                                                  read_page):
    with FaultProxy(devnet.rpc_url) as proxy:
        app.config["DEVNET_RPC_URL"] = proxy.url
        chains.init_app(app)
        proxy.fail_next(*["500"] * 50)
        [job] = jobs.capture_reported(phishing_case, actor=None)
        db.session.commit()
        jobs.run_due_jobs()
    db.session.refresh(job)
    assert job.status is JobStatus.QUEUED
    retry_at = job.next_attempt_at.strftime("%H:%M:%S")
    chinese, english = read_page(phishing_case, CHINESE), read_page(phishing_case, ENGLISH)
    assert f"将于 UTC {retry_at} 重试" in chinese and f"Will retry at {retry_at} UTC" in english
    # The evidence package's own message is English (it has no translations); ours around it is not.
    assert "无法读取链上数据：" in chinese and "The chain could not be read: " in english
    assert "could not be read" not in chinese


def test_a_job_its_worker_abandoned_is_explained_in_the_readers_language(app, phishing_case, read_page):
    job = jobs.enqueue(phishing_case, "capture", {"chain_id": 31337, "tx_hashes": ["0x" + "ab" * 32]}, actor=None)
    db.session.commit()
    moment = utcnow()
    for _ in range(jobs.MAX_ATTEMPTS):
        assert jobs.claim_next(moment).id == job.id
        moment += jobs.LEASE + timedelta(seconds=1)  # the worker is killed: it never reports back
    assert jobs.claim_next(moment) is None
    db.session.expire_all()
    assert db.session.get(EvidenceJob, job.id).status is JobStatus.FAILED
    chinese, english = read_page(phishing_case, CHINESE), read_page(phishing_case, ENGLISH)
    assert f"运行此任务的进程已 {jobs.MAX_ATTEMPTS} 次未完成就中止" in chinese
    assert f"{jobs.MAX_ATTEMPTS} 次尝试后失败" in chinese
    assert f"The worker running this job stopped {jobs.MAX_ATTEMPTS} times without finishing" in english
    assert f"Failed after {jobs.MAX_ATTEMPTS} attempts" in english


def test_jobs_and_events_written_before_messages_show_their_stored_text(phishing_case, read_page):
    db.session.add(EvidenceJob(case_id=phishing_case.id, kind=JobKind.CAPTURE, params={"chain_id": 31337},
                               status=JobStatus.FAILED, attempts=4, progress_text="Failed after 4 attempts",
                               error_text="RPC endpoint answered HTTP 500"))
    CaseEvent.record(phishing_case, None, EventKind.DISCOVERY, summary="7 outgoing transfers found", chain_id=31337,
                     since="2026-11-01T00:00:00+00:00", until="2026-11-02T00:00:00+00:00")
    CaseEvent.record(phishing_case, None, EventKind.TRACE, summary="3 hops, 1 freeze proposals", chain_id=31337,
                     trace_run_id=None)
    db.session.commit()
    page = read_page(phishing_case, CHINESE)
    for stored in ("Failed after 4 attempts", "RPC endpoint answered HTTP 500", "7 outgoing transfers found",
                   "3 hops, 1 freeze proposals"):
        assert stored in page


def test_only_known_messages_are_stored_and_unknown_ones_are_not_shown(app):
    with pytest.raises(KeyError):
        say("job.no_such_message", n=1)
    assert words({"key": "job.no_such_message", "values": {}}) is None
    assert words(say("job.running", attempt=2)) == "Running (attempt 2)"


def test_a_transaction_a_handler_confirmed_is_noted_in_the_readers_language(phishing_case, read_page, make_user):
    case = db.session.scalar(select(Case).where(Case.incident_type == IncidentType.LEAKED_SECRET))
    jobs.queue_discovery(case, 31337, case.incident_at - timedelta(hours=6), case.discovered_at + timedelta(hours=6),
                         actor=None)
    db.session.commit()
    jobs.run_due_jobs()
    drain = tracing.outgoing_from_victims(case)[0]
    tracing.confirm_theft(case, drain.id, actor=make_user(Role.HANDLER))
    db.session.commit()
    chinese, english = read_page(case, CHINESE), read_page(case, ENGLISH)
    assert f"{drain.tx_hash}</code> · Local devnet — 已由处理人员确认" in chinese
    assert f"{drain.tx_hash}</code> · Local devnet — confirmed by a handler" in english
