"""Logging for people at a terminal and for log shippers, and progress that suits either.

Fields bound with ``bind`` (the run id) go on every line, so that a log shipper can group a run's lines.
"""
from __future__ import annotations

import json
import logging
import sys
import time

LOGGER = logging.getLogger("provenance")
_BOUND: dict[str, object] = {"run_id": None}
"""Fields on every JSON line; ``run_id`` is null outside a run (a usage error found before one starts)."""


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            "msg": record.getMessage(),
        }
        entry.update(_BOUND)
        entry.update(getattr(record, "fields", {}))
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(fmt: str = "text", level: int = logging.INFO) -> None:
    """Send the package's log to stderr as plain lines (``text``) or one JSON object per line (``json``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter() if fmt == "json" else logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    LOGGER.handlers[:] = [handler]
    LOGGER.setLevel(level)
    LOGGER.propagate = False
    LOGGER.json = fmt == "json"  # type: ignore[attr-defined]


def is_json() -> bool:
    return getattr(LOGGER, "json", False)


def bind(**fields) -> None:
    """Put these fields on every following JSON line."""
    _BOUND.update(fields)


def info(message: str, **fields) -> None:
    LOGGER.info(message, extra={"fields": fields})


def warning(message: str, **fields) -> None:
    LOGGER.warning(message, extra={"fields": fields})


def error(message: str, **fields) -> None:
    LOGGER.error(message, extra={"fields": fields})


class Progress:
    """Done/total, rate and ETA of long work: a bar on an interactive terminal; otherwise a log line every
    tenth of the way (an unattended job's log shows it is alive and when it will finish)."""

    def __init__(self, total: int, what: str, unit: str = "doc"):
        self.total, self.what, self.unit, self.done = total, what, unit, 0
        self._next_report = max(1, total // 10)
        self._began = time.perf_counter()
        self._bar = None
        if sys.stderr.isatty() and not is_json() and total:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=what, unit=unit, leave=False, file=sys.stderr)

    def advance(self, _=None) -> None:
        """One more done (takes and ignores a finished task, to serve as an executor's callback)."""
        self.add(1)

    def add(self, count: int) -> None:
        self.done += count
        if self._bar is not None:
            self._bar.update(count)
        elif self.done >= self._next_report or self.done == self.total:
            elapsed = time.perf_counter() - self._began
            rate = self.done / elapsed if elapsed > 0 else 0.0
            eta = (self.total - self.done) / rate if rate > 0 else 0.0
            info(f"{self.what}: {self.done}/{self.total} ({rate:.1f} {self.unit}/s, ETA {eta:.0f}s)", stage=self.what,
                 done=self.done, total=self.total, rate=round(rate, 2), eta_seconds=round(eta, 1))
            self._next_report = self.done + max(1, self.total // 10)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
