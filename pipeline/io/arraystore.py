"""Arrays keyed by normalized-text hash, persisted across runs (the paragraph index's heavy parts)."""
from __future__ import annotations

import mmap
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from pipeline.io.parquet import replace_atomically
from pipeline.io.scratch import gather, release, scratch_array
from pipeline.lookup import find_sorted

_ARROW_TYPES = {np.dtype(np.float32): pa.float32(), np.dtype(np.uint32): pa.uint32()}
MAX_DELTAS = 8
"""Delta files a store gathers before a save folds them into its base file."""
SPILL_BYTES = 1 << 26
"""Computed rows beyond this many bytes wait for the save in scratch files, not in memory."""
WRITE_ROWS = 1 << 16
"""Rows per record batch of a store's file."""


class ArrayStore:
    """One fixed-width row per text hash; rows are computed once, then reused.

    The rows live in an Arrow IPC file (``path``) and the delta files that later runs appended beside it
    (``<stem>.delta-<token>.arrow``): a run writes only the rows it computed, never the whole store, and
    reads the files memory-mapped, without decompressing or copying them, a window of a file at a time
    whose pages go back to the page cache after it (``pipeline.io.scratch.gather``), so a run holds no more
    of the index than a window. Every ``MAX_DELTAS`` deltas are folded into the base file. A hash found twice (a run killed between the fold and removing the deltas)
    holds the same values both times.
    """

    def __init__(self, path: Path, dtype: type):
        self.path = Path(path)
        self.dtype = np.dtype(dtype)
        self._blocks: list[np.ndarray] = []
        """The rows, a block per record batch of each file (memory-mapped: the index is not copied into the
        run's memory) and then a block per ``lookup`` that computed rows; row ``k`` of the store is in the
        block whose range holds it."""
        self._mappings: list[mmap.mmap | None] = []
        """The mapping each block lives in (its file's, or a scratch file's; None in memory): a gather hands
        its pages back (``pipeline.io.scratch.gather``), so a run holds no more of the index than a window."""
        self._starts = [0]
        self._keys = _KeyIndex()
        """Each row's text hash, as the 64-bit number it spells: a million hashes as Python strings in a dict
        cost 137 MB per store, and a run opens three stores."""
        for file in self._files():
            with open(file, "rb") as handle:
                mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            table = pa.ipc.open_file(pa.py_buffer(mapping)).read_all()  # the arrays read the mapping
            for values in table.column("value").chunks:
                self._append(values.flatten().to_numpy(zero_copy_only=False).astype(self.dtype, copy=False)
                             .reshape(len(values), -1), mapping)
            self._keys.append(keys_of(table.column("text_hash")))
        self._saved = len(self._keys)
        """Rows read from the files; the rows after them were computed since the store was opened."""

    def __len__(self) -> int:
        return len(self._keys)

    def _files(self) -> list[Path]:
        deltas = sorted(self.path.parent.glob(f"{self.path.stem}.delta-*{self.path.suffix}"))
        return [self.path, *deltas] if self.path.exists() else deltas

    def _append(self, block: np.ndarray, mapping: mmap.mmap | None) -> None:
        self._blocks.append(block)
        self._mappings.append(mapping)
        self._starts.append(self._starts[-1] + len(block))

    def _rows(self, index: np.ndarray) -> np.ndarray:
        """The stored rows at ``index``, gathered block by block."""
        out = np.empty((len(index), self._blocks[0].shape[1]), self.dtype)
        block_of = np.searchsorted(self._starts, index, side="right") - 1
        for block in np.unique(block_of):
            mine = block_of == block
            out[mine] = gather(self._blocks[block], index[mine] - self._starts[block], self._mappings[block])
        return out

    def lookup(self, hashes: list[str], texts: list[str], compute: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """Rows for ``hashes``; ``compute(texts)`` runs only on the texts whose hash is not stored yet."""
        keys = keys_of(pa.array(hashes, pa.string()))
        index = self._keys.find(keys)
        if (index < 0).any():
            absent = np.flatnonzero(index < 0)
            first = np.sort(np.unique(keys[absent], return_index=True)[1])  # each missing hash once, in order
            self._append(*self._held(np.asarray(compute([texts[k] for k in absent[first]]), dtype=self.dtype)))
            self._keys.append(keys[absent[first]])
            index = self._keys.find(keys)
        if not hashes:
            return np.zeros((0, 0), dtype=self.dtype)
        return self._rows(index)

    def _held(self, block: np.ndarray) -> tuple[np.ndarray, mmap.mmap | None]:
        """A computed block as the store keeps it until it is saved, with its mapping: in a scratch file once the
        blocks held in memory would pass ``SPILL_BYTES`` (a run that embeds or signs a million new paragraphs,
        a chunk at a time, would otherwise hold their vectors or signatures for the whole stage)."""
        held = sum(kept.nbytes for kept, mapping in zip(self._blocks, self._mappings) if mapping is None)
        if held + block.nbytes <= SPILL_BYTES:
            return block, None
        spilled, mapping = scratch_array(block.shape, self.dtype)
        spilled[:] = block
        release(mapping)
        return spilled, mapping

    def save(self) -> None:
        """Persist the rows computed since the store was opened, as a delta file (atomically), and fold the
        deltas into the base file when there are too many; a no-op when nothing was added."""
        if self._saved == len(self._keys):
            return
        deltas = self._files()[1:] if self.path.exists() else self._files()
        if not self.path.exists() or len(deltas) >= MAX_DELTAS:
            self._write(self.path, self._keys.first_rows())
            for delta in deltas:
                delta.unlink()
        else:
            self._write(self.path.with_name(f"{self.path.stem}.delta-{uuid.uuid4().hex}{self.path.suffix}"),
                        np.arange(self._saved, len(self._keys)))
        self._saved = len(self._keys)

    def _write(self, path: Path, rows: np.ndarray) -> None:
        """The ``rows`` as an Arrow IPC file, ``WRITE_ROWS`` rows a record batch (each batch is a
        block when the file is read back), so that writing never gathers the whole store."""
        dims = self._blocks[0].shape[1]
        schema = pa.schema([("text_hash", pa.string()), ("value", pa.list_(_ARROW_TYPES[self.dtype], dims))])

        def write(tmp: Path) -> None:
            with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
                for start in range(0, len(rows), WRITE_ROWS):
                    part = rows[start:start + WRITE_ROWS]
                    flat = pa.array(self._rows(part).reshape(-1), _ARROW_TYPES[self.dtype])
                    values = pa.FixedSizeListArray.from_arrays(flat, dims)
                    writer.write_batch(pa.record_batch([hashes_of(self._keys.of_rows(part)), values], schema=schema))

        replace_atomically(path, write)


class _KeyIndex:
    """Row numbers by 64-bit key: the keys in row order, and sorted with their rows for ``find``."""

    def __init__(self):
        self._by_row = np.zeros(0, np.uint64)
        self._sorted = np.zeros(0, np.uint64)
        self._rows = np.zeros(0, np.int64)

    def __len__(self) -> int:
        return len(self._by_row)

    def append(self, keys: np.ndarray) -> None:
        """Give ``keys`` the next rows (a key already present keeps its first row: a hash found twice holds
        the same values both times)."""
        self._by_row = np.concatenate([self._by_row, keys])
        order = np.argsort(self._by_row, kind="stable")
        self._sorted, self._rows = self._by_row[order], order

    def find(self, keys: np.ndarray) -> np.ndarray:
        """The row of each key, -1 where absent."""
        at, hit = find_sorted(self._sorted, keys)
        return np.where(hit, self._rows[at] if len(self._rows) else 0, -1)

    def of_rows(self, rows: np.ndarray) -> np.ndarray:
        return self._by_row[rows]

    def first_rows(self) -> np.ndarray:
        """Every key's first row, ascending: the rows a fold writes."""
        first = np.r_[True, self._sorted[1:] != self._sorted[:-1]] if len(self._sorted) else np.zeros(0, bool)
        return np.sort(self._rows[first])


def keys_of(hashes: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The 64-bit numbers that text hashes (``pipeline.text.text_hash``: 16 hex digits) spell, read from the
    column's bytes without making a Python string per hash."""
    hashes = pa.concat_arrays(hashes.chunks) if isinstance(hashes, pa.ChunkedArray) else hashes
    if len(hashes) == 0:
        return np.zeros(0, np.uint64)
    offsets = np.frombuffer(hashes.buffers()[1], np.int32)[hashes.offset:hashes.offset + len(hashes) + 1]
    if hashes.null_count or (np.diff(offsets) != 16).any():
        raise ValueError("an index key is not a text hash of 16 hex digits")
    digits = np.frombuffer(hashes.buffers()[2], np.uint8)[offsets[0]:offsets[-1]].reshape(-1, 16)
    return np.frombuffer(bytes.fromhex(digits.tobytes().decode("ascii")), ">u8").astype(np.uint64)


def hashes_of(keys: np.ndarray) -> pa.Array:
    """The text hashes that ``keys`` spell (``keys_of`` reversed)."""
    hexed = keys.astype(">u8").tobytes().hex().encode("ascii")
    return pa.StringArray.from_buffers(len(keys), pa.py_buffer(np.arange(0, 16 * len(keys) + 1, 16, dtype=np.int32)),
                                       pa.py_buffer(hexed))
