"""What an incremental run passes down a chain: a reclassified paragraph's root, and for a copy its label."""
from __future__ import annotations

import pandas as pd

from pipeline.schema import PROVENANCE, to_table
from pipeline.stages.link import with_inherited_roots


def rows(*decisions: tuple) -> "pa.Table":
    """Provenance rows from (doc, para, label, root doc, direct doc, method); other columns left empty."""
    frame = pd.DataFrame([{name: None for name in PROVENANCE.names} | {
        "doc_id": doc, "para_index": 0, "paragraph_id": f"{doc}:0", "text": f"text of {doc}", "label": label,
        "source_doc_id": root, "source_para_index": 0 if root else None, "direct_doc_id": direct,
        "direct_para_index": 0 if direct else None, "method": method, "confidence": 0.9, "char_start": 0,
        "char_end": 10, "word_count": 3, "text_hash": doc}
        for doc, label, root, direct, method in decisions])
    return to_table(frame, PROVENANCE)


def current(table) -> dict[str, tuple[str, str | None]]:
    frame = table.to_pandas()
    return {r.doc_id: (str(r.label), r.source_doc_id) for r in frame.itertuples()}


def test_a_copy_of_a_paragraph_found_to_be_a_rewrite_becomes_that_rewrite_of_the_new_root():
    """R was stored as an original and C as its copy; this run finds R's source S: R is S's rewrite, so C,
    not reclassified, is now ai_paraphrased from S (what one run over everything says)."""
    stored = rows(("r", "original", None, None, "no_match"), ("c", "copied", "r", "r", "lexical"))
    fresh = rows(("r", "ai_paraphrased", "s", "s", "semantic"))
    assert current(with_inherited_roots(fresh, stored)) == {"r": ("ai_paraphrased", "s"), "c": ("ai_paraphrased", "s")}


def test_a_rewrite_of_a_paragraph_found_to_be_a_copy_keeps_its_label_and_takes_the_root():
    stored = rows(("b", "original", None, None, "no_match"), ("w", "ai_paraphrased", "b", "b", "semantic"))
    fresh = rows(("b", "copied", "a", "a", "lexical"))
    assert current(with_inherited_roots(fresh, stored)) == {"b": ("copied", "a"), "w": ("ai_paraphrased", "a")}


def test_a_chain_of_copies_stays_copied_down_to_the_end():
    stored = rows(("b", "original", None, None, "no_match"), ("c", "copied", "b", "b", "lexical"),
                  ("d", "copied", "b", "c", "lexical"), ("x", "original", None, None, "no_match"))
    fresh = rows(("b", "copied", "a", "a", "lexical"))
    assert current(with_inherited_roots(fresh, stored)) == {"b": ("copied", "a"), "c": ("copied", "a"), "d": ("copied", "a")}


def test_a_loose_pair_of_aligned_documents_that_shares_wording_stays_decisive():
    """Classify may take the other half of a split, far in meaning from its whole source paragraph, for the
    wording it keeps: so such a pair of aligned documents must reach it, while one sharing no word shingle
    (a loose partner of the alignment) cannot change a decision."""
    from pipeline.config import ClassifyConfig
    from pipeline.schema import CANDIDATES
    from pipeline.stages.link import decisive_pairs

    base = {"doc_id": "b", "para_index": 3, "cand_doc_id": "a", "cand_para_index": 2, "cosine": 0.5,
            "via": "alignment", "covered": 0.0, "cand_covered": 0.0}
    pairs = to_table(pd.DataFrame([base | {"jaccard": 0.2}, base | {"para_index": 4, "jaccard": 0.0}]), CANDIDATES)
    kept = decisive_pairs(pairs, ClassifyConfig()).to_pandas()
    assert kept["para_index"].tolist() == [3]
