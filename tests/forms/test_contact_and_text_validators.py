"""Specification of the phone, email and free-text length validators."""

import dns.resolver
import pytest

from forms.validators import InvalidInput, check_text_length, normalize_email, normalize_phone


def test_national_phone_number_is_read_in_the_victims_country() -> None:
    assert normalize_phone("138 0013 8000", "CN") == "+8613800138000"


def test_international_phone_number_needs_no_country() -> None:
    assert normalize_phone("+1 650-253-0000") == "+16502530000"
    assert normalize_phone("+86 138 0013 8000", "GB") == "+8613800138000"


def test_phone_number_typed_in_full_width_digits_is_accepted() -> None:
    assert normalize_phone("１３８００１３８０００", "cn") == "+8613800138000"


def test_national_phone_number_without_a_country_is_refused_asking_for_the_country_code() -> None:
    with pytest.raises(InvalidInput, match=r"start it with \+ and the country code"):
        normalize_phone("138 0013 8000")


def test_invalid_phone_number_is_refused_naming_the_assumed_country_code() -> None:
    with pytest.raises(InvalidInput, match=r"not a \+86 number"):
        normalize_phone("12345", "CN")


def test_unknown_country_is_treated_as_no_country() -> None:
    assert normalize_phone("+8613800138000", "XX") == "+8613800138000"
    with pytest.raises(InvalidInput, match="country code"):
        normalize_phone("138 0013 8000", "XX")


@pytest.mark.parametrize("typed", ["", "hello", "+", "1" * 300])
def test_things_that_are_not_phone_numbers_are_refused(typed: str) -> None:
    with pytest.raises(InvalidInput):
        normalize_phone(typed, "CN")


def test_email_address_is_normalised_without_any_dns_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_lookups(*args: object, **kwargs: object) -> None:
        raise AssertionError("a DNS lookup was made")

    monkeypatch.setattr(dns.resolver, "resolve", no_lookups)
    monkeypatch.setattr(dns.resolver.Resolver, "resolve", no_lookups)
    assert normalize_email(" Victim@QQ.com ") == "Victim@qq.com"
    assert normalize_email("someone@no-such-domain-3f9a.com") == "someone@no-such-domain-3f9a.com"


def test_internationalised_email_address_is_accepted() -> None:
    assert normalize_email("张三@例子.中国") == "张三@例子.中国"


def test_email_address_typed_in_full_width_is_accepted() -> None:
    assert normalize_email("１２３４５＠ｑｑ．ｃｏｍ") == "12345@qq.com"


def test_email_address_without_at_sign_is_refused_saying_so() -> None:
    with pytest.raises(InvalidInput, match="contains @"):
        normalize_email("victim.qq.com")


@pytest.mark.parametrize("typed", ["a@b", "a b@qq.com", "victim@", "@qq.com", "x@@qq.com"])
def test_malformed_email_address_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput, match="not valid"):
        normalize_email(typed)


def test_text_over_the_limit_is_refused_saying_how_long_it_is() -> None:
    with pytest.raises(InvalidInput) as error:
        check_text_length("x" * 11, max_chars=10)
    assert error.value.message == "At most 10 characters; you wrote 11."


def test_text_under_the_minimum_is_refused_saying_how_long_it_is() -> None:
    with pytest.raises(InvalidInput) as error:
        check_text_length("short", max_chars=100, min_chars=20)
    assert error.value.message == "At least 20 characters, please; you wrote 5."


def test_line_breaks_count_as_one_character_as_in_the_browser() -> None:
    assert check_text_length("ab\r\ncd", max_chars=5) == "ab\ncd"


def test_chinese_characters_and_emoji_count_one_each() -> None:
    assert check_text_length("我被骗了😢", max_chars=5) == "我被骗了😢"
