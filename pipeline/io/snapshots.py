"""Tables as generations of bucketed Parquet files, made current by one atomic symlink swap.

``<output>/<table>`` is a symlink to ``.snapshots/current/<table>``, and ``.snapshots/current`` points
at one generation folder. A commit builds the next generation beside the current one (untouched
buckets hard-linked, touched buckets written anew), then swaps ``current``: every table changes at
once, a reader sees the old snapshot or the new one and never a mix, and a crash before the swap
leaves the old one. Files are never modified once written, which is what makes hard links safe.
See ``docs/design.md``.
"""
from __future__ import annotations

import json
import os
import shutil
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.io.parquet import read_parquet, write_file_atomic

BUCKETS = 64
"""Files per table: a revision rewrites the buckets of the documents it touches, never the history."""
KEEP_GENERATIONS = 3
"""Generations kept after a commit, so that a reader that resolved an older link can finish reading."""
SNAPSHOTS = ".snapshots"
CURRENT = "current"
GENERATION_FILE = "GENERATION.json"
_PREFIX = "g"


@dataclass(frozen=True)
class Change:
    """What a commit does to one table: drop the rows of ``replace`` documents, then add ``rows``."""

    schema: pa.Schema
    rows: pa.Table
    replace: frozenset[str] = frozenset()


def bucket_of(doc_ids: list[str]) -> np.ndarray:
    """The bucket of each document id: a stable hash, the same on every machine and Python version."""
    return np.array([zlib.crc32(d.encode("utf-8")) % BUCKETS for d in doc_ids], dtype=np.int64)


def part_name(bucket: int) -> str:
    return f"part-{bucket:03d}.parquet"


def current_generation(output: Path) -> Path | None:
    """The folder of the current generation, or None before the first commit."""
    link = Path(output) / SNAPSHOTS / CURRENT
    if not link.is_symlink():
        return None
    return link.parent / os.readlink(link)


def read(output: Path, table: str, schema: pa.Schema, doc_ids: set[str] | None = None,
         columns: list[str] | None = None) -> pa.Table:
    """Current rows of ``table`` (all, or only those of ``doc_ids``, reading only their buckets)."""
    generation = current_generation(output)
    folder = generation / table if generation else None
    wanted = schema if columns is None else pa.schema([schema.field(c) for c in columns])
    if folder is None or not folder.is_dir():
        return wanted.empty_table()
    if doc_ids is None:
        files = sorted(folder.glob("*.parquet"))
    else:
        files = [folder / part_name(b) for b in sorted(set(bucket_of(sorted(doc_ids)).tolist()))]
        files = [f for f in files if f.exists()]
    parts = [_read_file(f, schema, wanted.names) for f in files]
    result = pa.concat_tables(parts) if parts else wanted.empty_table()
    if doc_ids is not None:
        result = result.filter(pc.is_in(result.column("doc_id"), value_set=pa.array(sorted(doc_ids), pa.string())))
    return result


def _read_file(path: Path, schema: pa.Schema, columns: list[str]) -> pa.Table:
    """One bucket file, cast to ``schema`` (the file's own schema may be an older one: see ``commit``)."""
    table = read_parquet(path)
    missing = [f for f in schema if f.name not in table.column_names]
    for field in missing:
        table = table.append_column(field, pa.nulls(table.num_rows, field.type))
    return table.select([f.name for f in schema]).cast(schema).select(columns)


def commit(output: Path, changes: dict[str, Change], record: dict,
           checkpoint: Callable[[str], None] = lambda point: None) -> Path:
    """Make the next generation current (see the module docstring); returns its folder.

    ``record`` (the run's manifest) is written into the generation, so that a crash between the swap and
    the manifest in ``runs/`` can be finished by ``recover``. ``checkpoint`` is called with
    ``commit:<table>`` after each table and ``commit:swap`` before the swap (crash tests stop there). A table whose files carry another schema
    than ``Change.schema`` is rewritten whole: every file of a generation has the same schema.
    """
    output = Path(output)
    snapshots = output / SNAPSHOTS
    snapshots.mkdir(parents=True, exist_ok=True)
    previous = current_generation(output)
    number = _number(previous.name) + 1 if previous else 1
    generation = snapshots / f"{_PREFIX}{number:08d}"
    if generation.exists():  # left by a run killed before its swap
        shutil.rmtree(generation)
    generation.mkdir()
    before = _meta(previous).get("tables", {}) if previous else {}
    tables = {}
    for name in sorted(set(changes) | set(before)):
        old = (previous / name, before[name]) if name in before else None
        tables[name] = _next_table(old, generation / name, changes.get(name))
        checkpoint(f"commit:{name}")
    meta = {"generation": generation.name, "parent": previous.name if previous else None,
            "tables": tables, "run": record}
    _write_json(generation / GENERATION_FILE, meta)
    _fsync_tree(generation)
    checkpoint("commit:swap")
    _swap_current(snapshots, generation.name)
    for name in tables:
        _link_table(output, name)
    return generation


def _meta(generation: Path) -> dict:
    return json.loads((generation / GENERATION_FILE).read_text(encoding="utf-8"))


def _schema_key(schema: pa.Schema) -> str:
    """Names and types: what every file of a table must share (descriptions may change freely)."""
    return ", ".join(f"{f.name}: {f.type}" for f in schema)


def _next_table(old: tuple[Path, dict] | None, new: Path, change: Change | None) -> dict:
    """Write one table of the next generation; returns its schema, file and row counts."""
    new.mkdir()
    folder, meta = old if old else (None, {})
    old_files = {p.name: p for p in sorted(folder.glob("*.parquet"))} if folder is not None else {}
    if change is None:
        for name, path in old_files.items():
            os.link(path, new / name)
        return meta
    rows = change.rows.select(change.schema.names).cast(change.schema)
    added = bucket_of(rows.column("doc_id").to_pylist())
    touched = set(added.tolist()) | set(bucket_of(sorted(change.replace)).tolist())
    if meta.get("schema") != _schema_key(change.schema):  # a schema change migrates the whole table
        touched |= {int(name[5:8]) for name in old_files}
    counts: dict[str, int] = {}
    for bucket in sorted(set(range(BUCKETS)) - touched):
        name = part_name(bucket)
        if name in old_files:
            os.link(old_files[name], new / name)
            counts[name] = meta["bucket_rows"][name]

    def rewritten(bucket: int) -> int:
        """Write a touched bucket's new file (its kept rows and its added ones); returns its row count."""
        name = part_name(bucket)
        kept = _read_file(old_files[name], change.schema, change.schema.names) if name in old_files else None
        if kept is not None and change.replace:
            drop = pc.is_in(kept.column("doc_id"), value_set=pa.array(sorted(change.replace), pa.string()))
            kept = kept.filter(pc.invert(drop))
        merged = pa.concat_tables([t for t in (kept, rows.filter(pa.array(added == bucket))) if t is not None])
        if merged.num_rows:
            write_file_atomic(_sorted(merged), new / name)
        return merged.num_rows

    # Arrow reads, sorts, compresses and writes without the interpreter lock: the buckets go in parallel.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        written = dict(zip(sorted(touched), pool.map(rewritten, sorted(touched))))
    counts.update({part_name(b): n for b, n in written.items() if n})
    counts = dict(sorted(counts.items()))
    if not counts:  # an empty table still tells every reader its columns
        write_file_atomic(change.schema.empty_table(), new / part_name(0))
        counts[part_name(0)] = 0
    return {"schema": _schema_key(change.schema), "rows": sum(counts.values()), "bucket_rows": counts}


def _sorted(table: pa.Table) -> pa.Table:
    keys = [k for k in ("doc_id", "para_index", "block_index", "cand_doc_id", "cand_para_index")
            if k in table.column_names]
    return table.sort_by([(k, "ascending") for k in keys])


def _swap_current(snapshots: Path, target: str) -> None:
    """Point ``current`` at ``target`` atomically: a new symlink renamed over the old one."""
    tmp = snapshots / f".{CURRENT}.tmp"
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, snapshots / CURRENT)
    _fsync_dir(snapshots)


def _link_table(output: Path, table: str) -> None:
    """``<output>/<table>`` -> ``.snapshots/current/<table>``, made once; internal tables start with '_'."""
    link = output / table
    if table.startswith("_") or link.is_symlink():
        return
    os.symlink(Path(SNAPSHOTS) / CURRENT / table, link)


def recover(output: Path) -> dict | None:
    """Delete generations a killed run left unfinished and old ones past ``KEEP_GENERATIONS``.

    Returns the current generation's record (the manifest of the run that made it), or None.
    """
    snapshots = Path(output) / SNAPSHOTS
    if not snapshots.is_dir():
        return None
    current = current_generation(output)
    number = _number(current.name) if current else 0
    (snapshots / f".{CURRENT}.tmp").unlink(missing_ok=True)
    generations = sorted(p for p in snapshots.iterdir() if p.name.startswith(_PREFIX) and p.is_dir())
    for folder in generations:
        if _number(folder.name) > number or _number(folder.name) <= number - KEEP_GENERATIONS:
            shutil.rmtree(folder, ignore_errors=True)
    if current is None:
        return None
    return json.loads((current / GENERATION_FILE).read_text(encoding="utf-8")).get("run")


def _number(name: str) -> int:
    return int(name.removeprefix(_PREFIX))


def _write_json(path: Path, data: dict) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True, default=str)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_tree(folder: Path) -> None:
    """Folders' entries on disk before the swap makes them visible (the files were fsynced when written)."""
    for path in [*sorted(p for p in folder.rglob("*") if p.is_dir()), folder]:
        _fsync_dir(path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
