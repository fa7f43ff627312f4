"""The Ray engine (``provenance run --engine ray``; ``pip install 'provenance[ray]'``).

Per-document stages run as Ray tasks, one per batch of documents; strip keeps its deadline per document by
running the sandbox inside each task (one killable child process per task). A cross-document stage runs
whole as one Ray task, on a worker, reading and writing the output folder, which must therefore be on
storage every node sees. The functions are the local engine's, so the tables are the same.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import pyarrow as pa

from pipeline import log
from pipeline.embed import MissingDependency
from pipeline.executors.local import BatchFn
from pipeline.executors.sandbox import Outcome, Task, run_sandboxed


class RayEngine:
    """Stages as tasks of a running Ray cluster (see the module docstring)."""

    def __init__(self, ray, batch_size: int):
        self._ray = ray
        self._batch_size = batch_size
        self._remote = ray.remote(_apply)

    def map_batches(self, fn: BatchFn, table: pa.Table, batch_size: int, schema: pa.Schema) -> pa.Table:
        batches = [table.slice(start, batch_size) for start in range(0, table.num_rows, batch_size)]
        results = self._ray.get([self._remote.remote(fn, batch) for batch in batches])
        return pa.concat_tables([r.cast(schema) for r in results]) if results else schema.empty_table()

    def sandboxed(self, fn: Callable[[Any], Any], tasks: list[Task], timeout: float,
                  on_done: Callable[[Outcome], None]) -> Iterator[Outcome]:
        tasks = list(tasks)
        chunks = [tasks[start:start + self._batch_size] for start in range(0, len(tasks), self._batch_size)]
        pending = [self._remote.remote(partial(_sandboxed_chunk, fn, timeout), chunk) for chunk in chunks]
        while pending:
            done, pending = self._ray.wait(pending, num_returns=1)
            for outcome in self._ray.get(done[0]):
                on_done(outcome)
                yield outcome

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self._ray.get(self._remote.remote(fn, *args))

    @property
    def map_parts(self) -> Callable[[Callable, Iterable], Iterator]:
        return map_in_tasks


def map_in_tasks(fn: Callable[[Any], Any], items: Iterable) -> Iterator[Any]:
    """``fn`` over ``items`` as tasks of the Ray cluster this process belongs to (the driver, or a task: a task
    blocked on others lends them its CPU), results in order, with at most two tasks per CPU of the cluster in flight
    (so a generator of large items is never held whole)."""
    import ray

    remote = ray.remote(_apply)
    in_flight = 2 * max(1, int(ray.cluster_resources().get("CPU", 1)))
    pending: deque = deque()
    for item in items:
        pending.append(remote.remote(fn, item))
        if len(pending) > in_flight:
            yield ray.get(pending.popleft())
    while pending:
        yield ray.get(pending.popleft())


def _apply(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


def _sandboxed_chunk(fn: Callable[[Any], Any], timeout: float, chunk: list[Task]) -> list[Outcome]:
    """Outcomes of a chunk of tasks, one killable worker process inside this Ray task."""
    return list(run_sandboxed(fn, chunk, 1, timeout))


@contextmanager
def ray_engine(workers: int, address: str | None, batch_size: int = 16) -> Iterator[RayEngine]:
    """A Ray engine on the cluster at ``address``, or on a local Ray of ``workers`` CPUs started here (and
    shut down at the end); a Ray already initialised in this process is used as it is."""
    try:
        import ray
    except ImportError as exc:
        raise MissingDependency(f"--engine ray needs Ray: pip install 'provenance[ray]' ({exc})") from exc
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, num_cpus=None if address else workers, include_dashboard=False,
                 configure_logging=False, log_to_driver=True)
    log.info(f"engine: ray ({'cluster at ' + address if address else 'local'}, "
             f"{int(ray.cluster_resources().get('CPU', 0))} CPUs)")
    try:
        yield RayEngine(ray, batch_size)
    finally:
        if started:
            ray.shutdown()
