"""The transfers spreadsheet: CSV and XLSX with the same rows, and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
import zipfile

from reports.spreadsheet import SheetRow, TransferSheet, transfers_csv, transfers_xlsx

HEADERS = ("Chain", "Token contract", "Transaction hash", "Block", "Time (UTC)", "From", "To", "Amount", "Token",
           "Explorer link", "Sender's label", "Source", "Recipient's label", "Source")


def _row(**changes) -> SheetRow:
    values = dict(chain="Ethereum", token_contract="0xdAC17F958D2ee523a2206206994597C13D831ec7",
                  tx_hash="0x" + "ab" * 32, block=19_000_001, utc_time="2026-11-22 08:00:00",
                  from_address="0x" + "11" * 20, to_address="0x" + "22" * 20, amount="2500.000001", symbol="USDT",
                  explorer_url="https://etherscan.io/tx/0x" + "ab" * 32, from_label="Victim",
                  from_label_source="This case's addresses", to_label="Harbour Exchange 3", to_label_source="devnet")
    values.update(changes)
    return SheetRow(**values)


def test_the_csv_has_a_heading_and_one_line_per_transfer():
    sheet = TransferSheet(HEADERS, (_row(), _row(tx_hash="0x" + "cd" * 32, block=19_000_002)))
    rows = list(csv.reader(io.StringIO(transfers_csv(sheet).decode("utf-8-sig"))))
    assert rows[0] == list(HEADERS)
    assert rows[1][2] == "0x" + "ab" * 32 and rows[1][3] == "19000001" and rows[1][7] == "2500.000001"
    assert rows[2][2] == "0x" + "cd" * 32 and len(rows) == 3


def test_the_xlsx_holds_the_same_cells_as_text():
    sheet = TransferSheet(HEADERS, (_row(to_label="=HYPERLINK(\"http://evil\",\"x\")"),))
    with zipfile.ZipFile(io.BytesIO(transfers_xlsx(sheet))) as workbook:
        strings = workbook.read("xl/sharedStrings.xml").decode()
        sheet_xml = workbook.read("xl/worksheets/sheet1.xml").decode()
    assert "0x" + "ab" * 32 in strings and "2500.000001" in strings and "Harbour" not in strings
    assert "=HYPERLINK" in strings and "<f>" not in sheet_xml  # a string cell, never a formula
    assert "19000001" in sheet_xml


def test_a_label_that_looks_like_a_formula_is_inert_in_the_csv():
    sheet = TransferSheet(HEADERS, (_row(to_label="=cmd|' /C calc'!A0", from_label="@SUM(1)"),))
    line = list(csv.reader(io.StringIO(transfers_csv(sheet).decode("utf-8-sig"))))[1]
    assert line[10] == "'@SUM(1)" and line[12] == "'=cmd|' /C calc'!A0"
