"""Stage 2, strip: documents become blocks, each kept (article text) or removed with a reason.

Nothing is deleted: removed blocks stay in the output with the rule that decided, and become the
``removed`` handoff table.
"""
from __future__ import annotations

import pandas as pd
import pyarrow as pa

from pipeline.boilerplate.blocks import Block
from pipeline.boilerplate.html import html_blocks
from pipeline.boilerplate.plaintext import text_blocks
from pipeline.config import StripConfig
from pipeline.schema import BLOCKS, to_table


def strip(documents: pa.Table, cfg: StripConfig) -> pa.Table:
    """Blocks of every readable document (``status == "ok"``), in document order."""
    rows = []
    for doc in documents.select(["doc_id", "status", "content_type", "content"]).to_pylist():
        if doc["status"] == "ok":
            rows.extend(block_rows(doc["doc_id"], doc["content"], doc["content_type"], cfg))
    return blocks_table(rows)


def blocks_table(rows: list[dict]) -> pa.Table:
    return to_table(pd.DataFrame(rows, columns=[f.name for f in BLOCKS]), BLOCKS)


def block_rows(doc_id: str, content: str, content_type: str, cfg: StripConfig) -> list[dict]:
    """The ``BLOCKS`` rows of one document (the unit of work a sandboxed worker runs)."""
    return [
        {"doc_id": doc_id, "block_index": index, "text": block.text, "kept": block.kept,
         "reason": block.reason, "rule": block.rule}
        for index, block in enumerate(document_blocks(content, content_type, cfg))
    ]


def document_blocks(content: str, content_type: str, cfg: StripConfig) -> list[Block]:
    """The blocks of one page, by its content type."""
    if content_type == "html":
        return html_blocks(content, cfg)
    return text_blocks(content, cfg)
