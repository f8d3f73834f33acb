"""Find BIP-39 recovery phrases (English or Chinese simplified wordlist) written into free text.

The rules, and what they were measured against:
- English: 12 or more wordlist words in a row, separated by spaces, commas, line breaks, numbering ("1." "2)"),
  bullets or the like. Victims mistype, so one word in any 12 may be a near miss (a letter added, dropped or
  changed), and no checksum is needed. Ordinary English does not string 12 wordlist words together: in 2.7 MB of
  licences, documentation and code the longest run was 7 words (9 with the near-miss allowance).
- Chinese written one character at a time, separated by spaces, commas, 、, line breaks or numbering: 12 or more
  such characters, at most one in any 12 off the list (a homophone picked by the input method). Prose never does it.
- Chinese written without separators. The list holds the 2048 most common characters, so ordinary prose is full of
  12-character runs of list characters (61 of them in 2,300 characters of victims' statements). Such a run counts
  only when it is a whole clause (or directly follows a label such as 助记词), has exactly 12, 15, 18, 21 or 24
  characters, passes the BIP-39 checksum and reads as random rather than as prose (see `_reads_as_random`). A
  mistyped phrase written this way is missed: the separated form is the one wallets show and victims copy.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import math
import re
from collections.abc import Iterator, Sequence
from typing import NamedTuple

VALID_WORD_COUNTS = (12, 15, 18, 21, 24)
MIN_WORDS = 12
_NEAR_MISS = -1  # index given to a token that is one typo away from the list
# How many window starts a long run is searched for a valid checksum: enough for any phrase with a few words of
# preamble, while 100 KB of list words cannot make the search slow.
_CHECKSUM_STARTS = 64
_LABELLED_PHRASE_REACH = 100  # characters after a label searched for a phrase (24 characters, spaces between)


def _load_wordlist(language: str) -> dict[str, int]:
    """Map each word of an eth-account BIP-39 wordlist to its index."""
    path = importlib.resources.files("eth_account.hdaccount") / "wordlist" / f"{language}.txt"
    words = path.read_text(encoding="utf-8").split()
    if len(words) != 2048:
        raise RuntimeError(f"the {language} BIP-39 wordlist has {len(words)} words, not 2048")
    return {word: index for index, word in enumerate(words)}


ENGLISH = _load_wordlist("english")
CHINESE = _load_wordlist("chinese_simplified")
_LOG_POSITION = [math.log(index + 1) for index in range(2048)]
_ENGLISH_DELETIONS = frozenset(word[:i] + word[i + 1 :] for word in ENGLISH for i in range(len(word)))

# What may stand between two words of a written-out phrase: whitespace, punctuation, numbering, bullets.
_GAP = re.compile(r"[\s\d.,;:()\[\]#*|/\"“”'‘’\-–—•·、，；：。（）【】\u2460-\u24ff]{1,12}")
_LATIN_WORD = re.compile(r"[A-Za-z]+")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CHINESE_CLASS = "".join(CHINESE)
_CHINESE_CLAUSE = re.compile(f"[{_CHINESE_CLASS}][{_CHINESE_CLASS} \u3000]*")
_CHINESE_LABEL = re.compile(
    r"(?:助记词|助記詞|助记|恢复短语|种子短语|種子短語|种子词|密语|mnemonic|seed phrase|recovery phrase)[\s:：,，]*",
    re.IGNORECASE,
)
_COPULA = re.compile(r"(?:[是为]|如下)[\s:：,，]*")  # 助记词是… / 助记词为… / 助记词如下：…


class _Token(NamedTuple):
    start: int
    end: int
    index: int  # position in the wordlist, or _NEAR_MISS


def checksum_ok(indices: Sequence[int]) -> bool:
    """True if wordlist indices form a BIP-39 phrase whose checksum bits match its entropy."""
    count = len(indices)
    if count not in VALID_WORD_COUNTS or min(indices) < 0:
        return False
    bits = 0
    for index in indices:
        bits = (bits << 11) | index
    checksum_bits = count * 11 // 33
    entropy = (bits >> checksum_bits).to_bytes((count * 11 - checksum_bits) // 8, "big")
    return hashlib.sha256(entropy).digest()[0] >> (8 - checksum_bits) == bits & ((1 << checksum_bits) - 1)


def _reads_as_random(indices: Sequence[int]) -> bool:
    """True if Chinese list characters look drawn at random rather than taken from prose.

    The Chinese list is ordered by frequency. A phrase draws uniformly from all 2048 characters (geometric mean
    position about 750); prose draws mostly from the first few hundred. A geometric mean position of at least e**6
    (about 400) is reached by 97% of random 12-character phrases and 99.6% of 24-character ones, and by none of the
    193 whole clauses of 12-24 list characters in about 30,000 characters of prose (the closest, technical jargon,
    reached e**5.9). Prose also repeats characters, which random draws seldom do more than twice.
    """
    return len(set(indices)) >= len(indices) - 2 and sum(_LOG_POSITION[i] for i in indices) / len(indices) >= 6.0


def _near_english(word: str) -> bool:
    """True if a lower-case word is one letter added, dropped or changed away from an English list word."""
    # Two-letter words ("an", "to") are one letter from many list words; the list has none shorter than three.
    if not 3 <= len(word) <= 9:
        return False
    if word in _ENGLISH_DELETIONS:
        return True
    return any(
        (shorter := word[:i] + word[i + 1 :]) in ENGLISH or shorter in _ENGLISH_DELETIONS for i in range(len(word))
    )


def _verified(indices: Sequence[int]) -> bool:
    """True if some stretch of a run of words is a complete phrase with a valid checksum."""
    for count in VALID_WORD_COUNTS:
        for start in range(min(len(indices) - count + 1, _CHECKSUM_STARTS)):
            if checksum_ok(indices[start : start + count]):
                return True
    return False


def _run_spans(run: list[_Token]) -> Iterator[tuple[int, int, bool]]:
    """Spans of a run of separated words in which some 12 consecutive words hold at most one near miss."""
    if len(run) < MIN_WORDS:
        return
    misses = [0]
    for token in run:
        misses.append(misses[-1] + (token.index == _NEAR_MISS))
    covered_until = -1  # last token index covered by a qualifying window
    span_first = 0
    for first in range(len(run) - MIN_WORDS + 1):
        if misses[first + MIN_WORDS] - misses[first] > 1:
            continue
        if first > covered_until:
            if covered_until >= 0:
                yield _span(run, span_first, covered_until)
            span_first = first
        covered_until = first + MIN_WORDS - 1
    if covered_until >= 0:
        yield _span(run, span_first, covered_until)


def _span(run: list[_Token], first: int, last: int) -> tuple[int, int, bool]:
    """The text span of run[first..last] and whether it contains a checksum-valid phrase."""
    # A near miss at an edge is more likely a neighbouring word ("words: abandon ...") than part of the phrase.
    while last - first + 1 > MIN_WORDS and run[first].index == _NEAR_MISS:
        first += 1
    while last - first + 1 > MIN_WORDS and run[last].index == _NEAR_MISS:
        last -= 1
    return run[first].start, run[last].end, _verified([token.index for token in run[first : last + 1]])


def _separated_runs(tokens: Iterator[_Token | None], text: str) -> Iterator[list[_Token]]:
    """Group tokens into runs joined only by separator gaps; None in the stream ends a run."""
    run: list[_Token] = []
    for token in tokens:
        if token is None or (run and not _GAP.fullmatch(text, run[-1].end, token.start)):
            if len(run) >= MIN_WORDS:
                yield run
            run = []
        if token is not None:
            run.append(token)
    if len(run) >= MIN_WORDS:
        yield run


def _english_tokens(text: str) -> Iterator[_Token | None]:
    """Latin words as tokens: list words, near misses, and None for any other word."""
    for match in _LATIN_WORD.finditer(text):
        word = match.group().lower()
        index = ENGLISH.get(word)
        if index is None and _near_english(word):
            index = _NEAR_MISS
        yield None if index is None else _Token(match.start(), match.end(), index)


def _single_chinese_tokens(text: str) -> Iterator[_Token | None]:
    """Chinese characters standing alone as tokens (off-list ones as near misses); None for longer CJK runs."""
    for match in _CJK_RUN.finditer(text):
        if match.end() - match.start() == 1:
            yield _Token(match.start(), match.end(), CHINESE.get(match.group(), _NEAR_MISS))
        else:
            yield None


def _unseparated_phrase(clause: re.Match[str], counts: Sequence[int]) -> tuple[int, int] | None:
    """The span of the longest phrase of one of `counts` characters opening a clause (spaces allowed), if any."""
    text = clause.group()
    indices = [CHINESE[c] for c in text.replace(" ", "").replace("\u3000", "")[: max(counts)]]
    for count in sorted(counts, reverse=True):
        if count <= len(indices) and _reads_as_random(indices[:count]) and checksum_ok(indices[:count]):
            seen = 0
            for offset, character in enumerate(text):
                seen += character in CHINESE
                if seen == count:
                    return clause.start(), clause.start() + offset + 1
    return None


def _labelled_phrase(text: str, position: int) -> tuple[int, int, bool] | None:
    """A phrase written right after a label ending at `position`, with or without 是, 为 or 如下 in between."""
    starts = [position]
    if copula := _COPULA.match(text, position):
        starts.append(copula.end())  # a phrase may itself start with 是 or 为, so try both readings
    spans = []
    for start in starts:
        # Bounded: a label followed by a long clause must not cost more than one phrase's worth of text.
        clause = _CHINESE_CLAUSE.match(text, start, start + _LABELLED_PHRASE_REACH)
        if clause and (span := _unseparated_phrase(clause, VALID_WORD_COUNTS)):
            spans.append(span)
    # Either reading may pass the checksum by chance as well as the right one: cover both, to remove all of it.
    return (min(s for s, _ in spans), max(e for _, e in spans), True) if spans else None


def find_phrases(text: str) -> Iterator[tuple[int, int, bool]]:
    """Yield (start, end, verified) for each recovery phrase in `text`; verified means a valid BIP-39 checksum."""
    for run in _separated_runs(_english_tokens(text), text):
        yield from _run_spans(run)
    for run in _separated_runs(_single_chinese_tokens(text), text):
        yield from _run_spans(run)
    for clause in _CHINESE_CLAUSE.finditer(text):
        count = sum(c in CHINESE for c in clause.group())
        if count in VALID_WORD_COUNTS and (span := _unseparated_phrase(clause, [count])):
            yield (*span, True)
    for label in _CHINESE_LABEL.finditer(text):
        if found := _labelled_phrase(text, label.end()):
            yield found
