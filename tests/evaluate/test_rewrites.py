"""rewrite-pairs as one corpus: the documents written and how each rewrite document is judged."""
from __future__ import annotations

import csv
import json

import pandas as pd

from pipeline.evaluate.rewrites import OUTCOMES, RewriteReport, document_outcome, read_pairs, write_corpus

PAIRS = [
    {"source_id": "s1", "generator": "g1", "prompt": "p", "source": "Source one text.", "rewrite": "Rewrite a."},
    {"source_id": "s1", "generator": "g2", "prompt": "p", "source": "Source one text.", "rewrite": "Rewrite b."},
    {"source_id": "s2", "generator": "g1", "prompt": "q", "source": "Source two text.", "rewrite": "Rewrite c."},
]


def test_each_source_once_dated_first_and_each_rewrite_a_document(tmp_path):
    gold = write_corpus(PAIRS, tmp_path)
    with open(tmp_path / "manifest.csv", encoding="utf-8") as handle:
        manifest = {row["path"]: row["published_at"] for row in csv.DictReader(handle)}
    sources = [name for name in manifest if name.startswith("source-")]
    assert sorted(sources) == ["source-s1.txt", "source-s2.txt"]
    assert all(manifest[s] < manifest[r] for s in sources for r in gold)
    assert (tmp_path / "rewrite-00001.txt").read_text() == "Rewrite b."
    assert gold["rewrite-00002.txt"].source_file == "source-s2.txt"


def test_a_sample_keeps_whole_sources(tmp_path):
    (tmp_path / "pairs.jsonl").write_text("".join(json.dumps(p) + "\n" for p in PAIRS))
    sample = read_pairs(tmp_path, sources=1)
    assert len({p["source_id"] for p in sample}) == 1
    assert len(sample) == sum(p["source_id"] == sample[0]["source_id"] for p in PAIRS)


def _rows(*rows):
    return pd.DataFrame(rows, columns=["para_index", "label", "words", "root_name"])


def test_the_label_with_most_words_and_the_longest_rewrite_paragraphs_root_decide():
    found = _rows((0, "original", 5, None), (1, "ai_paraphrased", 30, "source-s1.txt"), (2, "ai_paraphrased", 8, "rewrite-1"))
    assert document_outcome(found, "source-s1.txt") == OUTCOMES[0]
    assert document_outcome(found, "source-s2.txt") == "ai_paraphrased, other root"
    assert document_outcome(_rows((0, "copied", 30, "source-s1.txt"), (1, "ai_paraphrased", 8, "source-s1.txt")),
                            "source-s1.txt") == "copied"


def test_shares_per_generator_and_prompt():
    report = RewriteReport()
    report.outcomes.update({("g", "p", OUTCOMES[0]): 3, ("g", "p", "original"): 1, ("g", "q", "copied"): 4})
    assert report.share_found("g") == 3 / 8
    assert report.share_found("g", "p") == 3 / 4
    assert report.confusion("g")["copied"] == 4


def test_a_smaller_corpus_replaces_a_larger_one(tmp_path):
    write_corpus(PAIRS, tmp_path)
    write_corpus(PAIRS[:1], tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.csv", "rewrite-00000.txt", "source-s1.txt"]
