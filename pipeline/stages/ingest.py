"""Stage 1, ingest: a batch of source files becomes a batch of documents (one row per page).

Bad input never raises: it becomes a row with ``status="quarantined"`` and the reason in ``error``.
Files that are not pages are rows with ``status="skipped"``, so every file given is accounted for.
Publication dates come from the manifest or the JSONL record, else from the page, else from its address
(``published_at_source`` says which); fetch times only from the WARC-Date or a stated ``fetched_at``.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import zlib
from pathlib import Path

import pandas as pd
import pyarrow as pa
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeadersParser, StatusAndHeadersParserException

from pipeline import log
from pipeline.config import IngestConfig
from pipeline.dates import page_date, parse_stated, url_date
from pipeline.io.readers import BadInput, content_suffix, decode, read_raw
from pipeline.schema import INGESTED, to_table


def ingest(sources: pa.Table | pd.DataFrame, cfg: IngestConfig) -> pa.Table:
    """Read every source file listed in ``sources`` (columns root, path, and the manifest's url,
    published_at, fetched_at)."""
    frame = sources.to_pandas() if isinstance(sources, pa.Table) else sources
    rows: list[dict] = []
    for src in frame.to_dict("records"):
        rows.extend(_read_source_safely(src, cfg))
    return to_table(pd.DataFrame(rows), INGESTED)


def _read_source_safely(src: dict, cfg: IngestConfig) -> list[dict]:
    """The file's rows; a reader failure nobody foresaw quarantines this file, named as such, and never
    the run (the readers turn every failure they know into a precise reason of their own)."""
    try:
        return _read_source(src, cfg)
    except Exception as exc:  # noqa: BLE001 - the last line of defence of the run against one file
        error = f"{UNFORESEEN} {type(exc).__name__}: {_one_line(exc)}"
        log.warning(f"quarantined {src['path']}: {error}", path=src["path"], error=error)
        base = {"source_path": src["path"], "url": _text_or_none(src.get("url"))}
        kind = _kind(content_suffix(src["path"]), cfg)
        return [_quarantined_file(base, Path(src["root"]) / src["path"], error, kind)]


UNFORESEEN = "unforeseen reader failure (a bug: please report it):"


def doc_id_for(address: str, content_hash: str) -> str:
    """Stable id: the same bytes under another address are another document."""
    return hashlib.sha256(f"{address}\n{content_hash}".encode("utf-8")).hexdigest()[:16]


def _read_source(src: dict, cfg: IngestConfig) -> list[dict]:
    path = Path(src["root"]) / src["path"]
    suffix = content_suffix(src["path"])
    kind = _kind(suffix, cfg)
    base = {"source_path": src["path"], "url": _text_or_none(src.get("url")), "published_at": None,
            "published_at_source": "none", "fetched_at": None, "warning": None}
    base = _with_stated_dates(base, src, "manifest")
    if kind == "warc":
        return _read_warc(base, path, cfg)
    try:
        raw = read_raw(path, cfg.max_bytes)
    except BadInput as exc:
        return [_quarantined_file(base, path, str(exc), kind)]
    except OSError as exc:
        return [_quarantined_file(base, path, f"unreadable file: {exc.strerror or exc}", kind)]
    if kind == "jsonl":
        return _read_jsonl(base, raw, cfg)
    if kind not in ("html", "text"):
        row = _row(base, raw, kind)
        return [{**row, "status": "skipped", "error": f"unsupported file type {suffix or '(no suffix)'!r}"}]
    return [_decoded_row(base, raw, kind, cfg)]


def _with_stated_dates(base: dict, given: dict, origin: str) -> dict:
    """``base`` with the publication and fetch times that a manifest row or JSONL record states (each
    replaces what ``base`` had); an unreadable one is a warning and leaves ``base``'s value."""
    published, bad_published = parse_stated(given.get("published_at"), f"{origin} published_at")
    fetched, bad_fetched = parse_stated(given.get("fetched_at"), f"{origin} fetched_at")
    dated = {**base, "warning": _joined(base.get("warning"), bad_published, bad_fetched)}
    if published is not None:
        dated.update(published_at=published, published_at_source=origin)
    if fetched is not None:
        dated["fetched_at"] = fetched
    return dated


def _kind(suffix: str, cfg: IngestConfig) -> str:
    """html, text, jsonl or warc; any other file is named by its suffix (and skipped)."""
    for kind, suffixes in (("html", cfg.html_suffixes), ("text", cfg.text_suffixes),
                           ("jsonl", cfg.jsonl_suffixes), ("warc", cfg.warc_suffixes)):
        if suffix in suffixes:
            return kind
    return suffix.lstrip(".") or "none"


def _text_or_none(value) -> str | None:
    """A non-empty string, or None (a missing manifest cell reaches here as None or NaN)."""
    return value.strip() or None if isinstance(value, str) else None


def _decoded_row(base: dict, raw: bytes, kind: str, cfg: IngestConfig) -> dict:
    row = _row(base, raw, kind)
    try:
        decoded = decode(raw, kind == "html", cfg.binary_control_ratio)
    except BadInput as exc:
        return {**row, "status": "quarantined", "error": str(exc)}
    row = {**row, "status": "ok", "content": decoded.text, "encoding": decoded.encoding,
           "warning": _joined(base.get("warning"), decoded.warning)}
    return _with_page_date(row, kind, cfg) if row["published_at"] is None else row


def _with_page_date(row: dict, kind: str, cfg: IngestConfig) -> dict:
    """An undated document's publication day from the page itself, else from its address. Dates after
    the fetch (or after today, when the fetch time is unknown) are not publication days."""
    latest = (row["fetched_at"] or pd.Timestamp.now(tz="UTC")).date()
    from_url = url_date(row["url"], latest) if cfg.url_dates else None
    page = None
    if kind == "html" and cfg.page_dates:
        try:
            page = page_date(row["content"], latest, None if from_url is None else from_url.date())
        except Exception as exc:  # noqa: BLE001 - lxml and htmldate trip on hostile markup (even asserts);
            # the date is an extra, never a reason to lose a readable page
            row = {**row, "warning": _joined(row["warning"], f"page date not read: {type(exc).__name__} "
                                                             f"{_one_line(exc)}")}
    if page is not None:
        return {**row, "published_at": page, "published_at_source": "page"}
    return {**row, "published_at": from_url, "published_at_source": "url"} if from_url is not None else row


def _read_jsonl(base: dict, raw: bytes, cfg: IngestConfig) -> list[dict]:
    rows = []
    lines = raw.split(b"\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        line_base = {**base, "source_path": f"{base['source_path']}#{number}"}
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("a line must hold a JSON object")
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            reason = "nested too deeply" if isinstance(exc, RecursionError) else _one_line(exc)
            rows.append(_quarantined(line_base, line, f"line {number}: not a JSON object ({reason})", "jsonl"))
            continue
        html, text = record.get("html"), record.get("text")
        body = html if isinstance(html, str) and html.strip() else text
        kind = "html" if body is html else "text"
        line_base = _with_stated_dates({**line_base, "url": _text_or_none(record.get("url")) or base.get("url")},
                                       record, "jsonl")
        if not isinstance(body, str) or not body.strip():
            rows.append(_quarantined(line_base, line, f"line {number}: no 'html' or 'text' field with content", "jsonl"))
            continue
        # A JSON string may hold lone surrogate escapes ("\\ud800"), which UTF-8 cannot encode: they become U+FFFD.
        rows.append(_decoded_row(line_base, body.encode("utf-8", "replace"), kind, cfg))
    if not rows:
        rows.append(_quarantined(base, raw, "empty JSONL file: no records", "jsonl"))
    return rows


def _read_warc(base: dict, path: Path, cfg: IngestConfig) -> list[dict]:
    """One document per HTML or text response record. A record that cannot be read is quarantined on its
    own and the archive goes on; when the archive itself breaks (cut short, garbled framing), the records
    read so far are kept and a quarantined row says where it broke."""
    rows: list[dict] = []
    number = 0
    remarks = io.StringIO()  # warcio prints framing complaints (a lying Content-Length) to stderr
    try:
        with path.open("rb") as stream, contextlib.redirect_stderr(remarks):
            records = ArchiveIterator(stream, no_record_parse=True)  # HTTP headers are parsed per record below
            for number, record in enumerate(records, start=1):
                _note_framing(rows, remarks)
                row = _warc_record_row(base, record, number, cfg)
                if row is not None:
                    rows.append(row)
            _note_framing(rows, remarks)
    except _WarcBroken as exc:
        rows.append(_quarantined_file({**base, "source_path": f"{base['source_path']}#{number}"}, path,
                                      f"WARC record {number}: {exc}", "warc"))
    except (ArchiveLoadFailed, EOFError, OSError, ValueError, zlib.error) as exc:
        at = number + 1 if number else 1  # the iterator failed while reading the record after the last one
        rows.append(_quarantined_file({**base, "source_path": f"{base['source_path']}#{at}"}, path,
                                      f"truncated or corrupt WARC at record {at}: {_one_line(exc)}", "warc"))
    if not rows:
        rows.append(_quarantined_file(base, path, "WARC file with no HTML or text response records", "warc"))
    return rows


class _WarcBroken(Exception):
    """The archive cannot be framed past this record: the records after it are lost."""


def _note_framing(rows: list[dict], remarks: io.StringIO) -> None:
    """warcio's complaint about the record just read (its Content-Length did not end at a record boundary)
    becomes a warning on that record's row."""
    said = remarks.getvalue()
    if not said:
        return
    remarks.seek(0), remarks.truncate()
    if rows:
        rows[-1]["warning"] = _joined(rows[-1].get("warning"), "record not followed by a blank line: its "
                                      "Content-Length may be wrong")


def _warc_record_row(base: dict, record, number: int, cfg: IngestConfig) -> dict | None:
    """The document of one response or resource record, or None for records that hold no page."""
    if record.rec_type not in ("response", "resource"):
        return None
    headers = record.rec_headers
    if headers.get_header("Content-Length") is None:
        raise _WarcBroken("no Content-Length header: the records after it cannot be found")
    fetched, date_warning = parse_stated(headers.get_header("WARC-Date"), "WARC-Date")
    uri = headers.get_header("WARC-Target-URI")
    record_base = {**base, "source_path": f"{base['source_path']}#{number}", "url": uri or base.get("url"),
                   "fetched_at": fetched or base["fetched_at"],
                   "warning": _joined(base["warning"], date_warning,
                                      None if uri else f"{record.rec_type} record without WARC-Target-URI")}
    block = record.raw_stream.read(cfg.max_bytes + 1)
    if getattr(record.raw_stream, "limit", 0) and len(block) <= cfg.max_bytes:
        # warcio hands back a short record at the end of a cut archive: the declared length was not there.
        raise EOFError(f"record {number} ends {record.raw_stream.limit} bytes short of its declared length")
    try:
        mime, payload = _warc_payload(record, block)
    except (StatusAndHeadersParserException, EOFError, OSError, ValueError, zlib.error) as exc:
        return _quarantined(record_base, block, f"WARC record {number}: unreadable HTTP message "
                                                f"({_one_line(exc)})", "warc")
    kind = "html" if "html" in mime else "text" if mime.startswith("text/") else None
    if kind is None:
        return None
    if len(block) > cfg.max_bytes or len(payload) > cfg.max_bytes:
        return _quarantined(record_base, payload[: cfg.max_bytes], f"record over the {cfg.max_bytes}-byte cap", kind)
    return _decoded_row(record_base, payload, kind, cfg)


_HTTP = StatusAndHeadersParser(["HTTP/"], verify=False)


def _warc_payload(record, block: bytes) -> tuple[str, bytes]:
    """(lower-cased media type, payload bytes) of a record's block: an HTTP response's headers are read and its
    transfer and content encodings undone; a block without an HTTP status line is the payload itself."""
    declared = (record.rec_headers.get_header("Content-Type") or "").lower()
    if record.rec_type != "response" or not block.startswith(b"HTTP/"):
        if "application/http" in declared:
            raise ValueError("declared an HTTP message, but the block has no HTTP status line")
        return declared, block
    stream = io.BytesIO(block)
    http = _HTTP.parse(stream)
    body = ArcWarcRecord("warc", "response", record.rec_headers, stream, http, declared, len(block))
    payload = body.content_stream().read()
    return (http.get_header("Content-Type") or declared).lower(), payload


def _one_line(exc: Exception) -> str:
    """An exception's message on one line (warcio's messages span several)."""
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def _joined(*warnings: str | None) -> str | None:
    return "; ".join(w for w in warnings if w) or None


def _row(base: dict, raw: bytes, kind: str) -> dict:
    content_hash = hashlib.sha256(raw).hexdigest()
    address = base.get("url") or base["source_path"]
    return {**base, "doc_id": doc_id_for(address, content_hash), "content_hash": content_hash,
            "content_type": kind, "size_bytes": len(raw)}


def _quarantined(base: dict, raw: bytes, error: str, kind: str) -> dict:
    return {**_row(base, raw, kind), "status": "quarantined", "error": error}


def _quarantined_file(base: dict, path: Path, error: str, kind: str) -> dict:
    """A quarantined row for a file too large or broken to hold in memory: hashed as a stream."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        size = path.stat().st_size
    except OSError:
        size = None
    content_hash = digest.hexdigest()
    address = base.get("url") or base["source_path"]
    return {**base, "doc_id": doc_id_for(address, content_hash), "content_hash": content_hash,
            "content_type": kind, "size_bytes": size, "status": "quarantined", "error": error}
