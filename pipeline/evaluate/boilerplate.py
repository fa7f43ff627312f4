"""Boilerplate-stripping benchmark: our strip and segment stages against trafilatura and jusText alone.

The benchmark folder holds ``html/<id>.html.gz`` and ``ground-truth.json`` (``{id: {"articleBody", "url"}}``),
as the Article Extraction Benchmark publishes them. Scoring is the benchmark's own: each text becomes a
multiset of word 4-gram shingles; precision and recall are per page, then averaged over pages; F1 is the
harmonic mean of the two averages.
"""
from __future__ import annotations

import gzip
import json
import os
import platform
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import justext
import pyarrow as pa
import trafilatura

from pipeline.config import Config
from pipeline.schema import INGESTED, to_table
from pipeline.stages.segment import segment, stripped_text
from pipeline.stages.strip import blocks_table, document_blocks, mark_templates

SHINGLE_SIZE = 4
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Page:
    page_id: str
    url: str
    html: str
    truth: str


@dataclass(frozen=True)
class Score:
    """Corpus figures of one extractor."""

    name: str
    precision: float
    recall: float
    seconds: float
    pages: int

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else float("inf")


def load_bench(folder: Path) -> list[Page]:
    """The benchmark's pages that have both HTML and a ground truth, in id order."""
    truth = json.loads((Path(folder) / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id in sorted(truth):
        path = Path(folder) / "html" / f"{page_id}.html.gz"
        if path.exists():
            html = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
            pages.append(Page(page_id, truth[page_id].get("url") or "", html, truth[page_id]["articleBody"]))
    return pages


def shingle_counts(text: str) -> Counter:
    """Multiset of word 4-grams (case-sensitive unicode words), the benchmark's unit of text."""
    tokens = _WORD.findall(text or "")
    return Counter(tuple(tokens[i : i + SHINGLE_SIZE]) for i in range(len(tokens) - SHINGLE_SIZE + 1))


def page_precision_recall(predicted: str, truth: str) -> tuple[float | None, float | None]:
    """Precision and recall of one page; ``None`` where the page has nothing to score."""
    pred, gold = shingle_counts(predicted), shingle_counts(truth)
    tp = sum((pred & gold).values())
    fp = sum((pred - gold).values())
    fn = sum((gold - pred).values())
    if fp == 0 and fn == 0:
        return 1.0, 1.0
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    return precision, recall


def score(name: str, predictions: dict[str, str], pages: list[Page], seconds: float) -> Score:
    """Corpus means of the page figures (a page without output drops out of precision only)."""
    figures = [page_precision_recall(predictions.get(p.page_id, ""), p.truth) for p in pages]
    precisions = [p for p, _ in figures if p is not None]
    recalls = [r for _, r in figures if r is not None]
    return Score(name, _mean(precisions), _mean(recalls), seconds, len(pages))


OURS = "ours (strip + segment)"
TRAFILATURA = "trafilatura (include_comments=False, favor_precision=True)"
JUSTEXT = "jusText (English stoplist, defaults)"


def evaluate(folder: Path, cfg: Config) -> list[Score]:
    """Ours, trafilatura and jusText on the same pages in this process.

    The three take turns page by page, so that a busy machine slows them alike: our strip stage judges
    each page on its own, then builds its table, runs the cross-document template pass and the segment
    stage once over all the pages (as a run with one batch does), and that time is added to ours.
    Imports, caches and stoplists load on a warm-up page outside the timed run.
    """
    pages = load_bench(folder)
    if not pages:
        raise FileNotFoundError(f"no benchmark pages in {folder} (expected html/*.html.gz and ground-truth.json)")
    documents = _documents(pages)
    stoplist = justext.get_stoplist("English")
    extractors: dict[str, Callable[[int], object]] = {
        OURS: lambda i: document_blocks(pages[i].html, "html", cfg.strip),
        TRAFILATURA: lambda i: trafilatura_text(pages[i]),
        JUSTEXT: lambda i: justext_text(pages[i], stoplist),
    }
    for extract in extractors.values():
        extract(0)
    seconds = dict.fromkeys(extractors, 0.0)
    outputs: dict[str, list] = {name: [] for name in extractors}
    for i in range(len(pages)):
        for name, extract in extractors.items():
            began = time.perf_counter()
            outputs[name].append(extract(i))
            seconds[name] += time.perf_counter() - began
    began = time.perf_counter()
    blocks = mark_templates(blocks_table(list(zip(documents.column("doc_id").to_pylist(), outputs[OURS]))),
                            documents, cfg.strip)
    ours = _texts_by_doc(segment(blocks, cfg.segment))
    seconds[OURS] += time.perf_counter() - began
    predictions = {
        OURS: ours,
        TRAFILATURA: {p.page_id: text for p, text in zip(pages, outputs[TRAFILATURA])},
        JUSTEXT: {p.page_id: text for p, text in zip(pages, outputs[JUSTEXT])},
    }
    return [score(name, predictions[name], pages, seconds[name]) for name in extractors]


def trafilatura_text(page: Page) -> str:
    """trafilatura alone, comments off, favouring precision."""
    return trafilatura.extract(page.html, include_comments=False, favor_precision=True) or ""


def justext_text(page: Page, stoplist) -> str:
    """jusText alone with the given stoplist and its default settings."""
    paragraphs = justext.justext(page.html.encode("utf-8"), stoplist, encoding="utf-8")
    return "\n\n".join(p.text for p in paragraphs if not p.is_boilerplate)


def speed_ratio(scores: list[Score]) -> float:
    """How many times longer our stages take than trafilatura alone (first two scores)."""
    return scores[0].seconds / scores[1].seconds


def report(scores: list[Score], folder: Path) -> str:
    """Markdown table of the scores, with the date, machine and the throughput ratio."""
    lines = [
        f"## Boilerplate stripping on `{Path(folder).name}` ({scores[0].pages} pages)",
        "",
        f"Run {date.today().isoformat()} on {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}, trafilatura {trafilatura.__version__}, one process; "
        "the extractors take turns page by page.",
        "",
        "| extractor | precision | recall | F1 | pages/s |",
        "|---|---|---|---|---|",
    ]
    for s in scores:
        lines.append(f"| {s.name} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {s.pages_per_second:.1f} |")
    lines += ["", f"Time ratio ours / trafilatura alone: {speed_ratio(scores):.2f}x "
              "(same pages, same run; lower is faster)."]
    return "\n".join(lines) + "\n"


def _documents(pages: list[Page]) -> pa.Table:
    """The pages as the ingest stage would hand them to strip."""
    rows = [{"doc_id": p.page_id, "source_path": f"{p.page_id}.html", "url": p.url, "content_type": "html",
             "status": "ok", "content": p.html} for p in pages]
    return to_table(rows, INGESTED)


def _texts_by_doc(paragraphs: pa.Table) -> dict[str, str]:
    by_doc: dict[str, list[str]] = {}
    for row in paragraphs.select(["doc_id", "text"]).to_pylist():
        by_doc.setdefault(row["doc_id"], []).append(row["text"])
    return {doc_id: stripped_text(texts) for doc_id, texts in by_doc.items()}


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0
