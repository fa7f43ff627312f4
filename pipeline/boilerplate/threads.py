"""Threads of posts found by their structure: the same subtree shape repeated under one parent.

Forum threads, Q&A pages and comment sections are lists of posts: sibling elements of one kind (tag and
first class name), each with a poster's header (a name with a date, "Joined", a post count, a vote line) that
heads or closes it and a body of prose. Class names are no help on a blog built from bare ``<div>``s, so the
list is found by shape and the header by its place: short lines at the same place in every post. Where the list sits against the article decides
what it is. When its first post holds the start of the article (a forum repost, a question), that post
is the article and the others are replies; inside that first post, only its body is kept, and the
poster's header, signature and vote line go. When the whole list comes after the article, it is the
page's comment section: article words before it and none after.
"""
from __future__ import annotations

import re
from collections import Counter

from pipeline.boilerplate.dom import HEADING_TAGS, Paragraph
from pipeline.boilerplate.rules import MONTH, RELATIVE_TIME, VOTES, Verdict
from pipeline.config import StripConfig
from pipeline.text import word_count

# What a poster's line says: when (a date, a time of day, "yesterday"; "2 hours ago" comes from the rules), who
# ("jane said:", "Joined: Mar 2019", "Member since 2020") and how much ("Posts: 1,204", "12 points"). A date in
# figures keeps one separator ("12.03.2024", "3/12/24"): "4.7/5" is a rating.
POSTER_LINE = re.compile(
    rf"\b{MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b|\b{MONTH}\.?,?\s+\d{{4}}\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s+{MONTH}\b"
    r"|\b\d{1,4}([/.-])\d{1,2}\1\d{1,4}\b|\b\d{1,2}:\d{2}\s*(?:[ap]\.?m\.?)?|\b(?:yesterday|today)\b(?![’'])|\bjust now\b"
    r"|\b(?:said|says|wrote|writes|replied)\s*(?:,|:|$)|\b(?:joined|member since|registered)\b"
    r"|\b(?:posts|messages|reputation|karma|points|likes|votes|replies)\s*:\s*[\d,.]+k?\b"
    r"|\b[\d,.]+k?\s+(?:posts|messages|points|likes|votes|upvotes)\b",
    re.I,
)
# Elements that are the text itself rather than a box around it: a post's body is never one of them.
TEXT_TAGS = HEADING_TAGS | {"p", "blockquote", "ul", "ol", "li", "dl", "dt", "dd", "pre", "table", "tr", "td", "th",
                              "tbody", "thead", "tfoot", "caption", "center", "form", "fieldset", "legend"}
_ROOT_TAGS = frozenset({"body", "html"})
# A quotation: a post the article quotes (an embedded tweet, a cited message, signed and dated as a post is) is
# the article's text, never a reply of the page's own thread.
_QUOTE_TAG = "blockquote"
# A page's repeated structures (``sibling_groups``): each element's (first, last) paragraph indexes, and its
# groups of sibling elements of one shape. Built once a page, read by the thread and the card passes.
Siblings = tuple[dict[object, tuple[int, int]], list[list[object]]]


def thread_verdicts(paragraphs: list[Paragraph], siblings: Siblings, chosen: list[bool],
                    cfg: StripConfig) -> dict[int, Verdict]:
    """Paragraph indexes that belong to a thread's replies or to its posters' lines, with the verdict
    (``siblings`` the page's ``sibling_groups``)."""
    groups = _post_groups(paragraphs, siblings, cfg)
    if not groups:
        return {}
    article_start = next((i for i, c in enumerate(chosen) if c and paragraphs[i].words_count >= cfg.align_short_words),
                         None)
    found: dict[int, Verdict] = {}
    for items in groups:
        first = items[0][1]
        if any(i in found for _, indexes in items for i in indexes):
            continue
        if article_start is not None and first[0] <= article_start <= first[-1]:
            found.update(_first_post_chrome(paragraphs, items, cfg))
            replies = items[1:]
        elif is_after_article(paragraphs, chosen, first[0], items[-1][1][-1], cfg):
            replies = items
        else:
            continue  # a list before the article or without it: cards, a menu, not a thread
        found.update({i: Verdict("comments", "thread_reply") for _, indexes in replies for i in indexes})
    return found


def sibling_groups(paragraphs: list[Paragraph]) -> Siblings:
    """The repeated structures of a page: each element that holds text with the (first, last) indexes of its
    paragraphs, and the groups of two or more sibling elements of one shape under one parent, each group in
    document order (posts of a thread, cards of a list, items of a menu)."""
    spans, parent_of = _spans(paragraphs)
    siblings = Counter(parent_of.values())
    by_shape: dict[tuple, list[object]] = {}
    for element, parent in parent_of.items():
        if siblings[parent] >= 2:
            by_shape.setdefault((parent, _shape(element)), []).append(element)
    return spans, [elements for elements in by_shape.values() if len(elements) >= 2]


def _post_groups(paragraphs: list[Paragraph], siblings: Siblings,
                 cfg: StripConfig) -> list[list[tuple[object, list[int]]]]:
    """Lists of posts, largest first: two or more sibling elements of one kind (``_kind``) that are posts
    with a poster's line at the same place, as (element, its paragraph indexes) in document order.

    A post may have more than one poster's line (a date above, "answered" and the poster's name below):
    any place they share makes them a list. Posts inside a post (the comments under an answer) are read
    past: the lines of the post that holds them sit on both sides of them.

    Only elements of two paragraphs or more (a line and prose) with a sibling of their kind are read as posts,
    and a lone one of a kind that some list has (the one comment under an answer): no other can be in a list,
    and reading every element of a page took the pass from 0.34 s to 1.04 s on the 972 benchmark pages."""
    spans = siblings[0]
    lines = _PosterLines(paragraphs, cfg)
    by_kind: dict[tuple, list] = {}
    for element, (first, last) in spans.items():
        if first < last and element.tag != _QUOTE_TAG:  # a post is a poster's line and prose: two paragraphs
            by_kind.setdefault((element.getparent(), _kind(element)), []).append(element)
    places = {element: _places(element, paragraphs, spans, lines)
              for elements in by_kind.values() if len(elements) >= 2 for element in elements}
    listed = {kind for (_, kind, _), count in _lists(places).items() if count >= 2}
    places.update({element: _places(element, paragraphs, spans, lines)
                   for (_, kind), elements in by_kind.items() if len(elements) == 1 and kind in listed
                   for element in elements})
    for element, inner in _inner_posts(places, spans).items():
        first, last = spans[element]
        places[element] |= {_path_from(paragraphs[line], element) for line in lines.around(first, last, inner)}
    by_place: dict[tuple, list[tuple[object, list[int]]]] = {}
    for element, element_places in places.items():
        first, last = spans[element]
        for place in element_places:
            by_place.setdefault((element.getparent(), _kind(element), place), []).append(
                (element, list(range(first, last + 1))))
    groups = [sorted(items, key=lambda item: item[1][0]) for items in by_place.values() if len(items) >= 2]
    groups.sort(key=lambda items: -sum(len(indexes) for _, indexes in items))
    return groups


def _places(element, paragraphs: list[Paragraph], spans: dict[object, tuple[int, int]], lines: "_PosterLines") -> set:
    """Where in the element its posters' lines sit (``_path_from``): none when it is no post."""
    first, last = spans[element]
    return {_path_from(paragraphs[line], element) for line in lines.header_and_footer(first, last)}


def _lists(places: dict[object, set[tuple]]) -> Counter:
    """How many siblings of one kind have a poster's line at each place: two or more make a list."""
    return Counter((element.getparent(), _kind(element), place)
                   for element, element_places in places.items() for place in element_places)


def _inner_posts(places: dict[object, set[tuple]], spans: dict[object, tuple[int, int]]) -> dict[object, list]:
    """For each element that holds posts, the (first, last) paragraph spans of the posts inside it. A post
    here is of the kind, with its poster's line at the place, of a list somewhere on the page (two or more
    siblings): the one comment under an answer is of the kind of the two under the question."""
    kinds = {(kind, place) for (_, kind, place), count in _lists(places).items() if count >= 2}
    inner: dict[object, list] = {}
    for post, post_places in places.items():
        if not any((_kind(post), place) in kinds for place in post_places):
            continue
        for holder in post.iterancestors():
            if holder not in spans:
                break
            if holder in places and spans[holder] != spans[post]:  # a quotation holds no thread
                inner.setdefault(holder, []).append(spans[post])
    return inner


class _PosterLines:
    """Which paragraphs are posters' lines and which are prose, answered for any run of paragraphs in
    constant time (a page has thousands of elements to ask about). A paragraph's text is only read when
    the answer needs it: most are too long to be a poster's line or too short to be a post's prose."""

    def __init__(self, paragraphs: list[Paragraph], cfg: StripConfig):
        self._paragraphs, self._cfg = paragraphs, cfg
        self._is_line: list[bool | None] = [None] * len(paragraphs)
        self._prose = [p.words_count >= cfg.thread_min_post_words and not self.is_line(i)
                       for i, p in enumerate(paragraphs)]
        self._prose_before = [0] * (len(paragraphs) + 1)
        for i, prose in enumerate(self._prose):
            self._prose_before[i + 1] = self._prose_before[i] + prose
        self._nearest: dict[tuple[int, int], int | None] = {}

    def is_line(self, index: int) -> bool:
        if self._is_line[index] is None:
            self._is_line[index] = _is_poster_line(self._paragraphs[index], self._cfg)
        return self._is_line[index]

    def header_and_footer(self, first: int, last: int) -> list[int]:
        """The posters' lines that head and close paragraphs ``first..last``, when they also hold prose: a
        post. Its header is the short lines before its first prose (a profile of name, rank, "Joined" and
        post count), its footer those after its last; a line between two runs of prose is a date in the
        text, not a post's header."""
        if self._prose_before[last + 1] == self._prose_before[first]:
            return []
        return self._lines_from(first, 1) + self._lines_from(last, -1)

    def around(self, first: int, last: int, inner: list[tuple[int, int]]) -> list[int]:
        """The posters' lines that head and close paragraphs ``first..last`` read past the posts inside them
        (their spans ``inner``), when the rest holds prose of its own."""
        outermost = []
        for span in sorted(inner, key=lambda span: (span[0], -span[1])):
            if not outermost or span[0] > outermost[-1][1]:
                outermost.append(span)
        own = self._prose_before[last + 1] - self._prose_before[first] - sum(
            self._prose_before[end + 1] - self._prose_before[start] for start, end in outermost)
        if not own:
            return []
        found = []
        for index, step, past in ((first, 1, {start: end for start, end in outermost}),
                                  (last, -1, {end: start for start, end in outermost})):
            while first <= index <= last and not self._prose[index]:
                if index in past:
                    index = past[index]
                elif self.is_line(index):
                    found.append(index)
                index += step
        return found

    def _lines_from(self, start: int, step: int) -> list[int]:
        """The posters' lines from ``start`` on, going ``step`` (down or up the page), before any prose."""
        found = []
        line = self._nearest_line(start, step)
        while line is not None:
            found.append(line)
            line = self._nearest_line(line + step, step)
        return found

    def _nearest_line(self, start: int, step: int) -> int | None:
        """The first poster's line from ``start`` on, going ``step`` (down or up the page), before any prose.
        Elements of a page share their first and last paragraphs: each paragraph's answer is kept, so a walk
        stops where an earlier one passed."""
        walked, index, found = [], start, None
        while 0 <= index < len(self._paragraphs):
            if (index, step) in self._nearest:
                found = self._nearest[(index, step)]
                break
            walked.append(index)
            if self.is_line(index):
                found = index
                break
            if self._prose[index]:
                break
            index += step
        self._nearest.update(((i, step), found) for i in walked)
        return found


def _spans(paragraphs: list[Paragraph]) -> tuple[dict[object, tuple[int, int]], dict[object, object]]:
    """For each element that holds text (below ``<body>``), the first and last index of its paragraphs (a
    subtree's paragraphs are consecutive in document order), and its parent (``None`` under ``<body>``).

    The first indexes are set going down the page, the last going up it: each element is then written once
    and each paragraph's walk up its ancestors stops at the first one a paragraph has claimed, rather than
    every paragraph's walk going up to ``<body>``.

    The spans are tuples, made once the last indexes are known: a page's spans live until it is judged, and
    tuples of numbers leave the garbage collector's care at its first pass (lists would reach its oldest
    generation and bring its full passes sooner, see ``Paragraph``)."""
    first: dict[object, int] = {}
    parent_of: dict[object, object] = {}
    containers = _below_root(paragraphs)
    for index, element in enumerate(containers):
        while element is not None and element not in first:
            first[element] = index
            parent = element.getparent()
            parent_of[element] = parent if parent is not None and parent.tag not in _ROOT_TAGS else None
            element = parent_of[element]
    last: dict[object, int] = {}
    for index in range(len(containers) - 1, -1, -1):
        element = containers[index]
        while element is not None and element not in last:
            last[element] = index
            element = parent_of[element]
    return {element: (start, last[element]) for element, start in first.items()}, parent_of


def _below_root(paragraphs: list[Paragraph]) -> list:
    """Each paragraph's block container, ``None`` when it has none below ``<body>``."""
    return [None if p.container is None or p.container.tag in _ROOT_TAGS else p.container for p in paragraphs]


def _is_poster_line(paragraph: Paragraph, cfg: StripConfig) -> bool:
    """A short line, not a heading, that dates or signs a post or carries its controls."""
    if paragraph.words_count > cfg.max_comment_header_words or paragraph.container is None \
            or paragraph.container.tag in HEADING_TAGS:
        return False
    text = paragraph.text
    return (word_count(text) <= cfg.max_comment_header_words
            and bool(POSTER_LINE.search(text) or RELATIVE_TIME.search(text) or VOTES.match(text)))


def _first_post_chrome(paragraphs: list[Paragraph], items: list[tuple[object, list[int]]],
                       cfg: StripConfig) -> dict[int, Verdict]:
    """In the post that is the article, what is not its body: the poster's lines, signature and votes.

    The body is a place inside the posts, the same in each: from the post down, the place that holds most
    words, as long as it holds ``thread_body_share`` of the words above it and is a container, not a
    paragraph of the text itself. The poster's lines sit beside it, where each post has a few words.
    """
    words_at: dict[tuple, int] = {}
    for element, indexes in items:
        for i in indexes:
            path = _path_from(paragraphs[i], element)
            for depth in range(len(path) + 1):
                words_at[path[:depth]] = words_at.get(path[:depth], 0) + paragraphs[i].words_count
    body: tuple = ()
    while True:
        children = [p for p in words_at if len(p) == len(body) + 1 and p[: len(body)] == body
                    and p[-1][0] not in TEXT_TAGS]
        best = max(children, key=words_at.get, default=None)
        if best is None or words_at[best] < cfg.thread_body_share * words_at[body]:
            break
        body = best
    element, indexes = items[0]
    return {i: Verdict("comments", "thread_poster") for i in indexes
            if _path_from(paragraphs[i], element)[: len(body)] != body}


def is_after_article(paragraphs: list[Paragraph], chosen: list[bool], first: int, last: int,
                      cfg: StripConfig) -> bool:
    """The run ``first..last`` follows the article: the article's words come before it, none after it
    (a list of dated items with article text after it is part of the article: a timeline)."""
    before = sum(p.words_count for p, c in zip(paragraphs[:first], chosen[:first]) if c)
    after = sum(p.words_count for p, c in zip(paragraphs[last + 1:], chosen[last + 1:]) if c)
    return before >= cfg.thread_min_article_words > after


def _shape(element) -> tuple:
    """What makes siblings the same kind of thing: their tag and class (none on a class-less page, where
    the place of the poster's line inside each tells posts apart from other boxes)."""
    return element.tag, element.get("class")


def _kind(element) -> tuple:
    """What makes posts of one thread alike: their tag and first class name. The names after it mark a
    state of the one kind that ``_shape`` tells apart: the alternating shade of posts ("post bg1", "post
    bg2"), a post with a signature, a quote or a picture."""
    classes = (element.get("class") or "").split()
    return element.tag, classes[0] if classes else None


def _path_from(paragraph: Paragraph, element) -> tuple:
    """The kinds between an element and a paragraph's container: the paragraph's place in the element."""
    path = []
    node = paragraph.container
    while node is not None and node is not element:
        path.append(_kind(node))
        node = node.getparent()
    return tuple(reversed(path))
