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
