"""Copies of a box side by side: the same content rendered again for another screen size.

Page builders lay a section out once per screen size (a desktop and a mobile variant, the style sheet
showing one of them), so the HTML holds the box twice or three times under one parent, word for word: the
whole article, or each slide of a showcase on its own. An extractor that reads every variant keeps the article as often as the page repeats it. The
copies are found by structure alone: sibling boxes (not paragraphs, lists or tables, whose repeats are the
text's own) whose paragraphs read the same, in the same order. One variant stays: the one that holds the
most of the chosen text, else the first.
"""
from __future__ import annotations

from pipeline.boilerplate.dom import Paragraph
from pipeline.boilerplate.rules import Verdict
from pipeline.boilerplate.threads import TEXT_TAGS, Siblings
from pipeline.config import StripConfig

COPY = Verdict("other", "sibling_copy")


def copy_verdicts(paragraphs: list[Paragraph], siblings: Siblings, chosen: list[bool],
                  cfg: StripConfig) -> dict[int, Verdict]:
    """Paragraph indexes inside the variants of a box other than the one kept, with their verdict
    (``siblings`` the page's ``sibling_groups``)."""
    spans, _ = siblings
    words_before = [0]
    for p in paragraphs:
        words_before.append(words_before[-1] + p.words_count)
    variants: dict[tuple, list[object]] = {}
    for element, (first, last) in spans.items():
        if (element.tag not in TEXT_TAGS and words_before[last + 1] - words_before[first] >= cfg.min_copy_words):
            key = (element.getparent(), last - first, paragraphs[first].text, paragraphs[last].text)
            variants.setdefault(key, []).append(element)
    found: dict[int, Verdict] = {}
    for elements in variants.values():
        for copies in _same_text(paragraphs, spans, elements) if len(elements) > 1 else ():
            kept = max(copies, key=lambda e: sum(chosen[spans[e][0]:spans[e][1] + 1]))
            found.update({i: COPY for e in copies if e is not kept for i in range(spans[e][0], spans[e][1] + 1)})
    return found


def _same_text(paragraphs: list[Paragraph], spans: dict, elements: list) -> list[list]:
    """The elements grouped by the texts of their paragraphs, groups of two or more, each in document order."""
    by_text: dict[tuple, list] = {}
    for element in elements:
        first, last = spans[element]
        by_text.setdefault(tuple(p.text for p in paragraphs[first:last + 1]), []).append(element)
    return [copies for copies in by_text.values() if len(copies) > 1]
