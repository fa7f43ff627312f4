"""How often ``published_at`` finds the publication day that wcxb-articles states, and what reading the
date costs next to stripping the page (both timed on the same pages, in turn, in one process).

    python bench/bench_dates.py [--bench ../shared/bench/wcxb-articles] [--sample 150] [--report docs/benchmarks.md]
"""
from __future__ import annotations

import argparse
import gzip
import time
from datetime import date
from pathlib import Path

from pipeline.config import Config
from pipeline.dates import page_date
from pipeline.evaluate import write_section
from pipeline.evaluate.dates import evaluate_dates, markdown_section
from pipeline.stages.strip import document_blocks


def cost_sentence(bench: Path, sample: int, cfg: Config) -> str:
    """Milliseconds per page of ``page_date`` and of the strip stage's work on the first ``sample`` pages."""
    pages = [gzip.decompress(p.read_bytes()).decode("utf-8", "replace")
             for p in sorted((bench / "html").glob("*.html.gz"))[:sample]]
    dating = stripping = 0.0
    for html in pages:
        began = time.perf_counter()
        page_date(html, date.today())
        dating += time.perf_counter() - began
        began = time.perf_counter()
        document_blocks(html, "html", cfg.strip)
        stripping += time.perf_counter() - began
    per_page = 1000 / len(pages)
    return (f"Cost on the first {len(pages)} pages, in turn in one process: reading the date "
            f"{dating * per_page:.1f} ms/page, stripping {stripping * per_page:.1f} ms/page "
            f"(dates {dating / stripping:.1%} of strip time).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=Path, default=Path("../shared/bench/wcxb-articles"))
    parser.add_argument("--sample", type=int, default=150, help="pages timed for the cost comparison")
    parser.add_argument("--report", type=Path, default=Path("docs/benchmarks.md"))
    args = parser.parse_args()
    cfg = Config()
    report = evaluate_dates(args.bench, cfg.ingest)
    for name in ("all", "tuned", "held_out"):
        score = getattr(report, name)
        print(f"{name:9s} {score.right}/{score.stated} = {score.accuracy:.3f}  {dict(score.sources)}")
    section = markdown_section(report, args.bench, cost_sentence(args.bench, args.sample, cfg))
    print(section)
    write_section(args.report, section)


if __name__ == "__main__":
    main()
