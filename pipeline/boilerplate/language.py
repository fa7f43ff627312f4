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


def page_language(texts: list[str], max_words: int) -> str:
    """The language whose stoplist covers most of the first ``max_words`` words (English on a tie or none)."""
    index = _languages_by_word()
    hits: Counter[str] = Counter()
    seen = 0
    for text in texts:
        for word in text.lower().split():
            hits.update(index.get(word, ()))
            seen += 1
        if seen >= max_words:
            break
    if not hits:
        return DEFAULT_LANGUAGE
    best = max(hits.values())
    return DEFAULT_LANGUAGE if hits[DEFAULT_LANGUAGE] == best else max(hits, key=hits.__getitem__)
