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
        "boilerplate", help="strip + segment vs trafilatura and jusText alone",
        description="Run the strip and segment stages over a benchmark's HTML pages (DIR/html/*.html.gz, "
        "DIR/ground-truth.json) and, in the same run, trafilatura and jusText alone; print precision, recall, "
        "F1 (word 4-gram shingles, per-page means) and pages/s.",
    )
    _add_eval_options(boilerplate)
    labelled = kinds.add_parser(
        "provenance", help="labels and sources vs a labelled corpus",
        description="Run the pipeline on DIR/docs (with its manifest.csv) and score it against DIR/labels.jsonl "
        "and DIR/chrome.jsonl: per-class precision/recall/F1, macro-F1, confusion matrix, root-source document "
        "and source-paragraph accuracy, ai_paraphrased false-positive rate on human paragraphs, chrome leaks.",
    )
    _add_eval_options(labelled)
    _add_run_options(labelled, "data/eval-provenance")
    labelled.add_argument("--verbose", action="store_true", help="list every wrong label and chrome leak")
    labelled.add_argument("--leave-one-group-out", action="store_true",
                          help="also score each group (generator/prompt family, page template, document type) "
                          "with the fitted parameters refitted on the other groups only")
    rewrites = kinds.add_parser(
        "rewrites", help="model rewrites traced to their source (rewrite-pairs)",
        description="Run DIR/pairs.jsonl as one corpus (each source one document dated 2020-01-01, each rewrite "
        "one document dated 2021-01-01) and print, per generator and prompt, the share of rewrites labelled "
        "ai_paraphrased with their source as root, and what the others became.",
    )
    _add_eval_options(rewrites)
    _add_run_options(rewrites, "data/eval-rewrites")
    rewrites.add_argument("--sources", type=int, metavar="N",
                          help="only the rewrites of N source abstracts, a fixed sample by hash of their id")
    independent = kinds.add_parser(
        "independent", help="false derivations on independent pages (wcxb-articles)",
        description="Run DIR/html/*.html.gz (urls and dates from DIR/ground-truth) as one corpus of pages that "
        "derive from none of each other, and list every paragraph labelled copied or ai_paraphrased.",
    )
    _add_eval_options(independent)
    _add_run_options(independent, "data/eval-independent")
    return parser


def _add_run_options(command: argparse.ArgumentParser, default_output: str) -> None:
    """Options of the evaluations that run the whole pipeline into an output folder."""
    command.add_argument("--output", type=Path, default=Path(default_output), metavar="DIR",
                         help=f"where the run's tables go (default: {default_output}; a corpus built from the "
                         "benchmark goes to DIR-corpus)")
    command.add_argument("--from", dest="from_stage", choices=STAGES, default="ingest",
                         help="reuse the saved stage outputs of an earlier run into the same --output, redoing "
                         "this stage and the later ones (default: ingest, everything anew)")


def _add_eval_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--bench", type=Path, required=True, metavar="DIR", help="benchmark folder")
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
    from pipeline.evaluate import write_section  # heavy imports only for this command

    try:
        cfg = load_config(args.config)
        text, table = _EVALUATIONS[args.kind](args, cfg)
    except (ConfigError, FileNotFoundError, UsageError) as exc:
        print(f"provenance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(text)
    if args.report:
        write_section(args.report, table)
    return EXIT_OK


def _eval_boilerplate(args: argparse.Namespace, cfg) -> tuple[str, str]:
    from pipeline.evaluate import boilerplate

    table = boilerplate.report(boilerplate.evaluate(args.bench, cfg), args.bench)
    return table.rstrip("\n"), table


def _eval_provenance(args: argparse.Namespace, cfg) -> tuple[str, str]:
    from pipeline.evaluate import provenance

    report = provenance.evaluate_provenance(args.bench, args.output, cfg, args.from_stage)
    text, table = provenance.format_report(report, verbose=args.verbose), provenance.markdown_section(report, args.bench)
    if args.leave_one_group_out:
        groups = provenance.leave_one_group_out(args.bench, args.output, cfg)
        text += "\n" + provenance.format_groups(groups)
        table += "\n" + provenance.groups_section(groups)
    return text, table


def _eval_rewrites(args: argparse.Namespace, cfg) -> tuple[str, str]:
    from pipeline.evaluate import rewrites

    report = rewrites.evaluate_rewrites(args.bench, args.output, cfg, args.sources, args.from_stage)
    return rewrites.format_rewrites(report), rewrites.rewrites_section(report, args.bench, args.sources)


def _eval_independent(args: argparse.Namespace, cfg) -> tuple[str, str]:
    from pipeline.evaluate import independent

    found = independent.evaluate_independent(args.bench, args.output, cfg, args.from_stage)
    return independent.format_derivations(found), independent.independent_section(found, args.bench)


_EVALUATIONS = {"boilerplate": _eval_boilerplate, "provenance": _eval_provenance, "rewrites": _eval_rewrites,
                "independent": _eval_independent}


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
