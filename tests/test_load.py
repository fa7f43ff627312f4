"""pipeline.load: the documented dtypes, current rows only, sources beside each paragraph; and the tables as they
are on disk read whole by pandas, pyarrow.dataset and DuckDB."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.dataset as ds
import pytest

import pipeline
from pipeline.io import snapshots
from pipeline.io.snapshots import Change
from pipeline.runner import KILL_SWITCH
from pipeline.schema import CATEGORIES, HANDOFF, LABELS, METHODS, REMOVAL_REASONS, SOURCE_COLUMNS, STATUSES, STORED

ROOT = Path(__file__).resolve().parents[1]


def test_provenance_dtypes(out):
    prov = pipeline.load(out)
    assert list(prov.columns) == HANDOFF["provenance"].names
    assert list(prov["label"].cat.categories) == list(LABELS)
    assert list(prov["method"].cat.categories) == list(METHODS)
    for column in ("para_index", "source_para_index", "direct_para_index", "shared_ngrams", "span_start",
                   "span_end", "source_span_start", "source_span_end", "char_start", "word_count"):
        assert prov[column].dtype == "Int32", column
    assert prov["source_para_index"].isna().any() and prov["source_para_index"].notna().any()
    assert prov["confidence"].dtype == "float32"
    assert prov["doc_id"].dtype == "string" and prov["run_id"].dtype == "string"


def test_documents_and_removed_dtypes(out):
    docs = pipeline.load(out, "documents")
    assert list(docs["status"].cat.categories) == list(STATUSES)
    assert str(docs["published_at"].dtype) == "datetime64[us, UTC]" and str(docs["fetched_at"].dtype) == "datetime64[us, UTC]"
    assert docs["size_bytes"].dtype == "Int64" and docs["n_paragraphs"].dtype == "Int32"
    assert sorted(docs["host"]) == ["digest-blog.example", "forum.example", "newsdaily.example",
                                    "rewritten-news.example", "wire.example"]
    assert (docs["chars_kept"] > 0).all() and docs["chars_removed"].dtype == "Int64"
    removed = pipeline.load(out, "removed")
    assert list(removed["reason"].cat.categories) == list(REMOVAL_REASONS)
    per_doc = removed.assign(n=removed["text"].str.len()).groupby("doc_id")["n"].sum()
    stripped = docs.set_index("doc_id")["chars_removed"]
    assert (stripped[per_doc.index] >= per_doc).all(), "every removed block's characters count as removed"
    assert set(CATEGORIES) == {"label", "method", "status", "reason"}


def test_sources_put_root_and_direct_source_beside_each_paragraph(out):
    prov = pipeline.load(out, sources=True)
    assert list(prov.columns)[-len(SOURCE_COLUMNS):] == SOURCE_COLUMNS.names
    docs = pipeline.load(out, "documents").set_index("doc_id")
    text = prov.set_index(["doc_id", "para_index"])["text"]
    derived = prov[prov["label"] != "original"]
    assert len(derived) > 0
    for row in derived.itertuples():
        assert row.root_text == text[(row.source_doc_id, row.source_para_index)]
        assert row.direct_text == text[(row.direct_doc_id, row.direct_para_index)]
        assert row.root_source_path == docs.loc[row.source_doc_id, "source_path"]
        assert row.direct_url == docs.loc[row.direct_doc_id, "url"]
    originals = prov[prov["label"] == "original"]
    assert originals[SOURCE_COLUMNS.names].isna().all().all()


def test_pandas_pyarrow_and_duckdb_read_every_row_and_column(out):
    for name, schema in HANDOFF.items():
        folder = out / name
        frame = pd.read_parquet(folder)
        table = ds.dataset(folder, format="parquet").to_table()
        sql = duckdb.sql(f"SELECT * FROM read_parquet('{folder}/*.parquet')").df()
        columns = set(schema.names)
        assert set(frame.columns) == set(table.column_names) == set(sql.columns) == columns, name
        assert len(frame) == table.num_rows == len(sql) == len(pipeline.load(out, name)), name
        key = {"documents": ["doc_id"], "removed": ["doc_id", "block_index"]}.get(name, ["doc_id", "para_index"])
        assert frame.sort_values(key)["text" if name != "documents" else "source_path"].tolist() == \
            sql.sort_values(key)["text" if name != "documents" else "source_path"].tolist()
    labels = duckdb.sql(f"SELECT label, count(*) AS n FROM read_parquet('{out}/provenance/*.parquet') "
                        "GROUP BY label").df().set_index("label")["n"].to_dict()
    assert labels == pipeline.load(out)["label"].value_counts().to_dict()


def test_a_killed_run_leaves_nothing_for_load_or_pandas(tmp_path, fast_config):
    """A run killed in the middle of its commit leaves the previous snapshot, for pandas and load alike."""
    corpus = tmp_path / "in"
    corpus.mkdir()
    for seed in sorted((ROOT / "seeds").glob("00[0-2]_*.txt")):
        (corpus / seed.name).write_text(seed.read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "out"
    base = [sys.executable, "-m", "pipeline.cli", "run", "--config", str(fast_config), "--output", str(out), "--input"]
    assert subprocess.run([*base, str(corpus / "002_bac54f9c1543ab99.txt")], cwd=ROOT, capture_output=True).returncode == 0
    killed = subprocess.run([*base, str(corpus)], cwd=ROOT, capture_output=True,
                            env={**os.environ, KILL_SWITCH: "commit:provenance"})
    assert killed.returncode == -9
    assert len(pd.read_parquet(out / "documents")) == 1
    docs = pipeline.load(out, "documents")
    assert docs["source_path"].tolist() == ["002_bac54f9c1543ab99.txt"]
    assert set(pipeline.load(out)["doc_id"]) == set(docs["doc_id"])


def test_a_value_outside_the_fixed_categories_is_an_error_not_a_silent_nan(tmp_path):
    from pipeline.schema import to_table

    frame = pd.DataFrame([{"doc_id": "d", "source_path": "d.txt", "status": "exploded", "run_id": "r1"}])
    snapshots.commit(tmp_path, {"documents": Change(STORED["documents"], to_table(frame, STORED["documents"]))},
                     {"run_id": "r1", "status": "ok"})
    with pytest.raises(ValueError, match="exploded"):
        pipeline.load(tmp_path, "documents")


def test_unknown_table_and_sources_on_another_table_are_refused(out):
    with pytest.raises(ValueError, match="unknown table"):
        pipeline.load(out, "nope")
    with pytest.raises(ValueError, match="provenance"):
        pipeline.load(out, "documents", sources=True)


def test_a_table_written_before_a_column_was_added_reads_it_as_nulls(tmp_path):
    from pipeline.schema import to_table

    older = STORED["provenance"].remove(STORED["provenance"].get_field_index("contributors"))
    frame = pd.DataFrame([{"doc_id": "d", "para_index": 0, "paragraph_id": "d:0", "text": "A paragraph.", "char_start": 0,
                           "char_end": 12, "word_count": 2, "text_hash": "h", "label": "original", "method": "no_match",
                           "run_id": "r1"}])
    snapshots.commit(tmp_path, {"provenance": Change(older, to_table(frame, older))}, {"run_id": "r1", "status": "ok"})
    loaded = pipeline.load(tmp_path, "provenance")
    assert list(loaded.columns) == HANDOFF["provenance"].names
    assert loaded["contributors"].isna().all() and loaded["label"].tolist() == ["original"]
