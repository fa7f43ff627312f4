"""The output folder as durable state: a lock, run manifests, per-run table partitions, and recovery.

Layout under ``<output>/``:

- ``documents/``, ``provenance/``, ``removed/``: Parquet datasets, one partition per run
  (``run_id=<id>/part-00000.parquet``); ``pandas.read_parquet`` reads them whole.
- ``runs/<run_id>.json``: the run manifest, written last. A run is committed when its manifest says
  ``ok`` or ``partial``; partitions of any other run are leftovers of a crash and are removed by
  ``recover``.
- ``index/``: the persistent paragraph index (embeddings and MinHash signatures by text hash).
- ``stages/``: the latest run's stage outputs, for ``--from``.
- ``.lock``: held (``flock``) for the whole run; the kernel releases it when the process dies, and
  forked workers neither inherit it nor outlive the run (``pipeline.executors.lifeline``).
"""
from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.dataset as ds

from pipeline.io.parquet import publish_dataset, recover_dataset

TABLES = ("documents", "provenance", "removed")
COMMITTED = ("ok", "partial")


class Locked(Exception):
    """Another run holds the output folder."""


_held_locks: set[int] = set()
"""File descriptors of the output locks this process holds."""


def _drop_inherited_locks() -> None:
    """In a forked child, point the inherited lock descriptors at /dev/null.

    ``flock`` belongs to the open file description, which a fork shares: a worker that outlived its
    run would keep the folder locked. Replacing the descriptor (rather than closing it) keeps any
    inherited file object valid.
    """
    if not _held_locks:
        return
    null = os.open(os.devnull, os.O_RDWR)
    for fd in _held_locks:
        os.dup2(null, fd)
    os.close(null)
    _held_locks.clear()


os.register_at_fork(after_in_child=_drop_inherited_locks)


@contextmanager
def output_lock(output: Path, wait: bool = False) -> Iterator[None]:
    """Hold the output folder's lock; raise ``Locked`` at once unless ``wait``."""
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    handle = open(output / ".lock", "a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError as exc:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise Locked(f"output folder {output} is locked by {holder}; try again later or use --wait") from exc
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {utc_now().isoformat(timespec='seconds')}")
        handle.flush()
        _held_locks.add(handle.fileno())
        yield
    finally:
        _held_locks.discard(handle.fileno())
        handle.close()


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def new_run_id() -> str:
    """Sortable and unique: UTC time plus a random suffix."""
    return f"{utc_now().strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def manifests(output: Path) -> list[dict]:
    """Every run manifest, oldest first (unreadable ones are skipped: they were never committed)."""
    found = []
    for path in sorted((Path(output) / "runs").glob("*.json")):
        try:
            found.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return found


def committed_run_ids(output: Path) -> list[str]:
    return [m["run_id"] for m in manifests(output) if m.get("status") in COMMITTED]


def write_manifest(output: Path, manifest: dict) -> Path:
    """Write ``runs/<run_id>.json`` atomically; for a committed status this is the commit point."""
    path = Path(output) / "runs" / f"{manifest['run_id']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=2, sort_keys=True, default=str)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


def partition(output: Path, table: str, run_id: str) -> Path:
    return Path(output) / table / f"run_id={run_id}"


def publish_partition(output: Path, table: str, run_id: str, data: pa.Table) -> None:
    publish_dataset(data, partition(output, table, run_id))


def recover(output: Path) -> list[str]:
    """Remove partitions of runs that never committed and finish interrupted publishes; returns run ids removed."""
    output = Path(output)
    committed = set(committed_run_ids(output))
    removed = set()
    for table in TABLES:
        folder = output / table
        if not folder.is_dir():
            continue
        for part in list(folder.iterdir()):
            if part.name.startswith(".") and not part.name.startswith(".run_id="):
                continue
            run_id = part.name.removeprefix(".").split("=", 1)[-1].split(".", 1)[0]
            if part.name.startswith("."):
                recover_dataset(folder / f"run_id={run_id}")
            elif run_id not in committed:
                shutil.rmtree(part, ignore_errors=True)
                removed.add(run_id)
    return sorted(removed)


def read_table(output: Path, table: str, schema: pa.Schema, exclude_run: str | None = None) -> pa.Table:
    """All committed partitions of a table (without the ``run_id`` partition column)."""
    committed = [r for r in committed_run_ids(output) if r != exclude_run]
    files = [p for r in committed for p in sorted(partition(output, table, r).glob("*.parquet"))]
    if not files:
        return schema.empty_table()
    return ds.dataset([str(f) for f in files], schema=schema, format="parquet").to_table()


def clear(output: Path) -> None:
    """Remove every table, manifest, index and stage output (the documented way to rebuild)."""
    for name in (*TABLES, "runs", "index", "stages", "run.json"):
        target = Path(output) / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
