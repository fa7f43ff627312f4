"""The one-pass segmentation: blocks as the page shows them."""
from __future__ import annotations

from pipeline.boilerplate.dom import parse_html, segment_dom
from pipeline.boilerplate.html import html_blocks
from pipeline.config import StripConfig


def _texts(html: str) -> list[str]:
    return [p.text for p in segment_dom(parse_html(html))]


def test_white_space_between_inline_elements_is_a_space():
    html = ("<html><body><div><a href='#r'>Reply</a> <span>14 likes</span></div>"
            "<p>A <b>bold</b> <i>claim</i>.</p></body></html>")
    assert _texts(html) == ["Reply 14 likes", "A bold claim."]


def test_no_space_is_made_where_the_page_shows_none():
    assert _texts("<html><body><p>un<b>believ</b>able, <a href='#'>link</a>.</p></body></html>") == [
        "unbelievable, link."]


def test_a_control_the_parser_wrapped_around_the_page_does_not_hide_it():
    """An unclosed <div> inside a <button> nests the rest of the page in the button; its blocks still count."""
    html = ("<html><body><button><div>Menu</button><p>The article starts here and goes on for a while.</p>"
            "</body></html>")
    assert "The article starts here and goes on for a while." in _texts(html)
    assert _texts("<html><body><button>Menu</button><p>Text.</p></body></html>") == ["Text."]


def test_a_page_that_closes_the_document_early_goes_on_with_its_article():
    """A template that closes ``</body></html>`` after its header, then prints the article: a browser shows the
    article, and so must the blocks (libxml2 alone drops all that follows ``</html>``). ``</HTML>`` in capitals too."""
    article = "Outsourcing payroll saves a small firm about a day of work each month."
    for close in ("</body>\n</html>", "</BODY></HTML >"):
        html = (f"<!DOCTYPE html><html><head><title>t</title></head><body><header><nav><a href='/'>Home</a></nav>"
                f"</header>{close}\n <div class='post'><h1>Why outsource payroll</h1><p>{article}</p></div>"
                f"<footer><p>Contact us</p></footer></body></html>")
        assert _texts(html) == ["Home", "Why outsource payroll", article, "Contact us"]
    assert _texts(f"<html><body><p>{article}</p></body></html>\n<!-- cached 0.2 s -->\n") == [article]


def test_the_text_of_a_text_box_is_not_a_block():
    """A "republish this article" box holds the article's HTML as the text of a <textarea> (and a list box its
    options): input for the reader to copy or pick, not text the page shows as its own."""
    source = "&lt;h1&gt;Millbrook flood barrier to be rebuilt&lt;/h1&gt; &lt;p&gt;The river authority said&lt;/p&gt;"
    html = (f"<html><body><p>The article starts here and goes on for a while.</p>"
            f"<div><h2>Republish this article</h2><textarea readonly rows='5'>{source}</textarea></div>"
            f"<select><optgroup label='Sections'><option>News</option><option>Sport</option></optgroup></select>"
            f"</body></html>")
    assert _texts(html) == ["The article starts here and goes on for a while.", "Republish this article"]


def test_a_heading_s_anchor_that_spells_its_text_names_no_chrome():
    """A table of contents links to each heading by an anchor made of its words: a heading on sharing recipes
    whose anchor says "share" is the article's own; a heading named for a share bar is not."""
    prose = ("Grandmother kept her recipes on cards in a tin box, and the family copied them by hand for every "
             "cousin who left home, so that the same soup is now cooked in four countries.")
    more = ("Photograph each card before you copy it, write down who taught you the dish, and keep the cards "
            "together with the photographs so that nobody has to guess which aunt added the paprika.")
    html = (f"<html><body><article><h1>The recipe tin</h1><p>{prose}</p>"
            f"<h2 id='h-how-to-share-family-recipes'>How to share family recipes</h2><p>{more}</p>"
            f"<h2 class='share-title'>Share this story with your family</h2></article></body></html>")
    blocks = {b.text: b for b in html_blocks(html, StripConfig())}
    assert blocks["How to share family recipes"].kept
    assert blocks["Share this story with your family"].reason == "share"
