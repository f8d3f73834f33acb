"""The domain's states and kinds: string-valued enums, each member with a translatable title."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class TitledEnum(enum.Enum):
    """An enum whose members carry a human title for display (translated lazily).

    A member is declared as `NAME = value, title[, details...]`; a subclass that needs more than the title takes the
    details in its `__init__` (see EventKind).
    """

    def __new__(cls, value: str, title, *details):
        member = str.__new__(cls, value) if issubclass(cls, str) else object.__new__(cls)
        member._value_ = value
        member._title = title
        return member

    @property
    def title(self) -> str:
        return str(self._title)

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        """(value, title) pairs for select fields."""
        return [(m.value, m.title) for m in cls]


class TextEnum(str, TitledEnum):
    """A titled enum whose members are also their value as text: `JobKind.CAPTURE == "capture"`, a dict keyed by
    members answers for the value, and str() gives the value. For kinds that other packages hand over as text."""

    title = TitledEnum.title  # str.title would otherwise come first
    __str__ = str.__str__


class Role(TitledEnum):
    HANDLER = "handler", _l("Handler")
    SUPERVISOR = "supervisor", _l("Supervisor")
    LEGAL = "legal", _l("Legal")
    ADMIN = "admin", _l("Administrator")


class CaseStatus(TitledEnum):
    SUBMITTED = "submitted", _l("Submitted")
    TRIAGE = "triage", _l("Triage")
    INVESTIGATING = "investigating", _l("Investigating")
    ESCALATED = "escalated", _l("Escalated")
    RECOVERY = "recovery", _l("Recovery")
    AWAITING_VICTIM = "awaiting_victim", _l("Awaiting victim")
    CLOSED = "closed", _l("Closed")


class Resolution(TitledEnum):
    RECOVERED = "recovered", _l("Recovered")
    PARTIALLY_RECOVERED = "partially_recovered", _l("Partially recovered")
    UNRECOVERABLE = "unrecoverable", _l("Unrecoverable")
    DUPLICATE = "duplicate", _l("Duplicate")
    WITHDRAWN = "withdrawn", _l("Withdrawn")


class Priority(TitledEnum):
    # Ordered most urgent first; `rank` sorts the queue.
    CRITICAL = "critical", _l("Critical")
    HIGH = "high", _l("High")
    NORMAL = "normal", _l("Normal")
    LOW = "low", _l("Low")

    @property
    def rank(self) -> int:
        return list(Priority).index(self)


class IncidentType(TitledEnum):
    APPROVAL_PHISHING = "approval_phishing", _l("Approval or permit phishing")
    LEAKED_SECRET = "leaked_secret", _l("Leaked recovery phrase or private key")
    FAKE_SUPPORT = "fake_support", _l("Fake customer service or impersonation")
    INVESTMENT_SCAM = "investment_scam", _l("Investment or \"pig-butchering\" scam")
    FAKE_WALLET = "fake_wallet", _l("Fake wallet app or malware")
    SIM_SWAP = "sim_swap", _l("SIM swap")
    ACCOUNT_TAKEOVER = "account_takeover", _l("Exchange account takeover")
    OTHER = "other", _l("Other")


class AddressRole(TitledEnum):
    VICTIM = "victim", _l("Victim")
    ATTACKER = "attacker", _l("Attacker")
    INTERMEDIARY = "intermediary", _l("Intermediary")
    EXCHANGE_DEPOSIT = "exchange_deposit", _l("Exchange deposit")
    EXCHANGE_HOT_WALLET = "exchange_hot_wallet", _l("Exchange hot wallet")
    BRIDGE = "bridge", _l("Bridge")
    MIXER = "mixer", _l("Mixer")
    OTHER = "other", _l("Other")


class TransferKind(TitledEnum):
    NATIVE = "native", _l("Native coin")
    ERC20 = "erc20", _l("ERC-20 token")
    ERC721 = "erc721", _l("ERC-721 token")
    APPROVAL = "approval", _l("Approval")


class ReferralKind(TitledEnum):
    EXCHANGE_FREEZE = "exchange_freeze", _l("Exchange freeze request")
    STABLECOIN_ISSUER = "stablecoin_issuer", _l("Stablecoin issuer")
    CONSUMER_AGENCY = "consumer_agency", _l("Consumer-protection agency")
    POLICE = "police", _l("Police")
    LAWYER = "lawyer", _l("Lawyer")


class ReferralStatus(TitledEnum):
    PROPOSED = "proposed", _l("Proposed")
    DRAFTED = "drafted", _l("Drafted")
    SENT = "sent", _l("Sent")
    ACKNOWLEDGED = "acknowledged", _l("Acknowledged")
    FROZEN = "frozen", _l("Funds frozen")
    DECLINED = "declined", _l("Declined")
    RETURNED = "returned", _l("Funds returned")
    CLOSED = "closed", _l("Closed")


class OrganisationKind(TitledEnum):
    """What an entry of the directory of organisations is."""

    EXCHANGE = "exchange", _l("Exchange")
    STABLECOIN_ISSUER = "stablecoin_issuer", _l("Stablecoin issuer")
    WALLET_MAKER = "wallet_maker", _l("Wallet maker")
    CONSUMER_AGENCY = "consumer_agency", _l("Consumer-protection agency")
    POLICE = "police", _l("Police")
    REGULATOR = "regulator", _l("Financial regulator")
    LAWYER = "lawyer", _l("Lawyer")


class Requester(TitledEnum):
    """Who an organisation acts for: whose request makes it freeze or answer."""

    VICTIM = "victim", _l("The victim (or someone acting for them)")
    POLICE = "police", _l("Only the police, through their law-enforcement channel")
    COURT_ORDER = "court_order", _l("Only with a court order")
    NOBODY = "nobody", _l("Nobody: it cannot freeze funds")


class ChannelKind(TitledEnum):
    """How a request reaches an organisation."""

    EMAIL = "email", _l("E-mail")
    WEB_FORM = "web_form", _l("Web form")
    PORTAL = "portal", _l("Law-enforcement portal")
    PHONE = "phone", _l("Telephone")
    IN_PERSON = "in_person", _l("In person")
    NONE = "none", _l("No channel")


class RecoveryKind(TitledEnum):
    """What a target did with stolen funds: froze them (held) or returned them to the victim."""

    FROZEN = "frozen", _l("Frozen")
    RETURNED = "returned", _l("Returned")


class JobStatus(TitledEnum):
    QUEUED = "queued", _l("Queued")
    RUNNING = "running", _l("Running")
    DONE = "done", _l("Done")
    FAILED = "failed", _l("Failed")


class OutboxStatus(TitledEnum):
    PENDING = "pending", _l("Pending")
    SENT = "sent", _l("Sent")
    FAILED = "failed", _l("Failed")


class MessageAuthor(TitledEnum):
    VICTIM = "victim", _l("Victim")
    STAFF = "staff", _l("Staff")


class JobKind(TextEnum):
    CAPTURE = "capture", _l("Evidence capture")
    DISCOVER = "discover", _l("Discovery of outgoing transfers")
    TRACE = "trace", _l("Trace of the funds")


class RecordKind(TextEnum):
    # What a raw record was captured for: evidence.models.RECORD_KINDS, with titles.
    TRANSACTION = "transaction", _l("Transaction")
    RECEIPT = "receipt", _l("Receipt")
    BLOCK = "block", _l("Block")
    TOKEN_CALL = "token_call", _l("Token contract call")
    CHAIN_ID = "chain_id", _l("Chain id")
    HEAD = "head", _l("Latest block")
    LOGS = "logs", _l("Log query")


class TheftPattern(TextEnum):
    # What the records show about a movement out of a victim address (evidence/patterns.py).
    APPROVAL_DRAIN = "approval_drain", _l("Approval drain: moved by an address the victim had approved")
    DIRECT_DRAIN = "direct_drain", _l("Direct drain: signed with the victim's own key")
    SCAM_PAYMENT = "scam_payment", _l("Scam payment: sent by the victim")


class SlaMetric(TitledEnum):
    FIRST_RESPONSE = "first_response", _l("First response")
    TRIAGE = "triage", _l("Triage")
    EVIDENCE_CAPTURED = "evidence_captured", _l("Evidence captured")
    FREEZE_SENT = "freeze_sent", _l("Freeze request sent")
    VICTIM_UPDATE = "victim_update", _l("Update to the victim")
    RESOLUTION = "resolution", _l("Resolution")
    # A referral's own deadlines, fixed dates rather than a policy's target (one clock per referral).
    REFERRAL_FOLLOW_UP = "referral_follow_up", _l("Referral follow-up")
    POLICE_REPORT_DUE = "police_report_due", _l("Police report for a courtesy hold")


class SlaEventKind(TitledEnum):
    STARTED = "started", _l("Started")
    PAUSED = "paused", _l("Paused")
    RESUMED = "resumed", _l("Resumed")
    FULFILLED = "fulfilled", _l("Fulfilled")
    POLICY_APPLIED = "policy_applied", _l("Policy applied")
    WARNED = "warned", _l("Warned")
    BREACHED = "breached", _l("Breached")
    STOPPED = "stopped", _l("Stopped")
    MOVED = "moved", _l("Deadline moved")


class EscalationLevel(TitledEnum):
    WARNING = "warning", _l("Warning")
    BREACH = "breach", _l("Breach")
    HEAD = "head", _l("Head of the team")


class SlaWarnings(TitledEnum):
    """How a staff member hears of SLA warnings by e-mail (the console alert comes at once either way; breaches are
    always e-mailed at once)."""

    EMAIL = "email", _l("Each warning by e-mail as it happens")
    DIGEST = "digest", _l("One daily digest of the warnings")


class EventKind(TextEnum):
    """What a CaseEvent records: its title on the staff timeline and, when the victim sees it, the sentence on the
    victim's timeline (`own`: the sentence when the victim did it themselves). Sentences are %-format strings:
    %(status)s is the victim's word for the new status, and a literal percent sign is written %%. Events without a
    sentence are staff only. `staff` names the message (casework.messages) that puts the event's data into words on
    the staff timeline, for kinds whose summary code writes; other kinds show the summary a person typed.

    A new kind is one line here; the database accepts it once a migration replaces the CHECK on
    case_events.action with the new list of values (as migration b9d2f1a3c5e7 created it). On SQLite that rebuilds
    the table and drops its append-only triggers: the migration creates them again (see b3d5f7a9c1e2).
    """

    def __init__(self, value: str, title, victim=None, own=None, staff: str | None = None) -> None:
        self.victim_sentence = victim
        self.own_sentence = own or victim
        self.staff_message = staff

    @property
    def victim_visible(self) -> bool:
        return self.victim_sentence is not None

    def for_victim(self, *, by_victim: bool, **values: str) -> str | None:
        """The victim's sentence for this kind of event (None: not shown to the victim)."""
        sentence = self.own_sentence if by_victim else self.victim_sentence
        return None if sentence is None else str(sentence) % values

    SUBMITTED = "submitted", _l("Report submitted"), _l("You submitted your report.")
    STATUS = "status", _l("Status changed"), _l("Your case is now: %(status)s"), None, "event.status"
    ASSIGNED = "assigned", _l("Handler assigned"), _l("A case handler was assigned to your case."), None, (
        "event.assigned")
    MESSAGE = "message", _l("Message"), _l("Your case handler sent you a message."), _l("You sent a message.")
    NOTE = "note", _l("Internal note added")
    EVIDENCE = "evidence", _l("Evidence captured"), _l("On-chain evidence was recorded for your case."), None, (
        "event.evidence")
    DISCOVERY = "discovery", _l("Outgoing transfers discovered"), None, None, "event.discovery"
    THEFT_CONFIRMED = "theft_confirmed", _l("Theft confirmed")
    TRACE = "trace", _l("Funds traced"), None, None, "event.trace"
    INFORMATION_ADDED = "information_added", _l("Victim added information"), _l("You added information.")
    ADDRESS_ADDED = "address_added", _l("Victim added an address"), _l("You added an address.")
    TRANSACTION_ADDED = "transaction_added", _l("Victim added a transaction"), _l("You added a transaction hash.")
    FILE_ADDED = "file_added", _l("Victim added a file"), _l("You added a file.")
    REPORT_DOWNLOADED = "report_downloaded", _l("Victim downloaded their report"), _l(
        "A copy of your report was downloaded.")
    ACCESS_LINK_REPLACED = "access_link_replaced", _l("Victim was sent a new private link"), _l(
        "A new private link was sent to your e-mail address; the old one no longer works.")
    CASE_VIEWED = "case_viewed", _l("Staff opened the case page")
    FILE_VIEWED = "file_viewed", _l("Staff opened a file")
    PRIORITY = "priority", _l("Priority changed"), None, None, "event.priority"
    TASK = "task", _l("Task updated"), None, None, "event.task"
    MERGED = "merged", _l("Merged into another case"), _l(
        "Your report was joined with another report of the same theft, so that one team works on both. Your private "
        "link keeps working, and you will hear from us here."), None, "event.merged"
    DUPLICATE_MERGED = "duplicate_merged", _l("Duplicate case merged into this one"), None, None, (
        "event.duplicate_merged")
    REFERRAL = "referral", _l("Referral updated"), None, None, "event.referral"
    ATTACKER_ADDED = "attacker_added", _l("Attacker address added"), None, None, "event.attacker_added"
    RECOVERY = "recovery", _l("Funds frozen or returned"), _l(
        "Part of the stolen funds was frozen or returned: what we found shows the amounts."), None, "event.recovery"
    FIRST_HOUR = "first_hour", _l("Automatic evidence work"), None, None, "event.first_hour"
    DOCUMENT_ISSUED = "document_issued", _l("Document issued"), None, None, "event.document_issued"
    DOCUMENT_DOWNLOADED = "document_downloaded", _l("Issued document downloaded"), None, None, (
        "event.document_downloaded")


class DocumentAudience(TitledEnum):
    """Who a dossier is written for: one template each (issue 12). The column is wider than today's values, and
    every planned audience is listed so that adding its template needs no migration."""

    EVIDENCE = "evidence", _l("Evidence dossier")
    CONSUMER_COMPLAINT = "consumer_complaint", _l("Consumer-protection complaint")
    EXCHANGE_FREEZE = "exchange_freeze", _l("Exchange freeze request")
    ISSUER_FREEZE = "issuer_freeze", _l("Stablecoin issuer freeze request")
    POLICE_PACKAGE = "police_package", _l("Police report package")
    VICTIM_COPY = "victim_copy", _l("Victim copy")
