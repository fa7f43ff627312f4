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


GNN = ("Graph neural networks learn node representations by passing messages along the edges of a graph, and we "
       "show that their depth limits what they can tell apart.")
GNN_REWORDED = ("Graph neural networks learn representations of nodes by passing messages along a graph's edges, and we "
                "demonstrate that their depth limits what they can distinguish.")
GNN_RESTATED = ("Graph neural networks (GNNs) learn node representations through message passing along graph edges. We "
                "demonstrate that the depth of GNNs limits their ability to distinguish between structures.")
ICE = ("We measure the melting of sea ice in the Arctic from satellite images taken every week over twenty years, and "
       "find the summer minimum falls faster than models predict.")
BREAD = ("A recipe for bread needs flour, water, salt and yeast, kneaded for ten minutes and left to rise overnight in "
         "a cool kitchen before baking.")


def test_the_paragraph_table_counts_every_rewrite_paragraph_and_its_root(tmp_path, capsys):
    from pipeline.cli import main

    pairs = [
        {"source_id": "gnn", "generator": "g1", "prompt": "p", "source": GNN, "rewrite": GNN},  # copied
        {"source_id": "gnn", "generator": "g1", "prompt": "p", "source": GNN, "rewrite": GNN_REWORDED},  # right root
        # two paragraphs: one rewritten from the source, one of the generator's own
        {"source_id": "gnn", "generator": "g2", "prompt": "p", "source": GNN, "rewrite": GNN_RESTATED + "\n\n" + BREAD},
        # rewritten from another pair's source: ai_paraphrased, but not rooted in its own source
        {"source_id": "ice", "generator": "g2", "prompt": "q", "source": ICE, "rewrite": GNN_REWORDED.replace("we", "the authors")},
    ]
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "pairs.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pairs))
    config = tmp_path / "static.toml"  # semantic matching with the fast static embedder
    config.write_text('[match]\nembedder = "static"\ncascade = false\n', encoding="utf-8")
    assert main(["eval", "rewrites", "--config", str(config), "--bench", str(bench), "--output", str(tmp_path / "out"),
                 "--report", str(tmp_path / "benchmarks.md")]) == 0
    want = {"g1": "2 0.5000 0.5000 0.0000 0.5000 1.0000", "g2": "3 0.6667 0.0000 0.3333 0.3333 1.0000",
            "all": "5 0.6000 0.2000 0.2000 0.4000 1.0000"}
    printed = {line.split()[0]: " ".join(line.split()[1:]) for line in capsys.readouterr().out.splitlines()
               if line.split() and line.split()[0] in want}
    assert printed == want
    written = (tmp_path / "benchmarks.md").read_text()
    assert "| generator | paragraphs | ai_paraphrased | copied | original | right_root | sources_original |" in written
    assert all(f"| {g} | " + " | ".join(row.split()) + " |" in written for g, row in want.items())


def test_each_generator_is_scored_with_the_machine_edit_model_fitted_without_it(tmp_path):
    """A fit that saw the generator it scores flatters it: each generator's rewrites are classified again under
    the settings fitted without it, and a generator with no such fit is flagged."""
    from pipeline.config import load_config
    from pipeline.evaluate.rewrites import evaluate_rewrites, format_rewrites

    polish_a, polish_b = GNN.replace("we show", "we demonstrate"), ICE.replace("and find", "and we find")
    pairs = [{"source_id": "gnn", "generator": "g1", "prompt": "p", "source": GNN, "rewrite": polish_a},
             {"source_id": "ice", "generator": "g2", "prompt": "p", "source": ICE, "rewrite": polish_b},
             {"source_id": "bread", "generator": "g3", "prompt": "p", "source": BREAD, "rewrite": BREAD + " Enjoy."}]
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "pairs.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pairs))
    config = tmp_path / "static.toml"
    config.write_text('[match]\nembedder = "static"\ncascade = false\n', encoding="utf-8")
    machine, human = {"machine_edit_intercept": 30.0}, {"machine_edit_intercept": -30.0}
    report = evaluate_rewrites(bench, tmp_path / "out", load_config(config), held_out={"g1": machine, "g2": human})
    assert report.confusion("g1")[OUTCOMES[0]] == 1
    assert report.confusion("g2")["copied"] == 1
    assert report.held_out == {"g1", "g2"}
    assert "(fitted with it)" in next(line for line in format_rewrites(report).splitlines() if line.startswith("g3:"))
