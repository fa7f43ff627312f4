"""Scratch files: large intermediate arrays that live in the page cache, not in the process's memory."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from pipeline.io import scratch


def resident_file_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("RssFile:")) / 1024


def test_a_scattered_gather_leaves_at_most_a_window_of_the_file_resident(monkeypatch):
    """Reading rows scattered over a mapped scratch file makes the pages the kernel maps for them resident
    (a whole large folio per row on some file systems): the gather reads a window of the file at a time
    and hands each back, so the process never holds more than a window or so of the file, and the rows
    read are the rows written."""
    monkeypatch.setattr(scratch, "WINDOW_BYTES", 1 << 20)
    array, mapping = scratch.scratch_array((160_000, 384), np.float32)  # 245 MB
    for start in range(0, len(array), 20_000):
        scratch.scatter(array, np.arange(start, start + 20_000), np.full((20_000, 384), start, np.float32), mapping)
    rows = np.random.default_rng(0).choice(len(array), 4_000, replace=False)
    scratch.gather(array, rows[:10], mapping)  # the code paths, once
    scratch.release(mapping)
    before = resident_file_mb()
    got = scratch.gather(array, rows, mapping)
    assert resident_file_mb() - before < 12, "more than a window of the file stayed resident"
    assert (got[:, 0] == rows // 20_000 * 20_000).all()


def test_an_array_in_memory_is_gathered_and_scattered_as_numpy_does():
    array = np.arange(20, dtype=np.float32).reshape(10, 2)
    rows = np.array([7, 2, 2, 9])
    assert scratch.gather(array, rows, None).tolist() == array[rows].tolist()
    scratch.scatter(array, np.array([1, 0]), np.array([[-1, -1], [-2, -2]], np.float32), None)
    assert array[:2].tolist() == [[-2, -2], [-1, -1]]


def test_a_scratch_table_holds_the_rows_written_in_the_file_not_in_arrows_pool():
    """A table built batch by batch into a scratch file reads back the rows written, in order, and its buffers
    are the mapped file's pages: once built, Arrow's pool holds none of it."""
    schema = pa.schema([("doc_id", pa.string()), ("score", pa.float32())])

    def batches():
        for k in range(20):
            yield pa.record_batch([pa.array([f"d{k}-{r}" for r in range(1_000)]),
                                   pa.array(np.full(1_000, k, np.float32))], schema=schema)

    before = pa.total_allocated_bytes()
    table = scratch.scratch_table(batches(), schema)
    assert pa.total_allocated_bytes() - before < table.get_total_buffer_size() // 10
    assert table.get_total_buffer_size() > 100_000
    assert table.equals(pa.Table.from_batches(list(batches())))
    assert scratch.scratch_table(iter([]), schema).num_rows == 0
