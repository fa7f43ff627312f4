"""Score the stress sets of ``tests/data/stress`` (built by ``tools/build_stress_sets.py``), one line each.

Each set is a small labelled corpus in provenance-dev's format, run through the whole pipeline on its
own. Only its derived documents are scored (those whose ``doc_type`` does not start with ``source_``),
each set by the figure issue 9 sets a target for:

- ``restructured``: rewrites merged, split, condensed and reordered, found ``ai_paraphrased`` with the
  right source document;
- ``human-edits``: copies with 1 to 8 human edits, labelled ``copied``;
- ``human-paraphrases``: independent human paraphrases in the source's order, labelled ``original``;
- ``roundups-chains``: roundups and three-step chains, undated, resolved to the root document.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pipeline.config import Config
from pipeline.evaluate.provenance import ProvenanceReport, evaluate_provenance


@dataclass(frozen=True)
class StressSet:
    name: str
    figure: str
    target: float
    value: Callable[[ProvenanceReport], float]


def _recall(label: str) -> Callable[[ProvenanceReport], float]:
    return lambda r: r.per_class()[label].recall


SETS = (
    StressSet("restructured", "ai_paraphrased with the right source document", 0.90, lambda r: r.root_doc_accuracy),
    StressSet("human-edits", "copied", 0.95, _recall("copied")),
    StressSet("human-paraphrases", "original", 0.95, _recall("original")),
    StressSet("roundups-chains", "root source document right", 0.95, lambda r: r.root_doc_accuracy),
)


@dataclass(frozen=True)
class StressResult:
    spec: StressSet
    report: ProvenanceReport

    @property
    def value(self) -> float:
        return self.spec.value(self.report)

    @property
    def paragraphs(self) -> int:
        return sum(self.report.confusion.values())


def scored_paragraphs(folder: Path) -> frozenset:
    """(file name, para_index) of the paragraphs of the set's derived documents."""
    rows = [json.loads(x) for x in (folder / "labels.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    return frozenset((Path(r["path"]).name, r["para_index"]) for r in rows if not r["doc_type"].startswith("source_"))


def evaluate_stress(stress: Path, output: Path, cfg: Config, from_stage: str = "ingest") -> list[StressResult]:
    """Every set found under ``stress``, run into ``output/<set>`` and scored."""
    results = []
    for spec in SETS:
        folder = Path(stress) / spec.name
        if not (folder / "labels.jsonl").exists():
            continue
        report = evaluate_provenance(folder, Path(output) / spec.name, cfg, from_stage, scored_paragraphs(folder))
        results.append(StressResult(spec, report))
    return results


def format_stress(results: list[StressResult]) -> str:
    """One line per set: the figure, its target, and what the scored paragraphs became."""
    lines = ["stress sets (tests/data/stress; derived documents only):"]
    for r in results:
        mark = "met" if r.value >= r.spec.target else "NOT met"
        lines.append(f"stress {r.spec.name:18s} {r.spec.figure} {r.value:.3f} (target >= {r.spec.target:.2f}, {mark}); "
                     f"{r.paragraphs} paragraphs {dict(sorted(r.report.confusion.items()))}")
    return "\n".join(lines)


def stress_section(results: list[StressResult]) -> str:
    """The stress-set lines as a Markdown table (appended to the corpus section)."""
    lines = ["### Stress sets", "", "Built by `tools/build_stress_sets.py` from provenance-dev's text into "
             "`tests/data/stress/`; each set run as its own corpus, only its derived documents scored.", "",
             "| set | figure | value | target | paragraphs |", "|---|---|---|---|---|"]
    lines += [f"| {r.spec.name} | {r.spec.figure} | {r.value:.3f} | >= {r.spec.target:.2f} | {r.paragraphs} |"
              for r in results]
    return "\n".join(lines) + "\n"
