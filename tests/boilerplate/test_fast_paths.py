"""The HTML stripper's short cuts decide as the long way does: a headline with non-ASCII characters, a word
limit on blocks of long words, the alignment of a page that holds the article twice, a form state beside a
widget, class names without a chrome token, share buttons glued to a paragraph."""
from __future__ import annotations

from pipeline.boilerplate.blocks import Block, absorb_widget_neighbours
from pipeline.boilerplate.dom import element_verdict, parse_html
from pipeline.boilerplate.html import _aligned, _tokens, html_blocks
from pipeline.boilerplate.rules import Verdict, block_verdict, trailing_share
from pipeline.config import StripConfig

STRIP = StripConfig()
PROSE = ("The regional insurance market grew again last year, and the ranking of the largest companies changed "
         "for the first time in a decade, the regulator said in its annual report on Monday.")


def test_a_headline_with_typographic_quotes_or_an_ellipsis_is_the_title():
    """The headline test reads a paragraph's tokens as its normalized words unless NFKC changes its text: an
    accent or a curly quote does not, an ellipsis ("…" is "..." under NFKC) does; both headlines are found."""
    for headline in ("Café’s “new” menu wins the regional prize", "Café’s menu… wins the regional prize"):
        html = f"<html><body><h1>{headline}</h1><article><p>{PROSE}</p><p>{PROSE}</p></article></body></html>"
        title = [b for b in html_blocks(html, STRIP) if b.text == headline]
        assert [(b.kept, b.reason) for b in title] == [(False, "title")]


def test_the_widget_word_limit_counts_every_word_of_a_block_of_long_words():
    """A block of up to ``max_widget_words`` words is read by the widget rules however long its words are, one
    over the limit is not (the count looks at a block's start first)."""
    long_words = ["Newsletterpreferencesconfirmation"] * (STRIP.max_widget_words - 1)
    within = " ".join(["Subscribe", *long_words])
    assert len(within) > 8 * (STRIP.max_widget_words + 1)
    assert block_verdict(within, STRIP) == Verdict("newsletter", "newsletter_text")
    assert block_verdict(within + " today", STRIP) is None


def test_the_article_twice_on_a_page_is_kept_once_and_so_is_a_paragraph_in_other_words():
    """trafilatura's text holds the article once. The page's first copy is found in order; a paragraph it
    holds in other words is kept by its 3-grams, unless a paragraph kept before it has used them."""
    second = PROSE.replace("Monday", "Friday").replace("grew again", "shrank")
    reworded = PROSE.replace("the regulator said", "as the regulator noted")
    extractor_text = f"{PROSE}\n{second}\n{reworded}"
    pages = ([PROSE, second, PROSE, second], [reworded.replace("Monday", "Sunday"), PROSE],
             [PROSE, reworded.replace("Monday", "Sunday")])
    kept = [_aligned([_tokens(p) for p in page], extractor_text, STRIP) for page in pages]
    assert kept == [[True, True, False, False], [True, True], [True, False]]
    alone = _aligned([_tokens(PROSE), _tokens(PROSE.replace("Monday", "Sunday"))], PROSE, STRIP)
    assert alone == [True, False]


def test_a_form_state_line_goes_with_the_widget_beside_it_and_stays_elsewhere():
    newsletter = Block("Get the morning briefing").removed(Verdict("newsletter", "dom_class:newsletter"))
    blocks = [Block(PROSE), Block("Thank you!"), newsletter, Block("Please wait..."), Block("Please wait...")]
    out = absorb_widget_neighbours(blocks)
    assert [(b.kept, b.reason, b.rule) for b in out[1:]] == [
        (False, "newsletter", "widget_neighbour"), newsletter[1:4], (False, "newsletter", "widget_neighbour"),
        (False, "newsletter", "widget_neighbour")]
    assert out[0].kept


def test_class_names_without_a_chrome_token_name_nothing_and_those_with_one_name_its_kind():
    """Class and id strings are first tested for any chrome token at all; the verdicts are those of reading
    each name's tokens (a state like "has-comments" names nothing)."""
    html = ('<html><body><div class="flex items-center px-4"><p>a</p></div><div class="has-comments post"><p>b</p>'
            '</div><div class="comment_list"><p>c</p></div><div class="site-footer__inner" id="x"><p>d</p></div>'
            '<div id="related-posts" class="share-bar"><p>e</p></div></body></html>')
    divs = list(parse_html(html).iter("div"))
    verdicts = [element_verdict(div) for div in divs]
    assert [v.reason if v else None for v in verdicts] == [None, None, "comments", "navigation", "share"]


def test_share_buttons_glued_after_the_last_sentence_are_found_there_and_nowhere_else():
    """Glued share buttons start after the text's last sentence end, the only place the pattern is tried."""
    cases = {
        "It was informative.shareGoogle it": 19,
        "A sentence. Share. Another sentence. Share this": 37,
        "He said “yes.” Share this post": 15,
        "Done! Tweet Email Print ": 6,
        "(see above) Facebook, Twitter, LinkedIn:": 12,
        "The council met on Monday. Print": None,  # one generic word after a sentence is prose
        "No sentence ends here share": None,
    }
    assert {text: trailing_share(text, 1) for text in cases} == cases
