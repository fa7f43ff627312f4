"""Arrays keyed by normalized-text hash, persisted across runs (the paragraph index's heavy parts)."""
from __future__ import annotations

import mmap
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from pipeline.io.parquet import replace_atomically
from pipeline.io.scratch import release, scratch_array

_ARROW_TYPES = {np.dtype(np.float32): pa.float32(), np.dtype(np.uint32): pa.uint32()}
MAX_DELTAS = 8
"""Delta files a store gathers before a save folds them into its base file."""
SPILL_BYTES = 1 << 26
"""A computed block larger than this waits for the save in a scratch file, not in memory."""
WRITE_ROWS = 1 << 16
"""Rows per record batch of a store's file."""


class ArrayStore:
    """One fixed-width row per text hash; rows are computed once, then reused.

    The rows live in an Arrow IPC file (``path``) and the delta files that later runs appended beside it
    (``<stem>.delta-<token>.arrow``): a run writes only the rows it computed, never the whole store, and
    reads the files memory-mapped, without decompressing or copying them; after each lookup the pages it
    read go back to the page cache, so a run holds no more of the index than one lookup's rows. Every ``MAX_DELTAS`` deltas are
    folded into the base file. A hash found twice (a run killed between the fold and removing the deltas)
    holds the same values both times.
    """

    def __init__(self, path: Path, dtype: type):
        self.path = Path(path)
        self.dtype = np.dtype(dtype)
        self._blocks: list[np.ndarray] = []
        """The rows, a block per file (memory-mapped: the index is not copied into the run's memory) and then
        a block per ``lookup`` that computed rows; row ``k`` of the store is in the block whose range holds it."""
        self._starts = [0]
        hashes: list[str] = []
        self._maps: list[mmap.mmap] = []
        """The files' mappings and the scratch files of computed blocks: their pages go back after each lookup."""
        for file in self._files():
            with open(file, "rb") as handle:
                self._maps.append(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ))
            table = pa.ipc.open_file(pa.py_buffer(self._maps[-1])).read_all()  # the arrays read the mapping
            for values in table.column("value").chunks:
                self._append(values.flatten().to_numpy(zero_copy_only=False).astype(self.dtype, copy=False)
                             .reshape(len(values), -1))
            hashes.extend(table.column("text_hash").to_pylist())
        self._row = dict(zip(hashes, range(len(hashes))))
        self._added: list[str] = []
        """Hashes of the rows computed since the store was opened (the last blocks), not yet saved."""

    def __len__(self) -> int:
        return len(self._row)

    def _files(self) -> list[Path]:
        deltas = sorted(self.path.parent.glob(f"{self.path.stem}.delta-*{self.path.suffix}"))
        return [self.path, *deltas] if self.path.exists() else deltas

    def _append(self, block: np.ndarray) -> None:
        self._blocks.append(block)
        self._starts.append(self._starts[-1] + len(block))

    def _rows(self, hashes: list[str]) -> np.ndarray:
        """The stored rows of ``hashes``, gathered block by block."""
        index = np.fromiter((self._row[h] for h in hashes), np.int64, count=len(hashes))
        out = np.empty((len(index), self._blocks[0].shape[1]), self.dtype)
        block_of = np.searchsorted(self._starts, index, side="right") - 1
        for block in np.unique(block_of):
            mine = block_of == block
            out[mine] = self._blocks[block][index[mine] - self._starts[block]]
        for mapping in self._maps:
            release(mapping)
        return out

    def lookup(self, hashes: list[str], texts: list[str], compute: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """Rows for ``hashes``; ``compute(texts)`` runs only on the texts whose hash is not stored yet."""
        missing = {h: t for h, t in zip(hashes, texts) if h not in self._row}
        if missing:
            base = self._starts[-1]
            self._append(self._held(np.asarray(compute(list(missing.values())), dtype=self.dtype)))
            self._row.update(zip(missing, range(base, base + len(missing))))
            self._added.extend(missing)
        if not hashes:
            return np.zeros((0, 0), dtype=self.dtype)
        return self._rows(hashes)

    def _held(self, block: np.ndarray) -> np.ndarray:
        """A computed block as the store keeps it until it is saved: in a scratch file when large (a run that
        embeds a million new paragraphs would otherwise hold their vectors for the whole stage)."""
        if block.nbytes <= SPILL_BYTES:
            return block
        spilled, mapping = scratch_array(block.shape, self.dtype)
        spilled[:] = block
        release(mapping)
        self._maps.append(mapping)
        return spilled

    def save(self) -> None:
        """Persist the rows computed since the store was opened, as a delta file (atomically), and fold the
        deltas into the base file when there are too many; a no-op when nothing was added."""
        if not self._added:
            return
        deltas = self._files()[1:] if self.path.exists() else self._files()
        if not self.path.exists() or len(deltas) >= MAX_DELTAS:
            self._write(self.path, list(self._row))
            for delta in deltas:
                delta.unlink()
        else:
            self._write(self.path.with_name(f"{self.path.stem}.delta-{uuid.uuid4().hex}{self.path.suffix}"), self._added)
        self._added = []

    def _write(self, path: Path, hashes: list[str]) -> None:
        """The rows of ``hashes`` as an Arrow IPC file, ``WRITE_ROWS`` rows a record batch (each batch is a block
        when the file is read back), so that writing never gathers the whole store."""
        dims = self._blocks[0].shape[1]
        schema = pa.schema([("text_hash", pa.string()), ("value", pa.list_(_ARROW_TYPES[self.dtype], dims))])

        def write(tmp: Path) -> None:
            with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
                for start in range(0, len(hashes), WRITE_ROWS):
                    part = hashes[start:start + WRITE_ROWS]
                    flat = pa.array(self._rows(part).reshape(-1), _ARROW_TYPES[self.dtype])
                    values = pa.FixedSizeListArray.from_arrays(flat, dims)
                    writer.write_batch(pa.record_batch([pa.array(part, pa.string()), values], schema=schema))

        replace_atomically(path, write)
