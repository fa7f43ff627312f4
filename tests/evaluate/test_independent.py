"""False derivations on independent pages: every derived paragraph listed with its direct source."""
from __future__ import annotations

import pandas as pd

from pipeline.evaluate.independent import derivations, format_derivations


def test_lists_every_derived_paragraph_with_its_source(tmp_path):
    (tmp_path / "documents").mkdir()
    (tmp_path / "provenance").mkdir()
    pd.DataFrame({"doc_id": ["A", "B"], "source_path": ["/x/0001.html.gz", "/x/0002.html.gz"]}).to_parquet(
        tmp_path / "documents" / "p.parquet")
    pd.DataFrame([
        {"doc_id": "A", "para_index": 0, "text": "What to look for in a kettle", "label": "original", "method": "no_match",
         "direct_doc_id": None, "direct_para_index": None, "lexical_similarity": None, "semantic_similarity": None},
        {"doc_id": "B", "para_index": 0, "text": "What to look for in a thermostat", "label": "copied", "method": "lexical",
         "direct_doc_id": "A", "direct_para_index": 0, "lexical_similarity": 0.8, "semantic_similarity": 0.6},
    ]).to_parquet(tmp_path / "provenance" / "p.parquet")
    found = derivations(tmp_path)
    assert [(d.page, d.source_page, d.source_text) for d in found] == [
        ("0002.html.gz", "0001.html.gz", "What to look for in a kettle")]
    assert format_derivations(found).splitlines()[-1] == "paragraphs labelled derived 1 in 1 documents"
