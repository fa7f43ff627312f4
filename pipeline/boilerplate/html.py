"""Boilerplate stripping for HTML pages, decided block by block.

The page is parsed once. Its paragraphs (jusText's segmentation, see ``dom``) are the blocks; a copy of
the tree goes to trafilatura (comments off, its deduplication off), whose text is aligned back to the
blocks. Each block is then judged on every signal it has: trafilatura's choice, jusText's class with the
stoplist of the page's language, link density, the chrome kind its DOM ancestors name, the headline, and
the text rules. A flat comment thread (bare paragraphs after a "3 Comments" line) goes as a whole.
jusText's classes stand in for trafilatura when trafilatura finds nothing.
"""
from __future__ import annotations

import copy
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache

import justext
import trafilatura
from trafilatura.settings import DEFAULT_CONFIG, MANUALLY_CLEANED, Extractor
from trafilatura.xml import delete_element

from pipeline.boilerplate.cards import card_verdicts
from pipeline.boilerplate.copies import copy_verdicts
from pipeline.boilerplate.blocks import WIDGET_REASONS, Block, absorb_widget_neighbours, judge
from pipeline.boilerplate.dom import DIALOG, HEADING_TAGS, TOOLTIP, Paragraph, article_element, is_inside, parse_html, segment_dom
from pipeline.boilerplate.language import page_language, stoplist
from pipeline.boilerplate.rules import SHARE_BUTTON_RULE, Verdict, block_verdict, is_comment_header
from pipeline.boilerplate.threads import sibling_groups, thread_verdicts
from pipeline.config import StripConfig
from pipeline.text import words

_WORD = re.compile(r"\w+")
_ASCII_WORD = re.compile(r"[a-z0-9_]+")  # ``_WORD`` on lower-case ASCII text
_HIDING_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_TITLE_SEPARATORS = re.compile(r"\s+[|–—:·»-]\s+|\s*::\s*")
_STRUCTURE_TAGS = frozenset({"p", "h2", "h3", "h4", "h5", "h6", "li", "td", "th", "dt", "dd"})
# DOM kinds that remove even a block the extractor kept (when the element does not hold most of the article,
# see ``_trusted_dom_verdicts``): widgets, the author's box and captions, forms (a form is for input, its text is
# the labels and the legal lines under them) and overlays (opened over the page: ``DIALOG``, ``TOOLTIP``); a menu
# or a "related" box trafilatura keeps is as often a list of the article's own.
_KEPT_CHROME_REASONS = (*WIDGET_REASONS, "byline", "caption")
_KEPT_CHROME_RULES = ("dom_tag:form", DIALOG.rule, TOOLTIP.rule)
_LINKS_AFTER_ARTICLE = Verdict("related", "links_after_article")
_TEXT_AFTER_ARTICLE = Verdict("other", "text_after_article")
_JSON_LD = "application/ld+json"
_TRAFILATURA_CONFIG = copy.deepcopy(DEFAULT_CONFIG)  # never mutate the library's global settings
# Elements trafilatura deletes whole (its ``MANUALLY_CLEANED``) before it reads any text, less those it may keep
# or read first: a form that wraps the page, a figure that holds a table, MathML (its TeX stays), the head and
# the scripts (JSON-LD; ``_drop_code`` has removed the others and the style sheets).
_TRAFILATURA_DELETED = tuple(t for t in MANUALLY_CLEANED if t not in {"form", "figure", "math", "head", "script", "style"})
Tokens = tuple[str, ...]


def html_blocks(html: str, cfg: StripConfig) -> list[Block]:
    """Blocks of an HTML page in document order, each kept or removed with a reason."""
    root = parse_html(html)
    if root is None:
        return []
    headlines = _headlines(root)
    paragraphs = segment_dom(root)
    if not paragraphs:
        return []
    _classify_justext(paragraphs, cfg)
    tokens = [_tokens(p.text) for p in paragraphs]
    _drop_code(root)
    chosen = _article_choice(root, paragraphs, tokens, cfg)
    trusted = _trusted_dom_verdicts(paragraphs, chosen, cfg)
    doms = [p.dom_verdict if id(p.dom_source) in trusted else None for p in paragraphs]
    levels = cfg.recover_levels_when_short if _too_short(paragraphs, chosen, cfg) else cfg.recover_levels
    article = article_element(paragraphs, chosen, cfg.article_element_share)
    recovered = _recovered(paragraphs, chosen, doms, levels, article, cfg)
    titles = _linked_titles(paragraphs, [c or r for c, r in zip(chosen, recovered)], doms, article, cfg)
    recovered = [r or i in titles for i, r in enumerate(recovered)]
    after = _after_article(paragraphs, chosen, article)
    siblings = sibling_groups(paragraphs)
    threads = thread_verdicts(paragraphs, siblings, chosen, cfg)
    cards = card_verdicts(paragraphs, siblings, chosen, cfg)
    copies = copy_verdicts(paragraphs, siblings, chosen, cfg)
    judged: list[tuple[Block, ...]] = []  # tuples: held until the page is judged (see ``Paragraph``)
    for index, (paragraph, dom, is_chosen, is_recovered) in enumerate(zip(paragraphs, doms, chosen, recovered)):
        if headlines and _is_headline(paragraph.text, tokens[index], headlines):
            judged.append((Block(paragraph.text).removed(Verdict("title", "headline")),))
        elif index in cards:  # before threads: a card's date and teaser read like a post's header and body
            judged.append((Block(paragraph.text).removed(cards[index]),))
        elif index in threads:
            judged.append((Block(paragraph.text).removed(threads[index]),))
        elif index in after:
            judged.append((Block(paragraph.text).removed(after[index]),))
        elif index in copies:
            judged.append((Block(paragraph.text).removed(copies[index]),))
        elif is_chosen or is_recovered:
            previous = judged[-1][-1] if judged else None
            judged.append(_judge_kept(paragraph, dom, previous, index in titles, cfg))
        else:
            judged.append((Block(paragraph.text).removed(_dropped_verdict(paragraph, dom, cfg)),))
    judged = _remove_flat_comment_thread(judged, paragraphs, cfg)
    return absorb_widget_neighbours([block for pieces in judged for block in pieces])


def _article_choice(root, paragraphs: list[Paragraph], tokens: list[Tokens], cfg: StripConfig) -> list[bool]:
    """The paragraphs (``tokens`` their ``_tokens``) that make the article according to trafilatura, in its
    runs from the most precise to the most complete until one keeps enough (see ``_trafilatura_runs``),
    jusText's good ones when none keeps anything, and on a page too small for either, every paragraph
    jusText does not call bad on its own (link lists, copyright lines): a page with text never comes back
    empty for want of an extractor's confidence."""
    precise_words = 0
    # trafilatura prunes a copy of the tree it is given, never the tree
    with _detached(_skipped_subtrees(root, paragraphs)):
        for fast, precise in _trafilatura_runs(cfg):
            if fast and not precise and precise_words >= cfg.full_run_after_precise_words:
                continue
            chosen = _aligned(tokens, _trafilatura_text(root, fast, precise, cfg), cfg)
            if not _too_short(paragraphs, chosen, cfg):
                break
            precise_words = _chosen_words(paragraphs, chosen) if precise else 0
    if not any(chosen):
        chosen = [p.class_type == "good" for p in paragraphs]
    if not any(chosen):
        chosen = [p.cf_class != "bad" for p in paragraphs]
    return chosen


def _drop_code(root) -> None:
    """Removes the page's scripts and style sheets (their tails kept) before trafilatura reads it, except its
    JSON-LD (trafilatura reads an article body and forum markup there). Each of trafilatura's paths deletes
    them the same way before it reads any text, but only after copying the whole tree, twice or more a run,
    and code is much of a page's bytes. The walk has skipped them already."""
    for element in [e for e in root.iter("script", "style") if e.get("type") != _JSON_LD]:
        delete_element(element)


def _trafilatura_runs(cfg: StripConfig) -> list[tuple[bool, bool]]:
    """(fast, favor_precision) of the trafilatura runs to try in turn: the configured one, then, when it
    keeps too little, without favouring precision (it cut the article, not just the chrome), then its full
    run with its own fallback extractors. A precise run that kept too little but at least
    ``full_run_after_precise_words`` found a piece of the article, not nothing: the full run comes next. The fast
    run without precision kept too little again on 53 of the 62 benchmark pages where this happens, and on the
    other 9 the full run keeps the same text; skipping it saves a twentieth of strip's time."""
    runs = [(cfg.trafilatura_fast, cfg.favor_precision), (cfg.trafilatura_fast, False), (False, False)]
    return list(dict.fromkeys(runs))


def _too_short(paragraphs: list[Paragraph], chosen: list[bool], cfg: StripConfig) -> bool:
    """trafilatura kept much less than jusText finds good: it missed the article or most of it. Good prose in a
    list of other posts (``_other_posts_words``) is not the article's: a short post above six related ones
    is whole."""
    chosen_words = _chosen_words(paragraphs, chosen)
    good_words = sum(p.words_count for p in paragraphs if p.class_type == "good")
    threshold = cfg.min_trafilatura_share
    return (chosen_words < threshold * good_words
            and chosen_words < threshold * (good_words - _other_posts_words(paragraphs, chosen, cfg)))


def _chosen_words(paragraphs: list[Paragraph], chosen: list[bool]) -> int:
    """Words in the chosen paragraphs."""
    return sum(p.words_count for p, c in zip(paragraphs, chosen) if c)


def _other_posts_words(paragraphs: list[Paragraph], chosen: list[bool], cfg: StripConfig) -> int:
    """jusText's good words inside a list of other posts: ``min_listed_posts`` or more sibling ``<article>``
    elements (related posts, teasers, comments), when the chosen text is in an ``<article>`` of its own that
    is neither one of them nor inside one. A list that holds the chosen text's ``<article>`` is a list of
    equals (the items of a listicle), of which the extractor took one: the page is the list."""
    box = article_element(paragraphs, chosen, cfg.article_element_share)
    own = [e for e in (box, *box.iterancestors()) if e.tag == "article"] if box is not None else []
    if not own:
        return 0
    words_by_post: dict = {}
    for p in paragraphs:
        post = _post_of(p) if p.class_type == "good" else None
        if post is not None:
            words_by_post[post] = words_by_post.get(post, 0) + p.words_count
    posts_by_parent: dict = {}
    for post in words_by_post:
        posts_by_parent.setdefault(post.getparent(), []).append(post)
    return sum(words_by_post[post] for posts in posts_by_parent.values()
               if len(posts) >= cfg.min_listed_posts and not any(post in own for post in posts) for post in posts)


def _post_of(paragraph: Paragraph):
    """The innermost ``<article>`` element that holds the paragraph, if any."""
    container = paragraph.container
    if container is None or container.tag == "article":
        return container
    return next(container.iterancestors("article"), None)


def _trafilatura_text(tree, fast: bool, precise: bool, cfg: StripConfig) -> str:
    """trafilatura's text of the page (of the tree as it is handed over: see ``_skipped_subtrees``)."""
    return trafilatura.extract(tree, options=_trafilatura_options(fast, precise, cfg.include_tables)) or ""


def _skipped_subtrees(root, paragraphs: list[Paragraph]) -> list:
    """The subtrees trafilatura's runs read the page without: those its fast precise run would delete unread
    (``_unread_subtrees``) and the menus that hold nothing but boilerplate (``_boilerplate_menus``). It copies and
    searches all it is given; these are most of a page's elements. Its later runs (a sixth of the pages) read the
    page without them too: their fallback extractors then see no menus either (on the 972 benchmark pages, wcxb
    dev F1 the same to 1e-6 over 9 pages that change, AEB 0.9821 -> 0.9827, strip 3% less CPU)."""
    unread = _unread_subtrees(root)
    return unread + _boilerplate_menus(root, paragraphs, unread)


def _boilerplate_menus(root, paragraphs: list[Paragraph], unread: list) -> list:
    """The outermost elements whose tag, class or id names navigation (a menu, a sidebar, a breadcrumb, a tag
    list) and that hold no paragraph jusText reads as anything but bad (link lists, labels), nor an ``<h1>`` or a
    script (see ``_unread_subtrees``), outside those ``unread``.

    trafilatura's precise run deletes most of them itself, by their names or their links, after it has copied
    and searched them. Without them it reads the same article on all but 9 of the 972 benchmark pages (wcxb dev F1
    0.96000 -> 0.95999, AEB the same) and strip takes 2-4% less CPU. Boxes of other names were tried too: with
    "related" and "newsletter" ones, trafilatura chose other parts of the article on 5 dev pages (0.02-0.21 of
    their F1); with "share", "cookie" and "ad" ones, 2 more dev pages leaked chrome."""
    held = _holding(p.container for p in paragraphs if p.class_type != "bad")
    held |= _holding(root.iter("h1", "script"))
    skipped = set(unread)
    named = dict.fromkeys(p.dom_source for p in paragraphs  # in document order
                          if p.dom_verdict is not None and p.dom_verdict.reason == "navigation")
    candidates = [element for element in named if element not in held and element not in skipped]
    skipped.update(candidates)
    return [element for element in candidates
            if element.getparent() is not None and not any(a in skipped for a in element.iterancestors())]


def _holding(elements) -> set:
    """The elements and all their ancestors."""
    held: set = set()
    for element in elements:
        while element is not None and element not in held:
            held.add(element)
            element = element.getparent()
    return held


def _unread_subtrees(root) -> list:
    """The outermost elements (``_TRAFILATURA_DELETED``) whose deletion before trafilatura's fast precise run
    leaves its text as it is, in document order.

    That run deletes each such element, its tail kept, before it reads any text; only a few steps look at the
    tree before then: the thread check reads JSON-LD scripts and a raw-tree prune asks whether an element
    holds an ``<h1>``, so subtrees holding either stay. Its deletion loops stop early after deleting an element
    that holds one of its own tag (an ``<aside>`` in an ``<aside>``), keeping the later ones: such tags stay,
    and so do the subtrees that hold them.
    """
    found = list(root.iter(*_TRAFILATURA_DELETED))  # in document order: a subtree's follow its root
    counts = Counter(element.tag for element in found)
    nested = {element.tag for element in found
              if counts[element.tag] > 1 and len(element) and next(element.iterdescendants(element.tag), None) is not None}
    held = _holding(root.iter("h1", "script", *nested))
    unread: list = []
    for element in found:
        last = unread[-1] if unread else None
        if last is not None and len(last) and any(a is last for a in element.iterancestors(last.tag)):
            continue  # inside the last one taken: goes with it
        if element.tag not in nested and element not in held:
            unread.append(element)
    return unread


@contextmanager
def _detached(elements: list) -> Iterator[None]:
    """The tree without these subtrees, deleted as trafilatura deletes them (each tail joins the text before it),
    then put back as they were: the tree is shared by all the page's steps."""
    undo = []
    for element in elements:
        parent, previous = element.getparent(), element.getprevious()
        holder, field = (parent, "text") if previous is None else (previous, "tail")
        undo.append((element, parent, parent.index(element), holder, field, getattr(holder, field)))
        delete_element(element)
    try:
        yield
    finally:
        for element, parent, index, holder, field, value in reversed(undo):
            setattr(holder, field, value)
            parent.insert(index, element)


@lru_cache(maxsize=None)
def _trafilatura_options(fast: bool, precise: bool, include_tables: bool) -> Extractor:
    """trafilatura's settings for one kind of run (comments off, its deduplication off), built once: building
    them reads its configuration again on every call, and a page may take three runs."""
    return Extractor(config=_TRAFILATURA_CONFIG, output_format="txt", fast=fast, precision=precise, comments=False,
                     tables=include_tables, dedup=False)


def _classify_justext(paragraphs: list[Paragraph], cfg: StripConfig) -> None:
    """jusText's classes (``class_type``), with the stoplist of the page's own language."""
    language = page_language([p.lower_words for p in paragraphs], cfg.language_sample_words)
    justext.core.classify_paragraphs(paragraphs, stoplist(language))
    justext.core.revise_paragraph_classification(paragraphs)


def _aligned(tokens: list[Tokens], article: str, cfg: StripConfig) -> list[bool]:
    """Which paragraphs (given as their ``_tokens``) trafilatura kept, by finding them in its text.

    Long paragraphs are found in order, or counted kept when trafilatura's text covers most of their
    3-grams; those matches are anchors. A short paragraph ("Advertisement", a name, a table cell) only
    counts when it turns up in the stretch of text between the anchors around it: a word or two recur
    anywhere in a long text.
    """
    article_tokens = _tokens(article)
    target = f" {' '.join(article_tokens)} "
    spans = _anchor_spans(tokens, target, article_tokens, cfg)
    kept = [span is not None for span in spans]
    next_anchor = _next_anchor_starts(spans, len(target))
    window_start = 0
    for i, paragraph_tokens in enumerate(tokens):
        if spans[i] is not None:
            window_start = max(window_start, spans[i][1])
            continue
        if not paragraph_tokens or len(paragraph_tokens) >= cfg.align_short_words:
            continue
        window_end = next_anchor[i]
        needle = f" {' '.join(paragraph_tokens)} "
        at = target.find(needle, window_start, window_end + 1)
        if at >= 0:
            kept[i] = True
            window_start = at + len(needle) - 1
    return kept


def _next_anchor_starts(spans: list[tuple[int, int] | None], end: int) -> list[int]:
    """For each paragraph, where the next paragraph found in order starts in the target (``end`` if none)."""
    starts = [end] * len(spans)
    following = end
    for i in range(len(spans) - 1, -1, -1):
        starts[i] = following
        if spans[i] is not None and spans[i][0] >= 0:
            following = spans[i][0]
    return starts


def _anchor_spans(tokens: list[Tokens], target: str, target_tokens: Tokens,
                  cfg: StripConfig) -> list[tuple[int, int] | None]:
    """Where each long paragraph sits in trafilatura's text (``target``, its ``target_tokens`` joined, not split
    again for their 3-grams): (start, end) found in order, (-1, -1) when only covered by its 3-grams, ``None``
    when trafilatura left it out or the paragraph is short.

    Coverage is counted against trafilatura's 3-grams that no kept paragraph has used yet, so a page
    that holds the article twice (a hidden copy, a print version) keeps it once. The used 3-grams are only
    gathered for a paragraph that trafilatura's 3-grams would cover with none used: most paragraphs it left
    out share few of them (comments, teasers), and most pages have none that it does not hold in order.
    """
    spans: list[tuple[int, int] | None] = []
    cursor = 0
    used: list[Tokens] = []  # the kept paragraphs, in order: their 3-grams are used
    used_grams: set = set()  # the 3-grams of ``used[:gathered]``
    gathered = 0
    target_grams: set | None = None  # built on the first paragraph not found in order
    for paragraph_tokens in tokens:
        if len(paragraph_tokens) < cfg.align_short_words:
            spans.append(None)
            continue
        needle = f" {' '.join(paragraph_tokens)} "
        at = target.find(needle, cursor)
        if at >= 0:
            cursor = at + len(needle) - 1
            spans.append((at, cursor))
            used.append(paragraph_tokens)
            continue
        if target_grams is None:
            target_grams = set(_trigrams(target_tokens))
        grams = set(_trigrams(paragraph_tokens))
        shared = grams & target_grams
        needed = cfg.align_min_coverage * len(grams)
        if len(shared) >= needed:
            for earlier in used[gathered:]:
                used_grams.update(_trigrams(earlier))
            gathered = len(used)
            shared -= used_grams
        covered = len(shared) >= needed
        spans.append((-1, -1) if covered else None)
        if covered:
            used.append(paragraph_tokens)
    return spans


def _tokens(text: str) -> Tokens:
    """The text's lower-case words, as a tuple: a page's are held until it is judged (see ``Paragraph``). On
    ASCII text the words are runs of ASCII letters, digits and underscores, found by a class of characters
    that the matcher tests faster than Unicode's word characters (a sixth off the tokens of a page)."""
    lower = text.lower()
    return tuple((_ASCII_WORD if lower.isascii() else _WORD).findall(lower))


def _trigrams(tokens: Sequence[str]) -> Iterator[tuple[str, str, str]]:
    """The tokens' 3-grams in order, as an iterator: most callers only take them out of a set."""
    return zip(tokens, tokens[1:], tokens[2:])


def _headlines(root) -> dict[int, set[str]]:
    """Normalized forms of the page's headline, by their number of words: each ``<h1>``, the ``<title>``, and
    the longest part of the title between separators (the other parts name the site or the section, which
    are not the headline). A block that reads as one of them is the title: metadata, not a paragraph."""
    title = root.findtext(".//title") or ""
    parts = [" ".join(words(p)) for p in _TITLE_SEPARATORS.split(title)]
    found = {" ".join(words(h.text_content())) for h in root.iter("h1")}
    found |= {" ".join(words(title)), max(parts, key=len, default="")}
    by_length: dict[int, set[str]] = {}
    for text in found:
        if len(text.split()) >= 2:
            by_length.setdefault(len(text.split()), set()).add(text)
    return by_length


def _is_headline(text: str, tokens: Tokens, headlines: dict[int, set[str]]) -> bool:
    """Whether a paragraph (``tokens`` its ``_tokens``) reads as one of the ``_headlines``. Its ``words``
    are its tokens when NFKC leaves its text as it is (always on ASCII text; on other text, unless it holds
    a compatibility character such as "…"), the folded quotes and dashes being no word characters: most
    paragraphs are not normalized a second time, and only those with as many words as a headline are
    joined to be compared."""
    normalized = tokens if text.isascii() or unicodedata.is_normalized("NFKC", text) else words(text)
    forms = headlines.get(len(normalized))
    return forms is not None and " ".join(normalized) in forms


def _trusted_dom_verdicts(paragraphs: list[Paragraph], chosen: list[bool], cfg: StripConfig) -> set[int]:
    """Ids of the naming elements that may remove text: those that do not hold most of the article.

    A class name is a weak signal on its own ("ad_body", "post-meta" around a whole article); a widget is
    small next to the article it sits in. The article is what trafilatura chose, or jusText's good prose
    when trafilatura chose nothing.
    """
    in_article = chosen if any(chosen) else [p.class_type == "good" for p in paragraphs]
    words_under: dict[int, int] = {}
    total = 0
    for paragraph, counted in zip(paragraphs, in_article):
        if counted:
            total += paragraph.words_count
            if paragraph.dom_source is not None:
                key = id(paragraph.dom_source)
                words_under[key] = words_under.get(key, 0) + paragraph.words_count
    sources = {id(p.dom_source) for p in paragraphs if p.dom_source is not None}
    return {s for s in sources if words_under.get(s, 0) <= cfg.max_chrome_share * total}


def _recovered(paragraphs: list[Paragraph], chosen: list[bool], doms: list[Verdict | None], levels: int,
               article, cfg: StripConfig) -> list[bool]:
    """jusText's good prose that trafilatura left out but that sits inside the article, and the article's
    short paragraphs, headings, lists and tables (``_is_article_structure``) between its first and last
    chosen paragraph or where its box goes on past them (``_continued_article``). The linked titles of its
    items come back afterwards (``_linked_titles``): the text under a title may be what comes back here.

    Inside: between the first and last paragraph trafilatura chose, or sharing an ancestor with one of
    them at most ``levels`` up from each (articles cut into sections by ad slots keep one ancestor);
    ``<body>`` does not count, it holds everything; or next to them, where the article goes on in its box
    (``_continued_article``). Paragraphs that carry a chrome verdict (DOM or
    text) stay out, and so do repeats of a kept paragraph (pages that hold the article twice) other than
    table cells ("Yes", "No", "✓" recur down a table's columns), and a hidden copy of the chosen text
    (``_is_hidden``, ``_is_copy``: the article's body again as metadata for machines). A chosen line of
    links (over ``max_link_density``, which goes as a link list) is not a kept paragraph: a table of
    contents repeats the article's headings as in-page links, and the headings are the article's own.
    """
    first, last = _article_span(chosen)
    # Elements, not ids: holding them keeps lxml's proxies alive, so the same node is the same object.
    article_parents = {a for p, c in zip(paragraphs, chosen) if c for a in _ancestors(p, levels)}
    seen = {p.text for p, c in zip(paragraphs, chosen) if c and not _is_link_list(p, cfg)}
    continued = _continued_article(paragraphs, first, last, article)
    chosen_grams: set | None = None  # the chosen text's 3-grams, built for the first hidden paragraph
    recovered = []
    for i, (p, dom) in enumerate(zip(paragraphs, doms)):
        inside = first <= i <= last
        back = ((p.text not in seen or _is_cell(p)) and not dom
                and ((p.class_type == "good" and (inside or i in continued
                                                  or any(a in article_parents for a in _ancestors(p, levels))))
                     or ((inside or i in continued) and _is_article_structure(p, article, cfg)))
                and not block_verdict(p.text, cfg))
        if back and _is_hidden(p):
            if chosen_grams is None:
                chosen_grams = set().union(*(_trigrams(_tokens(q.text)) for q, c in zip(paragraphs, chosen) if c))
            back = not _is_copy(p, chosen_grams, cfg)
        if back:
            seen.add(p.text)
        recovered.append(back)
    return recovered


def _continued_article(paragraphs: list[Paragraph], first: int, last: int, article) -> set[int]:
    """The paragraphs just before the first chosen one and just after the last that go on with the article:
    inside its box, up to the first that jusText calls bad (a heading of links, a "Footnotes" label, a card's
    title) other than a cell of the article's table, or the box's edge. An extractor may start late or stop early (a FAQ or the article's second half in
    a section of its own); what the box holds past such a line is a list of cards, footnotes or an author's
    box, whose prose reads as good too."""
    if article is None or first > last:
        return set()
    return {*_good_run_in_box(paragraphs, range(first - 1, -1, -1), article),
            *_good_run_in_box(paragraphs, range(last + 1, len(paragraphs)), article)}


def _good_run_in_box(paragraphs: list[Paragraph], indexes: range, article) -> list[int]:
    """The paragraphs at ``indexes``, walked in their order, up to the first that jusText calls bad or that
    is outside the article's box. The cells of a table in the box do not stop it: jusText calls most cells bad
    for want of sentences, and an extractor that starts after the article's table leaves out the table and
    the introduction above it. Nor does a plain sentence (``_is_plain_sentence``): jusText calls a sentence of
    names and figures bad for want of stopwords, as it calls a line of chrome."""
    run = []
    for i in indexes:
        paragraph = paragraphs[i]
        if not is_inside(paragraph, article) or (paragraph.class_type == "bad"
                                                 and not _is_cell_of_table_in(paragraph, article)
                                                 and not _is_plain_sentence(paragraph)):
            break
        run.append(i)
    return run


def _is_plain_sentence(paragraph: Paragraph) -> bool:
    """A ``<p>`` without links that ends as a sentence does (".", "!", "?"): prose, where the lines of chrome
    that end an article's box are links, labels ("Stay connected:", "Share:") and cards (names, prices and
    ratings run together). On the wcxb dev sites, ":" as an end let labels of a site's pitch through."""
    return (paragraph.container is not None and paragraph.container.tag == "p" and not paragraph.chars_count_in_links
            and paragraph.text.endswith((".", "!", "?")))


def _is_article_structure(paragraph: Paragraph, article, cfg: StripConfig) -> bool:
    """A paragraph, heading, list item or table cell inside the article's box that is not a link list
    (``max_link_density``): the article's own short paragraphs, subheads, lists and tables, which jusText
    calls short or bad for want of sentences or stopwords, links in them included (a source named in a
    list, a heading that links its subject). Lists of cards pointing to other pages go when outside the box
    (``cards``); inside it they are as often the article's own lists. A ``<div>`` is as often a box of
    chrome as of text."""
    return (article is not None and paragraph.container is not None
            and paragraph.container.tag in _STRUCTURE_TAGS and not _is_link_list(paragraph, cfg)
            and is_inside(paragraph, article))


def _linked_titles(paragraphs: list[Paragraph], kept: list[bool], doms: list[Verdict | None], article,
                   cfg: StripConfig) -> set[int]:
    """Headings inside the article's box made of a link (over ``max_link_density``) that title a kept paragraph
    under them (``_titles_kept_text``; kept: chosen or brought back), when the box holds ``min_linked_titles``
    or more: the items of a listicle, a review roundup or a list of events, each titled by a link to what it is
    about (a product, a trail, a conference). Their links make them link lists, which go; but a single linked
    heading above the article's text is as often a related story's headline, and a list of teaser cards holds
    nothing that is kept. A heading with a chrome verdict (DOM or text) is no title."""
    if article is None:
        return set()
    titles = {i for i, p in enumerate(paragraphs)
              if p.container is not None and p.container.tag in HEADING_TAGS and _is_link_list(p, cfg)
              and not doms[i] and is_inside(p, article) and _titles_kept_text(paragraphs, kept, i, cfg)
              and not block_verdict(p.text, cfg)}
    return titles if len(titles) >= cfg.min_linked_titles else set()


def _titles_kept_text(paragraphs: list[Paragraph], kept: list[bool], heading: int, cfg: StripConfig) -> bool:
    """Whether the first kept paragraph after the heading is no link list and sits right under it or in the
    heading's item (its parent element), no other heading between: an item opens on its title, then often lines
    the extractor leaves out (a score, a "Buy now" button) before its text. The text may be a short line (a price,
    a place and a date), which jusText calls bad for want of sentences: it counts as any other kept."""
    item = paragraphs[heading].container.getparent()
    for index in range(heading + 1, len(paragraphs)):
        below = paragraphs[index]
        if index > heading + 1 and not is_inside(below, item):
            return False
        if kept[index]:
            return not _is_link_list(below, cfg)
        if below.container is not None and below.container.tag in HEADING_TAGS:
            return False
    return False


def _after_article(paragraphs: list[Paragraph], chosen: list[bool], article) -> dict[int, Verdict]:
    """Chosen paragraphs after the article's box, outside it, with the verdict: what the site puts after
    every article (teasers and link lines of what it offers next, as related; its pitch, disclaimers and
    contact lines, as other), which an extractor that keeps the page's last text keeps too. The box holds
    most of what was chosen (``article_element_share``), so what trails it is a small remainder."""
    last = next((i for i in range(len(paragraphs) - 1, -1, -1) if is_inside(paragraphs[i], article)), None) \
        if article is not None else None
    if last is None:
        return {}
    return {i: _LINKS_AFTER_ARTICLE if paragraphs[i].chars_count_in_links else _TEXT_AFTER_ARTICLE
            for i in range(last + 1, len(paragraphs)) if chosen[i]}


def _is_hidden(paragraph: Paragraph) -> bool:
    """Whether the page hides the paragraph: an element around it has the ``hidden`` attribute or an inline
    style that does not display it. trafilatura drops such elements before it reads the page; jusText sees
    them. Hidden text is as often the article's own (a collapsed section, an answer a click opens) as a copy
    of it, so only a copy stays out (``_is_copy``)."""
    container = paragraph.container
    if container is None:
        return False
    for element in (container, *container.iterancestors()):
        if element.get("hidden") is not None or _HIDING_STYLE.search(element.get("style") or ""):
            return True
    return False


def _is_copy(paragraph: Paragraph, chosen_grams: set, cfg: StripConfig) -> bool:
    """A paragraph whose 3-grams the chosen text covers as trafilatura's text covers a paragraph it kept
    (``align_min_coverage``): the article again, whole or in part. A short line recurs anywhere. Both are read
    as words (``_tokens``), as the alignment reads them: a copy for machines is often the article in Markdown,
    whose marks ("**Friday**", "[the report](/report)") stick to the words they mark."""
    if paragraph.words_count < cfg.align_short_words:
        return False
    grams = set(_trigrams(_tokens(paragraph.text)))
    return len(grams & chosen_grams) >= cfg.align_min_coverage * len(grams)


def _is_cell_of_table_in(paragraph: Paragraph, article) -> bool:
    """A paragraph in a cell of a table that the article's box holds: the article's own table. A table around
    the box (a page laid out in a table, a newsletter's) is the page's frame, not the article's."""
    container = paragraph.container
    if container is None:
        return False
    cell = container if container.tag in ("td", "th") else next(container.iterancestors("td", "th"), None)
    return cell is not None and article in cell.iterancestors()


def _is_cell(paragraph: Paragraph) -> bool:
    return paragraph.container is not None and paragraph.container.tag in ("td", "th")


def _article_span(chosen: list[bool]) -> tuple[int, int]:
    """First and last chosen paragraph indexes ((0, -1) when none is)."""
    indexes = [i for i, c in enumerate(chosen) if c]
    return (indexes[0], indexes[-1]) if indexes else (0, -1)


def _judge_kept(paragraph: Paragraph, dom: Verdict | None, previous: Block | None, is_title: bool,
                cfg: StripConfig) -> tuple[Block, ...]:
    """A paragraph trafilatura kept or jusText brought back: widgets and link lists still go, other than the
    linked titles of the article's items (``is_title``, see ``_linked_titles``)."""
    block = Block(paragraph.text)
    if dom and (dom.reason in _KEPT_CHROME_REASONS or dom.rule in _KEPT_CHROME_RULES):
        return (block.removed(dom),)
    if _is_link_list(paragraph, cfg) and not is_title:
        return (block.removed(_link_list_verdict(dom, previous)),)
    judged = judge(block, cfg)
    if _is_cell(paragraph) and judged[0].rule == SHARE_BUTTON_RULE:
        return (block,)  # a table's "Share" or "Print" column: share buttons are links, gone by link density above
    return judged


def _is_link_list(paragraph: Paragraph, cfg: StripConfig) -> bool:
    """Mostly link text (over ``max_link_density`` of its characters): a menu, a table of contents, a card. A
    heading linked to itself (its permalink) is not one."""
    return paragraph.links_density() > cfg.max_link_density and not _is_self_linked_heading(paragraph)


def _is_self_linked_heading(paragraph: Paragraph) -> bool:
    """A heading whose links all point to the heading itself (``#`` and its own id, or the link's): the anchor
    that a page's Markdown renderer puts on each of its subheads, not a link to anywhere else."""
    container = paragraph.container
    if container is None or container.tag not in HEADING_TAGS:
        return False
    links = list(container.iter("a"))
    own = {f"#{name}" for name in (container.get("id"), *(a.get("id") for a in links), *(a.get("name") for a in links))
           if name}
    return bool(links) and all(a.get("href") in own for a in links)


def _dropped_verdict(paragraph: Paragraph, dom: Verdict | None, cfg: StripConfig) -> Verdict:
    """Why a paragraph that neither trafilatura nor jusText keeps goes: its DOM, its text, or neither."""
    rule = "justext_bad" if paragraph.class_type == "bad" else "trafilatura_not_main"
    return dom or block_verdict(paragraph.text, cfg) or Verdict("other", rule)


def _link_list_verdict(dom: Verdict | None, previous: Block | None) -> Verdict:
    """Why a block made of links goes: what its ancestors say, else related after a related heading."""
    if dom:
        return dom
    if previous is not None and not previous.kept and previous.reason == "related":
        return Verdict("related", "link_list")
    return Verdict("navigation", "link_list")


def _remove_flat_comment_thread(judged: list[tuple[Block, ...]], paragraphs: list[Paragraph],
                                cfg: StripConfig) -> list[tuple[Block, ...]]:
    """A reader-comment thread laid out as bare paragraphs goes from its first line to the end of its parent.

    The thread starts at a comment line ("6 Comments", "jane said, 2 days ago:") that follows the article
    and needs a commenter header (relative time, votes) among its siblings: the comment bodies between the
    headers are ordinary prose, only their place tells them apart.
    """
    by_parent: dict | None = None  # parent element -> indexes of its paragraphs, built for the first anchor
    tried = set()
    article_words = 0
    counted = 0  # the paragraphs before this one hold article_words kept words (counted at comment lines only)
    for index, pieces in enumerate(judged):
        if not any(b.reason == "comments" for b in pieces):
            continue
        article_words += sum(len(b.text.split()) for done in judged[counted:index + 1] for b in done if b.kept)
        counted = index + 1
        if article_words < cfg.thread_min_article_words:
            continue
        parent = _parent(paragraphs[index])
        if parent is None or parent in tried:
            continue
        tried.add(parent)
        if by_parent is None:
            by_parent = {}
            for j, paragraph in enumerate(paragraphs):
                by_parent.setdefault(_parent(paragraph), []).append(j)
        siblings = [j for j in by_parent[parent] if j >= index]
        if any(is_comment_header(paragraphs[j].text, cfg.max_comment_header_words) for j in siblings):
            verdict = Verdict("comments", "comment_thread")
            out = list(judged)
            for j in siblings:
                out[j] = tuple(b.removed(verdict) if b.kept else b for b in out[j])
            return out
    return judged


def _parent(paragraph: Paragraph):
    return paragraph.container.getparent() if paragraph.container is not None else None


def _ancestors(paragraph: Paragraph, levels: int) -> list:
    """Up to ``levels`` elements above the paragraph's block container, nearest first, ``<body>`` excluded."""
    found = []
    element = _parent(paragraph)
    while element is not None and len(found) < levels and element.tag not in ("body", "html"):
        found.append(element)
        element = element.getparent()
    return found
