"""Which documents a run must classify together: its new ones and all those linked to them.

A paragraph's label depends on every document linked to it, not on the order documents arrived in. So
a run classifies the connected components of the candidate graph that hold its new documents, with the
candidate pairs of this run and of earlier ones (kept in the ``_links`` table): the same input as a
single run over everything would give those documents. Documents outside these components cannot be
affected, so a run's cost follows its new documents and their neighbourhood, not the history.
"""
from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.schema import CANDIDATES

LinkReader = Callable[[set[str]], pa.Table]
"""doc ids -> the stored candidate rows of those documents (CANDIDATES columns)."""


def linked_documents(candidates: pa.Table, new_docs: set[str], stored: LinkReader, excluded: set[str]) -> set[str]:
    """The new documents and every document connected to them, through this run's pairs or stored ones.

    ``excluded`` documents (a redone run's own earlier rows) are never reached through stored pairs.
    """
    component = set(new_docs) | _ends(candidates)
    frontier = component - set(new_docs)
    while frontier:
        reached = _ends(stored(frontier)) - component - excluded
        component |= reached
        frontier = reached
    return component


def component_links(candidates: pa.Table, component: set[str], stored: LinkReader, excluded: set[str]) -> pa.Table:
    """This run's candidate pairs plus the stored pairs among the component's documents, each pair once."""
    earlier = stored(component - excluded)
    keep = pc.and_(pc.is_in(earlier.column("cand_doc_id"), value_set=pa.array(sorted(component), pa.string())),
                   pc.invert(pc.is_in(earlier.column("cand_doc_id"), value_set=pa.array(sorted(excluded), pa.string()))))
    merged = pa.concat_tables([candidates.select(CANDIDATES.names).cast(CANDIDATES),
                               earlier.filter(keep).select(CANDIDATES.names).cast(CANDIDATES)])
    return _first_of_each_pair(merged)


def _ends(pairs: pa.Table) -> set[str]:
    return set(pairs.column("doc_id").to_pylist()) | set(pairs.column("cand_doc_id").to_pylist())


def _first_of_each_pair(pairs: pa.Table) -> pa.Table:
    """Rows in order, a pair found again later dropped (this run's pairs come first and win)."""
    key = ["doc_id", "para_index", "cand_doc_id", "cand_para_index"]
    numbered = pairs.append_column("_row", pa.array(range(pairs.num_rows), pa.int64()))
    first = numbered.group_by(key, use_threads=False).aggregate([("_row", "min")]).column("_row_min")
    return pairs.take(pc.sort_indices(first))
