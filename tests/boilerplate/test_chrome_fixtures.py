"""Hand-made pages, one per kind of chrome: the article stays, the chrome goes with the right reason.

Every fixture under tests/fixtures/chrome/ wraps paragraphs of the same short article (ARTICLE below) in
a different kind of chrome; CHROME lists, per fixture, text that must be removed and the reason expected.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.boilerplate.html import html_blocks
from pipeline.config import StripConfig
from pipeline.schema import BLOCKS, INGESTED, to_table
from pipeline.stages.strip import mark_templates

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "chrome"

ARTICLE = (
    "The river authority said on Tuesday that it would rebuild the old flood barrier",
    "Engineers expect the new barrier to hold back water nearly a metre higher",
    "Local councillors welcomed the decision but warned that the town would remain exposed",
    "The cost of the project has risen from eleven million pounds to almost nineteen million",
    "Farmers upstream have asked for compensation for land that will be flooded on purpose",
    "A spokeswoman for the authority said talks with the farmers were continuing",
    "Residents who lost their homes in the last flood said they were relieved but sceptical",
    "The authority will hold a public meeting at the town hall next month",
)

CHROME = {
    "wordpress_comments.html": [
        ("3 thoughts on", "comments"),
        ("We were flooded out in February", "comments"),
        ("The farmers have a point about compensation", "comments"),
        ("Leave a Reply", "comments"),
        ("Your email address will not be published", "comments"),
    ],
    "disqus_comments.html": [
        ("riverwatcher", "comments"),
        ("Eleven million to nineteen million in a year and a half", "comments"),
        ("Finally some good news", "comments"),
        ("12 votes", "comments"),
    ],
    "forum_comments.html": [
        ("4 Comments", "comments"),
        ("old_ferryman said, 3 days ago", "comments"),
        ("I have lived by that river for forty years", "comments"),
        ("17 likes", "comments"),
        ("Easy to say now, but the previous council", "comments"),
    ],
    "forum_thread.html": [  # the first post is the article; its poster's lines and every reply are comments
        ("Millbrook flood barrier to be rebuilt", "title"),
        ("riverwatcher Moderator Joined: Mar 2019 Posts: 1,204", "comments"),
        ("Posted: Tue Mar 05, 2024 10:42 am", "comments"),
        ("Member of the Millbrook Flood Action Group since 2016", "comments"),
        ("12 points · Quote", "comments"),
        ("old_ferryman Regular Joined: Jun 2021 Posts: 87", "comments"),
        ("riverwatcher wrote: the new barrier", "comments"),
        ("A metre sounds like a lot until you remember", "comments"),
        ("Forty years on the ferry and counting", "comments"),
        ("4 points · Quote", "comments"),
        ("greenfields22 Newcomer Joined: Jan 2024 Posts: 3", "comments"),
        ("Posted: Wed Mar 06, 2024 8:15 am", "comments"),
        ("The previous council voted against paying for a higher wall", "comments"),
        ("Growing vegetables on the flood plain since last spring", "comments"),
        ("2 points · Quote", "comments"),
    ],
    "classless_blog_comments.html": [  # no class or id anywhere: the thread is found by its shape and place
        ("Millbrook flood barrier to be rebuilt", "title"),
        ("3 responses", "comments"),
        ("Martha Lane · March 2, 2024 at 9:14 am", "comments"),
        ("We were flooded out in February and the insurance", "comments"),
        ("Tom Ashby · March 2, 2024 at 6:40 pm", "comments"),
        ("Nineteen million for a wall that should have been built properly", "comments"),
        ("Priya Shah · March 3, 2024 at 7:02 am", "comments"),
        ("The farmers have a point about compensation", "comments"),
        ("Reply", "comments"),
    ],
    "newsletter_inline.html": [
        ("Get the Courier Briefing", "newsletter"),
        ("Sign up for our free morning newsletter", "newsletter"),
        ("Please wait...", "newsletter"),
        ("Thank you for signing up!", "newsletter"),
    ],
    "newsletter_modal.html": [
        ("Never miss a story", "newsletter"),
        ("Join 20,000 readers who get our weekly email", "newsletter"),
        ("Please wait...", "newsletter"),
        ("Thanks!", "newsletter"),
    ],
    "share_bar.html": [
        ("WhatsApp", "share"),
        ("Share this post:", "share"),
    ],
    "related_list.html": [
        ("Related articles", "related"),
        ("River levels rise after a week of heavy rain", "related"),
        ("You might also like:", "related"),
        ("Town hall meeting planned for residents", "related"),
        ("Bridge closure extended by a month", "related"),
    ],
    "cookie_banner.html": [
        ("We use cookies to improve your experience", "cookie"),
        ("Accept all", "cookie"),
        ("This site uses cookies for basic statistics", "cookie"),
    ],
    "captions_credits.html": [
        ("The old barrier at Millbrook failed twice", "caption"),
        ("Fields upstream of the town would be flooded on purpose", "caption"),
        ("Photograph: Getty Images", "caption"),
    ],
    "dateline_byline.html": [
        ("By Sam Hale", "byline"),
        ("Posted March 1, 2024 by Sam Hale", "byline"),
        ("MILLBROOK (Valley Courier) —", "dateline"),
        ("Reporting by Sam Hale; editing by Ruth Bell", "byline"),
    ],
}


def _blocks(name: str):
    return html_blocks((FIXTURES / name).read_text(encoding="utf-8"), StripConfig())


def _article_in(name: str) -> list[str]:
    html = (FIXTURES / name).read_text(encoding="utf-8")
    return [opening for opening in ARTICLE if opening in html]


def test_every_fixture_is_listed():
    assert sorted(p.name for p in FIXTURES.glob("*.html")) == sorted(CHROME)


@pytest.mark.parametrize("name", sorted(CHROME))
def test_article_stays(name):
    blocks = _blocks(name)
    kept = "\n".join(b.text for b in blocks if b.kept)
    assert len(_article_in(name)) >= 5
    for opening in _article_in(name):
        assert opening in kept, f"article paragraph dropped: {opening!r}"
        assert not any(opening in b.text for b in blocks if not b.kept), f"article paragraph also removed: {opening!r}"


@pytest.mark.parametrize("name", sorted(CHROME))
def test_chrome_goes_with_its_reason(name):
    blocks = _blocks(name)
    for snippet, reason in CHROME[name]:
        holding = [b for b in blocks if snippet in b.text]
        assert holding, f"fixture text not found as a block: {snippet!r}"
        for block in holding:
            assert not block.kept, f"chrome kept: {snippet!r}"
            assert block.reason == reason, f"{snippet!r} removed as {block.reason} ({block.rule}), want {reason}"


@pytest.mark.parametrize("name", sorted(CHROME))
def test_headline_is_not_article_text(name):
    kept = [b.text for b in _blocks(name) if b.kept]
    assert "Millbrook flood barrier to be rebuilt" not in kept


def test_host_template_recurring_on_many_pages_goes():
    """A tagline that html_blocks keeps on each page is removed once it recurs across the host's pages;
    the articles, different on each page, stay."""
    tagline = "Valley Notes: a local blog About · Archive"
    template = (FIXTURES / "forum_comments.html").read_text(encoding="utf-8")
    pages = []
    for i in range(3):
        html = template
        for opening in ARTICLE:
            html = html.replace(opening, f"In update {i}, {opening[0].lower()}{opening[1:]}")
        pages.append({"doc_id": f"d{i}", "source_path": f"{i}.html", "url": f"https://valleynotes.example.org/p/{i}",
                      "content_type": "html", "status": "ok", "content": html})
    documents = to_table(pages, INGESTED)
    rows = [{"doc_id": p["doc_id"], "block_index": j, "text": b.text, "kept": b.kept, "reason": b.reason,
             "rule": b.rule} for p in pages for j, b in enumerate(html_blocks(p["content"], StripConfig()))]
    blocks = to_table(rows, BLOCKS)
    assert any(r["kept"] for r in rows if r["text"] == tagline)
    marked = mark_templates(blocks, documents, StripConfig()).to_pylist()
    tagged = [r for r in marked if r["text"] == tagline]
    assert tagged and all(not r["kept"] and r["rule"] == "host_template" for r in tagged)
    article = [r for r in marked if re.match(r"In update \d, the river authority said", r["text"])]
    assert len(article) == 3 and all(r["kept"] for r in article)
