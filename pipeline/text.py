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


def shared_run_share(tokens: list[str], other: list[str], size: int) -> float:
    """Share of ``tokens`` that lie in a run of at least ``size`` words ``other`` holds too, anywhere in it
    (0 for no tokens). A run of ``size`` or more words is exactly the union of its ``size``-word n-grams, so
    this is linear in the words, whatever a hostile text repeats."""
    grams = {tuple(other[i : i + size]) for i in range(len(other) - size + 1)}
    covered = [False] * len(tokens)
    for i in range(len(tokens) - size + 1):
        if tuple(tokens[i : i + size]) in grams:
            covered[i : i + size] = [True] * size
    return sum(covered) / len(tokens) if tokens else 0.0


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


_MATCHER_CELLS = 4_000_000  # word pairs up to which SequenceMatcher finds the longest run (2,000 x 2,000 words)
_RUN_ANCHOR = 8  # words of a shared n-gram that anchors a run in longer texts


def longest_shared_run(a: str, b: str) -> tuple[int, int, int, int] | None:
    """Character spans (a_start, a_end, b_start, b_end) of the longest run of words ``a`` and ``b`` share.

    SequenceMatcher is quadratic in the words when they repeat (a hostile page's megabyte line of one word
    would hold a run for hours), so texts beyond ``_MATCHER_CELLS`` word pairs take ``_anchored_run``."""
    from difflib import SequenceMatcher

    wa, wb = word_spans(a), word_spans(b)
    x, y = [w for w, _, _ in wa], [w for w, _, _ in wb]
    if len(x) * len(y) <= _MATCHER_CELLS:
        i, j, size = SequenceMatcher(None, x, y, autojunk=False).find_longest_match(0, len(x), 0, len(y))
    else:
        i, j, size = _anchored_run(x, y)
    if size == 0:
        return None
    return wa[i][1], wa[i + size - 1][2], wb[j][1], wb[j + size - 1][2]


def _anchored_run(x: list[str], y: list[str]) -> tuple[int, int, int]:
    """(i, j, size) of the longest run found by extending, both ways, each ``_RUN_ANCHOR``-word n-gram of
    ``x`` found in ``y`` (at its first place there), resuming after each run and never extending back into
    it: each word of ``x`` is compared about once. A run shorter than the anchor is not found (size 0),
    nor one that only a later place in ``y`` would give."""
    k = _RUN_ANCHOR
    first: dict[tuple[str, ...], int] = {}
    for j in range(len(y) - k + 1):
        first.setdefault(tuple(y[j:j + k]), j)
    best, i, floor = (0, 0, 0), 0, 0
    while i <= len(x) - k:
        j = first.get(tuple(x[i:i + k]))
        if j is None:
            i += 1
            continue
        start, start_j = i, j
        while start > floor and start_j > 0 and x[start - 1] == y[start_j - 1]:
            start, start_j = start - 1, start_j - 1
        end, end_j = i + k, j + k
        while end < len(x) and end_j < len(y) and x[end] == y[end_j]:
            end, end_j = end + 1, end_j + 1
        if end - start > best[2]:
            best = (start, start_j, end - start)
        i = floor = end
    return best


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
