"""Runs the stages in order as one incremental, idempotent, crash-safe run over an output folder.

A run takes the lock, rolls back whatever a killed run left behind, reads every input, skips the
documents an earlier committed run already processed, and processes the rest against the whole
history (earlier runs' paragraphs are sources, with their published labels). Each stage's output is
saved under ``stages/`` so ``--from <stage>`` can redo the latest run from there. The run's table
partitions are published by rename and the run manifest is written last: that is the commit.
"""
from __future__ import annotations

import hashlib
import os
import signal
import time
from dataclasses import dataclass, field
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline import log
from pipeline.config import Config
from pipeline.embed import embedder_for
from pipeline.executors.local import map_batches
from pipeline.executors.sandbox import run_sandboxed
from pipeline.io.arraystore import ArrayStore
from pipeline.io.parquet import publish_dataset, read_dataset, recover_dataset
from pipeline.io.readers import find_sources
from pipeline import state
from pipeline.boilerplate.templates import host_of
from pipeline.schema import BLOCKS, CANDIDATES, DOCUMENTS, INGESTED, PARAGRAPHS, PROVENANCE, REMOVED, to_table
from pipeline.stages.classify import classify
from pipeline.stages.ingest import doc_id_for, ingest
from pipeline.stages.match import MINHASH_VERSION, match, minhash_signatures
from pipeline.stages.segment import segment
from pipeline.stages.strip import blocks_table, document_blocks, mark_templates
from pipeline.stages.write import handoff_tables

STAGES = ("ingest", "strip", "segment", "match", "classify", "write")
_SAVED = {"ingest": INGESTED, "strip": BLOCKS, "segment": PARAGRAPHS, "match": CANDIDATES, "classify": PROVENANCE}
KILL_SWITCH = "PROVENANCE_KILL_AT"
"""Fault injection for the crash tests: the run SIGKILLs itself at the named point."""


class UsageError(Exception):
    """The run cannot start as asked (missing input, unknown stage, no saved stage outputs)."""


class ConfigChanged(UsageError):
    """The output was built with a config whose results differ from the current one."""


@dataclass
class RunResult:
    """What a run did: its id and status, rows per table, documents per status, seconds per stage."""

    run_id: str = ""
    status: str = "ok"
    tables: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    already_processed: int = 0

    @property
    def quarantined(self) -> int:
        return self.statuses.get("quarantined", 0)


def run(cfg: Config, from_stage: str = "ingest", wait: bool = False, rebuild: bool = False) -> RunResult:
    """One run over ``cfg.run.input`` into ``cfg.run.output`` (see the module docstring)."""
    if from_stage not in STAGES:
        raise UsageError(f"unknown stage {from_stage!r}; stages are {', '.join(STAGES)}")
    output = Path(cfg.run.output)
    with state.output_lock(output, wait=wait):
        if rebuild:
            state.clear(output)
            log.info(f"rebuild: cleared the tables, runs and index in {output}")
        rolled_back = state.recover(output)
        if rolled_back:
            log.warning(f"rolled back uncommitted run(s) {', '.join(rolled_back)} left by a crash")
        _check_config(output, cfg)
        run_id = state.new_run_id() if from_stage == "ingest" else _saved_run_id(output)
        manifest = {"run_id": run_id, "status": "running", "started_at": state.utc_now().isoformat(),
                    "config_hash": cfg.results_hash(), "package_version": _version("provenance"),
                    "versions": _versions(cfg), "from_stage": from_stage}
        try:
            result = _run_stages(cfg, output, run_id, from_stage, manifest)
        except BaseException as exc:
            manifest.update(status="failed", ended_at=state.utc_now().isoformat(), error=f"{type(exc).__name__}: {exc}")
            state.write_manifest(output, manifest)
            raise
        return result


def _run_stages(cfg: Config, output: Path, run_id: str, from_stage: str, manifest: dict) -> RunResult:
    result = RunResult(run_id=run_id)
    start_at = STAGES.index(from_stage)
    history_docs = state.read_table(output, "documents", DOCUMENTS, exclude_run=run_id)
    history = state.read_table(output, "provenance", PROVENANCE, exclude_run=run_id)

    def stage(name: str, compute: Callable[[], pa.Table]) -> pa.Table:
        folder = output / "stages" / name
        if STAGES.index(name) < start_at:
            recover_dataset(folder)
            if not folder.exists():
                raise UsageError(f"no saved output of stage {name!r} in {folder}: run from an earlier stage")
            return read_dataset(folder, _SAVED[name])
        _checkpoint(name)
        began = time.perf_counter()
        table = compute()
        publish_dataset(table, folder)
        result.seconds[name] = round(time.perf_counter() - began, 3)
        log.info(f"{name}: {table.num_rows} rows in {result.seconds[name]:.1f}s", stage=name, rows=table.num_rows,
                 seconds=result.seconds[name])
        return table

    if start_at == 0:
        _save_run_id(output, run_id)
    all_inputs: dict = {}
    documents = stage("ingest", lambda: _new_documents(cfg, history_docs, all_inputs, result))
    manifest["input_fingerprint"] = all_inputs.get("fingerprint")
    failures: dict[str, str] = {}
    blocks = stage("strip", lambda: _strip(documents, cfg, failures, _earlier_pages(output, run_id, history_docs)))
    if failures:  # saved too, so that a run redone --from a later stage keeps them quarantined
        documents = _quarantine(documents, failures)
        publish_dataset(documents, output / "stages" / "ingest")
    paragraphs = stage("segment", lambda: segment(blocks, cfg.segment))
    known = _history_paragraphs(history)
    everything = pa.concat_tables([paragraphs, known])
    new_docs = set(paragraphs.column("doc_id").to_pylist())
    candidates = stage("match", lambda: _match(everything, cfg, output, new_docs))
    dates = pa.concat_tables([documents.select(["doc_id", "published_at"]),
                              history_docs.select(["doc_id", "published_at"])])
    provenance = stage("classify", lambda: classify(everything, candidates, dates, cfg, history))

    _checkpoint("write")
    began = time.perf_counter()
    result.tables = _publish(output, run_id, handoff_tables(documents, blocks, provenance))
    result.seconds["write"] = round(time.perf_counter() - began, 3)
    result.statuses = _counts(documents, "status")
    result.labels = _counts(provenance, "label")
    result.removed = _counts(blocks.filter(pc.invert(blocks.column("kept"))), "reason")
    result.status = "partial" if result.quarantined else "ok"
    _checkpoint("manifest")
    manifest.update(status=result.status, ended_at=state.utc_now().isoformat(), tables=result.tables,
                    statuses=result.statuses, labels=result.labels, removed=result.removed,
                    seconds=result.seconds, already_processed=result.already_processed,
                    stage_rows={name: table.num_rows for name, table in (
                        ("ingest", documents), ("strip", blocks), ("segment", paragraphs),
                        ("match", candidates), ("classify", provenance))})
    state.write_manifest(output, manifest)  # the commit point
    return result


def _publish(output: Path, run_id: str, tables: dict[str, pa.Table]) -> dict[str, int]:
    """Publish the run's partitions; returns rows per table. A run that adds nothing leaves no files."""
    for name, table in tables.items():
        if table.num_rows or not (output / name).exists():
            state.publish_partition(output, name, run_id, table)
        _checkpoint(f"write:{name}")
    return {name: table.num_rows for name, table in tables.items()}


def _checkpoint(point: str) -> None:
    if os.environ.get(KILL_SWITCH) == point:
        os.kill(os.getpid(), signal.SIGKILL)


def _check_config(output: Path, cfg: Config) -> None:
    committed = [m for m in state.manifests(output) if m.get("status") in state.COMMITTED]
    if committed and committed[-1].get("config_hash") != cfg.results_hash():
        last = committed[-1]
        raise ConfigChanged(
            f"the config differs from the one {output} was built with (config hash {last.get('config_hash')} "
            f"in run {last['run_id']}, now {cfg.results_hash()}): results would mix. Rerun with --rebuild to "
            f"reprocess every input under the new config, or write to another --output."
        )


def _save_run_id(output: Path, run_id: str) -> None:
    path = output / "stages" / "RUN_ID"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(".RUN_ID.tmp")
    tmp.write_text(run_id, encoding="utf-8")
    tmp.replace(path)


def _saved_run_id(output: Path) -> str:
    path = output / "stages" / "RUN_ID"
    if not path.exists():
        raise UsageError(f"no saved stage outputs in {output}/stages: run from ingest first")
    return path.read_text(encoding="utf-8").strip()


def _new_documents(cfg: Config, history_docs: pa.Table, inputs: dict, result: RunResult) -> pa.Table:
    """Every input read, minus documents an earlier run processed (and repeats within this input)."""
    try:
        sources = pa.Table.from_pandas(find_sources(cfg.run.input), preserve_index=False)
    except (FileNotFoundError, ValueError) as exc:  # a missing input or a manifest without a path column
        raise UsageError(str(exc)) from exc
    documents = map_batches(partial(ingest, cfg=cfg.ingest), sources, cfg.run.batch_size, cfg.run.workers, INGESTED)
    fingerprint = hashlib.sha256()
    for path, content_hash in sorted(zip(documents.column("source_path").to_pylist(),
                                         documents.column("content_hash").to_pylist())):
        fingerprint.update(f"{path}\0{content_hash}\n".encode())
    inputs["fingerprint"] = fingerprint.hexdigest()
    processed = set(history_docs.column("doc_id").to_pylist())
    keep = [doc_id not in processed for doc_id in documents.column("doc_id").to_pylist()]
    result.already_processed = len(keep) - sum(keep)
    if result.already_processed:
        log.info(f"ingest: {result.already_processed} document(s) already processed, skipped")
    return _mark_repeats(documents.filter(pa.array(keep, type=pa.bool_())))


def _mark_repeats(documents: pa.Table) -> pa.Table:
    """A document given twice in one input (same address, same bytes) is processed once; the repeat stays
    accounted for as a skipped row under an id of its own location."""
    frame = documents.to_pandas()
    repeat = frame["doc_id"].duplicated()
    if not repeat.any():
        return documents
    first_at = frame.drop_duplicates("doc_id").set_index("doc_id")["source_path"]
    for i in frame.index[repeat]:
        original = frame.at[i, "doc_id"]
        frame.loc[i, ["status", "content"]] = ["skipped", None]
        frame.at[i, "error"] = f"repeat of document {original} (same address and content, first at {first_at[original]})"
        frame.at[i, "doc_id"] = doc_id_for(frame.at[i, "source_path"], frame.at[i, "content_hash"])
    return to_table(frame, INGESTED)


def _earlier_pages(output: Path, run_id: str, history_docs: pa.Table) -> dict[str, tuple[str | None, list[str]]]:
    """Block texts of the pages of earlier runs (kept paragraphs and removed blocks), with their hosts."""
    hosts = {r["doc_id"]: host_of(r["url"]) for r in history_docs.select(["doc_id", "url"]).to_pylist()}
    pages: dict[str, tuple[str | None, list[str]]] = {}
    for table in ("provenance", "removed"):
        rows = state.read_table(output, table, PROVENANCE if table == "provenance" else REMOVED, exclude_run=run_id)
        for doc_id, text in zip(rows.column("doc_id").to_pylist(), rows.column("text").to_pylist()):
            if hosts.get(doc_id):
                pages.setdefault(doc_id, (hosts[doc_id], []))[1].append(text)
    return pages


def _strip(documents: pa.Table, cfg: Config, failures: dict[str, str],
           earlier: dict[str, tuple[str | None, list[str]]]) -> pa.Table:
    """Blocks of every readable document, each stripped in a killable worker with a deadline, then the
    cross-document pass that removes a host's template blocks."""
    readable = documents.filter(pc.equal(documents.column("status"), "ok"))
    tasks = [(d["doc_id"], (d["doc_id"], d["content"], d["content_type"]))
             for d in readable.select(["doc_id", "content", "content_type"]).to_pylist()]
    progress = log.Progress(len(tasks), "strip")
    judged: dict[str, list] = {}
    work = partial(_strip_task, cfg=cfg.strip)
    for outcome in run_sandboxed(work, tasks, cfg.run.workers, cfg.run.doc_timeout, progress.advance):
        if outcome.error:
            failures[outcome.key] = f"strip: {outcome.error}"
        else:
            judged[outcome.key] = outcome.value
    progress.close()
    blocks = blocks_table([(doc_id, judged[doc_id]) for doc_id, _ in tasks if doc_id in judged])
    return mark_templates(blocks, readable, cfg.strip, earlier)


def _strip_task(payload: tuple[str, str, str], cfg) -> list:
    _, content, content_type = payload
    return document_blocks(content, content_type, cfg)


def _quarantine(documents: pa.Table, failures: dict[str, str]) -> pa.Table:
    frame = documents.to_pandas()
    hit = frame["doc_id"].isin(failures)
    frame.loc[hit, "status"] = "quarantined"
    frame.loc[hit, "error"] = frame.loc[hit, "doc_id"].map(failures)
    for doc_id, error in failures.items():
        log.warning(f"quarantined {doc_id}: {error}", doc_id=doc_id, error=error)
    return to_table(frame, INGESTED)


def _history_paragraphs(history: pa.Table) -> pa.Table:
    return history.select([f.name for f in PARAGRAPHS]).cast(PARAGRAPHS)


def _match(paragraphs: pa.Table, cfg: Config, output: Path, new_docs: set[str]) -> pa.Table:
    """The match stage with the persistent paragraph index: MinHash signatures and embeddings by text hash
    (one store per embedder, so each paragraph is embedded once per model, ever)."""
    index = output / "index"
    m = cfg.match
    signatures = ArrayStore(index / f"{MINHASH_VERSION}-{m.shingle_size}gram-{m.num_perm}.parquet", np.uint64)
    stores = [signatures]

    def cached(embedder) -> Callable[[list[str], list[str]], np.ndarray]:
        store = ArrayStore(index / f"embeddings-{embedder.name}.parquet", np.float32)
        stores.append(store)
        return partial(store.lookup, compute=embedder.encode)

    embed = cached(embedder_for(m.embedder, m.model, m.embed_batch_size)) if m.semantic else None
    propose = cached(embedder_for("static", m.model, m.embed_batch_size)) if m.semantic and m.cascade else None
    table = match(paragraphs, m, embed=embed, sign=partial(signatures.lookup, compute=partial(minhash_signatures, cfg=m)),
                  new_docs=new_docs, propose=propose)
    for store in stores:
        store.save()
    return table


def _counts(table: pa.Table, column: str) -> dict[str, int]:
    values = [str(v) for v in table.column(column).to_pylist()]
    return {v: values.count(v) for v in sorted(set(values))}


def _versions(cfg: Config) -> dict[str, str | None]:
    return {p: _version(p) for p in ("provenance", "trafilatura", "justext", "datasketch", "pyarrow",
                                     "sentence-transformers", cfg.match.model)}


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None
