"""The output folder as durable state: a lock, run manifests, the current snapshot of every table, recovery.

Layout under ``<output>/`` (see ``docs/design.md``):

- ``documents``, ``provenance``, ``removed``, ``provenance_history``: symlinks into the current
  snapshot (``.snapshots/current/<table>``), folders of bucketed Parquet files that
  ``pandas.read_parquet`` reads whole: exactly the current rows. ``pipeline.io.snapshots`` commits a
  run's additions and revisions to every table at once.
- ``runs/<run_id>.json``: every run's manifest, written when it starts (``running``) and when it ends
  (``ok``, ``partial``, ``failed`` or ``interrupted``); a run killed outright is marked ``interrupted``
  by the next one.
- ``index/``: the persistent paragraph index (embeddings and MinHash signatures by text hash; an Arrow
  file per store and the delta files later runs appended, ``pipeline.io.arraystore``).
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

from pipeline.io import snapshots
from pipeline.schema import STORED

TABLES = tuple(name for name in STORED if not name.startswith("_"))
"""The tables a reader finds in an output folder."""
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
    """Sortable and unique: UTC time to the microsecond (runs hold the lock in turn, so ids sort in the order
    the runs started, even two in one second) plus a random suffix."""
    return f"{utc_now().strftime('%Y%m%dT%H%M%S%fZ')}-{secrets.token_hex(3)}"


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


def recover(output: Path) -> list[str]:
    """Finish or undo what a killed run left; returns the ids of runs found killed (now ``interrupted``).

    A generation the killed run had not made current is deleted (``snapshots.recover``). If the kill fell
    after the swap but before the manifest, the commit happened: the manifest is restored from the
    generation's record.
    """
    output = Path(output)
    if legacy_layout(output):
        raise LegacyLayout(
            f"{output} holds tables in the per-run layout of provenance 0.1: rerun with --rebuild to rebuild "
            f"them as snapshots, or write to another --output."
        )
    committed = snapshots.recover(output)
    if committed and (_manifest_status(output, committed["run_id"]) not in COMMITTED):
        write_manifest(output, committed)
    killed = []
    for manifest in manifests(output):
        if manifest.get("status") == "running":
            manifest.update(status="interrupted", error="the run was killed before it committed")
            write_manifest(output, manifest)
            killed.append(manifest["run_id"])
    return killed


class LegacyLayout(Exception):
    """The output folder was written by a version with per-run table partitions."""


def legacy_layout(output: Path) -> bool:
    return any((Path(output) / t).is_dir() and not (Path(output) / t).is_symlink() for t in TABLES)


def _manifest_status(output: Path, run_id: str) -> str | None:
    path = Path(output) / "runs" / f"{run_id}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("status")
    except (OSError, ValueError):
        return None


def read_table(output: Path, table: str, doc_ids: set[str] | None = None,
               columns: list[str] | None = None) -> pa.Table:
    """Current rows of a table of the output folder (all, or only those of ``doc_ids``)."""
    return snapshots.read(output, table, STORED[table], doc_ids=doc_ids, columns=columns)


def clear(output: Path) -> None:
    """Remove every table, manifest, index and stage output (the documented way to rebuild)."""
    for name in (*STORED, snapshots.SNAPSHOTS, "runs", "index", "stages", "run.json"):
        target = Path(output) / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.is_symlink() or target.exists():
            target.unlink()
