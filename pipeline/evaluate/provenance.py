"""Score paragraph provenance against a labelled corpus (the rules of ``score_corpus.py``, exactly).

A bench folder holds ``docs/`` (the pipeline input), ``labels.jsonl`` (one row per article paragraph:
``path, para_index, text, label, source_path, source_para_index``) and optionally ``chrome.jsonl``
(page chrome that must not be kept). Documents are matched by file name.

A gold paragraph is kept when >= 80% of its words appear in kept paragraphs of its document that lie
mostly inside it (or hold most of it); its predicted label is the word-weighted vote of those
paragraphs, ``dropped`` otherwise. The root source counts as right when the best-covering paragraph
names the gold source document; the source paragraph when, in addition, the named source paragraph
covers >= 80% of the gold source paragraph's words. A chrome block leaks when one of its segments of
four words or more appears in the document's kept text.
"""
from __future__ import annotations

import json
import os
import platform
from datetime import date
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.config import Config
from pipeline.runner import run
from pipeline.schema import LABELS
from pipeline.text import words

_KEPT = 0.8
_COVERING = 0.5
_MIN_CHROME_WORDS = 4


@dataclass(frozen=True)
class ClassScore:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class ProvenanceReport:
    """Counts behind every figure; the figures are derived properties."""

    confusion: Counter = field(default_factory=Counter)  # (gold, predicted) -> paragraphs
    root_doc: list[int] = field(default_factory=lambda: [0, 0])  # right, derived gold paragraphs
    source_para: list[int] = field(default_factory=lambda: [0, 0])
    kept: list[int] = field(default_factory=lambda: [0, 0])
    chrome: list[int] = field(default_factory=lambda: [0, 0])  # leaked, chrome blocks scored
    leak_kinds: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def per_class(self) -> dict[str, ClassScore]:
        out = {}
        for label in LABELS:
            tp = self.confusion[(label, label)]
            predicted = sum(v for (_, p), v in self.confusion.items() if p == label)
            support = sum(v for (g, _), v in self.confusion.items() if g == label)
            precision = tp / predicted if predicted else 0.0
            recall = tp / support if support else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            out[label] = ClassScore(precision, recall, f1, support)
        return out

    @property
    def macro_f1(self) -> float:
        return sum(s.f1 for s in self.per_class().values()) / len(LABELS)

    @property
    def ai_false_positive_rate(self) -> float:
        """Share of human (gold ``original``) paragraphs labelled ``ai_paraphrased``."""
        human = sum(v for (g, _), v in self.confusion.items() if g == "original")
        return self.confusion[("original", "ai_paraphrased")] / max(human, 1)

    @property
    def root_doc_accuracy(self) -> float:
        return self.root_doc[0] / max(self.root_doc[1], 1)

    @property
    def source_para_accuracy(self) -> float:
        return self.source_para[0] / max(self.source_para[1], 1)


def evaluate_provenance(bench: Path, output: Path, cfg: Config, from_stage: str = "ingest",
                        only: frozenset | None = None) -> ProvenanceReport:
    """Run the pipeline on ``bench/docs`` into ``output`` and score it against ``bench``'s labels (with
    ``only``, just those paragraphs, as in ``score_frames``)."""
    run(cfg.with_run(input=[Path(bench) / "docs"], output=Path(output)), from_stage=from_stage,
        rebuild=from_stage == "ingest")
    return score_output(Path(output), Path(bench), only)


def score_output(output: Path, bench: Path, only: frozenset | None = None) -> ProvenanceReport:
    """Score the ``documents/`` and ``provenance/`` tables under ``output`` against ``bench``."""
    return score_frames(pd.read_parquet(output / "documents"), pd.read_parquet(output / "provenance"), bench, only)


def score_frames(docs: pd.DataFrame, prov: pd.DataFrame, bench: Path, only: frozenset | None = None) -> ProvenanceReport:
    """Score provenance rows against ``bench``; with ``only``, just those gold (file name, para_index)
    paragraphs (and no chrome)."""
    name_of = {r.doc_id: Path(str(r.source_path)).name for r in docs.itertuples()}
    text_of = {(r.doc_id, int(r.para_index)): r.text for r in prov.itertuples()}
    by_doc: dict[str, list] = defaultdict(list)
    for row in prov.to_dict("records"):
        by_doc[name_of.get(row["doc_id"], row["doc_id"])].append((words(row["text"]), row))
    report = ProvenanceReport()
    gold = _read_jsonl(Path(bench) / "labels.jsonl")
    gold_text = {(Path(g["path"]).name, g["para_index"]): g["text"] for g in gold}
    for g in gold:
        if only is None or (Path(g["path"]).name, g["para_index"]) in only:
            _score_paragraph(g, by_doc, name_of, text_of, gold_text, report)
    chrome_file = Path(bench) / "chrome.jsonl"
    if only is None and chrome_file.exists():
        _score_chrome(_read_jsonl(chrome_file), by_doc, report)
    return report


def _score_paragraph(g: dict, by_doc: dict, name_of: dict, text_of: dict, gold_text: dict,
                     report: ProvenanceReport) -> None:
    name = Path(g["path"]).name
    coverage, covering = _cover(words(g["text"]), by_doc.get(name, []))
    report.kept[0] += coverage >= _KEPT
    report.kept[1] += 1
    predicted = _vote(covering) if coverage >= _KEPT else "dropped"
    report.confusion[(g["label"], predicted)] += 1
    if predicted != g["label"]:
        report.failures.append(f"{name}#{g['para_index']} gold {g['label']} got {predicted}: {g['text'][:70]!r}")
    if g["label"] == "original":
        return
    report.root_doc[1] += 1
    top = max(covering, key=lambda c: c[0])[1] if predicted == g["label"] else None
    got = name_of.get(top["source_doc_id"]) if top is not None and top["source_doc_id"] is not None else None
    want = Path(g["source_path"]).name if g.get("source_path") else None
    report.root_doc[0] += got is not None and got == want
    if want and g.get("source_para_index") is not None:
        report.source_para[1] += 1
        if got == want and pd.notna(top["source_para_index"]):
            source_text = text_of.get((top["source_doc_id"], int(top["source_para_index"])), "")
            wanted_text = gold_text.get((want, g["source_para_index"]), "")
            report.source_para[0] += bool(source_text) and _cover(words(wanted_text), [(words(source_text), None)])[0] >= _KEPT


def _cover(gold: list[str], paras: list[tuple[list[str], dict | None]]) -> tuple[float, list[tuple[int, dict | None]]]:
    """Share of ``gold``'s words covered, and the (shared words, row) of paragraphs lying mostly in or over it."""
    need = Counter(gold)
    covering = []
    for tokens, row in paras:
        if not tokens:
            continue
        shared = sum((Counter(tokens) & need).values())
        if shared / len(tokens) >= _COVERING or shared / max(len(gold), 1) >= _COVERING:
            covering.append((shared, row))
    return min(1.0, sum(s for s, _ in covering) / max(len(gold), 1)), covering


def _vote(covering: list[tuple[int, dict]]) -> str:
    """The label carrying most covered words (the first seen wins a tie)."""
    votes: Counter = Counter()
    for shared, row in covering:
        votes[row["label"]] += shared
    return votes.most_common(1)[0][0]


def _score_chrome(chrome: list[dict], by_doc: dict, report: ProvenanceReport) -> None:
    kept_text = {name: " ".join(" ".join(words(r["text"])) for _, r in paras) for name, paras in by_doc.items()}
    for block in chrome:
        pieces = [" ".join(words(t)) for t in (block.get("segments") or [block["text"]])]
        pieces = [p for p in pieces if len(p.split()) >= _MIN_CHROME_WORDS]
        if not pieces:
            continue
        report.chrome[1] += 1
        text = kept_text.get(Path(block["path"]).name, "")
        hit = next((p for p in pieces if p in text), None)
        if hit:
            report.chrome[0] += 1
            report.leak_kinds[block["kind"]] += 1
            report.failures.append(f"chrome leak ({block['kind']}) in {Path(block['path']).name}: {hit[:60]!r}")


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def format_report(report: ProvenanceReport, verbose: bool = False) -> str:
    """The report as text; the last line is ``macro-F1 X`` (as ``score_corpus.py`` prints it)."""
    lines = [f"FAIL {f}" for f in report.failures] if verbose else []
    lines.append(f"{'class':16s} {'prec':>6s} {'recall':>6s} {'F1':>6s} {'n':>5s}")
    for label, s in report.per_class().items():
        lines.append(f"{label:16s} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f} {s.support:5d}")
    lines.append(f"confusion (gold -> predicted): {dict(sorted(report.confusion.items()))}")
    lines.append(f"ai_paraphrased false-positive rate on human paragraphs {report.ai_false_positive_rate:.3f}")
    lines.append(f"root-source document accuracy {report.root_doc[0]}/{report.root_doc[1]} = {report.root_doc_accuracy:.3f}")
    lines.append(f"source-paragraph accuracy {report.source_para[0]}/{report.source_para[1]} = "
                 f"{report.source_para_accuracy:.3f}")
    lines.append(f"article paragraphs kept {report.kept[0]}/{report.kept[1]} = {report.kept[0] / max(report.kept[1], 1):.3f}")
    if report.chrome[1]:
        kinds = dict(report.leak_kinds) if report.leak_kinds else ""
        lines.append(f"chrome blocks leaked {report.chrome[0]}/{report.chrome[1]} {kinds}")
    lines.append(f"macro-F1 {report.macro_f1:.3f}")
    return "\n".join(lines)


def markdown_section(report: ProvenanceReport, bench: Path) -> str:
    """The figures as a ``## `` section of docs/benchmarks.md, with the date and machine."""
    lines = [
        f"## Provenance labels on `{Path(bench).name}`",
        "",
        f"Run {date.today().isoformat()} on {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()} (`provenance eval provenance`; `score_corpus.py` agrees).",
        "",
        "| class | precision | recall | F1 | n |",
        "|---|---|---|---|---|",
    ]
    for label, s in report.per_class().items():
        lines.append(f"| {label} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {s.support} |")
    lines += [
        "",
        f"- macro-F1 **{report.macro_f1:.3f}**",
        f"- ai_paraphrased false-positive rate on human paragraphs {report.ai_false_positive_rate:.3f}",
        f"- root-source document accuracy {report.root_doc_accuracy:.3f}, source-paragraph accuracy "
        f"{report.source_para_accuracy:.3f}",
        f"- article paragraphs kept {report.kept[0]}/{report.kept[1]}; chrome blocks leaked "
        f"{report.chrome[0]}/{report.chrome[1]}",
        f"- confusion (gold -> predicted): {dict(sorted(report.confusion.items()))}",
    ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class GroupResult:
    """One held-out group's figures, with parameters fitted on the other groups."""

    dimension: str
    name: str
    report: ProvenanceReport
    predictions: pd.DataFrame
    settings: dict = field(default_factory=dict)
    """The classify settings chosen without the group (``pipeline.evaluate.groups.CLASSIFY_GRID``)."""

    @property
    def classes(self) -> int:
        return sum(s.support > 0 for s in self.report.per_class().values())

    @property
    def macro_f1(self) -> float | None:
        """Macro-F1 over the classes the group holds; None for a one-class group."""
        present = [s.f1 for s in self.report.per_class().values() if s.support]
        return sum(present) / len(present) if len(present) > 1 else None


def leave_one_group_out(bench: Path, output: Path, cfg: Config) -> list[GroupResult]:
    """Every group of ``pipeline.evaluate.groups`` scored with parameters fitted without it, classifying
    from the saved stages of the run in ``output``."""
    from pipeline.evaluate.groups import corpus_groups, load_saved, run_folds

    saved = load_saved(Path(output), Path(bench))
    folds = run_folds(saved, corpus_groups(Path(bench), saved.gold), cfg)
    return [GroupResult(f.group.dimension, f.group.name,
                        score_frames(saved.documents, f.provenance, Path(bench), f.group.paragraphs), f.predictions,
                        f.settings)
            for f in folds]


def pooled_false_positive_rate(groups: list[GroupResult]) -> float:
    """ai_paraphrased on human paragraphs, pooled over every held-out run."""
    wrong = sum(g.report.confusion[("original", "ai_paraphrased")] for g in groups)
    human = sum(v for g in groups for (gold, _), v in g.report.confusion.items() if gold == "original")
    return wrong / max(1, human)


def calibration_errors(groups: list[GroupResult], dimension: str = "doc_type") -> dict[str, float]:
    """Expected calibration error per predicted label of the cross-fitted confidence, over the groups of
    one dimension (each dimension's groups are disjoint, so each paragraph counts once), for the labels
    predicted ``MIN_GROUP`` times or more there: the generator groups hold model rewrites only, and the
    two of them called ``copied`` are one bin of noise, not a calibration."""
    from pipeline.evaluate.groups import MIN_GROUP

    return _label_errors(pd.concat([g.predictions for g in groups if g.dimension == dimension]), MIN_GROUP)


def worst_calibrated(groups: list[GroupResult], dimension: str) -> dict[str, tuple[float, str]]:
    """Per predicted label, the largest cross-fitted calibration error of one held-out group of ``dimension``
    and its name, among the groups with at least ``MIN_GROUP`` paragraphs of that label (fewer give one bin
    of noise)."""
    from pipeline.evaluate.groups import MIN_GROUP

    worst: dict[str, tuple[float, str]] = {}
    for g in groups:
        if g.dimension != dimension:
            continue
        for label, error in _label_errors(g.predictions, MIN_GROUP).items():
            worst[label] = max(worst.get(label, (error, g.name)), (error, g.name))
    return worst


def _label_errors(frame: pd.DataFrame, at_least: int = 1) -> dict[str, float]:
    from pipeline.evaluate.groups import expected_calibration_error

    return {label: expected_calibration_error(part["confidence"].to_numpy(), part["right"].to_numpy(float))
            for label, part in frame.groupby("label") if len(part) >= at_least}


def calibration_lines(groups: list[GroupResult]) -> list[str]:
    """Cross-fitted expected calibration error per label for each dimension, with its worst group."""
    lines = []
    for dimension in dict.fromkeys(g.dimension for g in groups):
        worst = worst_calibrated(groups, dimension)
        lines.append(f"cross-fitted expected calibration error per label, {dimension} groups: " + ", ".join(
            f"{label} {error:.3f}" + (f" (worst group {worst[label][0]:.3f}, {worst[label][1]})" if label in worst else "")
            for label, error in sorted(calibration_errors(groups, dimension).items())))
    return lines


def settings_line(groups: list[GroupResult]) -> str:
    """The classify settings chosen without each group: each choice with how many groups it was made for, and
    which groups when it was not made for most."""
    chosen: dict[str, list[str]] = defaultdict(list)
    for g in groups:
        chosen[", ".join(f"{name} {value}" for name, value in sorted(g.settings.items()))].append(g.name)
    ordered = sorted(chosen.items(), key=lambda item: -len(item[1]))
    return "classify settings chosen without each group: " + "; ".join(
        f"{settings} ({len(names)} of {len(groups)} groups" + ("" if i == 0 else ": " + ", ".join(names)) + ")"
        for i, (settings, names) in enumerate(ordered))


def _group_rows(groups: list[GroupResult]) -> list[tuple]:
    rows = []
    for g in groups:
        f1 = "-" if g.macro_f1 is None else f"{g.macro_f1:.3f}"
        root = f"{g.report.root_doc_accuracy:.3f}" if g.report.root_doc[1] else "-"
        human = sum(v for (gold, _), v in g.report.confusion.items() if gold == "original")
        fpr = f"{g.report.ai_false_positive_rate:.3f}" if human else "-"
        rows.append((g.dimension, g.name, sum(g.report.confusion.values()), f1, root, fpr))
    return rows


def _worst(groups: list[GroupResult]) -> tuple[GroupResult, GroupResult]:
    """The group with the lowest macro-F1 (of those holding two classes or more) and the lowest root-source accuracy."""
    by_f1 = min((g for g in groups if g.macro_f1 is not None), key=lambda g: g.macro_f1)
    by_root = min((g for g in groups if g.report.root_doc[1]), key=lambda g: g.report.root_doc_accuracy)
    return by_f1, by_root


def format_groups(groups: list[GroupResult]) -> str:
    """Per held-out group: paragraphs, macro-F1, root-source accuracy, ai false-positive rate; then the worst."""
    lines = ["leave one group out (classify settings and confidence calibration chosen without the group):",
             f"{'dimension':10s} {'group':52s} {'n':>5s} {'macroF1':>7s} {'root':>6s} {'aiFPR':>6s}"]
    lines += [f"{d:10s} {n[:52]:52s} {c:5d} {f1:>7s} {r:>6s} {p:>6s}" for d, n, c, f1, r, p in _group_rows(groups)]
    by_f1, by_root = _worst(groups)
    lines.append(f"worst group macro-F1 {by_f1.macro_f1:.3f} ({by_f1.dimension}: {by_f1.name}); worst root-source "
                 f"{by_root.report.root_doc_accuracy:.3f} ({by_root.dimension}: {by_root.name}); pooled ai false-positive "
                 f"rate on held-out human paragraphs {pooled_false_positive_rate(groups):.3f}")
    return "\n".join(lines + [settings_line(groups)] + calibration_lines(groups))


def groups_section(groups: list[GroupResult]) -> str:
    """The leave-one-group-out table as Markdown (appended to the corpus section)."""
    by_f1, by_root = _worst(groups)
    lines = ["### Leave one group out", "",
             "Each group held out in turn: the classify settings of `CLASSIFY_GRID` chosen and the confidence "
             "calibration refitted on the other groups' documents "
             "(the machine-edit model is fitted on rewrite-pairs and human-edited copies, never on this corpus), "
             "the whole corpus classified, only the group scored (groups under 30 "
             "labelled paragraphs pooled per dimension; macro-F1 only for groups with two classes or more).", "",
             "| dimension | group | paragraphs | macro-F1 | root-source | ai FPR on human |", "|---|---|---|---|---|---|"]
    lines += [f"| {d} | {n} | {c} | {f1} | {r} | {p} |" for d, n, c, f1, r, p in _group_rows(groups)]
    lines += ["", f"- worst group macro-F1 **{by_f1.macro_f1:.3f}** ({by_f1.name}); worst root-source "
              f"**{by_root.report.root_doc_accuracy:.3f}** ({by_root.name}); pooled ai false-positive rate on "
              f"held-out human paragraphs **{pooled_false_positive_rate(groups):.3f}**"]
    lines += [f"- {line}" for line in [settings_line(groups)] + calibration_lines(groups)]
    return "\n".join(lines) + "\n"
