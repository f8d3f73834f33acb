"""What goes into a case's documents: the evidence dossier (reports.dossier.EvidenceDossier), the freeze request
letter to one exchange (reports.freeze_letter.FreezeLetter) and the transfers spreadsheet, as plain values in the
current locale, assembled from the case's records. The caller (casework.services.dossiers) checks access, and hands
in the document's verification code and link.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from casework.extensions import db
from casework.models import (
    ANY_CHAIN,
    AddressLabel,
    AddressRole,
    Case,
    DocumentAudience,
    EventKind,
    EvidenceRecord,
    FlowEdge,
    Referral,
    ReferralKind,
    TraceRun,
    Transfer,
    TransferKind,
    User,
    utcnow,
)
from casework.services import chains, labels, referral_drafts, tracing, uploads
from casework.services import evidence as evidence_service
from casework.services.case_page import UNLIMITED_ALLOWANCE, graph_words
from casework.web import format_amount
from evidence.amounts import amount_text
from evidence.graph_svg import render_flow_svg
from evidence.trace import FlowGraph
from reports.dossier import (
    GENESIS_CHAIN_HASH,
    ChronologyEntry,
    CustodyRow,
    EdgeRow,
    EvidenceDossier,
    Fact,
    GraphFigure,
    LabelledAddress,
    Moment,
    RawRecord,
    ReferralRow,
    TransactionRow,
)
from reports.freeze_letter import DepositLine, FreezeLetter, VictimDetails
from reports.spreadsheet import SheetRow, TransferSheet
from reports.victim import FileLine, LossLine


class _Clock:
    """Moments in UTC and in the victim's zone, both written out."""

    def __init__(self, zone_name: str | None) -> None:
        try:
            self.zone, self.name = (zoneinfo.ZoneInfo(zone_name), zone_name) if zone_name else (UTC, "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            self.zone, self.name = UTC, "UTC"

    def __call__(self, moment: datetime) -> Moment:
        local = moment.astimezone(self.zone)
        offset = local.strftime("%z")
        return Moment(utc=f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC",
                      local=f"{local:%Y-%m-%d %H:%M:%S} {self.name} (UTC{offset[:3]}:{offset[3:]})")

    def text(self, moment: datetime | None) -> str:
        if moment is None:
            return "—"
        when = self(moment)
        return f"{when.utc} / {when.local}"


def _amount(raw: int, decimals: int | None, symbol: str | None) -> str:
    number = format_amount(raw, decimals) if decimals is not None else str(raw)
    return f"{number} {symbol}".strip() if symbol else number


def _chain(chain_id: int):
    return chains.registry().get(chain_id) if chain_id in chains.registry() else None


def _facts(case: Case, clock: _Clock) -> tuple[Fact, ...]:
    reporter = case.reporter
    facts = [
        Fact(_("Incident"), case.incident_type.title),
        Fact(_("Case status"), case.status.title + (f" ({case.resolution.title})" if case.resolution else "")),
        Fact(_("When it happened"), clock.text(case.incident_at)),
        Fact(_("When the victim noticed"), clock.text(case.discovered_at)),
        Fact(_("Reported to us"), clock.text(case.submitted_at)),
        Fact(_("Chains"), ", ".join(chains.chain_name(chain_id) for chain_id in case.chain_ids) or "—"),
        Fact(_("Wallet app"), case.wallet_app or "—"),
        Fact(_("First contact"), case.first_contact or "—"),
    ]
    if reporter is not None and reporter.consent_law_enforcement:
        facts += [Fact(_("Victim"), reporter.name), Fact(_("Jurisdiction"), reporter.jurisdiction or "—")]
    else:
        facts.append(Fact(_("Victim"), _("Withheld: the victim has not agreed to share their personal data with "
                                         "law enforcement.")))
    return tuple(facts)


def _summary(case: Case, records: int, movements: int, exchanges: list[str]) -> str:
    losses = ", ".join(f"{format_amount(loss.amount_raw, loss.decimals)} {loss.asset_symbol}" for loss in case.losses)
    parts = [_("The victim reports a loss of %(losses)s (%(incident)s).", losses=losses or "—",
               incident=case.incident_type.title),
             _("We captured %(records)s and decoded %(movements)s from them.",
               records=ngettext("%(num)d raw on-chain record", "%(num)d raw on-chain records", records),
               movements=ngettext("%(num)d value movement", "%(num)d value movements", movements))]
    if exchanges:
        parts.append(_("Tracing reached: %(exchanges)s.", exchanges=", ".join(exchanges)))
    return " ".join(parts)


def _transfer_amount(transfer: Transfer) -> str:
    """A movement's amount with its token's symbol (the chain's coin for native movements)."""
    chain = _chain(transfer.chain_id)
    symbol = transfer.symbol or (chain.native_symbol if chain and not transfer.token_address else None)
    if transfer.kind is TransferKind.APPROVAL and transfer.amount_raw == UNLIMITED_ALLOWANCE:
        return _("unlimited %(symbol)s", symbol=symbol or "").strip()
    return _amount(transfer.amount_raw, transfer.decimals, symbol)


def _transactions(transfers: list[Transfer], clock: _Clock, record_hashes: dict[int, str]) -> list[TransactionRow]:
    rows = []
    for t in transfers:
        chain = _chain(t.chain_id)
        rows.append(TransactionRow(
            chain=chains.chain_name(t.chain_id), tx_hash=t.tx_hash, block=t.block_number, when=clock(t.block_time),
            from_address=t.from_address, to_address=t.to_address,
            token=t.symbol or (chain.native_symbol if chain and not t.token_address else "?"),
            token_contract=t.token_address or "", amount=_transfer_amount(t), kind=t.kind.title,
            failed=t.tx_status == 0,
            explorer_url=(chain.explorer_tx(t.tx_hash) if chain else None) or "",
            record_sha256=record_hashes.get(t.evidence_record_id, ""),
        ))
    return rows


def _latest_runs(case: Case) -> list[TraceRun]:
    runs = db.session.scalars(select(TraceRun).where(TraceRun.case_id == case.id).order_by(TraceRun.id.desc()))
    latest: dict[int, TraceRun] = {}
    for run in runs:
        latest.setdefault(run.chain_id, run)
    return [latest[chain_id] for chain_id in sorted(latest)]


def _edges(run: TraceRun) -> list[FlowEdge]:
    return list(db.session.scalars(select(FlowEdge).where(FlowEdge.trace_run_id == run.id)
                                   .order_by(FlowEdge.hop, FlowEdge.block_number, FlowEdge.log_index)))


def _graph(case: Case, clock: _Clock, run: TraceRun, edges: list[FlowEdge]) -> GraphFigure:
    """A trace's drawing (no links: a PDF has no case page to point at) and its hops as a table."""
    title = f"{case.reference} · {chains.chain_name(run.chain_id)}"
    return GraphFigure(
        chain=chains.chain_name(run.chain_id),
        svg=render_flow_svg(FlowGraph.from_dict(run.graph), title=title, words=graph_words()),
        edges=tuple(EdgeRow(e.hop, e.from_address, e.to_address, _amount(e.amount_raw, e.decimals, e.symbol),
                            e.tx_hash, clock(e.block_time)) for e in edges),
    )


def _node_basis(node: dict, confidence: dict[tuple[str, str], int]) -> str:
    reasons = []
    if node.get("role") == "exchange_deposit" and node.get("exchange"):
        reasons.append(_("Inferred from behaviour: everything it sent went to hot wallets labelled %(exchange)s, as "
                         "an exchange deposit address does.", exchange=node["exchange"]))
    if node.get("label"):
        source = node.get("label_source") or _("unknown source")
        pct = confidence.get((node["address"].lower(), source))
        reasons.append(_("Label from %(source)s (confidence %(pct)s%%).", source=source, pct=pct)
                       if pct is not None else _("Label from %(source)s.", source=source))
    return " ".join(reasons)


def _confidences(chain_id: int, addresses: list[str]) -> dict[tuple[str, str], int]:
    """How sure each label source is about each address, in percent."""
    rows = db.session.execute(select(AddressLabel.address, AddressLabel.source, AddressLabel.confidence_pct).where(
        AddressLabel.chain_id.in_((chain_id, ANY_CHAIN)), AddressLabel.address.in_([a.lower() for a in addresses])))
    return {(address, source): pct for address, source, pct in rows}


def _sheet_headers() -> tuple[str, ...]:
    return (_("Chain"), _("Token contract"), _("Transaction hash"), _("Block"), _("Time (UTC)"), _("From"), _("To"),
            _("Amount"), _("Token"), _("Explorer link"), _("Sender's label"), _("Source of the sender's label"),
            _("Recipient's label"), _("Source of the recipient's label"))


def _address_labels(case: Case, runs: list[TraceRun]) -> dict[tuple[int, str], tuple[str, str]]:
    """(chain, lowercase address) -> (label, its source): the case's own roles, then what the traces said, then
    the label book (the most confident source), each overriding the one before."""
    known: dict[tuple[int, str], tuple[str, str]] = {
        (a.chain_id, a.address.lower()): (a.label or a.role.title, _("This case's addresses")) for a in case.addresses
    }
    words = graph_words()
    for run in runs:
        for node in run.graph.get("nodes") or []:
            if node.get("label"):
                known[(run.chain_id, node["address"].lower())] = (node["label"], node.get("label_source") or "")
            elif node.get("exchange"):
                known[(run.chain_id, node["address"].lower())] = (words.deposit(node["exchange"]),
                                                                  _("Casework trace (inferred)"))
    addresses = {address for _chain_id, address in known}
    rows = db.session.scalars(select(AddressLabel).where(AddressLabel.address.in_(addresses))
                              .order_by(AddressLabel.confidence_pct))
    for label in rows:  # the most confident last, so it stays
        for chain_id, address in list(known):
            if address == label.address and label.chain_id in (chain_id, ANY_CHAIN):
                known[(chain_id, address)] = (label.name, label.source)
    return known


def _sheet(transfers: list[Transfer], edges: list[FlowEdge], labels_of: dict[tuple[int, str], tuple[str, str]]
           ) -> TransferSheet:
    """Every movement the dossier lists (decoded transfers, then traced hops not among them) as spreadsheet rows."""
    rows, seen = [], set()
    for movement in [*transfers, *edges]:
        key = (movement.chain_id, movement.tx_hash, movement.log_index)
        if key in seen:
            continue
        seen.add(key)
        chain = _chain(movement.chain_id)
        symbol = movement.symbol or (chain.native_symbol if chain and not movement.token_address else "")
        sender = labels_of.get((movement.chain_id, movement.from_address.lower()), ("", ""))
        recipient = labels_of.get((movement.chain_id, movement.to_address.lower()), ("", ""))
        rows.append(SheetRow(
            chain=chains.chain_name(movement.chain_id), token_contract=movement.token_address or "",
            tx_hash=movement.tx_hash, block=movement.block_number or 0,
            utc_time=f"{movement.block_time.astimezone(UTC):%Y-%m-%d %H:%M:%S}",
            from_address=movement.from_address, to_address=movement.to_address,
            amount=amount_text(movement.amount_raw, movement.decimals) or str(movement.amount_raw), symbol=symbol or "",
            explorer_url=(chain.explorer_tx(movement.tx_hash) if chain else None) or "",
            from_label=sender[0], from_label_source=sender[1], to_label=recipient[0], to_label_source=recipient[1],
        ))
    return TransferSheet(_sheet_headers(), tuple(rows))


def _labelled(case: Case, runs: list[TraceRun]) -> list[LabelledAddress]:
    words = graph_words()
    rows: list[LabelledAddress] = []
    attacker_reasons = {
        str(e.data.get("address", "")).lower(): str(e.data.get("reason", ""))
        for e in case.events if e.action is EventKind.ATTACKER_ADDED and e.data
    }
    for address in case.addresses:
        if address.role is not AddressRole.ATTACKER:
            continue
        reason = attacker_reasons.get(address.address.lower())
        basis = (_("Marked by a handler: %(reason)s", reason=reason) if reason
                 else _("Named by the victim, or the recipient of a transfer a handler confirmed as the theft."))
        rows.append(LabelledAddress(address.address, chains.chain_name(address.chain_id), address.role.title,
                                    address.label or "", basis))
    for run in runs:
        nodes = [n for n in run.graph.get("nodes") or [] if n.get("label") or n.get("exchange")]
        confidence = _confidences(run.chain_id, [n["address"] for n in nodes])
        for node in nodes:
            label = node.get("label") or words.deposit(node["exchange"])
            if node.get("category"):
                label = f"{label} ({labels.category_title(node['category'])})"
            rows.append(LabelledAddress(node["address"], chains.chain_name(run.chain_id),
                                        str(words.roles.get(node.get("role"), node.get("role") or "")), label,
                                        _node_basis(node, confidence)))
    return rows


def _referrals(case: Case, clock: _Clock) -> list[ReferralRow]:
    rows = []
    for referral in db.session.scalars(select(Referral).where(Referral.case_id == case.id).order_by(Referral.id)):
        outcome = "; ".join(
            f"{r.kind.title}: {_amount(r.amount_raw, r.decimals, r.symbol)} ({clock(r.recorded_at).utc})"
            for r in referral.recoveries
        )
        rows.append(ReferralRow(
            kind=referral.kind.title, target=referral.target_name, status=referral.status.title,
            amount=_amount(referral.amount_raw, referral.decimals, referral.symbol)
            if referral.amount_raw is not None else "—",
            sent_at=clock(referral.sent_at).utc if referral.sent_at else "—", outcome=outcome or "—",
        ))
    return rows


def _chronology(case: Case, clock: _Clock, transfers: list[Transfer], edges: list[FlowEdge]) -> list[ChronologyEntry]:
    """What the victim reported, what the chain shows and what we did, merged in time order."""
    reported, on_chain, ours = _("Reported by the victim"), _("On-chain"), _("Casework")
    entries: list[tuple[datetime, int, ChronologyEntry]] = []

    def add(moment: datetime | None, source: str, title: str, detail: str = "") -> None:
        if moment is not None:
            entries.append((moment, len(entries), ChronologyEntry(clock(moment), source, title, detail)))

    add(case.incident_at, reported, _("The incident began, as the victim dates it."))
    add(case.discovered_at, reported, _("The victim noticed the loss."))
    add(case.submitted_at, ours, _("The victim's report was filed."))
    seen = set()
    for transfer in transfers:
        seen.add((transfer.tx_hash, transfer.log_index))
        add(transfer.block_time, on_chain, _("%(kind)s: %(amount)s", kind=transfer.kind.title,
                                             amount=_transfer_amount(transfer)), transfer.tx_hash)
    for edge in edges:
        if (edge.tx_hash, edge.log_index) not in seen:
            seen.add((edge.tx_hash, edge.log_index))
            add(edge.block_time, on_chain, _("Hop %(hop)s: %(amount)s moved on", hop=edge.hop,
                                             amount=_amount(edge.amount_raw, edge.decimals, edge.symbol)),
                edge.tx_hash)
    for referral in case.referrals:
        add(referral.sent_at, ours, _("Request sent to %(target)s.", target=referral.target_name))
        for recovery in referral.recoveries:
            add(recovery.recorded_at, ours, _("%(target)s: %(kind)s %(amount)s.", target=referral.target_name,
                                              kind=recovery.kind.title,
                                              amount=_amount(recovery.amount_raw, recovery.decimals, recovery.symbol)))
    return [entry for _moment, _order, entry in sorted(entries, key=lambda item: item[:2])]


def build_evidence_dossier(case: Case, *, code: str, verify_link: str, prepared_by: str,
                           now: datetime | None = None) -> EvidenceDossier:
    """The evidence dossier of a case in the current locale (the caller checked access); code and verify_link are
    the document's verification code as printed and the link of its QR code."""
    clock = _Clock(case.victim_timezone)
    records = evidence_service.case_records(case)
    record_hashes = {r.id: r.sha256 for r in records}
    runs = _latest_runs(case)
    transfers = evidence_service.transfers_for(case)
    edges = {run.id: _edges(run) for run in runs}
    transactions = _transactions(transfers, clock, record_hashes)
    exchanges = sorted({n["exchange"] for run in runs for n in run.graph.get("nodes") or [] if n.get("exchange")})
    users = {u.id: u.display_name for u in db.session.scalars(
        select(User).where(User.id.in_({r.captured_by_id for r in records if r.captured_by_id})))}
    return EvidenceDossier(
        reference=case.reference,
        language="zh-Hans" if _in_chinese() else "en",
        document_type=DocumentAudience.EVIDENCE.title,
        issued_at=clock(now or utcnow()),
        prepared_by=prepared_by,
        verification_code=code,
        verify_url=verify_link,
        time_zone=clock.name,
        facts=_facts(case, clock),
        summary=_summary(case, len(records), len(transactions), exchanges),
        statement=case.summary or "",
        chronology=tuple(_chronology(case, clock, transfers, [e for run in runs for e in edges[run.id]])),
        losses=tuple(
            LossLine(format_amount(loss.amount_raw, loss.decimals), loss.asset_symbol, chains.chain_name(loss.chain_id),
                     loss.token_address,
                     f"{format_amount(loss.fiat_value_cents, 2)} {loss.fiat_currency}"
                     if loss.fiat_value_cents is not None and loss.fiat_currency else None)
            for loss in case.losses
        ),
        transactions=tuple(transactions),
        graphs=tuple(_graph(case, clock, run, edges[run.id]) for run in runs),
        labelled=tuple(_labelled(case, runs)),
        referrals=tuple(_referrals(case, clock)),
        exhibits=tuple(
            FileLine(uploads.display_name(f.original_name), _("%(kb)s KB", kb=format_amount(-(-f.size // 1024), 0)),
                     f.sha256, clock(f.uploaded_at).utc)
            for f in uploads.files_of_case(case)
        ),
        custody=tuple(_custody_row(r, users) for r in records),
        final_chain_hash=records[-1].chain_hash if records else GENESIS_CHAIN_HASH,
        records=tuple(
            RawRecord(r.sequence, r.kind.value, r.chain_id, r.canonical_version, r.canonical_json, r.sha256,
                      r.chain_hash, r.captured_at.astimezone(UTC).isoformat(), r.source_host or "")
            for r in records
        ),
        transfers_sheet=_sheet(transfers, [e for run in runs for e in edges[run.id]], _address_labels(case, runs)),
    )


def _custody_row(record: EvidenceRecord, users: dict[int, str]) -> CustodyRow:
    captured_by = users.get(record.captured_by_id) if record.captured_by_id else None
    return CustodyRow(
        sequence=record.sequence, kind=record.kind.title,
        # "eth_call@rpc.example.org": the JSON-RPC method and the node's host, as one technical name.
        source="@".join(part for part in (record.source_method, record.source_host) if part) or "—",
        captured_at=f"{record.captured_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC",
        captured_by=captured_by or _("Casework (automatic)"),
        confirmations=str(record.confirmations) if record.confirmations is not None else "—",
        sha256=record.sha256, chain_hash=record.chain_hash,
    )


def _in_chinese() -> bool:
    from flask_babel import get_locale

    return str(get_locale()).startswith("zh")


def exchange_name(referral: Referral) -> str:
    """The exchange a freeze request is aimed at: its directory entry's name, else the referral's target name."""
    return referral.organisation.name if referral.organisation is not None else \
        referral.target_name.split(":", 1)[0].strip()


def freeze_referrals(case: Case) -> list[Referral]:
    """The case's exchange freeze requests that name a deposit address (one letter each, to its exchange)."""
    return [r for r in case.referrals if r.kind is ReferralKind.EXCHANGE_FREEZE and r.target_address
            and r.chain_id is not None]


def build_freeze_letter(case: Case, referral: Referral, *, code: str, verify_link: str,
                        now: datetime | None = None) -> FreezeLetter:
    """The freeze request to referral's exchange, in the current locale: every deposit address of the case at that
    exchange, what reached them, the path from the victim; the victim's details only with their consent."""
    clock = _Clock(case.victim_timezone)
    exchange = exchange_name(referral)
    same_exchange = [r for r in freeze_referrals(case) if exchange_name(r) == exchange]
    incoming: list[FlowEdge] = []
    path: list[FlowEdge] = []
    runs = []
    for chain_id in sorted({r.chain_id for r in same_exchange}):
        run = tracing.latest_trace(case, chain_id)
        if run is None:
            continue
        runs.append(run)
        edges = _edges(run)
        for deposit in (r for r in same_exchange if r.chain_id == chain_id):
            target = deposit.target_address.lower()
            incoming += [e for e in edges if e.to_address.lower() == target and e not in incoming]
            path += [e for e in referral_drafts.path_to(edges, target) if e not in path and e not in incoming]
    head = evidence_service.last_record(case)
    reporter = case.reporter

    def row(edge: FlowEdge) -> EdgeRow:
        return EdgeRow(edge.hop, edge.from_address, edge.to_address, _amount(edge.amount_raw, edge.decimals,
                                                                             edge.symbol), edge.tx_hash,
                       clock(edge.block_time))

    return FreezeLetter(
        reference=case.reference,
        language="zh-Hans" if _in_chinese() else "en",
        document_type=DocumentAudience.EXCHANGE_FREEZE.title,
        issued_at=clock(now or utcnow()),
        verification_code=code,
        verify_url=verify_link,
        exchange=exchange,
        sent_to=referral.sent_to or (referral.organisation.channel if referral.organisation else None) or "",
        deposits=tuple(
            DepositLine(r.target_address, chains.chain_name(r.chain_id),
                        _amount(r.amount_raw, r.decimals, r.symbol) if r.amount_raw is not None else "—")
            for r in same_exchange
        ),
        incoming=tuple(row(e) for e in incoming),
        path=tuple(row(e) for e in sorted(path, key=lambda e: (e.hop, e.block_number or 0))),
        request=_("We ask you to freeze the funds that reached the deposit addresses above and the account that "
                  "holds them, to keep that account's records (identity, log-ins, deposits and withdrawals), and to "
                  "tell us what you froze and in which assets."),
        contact=referral_drafts.contact(),
        victim=VictimDetails(reporter.name, reporter.email or "", reporter.phone or "")
        if reporter is not None and referral_drafts.may_share_personal_data(referral) else None,
        final_chain_hash=head.chain_hash if head else GENESIS_CHAIN_HASH,
        transfers_sheet=_sheet([], [*path, *incoming], _address_labels(case, runs)),
    )
