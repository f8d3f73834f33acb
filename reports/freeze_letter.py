"""The freeze request to one exchange as a letter: the view-model of templates/reports/exchange_freeze.html.

Its deposit addresses at that exchange, the transfers that reached them, the path from the victim, the request,
our contact and the case reference. The victim's personal data is in it only when they agreed to share it with
exchanges (`victim` is None otherwise, and the letter says why). Rendered as PDF/A-3b with the transfers
spreadsheet attached, like the evidence dossier.
"""

from __future__ import annotations

from dataclasses import dataclass

from reports.dossier import EdgeRow, Moment
from reports.spreadsheet import TransferSheet

TEMPLATE = "exchange_freeze.html"


@dataclass(frozen=True)
class DepositLine:
    address: str
    chain: str
    amount: str


@dataclass(frozen=True)
class VictimDetails:
    name: str
    email: str
    phone: str


@dataclass(frozen=True)
class FreezeLetter:
    reference: str
    language: str  # BCP 47 tag for <html lang>
    document_type: str
    issued_at: Moment
    verification_code: str
    verify_url: str
    exchange: str
    sent_to: str
    deposits: tuple[DepositLine, ...]
    incoming: tuple[EdgeRow, ...]
    path: tuple[EdgeRow, ...]
    request: str
    contact: str
    victim: VictimDetails | None
    final_chain_hash: str
    transfers_sheet: TransferSheet


def render_freeze_letter(letter: FreezeLetter, *, translations=None) -> bytes:
    """The letter as PDF/A-3b bytes, with its transfers attached as CSV and XLSX."""
    from reports.dossier import TRANSFERS_CSV, TRANSFERS_XLSX
    from reports.render import PDF_A, PdfAttachment, render_pdf
    from reports.spreadsheet import transfers_csv, transfers_xlsx

    attachments = (
        PdfAttachment(TRANSFERS_CSV, transfers_csv(letter.transfers_sheet),
                      "Transfers: chain, token, hash, block, time, from, to, amount, explorer link, labels"),
        PdfAttachment(TRANSFERS_XLSX, transfers_xlsx(letter.transfers_sheet), "Transfers, as an XLSX workbook"),
    )
    return render_pdf(TEMPLATE, letter, translations=translations, attachments=attachments, pdf_variant=PDF_A)
