"""The paragraph index's arrays: computed once per text hash, kept across runs, a run writing only its own rows."""
from __future__ import annotations

import numpy as np

from pipeline.io.arraystore import MAX_DELTAS, ArrayStore
from pipeline.text import text_hash as h


def lengths(texts: list[str]) -> np.ndarray:
    return np.array([[len(t), len(t.split())] for t in texts], np.float32)


def test_rows_are_computed_once_and_found_again_by_a_later_run(tmp_path):
    computed = []

    def compute(texts):
        computed.extend(texts)
        return lengths(texts)

    first = ArrayStore(tmp_path / "e.arrow", np.float32)
    assert first.lookup([h("one"), h("two words"), h("one")], ["one", "two words", "one"], compute).tolist() == [[3, 1], [9, 2], [3, 1]]
    first.save()
    later = ArrayStore(tmp_path / "e.arrow", np.float32)
    assert later.lookup([h("two words"), h("three more words")], ["two words", "three more words"], compute).tolist() == [[9, 2], [16, 3]]
    assert computed == ["one", "two words", "three more words"]
    assert len(later) == 3


def test_a_run_appends_its_rows_and_the_deltas_are_folded_into_the_base(tmp_path):
    sizes = []
    for run in range(MAX_DELTAS + 2):
        store = ArrayStore(tmp_path / "e.arrow", np.float32)
        store.lookup([h(f"text {run}")], [f"text {run}"], lengths)
        store.save()
        sizes.append(len(list(tmp_path.glob("e*.arrow"))))
    assert sizes == [1, *range(2, MAX_DELTAS + 2), 1]
    store = ArrayStore(tmp_path / "e.arrow", np.float32)
    assert len(store) == MAX_DELTAS + 2
    assert store.lookup([h("text 3")], ["unused"], lambda texts: 1 / 0).tolist() == [[6, 2]]


def test_a_run_that_adds_nothing_writes_nothing(tmp_path):
    store = ArrayStore(tmp_path / "e.arrow", np.float32)
    store.lookup([h("one")], ["one"], lengths)
    store.save()
    before = sorted(p.stat().st_mtime_ns for p in tmp_path.iterdir())
    again = ArrayStore(tmp_path / "e.arrow", np.float32)
    again.lookup([h("one")], ["one"], lambda texts: 1 / 0)
    again.save()
    assert sorted(p.stat().st_mtime_ns for p in tmp_path.iterdir()) == before


def test_an_index_of_64_bit_signatures_is_read_as_32_bit_and_extended(tmp_path):
    """Signatures are stored in 32-bit cells since their values are 32-bit; an output folder whose index an
    earlier version wrote in 64-bit cells keeps its rows (the same values), and a later run adds to it."""
    import pyarrow as pa

    old = np.array([[1, 2**32 - 1], [7, 0]], np.uint64)
    table = pa.table({"text_hash": [h("a"), h("b")],
                      "value": pa.FixedSizeListArray.from_arrays(pa.array(old.reshape(-1), pa.uint64()), 2)})
    with pa.OSFile(str(tmp_path / "s.arrow"), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    store = ArrayStore(tmp_path / "s.arrow", np.uint32)
    found = store.lookup([h("b"), h("a"), h("c")], ["", "", "new"], lambda texts: np.array([[5, 6]], np.uint32))
    assert found.dtype == np.uint32 and found.tolist() == [[7, 0], [1, 2**32 - 1], [5, 6]]
    store.save()
    assert ArrayStore(tmp_path / "s.arrow", np.uint32).lookup([h("a"), h("c")], ["", ""], lambda texts: 1 / 0).tolist() == [
        [1, 2**32 - 1], [5, 6]]


def test_large_blocks_wait_in_scratch_files_and_are_written_a_batch_at_a_time(tmp_path, monkeypatch):
    """Rows a run computes beyond ``SPILL_BYTES`` wait for the save in a scratch file, and a store is written
    ``WRITE_ROWS`` rows a batch: every row reads back the same, in this run, after a reopen and after a fold."""
    from pipeline.io import arraystore

    monkeypatch.setattr(arraystore, "SPILL_BYTES", 0)
    monkeypatch.setattr(arraystore, "WRITE_ROWS", 2)
    texts = [f"{'word ' * k}end" for k in range(7)]
    hashes = [h(t) for t in texts]
    store = ArrayStore(tmp_path / "e.arrow", np.float32)
    assert store.lookup(hashes[:5], texts[:5], lengths).tolist() == lengths(texts[:5]).tolist()
    assert any(store._mappings), "the computed block waits in a scratch file"
    store.save()
    later = ArrayStore(tmp_path / "e.arrow", np.float32)
    assert len(later._blocks) == 3, "a block per record batch of the file"
    assert later.lookup(hashes[::-1], texts[::-1], lengths).tolist() == lengths(texts[::-1]).tolist()
    later.save()
    for run in range(MAX_DELTAS):
        store = ArrayStore(tmp_path / "e.arrow", np.float32)
        store.lookup([h(f"run {run}")], [f"run {run}"], lengths)
        store.save()
    assert len(list(tmp_path.glob("e*.arrow"))) == 1, "the deltas were folded into the base"
    folded = ArrayStore(tmp_path / "e.arrow", np.float32)
    assert folded.lookup(hashes, texts, lambda _: 1 / 0).tolist() == lengths(texts).tolist()


def test_a_hash_found_in_two_files_is_one_row_and_the_fold_writes_it_once(tmp_path):
    """A run killed between folding the deltas into the base file and removing them leaves each of their
    hashes in two files: the store reads one row per hash, and the next fold writes it once."""
    import shutil

    store = ArrayStore(tmp_path / "e.arrow", np.float32)
    store.lookup([h("one")], ["one"], lengths)
    store.save()
    store = ArrayStore(tmp_path / "e.arrow", np.float32)
    store.lookup([h("two words")], ["two words"], lengths)
    store.save()
    shutil.copy(tmp_path / "e.arrow", tmp_path / "e.delta-leftover.arrow")  # the base's rows, again
    for run in range(MAX_DELTAS):
        store = ArrayStore(tmp_path / "e.arrow", np.float32)
        store.lookup([h(f"run {run}")], [f"run {run}"], lengths)
        store.save()
    folded = ArrayStore(tmp_path / "e.arrow", np.float32)
    assert len(folded) == 2 + MAX_DELTAS
    assert folded.lookup([h("one"), h("two words")], ["", ""], lambda _: 1 / 0).tolist() == [[3, 1], [9, 2]]


def test_a_key_that_is_not_a_text_hash_is_refused(tmp_path):
    import pytest

    with pytest.raises(ValueError, match="16 hex digits"):
        ArrayStore(tmp_path / "e.arrow", np.float32).lookup(["not a hash"], ["text"], lengths)


def test_small_computed_blocks_wait_in_scratch_files_once_they_add_up_past_the_spill_size(tmp_path, monkeypatch):
    """A run that computes its rows a chunk at a time (the match stage signs 20,000 paragraphs a lookup)
    holds at most ``SPILL_BYTES`` of them in memory until the save; the rest wait in scratch files."""
    from pipeline.io import arraystore

    monkeypatch.setattr(arraystore, "SPILL_BYTES", 16)  # two rows of two float32
    texts = [f"{'word ' * k}end" for k in range(6)]
    store = ArrayStore(tmp_path / "e.arrow", np.float32)
    for text in texts:
        store.lookup([h(text)], [text], lengths)
    assert sum(mapping is None for mapping in store._mappings) == 2
    store.save()
    assert ArrayStore(tmp_path / "e.arrow", np.float32).lookup([h(t) for t in texts], texts, lambda _: 1 / 0
                                                               ).tolist() == lengths(texts).tolist()
