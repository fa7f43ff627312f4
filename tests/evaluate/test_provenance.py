"""Provenance scoring: the figures of score_corpus.py on a tiny hand-made output."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from pipeline.evaluate.provenance import format_report, score_output

GOLD = [
    {"path": "docs/a.txt", "para_index": 0, "text": "Alpha beta gamma delta epsilon zeta eta theta.", "label": "original",
     "source_path": None, "source_para_index": None},
    {"path": "docs/a.txt", "para_index": 1, "text": "Iota kappa lambda mu nu xi omicron pi.", "label": "original",
     "source_path": None, "source_para_index": None},
    {"path": "docs/b.txt", "para_index": 0, "text": "Alpha beta gamma delta epsilon zeta eta theta.", "label": "copied",
     "source_path": "docs/a.txt", "source_para_index": 0},
    {"path": "docs/b.txt", "para_index": 1, "text": "Rho sigma tau upsilon phi chi psi omega.", "label": "original",
     "source_path": None, "source_para_index": None},
]


def _write(tmp: Path, rows: list[dict], chrome: list[dict]) -> tuple[Path, Path]:
    bench, output = tmp / "bench", tmp / "out"
    bench.mkdir()
    (bench / "labels.jsonl").write_text("".join(json.dumps(g) + "\n" for g in GOLD))
    (bench / "chrome.jsonl").write_text("".join(json.dumps(c) + "\n" for c in chrome))
    (output / "documents").mkdir(parents=True)
    (output / "provenance").mkdir()
    pd.DataFrame({"doc_id": ["A", "B"], "source_path": ["a.txt", "b.txt"]}).to_parquet(output / "documents" / "p.parquet")
    pd.DataFrame(rows).to_parquet(output / "provenance" / "p.parquet")
    return bench, output


def _row(doc, index, text, label, source=None, source_index=None):
    return {"doc_id": doc, "para_index": index, "text": text, "label": label,
            "source_doc_id": source, "source_para_index": source_index}


def test_scores_labels_sources_and_chrome(tmp_path):
    rows = [
        _row("A", 0, GOLD[0]["text"], "original"),
        _row("A", 1, GOLD[1]["text"], "ai_paraphrased", "B", 1),  # a false positive on a human paragraph
        _row("B", 0, GOLD[2]["text"], "copied", "A", 0),
        _row("B", 1, GOLD[3]["text"], "original"),
        _row("B", 2, "Share this story on every network you know today", "original"),
    ]
    chrome = [{"path": "docs/b.txt", "kind": "share", "text": "Share this story on every network you know today"},
              {"path": "docs/a.txt", "kind": "nav", "text": "Home World Business Tech Sport"}]
    report = score_output(*reversed(_write(tmp_path, rows, chrome)))
    scores = report.per_class()
    assert report.confusion[("original", "ai_paraphrased")] == 1
    assert scores["copied"].f1 == 1.0
    assert scores["ai_paraphrased"].precision == 0.0
    assert abs(report.ai_false_positive_rate - 1 / 3) < 1e-9
    assert report.root_doc == [1, 1] and report.source_para == [1, 1]
    assert report.chrome == [1, 2] and report.leak_kinds == {"share": 1}
    text = format_report(report, verbose=True)
    assert text.splitlines()[-1] == f"macro-F1 {report.macro_f1:.3f}"
    assert "FAIL chrome leak (share) in b.txt" in text


def test_a_paragraph_not_kept_counts_as_dropped(tmp_path):
    rows = [_row("A", 0, GOLD[0]["text"], "original"), _row("B", 0, GOLD[2]["text"], "copied", "A", 0)]
    report = score_output(*reversed(_write(tmp_path, rows, [])))
    assert report.confusion[("original", "dropped")] == 2
    assert report.kept == [2, 4]


def test_the_report_is_the_independent_scorers_to_the_letter(tmp_path):
    import subprocess
    import sys

    import pytest

    scorer = Path(__file__).resolve().parents[3] / "shared" / "tools" / "score_corpus.py"
    if not scorer.exists():
        pytest.skip("the shared scorer is not beside the repository")
    rows = [
        _row("A", 0, GOLD[0]["text"], "original"),
        _row("A", 1, GOLD[1]["text"], "ai_paraphrased", "B", 1),
        _row("B", 0, GOLD[2]["text"], "copied", "A", 0),
        _row("B", 1, GOLD[3]["text"] + " Plus a tail.", "original"),
    ]
    chrome = [{"path": "docs/b.txt", "kind": "share", "text": "Share this story on every network you know today"}]
    bench, output = _write(tmp_path, rows, chrome)
    theirs = subprocess.run([sys.executable, str(scorer), "--output", str(output), "--bench", str(bench), "--verbose"],
                            capture_output=True, text=True, check=True).stdout
    assert format_report(score_output(output, bench), verbose=True) == theirs.rstrip("\n")


def test_only_the_named_gold_paragraphs_are_scored(tmp_path):
    from pipeline.evaluate.provenance import score_frames

    rows = [_row("A", 0, GOLD[0]["text"], "original"), _row("A", 1, GOLD[1]["text"], "ai_paraphrased", "B", 1),
            _row("B", 0, GOLD[2]["text"], "copied", "A", 0), _row("B", 1, GOLD[3]["text"], "original")]
    bench, output = _write(tmp_path, rows, [{"path": "docs/a.txt", "kind": "nav", "text": GOLD[0]["text"]}])
    report = score_frames(pd.read_parquet(output / "documents"), pd.read_parquet(output / "provenance"), bench,
                          frozenset({("b.txt", 0), ("b.txt", 1)}))
    assert sum(report.confusion.values()) == 2 and report.confusion[("copied", "copied")] == 1
    assert report.chrome == [0, 0]


def _held_out(dimension: str, name: str, label: str, confidence: float, right: list[bool]):
    from pipeline.evaluate.provenance import GroupResult, ProvenanceReport

    predictions = pd.DataFrame({"label": label, "confidence": confidence, "right": right})
    return GroupResult(dimension, name, ProvenanceReport(), predictions)


def test_calibration_is_reported_per_dimension_with_its_worst_sizeable_group():
    from pipeline.evaluate.groups import MIN_GROUP
    from pipeline.evaluate.provenance import calibration_errors, worst_calibrated

    groups = [_held_out("doc_type", "calibrated", "copied", 0.9, [True] * 27 + [False] * 3),
              _held_out("doc_type", "overconfident", "copied", 0.9, [True] * 24 + [False] * 6),
              _held_out("doc_type", "tiny", "copied", 0.9, [False] * (MIN_GROUP - 1)),
              _held_out("template", "all", "copied", 0.9, [True] * 90),
              _held_out("generator", "rewrites", "copied", 0.99, [False] * 2)]
    assert calibration_errors(groups, "template")["copied"] == pytest.approx(0.1)
    assert calibration_errors(groups, "doc_type")["copied"] == pytest.approx(abs(0.9 - 51 / 89))
    assert "copied" not in calibration_errors(groups, "generator"), "two rows of a label are not a calibration"
    error, name = worst_calibrated(groups, "doc_type")["copied"]
    assert name == "overconfident" and error == pytest.approx(0.1), "a group too small to bin is not the worst"


def test_the_settings_chosen_without_each_group_are_reported_with_the_groups_that_differ():
    from pipeline.evaluate.provenance import GroupResult, ProvenanceReport, settings_line

    groups = [GroupResult("doc_type", name, ProvenanceReport(), pd.DataFrame(), {"rereport_min_paragraphs": value})
              for name, value in (("a", 2), ("b", 2), ("c", 3))]
    assert settings_line(groups) == ("classify settings chosen without each group: rereport_min_paragraphs 2 (2 of 3 "
                                     "groups); rereport_min_paragraphs 3 (1 of 3 groups: c)")
