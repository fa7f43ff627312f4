"""Boilerplate-stripping benchmarks: our strip and segment stages against trafilatura alone, in one run.

Two layouts are read. The Article Extraction Benchmark's (``html/<id>.html.gz`` and one
``ground-truth.json``, ``{id: {"articleBody", "url"}}``) is scored as AEB does: each text becomes a multiset
of word 4-gram shingles, precision and recall are per page, averaged over pages, and F1 is the harmonic
mean of the two averages. WCXB's (``html/<id>.html.gz`` and ``ground-truth/<id>.json`` with
``ground_truth.main_content``, ``with`` and ``without`` snippets) is scored as WCXB's evaluate.py and
``tools/score_wcxb.py`` do: bags of lower-cased ``\\w+`` words, per-page precision, recall and F1, each
averaged over pages, plus the must-include snippets found and the pages leaking a must-exclude snippet.

A WCXB benchmark is split by site: the hosts whose hash falls in ``HELD_OUT_BUCKET`` (a fixed fifth) are
held out, measured and reported apart, and never used to choose a rule or a threshold.
"""
from __future__ import annotations

import gzip
import hashlib
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

import pyarrow as pa
import trafilatura

from pipeline.boilerplate.templates import host_of
from pipeline.config import Config
from pipeline.schema import INGESTED, to_table
from pipeline.stages.segment import segment, stripped_text
from pipeline.stages.strip import concat_blocks, mark_templates, page_blocks

SHINGLE_SIZE = 4
SPLIT_BUCKETS = 5
HELD_OUT_BUCKET = 0
_WORD = re.compile(r"\w+")

OURS = "ours (strip + segment)"
TRAFILATURA = "trafilatura (include_comments=False)"
TRAFILATURA_PRECISION = "trafilatura (include_comments=False, favor_precision=True)"
AEB, WCXB = "aeb", "wcxb"


@dataclass(frozen=True)
class Page:
    page_id: str
    url: str
    html: str
    truth: str
    must_include: tuple[str, ...] = ()
    must_exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class Bench:
    """One benchmark folder's pages, in id order, and the metric its layout comes with."""

    name: str
    metric: str  # AEB or WCXB
    pages: list[Page]


@dataclass(frozen=True)
class Score:
    """Corpus figures of one extractor on one set of pages."""

    extractor: str
    pages: str  # which pages: "aeb", "wcxb-articles dev", ...
    count: int
    precision: float
    recall: float
    f1: float
    included: float | None = None  # must-include snippets found (WCXB)
    leaked: float | None = None  # must-exclude snippets leaked, over pages that have some (WCXB)
    leak_pages: int | None = None  # pages leaking any must-exclude snippet (WCXB)
    exclude_pages: int | None = None  # pages that have must-exclude snippets (WCXB)


@dataclass(frozen=True)
class Evaluation:
    scores: list[Score]
    seconds: dict[str, float]  # per extractor, over every page of every benchmark
    pages: int

    def ratio(self) -> float:
        """How many times longer our stages take than trafilatura with its defaults, same pages, same run."""
        return self.seconds[OURS] / self.seconds[TRAFILATURA]


def load_bench(folder: Path) -> Bench:
    """The benchmark's pages that have both HTML and a ground truth, whichever of the two layouts it has."""
    folder = Path(folder)
    if (folder / "ground-truth.json").exists():
        return Bench(folder.name, AEB, _aeb_pages(folder))
    if (folder / "ground-truth").is_dir():
        return Bench(folder.name, WCXB, _wcxb_pages(folder))
    raise FileNotFoundError(f"no ground truth in {folder} (expected ground-truth.json or ground-truth/*.json)")


def _aeb_pages(folder: Path) -> list[Page]:
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id in sorted(truth):
        html = _page_html(folder, page_id)
        if html is not None:
            pages.append(Page(page_id, truth[page_id].get("url") or "", html, truth[page_id]["articleBody"]))
    return pages


def _wcxb_pages(folder: Path) -> list[Page]:
    pages = []
    for path in sorted((folder / "ground-truth").glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        gold = record.get("ground_truth") or {}
        html = _page_html(folder, path.stem)
        if gold.get("main_content") and html is not None:
            pages.append(Page(path.stem, record.get("url") or "", html, gold["main_content"],
                              tuple(gold.get("with") or ()), tuple(gold.get("without") or ())))
    return pages


def _page_html(folder: Path, page_id: str) -> str | None:
    path = folder / "html" / f"{page_id}.html.gz"
    return gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace") if path.exists() else None


def is_held_out(url: str) -> bool:
    """Whether a page's site is in the held-out fifth: a fixed hash of its host, so a site is never split."""
    host = host_of(url) or ""
    return int(hashlib.sha256(host.encode("utf-8")).hexdigest(), 16) % SPLIT_BUCKETS == HELD_OUT_BUCKET


def page_sets(bench: Bench) -> list[tuple[str, list[Page]]]:
    """The named sets a benchmark is reported on: AEB whole; a WCXB benchmark as its dev and held-out sites, then
    all its pages (the figure WCXB itself reports, and an acceptance names)."""
    if bench.metric == AEB:
        return [(bench.name, bench.pages)]
    return [(f"{bench.name} dev", [p for p in bench.pages if not is_held_out(p.url)]),
            (f"{bench.name} held-out", [p for p in bench.pages if is_held_out(p.url)]),
            (f"{bench.name} all", bench.pages)]


def shingle_counts(text: str) -> Counter:
    """Multiset of word 4-grams (case-sensitive unicode words), AEB's unit of text."""
    tokens = _WORD.findall(text or "")
    return Counter(tuple(tokens[i : i + SHINGLE_SIZE]) for i in range(len(tokens) - SHINGLE_SIZE + 1))


def page_precision_recall(predicted: str, truth: str) -> tuple[float | None, float | None]:
    """AEB precision and recall of one page; ``None`` where the page has nothing to score."""
    pred, gold = shingle_counts(predicted), shingle_counts(truth)
    tp = sum((pred & gold).values())
    fp = sum((pred - gold).values())
    fn = sum((gold - pred).values())
    if fp == 0 and fn == 0:
        return 1.0, 1.0
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    return precision, recall


def word_prf(predicted: str, truth: str) -> tuple[float, float, float]:
    """WCXB's word-level precision, recall and F1 of one page (bags of lower-cased ``\\w+`` words)."""
    pred, gold = _WORD.findall((predicted or "").lower()), _WORD.findall((truth or "").lower())
    if not gold:
        return (1.0, 1.0, 1.0) if not pred else (0.0, 0.0, 0.0)
    if not pred:
        return 0.0, 0.0, 0.0
    overlap = sum((Counter(pred) & Counter(gold)).values())
    precision, recall = overlap / len(pred), overlap / len(gold)
    return precision, recall, (2 * precision * recall / (precision + recall) if precision + recall else 0.0)


def share_found(text: str, snippets: tuple[str, ...]) -> float:
    """Share of the snippets found in the text, case and spacing folded (0 when there are none)."""
    if not snippets:
        return 0.0
    folded = " ".join(text.lower().split())
    return sum(" ".join(s.lower().split()) in folded for s in snippets) / len(snippets)


def score(extractor: str, name: str, metric: str, predictions: dict[str, str], pages: list[Page]) -> Score:
    """The corpus figures of one extractor on a set of pages, with the metric of its benchmark."""
    if metric == AEB:
        return _aeb_score(extractor, name, predictions, pages)
    return _wcxb_score(extractor, name, predictions, pages)


def _aeb_score(extractor: str, name: str, predictions: dict[str, str], pages: list[Page]) -> Score:
    """Means of the page figures (a page without output drops out of precision only), F1 of the means."""
    figures = [page_precision_recall(predictions.get(p.page_id, ""), p.truth) for p in pages]
    precision = _mean([p for p, _ in figures if p is not None])
    recall = _mean([r for _, r in figures if r is not None])
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(extractor, name, len(pages), precision, recall, f1)


def _wcxb_score(extractor: str, name: str, predictions: dict[str, str], pages: list[Page]) -> Score:
    """Means of the page figures, F1 included; leaks counted over the pages that have must-exclude snippets."""
    texts = [predictions.get(p.page_id, "") for p in pages]
    figures = [word_prf(text, p.truth) for text, p in zip(texts, pages)]
    leaks = [share_found(text, p.must_exclude) for text, p in zip(texts, pages) if p.must_exclude]
    return Score(extractor, name, len(pages), _mean([f[0] for f in figures]), _mean([f[1] for f in figures]),
                 _mean([f[2] for f in figures]),
                 included=_mean([share_found(text, p.must_include) for text, p in zip(texts, pages)]),
                 leaked=_mean(leaks), leak_pages=sum(1 for x in leaks if x > 0), exclude_pages=len(leaks))


def evaluate(folders: list[Path], cfg: Config) -> Evaluation:
    """Ours and trafilatura (defaults, then favouring precision) on every benchmark's pages, in this process.

    The extractors take turns page by page, so that a busy machine slows them alike, and the one to go first
    changes from page to page (``_in_turn``): of two calls on the same input, the second ran 10-20% faster in the
    strip speed rounds (docs/benchmarks.md), and a fixed order would hand that to one side. Our strip stage judges
    each page on its own into its table rows, then joins them, runs the cross-document template pass and the
    segment stage once over all the pages (as a run with one batch does), and that time is added to ours (not the
    eval's own gathering of each page's text from the segment stage's table, which trafilatura's side never needs).
    Imports and caches load on a warm-up page outside the timed run.
    """
    benches = [load_bench(folder) for folder in folders]
    pages = [(bench.name, page) for bench in benches for page in bench.pages]
    if not pages:
        raise FileNotFoundError(f"no benchmark pages in {', '.join(map(str, folders))}")
    extractors: dict[str, Callable[[str, Page], object]] = {
        OURS: lambda key, page: page_blocks(key, page.html, "html", cfg.strip),
        TRAFILATURA: lambda key, page: trafilatura.extract(page.html, include_comments=False) or "",
        TRAFILATURA_PRECISION: lambda key, page: trafilatura.extract(page.html, include_comments=False,
                                                                     favor_precision=True) or "",
    }
    keys = [f"{bench_name}/{page.page_id}" for bench_name, page in pages]
    for extract in extractors.values():
        extract(keys[0], pages[0][1])
    seconds = dict.fromkeys(extractors, 0.0)
    outputs: dict[str, list] = {name: [] for name in extractors}
    for turn, (key, (_, page)) in enumerate(zip(keys, pages)):
        for name in _in_turn(list(extractors), turn):
            extract = extractors[name]
            began = time.perf_counter()
            outputs[name].append(extract(key, page))
            seconds[name] += time.perf_counter() - began
    documents = _documents(keys, pages)  # the ingest stage's output, which strip is handed: not strip's time
    began = time.perf_counter()
    paragraphs = segment(mark_templates(concat_blocks(outputs[OURS]), documents, cfg.strip), cfg.segment)
    seconds[OURS] += time.perf_counter() - began
    ours = _texts_by_doc(paragraphs)  # the eval's reading of the stage's table: no stage's work, not timed
    predictions = {OURS: ours, **{name: dict(zip(keys, outputs[name])) for name in extractors if name != OURS}}
    scores = []
    for bench in benches:
        for set_name, subset in page_sets(bench):
            keyed = [Page(f"{bench.name}/{p.page_id}", p.url, "", p.truth, p.must_include, p.must_exclude)
                     for p in subset]
            scores += [score(name, set_name, bench.metric, predictions[name], keyed) for name in extractors]
    return Evaluation(scores, seconds, len(pages))


def _in_turn(names: list[str], turn: int) -> list[str]:
    """The extractors in the order they read the ``turn``-th page: each goes first on every n-th page."""
    start = turn % len(names)
    return names[start:] + names[:start]


def report(evaluation: Evaluation) -> str:
    """Markdown table of the scores, with the date, machine and the time ratio."""
    lines = [
        f"## Boilerplate stripping ({evaluation.pages} pages)",
        "",
        f"Run {date.today().isoformat()} on {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}, trafilatura {trafilatura.__version__}, one process; "
        "the extractors take turns page by page. AEB: word 4-gram shingles, F1 of the mean precision and recall. "
        "WCXB: word-level figures, means over pages (its `held-out` sites, a fixed fifth by host hash, are "
        "only measured; `all` is both together); leaks are pages leaking any must-exclude snippet.",
        "",
        "| pages | extractor | precision | recall | F1 | must-include found | must-exclude leaked | pages leaking |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in evaluation.scores:
        snippets = (f"{s.included:.3f} | {s.leaked:.3f} | {s.leak_pages}/{s.exclude_pages}"
                    if s.leak_pages is not None else "| | ")
        lines.append(f"| {s.pages} ({s.count}) | {s.extractor} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} "
                     f"| {snippets} |")
    lines += ["", "| extractor | seconds | pages/s |", "|---|---|---|"]
    for name, seconds in evaluation.seconds.items():
        lines.append(f"| {name} | {seconds:.1f} | {evaluation.pages / seconds:.1f} |")
    lines += ["", f"Time ratio ours / trafilatura (defaults): {evaluation.ratio():.2f}x "
              "(same pages, same run; lower is faster)."]
    return "\n".join(lines) + "\n"


def _documents(keys: list[str], pages: list[tuple[str, Page]]) -> pa.Table:
    """The pages as the ingest stage would hand them to strip."""
    rows = [{"doc_id": key, "source_path": f"{key}.html", "url": page.url, "content_type": "html",
             "status": "ok", "content": page.html} for key, (_, page) in zip(keys, pages)]
    return to_table(rows, INGESTED)


def _texts_by_doc(paragraphs: pa.Table) -> dict[str, str]:
    by_doc: dict[str, list[str]] = {}
    for row in paragraphs.select(["doc_id", "text"]).to_pylist():
        by_doc.setdefault(row["doc_id"], []).append(row["text"])
    return {doc_id: stripped_text(texts) for doc_id, texts in by_doc.items()}


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0
