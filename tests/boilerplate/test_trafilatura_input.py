"""What trafilatura's fast precise run is handed: the page without the subtrees it deletes unread, the same text
as from the whole page, and the page's tree as it was afterwards (every later step reads it)."""
from __future__ import annotations

import lxml.etree
import trafilatura

from pipeline.boilerplate.dom import parse_html
from pipeline.boilerplate.html import _trafilatura_options, _trafilatura_text, _unread_subtrees
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
