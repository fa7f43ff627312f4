"""A short post followed by a list of other posts (related posts, each an ``<article>`` of its own): the
extractor's precise run that keeps the post alone is right, though it keeps less than half of the page's good
prose; a listicle whose items are ``<article>``s of one list is not a list of other posts."""
from __future__ import annotations

import pytest

import pipeline.boilerplate.html as html_module
from pipeline.boilerplate.html import html_blocks
from pipeline.config import StripConfig

POST = ("Living a true love is one of the greatest pleasures of life, but it asks that we first learn to love "
        "ourselves, with our faults and our limits, and that we give ourselves the same patience that we would "
        "give to a friend who is going through a hard time. Only those who love themselves can love another in "
        "a healthy way, without asking the other to fill an emptiness that is their own.")
OTHERS = (
    "Life asks us for optimism and courage to hope for the best and to do our part so that it happens, even "
    "when the days are grey and the road seems longer than we thought when we first set out on it together.",
    "Blessed are those who walk straight paths and keep the law, because their steps are firm and their hearts "
    "are at peace, even when the world around them changes faster than they would have wished it to change.",
    "What unites a family is love, care and the wish for the good of each other. A united family is stronger "
    "than any storm, because each of its members knows that the others will be there when they are needed.",
    "I am like this, full of faults, mistakes and limits, but also full of dreams and of the will to be better "
    "every day, and I have learned that it is in the small steps that the great changes of a life are made.",
)
SHARE = '<div><a href="/w">Whatsapp</a> <a href="/f">Facebook</a></div>'


@pytest.fixture
def extractor(monkeypatch):
    """trafilatura's runs as on such pages: the precise run keeps the first post of the page, the looser runs
    everything."""
    def text(tree, fast, precise, cfg):
        return POST if fast and precise else "\n".join((POST, *OTHERS))
    monkeypatch.setattr(html_module, "_trafilatura_text", text)


def _kept(html: str) -> list[str]:
    return [b.text for b in html_blocks(html, StripConfig()) if b.kept]


def test_related_posts_after_a_short_post_stay_out(extractor):
    related = "".join(f'<article class="post-{i}"><p>{t}</p>{SHARE}</article>' for i, t in enumerate(OTHERS))
    page = (f'<html><body><div id="primary"><article class="box"><h1>Only those who love themselves</h1>{SHARE}'
            f'<p>{POST}</p></article><article class="post"><h3>You may also like</h3>{related}</article></div>'
            f'</body></html>')
    assert _kept(page) == [POST]


def test_the_items_of_a_list_whose_first_item_the_extractor_kept_stay(extractor):
    items = "".join(f'<article class="item"><h3>Item {i}</h3><p>{t}</p></article>'
                    for i, t in enumerate((POST, *OTHERS)))
    kept = _kept(f'<html><body><main><h1>Five thoughts for the week</h1>{items}</main></body></html>')
    assert set(OTHERS) <= set(kept)
