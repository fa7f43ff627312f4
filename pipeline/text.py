"""Text normalization shared by every stage: one definition of a word, a shingle and a text hash."""
from __future__ import annotations

import hashlib
import re
import unicodedata

_QUOTES = (("’", "'"), ("‘", "'"), ("“", '"'), ("”", '"'), ("„", '"'), ("«", '"'), ("»", '"'), ("–", "-"), ("—", "-"))
_WORD = re.compile(r"\w+")


def normalize(text: str) -> str:
    """NFKC, lower case, typographic quotes and dashes folded to ASCII (by ``replace``: ``str.translate``
    reads non-ASCII text a character at a time, several times slower on every paragraph of a run)."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    if text.isascii():
        return text
    for typographic, plain in _QUOTES:
        if typographic in text:
            text = text.replace(typographic, plain)
    return text


def words(text: str) -> list[str]:
    """Normalized word tokens (unicode ``\\w+``)."""
    return _WORD.findall(normalize(text))


def word_count(text: str) -> int:
    return len(_WORD.findall(text or ""))


def shingles(tokens: list[str], size: int) -> set[str]:
    """Word n-grams of ``size`` (a text shorter than ``size`` is one shingle)."""
    if len(tokens) < size:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def text_hash(text: str) -> str:
    """Hash of the normalized word sequence: equal for texts that differ only in case, quotes or spacing."""
    return _words_hash(words(text))


def word_count_and_hash(text: str) -> tuple[int, str]:
    """``word_count(text)`` and ``text_hash(text)``, the words found once when the text is ASCII (there,
    NFKC and lower-casing change no word: elsewhere they may, "İ" lower-cases to two characters)."""
    normalized = words(text)
    return (len(normalized) if text.isascii() else word_count(text)), _words_hash(normalized)


def _words_hash(normalized: list[str]) -> str:
    return hashlib.sha1(" ".join(normalized).encode("utf-8")).hexdigest()[:16]


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """Normalized words of ``text`` with their character offsets in ``text`` itself."""
    return [(normalize(m.group()), m.start(), m.end()) for m in _WORD.finditer(text or "")]


def longest_shared_run(a: str, b: str) -> tuple[int, int, int, int] | None:
    """Character spans (a_start, a_end, b_start, b_end) of the longest run of words ``a`` and ``b`` share."""
    from difflib import SequenceMatcher

    wa, wb = word_spans(a), word_spans(b)
    matcher = SequenceMatcher(None, [w for w, _, _ in wa], [w for w, _, _ in wb], autojunk=False)
    i, j, size = matcher.find_longest_match(0, len(wa), 0, len(wb))
    if size == 0:
        return None
    return wa[i][1], wa[i + size - 1][2], wb[j][1], wb[j + size - 1][2]


_SENTENCE_BREAK = re.compile(r"[.!?]+[\"'”’)\]]*\s+")
_ABBREVIATION = re.compile(r"(?:\b[^\W\d_]|\b(?:mr|mrs|ms|dr|st|jr|sr|vs|gen|gov|sen|rep|prof))\.$", re.IGNORECASE)


def sentences(text: str) -> list[str]:
    """The sentences of ``text``, split after ``.``, ``!`` or ``?`` where the next word starts with a capital
    letter, a digit or a quote, never after an initial ("U.S.", "J. Smith") or a title ("Mr.")."""
    out, start = [], 0
    for m in _SENTENCE_BREAK.finditer(text):
        rest = text[m.end():].lstrip("\"'“‘([")
        if not rest or not (rest[0].isupper() or rest[0].isdigit()):
            continue
        if _ABBREVIATION.search(text[start:m.start() + 1]):
            continue
        out.append(text[start:m.end()].strip())
        start = m.end()
    tail = text[start:].strip()
    return out + [tail] if tail else out
