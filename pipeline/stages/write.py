"""Stage 6, write: what a run changes in each table of the output folder.

``documents`` (one row per input document, with status and lineage), ``provenance`` (one row per
kept paragraph) and ``removed`` (one row per removed block, with its reason) gain the run's new rows.
Earlier paragraphs that the run's documents reclassify differently are revised: their new rows replace
the old ones, which go to ``provenance_history`` with the reason. The runner commits all of it at once
(``pipeline.io.snapshots``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.boilerplate.templates import host_of
from pipeline.io.snapshots import Change
from pipeline.schema import DOCUMENTS, LABELS, REMOVED, STORED, to_table

_DECISION = ("label", "source_doc_id", "source_para_index", "direct_doc_id", "direct_para_index", "method")
"""What a revision is about. A score that moves while these stay is not republished: the table would
churn, and its history fill, with every new neighbour of a popular source."""

def document_lineage(documents: pa.Table, blocks: pa.Table, provenance: pa.Table) -> pa.Table:
    """The documents table: ingest rows (without content) with host, paragraph counts, characters kept and
    removed, label shares and sources."""
    docs = documents.drop_columns(["content"]).to_pandas()
    removed = blocks.filter(pc.invert(blocks.column("kept"))).to_pandas()
    docs["n_removed"] = docs["doc_id"].map(removed.groupby("doc_id").size()).fillna(0).astype(int)
    docs["host"] = docs["url"].map(host_of, na_action="ignore")
    docs["title"] = docs["doc_id"].map(removed[removed["reason"] == "title"].groupby("doc_id")["text"].first())
    chars = blocks.select(["doc_id", "kept", "text"]).to_pandas()
    chars = chars.assign(n=chars["text"].str.len()).pivot_table(index="doc_id", columns="kept", values="n", aggfunc="sum")
    for column, kept in (("chars_kept", True), ("chars_removed", False)):
        docs[column] = docs["doc_id"].map(chars[kept] if kept in chars else {}).fillna(0).astype(int)
    docs = _with_label_lineage(docs, provenance)
    ok = docs["status"] == "ok"
    for column in ("n_removed", "chars_kept", "chars_removed"):
        docs[column] = docs[column].where(ok, None)
    return to_table(docs.sort_values("source_path", kind="stable"), DOCUMENTS)


def _with_label_lineage(docs: pd.DataFrame, provenance: pa.Table) -> pd.DataFrame:
    """Paragraph counts, label shares and root sources of each document, from its provenance rows."""
    prov = provenance.select(["doc_id", "label", "source_doc_id"]).to_pandas()
    prov["label"] = prov["label"].astype(str)
    counts = prov.groupby("doc_id").size()
    docs["n_paragraphs"] = docs["doc_id"].map(counts).fillna(0).astype(int)
    for label in LABELS:
        share = prov[prov["label"] == label].groupby("doc_id").size() / counts
        docs[f"share_{label}"] = docs["doc_id"].map(share).fillna(0.0).where(docs["n_paragraphs"] > 0)
    sources = prov.dropna(subset=["source_doc_id"]).groupby("doc_id")["source_doc_id"].agg(lambda s: sorted(set(s)))
    docs["derived_from"] = [sources.get(d, []) for d in docs["doc_id"]]
    ok = docs["status"] == "ok"
    for column in ("n_paragraphs", *(f"share_{label}" for label in LABELS)):
        docs[column] = docs[column].where(ok, None)
    return docs


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


@dataclass(frozen=True)
class Revision:
    """Earlier documents whose paragraphs a run reclassified differently."""

    rows: pa.Table
    """Every provenance row of the revised documents (stored schema); unchanged rows keep their run id."""
    superseded: pa.Table
    """The replaced rows, as ``provenance_history`` rows."""
    documents: frozenset[str]


def revise(current: pa.Table, fresh: pa.Table, run_id: str, now: datetime) -> Revision:
    """Compare the current rows of earlier documents with their new classification (``fresh``).

    A row is revised when its label, root, direct source or method changes (its new scores come with
    it); documents none of whose rows change are left alone.
    """
    old = current.to_pandas()
    key = ["doc_id", "para_index"]
    new = fresh.filter(pc.is_in(fresh.column("doc_id"), value_set=current.column("doc_id").unique())).to_pandas()
    if old.empty or new.empty:
        return Revision(STORED["provenance"].empty_table(), STORED["provenance_history"].empty_table(), frozenset())
    both = old.merge(new, on=key, suffixes=("", "_new"), how="inner")
    changed = np.zeros(len(both), dtype=bool)
    for column in _DECISION:
        changed |= ~_same(both[column], both[f"{column}_new"])
    if not changed.any():
        return Revision(STORED["provenance"].empty_table(), STORED["provenance_history"].empty_table(), frozenset())
    documents = frozenset(both.loc[changed, "doc_id"])
    rows = new[new["doc_id"].isin(documents)].merge(old[key + ["run_id"]], on=key, how="left")
    revised_keys = set(map(tuple, both.loc[changed, key].itertuples(index=False)))
    rows["run_id"] = [run_id if (d, int(i)) in revised_keys else r
                      for d, i, r in zip(rows["doc_id"], rows["para_index"], rows["run_id"])]
    gone = both.loc[changed].copy()
    gone["revision_reason"] = [_reason(r) for r in gone.itertuples(index=False)]
    history = old.merge(gone[key + ["revision_reason"]], on=key)
    history["superseded_by_run"] = run_id
    history["superseded_at"] = now
    return Revision(to_table(rows, STORED["provenance"]), to_table(history, STORED["provenance_history"]), documents)


def _same(a: pd.Series, b: pd.Series) -> pd.Series:
    a, b = a.astype(object), b.astype(object)
    return (a == b) | (a.isna() & b.isna())


def _reason(row) -> str:
    """What changed, in words: label, root and direct source as ``doc:paragraph``."""
    def where(doc, index) -> str:
        return "none" if pd.isna(doc) else f"{doc}:{int(index)}"

    parts = []
    if str(row.label) != str(row.label_new):
        parts.append(f"label {row.label} -> {row.label_new}")
    root, root_new = where(row.source_doc_id, row.source_para_index), where(row.source_doc_id_new, row.source_para_index_new)
    if root != root_new:
        parts.append(f"root {root} -> {root_new}")
    direct = where(row.direct_doc_id, row.direct_para_index)
    direct_new = where(row.direct_doc_id_new, row.direct_para_index_new)
    if direct != direct_new:
        parts.append(f"direct source {direct} -> {direct_new}")
    return "; ".join(parts) or f"method {row.method} -> {row.method_new}"


def table_changes(added: dict[str, pa.Table], revision: Revision, earlier_documents: pa.Table,
                  candidates: pa.Table, run_id: str, replaced: set[str]) -> dict[str, Change]:
    """The run's commit, table by table: its new rows (stamped with ``run_id``) replacing any rows of the
    same documents (``replaced``, for a run redone with ``--from``), and the revisions."""
    revised_docs = earlier_documents.filter(
        pc.is_in(earlier_documents.column("doc_id"), value_set=pa.array(sorted(revision.documents), pa.string())))
    relabelled = _with_label_lineage(revised_docs.to_pandas(), revision.rows)  # keeps the run that ingested it
    rewritten = replaced | set(revision.documents)
    return {
        "documents": Change(STORED["documents"], pa.concat_tables([
            _stamped(added["documents"], run_id, "documents"), to_table(relabelled, STORED["documents"])]),
            frozenset(rewritten)),
        "provenance": Change(STORED["provenance"], pa.concat_tables([
            _stamped(added["provenance"], run_id, "provenance"), revision.rows]), frozenset(rewritten)),
        "removed": Change(STORED["removed"], _stamped(added["removed"], run_id, "removed"), frozenset(replaced)),
        "provenance_history": Change(STORED["provenance_history"], revision.superseded),
        "_links": Change(STORED["_links"], _stamped(candidates, run_id, "_links"), frozenset(replaced)),
    }


def _stamped(table: pa.Table, run_id: str, name: str) -> pa.Table:
    schema = STORED[name]
    base = table.select([n for n in schema.names if n != "run_id"])
    return base.append_column("run_id", pa.array([run_id] * table.num_rows, pa.string())).select(schema.names).cast(schema)
