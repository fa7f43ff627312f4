"""Atomic Parquet datasets: a publish replaces the whole folder, and a crash mid-publish is undone."""
from __future__ import annotations

import os

import pandas as pd
import pyarrow as pa
import pytest

from pipeline.io.parquet import PART_NAME, publish_dataset, read_dataset, recover_dataset, write_file_atomic
from pipeline.schema import REMOVED, to_table


def table(*texts: str) -> pa.Table:
    return to_table(pd.DataFrame([
        {"doc_id": f"d{i}", "block_index": i, "text": t, "reason": "share", "rule": "share_button_text"}
        for i, t in enumerate(texts)
    ]), REMOVED)


def texts_in(folder) -> list[str]:
    return pd.read_parquet(folder)["text"].tolist()


def leftovers(parent, name: str) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}."))


def test_publish_creates_a_dataset_pandas_can_read(tmp_path):
    folder = tmp_path / "out" / "removed"
    publish_dataset(table("Share", "Tweet"), folder)
    assert texts_in(folder) == ["Share", "Tweet"]
    assert read_dataset(folder, REMOVED).schema.names == REMOVED.names
    assert leftovers(folder.parent, "removed") == []


def test_publish_replaces_an_existing_dataset(tmp_path):
    folder = tmp_path / "removed"
    publish_dataset(table("old one", "old two", "old three"), folder)
    (folder / "part-99999.parquet").write_bytes((folder / PART_NAME).read_bytes())  # a stray part from elsewhere
    publish_dataset(table("new"), folder)
    assert texts_in(folder) == ["new"], "nothing of the previous dataset may survive"
    assert sorted(p.name for p in folder.iterdir()) == [PART_NAME]
    assert leftovers(tmp_path, "removed") == []


def test_publish_keeps_the_schema_metadata(tmp_path):
    folder = tmp_path / "removed"
    publish_dataset(table("x"), folder)
    schema = read_dataset(folder).schema
    assert schema.metadata[b"schema_version"] == REMOVED.metadata[b"schema_version"]
    assert schema.field("text").metadata[b"description"]


def test_recover_restores_the_retired_folder_after_a_crash(tmp_path):
    folder = tmp_path / "provenance"
    publish_dataset(table("the good data"), folder)
    # Simulate a crash inside publish_dataset: the old folder was moved aside, the new one never arrived.
    staging = tmp_path / ".provenance.tmp-deadbeef"
    staging.mkdir()
    (staging / PART_NAME).write_bytes(b"half-written")
    os.rename(folder, tmp_path / ".provenance.old-deadbeef")
    assert not folder.exists()

    recover_dataset(folder)
    assert texts_in(folder) == ["the good data"]
    assert leftovers(tmp_path, "provenance") == []


def test_recover_keeps_a_complete_new_folder_and_drops_the_retired_one(tmp_path):
    folder = tmp_path / "provenance"
    publish_dataset(table("old"), tmp_path / "old")
    os.rename(tmp_path / "old", tmp_path / ".provenance.old-0123abcd")
    publish_dataset(table("new"), folder)  # the crash came after the new folder was in place
    recover_dataset(folder)
    assert texts_in(folder) == ["new"]
    assert leftovers(tmp_path, "provenance") == []


def test_recover_leaves_other_datasets_alone(tmp_path):
    publish_dataset(table("docs"), tmp_path / "documents")
    publish_dataset(table("prov"), tmp_path / "provenance")
    os.rename(tmp_path / "documents", tmp_path / ".documents.old-11111111")
    recover_dataset(tmp_path / "provenance")
    assert (tmp_path / ".documents.old-11111111").exists()
    assert texts_in(tmp_path / "provenance") == ["prov"]
    recover_dataset(tmp_path / "documents")
    assert texts_in(tmp_path / "documents") == ["docs"]


def test_recover_without_anything_to_do_is_harmless(tmp_path):
    recover_dataset(tmp_path / "missing-parent" / "provenance")
    recover_dataset(tmp_path / "provenance")
    assert not (tmp_path / "provenance").exists()
    publish_dataset(table("x"), tmp_path / "provenance")
    recover_dataset(tmp_path / "provenance")
    assert texts_in(tmp_path / "provenance") == ["x"]


@pytest.mark.parametrize("write, read", [
    (write_file_atomic, pd.read_parquet),
    (publish_dataset, None),
], ids=["file", "dataset"])
def test_a_failed_write_leaves_the_previous_output(tmp_path, monkeypatch, write, read):
    target = tmp_path / ("t.parquet" if write is write_file_atomic else "removed")
    write(table("first"), target)

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("pipeline.io.parquet.pq.write_table", explode)
    with pytest.raises(OSError):
        write(table("second"), target)
    assert (read(target)["text"].tolist() if read else texts_in(target)) == ["first"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_reading_a_file_holds_little_more_than_its_table(tmp_path, monkeypatch):
    """A stage's input is read a batch of rows at a time: reading a file whose rows are in one row group
    allocates little beyond the table itself (decoding each column chunk whole took 1.65x it), and the
    table is the file's."""
    import numpy as np
    import pyarrow.parquet as pq

    from pipeline.io import parquet

    rng = np.random.default_rng(0)
    words = np.array(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"])
    written = pa.table({"text": [" ".join(rng.choice(words, 40)) for _ in range(50_000)], "n": np.arange(50_000)})
    pq.write_table(written, tmp_path / "rows.parquet", compression="zstd")
    monkeypatch.setattr(parquet, "READ_BATCH_ROWS", 2_000)
    default = pa.default_memory_pool()
    pool = pa.proxy_memory_pool(default)  # counts this read's allocations only
    pa.set_memory_pool(pool)
    try:
        table = parquet.read_parquet(tmp_path / "rows.parquet")
        same, size = table.equals(written), table.nbytes
        del table
    finally:
        pa.set_memory_pool(default)
    assert same
    assert pool.max_memory() < 1.25 * size
