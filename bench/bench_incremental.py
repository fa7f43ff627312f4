"""What a run that adds 1% new documents to a large history costs, against a full run (issue 11).

The corpus is bench_match's synthetic news (ten-paragraph documents on shared topics, a tenth of the
paragraphs copied from earlier documents and a twentieth reworded), written as text files. First a full
run over the history (``--paragraphs``, 100k by default) from a cold start; then a second run into the same
output over 1% more documents, drawn from the end of the corpus so that their copies point into the
history. The per-stage seconds come from each run's manifest, and so does the time each run spent loading its
models (``model_load_seconds``), taken out of that run so that the ratio compares the work: the same small
run has loaded them in 1.5 s and in 11 s, by the state of the page cache.

    python bench/bench_incremental.py [--config configs/default.toml] [--paragraphs 100000] [--report FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from bench_match import PARAS_PER_DOC, corpus
from bench_pipeline import run_pipeline

NEW_SHARE = 0.01


def write_documents(frame, folder: Path) -> None:
    """One text file per document, its paragraphs separated by blank lines."""
    folder.mkdir(parents=True)
    for doc_id, group in frame.groupby("doc_id", sort=True):
        (folder / f"{doc_id}.txt").write_text("\n\n".join(group.sort_values("para_index")["text"]) + "\n",
                                              encoding="utf-8")


def last_manifest(output: Path) -> dict:
    return json.loads(max((output / "runs").glob("*.json")).read_text())


def section(history: int, added: int, runs: dict[str, dict], config: Path) -> str:
    full, increment = runs["full"], runs["incremental"]
    ratio = increment["work"] / full["work"]
    stages = sorted(set(full["seconds"]) | set(increment["seconds"]), key=list(full["seconds"]).index)
    rows = "\n".join(f"| {name} | {full['seconds'].get(name, 0):.1f} | {increment['seconds'].get(name, 0):.1f} |"
                     for name in stages)
    return (
        "## Incremental runs: 1% new documents on a large history (`make bench`)\n\n"
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()} (`bench/bench_incremental.py`, config `{config}`; synthetic "
        "ten-paragraph documents as text files, as in the match scaling bench; the machine was shared with other "
        "work).\n\n"
        f"History: {history:,} paragraphs (full run from a cold start). Then {added:,} paragraphs "
        f"({NEW_SHARE:.0%}) in new documents, whose copies and rewordings point into the history, in a second run "
        "into the same output. Each run's manifest times its loading of the models apart (full run "
        f"{full['load']:.1f} s, incremental {increment['load']:.1f} s); it is taken out of that run below.\n\n"
        "| stage | full run s | incremental run s |\n|---|---|---|\n" + rows + "\n"
        f"| **whole run, model load excluded** | **{full['work']:.1f}** | **{increment['work']:.1f}** |\n\n"
        f"The incremental run takes **{ratio:.1%}** of the full run's time (target: under 5%). It revised "
        f"{increment['revised']:,} earlier paragraphs. Wall clock of the whole process (start-up, model load, "
        f"reading the tables and the commit included): {full['wall']:.1f} s and {increment['wall']:.1f} s "
        f"({increment['wall'] / full['wall']:.1%}).\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=Path("configs/default.toml"))
    parser.add_argument("--paragraphs", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--report", type=Path, default=None, help="Markdown file to put the section in")
    args = parser.parse_args()
    added = int(args.paragraphs * NEW_SHARE) // PARAS_PER_DOC * PARAS_PER_DOC
    frame, _ = corpus(args.paragraphs + added)
    split = frame["doc_id"] < frame["doc_id"].iloc[args.paragraphs]
    with tempfile.TemporaryDirectory(prefix="bench-incremental-") as tmp:
        write_documents(frame[split], Path(tmp) / "history")
        write_documents(frame[~split], Path(tmp) / "new")
        output, runs = Path(tmp) / "out", {}
        for name, folder, rebuild in (("full", "history", True), ("incremental", "new", False)):
            wall, _, _ = run_pipeline([Path(tmp) / folder], args.config, output, args.workers, rebuild=rebuild)
            manifest = last_manifest(output)
            load = manifest["model_load_seconds"]
            runs[name] = {"seconds": manifest["seconds"], "wall": wall, "revised": manifest["revised_paragraphs"],
                          "load": load, "work": sum(manifest["seconds"].values()) - load}
            print(json.dumps({name: runs[name]}), flush=True)
    text = section(int(split.sum()), int((~split).sum()), runs, args.config)
    print(text)
    if args.report:
        from pipeline.evaluate import write_section

        write_section(args.report, text)


if __name__ == "__main__":
    main()
