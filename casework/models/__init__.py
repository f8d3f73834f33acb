"""The data model (SQLAlchemy 2.0 typed models); importing this package registers every table."""

from casework.models.activity import CaseEvent, Message, Note, Referral
from casework.models.case import Case, CaseAddress, ReferenceCounter, ReportedLoss, ReportedTransaction
from casework.models.enums import (
    AddressRole,
    CaseStatus,
    IncidentType,
    JobStatus,
    MessageAuthor,
    OutboxStatus,
    Priority,
    ReferralKind,
    ReferralStatus,
    Resolution,
    Role,
    TransferKind,
)
from casework.models.evidence import EvidenceRecord, FlowEdge, ImmutableRowError, Transfer
from casework.models.people import Reporter, User
from casework.models.queue import Escalation, EvidenceJob, Notification, SlaClock, SlaEvent
from casework.models.types import utcnow

__all__ = [
    "AddressRole", "Case", "CaseAddress", "CaseEvent", "CaseStatus", "Escalation", "EvidenceJob",
    "EvidenceRecord", "FlowEdge", "ImmutableRowError", "IncidentType", "JobStatus", "Message",
    "MessageAuthor", "Note", "Notification", "OutboxStatus", "Priority", "ReferenceCounter",
    "Referral", "ReferralKind", "ReferralStatus", "Reporter", "ReportedLoss", "ReportedTransaction",
    "Resolution", "Role", "SlaClock", "SlaEvent", "Transfer", "TransferKind", "User", "utcnow",
]
