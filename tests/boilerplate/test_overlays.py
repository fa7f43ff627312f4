"""A box the page opens over itself is not the article, even when the extractor keeps its text: a dialog (a
republishing policy, a "you are leaving this site" notice: the ``<dialog>`` tag, an ARIA dialog role or a modal
flag) and a tooltip (a term's explanation shown on hover: the ARIA role)."""
from __future__ import annotations

import pytest

import pipeline.boilerplate.html as html_module
from pipeline.boilerplate.html import html_blocks
from pipeline.config import StripConfig

ARTICLE = (
    "Gardening shows have never been more popular, and the best of them teach as much about soil and seasons as "
    "they do about design, which is why we asked our writers which ones they watch every week.",
    "The first on every list was a quiet series about a walled garden, filmed over four years, in which nothing "
    "much happens except that the vegetables grow and the gardener explains what she does and why.",
    "The second was louder: a competition in which teams rebuild a neighbour's yard in a weekend, with a budget "
    "that would not buy a shed, and the results are better than anyone in the crew expected.",
)
POLICY = ("Translations need the writer's approval. Articles can be republished in print under the same rules, "
          "with the exception that you do not need to include the link back to the original story.")


@pytest.fixture
def extractor(monkeypatch):
    """trafilatura keeps the article and the dialog's text after it."""
    monkeypatch.setattr(html_module, "_trafilatura_text", lambda tree, fast, precise, cfg: "\n".join((*ARTICLE, POLICY)))


def _blocks(dialog_open: str, dialog_close: str):
    body = "".join(f"<p>{t}</p>" for t in ARTICLE)
    page = (f'<html><body><article><h1>Shows to watch</h1>{body}<div class="sidebar-box">{dialog_open}'
            f'<h3>Republish this story</h3><p>{POLICY}</p>{dialog_close}</div></article></body></html>')
    return html_blocks(page, StripConfig())


@pytest.mark.parametrize("dialog_open, dialog_close", [
    ('<div role="dialog" style="display:none">', "</div>"),
    ('<div aria-modal="true">', "</div>"),
    ("<dialog>", "</dialog>"),
])
def test_a_dialogs_text_goes(extractor, dialog_open, dialog_close):
    blocks = _blocks(dialog_open, dialog_close)
    assert [b.text for b in blocks if b.kept] == list(ARTICLE)
    assert {(b.reason, b.rule) for b in blocks if b.text == POLICY} == {("other", "dom_role:dialog")}


def test_the_same_box_without_a_dialog_is_kept(extractor):
    assert POLICY in [b.text for b in _blocks("<div>", "</div>") if b.kept]


def test_a_tooltips_text_goes(extractor):
    body = "".join(f"<p>{t}</p>" for t in ARTICLE)
    tip = f'<span class="term">republish<span role="tooltip"><p>{POLICY}</p></span></span>'
    blocks = html_blocks(f"<html><body><article><h1>Shows to watch</h1>{body}<div>{tip}</div></article></body></html>",
                         StripConfig())
    assert [b.text for b in blocks if b.kept] == list(ARTICLE)
    assert {(b.reason, b.rule) for b in blocks if b.text == POLICY} == {("other", "dom_role:tooltip")}
