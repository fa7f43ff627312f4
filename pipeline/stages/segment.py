"""Stage 3, segment: kept blocks become numbered paragraphs with offsets in the stripped text.

A document's stripped text is its kept blocks joined by blank lines; ``char_start``/``char_end`` index
into it, so ``stripped[char_start:char_end] == text``.
"""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.config import SegmentConfig
from pipeline.schema import PARAGRAPHS
from pipeline.text import word_count_and_hash

PARAGRAPH_SEPARATOR = "\n\n"


def segment(blocks: pa.Table, cfg: SegmentConfig) -> pa.Table:
    """Paragraphs of every document, from its kept blocks in order (documents in ``doc_id`` order)."""
    kept = blocks.filter(pc.equal(blocks["kept"], True)).sort_by([("doc_id", "ascending"), ("block_index", "ascending")])
    doc_ids, indexes, texts, starts, ends, counts, hashes = ([] for _ in range(7))  # PARAGRAPHS' columns
    current, index, offset = None, 0, 0
    for doc_id, text in zip(kept["doc_id"].to_pylist(), kept["text"].to_pylist()):
        text = text.strip()
        if len(text) < cfg.min_chars:
            continue
        if doc_id != current:
            current, index, offset = doc_id, 0, 0
        count, hashed = word_count_and_hash(text)
        end = offset + len(text)
        doc_ids.append(doc_id)
        indexes.append(index)
        texts.append(text)
        starts.append(offset)
        ends.append(end)
        counts.append(count)
        hashes.append(hashed)
        index, offset = index + 1, end + len(PARAGRAPH_SEPARATOR)
    columns = (doc_ids, indexes, texts, starts, ends, counts, hashes)
    return pa.Table.from_pydict(dict(zip(PARAGRAPHS.names, columns)), schema=PARAGRAPHS)


def stripped_text(paragraphs: list[str]) -> str:
    """The stripped text that paragraph offsets refer to."""
    return PARAGRAPH_SEPARATOR.join(paragraphs)
