"""The embedded default engine: per-document stages over batches, in this process or a process pool."""
from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pyarrow as pa

from pipeline.executors.lifeline import bind_to_parent

BatchFn = Callable[[pa.Table], pa.Table]


def map_batches(fn: BatchFn, table: pa.Table, batch_size: int, workers: int, schema: pa.Schema) -> pa.Table:
    """Apply ``fn`` to consecutive slices of ``table`` and concatenate the results in input order.

    ``fn`` must be picklable (a module-level function or a ``functools.partial`` of one) when workers > 1.
    """
    batches = [table.slice(start, batch_size) for start in range(0, table.num_rows, batch_size)]
    if not batches:
        return schema.empty_table()
    if workers == 1 or len(batches) == 1:
        results = [fn(batch) for batch in batches]
    else:
        results = list(map_in_processes(fn, batches, workers))
    return pa.concat_tables([r.cast(schema) for r in results])


def map_in_processes(fn: Callable[[Any], Any], items: Iterable, workers: int) -> Iterator[Any]:
    """``fn`` over ``items`` in a pool of ``workers`` processes bound to this one's life, results in order.
    Items are drawn as workers free up (two ahead of each), so a generator of large items is never held
    whole."""
    with ProcessPoolExecutor(max_workers=workers, initializer=bind_to_parent, initargs=(os.getpid(),)) as pool:
        pending: deque = deque()
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) > 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
