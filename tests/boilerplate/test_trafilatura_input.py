"""What trafilatura's runs are handed: the page without the subtrees its fast precise run deletes unread (the same
text as from the whole page) and without menus of boilerplate, and the page's tree as it was afterwards (every
later step reads it)."""
from __future__ import annotations

import lxml.etree
import trafilatura

from pipeline.boilerplate.dom import parse_html, segment_dom
from pipeline.boilerplate.html import (
    _classify_justext,
    _detached,
    _drop_code,
    _skipped_subtrees,
    _trafilatura_options,
    _trafilatura_text,
    _unread_subtrees,
)
from pipeline.config import StripConfig

PROSE = ("The regional insurance market grew again last year, and the ranking of the largest companies changed "
         "for the first time in a decade, the regulator said in its annual report on Monday. ")
LATER = ("A later aside that the cleaning never reaches holds this sentence, which is long enough for the "
         "extractor to keep it as text of the page.")


def _page(boxes: str) -> str:
    return f"""<html><head><title>Insurers</title></head><body>
<nav><a href="/">Home</a> <a href="/map">Sitemap</a></nav>
<main><article><h1>Insurers change places at the top</h1>
<p>{PROSE * 2}</p>{boxes}<p>{PROSE}</p>
<p>{PROSE}Published <time>Monday</time> with <button>Share <svg><use href="#s"/></svg></button> buttons.</p>
<aside><h1>A headline in a box</h1><p>{PROSE}</p></aside>
</article></main><footer><form><input name="q"/><label>Search</label></form>Footer line</footer></body></html>"""


def _texts(html: str) -> tuple[str, str]:
    """trafilatura's own text of the whole page, and ours, after which the tree must be as it was."""
    root = parse_html(html)
    before = lxml.etree.tostring(root)
    whole = trafilatura.extract(root, options=_trafilatura_options(True, True, True)) or ""
    with _detached(_unread_subtrees(root)):
        ours = _trafilatura_text(root, True, True, StripConfig())
    assert lxml.etree.tostring(root) == before
    return whole, ours


def test_the_precise_run_reads_the_same_text_without_the_boxes_it_deletes_unread():
    root = parse_html(_page("<aside><p>Related: five other stories</p></aside>"))
    assert {e.tag for e in _unread_subtrees(root)} == {"nav", "time", "button", "footer", "aside"}
    assert not any(e.find(".//h1") is not None for e in _unread_subtrees(root))  # a raw-tree prune looks for one
    whole, ours = _texts(_page("<aside><p>Related: five other stories</p></aside>"))
    assert ours == whole and PROSE.strip() in ours and "Footer" not in ours


def test_a_box_inside_a_box_of_its_kind_keeps_the_later_ones_as_trafilatura_does():
    """trafilatura's deletion loop stops inside a deleted ``<aside>`` that holds another: later asides stay."""
    boxes = f"<aside><aside>Inner box</aside>Outer box</aside><p>{PROSE}</p><aside><p>{LATER}</p></aside>"
    assert "aside" not in {e.tag for e in _unread_subtrees(parse_html(_page(boxes)))}
    whole, ours = _texts(_page(boxes))
    assert ours == whole and LATER in ours


def test_menus_of_boilerplate_are_skipped_and_a_menu_holding_text_or_the_headline_is_not():
    """A box named as navigation that holds only link lists and labels (jusText: bad) is left out of the precise
    run; one that holds a paragraph jusText reads as text, or the page's ``<h1>``, is handed over."""
    links = " ".join(f"<a href='/s{i}'>Section {i}</a>" for i in range(12))
    html = f"""<html><body><div class="mega-menu"><ul><li>{links}</li></ul></div>
<div class="sidebar-nav"><p>{PROSE}</p></div><div class="top-nav"><h1>Insurers change places at the top</h1></div>
<main><article><p>{PROSE * 2}</p><p>{PROSE}</p></article></main></body></html>"""
    root = parse_html(html)
    paragraphs = segment_dom(root)
    _classify_justext(paragraphs, StripConfig())
    _drop_code(root)
    before = lxml.etree.tostring(root)
    skipped = _skipped_subtrees(root, paragraphs)
    assert [e.get("class") for e in skipped] == ["mega-menu"]
    with _detached(skipped):
        text = _trafilatura_text(root, True, True, StripConfig())
    assert lxml.etree.tostring(root) == before
    assert PROSE.strip() in text and "Section 3" not in text
