"""One parse of an HTML page, cut into jusText-style paragraphs that remember where they sit in the DOM.

The segmentation follows jusText's ``ParagraphMaker`` (the same block tags, ``<br><br>`` as a break,
whitespace collapsed), so jusText's classifier runs on these paragraphs unchanged, but it walks the
lxml tree directly: no SAX pass, no XPath look-ups afterwards, and every paragraph carries its block
container and the chrome kind that the tags, class and id names of its ancestors point to.
"""
from __future__ import annotations

import re
from functools import lru_cache

import justext
import lxml.etree
import lxml.html

from pipeline.boilerplate.blocks import WIDGET_REASONS
from pipeline.boilerplate.rules import Verdict

# Subtrees whose text is never visible article text (jusText's preprocessor drops most of them too).
_SKIPPED_TAGS = frozenset({
    "head", "script", "style", "noscript", "template", "iframe", "object", "embed", "applet", "svg", "canvas",
    "button", "input", "select", "textarea", "option", "optgroup", "datalist",
})
# Form controls hold a label, never a block: one that holds blocks is a parse that nested the page inside an
# unclosed control (a stray ``<div>`` in a ``<button>``), and its blocks are read like any others.
_CONTROL_TAGS = frozenset({"button", "select", "textarea", "optgroup", "datalist"})
_PARAGRAPH_TAGS = justext.core.PARAGRAPH_TAGS
_BLOCK_TAGS = tuple(_PARAGRAPH_TAGS)
_TAG_VERDICTS = {tag: Verdict(reason, f"dom_tag:{tag}") for tag, reason in (
    ("nav", "navigation"), ("footer", "navigation"), ("figcaption", "caption"), ("aside", "related"), ("form", "other"))}
# Whole tokens of an element's class and id ("comments-area" gives "comments", "area") and the chrome kind
# each names; when several tokens name one, the first kind in this order wins.
_NAME_REASONS = {
    "comments": ("comment", "comments", "commentlist", "disqus", "respond", "replies", "discussion"),
    "newsletter": ("newsletter", "newsletters", "subscribe", "subscription", "signup", "mailchimp", "mc4wp", "optin"),
    "share": ("share", "sharing", "shares", "social", "sharebar", "sharedaddy", "addthis", "addtoany"),
    "cookie": ("cookie", "cookies", "consent", "gdpr", "cmp"),
    "related": ("related", "relatedposts", "recommended", "recommendations", "readmore", "trending", "popular",
                "outbrain", "taboola", "widget"),
    "navigation": ("nav", "navbar", "navigation", "menu", "breadcrumb", "breadcrumbs", "footer", "masthead",
                   "sidebar", "pagination", "tags"),
    "caption": ("caption", "figcaption", "credit", "credits"),
    "byline": ("byline", "author", "meta"),
    "dateline": ("dateline", "date", "published", "timestamp"),
    "ad": ("ad", "ads", "advert", "advertisement", "sponsor", "sponsored", "promo", "dfp"),
}
# Overlays, boxes the page opens over itself on demand and never the article they open over: a dialog (the
# ``<dialog>`` tag, an ARIA dialog role or a modal flag: a republishing policy, a "you are leaving this site" notice,
# a sign-up form) and a tooltip (the ARIA role: a term's explanation shown on hover, repeated in each column of a
# comparison table).
DIALOG = Verdict("other", "dom_role:dialog")
TOOLTIP = Verdict("other", "dom_role:tooltip")
_OVERLAY_ROLES = {"dialog": DIALOG, "alertdialog": DIALOG, "tooltip": TOOLTIP}
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_WORD = re.compile(r"\w+")
_SLUG_WORDS = 3  # words of a heading's text its anchor name spells out, from the first: fewer may be a role's name
_REASON_ORDER = {reason: rank for rank, reason in enumerate(_NAME_REASONS)}
# One verdict per token, shared by every element that names it (the cache below keeps what it returns for
# the whole run, and a new object per element would pile up for the garbage collector to walk).
_NAME_VERDICTS = {token: Verdict(reason, f"dom_class:{token}") for reason, tokens in _NAME_REASONS.items()
                  for token in tokens}
# Class names that describe a state or a taxonomy of the element, not what it is ("has-comments").
_STATE_PREFIXES = tuple(f"{word}{separator}" for word in ("has", "is", "no", "with", "show", "hide", "category", "tag",
                                                          "status", "format", "type") for separator in "-_")


def _html_parser() -> lxml.html.HTMLParser:
    """lxml.html's parser with every element an ``HtmlElement`` chosen in C: lxml.html's own lookup calls
    back into Python for each element the code touches (to make forms and inputs their own classes, which
    nothing here uses), a large share of walking a page. HTML comments and processing instructions are
    never text: they are left out as the page is read (their neighbouring texts join, as when they are
    stripped afterwards), so that the walk reads the tree without changing it. No table of ``id``
    attributes is built: nothing looks elements up by id (trafilatura's own parser builds none either)."""
    parser = lxml.html.HTMLParser(collect_ids=False, remove_comments=True, remove_pis=True)
    parser.set_element_class_lookup(lxml.etree.ElementDefaultClassLookup(
        element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment, pi=lxml.html.HtmlProcessingInstruction,
        entity=lxml.html.HtmlEntity))
    return parser


_PARSER = _html_parser()
_HTML_CLOSE = re.compile(r"</html\s*>", re.IGNORECASE)


def parse_html(html: str) -> lxml.html.HtmlElement | None:
    """The page's DOM, or ``None`` when it does not parse into anything.

    libxml2 drops everything after the first ``</html>``, where a browser reads on into the body: a page built
    from templates may close the document early and go on with its article (``_read_on``)."""
    html = _read_on(html)
    try:
        return lxml.html.fromstring(html, parser=_PARSER)
    except ValueError:  # a str with an XML encoding declaration: lxml wants bytes then
        try:
            return lxml.html.fromstring(html.encode("utf-8"), parser=_PARSER)
        except (lxml.etree.LxmlError, ValueError):
            return None
    except lxml.etree.LxmlError:
        return None


def _read_on(html: str) -> str:
    """The page without its ``</html>`` tags when one comes before more of the page, the page itself otherwise:
    libxml2 then closes the document at the end, as a browser does. A ``</body>`` is no matter: what follows
    it goes on in the body. One search, most often to the page's end (under a percent of strip's time)."""
    close = _HTML_CLOSE.search(html)
    if close is None or not html[close.end():].strip():
        return html
    return _HTML_CLOSE.sub("", html)


class Paragraph(justext.paragraph.Paragraph):
    """A jusText paragraph plus its place in the DOM.

    ``container`` is the block element it opened in, ``dom_verdict`` the chrome kind that the tags,
    classes and ids of the elements around its first text name, and ``dom_source`` the element that
    named it. Text and word counts are computed once, by ``finish``, which keeps the words as a tuple and
    drops the text fragments once joined: a page's paragraphs live until it is judged, long enough to reach
    the garbage collector's oldest generation, and the more objects reach it, the sooner its next full pass
    (about 0.1 s each here); a tuple of strings leaves the collector's care at its first pass, a list never.
    """

    # Plain attributes in place of jusText's properties, which recompute on every read; those that start
    # the same on every paragraph are the class's (a page opens thousands of paragraphs).
    text = ""
    words_count = 0
    xpath = ""
    chars_count_in_links = 0
    tags_count = 0
    class_type = ""

    def __init__(self, dom_path: str, container, named: tuple[Verdict | None, object]):
        self.dom_path = dom_path
        self.text_nodes = []
        self.container = container
        self.dom_verdict, self.dom_source = named

    def finish(self) -> "Paragraph":
        self.text = " ".join("".join(self.text_nodes).split())  # line breaks in HTML source are layout
        self.text_nodes = ()
        self.lower_words = tuple(self.text.lower().split())
        self.words_count = len(self.lower_words)
        return self

    @property
    def is_heading(self) -> bool:
        return _is_heading_path(self.dom_path)

    def stopwords_count(self, stopwords) -> int:
        return sum(map(stopwords.__contains__, self.lower_words))  # the membership tests run in C

    def stopwords_density(self, stopwords) -> float:
        return self.stopwords_count(stopwords) / self.words_count if self.words_count else 0.0


@lru_cache(maxsize=4096)
def _is_heading_path(dom_path: str) -> bool:
    """jusText's heading test (an ``h1`` to ``h6`` on the path), by the page's paths: its regular expression
    searches a path of dozens of tags for every paragraph, and most of a page's paragraphs sit on a path that
    others share (six paragraphs in seven on wcxb-articles: the paragraphs of one box)."""
    return bool(justext.paragraph.HEADINGS_PATTERN.search(dom_path))


def article_element(paragraphs: list[Paragraph], chosen: list[bool], share: float):
    """The innermost element that holds ``share`` of the chosen words: the article's box (``None`` when only
    ``<body>`` does, which holds everything)."""
    total = sum(p.words_count for p, c in zip(paragraphs, chosen) if c)
    under: dict = {}
    for p, c in zip(paragraphs, chosen):
        if c and p.container is not None:
            for element in (p.container, *p.container.iterancestors()):
                under[element] = under.get(element, 0) + p.words_count
    holding = [element for element, count in under.items()
               if count >= share * total and element.tag not in ("body", "html")]
    return max(holding, key=lambda element: sum(1 for _ in element.iterancestors()), default=None)


def is_inside(paragraph: Paragraph, element) -> bool:
    """Whether the paragraph's block container is the element or below it."""
    container = paragraph.container
    return container is not None and (container is element or element in container.iterancestors())



def segment_dom(root) -> list[Paragraph]:
    """The page's visible paragraphs in document order, read in one walk over the tree the way jusText's
    ParagraphMaker reads SAX events (``parse_html`` has left out comments and processing instructions).

    The hot loop of the stage (every element of the page passes through it), so it keeps its state in
    locals, reads each element's tag once and inlines the text checks.
    """
    paragraphs: list[Paragraph] = []
    # One frame per open element: (tag, dom path, (verdict, naming element), block container); a
    # skipped element's frame is None (only its end, with its tail, is read).
    frames: list[tuple | None] = [("", "", (None, None), None)]
    current: Paragraph | None = None  # the paragraph being read
    links = 0  # open <a> elements around the text
    br = False  # the last thing read was a <br>: a second one ends the paragraph
    walker = lxml.etree.iterwalk(root, events=("start", "end"))
    for event, element in walker:
        if event == "start":
            tag = element.tag
            if tag in _SKIPPED_TAGS and not _holds_blocks(element):
                walker.skip_subtree()
                frames.append(None)
                continue
            parent = frames[-1]
            named = parent[2]
            # A widget's verdict covers all inside it (a date in a comment is the comment).
            if named[0] is None or named[0].reason not in WIDGET_REASONS:
                own = element_verdict(element)
                if own:
                    named = (own, element)
            path = f"{parent[1]}.{tag}" if parent[1] else tag
            if tag in _PARAGRAPH_TAGS:
                frames.append((tag, path, named, element))
                if current is not None:
                    current = _finished(current, paragraphs)
            else:
                frames.append((tag, path, named, parent[3]))
                if tag == "br":
                    if br:
                        if current is not None:
                            current = _finished(current, paragraphs)
                    else:
                        br = True
                        if current is None:
                            current = _opened(frames[-1])
                        current.text_nodes.append(" ")
                else:
                    br = False
                    links += tag == "a"
            content = element.text
        else:
            frame = frames.pop()
            if frame is not None:
                tag = frame[0]
                if tag in _PARAGRAPH_TAGS:
                    if current is not None:
                        current = _finished(current, paragraphs)
                elif tag == "a":
                    links -= 1
            content = element.tail
        if not content:
            continue
        # Text between tags; white space alone is the space the layout shows between two inline
        # elements ("Reply</a> <span>14 likes" reads "Reply 14 likes"), nothing between blocks.
        if not content.isspace():
            if current is None:
                current = _opened(frames[-1])
            current.text_nodes.append(content)
            if links:  # counted, as jusText does, on whitespace-collapsed text
                current.chars_count_in_links += len(" ".join(content.split()))
            br = False
        elif current is not None:
            current.text_nodes.append(" ")
    if current is not None:
        _finished(current, paragraphs)
    return paragraphs


def _opened(frame: tuple) -> Paragraph:
    """A new paragraph where the innermost open element is ``frame``."""
    _, path, named, container = frame
    return Paragraph(path, container, named)


def _finished(paragraph: Paragraph, paragraphs: list[Paragraph]) -> None:
    """Closes the paragraph being read, adding it to ``paragraphs`` when it holds text; no paragraph is
    open after it (hence ``None``)."""
    if paragraph.finish().text:
        paragraphs.append(paragraph)
    return None


def _holds_blocks(element) -> bool:
    """A form control that holds block elements below it: the page's own blocks, mis-nested by the parser. Below
    it: a ``<textarea>`` and an ``<optgroup>`` are blocks to jusText themselves, and their own text is input (a
    "republish" box's copy of the article as HTML, a list box's options), not text the page shows."""
    return element.tag in _CONTROL_TAGS and next(element.iterdescendants(*_BLOCK_TAGS), None) is not None


def element_verdict(element) -> Verdict | None:
    """The chrome kind an element's own tag, class or id names (``<html>`` and ``<body>`` name none), else the
    overlay it is (a dialog, a tooltip): an overlay whose names say what it holds (a sign-up box) keeps that kind."""
    tag = element.tag
    if tag in _TAG_VERDICTS:
        return _TAG_VERDICTS[tag]
    names, ident = element.get("class"), element.get("id")
    if ident:
        names = f"{names or ''} {ident}"
    verdict = None
    if names and tag not in ("html", "body"):
        verdict = _names_verdict(names)
        if verdict is not None and tag in HEADING_TAGS:
            verdict = _names_verdict(_names_besides_own_text(names, element))
    if verdict is None:
        if tag == "dialog" or element.get("aria-modal") == "true":
            return DIALOG
        return _OVERLAY_ROLES.get(element.get("role"))
    return verdict


def _names_besides_own_text(names: str, heading) -> str:
    """A heading's class and id names less those that spell its own text: an anchor that a table of contents
    links to ("h-how-to-use-social-shopping-for-your-brand") names what the heading says, not what it is."""
    words = _WORD.findall(heading.text_content().lower())
    if len(words) < _SLUG_WORDS:
        return names
    slug = "-".join(words[:_SLUG_WORDS])
    return " ".join(name for name in names.split() if slug not in name.lower().replace("_", "-"))


@lru_cache(maxsize=8192)
def _names_verdict(names: str) -> Verdict | None:
    """Verdict of a class-and-id string (cached: templates repeat the same names on many elements). The cache
    holds more than a page's names but no more: every full pass of the garbage collector reads each entry
    (at 65,536 entries, a tenth of its time in a run of strip), for hits that grow slowly past that (0.66
    of the look-ups on the 972 pages of ``provenance eval boilerplate`` at 8,192, 0.70 at 65,536). Most
    names hold no chrome token at all: that is told first, by string methods and a set test that run in C,
    before any name is read token by token."""
    lower = names.lower()
    if _NAME_VERDICTS.keys().isdisjoint(lower.replace("_", " ").replace("-", " ").split()):
        return None
    best = None
    for name in lower.split():
        if name.startswith(_STATE_PREFIXES):
            continue
        for token in name.replace("_", "-").split("-"):
            verdict = _NAME_VERDICTS.get(token)
            if verdict is not None and (best is None or _REASON_ORDER[verdict.reason] < _REASON_ORDER[best.reason]):
                best = verdict
    return best
