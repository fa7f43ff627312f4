"""The stress sets: built deterministically from provenance-dev, consistent gold, one eval line each."""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from pipeline.config import Config
from pipeline.evaluate.provenance import ProvenanceReport
from pipeline.evaluate.stress import SETS, StressResult, format_stress, scored_paragraphs
from pipeline.stages.classify import score_links

REPO = Path(__file__).resolve().parents[2]
STRESS = REPO / "tests" / "data" / "stress"
BENCH = REPO.parent / "shared" / "bench" / "provenance-dev"


def _labels(folder: Path) -> list[dict]:
    return [json.loads(x) for x in (folder / "labels.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]


@pytest.mark.skipif(not BENCH.exists(), reason="provenance-dev is not on this machine")
def test_the_builder_rebuilds_the_committed_sets_exactly(tmp_path):
    subprocess.run([sys.executable, str(REPO / "tools" / "build_stress_sets.py"), "--bench", str(BENCH),
                    "--out", str(tmp_path)], check=True, capture_output=True, cwd=REPO)
    for spec in SETS:
        assert _labels(tmp_path / spec.name) == _labels(STRESS / spec.name), spec.name
        manifest = "docs/manifest.csv"
        assert (tmp_path / spec.name / manifest).read_text() == (STRESS / spec.name / manifest).read_text()


@pytest.mark.parametrize("name", [s.name for s in SETS])
def test_every_derived_paragraph_points_at_an_original_of_its_set_and_its_text_is_on_disk(name):
    folder = STRESS / name
    rows = _labels(folder)
    label = {(r["path"], r["para_index"]): r["label"] for r in rows}
    for r in rows:
        paragraphs = (folder / r["path"]).read_text(encoding="utf-8").strip().split("\n\n")
        assert paragraphs[r["para_index"]] == r["text"]
        if r["label"] != "original":
            assert label[(r["source_path"], r["source_para_index"])] == "original"
    assert scored_paragraphs(folder), "a set scores its derived documents"


def _copy_links(pairs: list[tuple[str, str]]) -> list[bool]:
    paras = pd.DataFrame([{"doc_id": f"{side}{n}", "para_index": 0, "text": t}
                          for n, pair in enumerate(pairs) for side, t in zip("le", pair)])
    candidates = pd.DataFrame({"doc_id": [f"l{n}" for n in range(len(pairs))], "para_index": 0,
                               "cand_doc_id": [f"e{n}" for n in range(len(pairs))], "cand_para_index": 0, "cosine": 0.95})
    links = score_links(paras, candidates, Config())
    return [links[(f"l{n}", 0)][0].is_copy for n in range(len(pairs))]


def _edited_copies(edits: range) -> list[tuple[str, str]]:
    rows = _labels(STRESS / "human-edits")
    text = {(r["path"], r["para_index"]): r["text"] for r in rows}
    return [(r["text"], text[(r["source_path"], r["source_para_index"])]) for r in rows if len(r["edit_ops"]) in edits]


def test_copies_with_one_human_edit_are_copy_links():
    """A copy with a single human edit (a typo, a number, a name, a sentence) is a copy, not a rewrite."""
    pairs = _edited_copies(range(1, 2))
    assert len(pairs) >= 5 and all(_copy_links(pairs))


def test_copies_with_many_human_edits_are_mostly_copy_links():
    """Typos, numbers, names and an added sentence in many places break word n-grams, not the copy."""
    links = _copy_links(_edited_copies(range(5, 9)))
    assert sum(links) / len(links) >= 0.85


def test_the_eval_prints_one_line_per_set_with_its_target():
    report = ProvenanceReport(confusion=Counter({("copied", "copied"): 19, ("copied", "ai_paraphrased"): 1}))
    text = format_stress([StressResult(spec, report) for spec in SETS])
    lines = text.splitlines()[1:]
    assert [line.split()[1] for line in lines] == [s.name for s in SETS]
    assert "copied 0.950 (target >= 0.95, met)" in lines[1]


def test_eval_provenance_with_stress_prints_each_set_found(tmp_path, fast_config, capsys):
    import shutil

    from pipeline.cli import main

    shutil.copytree(STRESS / "human-edits", tmp_path / "stress" / "human-edits")
    code = main(["eval", "provenance", "--config", str(fast_config), "--bench", str(tmp_path / "stress" / "human-edits"),
                 "--output", str(tmp_path / "out"), "--stress", str(tmp_path / "stress")])
    out = capsys.readouterr().out
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("stress human-edits"))
    assert "target >= 0.95" in line and (tmp_path / "out-stress" / "human-edits" / "provenance").exists()
