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
from pipeline.runner import STAGES, Interrupted, RunResult, UsageError, plan, run
from pipeline import schema
from pipeline.state import Locked

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_LOCKED, EXIT_FAILED = 0, 1, 2, 3, 4
EXIT_STATUS = ("Exit status: 0 ok, 1 partial (some documents quarantined), 2 configuration or usage error, "
               "3 output folder locked by another run, 4 failed, 130 stopped by SIGINT, 143 stopped by SIGTERM "
               "(nothing committed).")


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line (and exit status 2), as every other usage error."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="provenance",
        description="Strip boilerplate from crawled pages and label every paragraph original, copied or "
        "ai_paraphrased, with its root source. Outputs Parquet tables: documents/, provenance/, removed/.",
        epilog=EXIT_STATUS,
    )
    parser.add_argument("--version", action="version", version=f"provenance {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run_cmd = commands.add_parser(
        "run", help="run the pipeline (incremental: documents already processed are skipped)",
        description="Run the pipeline over the input files and add a run to the output tables. Documents an "
        "earlier run already processed are skipped; new paragraphs are matched against the whole history.",
        epilog=EXIT_STATUS,
    )
    run_cmd.add_argument("--config", type=Path, metavar="FILE",
                         help="TOML config (default: built-in defaults, as in configs/default.toml)")
    run_cmd.add_argument("--input", type=Path, nargs="+", action="extend", metavar="PATH",
                         help="files or folders to read, recursively (default: [run] input of the config)")
    run_cmd.add_argument("--output", type=Path, metavar="DIR",
                         help="folder for the Parquet tables (default: [run] output of the config)")
    run_cmd.add_argument("--from", dest="from_stage", choices=STAGES, default="ingest",
                         help="redo the latest run from this stage, reading earlier stages' saved outputs "
                         "(default: ingest, a new run)")
    run_cmd.add_argument("--workers", type=int, metavar="N", help="processes for the per-document stages")
    run_cmd.add_argument("--engine", choices=("local", "ray"), help="where the stages run (default: local)")
    run_cmd.add_argument("--ray-address", metavar="ADDR", help="an existing Ray cluster (with --engine ray)")
    run_cmd.add_argument("--wait", action="store_true",
                         help="wait for another run holding the output folder instead of exiting with status 3")
    run_cmd.add_argument("--rebuild", action="store_true",
                         help="discard the existing tables, runs and index and reprocess every input "
                         "(needed after a config change that alters results)")
    run_cmd.add_argument("--log-format", choices=("text", "json"), default="text",
                         help="log lines as plain text (default) or one JSON object per line, for log shippers")
    run_cmd.add_argument("--dry-run", action="store_true",
                         help="print the resolved config, check the inputs, the lock and the config against the "
                         "output (naming the settings that changed), list what a run would process and skip, "
                         "and exit with the status the run would start with; writes nothing")
    schema_cmd = commands.add_parser(
        "schema", help="describe the output tables",
        description="Print the columns, types and descriptions of the output tables (Markdown).",
    )
    schema_cmd.add_argument("table", nargs="?", choices=sorted(schema.HANDOFF),
                            help="one table (default: every table, as in docs/schema.md)")
    report_cmd = commands.add_parser(
        "report", help="write a run's HTML report",
        description="Write one self-contained HTML file for a run (no network needed to view it): label counts "
        "and shares per host, which documents derive from which, every copied and ai_paraphrased paragraph "
        "beside its source, what was stripped and why, quarantined documents. Written to "
        "<output>/reports/<run_id>.html; the path is printed.",
    )
    report_cmd.add_argument("--output", type=Path, metavar="DIR",
                            help="the pipeline's output folder (default: [run] output of the built-in config)")
    report_cmd.add_argument("--run", metavar="RUN_ID", help="the run to report (default: the latest committed run)")
    eval_cmd = commands.add_parser("eval", help="score a stage on a benchmark",
                                   description="Score a stage of the pipeline on a benchmark.")
    kinds = eval_cmd.add_subparsers(dest="kind", required=True, metavar="KIND")
    boilerplate = kinds.add_parser(
        "boilerplate", help="strip + segment vs trafilatura alone",
        description="Run the strip and segment stages over benchmarks' HTML pages (DIR/html/*.html.gz with "
        "AEB's DIR/ground-truth.json or WCXB's DIR/ground-truth/*.json; --bench may be repeated) and, in the "
        "same run, trafilatura with its defaults and favouring precision (comments off); print each "
        "benchmark's figures with its own metric (WCXB as dev and held-out sites, then all) and the time ratio.",
    )
    _add_eval_options(boilerplate, many=True)
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
                          "with the fitted parameters (classify settings of CLASSIFY_GRID, confidence "
                          "calibration) chosen on the other groups only")
    labelled.add_argument("--stress", type=Path, metavar="DIR",
                          help="also run each stress set under DIR (tests/data/stress, built by "
                          "tools/build_stress_sets.py) as its own corpus, into OUTPUT-stress/<set>, and print "
                          "one line per set with its target")
    rewrites = kinds.add_parser(
        "rewrites", help="model rewrites traced to their source (rewrite-pairs)",
        description="Run DIR/pairs.jsonl as one corpus (each source one document dated 2020-01-01, each rewrite "
        "one document dated 2021-01-01) and print, per generator and prompt, the share of rewrites labelled "
        "ai_paraphrased with their source as root, and what the others became; then, per generator, the shares "
        "of rewrite paragraphs labelled ai_paraphrased, copied and original and with the right root, and of "
        "source paragraphs labelled original.",
    )
    _add_eval_options(rewrites)
    _add_run_options(rewrites, "data/eval-rewrites")
    rewrites.add_argument("--sources", type=int, metavar="N",
                          help="only the rewrites of N source abstracts, a fixed sample by hash of their id")
    rewrites.add_argument("--held-out-fits", type=Path, metavar="FILE", default=Path("tools/machine_edit_fits.json"),
                          help="the machine-edit model fitted without each generator (written by "
                          "tools/fit_machine_edit.py; default: %(default)s): each generator is scored with its own; "
                          "without the file, generators are scored with the configuration's fit and flagged")
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


def _add_eval_options(command: argparse.ArgumentParser, many: bool = False) -> None:
    command.add_argument("--bench", type=Path, required=True, metavar="DIR", action="append" if many else "store",
                         help="benchmark folder" + (" (repeatable)" if many else ""))
    command.add_argument("--config", type=Path, metavar="FILE", help="TOML config (default: built-in defaults)")
    command.add_argument("--report", type=Path, metavar="FILE",
                         help="also write the figures into this Markdown file (its own section)")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    log.configure(getattr(args, "log_format", "text"))
    log.bind(run_id=None)
    if args.command == "eval":
        return _evaluate(args)
    if args.command == "report":
        return _report(args)
    if args.command == "schema":
        print(schema.table_markdown(args.table) if args.table else schema.markdown(), end="")
        return EXIT_OK
    try:
        cfg = load_config(args.config).with_run(input=args.input, output=args.output, workers=args.workers,
                                                  engine=args.engine, ray_address=args.ray_address)
        if args.dry_run:
            return _dry_run(cfg, args.rebuild)
        result = run(cfg, from_stage=args.from_stage, wait=args.wait, rebuild=args.rebuild)
    except Locked as exc:
        return _fail(str(exc), EXIT_LOCKED)
    except (ConfigError, UsageError, MissingDependency) as exc:
        return _fail(str(exc), EXIT_USAGE)
    except Interrupted as exc:
        return _fail(f"{exc}: stopped, nothing committed", exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - an unattended job must say what failed and exit with its code
        return _fail(f"run failed: {type(exc).__name__}: {exc}", EXIT_FAILED, traceback=traceback.format_exc())
    if log.is_json():
        log.info(f"run {result.run_id}: {result.status}", event="summary", status=result.status,
                 documents=result.statuses, already_processed=result.already_processed, labels=result.labels,
                 removed=result.removed, tables=result.tables, seconds=result.seconds, output=str(cfg.run.output))
    else:
        print(summary(result, cfg.run.output))
    return EXIT_PARTIAL if result.quarantined else EXIT_OK


def _fail(message: str, code: int, traceback: str | None = None) -> int:
    """Say why the command stops, in one line (a JSON line with ``--log-format json``); return its exit status.
    Only an unexpected failure adds the traceback, for whoever debugs it."""
    line = " ".join(message.split())
    if log.is_json():
        log.error(line, exit_code=code, **({"traceback": traceback} if traceback else {}))
    else:
        print(f"{traceback or ''}provenance: {line}", file=sys.stderr)
    return code


def _dry_run(cfg, rebuild: bool) -> int:
    """``run --dry-run``: the resolved config on stdout; the checks and the plan as log lines."""
    print(json.dumps(cfg.model_dump(mode="json"), indent=2))
    planned = plan(cfg, rebuild=rebuild)
    log.info(f"dry run: output {cfg.run.output} is free" + (" (would be rebuilt)" if rebuild else ""))
    for path in planned.process:
        log.info(f"dry run: would process {path}", would="process", path=path)
    for path, why in planned.skip:
        log.info(f"dry run: would skip {path}: {why}", would="skip", path=path, reason=why)
    log.info(f"dry run: {len(planned.process)} document(s) to process, {len(planned.skip)} to skip",
             process=len(planned.process), skip=len(planned.skip))
    if planned.changed:
        return _fail(f"settings changed since {cfg.run.output} was built: {'; '.join(planned.changed)}; a run "
                     "would refuse: rerun with --rebuild to reprocess every input", EXIT_USAGE)
    return EXIT_OK


def _report(args: argparse.Namespace) -> int:
    """``report``: write the run's HTML report and print its path."""
    from pipeline.report import write_report  # heavy imports only for this command

    output = args.output or Path(load_config(None).run.output)
    try:
        path = write_report(output, args.run)
    except (FileNotFoundError, ValueError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    print(path)
    return EXIT_OK


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

    table = boilerplate.report(boilerplate.evaluate(args.bench, cfg))
    return table.rstrip("\n"), table


def _eval_provenance(args: argparse.Namespace, cfg) -> tuple[str, str]:
    from pipeline.evaluate import provenance

    report = provenance.evaluate_provenance(args.bench, args.output, cfg, args.from_stage)
    text, table = provenance.format_report(report, verbose=args.verbose), provenance.markdown_section(report, args.bench)
    if args.leave_one_group_out:
        groups = provenance.leave_one_group_out(args.bench, args.output, cfg)
        text += "\n" + provenance.format_groups(groups)
        table += "\n" + provenance.groups_section(groups)
    if args.stress:
        from pipeline.evaluate import stress

        results = stress.evaluate_stress(args.stress, args.output.with_name(args.output.name + "-stress"), cfg,
                                         args.from_stage)
        text += "\n" + stress.format_stress(results)
        table += "\n" + stress.stress_section(results)
    return text, table


def _eval_rewrites(args: argparse.Namespace, cfg) -> tuple[str, str]:
    from pipeline.evaluate import rewrites

    fits = args.held_out_fits
    held_out = json.loads(fits.read_text(encoding="utf-8"))["without"] if fits.is_file() else None
    report = rewrites.evaluate_rewrites(args.bench, args.output, cfg, args.sources, args.from_stage, held_out)
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
