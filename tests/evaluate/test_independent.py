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


def test_the_markdown_list_escapes_page_text():
    """Page text is untrusted: in the docs table it must not end a cell, open code or make HTML."""
    from pipeline.evaluate.independent import Derivation, independent_section

    hostile = "a | b `code` <script>alert(1)</script> &amp;\nnext line"
    found = [Derivation("0002.html.gz", 3, hostile, "copied", "lexical", "0001.html.gz", 5, "plain", 0.9, 0.95)]
    row = independent_section(found, "wcxb").splitlines()[-1]
    assert row.startswith("| 0002.html.gz:3 | 0001.html.gz:5 | copied |")
    cells = row.split(" | ")
    assert len(cells) == 8, row
    assert "<" not in row and ">" not in row and "`" not in row.replace("\\`", "")
    assert "&amp;amp;" in row and "\n" not in row
