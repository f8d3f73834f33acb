"""Request and response schemas of /api/v1 (marshmallow): flask-smorest validates requests with them and generates
the OpenAPI document from them."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from casework.models import CaseStatus, IncidentType, Priority, ReferralStatus, Resolution
from casework.services.workflow import REASON_MAX_CHARS, VICTIM_SUMMARY_MAX_CHARS
from forms.portal import INFORMATION_MAX_CHARS

MAX_ID = 2**31 - 1
SORTS = ("urgency", "newest", "oldest", "updated", "due")
# Control characters (NUL included) are refused; a required text must hold something other than spaces. As patterns,
# so that the OpenAPI document says so.
_PLAIN = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
_VISIBLE = r"[^\s\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
ANY_TEXT = f"^{_PLAIN}*$"
SOME_TEXT = f"^{_PLAIN}*{_VISIBLE}{_PLAIN}*$"


def _values(enum_cls) -> list[str]:
    return [member.value for member in enum_cls]


# A positive decimal number as a person writes it (thousands may be grouped with commas): 1250.5, 1,250.5.
AMOUNT = r"^[0-9][0-9,]*(\.[0-9]+)?$"


def Text(max_chars: int, *, required: bool = False, **kwargs) -> ma.fields.String:  # noqa: N802 - a field factory
    """A string of at most max_chars characters without control characters (NUL included); a required one must
    hold something other than spaces."""
    error = "Write text without control characters" + (", not only spaces." if required else ".")
    pattern = validate.Regexp(SOME_TEXT if required else ANY_TEXT, error=error)
    return ma.fields.String(validate=[validate.Length(max=max_chars), pattern], required=required, **kwargs)


def Choice(enum_cls, **kwargs) -> ma.fields.String:  # noqa: N802
    return ma.fields.String(validate=validate.OneOf(_values(enum_cls)), **kwargs)


class StrictSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class CaseQuerySchema(StrictSchema):
    """The list's parameters; an unknown one is refused (422), so a misspelt filter never silently matches all."""

    status = ma.fields.List(Choice(CaseStatus), metadata={"description": "Repeat to match any of several."})
    priority = Choice(Priority)
    incident_type = Choice(IncidentType)
    chain_id = ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    handler_id = ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    unassigned = ma.fields.Boolean(metadata={"description": "Only cases without a handler."})
    created_from = ma.fields.Date(metadata={"description": "Submitted on or after this day (UTC)."})
    created_to = ma.fields.Date(metadata={"description": "Submitted on or before this day (UTC)."})
    q = Text(200, metadata={"description": "Search reference, reporter name and e-mail, addresses and hashes."})
    sort = ma.fields.String(load_default="urgency", validate=validate.OneOf(SORTS))
    page = ma.fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = ma.fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))


class HandlerSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    display_name = ma.fields.String(required=True)


class CaseLineSchema(ma.Schema):
    reference = ma.fields.String(required=True)
    status = Choice(CaseStatus, required=True)
    resolution = Choice(Resolution, allow_none=True, required=True)
    priority = Choice(Priority, required=True)
    incident_type = Choice(IncidentType, required=True)
    chain_ids = ma.fields.List(ma.fields.Integer(), required=True)
    handler = ma.fields.Nested(HandlerSchema, allow_none=True, required=True)
    submitted_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)


class CasePageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(CaseLineSchema), required=True)
    page = ma.fields.Integer(required=True)
    per_page = ma.fields.Integer(required=True)
    has_next = ma.fields.Boolean(required=True)


class LossSchema(ma.Schema):
    chain_id = ma.fields.Integer(required=True)
    asset_symbol = ma.fields.String(required=True)
    token_address = ma.fields.String(allow_none=True, required=True)
    amount_raw = ma.fields.String(required=True, metadata={"description": "Integer amount in base units."})
    decimals = ma.fields.Integer(required=True)
    amount = ma.fields.String(required=True, metadata={"description": "The amount for display, e.g. 2,500."})


class AddressSchema(ma.Schema):
    chain_id = ma.fields.Integer(required=True)
    address = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    label = ma.fields.String(allow_none=True, required=True)


class TransactionSchema(ma.Schema):
    chain_id = ma.fields.Integer(required=True)
    tx_hash = ma.fields.String(required=True)
    note = ma.fields.String(allow_none=True, required=True)


class ContactSchema(ma.Schema):
    name = ma.fields.String(required=True)
    email = ma.fields.String(allow_none=True, required=True)
    phone = ma.fields.String(allow_none=True, required=True)
    country = ma.fields.String(allow_none=True, required=True)
    preferred_language = ma.fields.String(required=True)
    jurisdiction = ma.fields.String(allow_none=True, required=True)
    consent_exchanges = ma.fields.Boolean(required=True)
    consent_law_enforcement = ma.fields.Boolean(required=True)
    consent_consumer_agencies = ma.fields.Boolean(required=True)


class ReferralCountsSchema(ma.Schema):
    total = ma.fields.Integer(required=True)
    open = ma.fields.Integer(required=True)
    by_status = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True)


class CaseSchema(CaseLineSchema):
    summary = ma.fields.String(required=True)
    priority_overridden = ma.fields.Boolean(required=True)
    merged_into = ma.fields.String(allow_none=True, required=True)
    incident_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    discovered_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    losses = ma.fields.List(ma.fields.Nested(LossSchema), required=True)
    addresses = ma.fields.List(ma.fields.Nested(AddressSchema), required=True)
    transactions = ma.fields.List(ma.fields.Nested(TransactionSchema), required=True)
    reporter = ma.fields.Nested(ContactSchema, allow_none=True, required=True,
                                metadata={"description": "The victim's contact, for roles that see it."})
    referrals = ma.fields.Nested(ReferralCountsSchema, required=True)


class NoteInSchema(StrictSchema):
    body = Text(INFORMATION_MAX_CHARS, required=True)


class NoteSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    case_reference = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)


class TransitionInSchema(StrictSchema):
    to = Choice(CaseStatus, required=True)
    reason = Text(REASON_MAX_CHARS, required=True)
    expected = Choice(CaseStatus, metadata={
        "description": "The status you last saw; if the case has moved on since, nothing changes (409)."})
    resolution = Choice(Resolution, metadata={"description": "Required when closing."})
    victim_summary = Text(VICTIM_SUMMARY_MAX_CHARS, metadata={"description": "Required when closing."})
    confirm_open_referrals = ma.fields.Boolean(load_default=False)
    confirm_open_tasks = ma.fields.Boolean(load_default=False)


class TransitionSchema(ma.Schema):
    event_id = ma.fields.Integer(required=True)
    case = ma.fields.Nested(CaseLineSchema, required=True)


class RecoverySchema(ma.Schema):
    kind = ma.fields.String(required=True, metadata={"description": "`frozen` or `returned`."})
    chain_id = ma.fields.Integer(allow_none=True, required=True)
    token_address = ma.fields.String(allow_none=True, required=True)
    symbol = ma.fields.String(required=True)
    decimals = ma.fields.Integer(required=True)
    amount_raw = ma.fields.String(required=True)
    amount = ma.fields.String(required=True)
    recorded_at = ma.fields.AwareDateTime(required=True)


class ReferralSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    case_reference = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    status = Choice(ReferralStatus, required=True)
    next_statuses = ma.fields.List(Choice(ReferralStatus), required=True)
    target_name = ma.fields.String(required=True)
    target_address = ma.fields.String(allow_none=True, required=True)
    chain_id = ma.fields.Integer(allow_none=True, required=True)
    token_address = ma.fields.String(allow_none=True, required=True)
    symbol = ma.fields.String(allow_none=True, required=True)
    amount_raw = ma.fields.String(allow_none=True, required=True)
    decimals = ma.fields.Integer(allow_none=True, required=True)
    amount = ma.fields.String(allow_none=True, required=True)
    tx_hashes = ma.fields.List(ma.fields.String(), required=True)
    follow_up_due_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    sent_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    sent_to = ma.fields.String(allow_none=True, required=True)
    police_report_due_at = ma.fields.AwareDateTime(allow_none=True, required=True, metadata={
        "description": "A courtesy hold's deadline: the police report must reach the target by then."})
    organisation_id = ma.fields.Integer(allow_none=True, required=True, metadata={
        "description": "The directory entry it is aimed at."})
    recoveries = ma.fields.List(ma.fields.Nested(RecoverySchema), required=True)


class ReferralListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ReferralSchema), required=True)


class ReferralUpdateSchema(StrictSchema):
    status = Choice(ReferralStatus, required=True)
    note = Text(2_000, metadata={"description": "What the target said (staff only)."})
    amount = ma.fields.String(validate=[validate.Length(max=100), validate.Regexp(
        AMOUNT, error="Write the amount as a decimal number, e.g. 1250.5.")], metadata={
        "description": "With status `frozen` or `returned`: the amount, written as a decimal number (e.g. "
                       "\"1250.5\"), at most what the trace shows reached the target (else 409 `bad_amount`)."})
    asset = Text(40, metadata={"description": "The asset of `amount` when the referral has several: `traced` (its "
                               "traced asset) or `loss-<id>` (one of the case's reported losses)."})
    expected = Choice(ReferralStatus, metadata={
        "description": "The status you last saw; if the referral has moved on since, nothing changes (409)."})
