"""Where the stages run: the embedded local engine (the default) or a Ray cluster (``--engine ray``).

The runner hands every stage to an engine through three calls, so that the same stage functions run on
one machine and on a cluster: ``map_batches`` for the per-document stages that cannot hang (ingest,
segment), ``sandboxed`` for the one that can (strip: a deadline per document, the worker killed when it is
passed), and ``call`` for a cross-document stage (match, classify), run whole as one task. Inside such a
task, ``map_parts`` (a function that can travel with the task) spreads its heaviest work, the large embeddings
and the partitioned neighbour search, over a cluster's tasks. On one machine the stage keeps that work in its
own process, where ONNX Runtime's threads and the BLAS products use every core: spreading it over a pool of
processes measured 4% slower on the 972 real pages of `make bench` with 356 MB more memory (docs/benchmarks.md).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import pyarrow as pa

from pipeline.config import RunConfig
from pipeline.executors.local import BatchFn, map_batches
from pipeline.executors.sandbox import Outcome, Task, run_sandboxed


class Engine(Protocol):
    def map_batches(self, fn: BatchFn, table: pa.Table, batch_size: int, schema: pa.Schema) -> pa.Table:
        """``fn`` over consecutive slices of ``table``, results concatenated in input order."""

    def sandboxed(self, fn: Callable[[Any], Any], tasks: list[Task], timeout: float,
                  on_done: Callable[[Outcome], None]) -> Iterator[Outcome]:
        """One ``Outcome`` per task, each task given ``timeout`` seconds in a process that can be killed."""

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)``, wherever the engine runs its cross-document work."""

    @property
    def map_parts(self) -> Callable[[Callable, Iterable], Iterator] | None:
        """``fn`` over parts on the engine's workers, results in order, callable inside ``call``'s task; None
        where the task's own process is the better place (one machine)."""


class LocalEngine:
    """A process pool of ``workers`` on this machine; cross-document stages run in this process."""

    def __init__(self, workers: int):
        self.workers = workers

    def map_batches(self, fn: BatchFn, table: pa.Table, batch_size: int, schema: pa.Schema) -> pa.Table:
        return map_batches(fn, table, batch_size, self.workers, schema)

    def sandboxed(self, fn: Callable[[Any], Any], tasks: Iterable[Task], timeout: float,
                  on_done: Callable[[Outcome], None]) -> Iterator[Outcome]:
        return run_sandboxed(fn, tasks, self.workers, timeout, on_done)

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(*args)

    @property
    def map_parts(self) -> None:
        """None: the cross-document stages' work stays in this process (see the module's docstring)."""
        return None


@contextmanager
def engine_for(run: RunConfig) -> Iterator[Engine]:
    """The engine ``run.engine`` names, started for the length of the block (Ray: connected, or a local
    Ray started and shut down)."""
    if run.engine == "local":
        yield LocalEngine(run.workers)
        return
    from pipeline.executors.ray_engine import ray_engine  # Ray is an optional extra

    with ray_engine(run.workers, run.ray_address) as engine:
        yield engine
