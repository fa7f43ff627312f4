"""Per-document work in worker processes that can be killed: a deadline per document, restart on death.

trafilatura has no timeout of its own and some pages make parsers hang or blow up; a hung or dead
worker costs one document (quarantined with the reason), never the run.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from pipeline.executors.lifeline import bind_to_parent

Task = tuple[str, Any]  # (key, payload)


@dataclass(frozen=True)
class Outcome:
    """The result of one task, or why there is none."""

    key: str
    value: Any = None
    error: str | None = None


def _serve(fn: Callable[[Any], Any], conn: Connection, parent_pid: int) -> None:
    bind_to_parent(parent_pid)
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        key, payload = message
        try:
            conn.send((key, fn(payload), None))
        except Exception as exc:  # noqa: BLE001 - any failure of one document is reported, not raised
            detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
            conn.send((key, None, f"{type(exc).__name__} in worker: {detail[:300]}"))


class _Worker:
    def __init__(self, fn: Callable[[Any], Any], context):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(fn, child, os.getpid()), daemon=True)
        self.process.start()
        child.close()
        self.task: Task | None = None
        self.started = 0.0

    def submit(self, task: Task) -> None:
        self.task, self.started = task, time.monotonic()
        self.conn.send(task)

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except (BrokenPipeError, OSError):
            pass
        self.process.join(timeout=2)
        self.kill()


def run_sandboxed(fn: Callable[[Any], Any], tasks: Iterable[Task], workers: int, timeout: float,
                  on_done: Callable[[Outcome], None] | None = None) -> Iterator[Outcome]:
    """Yield one ``Outcome`` per task (in completion order), running ``fn`` in ``workers`` processes.

    A task that exceeds ``timeout`` seconds has its worker killed and replaced; a worker that dies
    (crash, out of memory) is replaced too. ``fn`` must be a picklable module-level callable.
    """
    context = mp.get_context("fork" if os.name == "posix" else "spawn")
    pending = iter(tasks)
    pool = [_Worker(fn, context) for _ in range(max(1, workers))]
    busy: list[_Worker] = []
    try:
        for worker in pool:
            task = next(pending, None)
            if task is None:
                break
            worker.submit(task)
            busy.append(worker)
        while busy:
            deadline = min(w.started for w in busy) + timeout
            ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy],
                         timeout=max(0.0, deadline - time.monotonic()))
            for worker in list(busy):
                outcome = _collect(worker, ready, timeout)
                if outcome is None:
                    continue
                if on_done:
                    on_done(outcome)
                yield outcome
                busy.remove(worker)
                if worker.conn.closed:  # killed or dead: replace it
                    pool.remove(worker)
                    worker = _Worker(fn, context)
                    pool.append(worker)
                task = next(pending, None)
                if task is not None:
                    worker.submit(task)
                    busy.append(worker)
    finally:
        for worker in pool:
            worker.stop()


def _collect(worker: _Worker, ready: list, timeout: float) -> Outcome | None:
    """The worker's outcome if it finished, died or ran out of time; ``None`` while it is still working."""
    key = worker.task[0]
    if worker.conn in ready:
        try:
            got_key, value, error = worker.conn.recv()
            return Outcome(got_key, value, error)
        except (EOFError, OSError):
            pass
    if worker.conn in ready or worker.process.sentinel in ready or not worker.process.is_alive():
        worker.process.join(timeout=1)
        code = worker.process.exitcode
        worker.kill()
        return Outcome(key, error=f"worker died (exit code {code}) while processing the document")
    if time.monotonic() - worker.started >= timeout:
        worker.kill()
        return Outcome(key, error=f"timed out after {timeout:g}s (worker killed)")
    return None
