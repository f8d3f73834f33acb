"""Linked cases: other cases that share an attacker address or a scammer contact with a case, each with what they
share, and the case-page section that lists them (with the merge pointers and, for supervisors, the merge form).

Every lookup is by index and bounded by the case's own rows, so its cost follows the case, not the table:
- an attacker address of this case (case_addresses.address is indexed), also named as attacker by the other case,
  on the same chain;
- an address this case's trace reached (flow_edges of this case), named as attacker by another case;
- an attacker address of this case that another case's trace reached (flow_edges indexed on chain and recipient);
- a normalised scammer contact (case_contacts, indexed on kind and value; see forms.contacts).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from casework.extensions import db
from casework.models import AddressRole, Case, CaseAddress, CaseContact, CaseStatus, FlowEdge, User
from casework.services.access import Permission, can, require
from forms.validators import InvalidInput, normalize_evm_address

MAX_LINKED = 50
CONTACT_WORDS = {
    "websites": _l("website %(value)s"), "phones": _l("phone %(value)s"), "emails": _l("e-mail %(value)s"),
    "social": _l("account %(value)s"),
}


@dataclass(frozen=True)
class LinkedCase:
    """Another case and what it shares with this one (in the reader's language)."""

    reference: str
    status: str
    closed: bool
    merged_into: str | None
    shares: list[str]


@dataclass(frozen=True)
class LinkedSection:
    """The linked-cases section of the case page, as plain values."""

    reference: str
    status: str
    merged_into: str | None
    duplicates: list[str]
    linked: list[LinkedCase]
    can_merge: bool
    merge_targets: list[str] = field(default_factory=list)


def _attacker_keys(case: Case) -> set[tuple[int, str]]:
    return {(a.chain_id, a.address) for a in case.addresses if a.role is AddressRole.ATTACKER}


def _traced_keys(case: Case, known: set[tuple[int, str]]) -> set[tuple[int, str]]:
    """Addresses this case's traced funds went to (checksummed, as case_addresses holds them), minus `known`."""
    found = set()
    for chain_id, address in db.session.execute(
        select(FlowEdge.chain_id, FlowEdge.to_address).where(FlowEdge.case_id == case.id).distinct()
    ):
        try:
            found.add((chain_id, normalize_evm_address(address)))
        except InvalidInput:
            continue
    return found - known


def _by_address(case: Case, keys: set[tuple[int, str]]) -> list[tuple[int, int, str]]:
    """(case id, chain id, address) of other cases naming one of keys as an attacker address."""
    if not keys:
        return []
    wanted = or_(*(and_(CaseAddress.chain_id == chain_id, CaseAddress.address == address)
                   for chain_id, address in keys))
    return list(db.session.execute(
        select(CaseAddress.case_id, CaseAddress.chain_id, CaseAddress.address)
        .where(wanted, CaseAddress.role == AddressRole.ATTACKER, CaseAddress.case_id != case.id)
        .limit(MAX_LINKED * 4)
    ))


def _reached_by_others(case: Case, keys: set[tuple[int, str]]) -> list[tuple[int, int, str]]:
    """(case id, chain id, address) of other cases whose trace reached one of keys (this case's attackers)."""
    if not keys:
        return []
    # Traces store recipients checksummed; older rows may hold them in lower case.
    wanted = or_(*(and_(FlowEdge.chain_id == chain_id, FlowEdge.to_address.in_((address, address.lower())))
                   for chain_id, address in keys))
    return [
        (case_id, chain_id, normalize_evm_address(address))
        for case_id, chain_id, address in db.session.execute(
            select(FlowEdge.case_id, FlowEdge.chain_id, FlowEdge.to_address)
            .where(wanted, FlowEdge.case_id != case.id).distinct().limit(MAX_LINKED * 4)
        )
    ]


def _by_contact(case: Case) -> list[tuple[int, str, str]]:
    """(case id, kind, value) of other cases sharing a normalised scammer contact with case."""
    own = select(CaseContact.kind, CaseContact.value).where(CaseContact.case_id == case.id).limit(200)
    pairs = list(db.session.execute(own))
    if not pairs:
        return []
    wanted = or_(*(and_(CaseContact.kind == kind, CaseContact.value == value) for kind, value in pairs))
    return list(db.session.execute(
        select(CaseContact.case_id, CaseContact.kind, CaseContact.value)
        .where(wanted, CaseContact.case_id != case.id)
        .limit(MAX_LINKED * 4)
    ))


def linked_cases(user: User, case: Case) -> list[LinkedCase]:
    """The other cases sharing an attacker address or a scammer contact with case, newest first (at most
    MAX_LINKED), each with what it shares; AccessDenied for a user who may not read cases."""
    require(user, Permission.VIEW_CASES)
    shares: dict[int, list[str]] = {}
    attackers = _attacker_keys(case)
    for case_id, _chain, address in _by_address(case, attackers):
        shares.setdefault(case_id, []).append(_("attacker address %(address)s", address=address))
    for case_id, _chain, address in _by_address(case, _traced_keys(case, attackers)):
        shares.setdefault(case_id, []).append(_("attacker address %(address)s, reached by this case's trace",
                                                address=address))
    for case_id, _chain, address in _reached_by_others(case, attackers):
        shares.setdefault(case_id, []).append(_("attacker address %(address)s, reached by that case's trace",
                                                address=address))
    for case_id, kind, value in _by_contact(case):
        shares.setdefault(case_id, []).append(str(CONTACT_WORDS[kind]) % {"value": value})
    if not shares:
        return []
    others = db.session.scalars(
        select(Case).options(selectinload(Case.merged_into)).where(Case.id.in_(shares))
        .order_by(Case.submitted_at.desc(), Case.id.desc()).limit(MAX_LINKED)
    )
    return [
        LinkedCase(
            reference=other.reference, status=other.status.title, closed=other.status is CaseStatus.CLOSED,
            merged_into=other.merged_into.reference if other.merged_into else None,
            shares=sorted(set(shares[other.id])),
        )
        for other in others
    ]


def merged_duplicates(case: Case) -> list[str]:
    """The references of the cases merged into case (indexed on merged_into_id)."""
    return list(db.session.scalars(
        select(Case.reference).where(Case.merged_into_id == case.id).order_by(Case.reference)))


def linked_section(user: User, case: Case) -> LinkedSection:
    """The linked-cases section of case's page for user: the links, the merge pointers, and whether (and into which
    linked cases) user may merge this case."""
    linked = linked_cases(user, case)
    duplicates = merged_duplicates(case)
    may_merge = (can(user, Permission.MERGE_CASES) and case.merged_into_id is None
                 and case.status is not CaseStatus.CLOSED and not duplicates)
    return LinkedSection(
        reference=case.reference,
        status=case.status.value,
        merged_into=case.merged_into.reference if case.merged_into else None,
        duplicates=duplicates,
        linked=linked,
        can_merge=may_merge,
        merge_targets=[line.reference for line in linked if not line.closed and line.merged_into is None],
    )
