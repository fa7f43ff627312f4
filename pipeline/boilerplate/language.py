"""The jusText stoplist of a page's language, guessed from the page's own words."""
from __future__ import annotations

from collections import Counter
from functools import lru_cache

import justext

DEFAULT_LANGUAGE = "English"


@lru_cache(maxsize=None)
def stoplist(language: str) -> frozenset[str]:
    return frozenset(w.lower() for w in justext.get_stoplist(language))


@lru_cache(maxsize=1)
def _languages_by_word() -> dict[str, tuple[str, ...]]:
    """Every stopword and the languages whose stoplist holds it (built once per process)."""
    index: dict[str, list[str]] = {}
    for language in sorted(justext.get_stoplists()):
        for word in stoplist(language):
            index.setdefault(word, []).append(language)
    return {word: tuple(languages) for word, languages in index.items()}


def page_language(word_lists: list[list[str]], max_words: int) -> str:
    """The language whose stoplist covers most of the first ``max_words`` lower-case words (English on a
    tie or none); ``word_lists`` holds the words of each block in order."""
    sample: list[str] = []
    for block_words in word_lists:
        sample.extend(block_words)
        if len(sample) >= max_words:
            break
    index = _languages_by_word()
    hits: Counter[str] = Counter()
    for word, n in Counter(sample).items():
        for language in index.get(word, ()):
            hits[language] += n
    if not hits:
        return DEFAULT_LANGUAGE
    best = max(hits.values())
    return DEFAULT_LANGUAGE if hits[DEFAULT_LANGUAGE] == best else max(hits, key=hits.__getitem__)
