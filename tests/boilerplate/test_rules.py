"""Text rules that recognise page chrome from one block's own text, whatever the page format."""
from __future__ import annotations

import pytest

from pipeline.boilerplate.rules import (
    block_verdict,
    dateline_prefix,
    is_comment_header,
    is_form_state,
    trailing_share,
)
from pipeline.config import StripConfig
from pipeline.schema import REMOVAL_REASONS

STRIP = StripConfig()

ARTICLE = (
    "The city council voted on Tuesday to expand the bus network into the eastern suburbs, ending a debate that "
    "has lasted for almost three years. The new routes will start running in the autumn."
)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Leave a comment", "comments"),
        ("Leave a Reply", "comments"),
        ("This site uses Akismet to reduce spam. Learn how your comment data is processed.", "comments"),
        ("Your email address will not be published. Required fields are marked *", "comments"),
        ("12 Comments", "comments"),
        ("Jimbo_77\n   3 months ago", "comments"),
        ("Subscribe to our newsletter", "newsletter"),
        ("Newsletter signup", "newsletter"),
        ("Enter your email address to get the morning briefing", "newsletter"),
        ("Thank you for signing up!", "newsletter"),
        ("Share", "share"),
        ("Share on Facebook | Twitter | WhatsApp", "share"),
        ("Tweet Email Print", "share"),
        ("CNN  —", "dateline"),
        ("CNN\u00a0 —\u00a0", "dateline"),
        ("PARIS (AFP) —", "dateline"),
        ("15 Dec, 2025", "dateline"),
        ("Updated: March 5, 2024 at 9:30 am EST", "dateline"),
        ("Monday, January 22nd, 2019", "dateline"),
        ("November 20, 2019 - 11:28 AMT", "dateline"),
        ("Jane Doe, with AFP", "byline"),
        ("By John Smith", "byline"),
        ("Posted by David at December 16, 2025 11:15 AM", "byline"),
        ("Reporting by Anna Kowalski; editing by Mark Hale", "byline"),
        ("We use cookies to improve your experience. Accept all", "cookie"),
        ("Skip to content", "navigation"),
        ("Read more", "related"),
        ("© 2024 The Valley Ledger. All rights reserved.", "navigation"),
    ],
)
def test_chrome_is_recognised_with_its_reason(text, reason):
    verdict = block_verdict(text, STRIP)
    assert verdict is not None, f"{text!r} should be recognised as {reason}"
    assert verdict.reason == reason
    assert verdict.reason in REMOVAL_REASONS
    assert verdict.rule


@pytest.mark.parametrize(
    "text",
    [
        ARTICLE,
        "The mayor said the council newsletter, which reaches forty thousand homes every month, would carry a full "
        "timetable of the new routes when they open in the autumn.",
        "Critics said the plan had been rushed, and several councillors asked to share the costs with neighbouring "
        "towns before any contract was signed.",
        "An unreliable partner",
        "Armenia Walks a Tightrope Between Russia and the West",
        "Three years ago the council first promised the new routes, and residents have waited ever since for a date.",
        "March 5, 2024 was the day the first bus ran.",
        "3/1/2016",
        "By combining these strategies, riders can save an hour a week.",
        "By the end of the year the new routes should carry ten thousand people a day.",
    ],
)
def test_article_text_is_not_chrome(text):
    assert block_verdict(text, STRIP) is None


def test_widget_words_in_a_long_block_do_not_remove_it():
    long_block = "Subscribe to our newsletter " + " ".join(["and read about the council meeting"] * 8)
    assert block_verdict(long_block, STRIP) is None
    assert block_verdict("Subscribe to our newsletter", STRIP).reason == "newsletter"


def test_comment_header_is_a_short_line_with_a_relative_time_or_votes():
    assert is_comment_header("• ☆ Yσɠƚԋσʂ ☆\n      -88 months ago", STRIP.max_comment_header_words)
    assert is_comment_header("Marta said 2 hours ago", STRIP.max_comment_header_words)
    assert is_comment_header("+12", STRIP.max_comment_header_words)
    assert not is_comment_header(ARTICLE, STRIP.max_comment_header_words)
    assert not is_comment_header(
        "Two months ago the council approved the plan after a long debate that lasted well into the night and "
        "left many residents unhappy with the outcome.",
        STRIP.max_comment_header_words,
    )


@pytest.mark.parametrize("text", ["Please wait...", "Thank you!", "Loading...", "Something went wrong, try again"])
def test_form_states_are_recognised(text):
    assert is_form_state(text)


def test_an_ordinary_sentence_is_not_a_form_state():
    assert not is_form_state("Thank you to everyone who came to the meeting on Tuesday.")


def test_trailing_share_text_is_found_where_it_starts():
    paragraph = "Overall, the article provides a good overview of the situation. It is well-written and informative."
    text = paragraph + "shareGoogle it"
    at = trailing_share(text, STRIP.min_share_prefix_words)
    assert at == len(paragraph)
    assert text[:at] == paragraph
    assert trailing_share(paragraph + " Share Facebook Twitter", STRIP.min_share_prefix_words) == len(paragraph) + 1


def test_a_generic_word_after_a_sentence_is_not_share_text():
    assert trailing_share("The minister said the report was ready. Print", STRIP.min_share_prefix_words) is None
    assert trailing_share(ARTICLE, STRIP.min_share_prefix_words) is None


def test_dateline_prefix_length_covers_only_the_dateline():
    body = "The council voted on Tuesday to expand the bus network."
    for dateline in ("WASHINGTON (Reuters) — ", "KYIV, UKRAINE — ", "LONDON -- "):
        assert dateline_prefix(dateline + body) == len(dateline)
    assert dateline_prefix(body) == 0
