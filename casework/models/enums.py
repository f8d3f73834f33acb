"""The domain's states and kinds: string-valued enums, each member with a translatable title."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class TitledEnum(enum.Enum):
    """An enum whose members carry a human title for display (translated lazily)."""

    def __new__(cls, value: str, title):
        member = object.__new__(cls)
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
    CLOSED = "closed", _l("Closed")


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
