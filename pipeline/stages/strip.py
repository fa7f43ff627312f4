"""Stage 2, strip: documents become blocks, each kept (article text) or removed with a reason.

Two pure functions: ``strip`` judges each document on its own (a batch in, its blocks out) and
``mark_templates`` then looks across all documents for blocks that recur on many pages of one host.
Nothing is deleted: removed blocks stay in the output with the rule that decided, and become the
``removed`` handoff table.
"""
from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.boilerplate.blocks import Block
from pipeline.boilerplate.html import html_blocks
from pipeline.boilerplate.plaintext import text_blocks
from pipeline.boilerplate.rules import block_verdict
from pipeline.boilerplate.templates import host_of, normalized_block, template_blocks
from pipeline.config import StripConfig
from pipeline.schema import BLOCKS


def strip(documents: pa.Table, cfg: StripConfig) -> pa.Table:
    """Blocks of every readable document (``status == "ok"``), in document order."""
    docs = documents.select(["doc_id", "status", "content_type", "content"]).to_pylist()
    return concat_blocks([page_blocks(d["doc_id"], d["content"], d["content_type"], cfg)
                          for d in docs if d["status"] == "ok"])


def page_blocks(doc_id: str, content: str, content_type: str, cfg: StripConfig) -> pa.Table:
    """The BLOCKS rows of one page.

    Rows of a table rather than ``Block`` objects: a batch's worth of those (hundreds of thousands), held
    until the batch ends, would be walked again by every full pass of the garbage collector in between.
    """
    with _collector_paused():
        return blocks_table([(doc_id, document_blocks(content, content_type, cfg))])


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The garbage collector off while one page is judged, as it was before afterwards.

    A page's objects (its tree's element proxies, paragraphs, spans, trafilatura's copies) all live until it
    is judged and then go by their reference counts, so the collector's passes in between find nothing to
    free; but they come often (every few hundred objects made), and each one that reaches the oldest
    generation walks every object of the process. A cycle a page does make is still collected, by the first
    pass after it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def concat_blocks(tables: list[pa.Table]) -> pa.Table:
    """One BLOCKS table of the pages' tables, in order."""
    return pa.concat_tables(tables).combine_chunks() if tables else BLOCKS.empty_table()


def blocks_table(judged: list[tuple[str, list[Block]]]) -> pa.Table:
    """The BLOCKS table of (doc_id, blocks in order) pairs."""
    columns: dict[str, list] = {f.name: [] for f in BLOCKS}
    for doc_id, blocks in judged:
        columns["doc_id"] += [doc_id] * len(blocks)
        columns["block_index"] += range(len(blocks))
        if blocks:
            texts, kept, reasons, rules, _ = zip(*blocks)  # a block is a tuple: its fields, transposed in C
            columns["text"] += texts
            columns["kept"] += kept
            columns["reason"] += reasons
            columns["rule"] += rules
    return pa.Table.from_pydict(columns, schema=BLOCKS)


def document_blocks(content: str, content_type: str, cfg: StripConfig) -> list[Block]:
    """The blocks of one page, by its content type."""
    if content_type == "html":
        return html_blocks(content, cfg)
    return text_blocks(content, cfg)


def mark_templates(blocks: pa.Table, documents: pa.Table, cfg: StripConfig,
                   earlier: dict[str, tuple[str | None, list[str]]] | None = None) -> pa.Table:
    """Kept blocks whose text recurs on many pages of the same host (from the ``url`` column) are removed.

    Counting sees every block, kept or not: a menu that one page's extractor dropped and another's kept
    is still the same menu. ``earlier`` adds the pages of earlier runs (doc_id -> (host, block texts)),
    so that a nightly run of a few pages still knows the site. The reason is what the text rules say,
    else navigation (site template).
    """
    hosts = {row["doc_id"]: host_of(row["url"]) for row in documents.select(["doc_id", "url"]).to_pylist()}
    pages = _block_texts_by_doc(blocks)
    all_hosts = dict(hosts)
    for doc_id, (host, earlier_texts) in (earlier or {}).items():
        if doc_id not in pages:
            pages[doc_id], all_hosts[doc_id] = earlier_texts, host
    templates = template_blocks(pages, all_hosts, cfg.template_min_pages, cfg.template_min_share)
    if not templates:
        return blocks
    kept, reasons, rules = (blocks.column(c).to_pylist() for c in ("kept", "reason", "rule"))
    rows = _kept_rows_of(blocks, [doc_id for doc_id, host in hosts.items() if host in templates])
    picked = blocks.select(["doc_id", "text"]).take(rows)
    for i, doc_id, text in zip(rows, picked.column("doc_id").to_pylist(), picked.column("text").to_pylist()):
        if normalized_block(text) in templates[hosts[doc_id]]:
            verdict = block_verdict(text, cfg)
            kept[i], reasons[i], rules[i] = False, verdict.reason if verdict else "navigation", "host_template"
    for name, values in (("kept", kept), ("reason", reasons), ("rule", rules)):
        index = blocks.schema.get_field_index(name)
        blocks = blocks.set_column(index, blocks.schema.field(name), pa.array(values, blocks.schema.field(name).type))
    return blocks


def _block_texts_by_doc(blocks: pa.Table) -> dict[str, list[str]]:
    """Each document's block texts, grouped by Arrow (a run has hundreds of thousands of blocks); the
    order within a document does not matter to the template count."""
    grouped = blocks.select(["doc_id", "text"]).group_by("doc_id").aggregate([("text", "list")])
    return dict(zip(grouped.column("doc_id").to_pylist(), grouped.column("text_list").to_pylist()))


def _kept_rows_of(blocks: pa.Table, doc_ids: list[str]) -> list[int]:
    """Indexes of the kept blocks of these documents: the only ones a host's template can remove."""
    mask = pc.and_(blocks.column("kept"), pc.is_in(blocks.column("doc_id"), value_set=pa.array(doc_ids, pa.string())))
    return pc.indices_nonzero(mask).to_pylist()
