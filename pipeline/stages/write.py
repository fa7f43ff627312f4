"""Stage 6, write: the three handoff tables of a run.

``documents`` (one row per input document, with status and lineage), ``provenance`` (one row per
kept paragraph) and ``removed`` (one row per removed block, with its reason). The runner publishes
them as the run's partitions (see ``pipeline.state``).
"""
from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.schema import DOCUMENTS, LABELS, REMOVED, to_table

def document_lineage(documents: pa.Table, blocks: pa.Table, provenance: pa.Table) -> pa.Table:
    """The documents table: ingest rows (without content) with paragraph counts, label shares and sources."""
    docs = documents.drop_columns(["content"]).to_pandas()
    prov = provenance.select(["doc_id", "label", "source_doc_id"]).to_pandas()
    prov["label"] = prov["label"].astype(str)
    removed = blocks.filter(pc.invert(blocks.column("kept"))).to_pandas()
    counts = prov.groupby("doc_id").size()
    docs["n_paragraphs"] = docs["doc_id"].map(counts).fillna(0).astype(int)
    docs["n_removed"] = docs["doc_id"].map(removed.groupby("doc_id").size()).fillna(0).astype(int)
    docs["title"] = docs["doc_id"].map(removed[removed["reason"] == "title"].groupby("doc_id")["text"].first())
    for label in LABELS:
        share = prov[prov["label"] == label].groupby("doc_id").size() / counts
        docs[f"share_{label}"] = docs["doc_id"].map(share).fillna(0.0).where(docs["n_paragraphs"] > 0)
    sources = prov.dropna(subset=["source_doc_id"]).groupby("doc_id")["source_doc_id"].agg(lambda s: sorted(set(s)))
    docs["derived_from"] = [sources.get(d, []) for d in docs["doc_id"]]
    ok = docs["status"] == "ok"
    for column in ("n_paragraphs", "n_removed", *(f"share_{label}" for label in LABELS)):
        docs[column] = docs[column].where(ok, None)
    return to_table(docs.sort_values("source_path", kind="stable"), DOCUMENTS)


def removed_blocks(blocks: pa.Table) -> pa.Table:
    """One row per removed block."""
    frame = blocks.filter(pc.invert(blocks.column("kept"))).to_pandas()
    return to_table(frame, REMOVED)


def handoff_tables(documents: pa.Table, blocks: pa.Table, provenance: pa.Table) -> dict[str, pa.Table]:
    """The tables a run hands off, by name."""
    return {
        "documents": document_lineage(documents, blocks, provenance),
        "provenance": provenance,
        "removed": removed_blocks(blocks),
    }
