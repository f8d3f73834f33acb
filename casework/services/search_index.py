"""The queue's search index: one search document per case (table case_search), and the SQL that matches it.

A case's document is the text a handler searches by, normalised once when it is written: the reporter's name,
e-mail and phone, the case's addresses and transaction hashes and the scammer's contacts (websites, phones,
e-mails, social accounts, apps), lower-cased and cut into words of letters and digits, each Chinese (or other CJK)
character a word of its own, words separated by one space. Phone numbers are added again as digits only (with and
without a country code), so "+86 138 0013 8000" is found by "13800138000". The query is normalised the same way,
so a match is a substring of the document on both databases:

- SQLite: case_search is an FTS5 table with the trigram tokenizer (rowid = the case's id); `LIKE '%...%'` uses its
  index for 3 characters or more; a shorter term is looked for by instr() over the table.
- PostgreSQL: case_search(case_id, document, document_tsv) with a pg_trgm GIN index on document (substrings of 3
  characters or more: addresses and hashes by prefix, names, e-mails, phones) and a GIN index on the 'simple'
  tsvector (terms with CJK characters, found as a phrase of characters whatever their number, since trigrams of a
  two-character name like 张伟 do not exist; and terms shorter than 3 characters, found as word prefixes).

Filing writes the document in the statement that writes the case (casework/services/filing.py); the portal's
adds (an address, a transaction) call `refresh`. The reference is not in the document: it is given after the
case is written, and `cases.reference` answers a reference search itself (see casework/services/queue.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from sqlalchemy import JSON, ColumnElement, Integer, Text, bindparam, column, func, literal_column, select, table, text
from sqlalchemy.engine import Connection

from casework.extensions import db
from casework.models import Case

CASE_SEARCH = table("case_search", column("case_id", Integer), column("document", Text))
# Runs of letters and digits (no underscore); a CJK character is cut out of its run as a word of its own.
_WORD = re.compile(r"[^\W_]+")
_CJK = re.compile(r"([\u2e80-\u2fff\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff])")
_PHONE_SHAPE = re.compile(r"^\s*(\+|00)?[\d\s().\-/]{6,}$")
# Trigram indexes answer substrings of at least this many characters.
TRIGRAM_MIN = 3


class SearchDocument:
    """The case_search row filing writes with a case (`__table__` as a model has; not mapped by the ORM: on SQLite
    the table is a virtual FTS5 table)."""

    __table__ = CASE_SEARCH


# SQLite: FTS5 rows are keyed by rowid, the case's id; REPLACE so a refresh (or a reused id) overwrites.
SQLITE_WRITE = text("INSERT OR REPLACE INTO case_search (rowid, document) VALUES (:case_id, :document)")
POSTGRES_WRITE = text(
    "INSERT INTO case_search (case_id, document) VALUES (:case_id, :document) "
    "ON CONFLICT (case_id) DO UPDATE SET document = excluded.document"
)


def words(value: str) -> list[str]:
    """The normalised words of value: lower case, letters and digits only, one CJK character per word."""
    found: list[str] = []
    for run in _WORD.findall(value.casefold()):
        found.extend(part for part in _CJK.split(run) if part)
    return found


def phrase(value: str) -> str:
    """value as the document holds it: its words joined by one space."""
    return " ".join(words(value))


def _phone_variants(phone: str) -> list[str]:
    digits = re.sub(r"\D", "", phone)
    if not digits:
        return []
    variants = [digits]
    if phone.strip().startswith(("+", "00")):
        international = digits[2:] if phone.strip().startswith("00") else digits
        # Without the country code (1 to 3 digits), as the number is dialled at home.
        variants += [international[cut:] for cut in (1, 2, 3) if len(international) - cut >= 6]
    return variants


def build_document(*, name: str | None = None, email: str | None = None, phone: str | None = None,
                   addresses: Iterable[str] = (), tx_hashes: Iterable[str] = (),
                   scammer_contacts: Mapping[str, Iterable[str]] | None = None) -> str:
    """The search document of a case from its facts."""
    parts: list[str] = [name or "", email or "", phone or "", *addresses, *tx_hashes]
    phones = [phone] if phone else []
    for kind, values in (scammer_contacts or {}).items():
        values = [str(v) for v in values or ()]
        parts.extend(values)
        if kind == "phones":
            phones.extend(values)
    for number in phones:
        parts.extend(_phone_variants(number))
    return " ".join(filter(None, (phrase(part) for part in parts)))


def refresh(case_id: int) -> None:
    """Write the case's document again from its rows, in the caller's transaction (after a fact was added)."""
    connection = db.session.connection()
    write(connection, case_id, document_from_rows(connection, case_id))


def write(connection: Connection, case_id: int, document: str) -> None:
    statement = SQLITE_WRITE if connection.dialect.name == "sqlite" else POSTGRES_WRITE
    connection.execute(statement, {"case_id": case_id, "document": document})


def document_from_rows(connection: Connection, case_id: int) -> str:
    """The document of a case as its rows hold it now (also used by the migration that indexes existing cases)."""
    params = {"case": case_id}
    reporter = connection.execute(
        text("SELECT name, email, phone FROM reporters WHERE case_id = :case"), params).first()
    addresses = connection.execute(
        text("SELECT address FROM case_addresses WHERE case_id = :case ORDER BY id"), params).scalars()
    # What the victim reported, then what capture, discovery and tracing found (each hash once).
    hashes = connection.execute(text(
        "SELECT tx_hash FROM (SELECT tx_hash, MIN(n) AS n FROM ("
        " SELECT tx_hash, id AS n FROM reported_transactions WHERE case_id = :case"
        " UNION ALL SELECT tx_hash, 1000000000 + id FROM transfers WHERE case_id = :case"
        " UNION ALL SELECT tx_hash, 2000000000 + id FROM flow_edges WHERE case_id = :case"
        ") AS found GROUP BY tx_hash) AS first ORDER BY n"), params).scalars()
    contacts = connection.execute(
        select(literal_column("scammer_contacts", type_=JSON)).select_from(table("report_extras"))
        .where(literal_column("case_id") == case_id)).scalar()
    return build_document(
        name=reporter.name if reporter else None, email=reporter.email if reporter else None,
        phone=reporter.phone if reporter else None, addresses=list(addresses), tx_hashes=list(hashes),
        scammer_contacts=contacts or {},
    )


def matching_case_ids(query_text: str, dialect: str) -> ColumnElement[bool] | None:
    """A condition on cases.id: every term of query_text (split at spaces) is in the case's document. None when
    the text holds no letters or digits."""
    terms = [p for p in (phrase(term) for term in _terms(query_text)) if p]
    if not terms:
        return None
    if dialect == "sqlite":
        doc = literal_column("document")
        hits = select(literal_column("rowid")).select_from(CASE_SEARCH)
        for term in terms:
            # FTS5's trigram LIKE finds nothing for fewer than 3 characters that are 3 bytes or more (one Chinese
            # character): those shortest terms are looked for by instr, over the table.
            hits = hits.where(doc.like(f"%{term}%") if len(term) >= TRIGRAM_MIN else func.instr(doc, term) > 0)
        return Case.id.in_(hits)
    doc = literal_column("case_search.document")
    vector = literal_column("case_search.document_tsv")
    hits = select(CASE_SEARCH.c.case_id)
    for term in terms:
        if _CJK.search(term) or len(term) < TRIGRAM_MIN:
            hits = hits.where(vector.op("@@")(_to_tsquery(term)))
        else:
            hits = hits.where(doc.like(f"%{term}%"))
    return Case.id.in_(hits)


def _terms(query_text: str) -> list[str]:
    """A phone number typed with spaces is one term (as digits); other text splits at spaces."""
    if _PHONE_SHAPE.match(query_text):
        return [re.sub(r"\D", "", query_text)]
    return query_text.split()


def _to_tsquery(term: str) -> ColumnElement:
    """to_tsquery('simple', ...) of a phrase of the term's words, the last one a prefix. The words hold letters and
    digits only (see `words`), and are quoted, so no operator of the query syntax can come from the user."""
    query = " <-> ".join(f"'{word}'" for word in term.split(" ")) + ":*"
    return func.to_tsquery(literal_column("'simple'"), bindparam("tsq", query, unique=True, type_=Text))


def outside_the_models(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic's include_name: False for what the migration a1c3e5f7b9d0 makes and the models do not describe, so
    autogenerate and the schema test leave it alone: case_search (on SQLite the FTS5 tables behind it) and the
    expression index ix_cases_urgency (see casework/models/case.py)."""
    if name is None:
        return True
    if type_ == "table":
        return not (name == "case_search" or name.startswith("case_search_"))
    return not (type_ == "index" and name == "ix_cases_urgency")
