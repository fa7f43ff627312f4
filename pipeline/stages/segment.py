"""Stage 3, segment: kept blocks become numbered paragraphs with offsets in the stripped text.

A document's stripped text is its kept blocks joined by blank lines; ``char_start``/``char_end`` index
into it, so ``stripped[char_start:char_end] == text``.
"""
from __future__ import annotations

import pandas as pd
import pyarrow as pa

from pipeline.config import SegmentConfig
from pipeline.schema import PARAGRAPHS, to_table
from pipeline.text import text_hash, word_count

PARAGRAPH_SEPARATOR = "\n\n"


def segment(blocks: pa.Table, cfg: SegmentConfig) -> pa.Table:
    """Paragraphs of every document, from its kept blocks in order."""
    frame = blocks.to_pandas()
    frame = frame[frame["kept"]].sort_values(["doc_id", "block_index"], kind="stable")
    rows = []
    for doc_id, group in frame.groupby("doc_id", sort=True):
        texts = [t for t in (t.strip() for t in group["text"]) if len(t) >= cfg.min_chars]
        offset = 0
        for index, text in enumerate(texts):
            rows.append({"doc_id": doc_id, "para_index": index, "text": text, "char_start": offset,
                         "char_end": offset + len(text), "word_count": word_count(text), "text_hash": text_hash(text)})
            offset += len(text) + len(PARAGRAPH_SEPARATOR)
    return to_table(pd.DataFrame(rows, columns=[f.name for f in PARAGRAPHS]), PARAGRAPHS)


def stripped_text(paragraphs: list[str]) -> str:
    """The stripped text that paragraph offsets refer to."""
    return PARAGRAPH_SEPARATOR.join(paragraphs)
