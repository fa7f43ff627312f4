"""The jusText stoplist of a page's language, guessed from the page's own words."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import justext
import numpy as np

DEFAULT_LANGUAGE = "English"


@lru_cache(maxsize=None)
def stoplist(language: str) -> frozenset[str]:
    """The language's jusText stoplist in lower case, kept once built: only the languages pages are in are
    asked for (``_stopword_matrix`` reads every language's without keeping them)."""
    return _lower_case_stoplist(language)


def _lower_case_stoplist(language: str) -> frozenset[str]:
    return frozenset(w.lower() for w in justext.get_stoplist(language))


@lru_cache(maxsize=1)
def _stopword_matrix() -> tuple[dict[str, int], np.ndarray, tuple[str, ...]]:
    """Every stopword's row, a 0/1 matrix of which languages' stoplists hold each (columns in sorted
    language order), and the languages (built once per process). The hundred stoplists themselves are not
    kept: their 180,000 words, held in sets, would be read again by every full pass of the garbage collector
    (an eighth of its time in a run of strip)."""
    languages = tuple(sorted(justext.get_stoplists()))
    rows: dict[str, int] = {}
    cells = []
    for column, language in enumerate(languages):
        for word in _lower_case_stoplist(language):
            cells.append((rows.setdefault(word, len(rows)), column))
    matrix = np.zeros((len(rows), len(languages)), np.uint8)
    matrix[tuple(np.array(cells).T)] = 1
    return rows, matrix, languages


def page_language(word_lists: list[Sequence[str]], max_words: int) -> str:
    """The language whose stoplist covers most of the first ``max_words`` lower-case words (English on a
    tie with it or none; among other tied languages, the one whose stopword comes first in the text, then
    the first alphabetically); ``word_lists`` holds the words of each block in order.

    Counted as a product of word counts and the stopword matrix: classify asks this of every paragraph.
    """
    sample: list[str] = []
    for block_words in word_lists:
        sample.extend(block_words)
        if len(sample) >= max_words:
            break
    rows, matrix, languages = _stopword_matrix()
    counts = Counter(sample)  # words in order of first use
    # one look-up per word, run by ``map`` in C: the table holds every stoplist's words
    found = [(row, n) for row, n in zip(map(rows.get, counts), counts.values()) if row is not None]
    if not found:
        return DEFAULT_LANGUAGE
    held = matrix[[r for r, _ in found]]
    hits = np.array([n for _, n in found]) @ held
    best = hits.max()
    if hits[languages.index(DEFAULT_LANGUAGE)] == best:
        return DEFAULT_LANGUAGE
    first_word = np.where(held.any(axis=0), held.argmax(axis=0), len(found))
    tied = np.flatnonzero(hits == best)
    return languages[tied[np.lexsort((tied, first_word[tied]))[0]]]
