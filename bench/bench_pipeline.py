"""The whole pipeline on real pages against trafilatura alone, in one run (a `make bench` section).

Pages: ``../shared/bench/aeb/html`` and ``../shared/bench/wcxb-articles/html`` (``*.html.gz``). First
single-process ``trafilatura.extract(include_comments=False)`` over every page (reading included), then
``provenance run`` from a cold start (an empty output folder, so no cached signature or embedding) with
the given config, as a child process whose whole process tree's resident memory is sampled. Reports
pages/s of both, their ratio by wall clock and by CPU time (each side's processes' user plus system seconds:
on a machine shared with other work the wall-clock ratio moves with the load while one side runs, the CPU
ratio much less), the run's per-stage seconds (from its manifest) and the peak memory (PSS and RSS), and
writes them as a section of docs/benchmarks.md.

    python bench/bench_pipeline.py [--config configs/default.toml] [--report docs/benchmarks.md]
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from shared_data import shared_bench

PAGE_FOLDERS = ("aeb/html", "wcxb-articles/html")


def trafilatura_seconds(pages: list[Path]) -> tuple[float, float]:
    """Wall and CPU seconds of single-process trafilatura over the pages, reading and decompressing included."""
    import trafilatura

    began, cpu = time.perf_counter(), time.process_time()
    for page in pages:
        trafilatura.extract(gzip.decompress(page.read_bytes()), include_comments=False)
    return time.perf_counter() - began, time.process_time() - cpu


def children_cpu_seconds() -> float:
    """User plus system seconds of this process's finished children and everything they waited for (the
    run's worker processes are joined by it, so their time is in its total)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def tree_memory(root: int) -> tuple[int, int]:
    """Resident and proportional (PSS) bytes of ``root`` and all its descendants (from /proc).

    Summed resident sizes count a page shared by several processes once per process: strip's workers are
    forked from the main process and share most of its memory copy-on-write, and every process maps the
    same libraries. The PSS sum splits each shared page among its sharers: the tree's real footprint."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            children.setdefault(int(stat[stat.rindex(")") + 2:].split()[1]), []).append(int(entry.name))
        except (OSError, ValueError):
            continue
    rss = pss = 0
    stack = [root]
    while stack:
        pid = stack.pop()
        sizes = _rollup_kb(pid)
        rss, pss = rss + sizes.get("Rss", 0) * 1024, pss + sizes.get("Pss", 0) * 1024
        stack.extend(children.get(pid, []))
    return rss, pss


def _rollup_kb(pid: int) -> dict[str, int]:
    """The kB fields of /proc/PID/smaps_rollup (empty once the process is gone)."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]
    except OSError:
        return {}
    return {name: int(value.split()[0]) for name, _, value in (line.partition(":") for line in lines) if value.strip()}


def run_pipeline(folders: list[Path], config: Path, output: Path, workers: int | None,
                 rebuild: bool = True) -> tuple[float, float, tuple[int, int]]:
    """Wall seconds, CPU seconds (``children_cpu_seconds``) and peak process-tree memory (summed RSS, summed PSS: ``tree_memory``) of one run over
    the pages (a cold start unless ``rebuild`` is false: then an incremental run over what ``output`` holds)."""
    command = [sys.executable, "-m", "pipeline.cli", "run", "--config", str(config), "--output", str(output),
               "--log-format", "json", *[a for p in folders for a in ("--input", str(p))]]
    if rebuild:
        command.append("--rebuild")
    if workers:
        command += ["--workers", str(workers)]
    began, cpu = time.perf_counter(), children_cpu_seconds()
    child = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    peak = [(0, 0)]

    def sample() -> None:
        while child.poll() is None:
            rss, pss = tree_memory(child.pid)
            peak[0] = (max(peak[0][0], rss), max(peak[0][1], pss))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, log = child.communicate()
    seconds = time.perf_counter() - began
    sampler.join()
    if child.returncode not in (0, 1):
        raise SystemExit(f"provenance run failed (exit {child.returncode}):\n{log[-4000:]}")
    return seconds, children_cpu_seconds() - cpu, peak[0]


def section(pages: int, traf: tuple[float, float], total: tuple[float, float], peak: tuple[int, int], manifest: dict,
            config: Path, workers: int) -> str:
    """The section: ``traf`` and ``total`` are (wall, CPU) seconds of trafilatura alone and of the run."""
    (traf, traf_cpu), (total, total_cpu) = traf, total
    seconds = manifest["seconds"]
    rows = "\n".join(f"| {name} | {value:.1f} | {value / total:.0%} |" for name, value in seconds.items())
    match_classify = seconds.get("match", 0) + seconds.get("classify", 0)
    return (
        "## Whole pipeline on real pages (`make bench`)\n\n"
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()} (`bench/bench_pipeline.py`, config `{config}`, {workers} workers; "
        "cold start: empty output folder, no cached embedding; the machine may be shared with other work, so "
        "compare the ratios, measured in the same run: the one by CPU time moves least with the load).\n\n"
        f"{pages} pages (`aeb` + `wcxb-articles`, `html/*.html.gz`), {manifest['stage_rows']['segment']:,} paragraphs, "
        f"{manifest['stage_rows']['match']:,} candidate rows.\n\n"
        "| | seconds | pages/s | CPU seconds | pages per CPU second |\n|---|---|---|---|---|\n"
        + _row("trafilatura.extract alone, 1 process", pages, traf, traf_cpu)
        + _row("provenance run, whole pipeline", pages, total, total_cpu) + "\n"
        f"Ratio (pipeline pages/s over trafilatura's): **{traf / total:.2f}x** by wall clock, "
        f"**{traf_cpu / total_cpu:.2f}x** by CPU time. Match plus classify: "
        f"{match_classify / total:.0%} of the run. Peak memory of the whole process tree: "
        f"**{peak[1] / 2**20:,.0f} MB** proportional set size (shared pages split among their processes), "
        f"{peak[0] / 2**20:,.0f} MB summed resident size (a page shared by the forked workers counted in each).\n\n"
        "| stage | seconds | share |\n|---|---|---|\n" + rows + "\n"
    )


def _row(name: str, pages: int, seconds: float, cpu: float) -> str:
    """One line of the speed table: wall and CPU seconds, and the pages per each."""
    return f"| {name} | {seconds:.1f} | {pages / seconds:.2f} | {cpu:.1f} | {pages / cpu:.2f} |\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=Path("configs/default.toml"))
    parser.add_argument("--workers", type=int, default=None, help="default: the config's (the core count)")
    parser.add_argument("--report", type=Path, default=None, help="Markdown file to put the section in")
    args = parser.parse_args()
    folders = [shared_bench() / name for name in PAGE_FOLDERS]
    pages = sorted(p for folder in folders for p in folder.glob("*.html.gz"))
    traf = trafilatura_seconds(pages)
    print(f"trafilatura alone: {len(pages)} pages in {traf[0]:.1f}s ({len(pages) / traf[0]:.2f} pages/s, "
          f"{traf[1]:.1f} CPU s)", flush=True)
    output = Path(tempfile.mkdtemp(prefix="provenance-bench-"))
    try:
        *total, peak = run_pipeline(folders, args.config, output, args.workers)
        manifest = json.loads(max((output / "runs").glob("*.json")).read_text())
    finally:
        shutil.rmtree(output, ignore_errors=True)
    from pipeline.config import load_config

    workers = args.workers or load_config(args.config).run.workers
    text = section(len(pages), traf, tuple(total), peak, manifest, args.config, workers)
    print(text)
    if args.report:
        from pipeline.evaluate import write_section

        write_section(args.report, text)


if __name__ == "__main__":
    main()
