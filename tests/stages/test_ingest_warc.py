"""WARC archives: one document per HTML/text response; a truncated archive keeps what was read."""
from __future__ import annotations

import io

import pandas as pd
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.config import IngestConfig
from pipeline.stages.ingest import ingest

PAGE = "<html><body><article><p>{}</p></article></body></html>"


def warc_bytes(pages: dict[str, str], gzip: bool = True) -> bytes:
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=gzip)
    for url, body in pages.items():
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        record = writer.create_warc_record(url, "response", payload=io.BytesIO(body.encode()), http_headers=headers)
        writer.write_record(record)
    image = StatusAndHeaders("200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record("https://a.example/logo.png", "response",
                                                  payload=io.BytesIO(b"\x89PNG...."), http_headers=image))
    return buffer.getvalue()


def sources(tmp_path, name: str, data: bytes) -> pd.DataFrame:
    (tmp_path / name).write_bytes(data)
    return pd.DataFrame([{"root": str(tmp_path), "path": name, "url": None, "published_at": None}])


def test_each_html_response_record_is_a_document_with_its_url(tmp_path):
    pages = {f"https://a.example/{i}": PAGE.format(f"Story number {i}.") for i in range(3)}
    docs = ingest(sources(tmp_path, "crawl.warc.gz", warc_bytes(pages)), IngestConfig()).to_pandas()
    assert list(docs.url) == list(pages)
    assert list(docs.status) == ["ok"] * 3
    assert all(docs.content_type == "html")
    assert docs.source_path.tolist() == ["crawl.warc.gz#1", "crawl.warc.gz#2", "crawl.warc.gz#3"]
    assert "Story number 1." in docs.content[1]
    assert docs.fetched_at.notna().all()


def test_a_truncated_archive_keeps_the_records_read_and_quarantines_the_rest(tmp_path):
    pages = {f"https://a.example/{i}": PAGE.format("x" * 2000 + str(i)) for i in range(4)}
    whole = warc_bytes(pages, gzip=False)
    cut = whole[: int(len(whole) * 0.6)]
    docs = ingest(sources(tmp_path, "cut.warc", cut), IngestConfig()).to_pandas()
    ok = docs[docs.status == "ok"]
    assert 1 <= len(ok) < 4
    broken = docs[docs.status == "quarantined"]
    assert len(broken) == 1
    assert "truncated or corrupt WARC" in broken.error.iloc[0]
    assert docs.doc_id.is_unique


def raw_record(headers: dict[str, str], block: bytes) -> bytes:
    """One uncompressed WARC record, headers exactly as given (Content-Length added unless given)."""
    headers = {"WARC-Type": "response", **headers}
    headers.setdefault("Content-Length", str(len(block)))
    lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items() if v is not None)
    return f"WARC/1.0\r\n{lines}\r\n".encode() + block + b"\r\n\r\n"


HTTP_PAGE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
             b"<html><body><h1>Ferry</h1><p>The old terminal closes.</p></body></html>")


def test_a_record_without_target_uri_is_read_and_the_archive_goes_on(tmp_path):
    data = (raw_record({"WARC-Date": "2024-01-01T00:00:00Z"}, HTTP_PAGE)
            + raw_record({"WARC-Target-URI": "https://a.example/2", "WARC-Date": "2024-01-02T00:00:00Z"}, HTTP_PAGE))
    docs = ingest(sources(tmp_path, "no-uri.warc", data), IngestConfig()).to_pandas()
    assert list(docs.status) == ["ok", "ok"]
    assert docs.url.isna().tolist() == [True, False]
    assert "without WARC-Target-URI" in docs.warning[0]
    assert docs.fetched_at.tolist() == [pd.Timestamp("2024-01-01", tz="UTC"), pd.Timestamp("2024-01-02", tz="UTC")]


def test_an_unreadable_record_is_quarantined_alone(tmp_path):
    garbled = raw_record({"WARC-Target-URI": "https://a.example/1", "Content-Type": "application/http; msgtype=response"},
                         b"<html>no status line</html>")
    # A payload that lies about its gzip encoding is read as it stands (warcio falls back to the raw bytes).
    lying = raw_record({"WARC-Target-URI": "https://a.example/2"},
                       b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n\r\n<p>not gzip</p>")
    fine = raw_record({"WARC-Target-URI": "https://a.example/3", "WARC-Date": "not a date"}, HTTP_PAGE)
    docs = ingest(sources(tmp_path, "mixed.warc", garbled + lying + fine), IngestConfig()).to_pandas()
    by_path = docs.set_index("source_path")
    assert by_path.loc["mixed.warc#1", "status"] == "quarantined"
    assert "no HTTP status line" in by_path.loc["mixed.warc#1", "error"]
    assert by_path.loc["mixed.warc#2", "content"] == "<p>not gzip</p>"
    assert by_path.loc["mixed.warc#3", "status"] == "ok"
    assert pd.isna(by_path.loc["mixed.warc#3", "fetched_at"])
    assert "unparseable WARC-Date" in by_path.loc["mixed.warc#3", "warning"]
    assert docs.doc_id.is_unique


def test_a_record_without_content_length_ends_the_archive_with_a_reason(tmp_path):
    data = (raw_record({"WARC-Target-URI": "https://a.example/1"}, HTTP_PAGE)
            + raw_record({"WARC-Target-URI": "https://a.example/2", "Content-Length": None}, HTTP_PAGE))
    docs = ingest(sources(tmp_path, "unframed.warc", data), IngestConfig()).to_pandas()
    assert docs.status.tolist() == ["ok", "quarantined"]
    assert docs.source_path.tolist() == ["unframed.warc#1", "unframed.warc#2"]
    assert "no Content-Length" in docs.error[1]


def test_a_lying_content_length_is_a_warning_or_a_quarantine_never_a_crash(tmp_path):
    short = raw_record({"WARC-Target-URI": "https://a.example/1", "Content-Length": "20"}, HTTP_PAGE)
    docs = ingest(sources(tmp_path, "short.warc", short + raw_record({"WARC-Target-URI": "https://a.example/2"},
                                                                    HTTP_PAGE)), IngestConfig()).to_pandas()
    assert len(docs) >= 1
    assert set(docs.status) <= {"ok", "quarantined"}
    assert docs[docs.status == "quarantined"].error.str.contains("WARC").all()
