"""Amounts a referral's target froze or returned, per asset, and their roll-ups to the case, queue and dashboard.

Recording "frozen" or "returned" with an amount adds a `Recovery` row (rows are never changed: a correction is a
new referral's row or a supervisor's note, never an edit) and moves the referral to that status through
referrals.update_referral when it is not there yet. The caps, checked under a row lock on the referral so that two
handlers recording at once cannot pass them together:

- an asset is the referral's traced asset (what the trace shows reached the target: referral.amount_raw in its
  token) or, for a referral without a traced amount (police, an agency, a lawyer), one of the case's reported
  losses (its amount is the cap);
- the frozen amounts recorded on a referral in an asset never add up to more than its cap, and neither do the
  returned amounts (funds come back either from a freeze or directly; both are part of what reached the target).

Each amount writes a RECOVERY CaseEvent, which the victim sees on the portal's timeline, and e-mails the victim in
their language through the outbox (victim_news.tell_funds).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update

from casework.extensions import db
from casework.models import (
    Case,
    CaseEvent,
    EventKind,
    Recovery,
    RecoveryKind,
    Referral,
    ReferralStatus,
    Resolution,
    User,
)
from casework.models.aggregates import exact_sum
from casework.services import victim_news
from casework.services.access import Permission, require
from casework.services.referrals import checked_text, expected_status, update_referral
from casework.services.workflow import WorkflowError
from casework.web import format_amount
from forms.validators import InvalidInput, parse_amount

TRACED = "traced"


class BadAmount(WorkflowError):
    """An amount that cannot be recorded (not a number, too many decimals, over the cap, no such asset): bad input,
    not a conflict (the API answers 400)."""

_STATUS_FOR = {RecoveryKind.FROZEN: ReferralStatus.FROZEN, RecoveryKind.RETURNED: ReferralStatus.RETURNED}


@dataclass(frozen=True)
class AssetChoice:
    """An asset an amount may be recorded in, and the most that may be recorded in it."""

    key: str
    chain_id: int | None
    token_address: str | None
    symbol: str
    decimals: int
    cap_raw: int

    @property
    def label(self) -> str:
        return _("%(symbol)s (at most %(amount)s)", symbol=self.symbol, amount=format_amount(self.cap_raw,
                                                                                              self.decimals))

    def same(self, row: Recovery) -> bool:
        return (row.chain_id, (row.token_address or "").lower(), row.symbol, row.decimals) == (
            self.chain_id, (self.token_address or "").lower(), self.symbol, self.decimals)


@dataclass(frozen=True)
class AssetTotal:
    """Frozen and returned amounts in one asset (chain, token contract, decimals), in base units."""

    chain_id: int | None
    token_address: str | None
    decimals: int
    symbol: str
    frozen_raw: int
    returned_raw: int

    @property
    def frozen(self) -> str:
        return f"{format_amount(self.frozen_raw, self.decimals)} {self.symbol}"

    @property
    def returned(self) -> str:
        return f"{format_amount(self.returned_raw, self.decimals)} {self.symbol}"


def asset_choices(referral: Referral) -> list[AssetChoice]:
    """The assets an amount may be recorded in for this referral (see the module's caps)."""
    if referral.amount_raw is not None and referral.decimals is not None and referral.symbol:
        return [AssetChoice(TRACED, referral.chain_id, referral.token_address, referral.symbol, referral.decimals,
                            referral.amount_raw)]
    return [AssetChoice(f"loss-{loss.id}", loss.chain_id, loss.token_address, loss.asset_symbol, loss.decimals,
                        loss.amount_raw) for loss in referral.case.losses]


def record_recovery(user: User, referral: Referral, kind: RecoveryKind | str, amount: str, *,
                    asset: str | None = None, expected: ReferralStatus | str | None = None,
                    note: str | None = None) -> Recovery:
    """Record that the target froze or returned `amount` (as a person writes it, e.g. "1,250.5") of an asset
    (`asset`: an AssetChoice key; may be left out when there is only one). Refuses a negative or empty amount, one
    with more decimals than the asset has, and one over the cap, with a message saying which. The caller commits."""
    require(user, Permission.WORK_CASES)
    try:
        kind = RecoveryKind(kind)
    except ValueError:
        raise BadAmount(_("Choose whether the funds were frozen or returned.")) from None
    seen = expected_status(referral, expected)
    note = checked_text(note)
    choice = _chosen(referral, asset)
    try:
        raw, _exact = parse_amount(amount or "", choice.decimals)
    except InvalidInput as problem:
        raise BadAmount(str(problem)) from None
    _lock(referral)
    recorded = sum(row.amount_raw for row in _rows(referral) if row.kind is kind and choice.same(row))
    if recorded + raw > choice.cap_raw:
        raise BadAmount(_(
            "At most %(cap)s can be recorded on this referral (what reached %(target)s), and %(recorded)s is "
            "recorded already: %(amount)s is too much.", cap=_amount(choice.cap_raw, choice),
            target=referral.target_name, recorded=_amount(recorded, choice), amount=_amount(raw, choice)))
    status = _STATUS_FOR[kind]
    if referral.status is not status:
        update_referral(user, referral, status, expected=seen, note=note, tell_victim=False)  # told below
    row = Recovery(case_id=referral.case_id, referral=referral, kind=kind, chain_id=choice.chain_id,
                   token_address=choice.token_address, symbol=choice.symbol, decimals=choice.decimals,
                   amount_raw=raw, note=note or None, recorded_by_id=user.id)
    db.session.add(row)
    CaseEvent.record(referral.case, user, EventKind.RECOVERY, summary=note, target=referral.target_name,
                     what=kind.value, amount=_amount(raw, choice))
    victim_news.tell_funds(referral.case, kind, _amount(raw, choice))
    return row


def _chosen(referral: Referral, key: str | None) -> AssetChoice:
    choices = asset_choices(referral)
    if not choices:
        raise BadAmount(_("Neither the trace nor the report gives an asset for this referral: record the amount "
                              "on the referral to the exchange or issuer that holds the funds."))
    if not key and len(choices) == 1:
        return choices[0]
    chosen = next((choice for choice in choices if choice.key == key), None)
    if chosen is None:
        raise BadAmount(_("Choose the asset from the list."))
    return chosen


def _lock(referral: Referral) -> None:
    """Hold the referral's row for writing until commit (an UPDATE that changes nothing: PostgreSQL locks the row,
    SQLite takes its write lock), so that two amounts recorded at once are checked one after the other."""
    db.session.execute(update(Referral).where(Referral.id == referral.id).values(status=Referral.status)
                       .execution_options(synchronize_session=False))


def _rows(referral: Referral) -> list[Recovery]:
    return list(db.session.scalars(select(Recovery).where(Recovery.referral_id == referral.id)))


def _amount(raw: int, choice: AssetChoice) -> str:
    return f"{format_amount(raw, choice.decimals)} {choice.symbol}"


# Roll-ups


def totals(rows) -> list[AssetTotal]:
    """Frozen and returned amounts added up per asset, from Recovery rows (exact: Python integers)."""
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    symbols: dict[tuple, str] = {}
    for row in rows:
        key = (row.chain_id, (row.token_address or "").lower() or None, row.decimals)
        sums[key][0 if row.kind is RecoveryKind.FROZEN else 1] += row.amount_raw
        symbols.setdefault(key, row.symbol)
    return [AssetTotal(chain_id, token, decimals, symbols[(chain_id, token, decimals)], frozen, returned)
            for (chain_id, token, decimals), (frozen, returned) in sorted(
                sums.items(), key=lambda item: (symbols[item[0]], item[0][0] or 0, item[0][1] or ""))]


def case_totals(case: Case) -> list[AssetTotal]:
    """The case's frozen and returned amounts per asset."""
    return totals(row for referral in case.referrals for row in referral.recoveries)


def summary(asset_totals: list[AssetTotal]) -> str:
    """One line for a queue cell or CSV: "frozen 100 USDT, returned 40 USDT; frozen 1 ETH"."""
    parts = []
    for total in asset_totals:
        said = []
        if total.frozen_raw:
            said.append(_("frozen %(amount)s", amount=total.frozen))
        if total.returned_raw:
            said.append(_("returned %(amount)s", amount=total.returned))
        parts.append(_(", ").join(said))
    return _("; ").join(parts)


def dashboard_totals(user: User) -> list[AssetTotal]:
    """Frozen and returned amounts across every case per asset, summed exactly in the database. Cases merged into
    another, or closed as duplicates, are left out."""
    require(user, Permission.VIEW_CASES)
    token = func.lower(Recovery.token_address)
    counted = or_(Case.resolution.is_(None), Case.resolution != Resolution.DUPLICATE)
    rows = db.session.execute(
        select(Recovery.chain_id, token, Recovery.decimals, func.min(Recovery.symbol), Recovery.kind,
               exact_sum(Recovery.amount_raw))
        .join(Case, Case.id == Recovery.case_id).where(Case.merged_into_id.is_(None), counted)
        .group_by(Recovery.chain_id, token, Recovery.decimals, Recovery.kind))
    sums: dict[tuple, list] = {}
    for chain_id, token_address, decimals, symbol, kind, amount in rows:
        entry = sums.setdefault((chain_id, token_address, decimals), [symbol, 0, 0])
        entry[1 if kind is RecoveryKind.FROZEN else 2] += int(amount or 0)
    return sorted((AssetTotal(chain_id, token_address, decimals, symbol, frozen, returned)
                   for (chain_id, token_address, decimals), (symbol, frozen, returned) in sums.items()),
                  key=lambda total: (total.symbol, total.chain_id or 0, total.token_address or ""))
