"""A listicle whose items are each titled by a link to what they review: the titles are the article's, though
they are all link text; a single linked headline above the article's text is a related story's and goes."""
from __future__ import annotations

import pytest

import pipeline.boilerplate.html as html_module
from pipeline.boilerplate.html import html_blocks
from pipeline.config import StripConfig

ITEMS = {
    "Buffalo Bayou Trail": "The trail follows the bayou for ten miles from the edge of downtown to the west side of "
    "the city, and it is shaded for most of the way, which makes it the best ride of the summer months. There is water at both ends of it and a bike shop by the "
    "bridge in the middle.",
    "White Oak Bayou Trail": "This quieter trail runs north through the Heights along the water, and its wide "
    "paved path is a good place for families who want to ride together without the traffic of the city. It is also the flattest of the trails, and the one that is lit at night for "
    "those who ride after work.",
    "Brays Bayou Greenway": "At fourteen miles the greenway is one of the longest rides in the city, and it passes "
    "the museum district and the medical center before it reaches the parks on the east side of town. It is best ridden early in the morning, before the heat of the day and the "
    "crowds of the weekend.",
}
INTRO = ("There has never been a better time to be a cyclist in this city, as new trails open every year and the "
         "old ones are repaved and joined to each other, so that a rider can now cross the city on them.")


@pytest.fixture
def extractor(monkeypatch):
    """trafilatura keeps the prose and leaves out the linked titles."""
    monkeypatch.setattr(html_module, "_trafilatura_text", lambda tree, fast, precise, cfg: "\n".join((INTRO, *ITEMS.values())))


def _kept(html: str) -> list[str]:
    return [b.text for b in html_blocks(html, StripConfig()) if b.kept]


def _page(titles: dict[str, str]) -> str:
    items = "".join(f'<section class="item"><h3><a href="/trails/{i}">{title}</a></h3><p>{prose}</p></section>'
                    for i, (title, prose) in enumerate(titles.items()))
    return f'<html><body><article><h1>The best trails</h1><p>{INTRO}</p>{items}</article></body></html>'


def test_the_linked_titles_of_a_listicles_items_are_kept(extractor):
    kept = _kept(_page(ITEMS))
    assert [t for t in kept if t in ITEMS] == list(ITEMS)


def test_a_single_linked_headline_in_the_article_goes(extractor):
    title, prose = next(iter(ITEMS.items()))
    page = (f'<html><body><article><h1>The best trails</h1><p>{INTRO}</p><h3><a href="/news/1">{title}</a></h3>'
            f'<p>{prose}</p>{"".join(f"<p>{p}</p>" for p in list(ITEMS.values())[1:])}</article></body></html>')
    assert title not in _kept(page)


KETTLES = {
    "Stagg Electric Kettle": "Price: $165, 0.9 litres",
    "Cosori Gooseneck Kettle": "Price: $70, 0.8 litres",
    "Bodum Melior Kettle": "Price: $45, 1.0 litres",
}


def test_linked_titles_over_short_lines_the_extractor_kept_are_kept(monkeypatch):
    """A roundup whose items each open on a price line, too short to be a sentence to jusText, then prose."""
    monkeypatch.setattr(html_module, "_trafilatura_text", lambda tree, fast, precise, cfg: "\n".join(
        (INTRO, *(f"{line}\n{prose}" for line, prose in zip(KETTLES.values(), ITEMS.values())))))
    items = "".join(f'<section class="item"><h3><a href="/kettles/{i}">{name}</a></h3><p>{line}</p><p>{prose}</p>'
                    "</section>" for i, ((name, line), prose) in enumerate(zip(KETTLES.items(), ITEMS.values())))
    kept = _kept(f"<html><body><article><h1>The best kettles</h1><p>{INTRO}</p>{items}</article></body></html>")
    assert [t for t in kept if t in KETTLES] == list(KETTLES)


def test_linked_titles_over_lines_the_extractor_left_out_in_their_item_are_kept(extractor):
    """Each item opens on its title, then a score and a shop's button the extractor leaves out, then its text."""
    items = "".join(f'<section class="item"><h3><a href="/trails/{i}">{title}</a></h3><div>8.{i}</div>'
                    f'<div><a href="/shop/{i}">Buy now</a></div><p>{prose}</p></section>'
                    for i, (title, prose) in enumerate(ITEMS.items()))
    kept = _kept(f"<html><body><article><h1>The best trails</h1><p>{INTRO}</p>{items}</article></body></html>")
    assert [t for t in kept if t in ITEMS] == list(ITEMS)


def test_linked_titles_of_teaser_cards_between_the_articles_paragraphs_go(extractor):
    """"Read also" cards set between the article's paragraphs, each a linked headline over a teaser the extractor
    left out: the paragraph it chose after a card is the article's, not the card's."""
    cards = [f'<div class="card"><h3><a href="/news/{i}">{title}</a></h3><p>A short teaser.</p></div>'
             for i, title in enumerate(ITEMS)]
    body = "".join(f"{card}<p>{prose}</p>" for card, prose in zip(cards, ITEMS.values()))
    page = f"<html><body><article><h1>The best trails</h1><p>{INTRO}</p>{body}</article></body></html>"
    assert not set(ITEMS) & set(_kept(page))


def test_linked_titles_over_prose_brought_back_are_kept(monkeypatch):
    """The extractor keeps the introduction and the closing line only; the items' prose between them comes back
    as the article's, and so do the titles over it."""
    closing = ("Whichever trail you choose, bring water and a helmet, and tell someone where you are going before "
               "you set out on a long ride in the summer heat of the city.")
    monkeypatch.setattr(html_module, "_trafilatura_text", lambda tree, fast, precise, cfg: f"{INTRO}\n{closing}")
    items = "".join(f'<section class="item"><h3><a href="/trails/{i}">{title}</a></h3><p>{prose}</p></section>'
                    for i, (title, prose) in enumerate(ITEMS.items()))
    page = (f"<html><body><article><h1>The best trails</h1><p>{INTRO}</p>{items}<p>{closing}</p></article>"
            "</body></html>")
    kept = _kept(page)
    assert [t for t in kept if t in ITEMS or t in ITEMS.values()] == [t for pair in ITEMS.items() for t in pair]
