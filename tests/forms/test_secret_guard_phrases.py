"""Specification of the secret guard for recovery phrases (BIP-39, English and Chinese simplified)."""

import random

import pytest
from eth_account.hdaccount.mnemonic import Mnemonic
from eth_account.types import Language

from forms.phrases import CHINESE, ENGLISH, VALID_WORD_COUNTS, checksum_ok
from forms.secrets import SecretKind, find_secret, find_secrets, redact_secrets

ENGLISH_WORDS = sorted(ENGLISH, key=ENGLISH.__getitem__)
CHINESE_CHARACTERS = sorted(CHINESE, key=CHINESE.__getitem__)

# Victims' statements as they are really written: long, emotional, full of everyday wordlist words.
ENGLISH_STATEMENTS = [
    "I lost my wallet after a phone call from someone claiming to be support",
    (
        "On the evening of March 5th I received a phone call from someone who said he worked for the support team "
        "of my wallet. He knew my name and the last digits of my phone number, so I believed him. He told me that "
        "there was a problem with my account and that my funds were at risk because of a security update. He asked "
        "me to open a link and connect my wallet so that he could check the balance and move everything to a safe "
        "place. The page looked exactly like the real one. I clicked approve twice because the first time it said "
        "the network was busy. About ten minutes later all of my USDT and most of my ETH were gone, sent to an "
        "address I have never seen. When I called the number back nobody answered, and the chat group where I had "
        "asked for help was deleted. I have saved every screenshot and message. I also reported this to the local "
        "police station the next morning, and they gave me a case number. I never shared my recovery words with "
        "anyone, and I still have my phone. Please tell me what else I should do, because this money was all my "
        "savings for the past five years and my family does not know yet."
    ),
    (
        "A woman I met on a dating app introduced me to a trading platform that her uncle used. At first the "
        "profits looked real and I could withdraw small amounts, so I added more money every week. When I tried "
        "to take out everything the platform asked for a tax payment first, then a deposit to unlock my account, "
        "then a fee for a lawyer. I paid all of them. Now the site is offline and she has blocked me."
    ),
]

CHINESE_STATEMENTS = [
    "我在imToken里被骗了，对方冒充客服让我授权",
    (
        "我在imToken里被骗了，对方冒充客服让我授权。当时我在电报群里问怎么把USDT换成以太坊，有一个自称是官方客服的人"
        "私聊我，说我的钱包有风险，需要先做一次安全验证。他发给我一个链接，让我在钱包里打开并点击确认，我以为只是验证"
        "身份，就按照他的要求操作了。过了大概十分钟，我发现钱包里的三万多个USDT全部被转走了，转到了一个我不认识的地址。"
    ),
    (
        "今年三月五日晚上九点左右，我接到一个电话，对方说是交易所的工作人员，说我的账户涉嫌洗钱，需要配合调查，否则会"
        "被冻结。他让我下载一个软件，然后把钱包里的币转到所谓的安全账户。我一共转了四次，总共损失了大约十二万元人民币。"
        "第二天我去派出所报了案，民警说这是典型的电信诈骗，让我尽快把相关的交易记录和聊天记录整理好。"
    ),
    (
        "事情经过是这样的：我在网上认识了一个女生，聊了两个多月，她说她叔叔在做数字货币投资，收益很高，带我一起做。"
        "一开始我投了一千美元，几天后就显示赚了三百多，提现也很顺利。后来我陆续投入了自己全部的积蓄，还向朋友借了钱，"
        "总共投了八万多美元。等我想提现的时候，平台说要先交百分之二十的税，我交了以后还是不能提现。"
    ),
    (
        "我的助记词被骗子拿走了，他说这是升级钱包必须的步骤。我把助记词告诉了对方然后他就把我的钱全部转走了。"
        "现在我已经把剩下的资产转到了新的钱包，也撤销了所有的授权。我在区块链浏览器上看到，我的钱被转到了一个地址以后，"
        "又被分成很多笔转到了不同的地址，其中有一笔好像进了某个交易所，希望你们能帮我联系交易所冻结资金。"
    ),
    (
        "对方自称是某某公司的技术支持，说可以帮我把丢失的资金找回来，但是需要先支付百分之十的服务费。我之前已经被骗过"
        "一次，这次比较小心，就上网查了一下，发现很多人说这种所谓的追回服务也是骗局。所以我没有付款，而是来这里填写报告。"
        "我希望知道正规的处理流程是什么，需要准备哪些材料，大概需要多长时间。虚拟货币交易本身违法吗？我担心报警会有麻烦。"
    ),
    (
        "这件事对我的打击很大，这些钱是我工作了好几年攒下来的，本来打算明年给孩子交学费。我现在每天晚上都睡不着觉，"
        "也不敢告诉父母。我知道追回的可能性不大，但是还是想试一试。如果你们需要更多的信息，可以随时联系我，我的电话"
        "一直开着，白天晚上都可以。受害者减少损失虚拟货币交易所冻结资金的流程我都不太懂，请多指教。"
    ),
]


def english_phrase(words: int = 12) -> str:
    """A real English recovery phrase with a valid checksum."""
    return Mnemonic(Language.ENGLISH).generate(words)


def chinese_phrase(words: int = 12, seed: int | None = None) -> str:
    """A real Chinese simplified recovery phrase (valid checksum, spaces between), from a fixed seed if given."""
    mnemonic = Mnemonic(Language.CHINESE_SIMPLIFIED)
    if seed is None:
        return mnemonic.generate(words)
    return mnemonic.to_mnemonic(random.Random(seed).randbytes(words * 4 // 3))


def with_bad_checksum(phrase: str) -> str:
    """The phrase with its last word changed so that the checksum no longer matches (a mistyped word)."""
    words = phrase.split()
    wordlist = CHINESE if words[0] in CHINESE else ENGLISH
    ordered = sorted(wordlist, key=wordlist.__getitem__)
    for replacement in ordered:
        candidate = [*words[:-1], replacement]
        if not checksum_ok([wordlist[w] for w in candidate]):
            return " ".join(candidate)
    raise AssertionError("unreachable: most last words break the checksum")


@pytest.mark.parametrize("words", VALID_WORD_COUNTS)
def test_english_phrase_of_every_valid_length_is_found(words: int) -> None:
    finding = find_secret(english_phrase(words))
    assert finding is not None
    assert finding.kind == SecretKind.MNEMONIC == "mnemonic"
    assert finding.verified


@pytest.mark.parametrize("words", VALID_WORD_COUNTS)
def test_chinese_phrase_of_every_valid_length_is_found(words: int) -> None:
    finding = find_secret(chinese_phrase(words))
    assert finding is not None
    assert finding.kind == SecretKind.MNEMONIC
    assert finding.verified


def test_english_phrase_embedded_in_a_sentence_is_found_where_it_is() -> None:
    phrase = english_phrase()
    text = f"The man on the phone asked me to read out my backup: {phrase}. My money was gone."
    finding = find_secret(text)
    assert finding is not None
    assert text[finding.start : finding.end] == phrase


@pytest.mark.parametrize(
    "layout",
    [
        lambda words: ", ".join(words),
        lambda words: "\n".join(words),
        lambda words: " ".join(f"{n}. {word}" for n, word in enumerate(words, 1)),
        lambda words: "\n".join(f"{n}) {word}" for n, word in enumerate(words, 1)),
        lambda words: " ".join(w.upper() for w in words),
        lambda words: " - ".join(w.capitalize() for w in words),
        lambda words: "，".join(words),
    ],
    ids=["commas", "lines", "numbered-dot", "numbered-paren", "capitals", "dashes", "chinese-commas"],
)
def test_english_phrase_in_any_usual_layout_is_found(layout) -> None:
    assert find_secret("my words are: " + layout(english_phrase().split())) is not None


def test_mistyped_english_phrase_with_bad_checksum_is_still_found() -> None:
    finding = find_secret(with_bad_checksum(english_phrase()))
    assert finding is not None
    assert not finding.verified


def test_english_phrase_with_one_misspelled_word_is_still_found() -> None:
    words = english_phrase().split()
    words[4] = words[4] + "s" if not words[4].endswith("s") else words[4][:-1] + "x"
    assert find_secret(" ".join(words)) is not None


def test_eleven_wordlist_words_are_not_a_phrase() -> None:
    assert find_secret(" ".join(english_phrase().split()[:11])) is None


@pytest.mark.parametrize(
    "layout",
    [
        lambda chars: " ".join(chars),
        lambda chars: "，".join(chars),
        lambda chars: "、".join(chars),
        lambda chars: "\n".join(chars),
        lambda chars: "\u3000".join(chars),
        lambda chars: " ".join(f"{n}.{c}" for n, c in enumerate(chars, 1)),
        lambda chars: "\n".join(f"{n}、{c}" for n, c in enumerate(chars, 1)),
    ],
    ids=["spaces", "chinese-commas", "enumeration-commas", "lines", "ideographic-spaces", "numbered", "numbered-lines"],
)
def test_chinese_phrase_written_with_separators_is_always_found(layout) -> None:
    for _ in range(20):
        text = "对方让我把这个发给他：" + layout(chinese_phrase().split()) + "。然后钱就没了"
        finding = find_secret(text)
        assert finding is not None
        assert finding.kind == SecretKind.MNEMONIC


@pytest.mark.parametrize(
    "layout",
    [
        lambda chars: "".join(chars),
        lambda chars: " ".join("".join(chars[i : i + 3]) for i in range(0, len(chars), 3)),
        lambda chars: " ".join("".join(chars[i : i + 4]) for i in range(0, len(chars), 4)),
    ],
    ids=["no-spaces", "groups-of-3", "groups-of-4"],
)
@pytest.mark.parametrize("seed", range(5))
def test_chinese_phrase_written_without_separators_on_its_own_line_is_found(layout, seed: int) -> None:
    text = "助记词如下：\n" + layout(chinese_phrase(12, seed).split()) + "\n请帮我看看"
    assert find_secret(text) is not None


@pytest.mark.parametrize("seed", range(5))
def test_unseparated_chinese_phrase_after_a_label_inside_a_sentence_is_found(seed: int) -> None:
    phrase = "".join(chinese_phrase(12, seed).split())
    text = f"我的助记词是{phrase}我已经发给他了"
    finding = find_secret(text)
    assert finding is not None
    # The phrase runs into the sentence, so the span may take in a neighbouring character or two, never less.
    assert finding.start <= text.index(phrase) and finding.end >= text.index(phrase) + len(phrase)
    assert finding.end - finding.start <= len(phrase) + 4


@pytest.mark.parametrize(("words", "at_least"), [(12, 0.95), (15, 0.97), (24, 0.99)])
def test_unseparated_chinese_phrases_are_found_almost_always(words: int, at_least: float) -> None:
    # Without separators a phrase is told from prose by statistics (see forms.phrases), so a few typical-looking
    # 12-character phrases are missed; the separated form, which wallets show, is always found.
    phrases = ["".join(chinese_phrase(words, seed).split()) for seed in range(1000)]
    found = sum(find_secret(f"客服让我填写这个：\n{phrase}\n然后就没有然后了") is not None for phrase in phrases)
    assert found / len(phrases) >= at_least


def test_mistyped_chinese_phrase_written_with_separators_is_still_found() -> None:
    finding = find_secret(with_bad_checksum(chinese_phrase()))
    assert finding is not None
    assert not finding.verified


def test_chinese_phrase_with_one_character_off_the_list_is_still_found() -> None:
    characters = chinese_phrase().split()
    characters[5] = "钥"  # typed by pinyin for 要: not on the list
    assert "钥" not in CHINESE
    assert find_secret(" ".join(characters)) is not None


def test_phrase_span_does_not_swallow_a_neighbouring_near_word() -> None:
    phrase = english_phrase()
    text = f"words: {phrase}"
    finding = find_secret(text)
    assert finding is not None
    assert text[finding.start : finding.end] == phrase


def test_two_phrases_in_one_text_are_both_found_and_both_removed() -> None:
    text = f"旧的：{english_phrase()}\n新的：{chinese_phrase()}\n谢谢"
    assert [finding.kind for finding in find_secrets(text)] == [SecretKind.MNEMONIC, SecretKind.MNEMONIC]
    assert redact_secrets(text) == "旧的：[removed]\n新的：[removed]\n谢谢"


@pytest.mark.parametrize("statement", ENGLISH_STATEMENTS)
def test_english_statements_are_not_mistaken_for_phrases(statement: str) -> None:
    assert find_secret(statement) is None


@pytest.mark.parametrize("statement", CHINESE_STATEMENTS)
def test_chinese_statements_are_not_mistaken_for_phrases(statement: str) -> None:
    assert find_secret(statement) is None


def test_chinese_statements_are_full_of_runs_of_wordlist_characters() -> None:
    # Why a plain "12 list characters in a row" rule cannot be used for Chinese written without separators.
    longest = 0
    for statement in CHINESE_STATEMENTS[1:]:
        run = 0
        for character in statement:
            run = run + 1 if character in CHINESE else 0
            longest = max(longest, run)
    assert longest >= 12


def test_all_statements_together_are_not_mistaken_for_phrases() -> None:
    text = "\n\n".join(ENGLISH_STATEMENTS + CHINESE_STATEMENTS) * 3
    assert find_secrets(text) == []


def test_a_list_of_twelve_english_words_that_is_not_random_is_still_refused() -> None:
    # Deliberate: twelve list words in a row are refused whatever they mean, as victims mistype real phrases.
    assert find_secret(" ".join(ENGLISH_WORDS[100:112])) is not None


def test_chinese_wordlist_is_the_simplified_one_shipped_with_eth_account() -> None:
    assert len(CHINESE_CHARACTERS) == 2048
    assert CHINESE_CHARACTERS[:3] == ["的", "一", "是"]
