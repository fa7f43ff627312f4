"""Stage 1, ingest: every file under the inputs becomes rows of documents, readable ones with their text,
bad ones quarantined with a reason, files that are not pages skipped, and nothing silently dropped."""
from __future__ import annotations

import codecs
import gzip
import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from pipeline.config import IngestConfig
from pipeline.io.readers import find_sources
from pipeline.schema import INGESTED
from pipeline.stages.ingest import ingest

ARTICLE_TEXT = (
    "The city council voted on Tuesday to expand the bus network into the eastern suburbs, ending a debate "
    "that has lasted for almost three years. The new routes will start running in the autumn.\n"
)
HTML_PAGE = (
    "<html><head><meta charset='utf-8'><title>Buses</title></head><body>"
    "<p>The harbour authority announced that the old ferry terminal will be demolished next year.</p>"
    "</body></html>"
)
LATIN1_TEXT = "Café déjà vu: le café du coin sert une crème brûlée très appréciée des habitués.\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"


def run_ingest(*inputs: Path) -> pd.DataFrame:
    sources = pa.Table.from_pandas(find_sources(list(inputs)), preserve_index=False)
    table = ingest(sources, IngestConfig())
    assert table.schema.names == INGESTED.names
    return table.to_pandas()


def row(frame: pd.DataFrame, source_path: str) -> dict:
    found = frame[frame["source_path"] == source_path]
    assert len(found) == 1, f"expected one row for {source_path}, got {len(found)}"
    return found.iloc[0].to_dict()


def missing(value) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value))


@pytest.fixture
def corpus(tmp_path) -> Path:
    """One file of every supported kind, some in nested folders, with a manifest."""
    root = tmp_path / "crawl"
    (root / "news" / "2024").mkdir(parents=True)
    (root / "article.html").write_text(HTML_PAGE, encoding="utf-8")
    (root / "news" / "old.htm").write_text(HTML_PAGE.replace("ferry", "cargo"), encoding="utf-8")
    (root / "news" / "2024" / "story.txt").write_text(ARTICLE_TEXT, encoding="utf-8")
    (root / "news" / "2024" / "page.html.gz").write_bytes(gzip.compress(HTML_PAGE.replace("old", "new").encode()))
    (root / "notes.txt.gz").write_bytes(gzip.compress(ARTICLE_TEXT.replace("Tuesday", "Monday").encode()))
    records = [
        {"url": "https://example.org/a", "text": "First record text about the harbour.",
         "published_at": "2024-05-01T10:00:00+02:00"},
        {"url": "https://example.org/b", "html": "<p>Second record, as HTML.</p>"},
    ]
    (root / "feed.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    (root / "manifest.csv").write_text(
        "path,url,published_at\n"
        "article.html,https://example.org/article,2024-03-01T12:00:00+01:00\n"
        "news/2024/story.txt,https://example.org/story,2024-03-02 08:30:00\n",
        encoding="utf-8",
    )
    return root


def test_every_supported_format_is_read_recursively(corpus):
    docs = run_ingest(corpus)
    expected = {
        "article.html": "html",
        "news/old.htm": "html",
        "news/2024/story.txt": "text",
        "news/2024/page.html.gz": "html",
        "notes.txt.gz": "text",
        "feed.jsonl#1": "text",
        "feed.jsonl#2": "html",
    }
    assert sorted(docs["source_path"]) == sorted(expected)
    for path, kind in expected.items():
        got = row(docs, path)
        assert got["status"] == "ok", (path, got["error"])
        assert got["content_type"] == kind
        assert missing(got["error"])
    assert row(docs, "news/2024/story.txt")["content"] == ARTICLE_TEXT
    assert row(docs, "notes.txt.gz")["content"] == ARTICLE_TEXT.replace("Tuesday", "Monday")
    assert row(docs, "news/2024/page.html.gz")["content"] == HTML_PAGE.replace("old", "new")
    assert row(docs, "feed.jsonl#1")["content"] == "First record text about the harbour."
    assert row(docs, "feed.jsonl#2")["content"] == "<p>Second record, as HTML.</p>"


def test_manifest_is_joined_and_dates_are_utc(corpus):
    docs = run_ingest(corpus)
    article = row(docs, "article.html")
    assert article["url"] == "https://example.org/article"
    assert article["published_at"] == pd.Timestamp("2024-03-01T11:00:00", tz="UTC")
    story = row(docs, "news/2024/story.txt")
    assert story["url"] == "https://example.org/story"
    assert story["published_at"] == pd.Timestamp("2024-03-02T08:30:00", tz="UTC"), "naive times are taken as UTC"
    assert str(docs["published_at"].dt.tz) == "UTC"
    # Files the manifest does not list have no url or date; the manifest itself is not a document.
    assert missing(row(docs, "news/old.htm")["url"])
    assert missing(row(docs, "news/old.htm")["published_at"])
    assert not docs["source_path"].str.contains("manifest").any()


def test_jsonl_records_carry_their_own_url_and_date(corpus):
    docs = run_ingest(corpus)
    first = row(docs, "feed.jsonl#1")
    assert first["url"] == "https://example.org/a"
    assert first["published_at"] == pd.Timestamp("2024-05-01T08:00:00", tz="UTC")
    assert row(docs, "feed.jsonl#2")["url"] == "https://example.org/b"


def test_doc_ids_are_stable_across_runs(corpus, tmp_path):
    first = run_ingest(corpus).set_index("source_path")["doc_id"]
    second = run_ingest(corpus).set_index("source_path")["doc_id"]
    assert first.to_dict() == second.to_dict()
    assert first.is_unique
    # The id depends on the address inside the corpus and the bytes, not on where the corpus lies on disk.
    moved = shutil.copytree(corpus, tmp_path / "elsewhere" / "crawl")
    third = run_ingest(moved).set_index("source_path")["doc_id"]
    assert third.to_dict() == first.to_dict()


@pytest.mark.parametrize("with_manifest", [False, True], ids=["no-manifest", "manifest-lists-other-files"])
def test_same_bytes_under_another_path_is_another_document(tmp_path, with_manifest):
    root = tmp_path / "crawl"
    (root / "mirror").mkdir(parents=True)
    (root / "story.txt").write_text(ARTICLE_TEXT, encoding="utf-8")
    (root / "mirror" / "story.txt").write_text(ARTICLE_TEXT, encoding="utf-8")
    if with_manifest:
        # A manifest that gives a url to some other file only: the two copies still have no url.
        (root / "other.txt").write_text(ARTICLE_TEXT.upper(), encoding="utf-8")
        (root / "manifest.csv").write_text("path,url\nother.txt,https://example.org/other\n", encoding="utf-8")
    docs = run_ingest(root)
    original, mirror = row(docs, "story.txt"), row(docs, "mirror/story.txt")
    assert original["content_hash"] == mirror["content_hash"]
    assert missing(original["url"]) and missing(mirror["url"])
    assert original["doc_id"] != mirror["doc_id"]


def test_same_bytes_under_another_url_is_another_document(tmp_path):
    root = tmp_path / "crawl"
    root.mkdir()
    (root / "a.txt").write_text(ARTICLE_TEXT, encoding="utf-8")
    (root / "b.txt").write_text(ARTICLE_TEXT, encoding="utf-8")
    (root / "manifest.csv").write_text(
        "path,url\na.txt,https://one.example/story\nb.txt,https://two.example/story\n", encoding="utf-8"
    )
    docs = run_ingest(root)
    assert row(docs, "a.txt")["doc_id"] != row(docs, "b.txt")["doc_id"]


def _truncated_gzip() -> bytes:
    whole = gzip.compress((ARTICLE_TEXT * 20).encode("utf-8"))
    return whole[: len(whole) // 2]


@pytest.mark.parametrize(
    ("name", "payload", "error_words"),
    [
        ("picture.html", PNG_BYTES, ("binary", "png")),
        ("empty.txt", b"", ("empty",)),
        ("broken.txt.gz", _truncated_gzip(), ("gzip",)),
        ("blank.txt", b"  \n\t\n   \r\n", ("whitespace",)),
        ("blank.html", b"\n\n    \n", ("whitespace",)),
    ],
    ids=["png-renamed-html", "empty-file", "truncated-gzip", "whitespace-text", "whitespace-html"],
)
def test_bad_input_is_quarantined_with_a_reason(tmp_path, name, payload, error_words):
    root = tmp_path / "crawl"
    root.mkdir()
    (root / name).write_bytes(payload)
    (root / "good.txt").write_text(ARTICLE_TEXT, encoding="utf-8")
    docs = run_ingest(root)
    assert len(docs) == 2
    bad = row(docs, name)
    assert bad["status"] == "quarantined"
    assert isinstance(bad["error"], str) and bad["error"].strip()
    for word in error_words:
        assert word in bad["error"].lower(), bad["error"]
    assert missing(bad["content"])
    assert isinstance(bad["doc_id"], str) and bad["doc_id"]
    assert row(docs, "good.txt")["status"] == "ok", "one bad file must not spoil the batch"


def test_latin1_text_is_decoded_with_a_warning_naming_the_encoding(tmp_path):
    root = tmp_path / "crawl"
    root.mkdir()
    (root / "cafe.txt").write_bytes(LATIN1_TEXT.encode("latin-1"))
    doc = row(run_ingest(root), "cafe.txt")
    assert doc["status"] == "ok"
    assert missing(doc["error"])
    assert doc["content"] == LATIN1_TEXT
    assert codecs.lookup(doc["encoding"]).name in {"latin-1", "iso8859-1", "cp1252", "iso8859-15"}, doc["encoding"]
    assert isinstance(doc["warning"], str) and doc["encoding"].lower() in doc["warning"].lower()


def test_short_latin1_phrase_is_decoded(tmp_path):
    root = tmp_path / "crawl"
    root.mkdir()
    (root / "phrase.txt").write_bytes("Café déjà vu\n".encode("latin-1"))
    doc = row(run_ingest(root), "phrase.txt")
    assert doc["status"] == "ok"
    assert doc["content"] == "Café déjà vu\n"


def test_declared_charset_of_an_html_page_is_used(tmp_path):
    root = tmp_path / "crawl"
    root.mkdir()
    page = "<html><head><meta charset='iso-8859-1'></head><body><p>Crème brûlée à la carte.</p></body></html>"
    (root / "page.html").write_bytes(page.encode("latin-1"))
    doc = row(run_ingest(root), "page.html")
    assert doc["status"] == "ok"
    assert doc["content"] == page
    assert codecs.lookup(doc["encoding"]).name == "iso8859-1"
    assert isinstance(doc["warning"], str) and doc["encoding"] in doc["warning"]


@pytest.mark.parametrize("name", ["logo.png", "export.csv", "README"])
def test_unsupported_files_are_skipped_with_a_reason(tmp_path, name):
    root = tmp_path / "crawl"
    root.mkdir()
    (root / name).write_bytes(PNG_BYTES if name.endswith(".png") else b"a,b\n1,2\n")
    doc = row(run_ingest(root), name)
    assert doc["status"] == "skipped"
    assert "unsupported" in doc["error"].lower()
    suffix = Path(name).suffix
    assert (suffix or "no suffix") in doc["error"]
    assert missing(doc["content"])


def test_every_file_is_accounted_for(tmp_path):
    root = tmp_path / "crawl"
    (root / "deep" / "er").mkdir(parents=True)
    (root / "a.txt").write_text(ARTICLE_TEXT, encoding="utf-8")
    (root / "deep" / "b.html").write_text(HTML_PAGE, encoding="utf-8")
    (root / "deep" / "er" / "c.png").write_bytes(PNG_BYTES)
    (root / "deep" / "er" / "d.html").write_bytes(PNG_BYTES)
    (root / "e.txt").write_bytes(b"")
    (root / "f.csv").write_text("x,y\n", encoding="utf-8")
    lines = [
        json.dumps({"text": "A record with some text in it."}),
        "{not json at all",
        "",
        json.dumps(["a", "list", "is", "not", "a", "record"]),
        json.dumps({"title": "no html or text field"}),
        json.dumps({"html": "<p>The last record.</p>"}),
    ]
    (root / "deep" / "g.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "manifest.csv").write_text("path,url\na.txt,https://example.org/a\n", encoding="utf-8")

    docs = run_ingest(root)
    files = {"a.txt", "deep/b.html", "deep/er/c.png", "deep/er/d.html", "e.txt", "f.csv"}
    jsonl_lines = {"deep/g.jsonl#1", "deep/g.jsonl#2", "deep/g.jsonl#4", "deep/g.jsonl#5", "deep/g.jsonl#6"}
    assert sorted(docs["source_path"]) == sorted(files | jsonl_lines), "one row per file, one per JSONL record"
    assert set(docs["status"]) <= {"ok", "quarantined", "skipped"}
    statuses = docs.set_index("source_path")["status"].to_dict()
    assert statuses["deep/g.jsonl#1"] == "ok"
    assert statuses["deep/g.jsonl#6"] == "ok"
    for bad in ("deep/g.jsonl#2", "deep/g.jsonl#4", "deep/g.jsonl#5"):
        assert statuses[bad] == "quarantined"
    bad_json = row(docs, "deep/g.jsonl#2")
    assert "line 2" in bad_json["error"] and "json" in bad_json["error"].lower()
    not_ok = docs[docs["status"] != "ok"]
    assert not_ok["error"].map(lambda e: isinstance(e, str) and bool(e.strip())).all()


def test_hidden_files_and_manifest_are_not_documents(tmp_path):
    root = tmp_path / "crawl"
    (root / ".cache").mkdir(parents=True)
    (root / ".cache" / "x.txt").write_text(ARTICLE_TEXT, encoding="utf-8")
    (root / ".hidden.txt").write_text(ARTICLE_TEXT, encoding="utf-8")
    (root / "a.txt").write_text(ARTICLE_TEXT, encoding="utf-8")
    (root / "manifest.csv").write_text("path,url\na.txt,https://example.org/a\n", encoding="utf-8")
    assert list(run_ingest(root)["source_path"]) == ["a.txt"]


def test_a_single_file_can_be_given(tmp_path):
    root = tmp_path / "crawl"
    root.mkdir()
    (root / "a.txt").write_text(ARTICLE_TEXT, encoding="utf-8")
    (root / "b.txt").write_text(ARTICLE_TEXT, encoding="utf-8")
    docs = run_ingest(root / "a.txt")
    assert list(docs["source_path"]) == ["a.txt"]
    assert docs["status"].tolist() == ["ok"]


def test_missing_input_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        find_sources([tmp_path / "nope"])


DATED_PAGE = ("<html><head><meta property='article:published_time' content='2023-06-01T09:00:00Z'></head>"
              "<body><h1>Ferry</h1><p>The harbour authority announced the old terminal will close.</p></body></html>")
UNDATED_PAGE = "<html><body><h1>Ferry</h1><p>The harbour authority announced the terminal will close.</p></body></html>"


def test_publication_dates_rank_manifest_then_page_then_url(tmp_path):
    root = tmp_path / "crawl"
    root.mkdir()
    for name, html in (("stated.html", DATED_PAGE), ("page.html", DATED_PAGE), ("address.html", UNDATED_PAGE),
                       ("nothing.html", UNDATED_PAGE.replace("Ferry", "Bus"))):
        (root / name).write_text(html, encoding="utf-8")
    (root / "notes.txt").write_text(ARTICLE_TEXT, encoding="utf-8")
    (root / "manifest.csv").write_text(
        "path,url,published_at\n"
        "stated.html,https://example.org/2020/01/02/ferry,2021-02-03T04:05:06Z\n"
        "page.html,https://example.org/2020/01/02/ferry-page,\n"
        "address.html,https://example.org/2020/01/02/ferry-address,\n"
        "notes.txt,https://example.org/2019/12/31/notes,\n",
        encoding="utf-8",
    )
    docs = run_ingest(root)
    expected = {
        "stated.html": ("2021-02-03T04:05:06", "manifest"),
        "page.html": ("2023-06-01", "page"),
        "address.html": ("2020-01-02", "url"),
        "notes.txt": ("2019-12-31", "url"),
    }
    for path, (when, source) in expected.items():
        got = row(docs, path)
        assert (got["published_at"], got["published_at_source"]) == (pd.Timestamp(when, tz="UTC"), source), path
    nothing = row(docs, "nothing.html")
    assert missing(nothing["published_at"]) and nothing["published_at_source"] == "none"


def test_the_address_chooses_between_the_page_days_of_one_moment_and_never_overrides_the_page(tmp_path):
    root = tmp_path / "crawl"
    root.mkdir()
    zones_apart = ("<html><head><meta property='article:published_time' content='2023-06-02T01:00:00Z'></head>"
                   "<body><h1>Ferry</h1><p>By Ann Lee, June 1, 2023</p><p>The terminal will close.</p></body></html>")
    for name in ("same-day.html", "other-day.html", "no-address.html"):
        (root / name).write_text(zones_apart, encoding="utf-8")
    (root / "manifest.csv").write_text(
        "path,url\nsame-day.html,https://example.org/2023/06/01/ferry\n"
        "other-day.html,https://example.org/2020/01/02/ferry\n", encoding="utf-8")
    docs = run_ingest(root)
    for path, when in (("same-day.html", "2023-06-01"), ("other-day.html", "2023-06-02"),
                       ("no-address.html", "2023-06-02")):
        got = row(docs, path)
        assert (got["published_at"], got["published_at_source"]) == (pd.Timestamp(when, tz="UTC"), "page"), path


def test_a_jsonl_date_outranks_the_page_and_a_bad_one_is_a_warning(tmp_path):
    root = tmp_path / "crawl"
    root.mkdir()
    records = [{"url": "https://example.org/a", "html": DATED_PAGE, "published_at": "2022-01-01T00:00:00Z",
                "fetched_at": "2024-02-02T10:00:00+02:00"},
               {"url": "https://example.org/b", "html": DATED_PAGE, "published_at": "yesterday"}]
    (root / "feed.jsonl").write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    docs = run_ingest(root)
    stated, bad = row(docs, "feed.jsonl#1"), row(docs, "feed.jsonl#2")
    assert (stated["published_at"], stated["published_at_source"]) == (pd.Timestamp("2022-01-01", tz="UTC"), "jsonl")
    assert stated["fetched_at"] == pd.Timestamp("2024-02-02T08:00:00", tz="UTC")
    assert (bad["published_at"], bad["published_at_source"]) == (pd.Timestamp("2023-06-01", tz="UTC"), "page")
    assert "jsonl published_at" in bad["warning"] and "yesterday" in bad["warning"]


def test_fetched_at_is_stated_or_null_never_a_file_time(tmp_path):
    root = tmp_path / "crawl"
    root.mkdir()
    (root / "a.txt").write_text(ARTICLE_TEXT, encoding="utf-8")
    (root / "b.txt").write_text(ARTICLE_TEXT.upper(), encoding="utf-8")
    (root / "manifest.csv").write_text("path,fetched_at\na.txt,2024-04-04T04:04:04Z\n", encoding="utf-8")
    docs = run_ingest(root)
    assert row(docs, "a.txt")["fetched_at"] == pd.Timestamp("2024-04-04T04:04:04", tz="UTC")
    assert missing(row(docs, "b.txt")["fetched_at"])


def test_page_dates_can_be_switched_off(tmp_path):
    root = tmp_path / "crawl"
    root.mkdir()
    (root / "page.html").write_text(DATED_PAGE, encoding="utf-8")
    sources = pa.Table.from_pandas(find_sources([root]), preserve_index=False)
    doc = ingest(sources, IngestConfig(page_dates=False)).to_pandas().iloc[0]
    assert missing(doc["published_at"]) and doc["published_at_source"] == "none"
