"""Every message of the validators and the guard is translatable, and renders with or without a Flask app."""

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from flask import Flask
from flask_babel import Babel

from forms.secrets import SecretKind, secret_warning
from forms.validators import InvalidInput, check_text_length, normalize_evm_address

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"


def extracted_messages() -> list[str]:
    keywords = {"_": None, "_l": None}
    return [message for _file, _line, message, _comments, _context in extract_from_dir(FORMS_DIR, keywords=keywords)]


@pytest.mark.parametrize("kind", list(SecretKind))
def test_lazy_warnings_render_in_english_outside_an_app_context(kind: SecretKind) -> None:
    assert secret_warning(kind).startswith("This looks like")


def test_messages_with_placeholders_render_outside_an_app_context() -> None:
    with pytest.raises(InvalidInput, match="At most 3 characters; you wrote 4."):
        check_text_length("abcd", max_chars=3)


def test_messages_render_inside_a_request_in_the_chinese_locale() -> None:
    app = Flask(__name__)
    Babel(app, locale_selector=lambda: "zh_Hans_CN")
    with app.test_request_context():
        assert secret_warning(SecretKind.MNEMONIC)
        with pytest.raises(InvalidInput) as error:
            normalize_evm_address("0x123")
        assert "3" in error.value.message
        with pytest.raises(InvalidInput, match="you wrote 4"):
            check_text_length("abcd", max_chars=3)


def test_every_message_is_extractable_for_translators() -> None:
    messages = extracted_messages()
    # One extracted message per _() or _l() call: none is built at run time where translators cannot see it.
    calls = sum(len(re.findall(r"(?<![\w.])_l?\(", path.read_text())) for path in FORMS_DIR.glob("*.py"))
    assert len(messages) == calls >= 39
    assert "At most %(max)d characters; you wrote %(n)d." in messages
    assert all(secret_warning(kind) in messages for kind in SecretKind)
    # Placeholders are named, so translators can reorder them; nothing is pre-formatted into a message.
    assert not any("{" in message or "%s" in message or "%d" in message for message in messages)
