"""Stage 3, segment: kept blocks become numbered paragraphs whose offsets index the stripped text."""
from __future__ import annotations

import pandas as pd

from pipeline.config import SegmentConfig
from pipeline.schema import BLOCKS, PARAGRAPHS, to_table
from pipeline.stages.segment import PARAGRAPH_SEPARATOR, segment, stripped_text
from pipeline.text import text_hash


def blocks(rows: list[tuple[str, int, str, bool]]):
    """``(doc_id, block_index, text, kept)`` rows -> a BLOCKS table."""
    return to_table(pd.DataFrame([
        {"doc_id": d, "block_index": i, "text": t, "kept": k, "reason": None if k else "share",
         "rule": None if k else "share_button_text"}
        for d, i, t, k in rows
    ]), BLOCKS)


ROWS = [
    ("doc-b", 0, "Second document, first paragraph with nine words in it.", True),
    ("doc-a", 0, "The harbour authority announced the old ferry terminal will go.", True),
    ("doc-a", 1, "Share Facebook Twitter", False),
    ("doc-a", 2, "  Engineers found the foundations weakened by decades of salt water.  ", True),
    ("doc-a", 3, "Ferry passengers will use a temporary pier on the western side.", True),
    ("doc-b", 1, "Leave a comment", False),
    ("doc-b", 2, "And a second paragraph, “quoted” and all.", True),
]


def test_offsets_index_the_stripped_text():
    paras = segment(blocks(ROWS), SegmentConfig()).to_pandas()
    assert len(paras) == 5
    for _, group in paras.groupby("doc_id"):
        texts = group.sort_values("para_index")["text"].tolist()
        stripped = stripped_text(texts)
        assert stripped == PARAGRAPH_SEPARATOR.join(texts) and PARAGRAPH_SEPARATOR == "\n\n"
        for para in group.itertuples():
            assert stripped[para.char_start:para.char_end] == para.text
        # Consecutive paragraphs are exactly one separator apart, and the first starts at 0.
        starts, ends = group["char_start"].tolist(), group["char_end"].tolist()
        assert starts[0] == 0
        assert all(s == e + len(PARAGRAPH_SEPARATOR) for s, e in zip(starts[1:], ends[:-1]))
        assert ends[-1] == len(stripped)


def test_only_kept_blocks_become_paragraphs_numbered_from_zero_per_document():
    paras = segment(blocks(ROWS), SegmentConfig()).to_pandas()
    by_doc = {d: g.sort_values("para_index") for d, g in paras.groupby("doc_id")}
    assert by_doc["doc-a"]["para_index"].tolist() == [0, 1, 2]
    assert by_doc["doc-b"]["para_index"].tolist() == [0, 1]
    assert by_doc["doc-a"]["text"].tolist() == [
        "The harbour authority announced the old ferry terminal will go.",
        "Engineers found the foundations weakened by decades of salt water.",
        "Ferry passengers will use a temporary pier on the western side.",
    ]
    assert not paras["text"].str.contains("Share Facebook|Leave a comment").any()


def test_word_count_and_text_hash():
    paras = segment(blocks(ROWS), SegmentConfig()).to_pandas().set_index(["doc_id", "para_index"])
    assert paras["word_count"].to_dict() == {
        ("doc-a", 0): 10, ("doc-a", 1): 10, ("doc-a", 2): 11, ("doc-b", 0): 9, ("doc-b", 1): 7,
    }
    for para in paras.itertuples():
        assert para.text_hash == text_hash(para.text)


def test_text_hash_folds_case_quotes_and_spacing_only():
    base = "It’s the “new” bus network — it opens in May."
    assert text_hash(base) == text_hash('it\'s the "NEW" bus network - it opens in may.')
    assert text_hash(base) == text_hash("It's  the \"new\"\nbus network — it opens in May.")
    assert text_hash(base) != text_hash("It’s the “old” bus network — it opens in May.")


def test_equal_hash_for_paragraphs_differing_in_case_and_quotes_across_documents():
    rows = [
        ("x", 0, "“The ferry terminal will close,” the authority’s spokesman said on Monday.", True),
        ("y", 0, '"THE FERRY TERMINAL WILL CLOSE," the authority\'s spokesman said on Monday.', True),
        ("y", 1, "The ferry terminal will stay open, the authority's spokesman said on Monday.", True),
    ]
    paras = segment(blocks(rows), SegmentConfig()).to_pandas().set_index(["doc_id", "para_index"])
    assert paras.loc[("x", 0), "text_hash"] == paras.loc[("y", 0), "text_hash"]
    assert paras.loc[("x", 0), "text_hash"] != paras.loc[("y", 1), "text_hash"]


def test_blocks_shorter_than_min_chars_are_dropped_without_gaps_in_numbering():
    rows = [
        ("d", 0, "A first paragraph long enough to count.", True),
        ("d", 1, "Ok", True),
        ("d", 2, "A third paragraph, also long enough.", True),
    ]
    paras = segment(blocks(rows), SegmentConfig(min_chars=5)).to_pandas()
    assert paras["para_index"].tolist() == [0, 1]
    assert paras["text"].tolist() == ["A first paragraph long enough to count.", "A third paragraph, also long enough."]
    stripped = stripped_text(paras["text"].tolist())
    assert all(stripped[p.char_start:p.char_end] == p.text for p in paras.itertuples())


def test_block_order_not_row_order_decides_paragraph_order():
    rows = [("d", 2, "Third block text here.", True), ("d", 0, "First block text here.", True),
            ("d", 1, "Second block text here.", True)]
    paras = segment(blocks(rows), SegmentConfig()).to_pandas()
    assert paras["text"].tolist() == ["First block text here.", "Second block text here.", "Third block text here."]


def test_schema_and_empty_input():
    table = segment(BLOCKS.empty_table(), SegmentConfig())
    assert table.num_rows == 0
    assert table.schema.names == PARAGRAPHS.names
    assert segment(blocks(ROWS), SegmentConfig()).schema.names == PARAGRAPHS.names
