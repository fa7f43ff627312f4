"""Score rewrite detection on rewrite-pairs: model rewrites of scientific abstracts, run as one corpus.

Each source abstract becomes one plain-text document dated 2020-01-01 and each rewrite one document
dated 2021-01-01, all in one pipeline run (so rewrites of the same source compete with each other as
candidate sources, as they would on the web). A rewrite document counts as found when the label that
carries most of its words is ``ai_paraphrased`` and its longest ``ai_paraphrased`` paragraph names the
source document as root. Paragraph by paragraph, the same run also gives each generator's shares of
rewrite paragraphs labelled ai_paraphrased, copied and original, with the right root, and of source
paragraphs labelled original.

The machine-edit model (``classify.machine_edit_*``) is fitted on this corpus's near-verbatim polishes
(``tools/fit_machine_edit.py``), so each generator is scored from the run's saved stages classified again with
that model fitted without it (``tools/machine_edit_fits.json``); a generator with no such fit is flagged.
``classify.sentence_min_content`` and ``classify.reuse_run_words`` / ``reuse_min_share``, also chosen here,
came out the same with each generator held out.
"""
from __future__ import annotations

import csv
import shutil
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

import pyarrow as pa

from pipeline.config import Config
from pipeline.io.parquet import read_dataset
from pipeline.runner import run
from pipeline.schema import CANDIDATES, PARAGRAPHS
from pipeline.stages.classify import provenance_rows
from pipeline.text import words

SOURCE_DATE = "2020-01-01T00:00:00Z"
REWRITE_DATE = "2021-01-01T00:00:00Z"
OUTCOMES = ("ai_paraphrased, source root", "ai_paraphrased, other root", "copied", "original")
LABELS = ("ai_paraphrased", "copied", "original")
SHARES = (*LABELS, "right_root", "sources_original")  # columns of the paragraph table, after generator, paragraphs


@dataclass(frozen=True)
class Rewrite:
    """One rewrite document of the corpus and what it must be traced to."""

    generator: str
    prompt: str
    source_file: str


@dataclass
class RewriteReport:
    """Outcome counts per (generator, prompt), from which the document figures derive, and the paragraph shares."""

    outcomes: Counter = field(default_factory=Counter)  # (generator, prompt, outcome) -> rewrites
    paragraphs: pd.DataFrame = field(default_factory=pd.DataFrame)  # paragraph_shares(): one row per generator, all
    held_out: frozenset = frozenset()  # generators scored with the fitted settings refitted without them

    def share_found(self, generator: str, prompt: str | None = None) -> float:
        rows = {k: v for k, v in self.outcomes.items() if k[0] == generator and prompt in (None, k[1])}
        return sum(v for k, v in rows.items() if k[2] == OUTCOMES[0]) / max(1, sum(rows.values()))

    def confusion(self, generator: str) -> dict[str, int]:
        return {o: sum(v for k, v in self.outcomes.items() if k[0] == generator and k[2] == o) for o in OUTCOMES}

    @property
    def generators(self) -> list[str]:
        return sorted({k[0] for k in self.outcomes})

    def prompts(self, generator: str) -> list[str]:
        return sorted({k[1] for k in self.outcomes if k[0] == generator})


def read_pairs(bench: Path, sources: int | None = None) -> list[dict]:
    """The pairs of ``bench/pairs.jsonl``; with ``sources``, only the pairs of that many source abstracts,
    chosen by hash of their id (a fixed sample that does not depend on the file's order)."""
    lines = (Path(bench) / "pairs.jsonl").read_text(encoding="utf-8").splitlines()
    pairs = [json.loads(line) for line in lines if line.strip()]
    if sources is None:
        return pairs
    ids = sorted({p["source_id"] for p in pairs}, key=lambda s: hashlib.sha1(s.encode()).hexdigest())
    kept = set(ids[:sources])
    return [p for p in pairs if p["source_id"] in kept]


def write_corpus(pairs: list[dict], folder: Path) -> dict[str, Rewrite]:
    """Text documents and their ``manifest.csv`` under ``folder``; returns each rewrite file's gold."""
    shutil.rmtree(folder, ignore_errors=True)  # a corpus of an earlier, larger sample must not linger
    folder.mkdir(parents=True)
    manifest, gold = [], {}
    for pair in pairs:
        source_file = f"source-{pair['source_id']}.txt"
        if not (folder / source_file).exists():
            (folder / source_file).write_text(pair["source"], encoding="utf-8")
            manifest.append((source_file, f"https://arxiv.example.org/{pair['source_id']}", SOURCE_DATE))
    for n, pair in enumerate(pairs):
        name = f"rewrite-{n:05d}.txt"
        (folder / name).write_text(pair["rewrite"], encoding="utf-8")
        manifest.append((name, f"https://rewrites.example.org/{n:05d}", REWRITE_DATE))
        gold[name] = Rewrite(pair["generator"], pair["prompt"], f"source-{pair['source_id']}.txt")
    with open(folder / "manifest.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("path", "url", "published_at"), *manifest])
    return gold


def evaluate_rewrites(bench: Path, output: Path, cfg: Config, sources: int | None = None,
                      from_stage: str = "ingest", held_out: dict[str, dict] | None = None) -> RewriteReport:
    """Build the corpus next to ``output``, run the pipeline on it into ``output`` and score the rewrites; a
    generator named in ``held_out`` (generator -> classify settings fitted without it) is scored from the
    saved stages classified under those settings."""
    corpus = Path(output).with_name(Path(output).name + "-corpus")
    gold = write_corpus(read_pairs(bench, sources), corpus)
    run(cfg.with_run(input=[corpus], output=Path(output)), from_stage=from_stage, rebuild=from_stage == "ingest")
    docs = pd.read_parquet(Path(output) / "documents")
    prov = named_paragraphs(pd.read_parquet(Path(output) / "provenance"), docs)
    held = {g: settings for g, settings in (held_out or {}).items() if g in {w.generator for w in gold.values()}}
    for generator, settings in held.items():
        own = {name for name, want in gold.items() if want.generator == generator}
        refitted = named_paragraphs(classified_again(Path(output), docs, cfg.with_classify(**settings)), docs)
        prov = pd.concat([prov[~prov["name"].isin(own)], refitted[refitted["name"].isin(own)]], ignore_index=True)
    return score_rewrites(prov, gold, frozenset(held))


def classified_again(output: Path, docs: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """The provenance rows of the run under ``output`` classified again from its saved stages under ``cfg``:
    the same paragraphs and candidates, so only what classify's settings decide can differ."""
    return provenance_rows(read_dataset(output / "stages" / "segment", PARAGRAPHS),
                           read_dataset(output / "stages" / "match", CANDIDATES),
                           pa.Table.from_pandas(docs[["doc_id", "published_at"]], preserve_index=False), cfg)


def score_rewrites(prov: pd.DataFrame, gold: dict[str, Rewrite], held_out: frozenset = frozenset()) -> RewriteReport:
    """Outcome of every rewrite document of ``gold`` among the named provenance rows, and the paragraph shares."""
    report = RewriteReport(paragraphs=paragraph_shares(prov, gold), held_out=held_out)
    for name, rows in prov.groupby("name"):
        if name in gold:
            want = gold[name]
            report.outcomes[(want.generator, want.prompt, document_outcome(rows, want.source_file))] += 1
    return report


def named_paragraphs(prov: pd.DataFrame, docs: pd.DataFrame) -> pd.DataFrame:
    """Provenance rows with their document's and root's corpus file names (the gold's keys) and word counts."""
    name_of = {r.doc_id: Path(str(r.source_path)).name for r in docs.itertuples()}
    prov["name"] = prov["doc_id"].map(name_of)
    prov["words"] = prov["text"].map(lambda t: len(words(t)))
    prov["root_name"] = prov["source_doc_id"].map(name_of)
    return prov


def paragraph_shares(prov: pd.DataFrame, gold: dict[str, Rewrite]) -> pd.DataFrame:
    """Per generator (and ``all``): shares of rewrite paragraphs labelled ai_paraphrased, copied and original,
    share with the right root (ai_paraphrased, rooted in the source's document), and share of all source
    paragraphs labelled original. Unlike the document outcome, every paragraph of a rewrite counts."""
    rewrites = prov[prov["name"].isin(gold)]
    generator = rewrites["name"].map({name: want.generator for name, want in gold.items()})
    source = rewrites["name"].map({name: want.source_file for name, want in gold.items()})
    rewrites = rewrites.assign(generator=generator,
                               right_root=(rewrites["label"] == "ai_paraphrased") & (rewrites["root_name"] == source))
    sources = prov[prov["name"].isin({want.source_file for want in gold.values()})]
    sources_original = (sources["label"] == "original").mean()
    rows = []
    for name, group in [*rewrites.groupby("generator"), ("all", rewrites)]:
        shares = group["label"].value_counts(normalize=True)
        rows.append({"generator": name, "paragraphs": len(group), **{label: shares.get(label, 0.0) for label in LABELS},
                     "right_root": group["right_root"].mean(), "sources_original": sources_original})
    return pd.DataFrame(rows, columns=["generator", "paragraphs", *SHARES])


def document_outcome(rows: pd.DataFrame, source_file: str) -> str:
    """What the pipeline made of one rewrite document (one of ``OUTCOMES``)."""
    label = rows.groupby("label", observed=True)["words"].sum().idxmax()
    if label != "ai_paraphrased":
        return str(label)
    main = rows[rows["label"] == "ai_paraphrased"].sort_values(["words", "para_index"], ascending=[False, True]).iloc[0]
    return OUTCOMES[0] if main["root_name"] == source_file else OUTCOMES[1]


def format_rewrites(report: RewriteReport) -> str:
    """Per generator: the share found (ai_paraphrased with the source as root), per prompt, and the confusion."""
    lines = []
    for generator in report.generators:
        total = sum(report.confusion(generator).values())
        lines.append(f"{generator}: ai_paraphrased with source root {report.share_found(generator):.3f} of {total}"
                     f"{_fitted(report, generator)}; {report.confusion(generator)}")
        for prompt in report.prompts(generator):
            lines.append(f"    {prompt:50s} {report.share_found(generator, prompt):.3f}")
    lines += ["", "rewrite paragraphs, share per label and with the right root; source paragraphs labelled original:",
              report.paragraphs.to_string(index=False, float_format=lambda v: f"{v:.4f}")]
    return "\n".join(lines)


def rewrites_section(report: RewriteReport, bench: Path, sources: int | None) -> str:
    """The figures as a ``## `` section of docs/benchmarks.md."""
    sample = f"{sources} source abstracts sampled by hash of their id" if sources else "every pair"
    lines = [f"## Rewrites found on `{Path(bench).name}`", "",
             f"Run {date.today().isoformat()} (`provenance eval rewrites`, {sample}; sources dated 2020-01-01, "
             "rewrites 2021-01-01, one corpus). Each generator is scored with the machine-edit model fitted "
             "without it (classified again from the run's saved stages), unless flagged.", "",
             "| generator | rewrites | ai_paraphrased, source root | " + " | ".join(OUTCOMES[1:]) + " |",
             "|---|---|---|---|---|---|"]
    for generator in report.generators:
        counts = report.confusion(generator)
        lines.append(f"| {generator}{_fitted(report, generator)} | {sum(counts.values())} | {report.share_found(generator):.3f} | "
                     + " | ".join(str(counts[o]) for o in OUTCOMES[1:]) + " |")
    lines += ["", "Paragraph by paragraph: share of rewrite paragraphs labelled each label and with the right root "
              "(ai_paraphrased, rooted in the source's document), share of source paragraphs labelled original.", "",
              "| generator | paragraphs | " + " | ".join(SHARES) + " |", "|---" * (len(SHARES) + 2) + "|"]
    for row in report.paragraphs.itertuples(index=False):
        lines.append(f"| {row.generator} | {row.paragraphs} | "
                     + " | ".join(f"{getattr(row, share):.4f}" for share in SHARES) + " |")
    return "\n".join(lines) + "\n"


def _fitted(report: RewriteReport, generator: str) -> str:
    """A flag on a generator whose figures come from settings fitted with it."""
    return "" if generator in report.held_out else " (fitted with it)"
