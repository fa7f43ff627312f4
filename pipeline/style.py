"""Machine-style markers: how much a text reads like a language-model rewrite rather than a news report.

A rewrite drops direct quotes and attribution ("said", "told") and leans on a known set of connective
and evaluative words. The score is a difference of rates per word; only its comparison between two
documents is used (which of two related documents is the rewrite).
"""
from __future__ import annotations

import re

from pipeline.text import words

_MARKERS = frozenset(
    "additionally furthermore moreover overall significant significantly highlight highlights highlighted "
    "underscore underscores underscoring notably crucial landscape navigate navigating navigates foster "
    "ensure ensuring various potential evolving pivotal comprehensive emphasize emphasized emphasizing "
    "realm intricate showcase showcasing vital strategic dynamic dynamics implications broader "
    "delve delves ultimately indicate indicates indicating reflect reflects reflecting"
    .split()
)
_REPORTING = frozenset("said says told according added reported quoted".split())
_SPEECH = frozenset("said says told".split())
_QUOTE = re.compile(r"[\"“”«»„]")
_WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())


def attributions(text: str) -> int:
    """Verbs of speech in a text ("said", "told"): a rewrite keeps or drops them, never adds them
    ("according to", "reported" are a rewriter's own phrasings too)."""
    return sum(t in _SPEECH for t in words(text))


def machine_style(text: str) -> float:
    """Marker-word rate minus the rate of quotes and reporting verbs, per word (higher: more machine-like)."""
    return style_of([style_counts(text)])


def style_counts(text: str) -> tuple[int, float, int]:
    """Marker words, reporting verbs and half the quote marks, and words of a text: the counts that
    ``style_of`` adds up, so that the style of several paragraphs read together needs each one read once."""
    tokens = words(text)
    return (sum(t in _MARKERS for t in tokens), sum(t in _REPORTING for t in tokens) + len(_QUOTE.findall(text)) / 2,
            len(tokens))


def style_of(counts: list[tuple[int, float, int]]) -> float:
    """``machine_style`` of texts read together, from each one's ``style_counts`` (exactly: the counts are
    integers and halves)."""
    markers, reporting, total = (sum(c[k] for c in counts) for k in range(3))
    return (markers - reporting) / total if total else 0.0


def weekdays(text: str) -> frozenset[str]:
    """The days of the week a text names: a news report dates what it reports by the weekday ("said on
    Tuesday"), which a rewrite of it keeps."""
    return frozenset(t for t in words(text) if t in _WEEKDAYS)
