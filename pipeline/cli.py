"""Command line: argument parsing only; the work happens in ``pipeline.runner``."""
from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path

from pipeline import __version__, log
from pipeline.config import ConfigError, load_config
from pipeline.embed import MissingDependency
from pipeline.runner import STAGES, RunResult, UsageError, run
from pipeline.schema import DOCUMENTS, PROVENANCE, REMOVED, describe
from pipeline.state import Locked

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_LOCKED, EXIT_FAILED = 0, 1, 2, 3, 4
_TABLES = {"documents": DOCUMENTS, "provenance": PROVENANCE, "removed": REMOVED}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="provenance",
        description="Strip boilerplate from crawled pages and label every paragraph original, copied or "
        "ai_paraphrased, with its root source. Outputs Parquet tables: documents/, provenance/, removed/.",
        epilog="Exit status: 0 ok, 1 partial (some documents quarantined), 2 configuration or usage error, "
        "3 output folder locked by another run, 4 failed.",
    )
    parser.add_argument("--version", action="version", version=f"provenance {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run_cmd = commands.add_parser(
        "run", help="run the pipeline (incremental: documents already processed are skipped)",
        description="Run the pipeline over the input files and add a run to the output tables. Documents an "
        "earlier run already processed are skipped; new paragraphs are matched against the whole history.",
        epilog="Exit status: 0 ok, 1 partial (some documents quarantined), 2 configuration or usage error, "
        "3 output folder locked by another run, 4 failed.",
    )
    run_cmd.add_argument("--config", type=Path, metavar="FILE",
                         help="TOML config (default: built-in defaults, as in configs/default.toml)")
    run_cmd.add_argument("--input", type=Path, nargs="+", metavar="PATH",
                         help="files or folders to read, recursively (default: [run] input of the config)")
    run_cmd.add_argument("--output", type=Path, metavar="DIR",
                         help="folder for the Parquet tables (default: [run] output of the config)")
    run_cmd.add_argument("--from", dest="from_stage", choices=STAGES, default="ingest",
                         help="redo the latest run from this stage, reading earlier stages' saved outputs "
                         "(default: ingest, a new run)")
    run_cmd.add_argument("--workers", type=int, metavar="N", help="processes for the per-document stages")
    run_cmd.add_argument("--wait", action="store_true",
                         help="wait for another run holding the output folder instead of exiting with status 3")
    run_cmd.add_argument("--rebuild", action="store_true",
                         help="discard the existing tables, runs and index and reprocess every input "
                         "(needed after a config change that alters results)")
    run_cmd.add_argument("--log-format", choices=("text", "json"), default="text",
                         help="log lines as plain text (default) or one JSON object per line, for log shippers")
    run_cmd.add_argument("--dry-run", action="store_true", help="print the resolved config and exit")
    schema_cmd = commands.add_parser(
        "schema", help="describe the output tables",
        description="Print the columns, types and descriptions of the output tables (Markdown).",
    )
    schema_cmd.add_argument("table", nargs="?", choices=sorted(_TABLES), help="one table (default: all three)")
    eval_cmd = commands.add_parser("eval", help="score a stage on a benchmark",
                                   description="Score a stage of the pipeline on a benchmark.")
    kinds = eval_cmd.add_subparsers(dest="kind", required=True, metavar="KIND")
    boilerplate = kinds.add_parser(
        "boilerplate", help="strip + segment vs trafilatura alone",
        description="Run the strip and segment stages over benchmarks' HTML pages (DIR/html/*.html.gz with "
        "AEB's DIR/ground-truth.json or WCXB's DIR/ground-truth/*.json; --bench may be repeated) and, in the "
        "same run, trafilatura with its defaults and favouring precision (comments off); print each "
        "benchmark's figures with its own metric (WCXB as dev and held-out sites) and the time ratio.",
    )
    _add_eval_options(boilerplate, many=True)
    labelled = kinds.add_parser(
        "provenance", help="labels and sources vs a labelled corpus",
        description="Run the pipeline on DIR/docs (with its manifest.csv) and score it against DIR/labels.jsonl "
        "and DIR/chrome.jsonl: per-class precision/recall/F1, macro-F1, confusion matrix, root-source document "
        "and source-paragraph accuracy, ai_paraphrased false-positive rate on human paragraphs, chrome leaks.",
    )
    _add_eval_options(labelled)
    labelled.add_argument("--output", type=Path, default=Path("data/eval-provenance"), metavar="DIR",
                          help="where the run's tables go (rebuilt each time; default: data/eval-provenance)")
    labelled.add_argument("--verbose", action="store_true", help="list every wrong label and chrome leak")
    return parser


def _add_eval_options(command: argparse.ArgumentParser, many: bool = False) -> None:
    command.add_argument("--bench", type=Path, required=True, metavar="DIR", action="append" if many else "store",
                         help="benchmark folder" + (" (repeatable)" if many else ""))
    command.add_argument("--config", type=Path, metavar="FILE", help="TOML config (default: built-in defaults)")
    command.add_argument("--report", type=Path, metavar="FILE",
                         help="also write the figures into this Markdown file (its own section)")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    log.configure(getattr(args, "log_format", "text"))
    if args.command == "eval":
        return _evaluate(args)
    if args.command == "schema":
        print(schema_markdown([args.table] if args.table else list(_TABLES)))
        return EXIT_OK
    try:
        cfg = load_config(args.config).with_run(input=args.input, output=args.output, workers=args.workers)
    except ConfigError as exc:
        print(f"provenance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.dry_run:
        print(json.dumps(cfg.model_dump(mode="json"), indent=2))
        return EXIT_OK
    try:
        result = run(cfg, from_stage=args.from_stage, wait=args.wait, rebuild=args.rebuild)
    except Locked as exc:
        print(f"provenance: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except (UsageError, MissingDependency) as exc:
        print(f"provenance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - an unattended job must say what failed and exit with its code
        traceback.print_exc(file=sys.stderr)
        print(f"provenance: run failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(summary(result, cfg.run.output))
    return EXIT_PARTIAL if result.quarantined else EXIT_OK


def schema_markdown(tables: list[str]) -> str:
    """The named output tables as Markdown: one section per table, one row per column."""
    parts = []
    for name in tables:
        rows = "\n".join(f"| `{column}` | {type_} | {text} |" for column, type_, text in describe(_TABLES[name]))
        parts.append(f"## {name}/\n\n| column | type | description |\n|---|---|---|\n{rows}\n")
    return "\n".join(parts)


def _evaluate(args: argparse.Namespace) -> int:
    """``eval <kind>``: print the benchmark table and optionally write it as Markdown."""
    from pipeline.evaluate import boilerplate, provenance, write_section  # heavy imports only for this command

    try:
        cfg = load_config(args.config)
        if args.kind == "boilerplate":
            table = boilerplate.report(boilerplate.evaluate(args.bench, cfg))
        else:
            report = provenance.evaluate_provenance(args.bench, args.output, cfg)
            print(provenance.format_report(report, verbose=args.verbose))
            table = provenance.markdown_section(report, args.bench)
    except (ConfigError, FileNotFoundError, UsageError) as exc:
        print(f"provenance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.kind == "boilerplate":
        print(table, end="")
    if args.report:
        write_section(args.report, table)
    return EXIT_OK


def summary(result: RunResult, output: Path) -> str:
    """A few lines for the person or the log watching the run."""
    lines = [
        f"run {result.run_id}: {result.status}",
        f"documents: {_fmt(result.statuses)}"
        + (f" (+{result.already_processed} already processed, skipped)" if result.already_processed else ""),
        f"paragraphs: {_fmt(result.labels)}",
        f"removed blocks: {_fmt(result.removed)}",
        f"rows added under {output}/: " + ", ".join(f"{k} {v}" for k, v in result.tables.items()),
    ]
    if result.quarantined:
        lines.append(f"{result.quarantined} document(s) quarantined: see status and error in {output}/documents")
    return "\n".join(lines)


def _fmt(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"


if __name__ == "__main__":
    sys.exit(main())
