"""The data model (SQLAlchemy 2.0 typed models); importing this package registers every table."""

from casework.models.activity import CaseEvent, FormSubmission, Message, Note, Referral
from casework.models.api import ApiToken
from casework.models.case import Case, CaseAddress, ReferenceCounter, ReportedLoss, ReportedTransaction
from casework.models.contacts import CaseContact
from casework.models.documents import Document
from casework.models.enums import (
    AddressRole,
    CaseStatus,
    ChannelKind,
    DocumentAudience,
    EscalationLevel,
    EventKind,
    IncidentType,
    JobKind,
    JobStatus,
    MessageAuthor,
    OrganisationKind,
    OutboxStatus,
    Priority,
    RecordKind,
    RecoveryKind,
    ReferralKind,
    ReferralStatus,
    Requester,
    Resolution,
    Role,
    SlaEventKind,
    SlaMetric,
    SlaWarnings,
    TheftPattern,
    TransferKind,
)
from casework.models.evidence import EvidenceRecord, FlowEdge, ImmutableRowError, Transfer
from casework.models.intake import CaseFile, ReportDraft, ReportExtras, StoredFile
from casework.models.labels import ANY_CHAIN, AddressLabel, TraceRun
from casework.models.people import Reporter, User
from casework.models.queue import EvidenceJob, Notification
from casework.models.recovery import Organisation, Recovery, StaffAlert
from casework.models.sla import Escalation, SlaCalendar, SlaClock, SlaDigest, SlaEvent, SlaPolicy
from casework.models.tasks import Task, TaskTemplateItem
from casework.models.types import utcnow

__all__ = [
    "ANY_CHAIN", "AddressLabel", "AddressRole", "Case", "CaseAddress", "CaseContact", "CaseFile", "CaseEvent",
    "CaseStatus",
    "Escalation", "EscalationLevel", "EventKind", "EvidenceJob", "JobKind", "RecordKind", "SlaEventKind",
    "SlaMetric", "TheftPattern", "TraceRun",
    "EvidenceRecord", "FlowEdge", "FormSubmission", "ImmutableRowError", "IncidentType", "JobStatus", "Message",
    "MessageAuthor", "Note", "Notification", "OutboxStatus", "Priority", "ReferenceCounter",
    "Referral", "ReferralKind", "ReferralStatus", "Reporter", "ReportedLoss", "ReportedTransaction",
    "ReportDraft", "ReportExtras", "Resolution", "Role", "SlaClock", "SlaEvent", "StoredFile", "Transfer",
    "TransferKind", "User", "utcnow",
    "Task", "TaskTemplateItem", "ApiToken",
    "ChannelKind", "Organisation", "OrganisationKind", "Recovery", "RecoveryKind", "Requester", "StaffAlert",
    "SlaCalendar", "SlaPolicy",
    "SlaDigest", "SlaWarnings",
    "Document", "DocumentAudience",
]
