"""Every page of the app, staff and victim, rendered in Chinese: no message falls back to English and no raw
code (an enum value, a category, an event kind) is shown.

Every GET route of app.url_map is opened (a new route fails the test until it is given here), on a case with
evidence, a trace and freeze proposals, a victim's draft, a signed-in staff member and a victim's private link.
A page fails when the visible text (text nodes, alt, title, placeholder, aria-label; for the PDF its text; for
the SVG its texts) holds the English of a catalogue entry whose Chinese differs, or a raw code. What users
typed is Chinese here, and addresses, hashes, brand and chain names are never catalogue entries, so they do
not count.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.pofile import read_po
from flask_babel import force_locale
from pypdf import PdfReader
from sqlalchemy import select

from casework.extensions import db
from casework.models import Case, Document, IncidentType, Role, TraceRun
from casework.models import enums as model_enums
from casework.services import (
    assignment,
    case_page,
    dashboard,
    demo,
    dossiers,
    labels,
    portal,
    sla_page,
    thread,
    uploads,
)
from casework.services.tokens import new_access_token
from tests.casework.test_report_wizard import answers, post_step, submit
from tests.fixtures.factories import csrf_token, run_evidence_work

CATALOGUE = Path(__file__).resolve().parents[2] / "casework/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
CHINESE = "zh-CN,zh;q=0.9"
_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")
_SNAKE_CASE = re.compile(r"(?<![\w@./-])[a-z]+(?:_[a-z0-9]+)+(?![\w@/-])")
# Where one text node holds several pieces: "#3 取证 · 完成 · <result>", "<time> — <title>: <summary>".
_SEPARATORS = re.compile(r"\s*(?:·|—|–|:|;|；|：|\(|\)|（|）)\s*")

def _fragments(text: str) -> list[str]:
    return [part.strip() for part in _PLACEHOLDER.split(text) if part.strip()]


def _pattern(english: str) -> re.Pattern:
    parts = _PLACEHOLDER.split(english)
    return re.compile(".+?".join(re.escape(part) for part in parts).replace("%%", "%"), re.DOTALL)


def catalogue_entries() -> list[tuple[str, re.Pattern, bool, str]]:
    """(English, its pattern, whether to look for it in the running text too, its longest literal part) for each
    entry whose Chinese differs."""
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    entries = []
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        chinese = " ".join(message.string if isinstance(message.string, tuple) else (message.string,))
        for english in ids:
            static = " ".join(_fragments(english))
            if not re.search(r"[A-Za-z]{2}", static) or static == " ".join(_fragments(chinese)):
                continue
            longest = max(_fragments(english), key=len).replace("%%", "%")
            entries.append((english, _pattern(english), len(static.split()) >= 3, longest))
    return entries


def raw_codes() -> set[str]:
    """Codes that must never be shown as they are: enum values, label categories, theft patterns, job and
    event kinds, who acted."""
    codes = {member.value for enum in vars(model_enums).values()
             if isinstance(enum, type) and issubclass(enum, model_enums.TitledEnum) for member in enum}
    codes |= set(labels.CATEGORY_TITLES) | set(case_page.ACTORS)
    return {code for code in codes if isinstance(code, str)}


COUNTRY_CODES = frozenset(code for code in Locale("en").territories if re.fullmatch("[A-Z]{2}", code))


class VisibleText(HTMLParser):
    """The text a reader sees: text nodes outside script and style, and the attributes shown as text. An SVG
    <text> is one text however many lines (<tspan>) it is drawn on. Text inside an element marked as in another
    language (lang="en": a referral's request, written for an exchange's desk) is English on purpose and left out."""

    SHOWN_ATTRIBUTES = ("alt", "title", "placeholder", "aria-label")

    def __init__(self) -> None:
        super().__init__()
        self.nodes: list[str] = []
        self.options: list[str] = []  # the entries of select lists (time zones there are IANA names, e.g. "GB")
        self._hidden = 0
        self._option = False
        self._svg_text: list[str] | None = None
        self._foreign: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        if tag == "text":
            self._svg_text = []
        if dict(attrs).get("lang", "zh").startswith("en") and tag not in ("html", "input", "img", "br", "meta"):
            self._foreign.append(tag)
            self._hidden += 1
        self._option = tag == "option"
        values = dict(attrs)
        self.nodes += [values[name] for name in self.SHOWN_ATTRIBUTES if values.get(name)]
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.nodes.append(values["value"])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1
        if tag == "text" and self._svg_text is not None:
            if self._svg_text:
                self.nodes.append(" ".join(self._svg_text))
            self._svg_text = None
        if self._foreign and self._foreign[-1] == tag:
            self._foreign.pop()
            self._hidden -= 1
        self._option = False

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self._hidden:
            (self._svg_text if self._svg_text is not None else self.options if self._option else self.nodes).append(
                text)


def visible_text(response) -> tuple[list[str], list[str]]:
    """The visible text of a response: one string per text node (or PDF line), and the select lists' entries."""
    if response.mimetype == "application/pdf":
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
        return [" ".join(line.split()) for line in text.splitlines() if line.strip()], []
    parser = VisibleText()
    parser.feed(response.get_data(as_text=True))
    return parser.nodes, parser.options


def english_left(nodes: list[str], entries, codes: set[str], options: list[str] = ()) -> set[str]:
    """The catalogue entries shown in English and the raw codes among the nodes (country codes outside lists)."""
    found = {f"country code {piece!r}" for node in nodes for piece in re.split(r"[\s:：·,，()（）]+", node)
             if piece in COUNTRY_CODES}
    nodes = [*nodes, *options]
    running = " ".join(nodes)
    pieces = set(nodes) | {piece for node in nodes for piece in _SEPARATORS.split(node) if piece}
    for english, pattern, in_running_text, longest in entries:
        # A pattern that begins with a placeholder costs a scan of the rest of the text at every position: look
        # for it only where its longest literal part is (a dossier's text runs to tens of thousands of characters).
        in_running = in_running_text and longest in running and pattern.search(running)
        if in_running or any(pattern.fullmatch(piece) for piece in pieces if longest in piece):
            found.add(english)
    for piece in pieces - {"English"}:  # the language switch names English in English, as it should
        found |= {f"raw code {code!r}" for code in _SNAKE_CASE.findall(piece)}
        if piece in codes:
            found.add(f"raw code {piece!r}")
    return found


def chinese_answers() -> dict[int, dict]:
    """The wizard's answers with everything the victim writes in Chinese."""
    steps = answers()
    steps[1]["first_contact"] = "电报上有人说可以领空投"
    steps[5]["websites"] = "airdrop-claim.example"
    steps[6]["statement"] = "我连接钱包到一个空投网站并签了名，几分钟后我的 USDT 被转走了。"
    steps[7]["name"] = "李伟"
    return steps


@pytest.fixture
def seeded(app, client, devnet, staged_thefts, make_user, task_templates, directory):
    """A phishing case with evidence, a discovery, a trace and freeze proposals (all run by the scheduler, which has
    no reader's language), with the first-hour work's drafted request and its alert; a thread; its private link; a
    staff admin."""
    staff = make_user(Role.ADMIN)
    demo.load_directory()
    demo.file_demo_cases(staged_thefts)
    demo.import_devnet_labels(staged_thefts)
    case = db.session.scalar(select(Case).where(Case.incident_type == IncidentType.APPROVAL_PHISHING))
    run_evidence_work(case, staged_thefts.chain_id)
    _send_a_freeze_request(case, staff)
    portal.send_victim_message(case, "请问我的资金能追回吗？")
    thread.reply_to_victim(staff, case, "我们正在联系交易所。")
    thread.add_note(staff, case, "已发冻结申请。")
    with force_locale("zh_Hans_CN"):  # the status change's reason is written in the taker's language
        assignment.take_case(staff, case, expected_handler_id=None)
    chat = uploads.store_upload("骗子：转 10 USDT 解锁空投\n".encode(), "聊天记录.txt", case=case).file
    token, case.access_token_hash = new_access_token()
    db.session.commit()
    run = db.session.scalars(select(TraceRun).where(TraceRun.case_id == case.id).order_by(TraceRun.id)).first()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = CHINESE
    return {"case": case, "token": token, "run": run, "staff": staff, "file": chat}


def _send_a_freeze_request(case: Case, staff) -> None:
    """The freeze request the first-hour work drafted for the directory's entry (Harbour Exchange), sent, and an
    amount frozen: the case page shows the referrals panel with every part, the portal the news."""
    from casework.models import ReferralStatus
    from casework.services import recoveries, referrals

    db.session.refresh(case)
    drafted = next(r for r in case.referrals if r.status is ReferralStatus.DRAFTED)
    referrals.send_referral(staff, drafted)
    recoveries.record_recovery(staff, drafted, "frozen", "1")


def _open(client, url: str, pages: dict[str, tuple[list[str], list[str]]]) -> None:
    response = client.get(url, follow_redirects=True)
    assert response.status_code < 400 or url == "/no-such-page", (url, response.status_code)
    pages[url] = visible_text(response)


def test_every_page_is_in_chinese(app, client, seeded):
    case, token, run = seeded["case"], seeded["token"], seeded["run"]
    pages: dict[str, tuple[list[str], list[str]]] = {}
    visited: set[str] = set()

    def visit(endpoint: str, url: str) -> None:
        _open(client, url, pages)
        visited.add(endpoint)

    visit("auth.login", "/staff/login")
    visit("public.landing", "/")
    visit("report.start", "/report/")
    steps = chinese_answers()
    for number in steps:
        visit("report.step", f"/report/step/{number}")
        assert post_step(client, number, steps[number]).status_code == 302, number
    visit("report.review", "/report/review")
    visit("report.saved", "/report/saved")
    resume = re.search(r"/report/resume/(\S+)", _resume_mail_body()).group(0)
    visit("report.resume", resume)
    assert submit(client).status_code == 302
    visit("report.done", "/report/done")
    visit("track.start", "/track")
    visit("track.new_link", "/track/new-link")
    visit("track.private_link", f"/track/{case.reference}/{token}")
    visit("track.case", f"/track/{case.reference}")
    visit("track.report_pdf", f"/track/{case.reference}/report.pdf")
    _sign_in(client, seeded["staff"])
    visit("console.cases", "/staff/cases")
    _open(client, "/staff/cases?mine=1&q=nobody-by-this-name", pages)  # the empty list and its way back
    visit("console.cases_csv", "/staff/cases.csv")
    visit("console.case_detail", f"/staff/cases/{case.reference}")
    visit("console.case_file", f"/staff/cases/{case.reference}/files/{seeded['file'].id}")
    page = f"/staff/cases/{case.reference}"
    assert client.post(f"{page}/documents", data={"audience": "evidence", "language": "zh_Hans_CN",
                                                  "csrf_token": csrf_token(client, page)}).status_code == 302
    issued = db.session.scalar(select(Document).where(Document.case_id == case.id))
    _open(client, page, pages)  # its Documents section lists the document
    # The dossier is opened but its text is not checked here: its tables and drawing wrap label and exchange names
    # ("Harbour" / "Exchange") into lines this checker would take for English words. Its Chinese is checked in
    # tests/casework/test_dossiers.py.
    assert client.get(f"{page}/documents/{issued.id}.pdf").status_code == 200
    visited.add("documents.download")
    visit("documents.transfers_sheet", f"{page}/documents/{issued.id}/transfers.csv")
    visit("documents.verify", "/verify")
    _open(client, f"/verify?code={dossiers.display_code(issued.code)}", pages)
    _open(client, "/verify?code=AAAAA-AAAAA", pages)
    visit("evidence.graph", f"/staff/cases/{case.reference}/evidence/graph/{run.id}.svg")
    visit("labels.index", "/staff/labels")
    visit("dashboard.index", "/staff/dashboard")
    for figure in dashboard.FIGURES:
        visit("dashboard.figure_csv", f"/staff/dashboard/{figure}.csv")
    _record_a_breach(case)
    visit("sla.index", "/staff/sla")
    for table in sla_page.TABLES:
        visit("sla.table_csv", f"/staff/sla/{table}.csv")
    visit("sla.admin", "/staff/admin/sla")
    # The policy file is YAML for operators and machines (its keys are the format's, like the JSON API's).
    assert client.get("/staff/admin/sla/policies.yaml").status_code == 200
    visited.add("sla.download")
    visit("admin.user_list", "/staff/admin/users")
    visit("alerts.index", "/staff/alerts")
    visit("admin.task_template_list", "/staff/admin/task-templates")
    visit("directory.index", "/staff/admin/organisations")
    _open(client, "/staff/admin/organisations?q=nothing-by-this-name&kind=police&country=CN", pages)
    visit("directory.show", "/staff/admin/organisations/harbour-exchange")
    visit("directory.show", "/staff/admin/organisations/binance")  # facts checked at their source
    visit("directory.show", "/staff/admin/organisations/imtoken")  # a wallet maker: nobody can ask it
    visit("directory.new", "/staff/admin/organisations/new")
    visit("directory.edit", "/staff/admin/organisations/binance/edit")
    visit("tokens.own", "/staff/tokens")
    visit("auth.settings", "/staff/settings")
    visit("tokens.admin_list", "/staff/admin/tokens")
    _open(client, "/no-such-page", pages)

    # The JSON API answers machines, not readers (its messages are translated: tests/casework/test_api.py).
    routes = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods
              and not rule.endpoint.startswith(("api.", "api-docs."))} - {"static"}
    assert routes <= visited, f"open these routes in this test too: {sorted(routes - visited)}"

    entries, codes = catalogue_entries(), raw_codes()
    findings = {(url, english) for url, (nodes, options) in pages.items()
                for english in english_left(nodes, entries, codes, options)}
    names = {case.reference: "<reference>", token: "<token>", f"/{run.id}.svg": "/<run_id>.svg",
             resume.rsplit("/", 1)[1]: "<token>", f"/files/{seeded['file'].id}": "/files/<id>",
             f"/documents/{issued.id}/": "/documents/<id>/"}
    left = sorted({(_generic(url, names), what) for url, what in findings})
    assert not left, "shown in English or as a code on a Chinese page:\n" + "\n".join(map(str, left))


def _record_a_breach(case: Case) -> None:
    """A clock of the case breached an hour ago (as a sweep records it): the SLA page lists it."""
    from casework.models import SlaClock, SlaMetric, utcnow

    triage = db.session.scalar(select(SlaClock).where(SlaClock.case_id == case.id,
                                                      SlaClock.metric == SlaMetric.TRIAGE))
    triage.breached_at = utcnow() - timedelta(hours=1)
    db.session.commit()


def _generic(url: str, names: dict[str, str]) -> str:
    for value, name in names.items():
        url = url.replace(value, name)
    return url


def _resume_mail_body() -> str:
    from casework.models import Notification

    return next(n.body_text for n in db.session.scalars(select(Notification)) if "/report/resume/" in n.body_text)


def _sign_in(client, user) -> None:
    from tests.fixtures.factories import PASSWORD

    response = client.post("/staff/login", data={"email": user.email, "password": PASSWORD,
                                                 "csrf_token": csrf_token(client, "/staff/login")})
    assert response.status_code == 302


def test_the_checker_finds_english_and_codes():
    entries, codes = catalogue_entries(), raw_codes()
    found = english_left(["资金追踪", "Trace the funds", "token_contract", "theft_confirmed: 已确认", "English",
                          "3 raw records, chained; latest chain hash:", "国家：CN", "0xGB"], entries, codes, ["GB"])
    assert found == {"Trace the funds", "raw code 'token_contract'", "raw code 'theft_confirmed'",
                     "%(num)d raw records, chained; latest chain hash:", "country code 'CN'"}
