"""Which documents a run reclassifies, what it reads around them, and which stored roots follow.

A paragraph's label depends on the documents linked to it, not on the order documents arrived in. A
run's new pairs (the match stage's candidates, each with a paragraph of a new document) that can make
a decision (``decisive_pairs``) can change the decisions of the documents at their two ends, and only those: a run *decides* its new documents and the
earlier ones they pair with. Their other neighbours, through the pairs of earlier runs (kept in the
``_links`` table), are the *context*: read and ordered with them, as sources or derivatives, their
published decisions stand. What a decision changes further away is the root of a chain: a stored
paragraph that was taken from a reclassified one inherits its new root, and so on down the chain
(``with_inherited_roots``). So a run's cost follows its new documents and their neighbours, never the
history, however large the connected component of the candidate graph has grown.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.config import ClassifyConfig
from pipeline.schema import CANDIDATES, PROVENANCE, SCORED, to_table
from pipeline.stages.classify import as_scored

LinkReader = Callable[[set[str]], pa.Table]
"""doc ids -> the stored candidate rows of those documents (CANDIDATES columns)."""

_KEY = ["doc_id", "para_index"]
_DIRECT = ["direct_doc_id", "direct_para_index"]
_ROOT = ["source_doc_id", "source_para_index"]


def decisive_pairs(pairs: pa.Table, cfg: ClassifyConfig) -> pa.Table:
    """The pairs that can make a decision: found by MinHash (a copy is near-verbatim), with a cosine
    that reaches the lowest at which classify takes a rewrite link or orders two documents, or, between
    documents aligned sentence by sentence, with a sentence of one paragraph in the other (a merged or
    split rewrite) or what lets the other half of a split count: a cosine of ``split_min_cosine``, or a
    shared word shingle (classify then asks ``standalone_min_ratio`` of the wording, ``_rewrite_links``).

    The others (loose neighbours, the weaker partners of a full alignment) can change no label, root,
    direct source or method; they move only an original's confidence, which a revision does not republish.
    """
    lowest = min(cfg.aligned_cosine, cfg.paraphrase_cosine, cfg.standalone_cosine)
    lexical = pc.is_in(pairs.column("via"), value_set=pa.array(["minhash", "both"]))
    close = pc.fill_null(pc.greater_equal(pairs.column("cosine"), lowest), False)
    sentences = pc.or_(pc.greater(pairs.column("covered"), 0), pc.greater(pairs.column("cand_covered"), 0))
    half = pc.or_kleene(pc.greater_equal(pairs.column("cosine"), cfg.split_min_cosine),
                        pc.greater(pairs.column("jaccard"), 0))
    aligned = pc.fill_null(pc.and_(pc.is_valid(pairs.column("covered")), pc.or_(sentences, half)), False)
    return pairs.filter(pc.or_(pc.or_(lexical, close), aligned))


def decided_documents(candidates: pa.Table, new_docs: set[str]) -> set[str]:
    """The new documents and every document this run's candidate pairs touch: the ones whose links change."""
    return set(new_docs) | paired_documents(candidates)


def context_documents(decided: set[str], stored: LinkReader, excluded: set[str]) -> set[str]:
    """Documents one stored pair away from the decided ones (never ``excluded`` ones: a redone run's own
    earlier rows): the sources and derivatives the decisions are made among."""
    return paired_documents(stored(decided - excluded)) - decided - excluded


def component_links(candidates: pa.Table, documents: set[str], stored: LinkReader, excluded: set[str]) -> pa.Table:
    """This run's candidate pairs plus every stored pair of ``documents``, in both directions, each pair once.

    A pair is stored in both directions with the same scores, so the mirror of a stored row stands for
    the row kept under the other document: the documents one pair beyond ``documents`` come with the
    pairs that make up their side of the order, without reading their own stored pairs.
    """
    earlier = stored(documents - excluded)
    earlier = earlier.filter(pc.invert(pc.is_in(earlier.column("cand_doc_id"),
                                                value_set=pa.array(sorted(excluded), pa.string()))))
    earlier = earlier.select(SCORED.names).cast(SCORED)
    merged = pa.concat_tables([as_scored(candidates.select(CANDIDATES.names)), earlier, _mirrored(earlier)])
    return _first_of_each_pair(merged)


def with_scores(candidates: pa.Table, scored: pa.Table) -> pa.Table:
    """The run's candidate rows with the scores classify gave them (``SCORED``; null for the pairs it did
    not score, which can make no decision), to be stored for later runs."""
    keys = ["doc_id", "para_index", "cand_doc_id", "cand_para_index"]
    scores = scored.select(keys + [name for name in SCORED.names if name not in CANDIDATES.names])
    joined = as_scored(candidates.select(CANDIDATES.names)).drop_columns(scores.column_names[4:])
    return joined.join(scores, keys, join_type="left outer").select(SCORED.names).cast(SCORED)


def paired_documents(pairs: pa.Table) -> set[str]:
    """Documents at either end of some pair."""
    return set(pairs.column("doc_id").to_pylist()) | set(pairs.column("cand_doc_id").to_pylist())


def with_inherited_roots(fresh: pa.Table, stored: pa.Table) -> pa.Table:
    """``fresh`` (the run's decisions) with every root resolved down the chains of direct sources, plus all
    stored rows of each other document one of whose paragraphs inherits a new root (provenance schema).

    A paragraph copied from another has that one's root, or that one itself when it is an original. A
    reclassified paragraph's new root reaches the paragraphs taken from it, whether they were decided in
    this run (against a stored source whose root changed only now) or stand as published. So does its
    label, for a copy (method ``lexical``): a copy of a model's rewrite is ``ai_paraphrased`` relative to
    the root, a copy of anything else ``copied``, as classify labels it.
    """
    decided = set(fresh.column("doc_id").to_pylist())
    rows = pd.concat([fresh.to_pandas(), stored.filter(pc.invert(pc.is_in(
        stored.column("doc_id"), value_set=pa.array(sorted(decided), pa.string())))).select(PROVENANCE.names).to_pandas()],
        ignore_index=True)
    rows["_inherited"] = False
    rows["label"] = rows["label"].astype(str)
    parents = rows.iloc[:fresh.num_rows][_KEY + _ROOT + ["label"]]
    while len(parents):
        # A row inherits at most once: stored and fresh decisions together may point round in a circle.
        children = _children_with_new_roots(rows, parents)
        children = children[~rows.loc[children.index, "_inherited"].to_numpy()]
        for column in _ROOT + ["label"]:
            rows.loc[children.index, column] = children[column].to_numpy()
        rows.loc[children.index, "_inherited"] = True
        parents = rows.loc[children.index, _KEY + _ROOT + ["label"]]
    inheriting = set(rows.loc[rows["_inherited"], "doc_id"]) - decided
    out = rows[rows["doc_id"].isin(decided | inheriting)].drop(columns="_inherited")
    return to_table(out.sort_values(_KEY).reset_index(drop=True), PROVENANCE)


def _children_with_new_roots(rows: pd.DataFrame, parents: pd.DataFrame) -> pd.DataFrame:
    """Rows (by index of ``rows``) taken directly from one of ``parents`` whose root, or for a copy whose
    label, is not the one that parent now gives them, with those in the root and label columns."""
    given = parents.assign(
        **{_ROOT[0]: parents[_ROOT[0]].where(parents[_ROOT[0]].notna(), parents["doc_id"]),
           _ROOT[1]: parents[_ROOT[1]].where(parents[_ROOT[0]].notna(), parents["para_index"])})
    given = given.rename(columns=dict(zip(_KEY, _DIRECT)))
    given[_DIRECT[1]] = given[_DIRECT[1]].astype("int64")
    linked = rows[rows[_DIRECT[0]].notna()][_DIRECT + _ROOT + ["label", "method"]].reset_index()
    linked[_DIRECT[1]] = linked[_DIRECT[1]].astype("int64")
    joined = linked.merge(given, on=_DIRECT, suffixes=("", "_parent"))
    copy_label = np.where(joined["label_parent"] == "ai_paraphrased", "ai_paraphrased", "copied")
    joined["label_new"] = np.where(joined["method"] == "lexical", copy_label, joined["label"])
    moved = (joined[_ROOT[0]] != joined[f"{_ROOT[0]}_parent"]) | (joined["label"] != joined["label_new"]) | (
        joined[_ROOT[1]].astype("float64") != joined[f"{_ROOT[1]}_parent"].astype("float64"))
    moved = joined[moved]
    return pd.DataFrame({_ROOT[0]: moved[f"{_ROOT[0]}_parent"].to_numpy(), _ROOT[1]: moved[f"{_ROOT[1]}_parent"].to_numpy(),
                         "label": moved["label_new"].to_numpy()}, index=moved["index"].to_numpy())


def _mirrored(pairs: pa.Table) -> pa.Table:
    """Each pair from the candidate's side: the columns of one side and of the other swapped."""
    sides = [("doc_id", "cand_doc_id"), ("para_index", "cand_para_index"), ("covered", "cand_covered"),
             ("near_verbatim", "cand_near_verbatim"), ("machine_edit", "cand_machine_edit"),
             ("adds_attribution", "cand_adds_attribution")]
    swapped = {**dict(sides), **{b: a for a, b in sides}}
    return pa.table({name: pairs.column(swapped.get(name, name)) for name in SCORED.names}, schema=SCORED)


def _first_of_each_pair(pairs: pa.Table) -> pa.Table:
    """Rows in order, a pair found again later dropped (this run's pairs come first and win)."""
    key = ["doc_id", "para_index", "cand_doc_id", "cand_para_index"]
    numbered = pairs.append_column("_row", pa.array(range(pairs.num_rows), pa.int64()))
    first = numbered.group_by(key, use_threads=False).aggregate([("_row", "min")]).column("_row_min")
    return pairs.take(pc.sort_indices(first))
