"""Posts the article quotes are the article's text: two embedded posts that close a news story, each a
``<blockquote>`` signed and dated like a post of a thread, stay kept; the same posts as bare ``<div>``s after the
story are its readers' comments and go."""
from __future__ import annotations

from pipeline.boilerplate.html import html_blocks
from pipeline.config import StripConfig

ARTICLE = (
    "The county council voted on Thursday to close the old library on Station Road and move its books to the "
    "new community centre across the square by the end of the summer.",
    "Councillors who opposed the move said the centre has no room for the local history archive, which fills "
    "two basement rooms and draws researchers from across the region.",
    "The council leader said the archive would be scanned over the next three years and the originals kept in "
    "the county record office, where they would be safer from damp.",
    "The library's own account announced the vote to its readers in two posts:",
)
QUOTED = (
    ("The council has voted to move the library to the community centre by the end of the summer.",
     "— Station Road Library (@StationRoadLib) March 7, 2024"),
    ("Our last day on Station Road is August 30. Please return your loans to the new building after that date.",
     "— Station Road Library (@StationRoadLib) March 7, 2024"),
)


def _page(post: str) -> str:
    """The story closed by the posts, each in a ``post`` element."""
    article = "".join(f"<p>{text}</p>" for text in ARTICLE)
    posts = "".join(f"<{post}><p>{text}</p>{signature}</{post}>" for text, signature in QUOTED)
    return f"<html><body><div><h1>Station Road library to close</h1>{article}{posts}</div></body></html>"


def test_posts_the_article_quotes_stay():
    blocks = html_blocks(_page("blockquote"), StripConfig())
    kept = "\n".join(b.text for b in blocks if b.kept)
    for text in ARTICLE:
        assert text in kept
    for text, _ in QUOTED:
        assert text in kept, f"quoted post removed: {text!r}"


def test_the_same_posts_unquoted_are_comments():
    blocks = html_blocks(_page("div"), StripConfig())
    for text, signature in QUOTED:
        for line in (text, signature):
            holding = [b for b in blocks if line in b.text]
            assert holding and all(not b.kept and b.reason == "comments" for b in holding), line
