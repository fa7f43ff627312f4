"""Arrays keyed by normalized-text hash, persisted across runs (the paragraph index's heavy parts)."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from pipeline.io.parquet import replace_atomically

_ARROW_TYPES = {np.dtype(np.float32): pa.float32(), np.dtype(np.uint32): pa.uint32()}
MAX_DELTAS = 8
"""Delta files a store gathers before a save folds them into its base file."""


class ArrayStore:
    """One fixed-width row per text hash; rows are computed once, then reused.

    The rows live in an Arrow IPC file (``path``) and the delta files that later runs appended beside it
    (``<stem>.delta-<token>.arrow``): a run writes only the rows it computed, never the whole store, and
    reads the files memory-mapped, without decompressing or copying them. Every ``MAX_DELTAS`` deltas are
    folded into the base file. A hash found twice (a run killed between the fold and removing the deltas)
    holds the same values both times.
    """

    def __init__(self, path: Path, dtype: type):
        self.path = Path(path)
        self.dtype = np.dtype(dtype)
        hashes: list[str] = []
        blocks: list[np.ndarray] = []
        for file in self._files():
            table = pa.ipc.open_file(pa.memory_map(str(file))).read_all()  # the arrays keep the map open
            values = table.column("value").combine_chunks()
            blocks.append(values.flatten().to_numpy(zero_copy_only=False).astype(self.dtype, copy=False)
                          .reshape(len(values), -1))
            hashes.extend(table.column("text_hash").to_pylist())
        self._matrix = (blocks[0] if len(blocks) == 1 else np.concatenate(blocks)) if blocks else None
        self._row = dict(zip(hashes, range(len(hashes))))
        self._added: list[str] = []
        """Hashes of the rows computed since the store was opened (the last rows of ``_matrix``), not yet saved."""

    def __len__(self) -> int:
        return len(self._row)

    def _files(self) -> list[Path]:
        deltas = sorted(self.path.parent.glob(f"{self.path.stem}.delta-*{self.path.suffix}"))
        return [self.path, *deltas] if self.path.exists() else deltas

    def lookup(self, hashes: list[str], texts: list[str], compute: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """Rows for ``hashes``; ``compute(texts)`` runs only on the texts whose hash is not stored yet."""
        missing = {h: t for h, t in zip(hashes, texts) if h not in self._row}
        if missing:
            computed = np.asarray(compute(list(missing.values())), dtype=self.dtype)
            base = 0 if self._matrix is None else len(self._matrix)
            self._row.update(zip(missing, range(base, base + len(missing))))
            self._matrix = computed if self._matrix is None else np.concatenate([self._matrix, computed])
            self._added.extend(missing)
        if not hashes:
            return np.zeros((0, 0), dtype=self.dtype)
        return self._matrix[[self._row[h] for h in hashes]]

    def save(self) -> None:
        """Persist the rows computed since the store was opened, as a delta file (atomically), and fold the
        deltas into the base file when there are too many; a no-op when nothing was added."""
        if not self._added:
            return
        deltas = self._files()[1:] if self.path.exists() else self._files()
        if not self.path.exists() or len(deltas) >= MAX_DELTAS:
            self._write(self.path, self._row, self._matrix)
            for delta in deltas:
                delta.unlink()
        else:
            self._write(self.path.with_name(f"{self.path.stem}.delta-{uuid.uuid4().hex}{self.path.suffix}"),
                        dict(zip(self._added, range(len(self._added)))), self._matrix[-len(self._added):])
        self._added = []

    def _write(self, path: Path, rows: dict[str, int], matrix: np.ndarray) -> None:
        values = pa.FixedSizeListArray.from_arrays(
            pa.array(np.ascontiguousarray(matrix[list(rows.values())]).reshape(-1), type=_ARROW_TYPES[self.dtype]),
            matrix.shape[1])
        table = pa.table({"text_hash": list(rows), "value": values})

        def write(tmp: Path) -> None:
            with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)

        replace_atomically(path, write)
