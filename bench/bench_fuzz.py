"""Ten thousand hostile inputs (``tests/hostile_inputs.py``, every format we read) fed to one run from the
command line, as a scheduler would start it. The run must not fail (exit 4), and every file must have at
least one ``documents`` row (a JSONL file one per record); a quarantine must give a reason of the readers'
own, not the last-resort one. Exits 1 when a guarantee does not hold.

    python bench/bench_fuzz.py [--count 10000] [--seed 20261201] [--workers 2] [--report docs/benchmarks.md]
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from hostile_inputs import expected_rows, write_hostile_corpus  # noqa: E402

from pipeline.evaluate import write_section  # noqa: E402
from pipeline.stages.ingest import UNFORESEEN  # noqa: E402

CONFIG = "[run]\nworkers = {workers}\ndoc_timeout = 20\n[match]\nsemantic = false\n"


def run_once(folder: Path, count: int, seed: int, workers: int) -> dict:
    """Generate the inputs, run the pipeline on them in a child process and check what it wrote."""
    inputs, output, config = folder / "inputs", folder / "out", folder / "fuzz.toml"
    names = write_hostile_corpus(inputs, seed, count)
    config.write_text(CONFIG.format(workers=workers), encoding="utf-8")
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", "--config", str(config), "--input",
                           str(inputs), "--output", str(output), "--rebuild"], capture_output=True, text=True)
    seconds = time.perf_counter() - began
    documents = pd.read_parquet(output / "documents") if (output / "documents").exists() else pd.DataFrame(
        columns=["source_path", "status", "error"])
    rows = documents.source_path.str.split("#").str[0].value_counts()
    short = [n for n in names if rows.get(n, 0) < (expected_rows(n, (inputs / n).read_bytes()) or 1)]
    errors = documents.error.dropna()
    return {
        "files": len(names), "exit": done.returncode, "seconds": seconds, "rows": len(documents),
        "statuses": documents.status.value_counts().to_dict(), "short": short,
        "unforeseen": errors[errors.str.startswith(UNFORESEEN)].tolist(),
        "reasons": errors.map(lambda e: re.sub(r"\d+", "N", e.split(":")[0])[:60]).value_counts().head(12),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "stderr_tail": done.stderr[-2000:],
    }


def markdown_section(outcome: dict, seed: int, workers: int) -> str:
    statuses = ", ".join(f"{k} {v:,}" for k, v in sorted(outcome["statuses"].items()))
    lines = [
        "## Hostile inputs (`make bench`)",
        "",
        f"Run {date.today().isoformat()} on {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()} (`bench/bench_fuzz.py`, seed {seed}, {workers} workers, semantic matching "
        "off): HTML, text, gzip, JSONL and WARC files from `tests/hostile_inputs.py` (random bytes, lying "
        "encodings, cut and bomb gzip, JSON that is no record or nests too deeply, WARC records without "
        "target URI or Content-Length, with lying lengths, bad dates, no HTTP status line, broken chunking, "
        "cut archives, garbled framing, nesting 30,000 deep, 1 MB lines, hostile dates) and a manifest "
        "with garbled dates, in one `provenance run`.",
        "",
        "| files | exit status | seconds | documents rows | files without their rows | last-resort quarantines | peak RSS (one process) |",
        "|---|---|---|---|---|---|---|",
        f"| {outcome['files']:,} | {outcome['exit']} | {outcome['seconds']:.0f} | {outcome['rows']:,} | "
        f"{len(outcome['short'])} | {len(outcome['unforeseen'])} | {outcome['peak_rss_mb']:,.0f} MB |",
        "",
        f"Statuses: {statuses}. Most frequent reasons (digits folded):",
        "",
    ]
    lines += [f"- {reason}: {count:,}" for reason, count in outcome["reasons"].items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--report", type=Path, default=Path("docs/benchmarks.md"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-fuzz-") as folder:
        outcome = run_once(Path(folder), args.count, args.seed, args.workers)
    section = markdown_section(outcome, args.seed, args.workers)
    print(section)
    write_section(args.report, section)
    if outcome["exit"] not in (0, 1) or outcome["short"] or outcome["unforeseen"]:
        print(f"FAILED: exit {outcome['exit']}, {len(outcome['short'])} files without rows "
              f"{outcome['short'][:5]}, unforeseen {outcome['unforeseen'][:5]}\n{outcome['stderr_tail']}",
              file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
