"""Count false derivations on independent pages (wcxb-articles: pages from hundreds of sites, none
derived from another), run as one corpus.

Every paragraph labelled ``copied`` or ``ai_paraphrased`` there is a false derivation. The list gives
each with its source paragraph and the evidence, so that a reader can judge the pair.
"""
from __future__ import annotations

import csv
import shutil
import json
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from pipeline.config import Config
from pipeline.runner import run

DERIVED = ("copied", "ai_paraphrased")


@dataclass(frozen=True)
class Derivation:
    """A paragraph labelled derived, and what it was traced to."""

    page: str
    para: int
    text: str
    label: str
    method: str
    source_page: str
    source_para: int | None
    source_text: str
    lexical: float | None
    semantic: float | None


def write_corpus(bench: Path, folder: Path) -> int:
    """Links to ``bench/html/*.html.gz`` under ``folder`` with a manifest of their URL and date; returns pages."""
    shutil.rmtree(folder, ignore_errors=True)  # a corpus of an earlier, larger sample must not linger
    folder.mkdir(parents=True)
    rows = [("path", "url", "published_at")]
    for page in sorted((Path(bench) / "html").glob("*.html.gz")):
        os.symlink(page.resolve(), folder / page.name)
        meta = json.loads((Path(bench) / "ground-truth" / page.name.replace(".html.gz", ".json")).read_text("utf-8"))
        rows.append((page.name, meta.get("url") or "", meta["ground_truth"].get("publish_date") or ""))
    with open(folder / "manifest.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return len(rows) - 1


def evaluate_independent(bench: Path, output: Path, cfg: Config, from_stage: str = "ingest") -> list[Derivation]:
    """Run the pipeline on ``bench``'s pages into ``output`` and list every paragraph labelled derived."""
    corpus = Path(output).with_name(Path(output).name + "-corpus")
    write_corpus(bench, corpus)
    run(cfg.with_run(input=[corpus], output=Path(output)), from_stage=from_stage, rebuild=from_stage == "ingest")
    return derivations(Path(output))


def derivations(output: Path) -> list[Derivation]:
    """Every paragraph of the run under ``output`` labelled ``copied`` or ``ai_paraphrased``."""
    docs = pd.read_parquet(output / "documents")
    prov = pd.read_parquet(output / "provenance")
    name_of = {r.doc_id: Path(str(r.source_path)).name for r in docs.itertuples()}
    text_of = {(r.doc_id, int(r.para_index)): r.text for r in prov.itertuples()}
    derived = prov[prov["label"].isin(DERIVED)].sort_values(["doc_id", "para_index"])
    return [Derivation(name_of[r.doc_id], int(r.para_index), r.text, str(r.label), r.method,
                       name_of.get(r.direct_doc_id, ""), int(r.direct_para_index),
                       text_of.get((r.direct_doc_id, int(r.direct_para_index)), ""),
                       _number(r.lexical_similarity), _number(r.semantic_similarity))
            for r in derived.itertuples()]


def _number(value) -> float | None:
    return None if pd.isna(value) else float(value)


def format_derivations(found: list[Derivation]) -> str:
    """Each false derivation on one line, then the count (the last line)."""
    lines = [f"{d.page} <- {d.source_page} {d.label} ({d.method}, lexical {_fmt(d.lexical)}, semantic "
             f"{_fmt(d.semantic)}): {d.text[:80]!r} ~ {d.source_text[:80]!r}" for d in found]
    pages = len({d.page for d in found})
    lines.append(f"paragraphs labelled derived {len(found)} in {pages} documents")
    return "\n".join(lines)


def independent_section(found: list[Derivation], bench: Path) -> str:
    """The count and the full list as a ``## `` section of docs/benchmarks.md."""
    lines = [f"## False derivations on `{Path(bench).name}`", "",
             f"Run {date.today().isoformat()} (`provenance eval independent`, every page as one corpus, with its URL "
             f"and date). **{len(found)}** paragraphs in {len({d.page for d in found})} documents labelled derived; "
             "none of these pages derives from another.", ""]
    if found:
        lines += ["| page:para | source page:para | label | method | lexical | semantic | paragraph | source paragraph |",
                  "|---|---|---|---|---|---|---|---|"]
        lines += [f"| {d.page}:{d.para} | {d.source_page}:{d.source_para} | {d.label} | {d.method} | {_fmt(d.lexical)} | "
                  f"{_fmt(d.semantic)} | {_cell(d.text)} | {_cell(d.source_text)} |" for d in found]
    return "\n".join(lines) + "\n"


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _cell(text: str, limit: int = 160) -> str:
    """Untrusted page text as one markdown table cell: cut, on one line, with the characters that would
    end the cell, open code or make HTML escaped."""
    cut = " ".join(text[:limit].split())
    for char, escaped in (("\\", "\\\\"), ("&", "&amp;"), ("|", "\\|"), ("`", "\\`"), ("<", "&lt;"), (">", "&gt;")):
        cut = cut.replace(char, escaped)
    return cut
