"""Command line: argument parsing only; the work happens in ``pipeline.runner``."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipeline import __version__
from pipeline.config import ConfigError, load_config
from pipeline.embed import MissingDependency
from pipeline.runner import STAGES, run

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_LOCKED, EXIT_FAILED = 0, 1, 2, 3, 4


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="provenance",
        description="Strip boilerplate from crawled pages and label every paragraph original, copied or "
        "ai_paraphrased, with its root source. Outputs Parquet tables: documents/, provenance/, removed/.",
        epilog="Exit status: 0 ok, 1 partial (some documents quarantined), 2 configuration or usage error, "
        "4 failed.",
    )
    parser.add_argument("--version", action="version", version=f"provenance {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run_cmd = commands.add_parser(
        "run", help="run the pipeline", description="Run the pipeline over the input files and write the tables."
    )
    run_cmd.add_argument("--config", type=Path, metavar="FILE",
                         help="TOML config (default: built-in defaults, as in configs/default.toml)")
    run_cmd.add_argument("--input", type=Path, nargs="+", metavar="PATH",
                         help="files or folders to read, recursively (default: [run] input of the config)")
    run_cmd.add_argument("--output", type=Path, metavar="DIR",
                         help="folder for the Parquet tables (default: [run] output of the config)")
    run_cmd.add_argument("--from", dest="from_stage", choices=STAGES, default="ingest",
                         help="re-run from this stage, reading earlier stages' saved outputs (default: ingest)")
    run_cmd.add_argument("--workers", type=int, metavar="N", help="processes for the per-document stages")
    run_cmd.add_argument("--dry-run", action="store_true", help="print the resolved config and exit")
    eval_cmd = commands.add_parser("eval", help="score a stage on a benchmark",
                                   description="Score a stage of the pipeline on a benchmark.")
    kinds = eval_cmd.add_subparsers(dest="kind", required=True, metavar="KIND")
    boilerplate = kinds.add_parser(
        "boilerplate", help="strip + segment vs trafilatura and jusText alone",
        description="Run the strip and segment stages over a benchmark's HTML pages (DIR/html/*.html.gz, "
        "DIR/ground-truth.json) and, in the same run, trafilatura and jusText alone; print precision, recall, "
        "F1 (word 4-gram shingles, per-page means) and pages/s.",
    )
    boilerplate.add_argument("--bench", type=Path, required=True, metavar="DIR", help="benchmark folder")
    boilerplate.add_argument("--config", type=Path, metavar="FILE", help="TOML config (default: built-in defaults)")
    boilerplate.add_argument("--report", type=Path, metavar="FILE", help="also write the table into this Markdown file (its own section)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "eval":
        return _evaluate(args)
    try:
        cfg = load_config(args.config).with_run(input=args.input, output=args.output, workers=args.workers)
    except ConfigError as exc:
        print(f"provenance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.dry_run:
        print(json.dumps(cfg.model_dump(mode="json"), indent=2))
        return EXIT_OK
    try:
        result = run(cfg, from_stage=args.from_stage, log=lambda line: print(line, flush=True))
    except (FileNotFoundError, ValueError, MissingDependency) as exc:
        print(f"provenance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(summary(result, cfg.run.output))
    return EXIT_PARTIAL if result.quarantined else EXIT_OK


def _evaluate(args: argparse.Namespace) -> int:
    """``eval <kind>``: print the benchmark table and optionally write it as Markdown."""
    from pipeline.evaluate import boilerplate, write_section  # heavy imports only for this command

    try:
        cfg = load_config(args.config)
        scores = boilerplate.evaluate(args.bench, cfg)
    except (ConfigError, FileNotFoundError) as exc:
        print(f"provenance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    table = boilerplate.report(scores, args.bench)
    print(table, end="")
    if args.report:
        write_section(args.report, table)
    return EXIT_OK


def summary(result, output: Path) -> str:
    """A few lines for the person or the log watching the run."""
    lines = [
        f"documents: {_fmt(result.statuses)}",
        f"paragraphs: {_fmt(result.labels)}",
        f"removed blocks: {_fmt(result.removed)}",
        f"tables written to {output}/: " + ", ".join(f"{k} ({v} rows)" for k, v in result.tables.items()),
    ]
    if result.quarantined:
        lines.append(f"{result.quarantined} document(s) quarantined: see status and error in {output}/documents")
    return "\n".join(lines)


def _fmt(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"


if __name__ == "__main__":
    sys.exit(main())
