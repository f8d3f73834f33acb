"""The Simplified Chinese catalogue covers every user-facing string, placeholders intact."""

import re
from pathlib import Path

from babel.messages.pofile import read_po

CATALOGUE = Path(__file__).resolve().parents[2] / "casework/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _messages():
    with CATALOGUE.open("rb") as handle:
        return [m for m in read_po(handle) if m.id]


def test_every_message_is_translated_and_not_fuzzy():
    messages = _messages()
    assert len(messages) > 100
    untranslated = [m.id for m in messages if not m.string or m.fuzzy]
    assert untranslated == []


def test_translations_keep_the_placeholders():
    broken = [
        m.id for m in _messages()
        if sorted(PLACEHOLDER.findall(m.id if isinstance(m.id, str) else m.id[0]))
        != sorted(PLACEHOLDER.findall(m.string if isinstance(m.string, str) else m.string[0]))
    ]
    assert broken == []


def test_the_catalogue_holds_every_string_in_the_code():
    """A new user-facing string fails here until `make translations` is run and it is translated."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    root = CATALOGUE.parents[4]
    with (root / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    in_code = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(root), method_map, options_map, keywords=keywords
    ):
        in_code.add(message if isinstance(message, str) else message[0])
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in _messages()}
    assert sorted(in_code - known) == []
