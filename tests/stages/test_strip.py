"""Stage 2, strip: article text is kept, page chrome is removed with the reason a reader would give."""
from __future__ import annotations

import gc

import pandas as pd
import pytest

from pipeline.config import StripConfig
from pipeline.schema import BLOCKS, INGESTED, REMOVAL_REASONS, to_table
from pipeline.stages.strip import page_blocks, strip

# Real-looking article paragraphs (several sentences, 40+ words each) so that trafilatura keeps them.
BUS = (
    "The city council voted on Tuesday to expand the bus network into the eastern suburbs, ending a debate that "
    "has lasted for almost three years. The new routes will start running in the autumn, and officials expect "
    "them to carry several thousand passengers a day once the service is fully established."
)
PETITION = (
    "Residents of the eastern suburbs have long complained that they must drive into the centre for work, school "
    "and medical appointments. Local groups collected more than five thousand signatures last spring, and their "
    "petition was presented to the council at a packed public meeting in the town hall."
)
BUDGET = (
    "The expansion will cost about twelve million over five years, most of it for new vehicles and drivers. The "
    "finance committee said the money would come from the regional transport fund, and that fares on the existing "
    "routes would not rise to pay for the new service before the end of next year."
)
SUMMARY = (
    "Overall, the report gives a clear picture of how the network will change over the next decade and who "
    "will benefit from the new routes. It is well-written and informative."
)

RIVER_ARTICLE = [
    "Officials in the river towns north of the valley met on Tuesday",
    "The county emergency manager, Laura Mendes, said the risk depends",
    "Farmers along the lower river have already started moving equipment",
    "The state weather service expects to publish a revised outlook on Friday",
]
LIBRARY_ARTICLE = [
    "The central library will stay open until eight in the evening",
    "Head librarian Tomas Okafor said the longer hours were requested",
    "The extra hours will cost roughly forty thousand dollars a year",
    "Volunteers from the friends of the library group have also offered",
]


def documents(*pages: tuple[str, str, str], status: str = "ok") -> pd.DataFrame:
    rows = [{"doc_id": doc_id, "source_path": f"{doc_id}.{kind}", "content_type": kind, "status": status,
             "content": content} for doc_id, kind, content in pages]
    return to_table(pd.DataFrame(rows), INGESTED)


def strip_one(content: str, kind: str) -> pd.DataFrame:
    blocks = strip(documents(("doc", kind, content)), StripConfig())
    assert blocks.schema.names == BLOCKS.names
    frame = blocks.to_pandas()
    assert frame["block_index"].tolist() == list(range(len(frame))), "blocks are numbered in document order"
    return frame


def kept_text(frame: pd.DataFrame) -> str:
    return "\n\n".join(frame.loc[frame["kept"], "text"])


def removed_reason(frame: pd.DataFrame, needle: str) -> str:
    """The reason of the removed block holding ``needle``; fails when it is kept or absent."""
    hits = frame[frame["text"].str.contains(needle, regex=False)]
    assert len(hits), f"no block holds {needle!r}"
    assert not hits["kept"].any(), f"{needle!r} was kept: {hits['text'].tolist()}"
    reasons = set(hits["reason"])
    assert len(reasons) == 1, reasons
    return reasons.pop()


def assert_removed_reasons_are_known(frame: pd.DataFrame) -> None:
    removed = frame[~frame["kept"]]
    assert removed["reason"].isin(REMOVAL_REASONS).all(), set(removed["reason"])
    assert removed["rule"].map(lambda r: isinstance(r, str) and bool(r)).all()
    assert frame.loc[frame["kept"], "reason"].isna().all()


# ---------------------------------------------------------------- HTML pages


@pytest.fixture
def comments_page(fixtures_dir) -> pd.DataFrame:
    return strip_one((fixtures_dir / "article_comments.html").read_text(encoding="utf-8"), "html")


def test_html_article_paragraphs_are_kept_in_order(comments_page):
    kept = comments_page[comments_page["kept"]]["text"].tolist()
    positions = []
    for opening in RIVER_ARTICLE:
        matches = [i for i, text in enumerate(kept) if text.startswith(opening)]
        assert len(matches) == 1, f"article paragraph {opening!r} should be kept exactly once"
        positions.append(matches[0])
    assert positions == sorted(positions)
    assert_removed_reasons_are_known(comments_page)


@pytest.mark.parametrize(
    ("needle", "reason"),
    [
        ("We sandbagged the whole street", "comments"),
        ("Thanks for the reminder about the emergency bags", "comments"),
        ("Leave a Reply", "comments"),
        ("Your email address will not be published", "comments"),
        ("Subscribe to our newsletter", "newsletter"),
        ("Get the morning briefing in your inbox", "newsletter"),
        ("Please wait...", "newsletter"),
        ("Thank you for signing up!", "newsletter"),
        ("Share this:", "share"),
        ("Facebook", "share"),
    ],
)
def test_html_chrome_is_removed_with_its_reason(comments_page, needle, reason):
    assert removed_reason(comments_page, needle) == reason


def test_html_comment_thread_never_reaches_the_kept_text(comments_page):
    text = kept_text(comments_page)
    for leak in ("sandbagged", "emergency bags, my kids", "says:", "Leave a Reply", "Subscribe", "Please wait",
                 "Thank you for signing up", "Share this"):
        assert leak not in text


@pytest.fixture
def inline_widgets_page(fixtures_dir) -> pd.DataFrame:
    return strip_one((fixtures_dir / "article_inline_widgets.html").read_text(encoding="utf-8"), "html")


def test_widgets_without_telling_class_names_are_removed_by_their_text(inline_widgets_page):
    page = inline_widgets_page
    kept = kept_text(page)
    for opening in LIBRARY_ARTICLE:
        assert opening in kept
    assert removed_reason(page, "Subscribe to our newsletter") == "newsletter"
    assert removed_reason(page, "Please wait...") == "newsletter"
    assert removed_reason(page, "Thank you for signing up!") == "newsletter"
    assert removed_reason(page, "WhatsApp") == "share"
    assert_removed_reasons_are_known(page)


# ---------------------------------------------------------------- plain text


@pytest.mark.parametrize("dateline", ["CNN  —", "CNN\u00a0 —\u00a0", "LONDON —"])
def test_dateline_and_the_caption_above_it_are_removed(dateline):
    caption = "Commuters wait for a bus outside the central station in March 2024."
    frame = strip_one(f"{caption}\n{dateline}\n\n{BUS}\n\n{PETITION}\n", "text")
    assert removed_reason(frame, dateline.strip()) == "dateline"
    # The caption of the lead photo goes too (the pipeline names it a caption; the gold calls the pair a dateline).
    assert removed_reason(frame, caption) in {"caption", "dateline"}
    assert frame.loc[frame["kept"], "text"].tolist() == [BUS, PETITION]


def test_dateline_opening_a_paragraph_is_cut_off_and_the_paragraph_kept():
    frame = strip_one(f"WASHINGTON (Reuters) — {BUS}\n\n{PETITION}\n", "text")
    assert removed_reason(frame, "WASHINGTON") == "dateline"
    assert frame.loc[frame["kept"], "text"].tolist() == [BUS, PETITION]


def test_glued_share_text_is_split_off_and_the_paragraph_kept():
    frame = strip_one(f"{BUS}\n\n{SUMMARY}shareGoogle it\n\n{PETITION}\n", "text")
    assert frame.loc[frame["kept"], "text"].tolist() == [BUS, SUMMARY, PETITION]
    assert removed_reason(frame, "shareGoogle it") == "share"
    assert "Google it" not in kept_text(frame)


def test_comment_form_lines_are_comments():
    content = (f"{BUS}\n\n{PETITION}\n\nLeave a comment\n\n"
               "This site uses Akismet to reduce spam. Learn how your comment data is processed.\n")
    frame = strip_one(content, "text")
    assert frame.loc[frame["kept"], "text"].tolist() == [BUS, PETITION]
    assert removed_reason(frame, "Leave a comment") == "comments"
    assert removed_reason(frame, "Akismet") == "comments"


def test_indented_comment_thread_is_removed_to_the_end():
    content = (
        f"{BUS}\n\n{PETITION}\n\n{BUDGET}\n\n"
        "    Great news for the suburbs, about time the council listened to the people who actually live out here.\n\n"
        "    Jimbo_77\n      3 months ago\n\n"
        "      I doubt the buses will run on time, they never do on the existing routes and nobody is ever fined.\n\n"
        "      Totally agree with this, the number 12 was late every single morning last winter.\n"
    )
    frame = strip_one(content, "text")
    assert frame.loc[frame["kept"], "text"].tolist() == [BUS, PETITION, BUDGET]
    for needle in ("Great news for the suburbs", "3 months ago", "I doubt the buses", "Totally agree"):
        assert removed_reason(frame, needle) == "comments"


def test_byline_with_agency_is_removed():
    frame = strip_one(f"{BUS}\n\n{PETITION}\n\nJane Doe, with AFP\n", "text")
    assert removed_reason(frame, "Jane Doe") == "byline"
    assert frame.loc[frame["kept"], "text"].tolist() == [BUS, PETITION]


def test_newsletter_widget_in_plain_text_takes_its_form_states_along():
    content = (f"{BUS}\n\n{PETITION}\n\nSubscribe to our newsletter\n\nNewsletter signup\n\n"
               "Please wait...\n\nThank you for sign up!\n")
    frame = strip_one(content, "text")
    assert frame.loc[frame["kept"], "text"].tolist() == [BUS, PETITION]
    for needle in ("Subscribe to our newsletter", "Newsletter signup", "Please wait...", "Thank you for sign up!"):
        assert removed_reason(frame, needle) == "newsletter"


def test_article_prose_that_mentions_a_newsletter_or_comments_is_kept():
    prose = (
        "The mayor said the council newsletter, which reaches forty thousand homes every month, would carry a "
        "full timetable of the new routes, and that residents could leave a comment on the plans at any library "
        "until the end of the consultation in June."
    )
    frame = strip_one(f"{BUS}\n\n{prose}\n", "text")
    assert frame.loc[frame["kept"], "text"].tolist() == [BUS, prose]


def test_plain_text_without_chrome_is_kept_whole():
    frame = strip_one(f"{BUS}\n\n{PETITION}\n\n{BUDGET}\n", "text")
    assert frame["kept"].all()
    assert frame["text"].tolist() == [BUS, PETITION, BUDGET]


# ---------------------------------------------------------------- the stage as a whole


def test_only_readable_documents_get_blocks_and_blocks_keep_their_document():
    table = to_table(pd.DataFrame([
        {"doc_id": "good", "source_path": "good.txt", "content_type": "text", "status": "ok",
         "content": f"{BUS}\n\n{PETITION}\n"},
        {"doc_id": "bad", "source_path": "bad.html", "content_type": "html", "status": "quarantined",
         "error": "binary content (PNG image), not text"},
        {"doc_id": "skip", "source_path": "skip.csv", "content_type": ".csv", "status": "skipped",
         "error": "unsupported file type '.csv'"},
        {"doc_id": "other", "source_path": "other.txt", "content_type": "text", "status": "ok",
         "content": f"{BUDGET}\n"},
    ]), INGESTED)
    blocks = strip(table, StripConfig()).to_pandas()
    assert set(blocks["doc_id"]) == {"good", "other"}
    assert blocks[blocks["doc_id"] == "good"]["text"].tolist() == [BUS, PETITION]
    assert blocks[blocks["doc_id"] == "other"]["text"].tolist() == [BUDGET]
    for _, group in blocks.groupby("doc_id"):
        assert group["block_index"].tolist() == list(range(len(group)))


def test_empty_batch_gives_an_empty_table_with_the_schema():
    blocks = strip(INGESTED.empty_table(), StripConfig())
    assert blocks.num_rows == 0
    assert blocks.schema.names == BLOCKS.names


# ---------------------------------------------------------------- the garbage collector


@pytest.fixture
def collector_passes():
    """Counts the garbage collector's passes while the test runs."""
    passes = []
    callback = lambda phase, info: passes.append(info["generation"]) if phase == "start" else None  # noqa: E731
    gc.callbacks.append(callback)
    yield passes
    gc.callbacks.remove(callback)


def test_a_page_is_judged_without_a_collector_pass_and_the_collector_is_on_again(collector_passes):
    """A page's objects go by their reference counts: the collector's passes while it is judged (thousands of
    objects made on a long page, a pass every few hundred) would find nothing to free. What the page leaves
    in the run's caches may bring one pass once the collector is on again."""
    def long_page(paragraphs: int) -> str:
        body = "".join(f"<p>{BUS} It is item {i}.</p>" for i in range(paragraphs))
        return (f"<html><head><title>Buses</title></head><body><nav><a href='/'>Home</a></nav>"
                f"<article>{body}</article></body></html>")

    blocks = page_blocks("doc", long_page(600), "html", StripConfig())
    assert len(collector_passes) <= 1
    assert gc.isenabled()
    assert blocks.column("kept").to_pylist().count(True) == 600


def test_the_collector_stays_off_when_the_caller_had_turned_it_off(fixtures_dir):
    gc.disable()
    try:
        strip_one((fixtures_dir / "article_comments.html").read_text(encoding="utf-8"), "html")
        assert not gc.isenabled()
    finally:
        gc.enable()
