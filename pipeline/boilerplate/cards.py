"""Lists of cards found by their structure: teasers of other pages and menus, repeated around the article.

A "related", "top stories" or "more from the site" box is a list of cards: sibling elements of one shape,
each a headline that links to another page, perhaps with a date, an image credit or a one-line teaser. A
menu is a list too, of items that are mostly links, some with a heading of their own. The links go as link
lists already; what goes with them here is the rest of each card (its teaser, a short line of prose that an
extractor keeps) and the unlinked headings of a menu. The list is found by shape (the siblings of
``threads``) and by what each item holds, whatever its class names say; where it sits decides: outside the
article's box, it is the site's (an article's own list of links, each with a line on it, is inside it).
"""
from __future__ import annotations

from pipeline.boilerplate.dom import Paragraph, article_element
from pipeline.boilerplate.rules import Verdict
from pipeline.boilerplate.threads import Siblings
from pipeline.config import StripConfig

CARDS_AFTER = Verdict("related", "card_list")
CARDS_BEFORE = Verdict("navigation", "card_list")


def card_verdicts(paragraphs: list[Paragraph], siblings: Siblings, chosen: list[bool],
                  cfg: StripConfig) -> dict[int, Verdict]:
    """Paragraph indexes of the lists of cards outside the article's box, with their verdict: related after
    the article's start, navigation before it (``siblings`` the page's ``sibling_groups``).

    The box is that of the chosen words outside the lists (``article_element``): an extractor that keeps the
    teasers widens the box of all it keeps to hold them.
    """
    spans, groups = siblings
    lists = [[spans[element] for element in elements] for elements in groups
             if len(elements) >= cfg.min_cards and all(_is_card(paragraphs, spans[e], cfg) for e in elements)]
    if not lists:
        return {}
    in_lists = {i for cards in lists for first, last in cards for i in range(first, last + 1)}
    article = [c and i not in in_lists for i, c in enumerate(chosen)]
    box = article_element(paragraphs, article, cfg.article_element_share)
    if box is None:
        return {}
    box_start, box_end = spans[box]  # a subtree's paragraphs are consecutive
    found: dict[int, Verdict] = {}
    for cards in lists:
        first = cards[0][0]
        if all(end < box_start or start > box_end for start, end in cards):
            verdict = CARDS_AFTER if first > box_start else CARDS_BEFORE
            found.update({i: verdict for start, end in cards for i in range(start, end + 1)})
            if first and not box_start <= first - 1 <= box_end and _is_title(paragraphs[first - 1], cfg):
                found[first - 1] = verdict
    return found


def _is_title(paragraph: Paragraph, cfg: StripConfig) -> bool:
    """The line just above a list outside the article's box names the list ("Top stories", "More from the
    site"): a few words without links."""
    return paragraph.words_count <= cfg.max_list_title_words and not paragraph.chars_count_in_links


def _is_card(paragraphs: list[Paragraph], span: tuple[int, int], cfg: StripConfig) -> bool:
    """Mostly link text (a menu's item), or a few words around a headline that links elsewhere (a card):
    ``min_card_link_share`` of its text is link text either way."""
    first, last = span
    held = paragraphs[first:last + 1]
    links, chars = sum(p.chars_count_in_links for p in held), sum(len(p.text) for p in held)
    return links >= cfg.min_card_link_share * chars and (
        2 * links > chars or sum(p.words_count for p in held) <= cfg.max_card_words)
