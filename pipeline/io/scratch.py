"""Arrays in scratch files with no name: large intermediate data that a step reads a block at a time.

A run at a million paragraphs would hold gigabytes of vectors in its memory for the whole match stage.
In a scratch file (``O_TMPFILE``: nothing to clean up, gone when the process ends however it ends) the
data lives in the page cache, which the system can reclaim, and the process holds only the pages it has
touched since it last handed them back (``release``).
"""
from __future__ import annotations

import mmap
import tempfile
from collections.abc import Iterable, Iterator

import numpy as np
import pyarrow as pa

WINDOW_BYTES = 1 << 25
"""Bytes of a mapped file that a gather or scatter reads or writes before it hands the pages back."""


def scratch_array(shape: tuple[int, ...], dtype: np.dtype | type) -> tuple[np.ndarray, mmap.mmap]:
    """A zeroed array in a scratch file, and the mapping that ``release`` hands back."""
    size = max(1, int(np.prod(shape)) * np.dtype(dtype).itemsize)
    with tempfile.TemporaryFile(prefix="provenance-scratch-") as file:
        file.truncate(size)
        mapping = mmap.mmap(file.fileno(), size)  # the mapping keeps the file alive once it is closed
    return np.frombuffer(mapping, dtype, count=int(np.prod(shape))).reshape(shape), mapping


def scratch_concatenation(parts: Iterable[np.ndarray], dtype: np.dtype | type) -> tuple[np.ndarray, mmap.mmap]:
    """The 1-D arrays ``parts`` one after another in a scratch file, and its mapping: each part is written as
    it comes, so that the whole is never held, nor its size needed in advance."""
    dtype = np.dtype(dtype)
    with tempfile.TemporaryFile(prefix="provenance-scratch-") as file:
        for part in parts:
            file.write(memoryview(np.ascontiguousarray(part, dtype)).cast("B"))
        count = file.tell() // dtype.itemsize
        file.truncate(max(1, count) * dtype.itemsize)
        mapping = mmap.mmap(file.fileno(), max(1, count) * dtype.itemsize)
    return np.frombuffer(mapping, dtype, count=count), mapping


def scratch_table(batches: Iterable[pa.RecordBatch], schema: pa.Schema) -> pa.Table:
    """The record ``batches`` one after another as one table, written as they come to an Arrow IPC file with no
    name and read back memory-mapped: the table's buffers are the file's pages, which the system can reclaim,
    not memory of Arrow's pool, and the whole is never held while it is built (a match stage's candidate table
    at a million paragraphs is 284 MB)."""
    with tempfile.TemporaryFile(prefix="provenance-scratch-") as file:
        with pa.ipc.new_file(file, schema) as writer:
            for batch in batches:
                writer.write_batch(batch)
        file.flush()
        mapping = mmap.mmap(file.fileno(), file.tell(), access=mmap.ACCESS_READ)  # it keeps the file alive
    return pa.ipc.open_file(pa.py_buffer(mapping)).read_all()


def release(mapping: mmap.mmap) -> None:
    """Drop the mapping's pages from the process's resident memory; the data stays in the file (and in the
    page cache while the system has memory to spare), read back on the next access."""
    mapping.madvise(mmap.MADV_DONTNEED)


def release_pool() -> None:
    """Hand the memory Arrow's pool holds free back to the system.

    The pool's allocator purges freed pages only while the thread that freed them allocates again, and
    Arrow's reader and compute threads go idle after a step: reading a million paragraphs (a 320 MB
    table) left the process 1,150 MB resident, 460 MB after this.
    """
    pa.default_memory_pool().release_unused()


def gather(array: np.ndarray, rows: np.ndarray, mapping: mmap.mmap | None) -> np.ndarray:
    """``array[rows]`` for a 2-D array that may live in ``mapping``: read a window of the file at a time
    (``_windows``), so that the gather leaves no more than a window of the file resident."""
    if _offset_in(array, mapping) is None:
        return np.take(array, rows, axis=0)  # held in memory: one copy, no windows
    out = np.empty((len(rows), *array.shape[1:]), array.dtype)
    for positions, at in _windows(array, rows, mapping):
        out[positions] = array[at]
    return out


def scatter(array: np.ndarray, rows: np.ndarray, values: np.ndarray, mapping: mmap.mmap | None) -> None:
    """``array[rows] = values``, written a window of ``mapping``'s file at a time, as ``gather`` reads."""
    for positions, at in _windows(array, rows, mapping):
        array[at] = values[positions]


def _windows(array: np.ndarray, rows: np.ndarray, mapping: mmap.mmap | None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The positions in ``rows`` and their rows, grouped by the ``WINDOW_BYTES`` window of the file that holds
    them, in file order; the mapping's pages are handed back after each window (all rows at once for an
    array that is not in ``mapping``).

    Reading a mapped file makes resident every page the kernel maps for it, and for a page-cache large
    folio (up to 2 MB on ext4) it maps the whole folio: 500 rows of 1.5 KB scattered over a 600 MB
    scratch file made 450 MB of it resident. Counting rows read cannot bound that; windows of the file
    can, whatever the folio size."""
    rows = np.asarray(rows, np.int64)
    start = _offset_in(array, mapping)
    if start is None:
        yield np.arange(len(rows)), rows
        return
    order = np.argsort(rows, kind="stable")
    window = (start + rows[order] * array.strides[0]) // WINDOW_BYTES
    bounds = np.flatnonzero(np.r_[True, window[1:] != window[:-1], True]) if len(rows) else np.zeros(1, np.int64)
    for first, stop in zip(bounds[:-1], bounds[1:]):
        yield order[first:stop], rows[order[first:stop]]
        release(mapping)


def _offset_in(array: np.ndarray, mapping: mmap.mmap | None) -> int | None:
    """Where ``array``'s data starts in ``mapping``, or None when it is not there (held in memory)."""
    if mapping is None or len(mapping) == 0:
        return None
    base = np.frombuffer(mapping, np.uint8).ctypes.data
    offset = array.ctypes.data - base
    return offset if 0 <= offset < len(mapping) else None
