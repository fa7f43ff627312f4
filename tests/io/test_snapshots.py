"""Snapshots: every table changes in one atomic swap, readers see exactly the current rows."""
from __future__ import annotations

import os

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from pipeline.io import snapshots
from pipeline.io.snapshots import Change

SCHEMA = pa.schema([pa.field("doc_id", pa.string(), nullable=False), pa.field("para_index", pa.int32()),
                    pa.field("text", pa.string())])


def rows(*pairs: tuple[str, int, str]) -> pa.Table:
    doc_ids, indexes, texts = zip(*pairs) if pairs else ((), (), ())
    return pa.table({"doc_id": list(doc_ids), "para_index": pa.array(indexes, pa.int32()), "text": list(texts)},
                    schema=SCHEMA)


def commit(out, table, replace=(), **kwargs):
    return snapshots.commit(out, {"notes": Change(SCHEMA, table, frozenset(replace))}, {"run_id": "r"}, **kwargs)


def current(out) -> list[tuple]:
    frame = pd.read_parquet(out / "notes")
    return sorted(zip(frame.doc_id, frame.para_index, frame.text))


def test_readers_see_exactly_the_current_rows_after_a_replacement(tmp_path):
    commit(tmp_path, rows(("a", 0, "one"), ("a", 1, "two"), ("b", 0, "three")))
    commit(tmp_path, rows(("a", 0, "uno")), replace={"a"})
    assert current(tmp_path) == [("a", 0, "uno"), ("b", 0, "three")]
    assert ds.dataset(tmp_path / "notes").to_table().num_rows == 2
    assert snapshots.read(tmp_path, "notes", SCHEMA, doc_ids={"b"}).column("text").to_pylist() == ["three"]


def test_a_commit_rewrites_only_the_buckets_of_the_documents_it_touches(tmp_path):
    docs = [f"doc-{i}" for i in range(40)]
    first = commit(tmp_path, rows(*((d, 0, d) for d in docs)))
    second = commit(tmp_path, rows(("doc-7", 0, "changed")), replace={"doc-7"})
    touched = snapshots.part_name(int(snapshots.bucket_of(["doc-7"])[0]))
    for path in sorted((second / "notes").glob("*.parquet")):
        same_file = os.stat(path).st_ino == os.stat(first / "notes" / path.name).st_ino
        assert same_file == (path.name != touched), path.name


def test_a_crash_before_the_swap_leaves_the_previous_snapshot_and_recovery_removes_the_rest(tmp_path):
    commit(tmp_path, rows(("a", 0, "one")))

    def crash(point: str) -> None:
        if point == "commit:swap":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        commit(tmp_path, rows(("a", 0, "two")), replace={"a"}, checkpoint=crash)
    assert current(tmp_path) == [("a", 0, "one")]
    snapshots.recover(tmp_path)
    assert sorted(p.name for p in (tmp_path / snapshots.SNAPSHOTS).iterdir()) == ["current", "g00000001"]


def test_an_empty_table_still_has_its_columns(tmp_path):
    commit(tmp_path, rows())
    assert list(pd.read_parquet(tmp_path / "notes").columns) == SCHEMA.names


def test_a_schema_change_migrates_every_file_of_the_table(tmp_path):
    commit(tmp_path, rows(*((f"d{i}", 0, "x") for i in range(20))))
    wider = SCHEMA.append(pa.field("score", pa.float32()))
    extra = pa.table({"doc_id": ["new"], "para_index": pa.array([0], pa.int32()), "text": ["y"],
                      "score": pa.array([0.5], pa.float32())}, schema=wider)
    generation = snapshots.commit(tmp_path, {"notes": Change(wider, extra)}, {"run_id": "r2"})
    for path in (generation / "notes").glob("*.parquet"):
        assert pq.read_schema(path).names == wider.names
    assert len(pd.read_parquet(tmp_path / "notes")) == 21


def test_old_generations_are_dropped_beyond_the_few_kept_for_readers(tmp_path):
    for i in range(snapshots.KEEP_GENERATIONS + 3):
        commit(tmp_path, rows(("a", 0, str(i))), replace={"a"})
        snapshots.recover(tmp_path)
    kept = [p for p in (tmp_path / snapshots.SNAPSHOTS).iterdir() if p.name.startswith("g")]
    assert len(kept) == snapshots.KEEP_GENERATIONS
