"""The transfers of a dossier as a spreadsheet (CSV and XLSX), because compliance desks work in spreadsheets.

One row per value movement: chain, token contract, transaction hash, block, UTC time, from, to, the exact amount
(a decimal without thousands separators) and its symbol, the explorer link, and each side's label with its source.
Text from users (labels) is never read as a formula: the CSV prefixes a leading =, +, - or @ with an apostrophe,
and the XLSX writes every text cell as a string.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import xlsxwriter

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class SheetRow:
    chain: str
    token_contract: str
    tx_hash: str
    block: int
    utc_time: str
    from_address: str
    to_address: str
    amount: str
    symbol: str
    explorer_url: str
    from_label: str
    from_label_source: str
    to_label: str
    to_label_source: str

    def cells(self) -> list[str | int]:
        return [self.chain, self.token_contract, self.tx_hash, self.block, self.utc_time, self.from_address,
                self.to_address, self.amount, self.symbol, self.explorer_url, self.from_label, self.from_label_source,
                self.to_label, self.to_label_source]


@dataclass(frozen=True)
class TransferSheet:
    """The column headings (in the document's language, one per SheetRow field) and the rows."""

    headers: tuple[str, ...]
    rows: tuple[SheetRow, ...] = ()


def inert(text: str) -> str:
    """Text a spreadsheet program will not run as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def transfers_csv(sheet: TransferSheet) -> bytes:
    """The sheet as CSV (UTF-8 with a byte-order mark, which spreadsheet programs need to read UTF-8)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(sheet.headers)
    for row in sheet.rows:
        writer.writerow([inert(cell) if isinstance(cell, str) else cell for cell in row.cells()])
    return out.getvalue().encode("utf-8-sig")


def transfers_xlsx(sheet: TransferSheet) -> bytes:
    """The sheet as an XLSX workbook: bold headings, the heading row frozen, text as text."""
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False,
                                         "strings_to_urls": False, "strings_to_numbers": False})
    worksheet = workbook.add_worksheet("Transfers")
    bold = workbook.add_format({"bold": True})
    for column, heading in enumerate(sheet.headers):
        worksheet.write_string(0, column, heading, bold)
    for line, row in enumerate(sheet.rows, start=1):
        for column, cell in enumerate(row.cells()):
            if isinstance(cell, int):
                worksheet.write_number(line, column, cell)
            else:
                worksheet.write_string(line, column, cell)
    worksheet.freeze_panes(1, 0)
    worksheet.set_column(0, len(sheet.headers) - 1, 24)
    workbook.close()
    return out.getvalue()
