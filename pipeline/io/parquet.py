"""Parquet files and datasets (and any file), written atomically: a crash leaves the previous good output in place."""
from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.io.scratch import release_pool

PART_NAME = "part-00000.parquet"


def write_file_atomic(table: pa.Table, path: Path) -> None:
    """Write one Parquet file through a temporary name and ``os.replace``."""
    replace_atomically(Path(path), lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def replace_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """``write`` a file to a temporary name beside ``path``, fsync it, then rename it over ``path``: a crash
    leaves the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def publish_dataset(table: pa.Table, folder: Path) -> None:
    """Replace the dataset folder ``folder`` with one holding ``table``, by renames only.

    The new data is complete on disk before the old folder moves aside; a crash in between leaves the
    old folder under a ``.old-`` name, which ``recover_dataset`` puts back.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:8]
    staging = folder.with_name(f".{folder.name}.tmp-{token}")
    staging.mkdir()
    try:
        write_file_atomic(table, staging / PART_NAME)
        retired = folder.with_name(f".{folder.name}.old-{token}")
        if folder.exists():
            os.rename(folder, retired)
        os.rename(staging, folder)
        shutil.rmtree(retired, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def recover_dataset(folder: Path) -> None:
    """Undo an interrupted ``publish_dataset``: restore a retired folder and drop stale temporaries."""
    folder = Path(folder)
    if not folder.parent.exists():
        return
    retired = sorted(folder.parent.glob(f".{folder.name}.old-*"))
    if not folder.exists() and retired:
        os.rename(retired[-1], folder)
        retired = retired[:-1]
    for stale in [*retired, *folder.parent.glob(f".{folder.name}.tmp-*")]:
        shutil.rmtree(stale, ignore_errors=True)


def read_dataset(folder: Path, schema: pa.Schema | None = None) -> pa.Table:
    """Read a dataset folder written by ``publish_dataset``."""
    return read_parquet(Path(folder), schema=schema)


def read_parquet(path: Path, schema: pa.Schema | None = None) -> pa.Table:
    """A Parquet file or folder, read whole, without keeping the buffers it was decoded through (``release_pool``)."""
    table = pq.read_table(path, schema=schema)
    release_pool()
    return table
