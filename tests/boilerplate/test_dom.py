"""The one-pass segmentation: blocks as the page shows them."""
from __future__ import annotations

from pipeline.boilerplate.dom import parse_html, segment_dom


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


def test_the_text_of_a_text_box_is_not_a_block():
    """A "republish this article" box holds the article's HTML as the text of a <textarea> (and a list box its
    options): input for the reader to copy or pick, not text the page shows as its own."""
    source = "&lt;h1&gt;Millbrook flood barrier to be rebuilt&lt;/h1&gt; &lt;p&gt;The river authority said&lt;/p&gt;"
    html = (f"<html><body><p>The article starts here and goes on for a while.</p>"
            f"<div><h2>Republish this article</h2><textarea readonly rows='5'>{source}</textarea></div>"
            f"<select><optgroup label='Sections'><option>News</option><option>Sport</option></optgroup></select>"
            f"</body></html>")
    assert _texts(html) == ["The article starts here and goes on for a while.", "Republish this article"]
