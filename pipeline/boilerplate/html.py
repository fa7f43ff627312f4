"""Boilerplate stripping for HTML pages.

The block inventory is jusText's segmentation of the DOM (every visible paragraph, with its XPath).
trafilatura (comments off, its deduplication off) decides which blocks are article text; jusText's own
classification is the fallback when trafilatura finds nothing. Removed blocks get their reason from the
class and id names of their DOM ancestors, then from the text rules; kept blocks still pass the text rules.
"""
from __future__ import annotations

import copy
import re
from functools import lru_cache

import justext
import lxml.etree
import trafilatura
from trafilatura.settings import DEFAULT_CONFIG

from pipeline.boilerplate.blocks import Block, absorb_widget_neighbours, judge
from pipeline.boilerplate.rules import Verdict, block_verdict
from pipeline.config import StripConfig
from pipeline.text import shingles, words

# Matched against each token of an ancestor's class and id ("comments-area" gives "comments", "area").
_CLASS_REASONS = (
    ("comments", re.compile(r"^(?:comments?|commentlist|disqus|respond|replies|reply|discussion)$")),
    ("newsletter", re.compile(r"^(?:newsletters?|subscribe|subscription|signup|mailchimp|mc4wp|optin)$")),
    ("share", re.compile(r"^(?:share|sharing|shares|social|sharebar|sharedaddy|addthis)$")),
    ("cookie", re.compile(r"^(?:cookies?|consent|gdpr|cmp)$")),
    ("related", re.compile(r"^(?:related|recommended|recommendations|readmore|trending|popular|outbrain|taboola)$")),
    ("navigation", re.compile(r"^(?:nav|navbar|navigation|menu|breadcrumbs?|footer|masthead|sidebar|pagination|tags)$")),
    ("caption", re.compile(r"^(?:caption|figcaption|credits?)$")),
    ("byline", re.compile(r"^(?:byline|author|meta)$")),
    ("dateline", re.compile(r"^(?:dateline|date|published|timestamp)$")),
    ("ad", re.compile(r"^(?:ad|ads|advert|advertisement|sponsor|sponsored|promo|dfp)$")),
)
_TAG_REASONS = {"nav": "navigation", "footer": "navigation", "figcaption": "caption", "aside": "related", "form": "other"}
_NAME_TOKENS = re.compile(r"[\s_-]+")
_MIN_SHARE_FOR_KEEP = 0.8


def html_blocks(html: str, cfg: StripConfig) -> list[Block]:
    """Blocks of an HTML page in document order, each kept or removed with a reason."""
    dom, paragraphs = _justext_paragraphs(html)
    if not paragraphs:
        return []
    article = _trafilatura_text(html, cfg)
    decisions = _align(paragraphs, article)
    if sum(decisions) == 0:
        decisions = [p.class_type == "good" for p in paragraphs]
    blocks = []
    for paragraph, kept in zip(paragraphs, decisions):
        element = _element(dom, paragraph.xpath)
        dom_verdict = _dom_verdict(element)
        block = Block(paragraph.text)
        if not kept:
            verdict = dom_verdict or block_verdict(paragraph.text, cfg.max_widget_words) or Verdict(
                "other", "justext_bad" if paragraph.class_type == "bad" else "trafilatura_not_main"
            )
            blocks.append(block.removed(verdict))
        elif dom_verdict and dom_verdict.reason in ("comments", "newsletter", "share", "cookie"):
            blocks.append(block.removed(dom_verdict))
        else:
            blocks.extend(judge(block, cfg.max_widget_words))
    return absorb_widget_neighbours(blocks)


def _justext_paragraphs(html: str):
    try:
        dom = justext.core.html_to_dom(html.encode("utf-8"), "utf-8", "utf-8", "replace")
        dom = justext.core.preprocessor(dom)
    except (lxml.etree.ParserError, lxml.etree.XMLSyntaxError, ValueError):
        return None, []
    paragraphs = [p for p in justext.core.ParagraphMaker.make_paragraphs(dom) if p.text.strip()]
    if not paragraphs:
        return dom, []
    stoplist = _stoplist_for(" ".join(p.text for p in paragraphs[:200]))
    justext.core.classify_paragraphs(paragraphs, stoplist)
    justext.core.revise_paragraph_classification(paragraphs)
    return dom, paragraphs


@lru_cache(maxsize=1)
def _all_stoplists() -> dict[str, frozenset[str]]:
    return {name: frozenset(justext.get_stoplist(name)) for name in sorted(justext.get_stoplists())}


def _stoplist_for(sample: str) -> frozenset[str]:
    """The jusText stoplist of the page's language: the one that covers most of its words."""
    tokens = [t.lower() for t in sample.split()]
    if not tokens:
        return _all_stoplists()["English"]
    scores = {name: sum(t in stop for t in tokens) for name, stop in _all_stoplists().items()}
    return _all_stoplists()[max(scores, key=lambda name: (scores[name], name == "English"))]


def _trafilatura_text(html: str, cfg: StripConfig) -> str:
    config = copy.deepcopy(DEFAULT_CONFIG)  # never mutate the library's global settings
    text = trafilatura.extract(
        html,
        include_comments=False,
        deduplicate=False,
        favor_precision=cfg.favor_precision,
        include_tables=cfg.include_tables,
        output_format="txt",
        config=config,
    )
    return text or ""


def _align(paragraphs, article: str) -> list[bool]:
    """Which jusText blocks trafilatura kept: found in order in its text, or mostly covered by it."""
    target = " ".join(words(article))
    target_shingles = shingles(target.split(), 3)
    cursor = 0
    kept = []
    for paragraph in paragraphs:
        needle = " ".join(words(paragraph.text))
        if not needle:
            kept.append(False)
            continue
        at = target.find(needle, cursor)
        if at >= 0:
            cursor = at + len(needle)
            kept.append(True)
            continue
        grams = shingles(needle.split(), 3)
        share = len(grams & target_shingles) / len(grams) if len(needle.split()) >= 8 else 0.0
        kept.append(share >= _MIN_SHARE_FOR_KEEP)
    return kept


def _element(dom, xpath: str):
    if dom is None:
        return None
    try:
        found = dom.xpath(xpath)
    except lxml.etree.XPathError:
        return None
    return found[0] if found else None


def _dom_verdict(element) -> Verdict | None:
    """The chrome kind that the block's nearest telling ancestor (tag, class or id) names."""
    while element is not None and isinstance(element.tag, str) and element.tag not in ("body", "html"):
        if element.tag in _TAG_REASONS:
            return Verdict(_TAG_REASONS[element.tag], f"dom_tag:{element.tag}")
        names = _NAME_TOKENS.split(f"{element.get('class', '')} {element.get('id', '')}".lower())
        for reason, pattern in _CLASS_REASONS:
            hit = next((n for n in names if n and pattern.match(n)), None)
            if hit:
                return Verdict(reason, f"dom_class:{hit}")
        element = element.getparent()
    return None
