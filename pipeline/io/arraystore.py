"""Arrays keyed by normalized-text hash, persisted across runs (the paragraph index's heavy parts)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.io.parquet import write_file_atomic

_ARROW_TYPES = {np.dtype(np.float32): pa.float32(), np.dtype(np.uint64): pa.uint64()}


class ArrayStore:
    """One fixed-width row per text hash in ``path`` (Parquet); rows are computed once, then reused."""

    def __init__(self, path: Path, dtype: type):
        self.path = Path(path)
        self.dtype = np.dtype(dtype)
        self._rows: dict[str, np.ndarray] = {}
        self._dirty = False
        if self.path.exists():
            table = pq.read_table(self.path)
            values = table.column("value").combine_chunks()
            matrix = values.flatten().to_numpy(zero_copy_only=False).astype(self.dtype).reshape(len(values), -1)
            self._rows = dict(zip(table.column("text_hash").to_pylist(), matrix))

    def __len__(self) -> int:
        return len(self._rows)

    def lookup(self, hashes: list[str], texts: list[str], compute: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """Rows for ``hashes``; ``compute(texts)`` runs only on the texts whose hash is not stored yet."""
        missing = {h: t for h, t in zip(hashes, texts) if h not in self._rows}
        if missing:
            computed = np.asarray(compute(list(missing.values())), dtype=self.dtype)
            self._rows.update(zip(missing.keys(), computed))
            self._dirty = True
        if not hashes:
            return np.zeros((0, 0), dtype=self.dtype)
        return np.stack([self._rows[h] for h in hashes])

    def save(self) -> None:
        """Persist new rows (atomically); a no-op when nothing was added."""
        if not self._dirty:
            return
        hashes = sorted(self._rows)
        matrix = np.stack([self._rows[h] for h in hashes])
        values = pa.FixedSizeListArray.from_arrays(pa.array(matrix.reshape(-1), type=_ARROW_TYPES[self.dtype]),
                                                   matrix.shape[1])
        write_file_atomic(pa.table({"text_hash": hashes, "value": values}), self.path)
        self._dirty = False
