"""Runs the stages in order as one incremental, idempotent, crash-safe run over an output folder.

A run takes the lock, finishes or undoes whatever a killed run left behind, reads every input, skips
the documents an earlier run already processed, and matches the rest against the whole history. It
then classifies its new documents and the earlier ones they pair with, among the documents linked to
those (whose decisions stand), so that labels do not depend on the order pages arrived in, and passes
new roots down the chains of copies (``pipeline.stages.link``); earlier paragraphs whose label or
source changes are revised (the old rows go to ``provenance_history``). Each stage's output is saved
under ``stages/`` so ``--from <stage>`` can redo the latest run from there. All tables change in one commit: the swap of the
current snapshot (``pipeline.io.snapshots``); the run manifest in ``runs/`` follows it.
SIGINT and SIGTERM stop a run cleanly: nothing is committed and its manifest says ``interrupted``.
"""
from __future__ import annotations

import hashlib
import os
import signal
import threading
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline import log
from pipeline.config import SPEED_ONLY, Config
from pipeline.embed import MapParts, embedder_for
from pipeline.executors.engines import Engine, LocalEngine, engine_for
from pipeline.io.arraystore import ArrayStore
from pipeline.io import snapshots
from pipeline.io.parquet import publish_dataset, read_dataset, recover_dataset
from pipeline.io.readers import find_sources
from pipeline.io.scratch import release_pool
from pipeline import state
from pipeline.boilerplate.templates import host_of
from pipeline.schema import BLOCKS, CANDIDATES, INGESTED, PARAGRAPHS, PROVENANCE, STORED, to_table
from pipeline.stages.classify import classify, scored_pairs
from pipeline.stages.ingest import doc_id_for, ingest
from pipeline.stages.match import MINHASH_VERSION, match, minhash_signatures
from pipeline.stages.segment import segment
from pipeline.stages.strip import concat_blocks, mark_templates, page_blocks
from pipeline.stages.link import (component_links, context_documents, decided_documents, decisive_pairs, paired_documents,
                                 with_inherited_roots, with_scores)
from pipeline.stages.write import handoff_tables, revise, table_changes

STAGES = ("ingest", "strip", "segment", "match", "classify", "write")
_SAVED = {"ingest": INGESTED, "strip": BLOCKS, "segment": PARAGRAPHS, "match": CANDIDATES, "classify": PROVENANCE}
KILL_SWITCH = "PROVENANCE_KILL_AT"
"""Fault injection for the crash tests: the run SIGKILLs itself at the named point..."""
KILL_SIGNAL = "PROVENANCE_KILL_SIGNAL"
"""...or sends itself this signal instead (``SIGTERM``, ``SIGINT``), as a scheduler stopping it would."""


class UsageError(Exception):
    """The run cannot start as asked (missing input, unknown stage, no saved stage outputs)."""


class ConfigChanged(UsageError):
    """The output was built with a config whose results differ from the current one."""


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived. A BaseException, so that no ``except Exception`` on the way swallows it."""

    def __init__(self, signum: int):
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.exit_code = 128 + signum  # the shell's convention: 130 for SIGINT, 143 for SIGTERM


@dataclass
class Plan:
    """What a run would do (``--dry-run``): the settings changed since the output was built, the documents
    it would process and the ones it would skip, with why."""

    changed: list[str] = field(default_factory=list)
    process: list[str] = field(default_factory=list)
    skip: list[tuple[str, str]] = field(default_factory=list)


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
    model_load_seconds: float = 0.0
    already_processed: int = 0
    revised: int = 0

    @property
    def quarantined(self) -> int:
        return self.statuses.get("quarantined", 0)


def run(cfg: Config, from_stage: str = "ingest", wait: bool = False, rebuild: bool = False) -> RunResult:
    """One run over ``cfg.run.input`` into ``cfg.run.output`` (see the module docstring)."""
    if from_stage not in STAGES:
        raise UsageError(f"unknown stage {from_stage!r}; stages are {', '.join(STAGES)}")
    output = _output_folder(cfg)
    run_id = state.new_run_id() if from_stage == "ingest" else _saved_run_id(output)
    log.bind(run_id=run_id)
    with _stop_on_signals(), _locked(output, wait):
        if rebuild:
            state.clear(output)
            log.info(f"rebuild: cleared the tables, runs and index in {output}")
        try:
            killed = state.recover(output)
        except state.LegacyLayout as exc:
            raise UsageError(str(exc)) from exc
        if killed:
            log.warning(f"run(s) {', '.join(killed)} were killed before they committed: nothing of theirs is visible")
        _check_config(output, cfg)
        manifest = {"run_id": run_id, "status": "running", "started_at": state.utc_now().isoformat(),
                    "config_hash": cfg.results_hash(), "config": cfg.model_dump(mode="json", exclude={"run"}),
                    "package_version": _version("provenance"), "versions": _versions(cfg), "from_stage": from_stage}
        state.write_manifest(output, manifest)
        try:
            with engine_for(cfg.run) as engine:
                return _run_stages(cfg, engine, output, run_id, from_stage, manifest)
        except BaseException as exc:
            with _signals_held():
                stopped = isinstance(exc, Interrupted)
                manifest.update(status="interrupted" if stopped else "failed", ended_at=state.utc_now().isoformat(),
                                error=f"{type(exc).__name__}: {exc}")
                state.write_manifest(output, manifest)
                if stopped:
                    state.recover(output)
                    log.warning(f"{exc}: run {run_id} rolled back, nothing committed")
            raise


def plan(cfg: Config, rebuild: bool = False) -> Plan:
    """Check what a run would check before any work (inputs, output folder, lock, config) and list what it
    would process and skip; writes nothing. Raises as the run would: ``UsageError``, ``ConfigChanged``, ``Locked``."""
    output = _output_folder(cfg)
    if output.is_dir():
        with state.output_lock(output):  # free now, released at once
            pass
    result = Plan(changed=[] if rebuild else _changed_settings(output, cfg))
    history = STORED["documents"].empty_table() if rebuild else state.read_table(output, "documents")
    documents, _ = _read_inputs(cfg, LocalEngine(cfg.run.workers))
    processed = set(history.column("doc_id").to_pylist())
    for doc in documents.select(["doc_id", "source_path", "status", "error"]).to_pylist():
        if doc["doc_id"] in processed:
            result.skip.append((doc["source_path"], "already processed by an earlier run"))
        elif doc["status"] == "ok":
            result.process.append(doc["source_path"])
        else:
            result.skip.append((doc["source_path"], f"{doc['status']}: {doc['error']}"))
    return result


def _output_folder(cfg: Config) -> Path:
    """The output folder, refused as a usage error when it, or the nearest part of its path that exists, is a file."""
    output = Path(cfg.run.output)
    existing = next(p for p in (output, *output.parents) if p.exists())
    if not existing.is_dir():
        raise UsageError(f"output {output}: {existing} is a file, not a folder")
    return output


@contextmanager
def _locked(output: Path, wait: bool) -> Iterator[None]:
    """The output folder's lock; with ``wait``, say that the run waits for it before queueing."""
    with ExitStack() as stack:
        try:
            stack.enter_context(state.output_lock(output))
        except state.Locked as exc:
            if not wait:
                raise
            log.info(f"waiting for the lock: {exc}", waiting_for="lock")
            stack.enter_context(state.output_lock(output, wait=True))
            log.info("lock acquired, starting")
        yield


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise ``Interrupted`` in this process; a forked worker that gets one (Ctrl-C
    reaches the whole process group) exits quietly and leaves the stopping to this process."""
    if threading.current_thread() is not threading.main_thread():  # signal handlers belong to the main thread
        yield
        return
    owner = os.getpid()

    def stop(signum, _frame):
        if os.getpid() != owner:
            os._exit(128 + signum)
        raise Interrupted(signum)

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while the run records how it ended, so that a second Ctrl-C cannot cut that short."""
    held = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, held)


def _run_stages(cfg: Config, engine: Engine, output: Path, run_id: str, from_stage: str, manifest: dict) -> RunResult:
    result = RunResult(run_id=run_id)
    start_at = STAGES.index(from_stage)
    redone = _redone_documents(output, start_at)
    history_docs = _without(state.read_table(output, "documents"), redone)

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
        release_pool()  # what the stage and its writing freed, before the next stage allocates its own
        result.seconds[name] = round(time.perf_counter() - began, 3)
        log.info(f"{name}: {table.num_rows} rows in {result.seconds[name]:.1f}s", stage=name, rows=table.num_rows,
                 seconds=result.seconds[name])
        return table

    if start_at == 0:
        _save_run_id(output, run_id)
    all_inputs: dict = {}
    documents = stage("ingest", lambda: _new_documents(cfg, engine, history_docs, all_inputs, result))
    manifest["input_fingerprint"] = all_inputs.get("fingerprint")
    failures: dict[str, str] = {}
    blocks = stage("strip", lambda: _strip(documents, cfg, engine, failures,
                                                  _earlier_pages(output, documents, history_docs)))
    if failures:  # saved too, so that a run redone --from a later stage keeps them quarantined
        documents = _quarantine(documents, failures)
        publish_dataset(documents, output / "stages" / "ingest")
    _warn_quarantined(documents)
    documents = _stripped_of_content(documents)
    paragraphs = stage("segment", lambda: engine.call(segment, blocks, cfg.segment))
    known = _without(state.read_table(output, "provenance"), redone)
    everything = pa.concat_tables([paragraphs, _history_paragraphs(known)])
    new_docs = set(paragraphs.column("doc_id").to_pylist())
    dates = pa.concat_tables([documents.select(["doc_id", "published_at"]),
                              history_docs.select(["doc_id", "published_at"])])

    def matched() -> pa.Table:
        table, result.model_load_seconds = engine.call(_match, everything, cfg, output, new_docs, dates,
                                                       engine.map_parts)
        return table

    candidates = stage("match", matched)
    decisive = decisive_pairs(candidates, cfg.classify)
    stored_links = partial(_stored_links, output, cfg)
    decided = decided_documents(decisive, new_docs)
    context = context_documents(decided, stored_links, redone)
    links = component_links(decisive, decided | context, stored_links, redone)
    standing = paired_documents(links) - decided
    log.info(f"classify: deciding {len(decided - new_docs)} earlier document(s) with the {len(new_docs)} new ones, "
             f"among {len(standing)} linked one(s) whose decisions stand", decided=len(decided), standing=len(standing))
    rows = _rows_of(everything, decided | standing)
    scored = links  # a run redone --from write stores its pairs unscored: they are scored when next read

    def classified() -> pa.Table:
        """Scores the run's new pairs (the stored ones carry theirs), then classifies."""
        nonlocal scored
        scored = engine.call(scored_pairs, rows, links, cfg)
        return engine.call(classify, rows, scored, dates, cfg, _rows_of(known, standing))

    provenance = stage("classify", classified)

    _checkpoint("write")
    began = time.perf_counter()
    now = state.utc_now()
    current = with_inherited_roots(provenance, known)
    revision = revise(_rows_of(known, set(current.column("doc_id").to_pylist())), current, run_id, now)
    added = handoff_tables(documents, blocks, _rows_of(current, new_docs))
    changes = table_changes(added, revision, history_docs, with_scores(candidates, scored), run_id,
                            redone | set(documents.column("doc_id").to_pylist()))
    result.tables = {name: table.num_rows for name, table in added.items()}
    result.revised = revision.superseded.num_rows
    result.seconds["write"] = round(time.perf_counter() - began, 3)
    result.statuses = _counts(documents, "status")
    result.labels = _counts(added["provenance"], "label")
    result.removed = _counts(added["removed"], "reason")
    result.status = "partial" if result.quarantined else "ok"
    manifest.update(status=result.status, ended_at=now.isoformat(), tables=result.tables,
                    statuses=result.statuses, labels=result.labels, removed=result.removed,
                    revised_paragraphs=result.revised, revised_documents=len(revision.documents),
                    decided_documents=len(decided), standing_documents=len(standing),
                    seconds=result.seconds, model_load_seconds=round(result.model_load_seconds, 3),
                    already_processed=result.already_processed,
                    stage_rows={name: table.num_rows for name, table in (
                        ("ingest", documents), ("strip", blocks), ("segment", paragraphs),
                        ("match", candidates), ("classify", provenance))})
    _publish(output, changes, manifest)
    return result


def _publish(output: Path, changes: dict[str, snapshots.Change], manifest: dict) -> None:
    """Commit every table at once (the swap is the commit point), then file the manifest in ``runs/``."""
    snapshots.commit(output, changes, manifest, checkpoint=_checkpoint)
    _checkpoint("manifest")
    state.write_manifest(output, manifest)


def _redone_documents(output: Path, start_at: int) -> set[str]:
    """Documents of the run that ``--from`` redoes: the history must not hold them as sources of themselves."""
    folder = output / "stages" / "ingest"
    if start_at == 0 or not folder.exists():
        return set()
    return set(read_dataset(folder, INGESTED).column("doc_id").to_pylist())


def _in(table: pa.Table, doc_ids: set[str]) -> pa.ChunkedArray:
    return pc.is_in(table.column("doc_id"), value_set=pa.array(sorted(doc_ids), pa.string()))


def _without(table: pa.Table, doc_ids: set[str]) -> pa.Table:
    return table.filter(pc.invert(_in(table, doc_ids))) if doc_ids else table


def _rows_of(table: pa.Table, doc_ids: set[str]) -> pa.Table:
    return table.filter(_in(table, doc_ids))


def _stored_links(output: Path, cfg: Config, doc_ids: set[str]) -> pa.Table:
    """The stored pairs of ``doc_ids`` that can make a decision."""
    return decisive_pairs(state.read_table(output, "_links", doc_ids=doc_ids), cfg.classify)


def _checkpoint(point: str) -> None:
    if os.environ.get(KILL_SWITCH) == point:
        os.kill(os.getpid(), getattr(signal, os.environ.get(KILL_SIGNAL, "SIGKILL")))


def _check_config(output: Path, cfg: Config) -> None:
    changed = _changed_settings(output, cfg)
    if changed:
        last = _last_committed(output)
        raise ConfigChanged(
            f"the config differs from the one {output} was built with in run {last['run_id']} "
            f"({'; '.join(changed)}): results would mix. Rerun with --rebuild to reprocess every input under "
            f"the new config, or write to another --output."
        )


def _last_committed(output: Path) -> dict | None:
    committed = [m for m in state.manifests(output) if m.get("status") in state.COMMITTED]
    return committed[-1] if committed else None


def _changed_settings(output: Path, cfg: Config) -> list[str]:
    """``section.name: old -> new`` for every results-changing setting that differs from the output's last
    committed run; empty when they agree or nothing is committed yet."""
    last = _last_committed(output)
    if last is None or last.get("config_hash") == cfg.results_hash():
        return []
    if "config" not in last:  # built before manifests recorded the config: only the hash is known
        return [f"config hash {last.get('config_hash')} -> {cfg.results_hash()}"]
    before, now = _flat(last["config"]), _flat(cfg.results_settings())
    before = {name: value for name, value in before.items() if name not in SPEED_ONLY}
    return [f"{name}: {before.get(name)!r} -> {now.get(name)!r}" for name in sorted(before.keys() | now.keys())
            if before.get(name) != now.get(name)]


def _flat(settings: dict, prefix: str = "") -> dict[str, object]:
    """Nested config sections as ``section.name`` keys."""
    flat: dict[str, object] = {}
    for name, value in settings.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat


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


def _new_documents(cfg: Config, engine: Engine, history_docs: pa.Table, inputs: dict, result: RunResult) -> pa.Table:
    """Every input read, minus documents an earlier run processed (and repeats within this input)."""
    documents, inputs["fingerprint"] = _read_inputs(cfg, engine)
    processed = set(history_docs.column("doc_id").to_pylist())
    keep = [doc_id not in processed for doc_id in documents.column("doc_id").to_pylist()]
    result.already_processed = len(keep) - sum(keep)
    if result.already_processed:
        log.info(f"ingest: {result.already_processed} document(s) already processed, skipped")
    return _mark_repeats(documents.filter(pa.array(keep, type=pa.bool_())))


def _read_inputs(cfg: Config, engine: Engine) -> tuple[pa.Table, str]:
    """Every input file read into documents, and the fingerprint of the input (paths and content hashes)."""
    try:
        sources = pa.Table.from_pandas(find_sources(cfg.run.input), preserve_index=False)
    except (FileNotFoundError, ValueError) as exc:  # a missing input or a manifest without a path column
        raise UsageError(str(exc)) from exc
    documents = engine.map_batches(partial(ingest, cfg=cfg.ingest), sources, cfg.run.batch_size, INGESTED)
    fingerprint = hashlib.sha256()
    for path, content_hash in sorted(zip(documents.column("source_path").to_pylist(),
                                         documents.column("content_hash").to_pylist())):
        fingerprint.update(f"{path}\0{content_hash}\n".encode())
    return documents, fingerprint.hexdigest()


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


def _earlier_pages(output: Path, documents: pa.Table, history_docs: pa.Table) -> dict[str, tuple[str | None, list[str]]]:
    """Block texts of earlier runs' pages (kept paragraphs and removed blocks) on the hosts of this run's pages."""
    hosts_now = {host_of(url) for url in documents.column("url").to_pylist()} - {None}
    hosts = {r["doc_id"]: host_of(r["url"]) for r in history_docs.select(["doc_id", "url"]).to_pylist()}
    same_host = {doc_id for doc_id, host in hosts.items() if host in hosts_now}
    pages: dict[str, tuple[str | None, list[str]]] = {}
    if not same_host:
        return pages
    for table in ("provenance", "removed"):
        rows = state.read_table(output, table, doc_ids=same_host, columns=["doc_id", "text"])
        for doc_id, text in zip(rows.column("doc_id").to_pylist(), rows.column("text").to_pylist()):
            pages.setdefault(doc_id, (hosts[doc_id], []))[1].append(text)
    return pages


def _strip(documents: pa.Table, cfg: Config, engine: Engine, failures: dict[str, str],
           earlier: dict[str, tuple[str | None, list[str]]]) -> pa.Table:
    """Blocks of every readable document, each stripped in a killable worker with a deadline, then the
    cross-document pass that removes a host's template blocks."""
    readable = documents.filter(pc.equal(documents.column("status"), "ok"))
    order = readable.column("doc_id").to_pylist()
    progress = log.Progress(len(order), "strip")
    judged: dict[str, pa.Table] = {}
    work = partial(_strip_task, cfg=cfg.strip)
    def done(outcome) -> None:
        progress.advance()
        _checkpoint(f"strip:{progress.done}")  # crash tests kill the run while its workers are busy

    for outcome in engine.sandboxed(work, _strip_tasks(readable), cfg.run.doc_timeout, done):
        if outcome.error:
            failures[outcome.key] = f"strip: {outcome.error}"
        else:
            judged[outcome.key] = outcome.value
    progress.close()
    blocks = concat_blocks([judged[doc_id] for doc_id in order if doc_id in judged])
    return mark_templates(blocks, readable, cfg.strip, earlier)


def _strip_tasks(readable: pa.Table, rows: int = 64) -> Iterator[tuple[str, tuple[str, str, str]]]:
    """One task per page, made as the workers ask for them: the pages' text held whole as Python strings
    (up to four bytes a character) would cost the main process several times the corpus, for the whole run
    (the heap does not shrink back)."""
    for batch in readable.select(["doc_id", "content", "content_type"]).to_batches(rows):
        for d in batch.to_pylist():
            yield d["doc_id"], (d["doc_id"], d["content"], d["content_type"])


def _strip_task(payload: tuple[str, str, str], cfg) -> pa.Table:
    return page_blocks(*payload, cfg)


def _quarantine(documents: pa.Table, failures: dict[str, str]) -> pa.Table:
    frame = documents.to_pandas()
    hit = frame["doc_id"].isin(failures)
    frame.loc[hit, "status"] = "quarantined"
    frame.loc[hit, "error"] = frame.loc[hit, "doc_id"].map(failures)
    return to_table(frame, INGESTED)


def _stripped_of_content(documents: pa.Table) -> pa.Table:
    """The documents without their pages' text, which no stage reads after strip (it stays saved in
    ``stages/ingest`` for ``--from strip``): the corpus is not held through match and classify."""
    at = documents.schema.get_field_index("content")
    return documents.set_column(at, documents.schema.field(at), pa.nulls(documents.num_rows, pa.large_string()))


def _warn_quarantined(documents: pa.Table) -> None:
    """A warning line per quarantined document (unreadable at ingest or too slow to strip), with why."""
    for doc in documents.filter(pc.equal(documents.column("status"), "quarantined")).select(
            ["doc_id", "source_path", "error"]).to_pylist():
        log.warning(f"quarantined {doc['source_path']} ({doc['doc_id']}): {doc['error']}", **doc)


def _history_paragraphs(history: pa.Table) -> pa.Table:
    return history.select([f.name for f in PARAGRAPHS]).cast(PARAGRAPHS)


def _match(paragraphs: pa.Table, cfg: Config, output: Path, new_docs: set[str], dates: pa.Table,
           map_parts: MapParts | None = None) -> tuple[pa.Table, float]:
    """The match stage with the persistent paragraph index: MinHash signatures and embeddings by text hash
    (one store per embedder, so each paragraph is embedded once per model, ever; on Ray, large embeddings
    and the neighbour search spread over the cluster by ``map_parts``); ``dates`` of every document let each paragraph's possible
    sources by date take part in the neighbour search. Also the
    seconds the stage spent loading models (a load varies with the page cache by more than a small run's
    work: 1.5 to 11 s for the same run, docs/benchmarks.md)."""
    index = output / "index"
    m = cfg.match
    stores = {}

    def store(name: str, dtype: type) -> ArrayStore:
        """One store per file: the cascade's cheap model may be the full one, whose vectors it then shares."""
        if name not in stores:
            stores[name] = ArrayStore(index / f"{name}.arrow", dtype)
        return stores[name]

    def cached(embedder) -> Callable[[list[str], list[str]], np.ndarray]:
        return partial(store(f"embeddings-{embedder.name}", np.float32).lookup, compute=embedder.encode)

    signatures = store(f"{MINHASH_VERSION}-{m.shingle_size}gram-{m.num_perm}", np.uint32)  # reads 64-bit stores too
    full = embedder_for(m.embedder, m, map_parts) if m.semantic else None
    cheap = embedder_for("static", m, map_parts) if m.semantic and m.cascade else None
    table = match(paragraphs, m, embed=cached(full) if full else None,
                  sign=partial(signatures.lookup, compute=partial(minhash_signatures, cfg=m)),
                  new_docs=new_docs, propose=cached(cheap) if cheap else None, dates=dates, spread=map_parts)
    for opened in stores.values():
        opened.save()
    return table, sum(e.load_seconds for e in (full, cheap) if e is not None)


def _counts(table: pa.Table, column: str) -> dict[str, int]:
    values = [str(v) for v in table.column(column).to_pylist()]
    return {v: values.count(v) for v in sorted(set(values))}


def _versions(cfg: Config) -> dict[str, str | None]:
    """The installed versions that decide a run's results, the embedders' runtimes included (the default
    embedder runs on ONNX Runtime, the cascade's static model on model2vec)."""
    return {p: _version(p) for p in ("provenance", "trafilatura", "justext", "datasketch", "pyarrow",
                                     "sentence-transformers", "onnxruntime", "model2vec", cfg.match.model)}


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None
