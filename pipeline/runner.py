"""Runs the stages in order, saving each stage's output so any stage can be re-run alone."""
from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass, field
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Callable

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.config import Config
from pipeline.embed import EmbeddingCache, SentenceEmbedder
from pipeline.executors.local import map_batches
from pipeline.io.parquet import publish_dataset, read_dataset, recover_dataset
from pipeline.io.readers import find_sources
from pipeline.schema import BLOCKS, CANDIDATES, INGESTED, PARAGRAPHS, PROVENANCE
from pipeline.stages.classify import classify
from pipeline.stages.ingest import ingest
from pipeline.stages.match import match
from pipeline.stages.segment import segment
from pipeline.stages.strip import mark_templates, strip
from pipeline.stages.write import TABLES, write

STAGES = ("ingest", "strip", "segment", "match", "classify", "write")
_SAVED = {"ingest": INGESTED, "strip": BLOCKS, "segment": PARAGRAPHS, "match": CANDIDATES, "classify": PROVENANCE}


@dataclass
class RunResult:
    """What a run did: rows per table, documents per status, seconds per stage."""

    tables: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def quarantined(self) -> int:
        return self.statuses.get("quarantined", 0)


def stage_dir(output: Path, stage: str) -> Path:
    return Path(output) / "stages" / stage


def run(cfg: Config, from_stage: str = "ingest", log: Callable[[str], None] = print) -> RunResult:
    """Run the pipeline from ``from_stage`` (earlier stages' saved outputs are read back)."""
    if from_stage not in STAGES:
        raise ValueError(f"unknown stage {from_stage!r}; stages are {', '.join(STAGES)}")
    output = Path(cfg.run.output)
    for name in (*TABLES, *(f"stages/{s}" for s in _SAVED)):
        recover_dataset(output / name)
    result = RunResult()
    start_at = STAGES.index(from_stage)
    results: dict[str, pa.Table] = {}

    def timed(stage: str, compute: Callable[[], pa.Table]) -> pa.Table:
        if STAGES.index(stage) < start_at:
            folder = stage_dir(output, stage)
            if not folder.exists():
                raise FileNotFoundError(f"no saved output of stage {stage!r} in {folder}: run from an earlier stage")
            return read_dataset(folder, _SAVED[stage])
        began = time.perf_counter()
        table = compute()
        publish_dataset(table, stage_dir(output, stage))
        result.seconds[stage] = round(time.perf_counter() - began, 3)
        log(f"{stage}: {table.num_rows} rows in {result.seconds[stage]:.1f}s")
        return table

    workers, size = cfg.run.workers, cfg.run.batch_size
    results["ingest"] = timed("ingest", lambda: map_batches(
        partial(ingest, cfg=cfg.ingest), pa.Table.from_pandas(find_sources(cfg.run.input), preserve_index=False),
        size, workers, INGESTED))
    results["strip"] = timed("strip", lambda: mark_templates(map_batches(
        partial(strip, cfg=cfg.strip), results["ingest"], size, workers, BLOCKS), results["ingest"], cfg.strip))
    results["segment"] = timed("segment", lambda: segment(results["strip"], cfg.segment))
    results["match"] = timed("match", lambda: _match(results["segment"], cfg))
    results["classify"] = timed("classify", lambda: classify(
        results["segment"], results["match"], results["ingest"], cfg))

    began = time.perf_counter()
    result.tables = write(results["ingest"], results["strip"], results["classify"], output)
    result.seconds["write"] = round(time.perf_counter() - began, 3)
    result.statuses = _counts(results["ingest"], "status")
    result.labels = _counts(results["classify"], "label")
    result.removed = _counts(results["strip"].filter(pc.invert(results["strip"].column("kept"))), "reason")
    _write_run_record(cfg, result, output)
    return result


def _match(paragraphs: pa.Table, cfg: Config) -> pa.Table:
    if not cfg.match.semantic:
        return match(paragraphs, cfg.match)
    embedder = SentenceEmbedder(cfg.match.model, cfg.match.embed_batch_size)
    cache = EmbeddingCache(Path(cfg.run.output) / "cache" / "embeddings", cfg.match.model)
    table = match(paragraphs, cfg.match, partial(cache.embed, embedder=embedder))
    cache.save()
    return table


def _counts(table: pa.Table, column: str) -> dict[str, int]:
    values = table.column(column).to_pylist()
    return {str(v): values.count(v) for v in sorted(set(values), key=str)}


def _write_run_record(cfg: Config, result: RunResult, output: Path) -> None:
    """The resolved config, versions and counts next to the outputs, written last."""
    record = {
        "config": cfg.model_dump(mode="json"),
        "config_hash": cfg.results_hash(),
        "versions": {p: _version(p) for p in ("provenance", "trafilatura", "justext", "datasketch", "pyarrow",
                                              "sentence-transformers", cfg.match.model)},
        "python": platform.python_version(),
        "tables": result.tables,
        "statuses": result.statuses,
        "labels": result.labels,
        "removed": result.removed,
        "seconds": result.seconds,
    }
    path = Path(output) / "run.json"
    tmp = path.with_name(".run.json.tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True), encoding="utf-8")
    tmp.replace(path)


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None
