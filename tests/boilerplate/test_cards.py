"""Lists of cards (teasers of other pages) found by their shape and place, without class names: a box of
headline-and-teaser cards after the article goes whole, its title with it, as related (not as a comment
thread, though each card has a date and a line of prose); a list of links, each with a line on it, inside the
article is not a list of cards."""
from __future__ import annotations

from pipeline.boilerplate.html import html_blocks
from pipeline.config import StripConfig

ARTICLE = (
    "The river authority said on Tuesday that it would rebuild the old flood barrier before next winter, "
    "after two years of arguments over who should pay for it.",
    "Engineers expect the new barrier to hold back water nearly a metre higher than the old one, which failed "
    "twice in the floods of the last decade.",
    "Local councillors welcomed the decision but warned that the town would remain exposed until the work is "
    "finished, and asked for temporary defences in the meantime.",
    "The cost of the project has risen from eleven million pounds to almost nineteen million since it was first "
    "proposed, mostly because of the price of steel and concrete.",
    "Farmers upstream have asked for compensation for land that will be flooded on purpose when the river is high, "
    "and the authority has promised to meet them next month.",
)
SOURCES = (  # the article's own list of links, each with a line on it, followed by more of the article
    ("The authority's flood plan", "sets out the three stages of the work and their dates."),
    ("The council's report", "counts the homes that flooded in each of the last ten years."),
    ("The farmers' letter", "asks for a fixed payment for each day a field is under water."),
)
CARDS = (  # teasers of other pages: a headline linking away, a date, a one-line teaser
    ("River levels rise after a week of heavy rain", "March 2, 2024",
     "Gauges on the upper river passed the warning mark on Sunday."),
    ("Bridge closure extended by a month", "March 1, 2024",
     "The old bridge stays shut while divers inspect its piers."),
    ("Town hall meeting planned for residents", "February 28, 2024",
     "Residents can put questions to the authority in person."),
    ("New bus route links the two villages", "February 27, 2024", "The service starts in April and runs every hour."),
)


def _page() -> str:
    sources = "".join(f'<li><a href="/doc/{i}">{name}</a> {line}</li>' for i, (name, line) in enumerate(SOURCES))
    cards = "".join(f'<div><div><a href="/news/{i}">{headline}</a></div><div>{day}</div><div>{teaser}</div></div>'
                    for i, (headline, day, teaser) in enumerate(CARDS))
    return (f"<html><body><div><div><h1>Millbrook flood barrier to be rebuilt</h1>"
            f"<p>{ARTICLE[0]}</p><p>{ARTICLE[1]}</p><p>The papers behind the decision:</p><ul>{sources}</ul>"
            f"<p>{ARTICLE[2]}</p><p>{ARTICLE[3]}</p><p>{ARTICLE[4]}</p></div>"
            f"<div><div>More from the valley</div><div>{cards}</div></div></div></body></html>")


def test_cards_after_the_article_go_with_their_title():
    blocks = html_blocks(_page(), StripConfig())
    for headline, day, teaser in CARDS:
        for text in (headline, day, teaser):
            holding = [b for b in blocks if text in b.text]
            assert holding and not any(b.kept for b in holding), f"card text kept: {text!r}"
        assert all(b.reason == "related" for b in blocks if teaser in b.text)
    title = next(b for b in blocks if b.text == "More from the valley")
    assert not title.kept and title.reason == "related"


def test_the_article_and_its_own_list_of_links_are_not_cards():
    blocks = html_blocks(_page(), StripConfig())
    kept = "\n".join(b.text for b in blocks if b.kept)
    for paragraph in ARTICLE:
        assert paragraph in kept
    for name, line in SOURCES:
        assert not any(b.rule == "card_list" for b in blocks if name in b.text)
