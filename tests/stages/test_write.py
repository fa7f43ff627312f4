"""Stage 6, write: the handoff tables documents/, provenance/ and removed/, as the data team reads them."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline.cli import main
from pipeline.schema import LABELS, REMOVAL_REASONS, SCHEMA_VERSION, STORED

from article_texts import FISHERMEN, FOUNDATIONS, PIER, TERMINAL

SCHEMAS = {name: STORED[name] for name in ("documents", "provenance", "removed", "provenance_history")}

PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"


@pytest.fixture(scope="module")
def output(tmp_path_factory, repo_root) -> Path:
    """One lexical-only run over a small corpus: a source, a copier, an HTML page, a broken and a skipped file."""
    base = tmp_path_factory.mktemp("write")
    corpus = base / "in"
    corpus.mkdir()
    (corpus / "source.txt").write_text(
        f"{TERMINAL}\n\n{FOUNDATIONS}\n\n{PIER}\n\nLeave a comment\n\n"
        "This site uses Akismet to reduce spam. Learn how your comment data is processed.\n", encoding="utf-8")
    (corpus / "copier.txt").write_text(f"{TERMINAL.replace('Monday', 'Tuesday')}\n\n{FISHERMEN}\n", encoding="utf-8")
    shutil.copy(repo_root / "tests" / "fixtures" / "article_comments.html", corpus / "river.html")
    (corpus / "broken.html").write_bytes(PNG_BYTES)
    (corpus / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (corpus / "manifest.csv").write_text(
        "path,url,published_at\nsource.txt,https://example.org/source,2024-01-01T09:00:00Z\n"
        "copier.txt,https://example.org/copier,2024-01-05T09:00:00Z\n", encoding="utf-8")
    config = base / "fast.toml"
    config.write_text("[match]\nsemantic = false\n", encoding="utf-8")
    out = base / "out"
    code = main(["run", "--config", str(config), "--input", str(corpus), "--output", str(out)])
    assert code == 1, "a run with a quarantined document is partial"
    return out


@pytest.fixture(scope="module")
def tables(output) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(output / name) for name in SCHEMAS}


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_tables_are_readable_with_pandas_and_have_the_schema_columns(tables, name):
    assert list(tables[name].columns) == SCHEMAS[name].names


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_parquet_files_carry_the_exact_schema(output, name):
    files = sorted((output / name).rglob("*.parquet"))
    assert files
    for path in files:
        schema = pq.read_schema(path)
        assert schema.remove_metadata() == SCHEMAS[name].remove_metadata(), path
        assert schema.metadata[b"schema_version"] == SCHEMA_VERSION.encode()


def test_documents_has_one_row_per_input_with_status(tables):
    docs = tables["documents"].set_index("source_path")
    assert sorted(docs.index) == ["broken.html", "copier.txt", "notes.csv", "river.html", "source.txt"]
    assert docs["status"].to_dict() == {
        "broken.html": "quarantined", "copier.txt": "ok", "notes.csv": "skipped", "river.html": "ok",
        "source.txt": "ok",
    }
    assert docs.loc["source.txt", "url"] == "https://example.org/source"
    assert docs.loc["source.txt", "published_at"] == pd.Timestamp("2024-01-01T09:00:00", tz="UTC")
    assert docs["doc_id"].is_unique


def test_lineage_shares_sum_to_one_for_ok_documents(tables):
    docs = tables["documents"]
    ok = docs[docs["status"] == "ok"]
    assert (ok["n_paragraphs"] > 0).all()
    shares = ok[[f"share_{label}" for label in LABELS]]
    assert ((shares >= 0) & (shares <= 1)).all().all()
    assert shares.sum(axis=1).tolist() == pytest.approx([1.0] * len(ok), abs=1e-6)


def test_lineage_counts_and_shares_agree_with_the_provenance_and_removed_tables(tables):
    docs, prov, removed = tables["documents"], tables["provenance"], tables["removed"]
    prov = prov.assign(label=prov["label"].astype(str))
    for doc in docs[docs["status"] == "ok"].itertuples():
        mine = prov[prov["doc_id"] == doc.doc_id]
        assert doc.n_paragraphs == len(mine)
        assert doc.n_removed == (removed["doc_id"] == doc.doc_id).sum()
        for label in LABELS:
            assert getattr(doc, f"share_{label}") == pytest.approx((mine["label"] == label).mean(), abs=1e-6)
        roots = sorted(set(mine["source_doc_id"].dropna()))
        assert sorted(doc.derived_from) == roots


def test_documents_that_were_not_read_have_no_lineage_but_a_reason(tables):
    docs = tables["documents"]
    others = docs[docs["status"] != "ok"]
    assert len(others) == 2
    for column in ("n_paragraphs", "n_removed", *(f"share_{label}" for label in LABELS)):
        assert others[column].isna().all(), column
    assert others["error"].map(lambda e: isinstance(e, str) and bool(e)).all()


def test_copier_is_derived_from_the_source(tables):
    docs = tables["documents"].set_index("source_path")
    source_id, copier_id = docs.loc["source.txt", "doc_id"], docs.loc["copier.txt", "doc_id"]
    assert list(docs.loc["copier.txt", "derived_from"]) == [source_id]
    assert list(docs.loc["source.txt", "derived_from"]) == []
    assert docs.loc["copier.txt", "share_copied"] == pytest.approx(0.5)
    prov = tables["provenance"]
    copy = prov[(prov["doc_id"] == copier_id) & (prov["para_index"] == 0)].iloc[0]
    assert str(copy["label"]) == "copied"
    assert copy["source_doc_id"] == source_id and copy["source_para_index"] == 0


def test_provenance_rows_are_paragraphs_with_labels(tables):
    prov = tables["provenance"]
    assert set(prov["label"].astype(str)) <= set(LABELS)
    assert prov["paragraph_id"].is_unique
    assert (prov["paragraph_id"] == prov["doc_id"] + ":" + prov["para_index"].astype(str)).all()
    for _, group in prov.groupby("doc_id"):
        assert sorted(group["para_index"]) == list(range(len(group)))


def test_removed_rows_carry_a_known_reason(tables):
    docs = tables["documents"].set_index("source_path")
    removed = tables["removed"]
    assert removed["reason"].isin(REMOVAL_REASONS).all()
    source = removed[removed["doc_id"] == docs.loc["source.txt", "doc_id"]]
    assert source["reason"].tolist() == ["comments", "comments"]
    river = removed[removed["doc_id"] == docs.loc["river.html", "doc_id"]]
    assert {"comments", "newsletter", "share"} <= set(river["reason"])
    assert not removed["text"].str.contains("Officials in the river towns").any()


def test_the_headline_is_the_documents_title_and_a_removed_block_not_a_paragraph(tables):
    docs, prov, removed = tables["documents"].set_index("source_path"), tables["provenance"], tables["removed"]
    headline = "River towns brace for a wet spring as snowpack lingers"
    river = docs.loc["river.html"]
    assert river["title"] == headline
    assert removed[(removed["doc_id"] == river["doc_id"]) & (removed["text"] == headline)]["reason"].tolist() == ["title"]
    assert headline not in prov[prov["doc_id"] == river["doc_id"]]["text"].tolist()
    assert docs.loc[["source.txt", "copier.txt"], "title"].isna().all()
