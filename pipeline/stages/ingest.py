"""Stage 1, ingest: a batch of source files becomes a batch of documents (one row per page).

Bad input never raises: it becomes a row with ``status="quarantined"`` and the reason in ``error``.
Files that are not pages are rows with ``status="skipped"``, so every file given is accounted for.
"""
from __future__ import annotations

import hashlib
import json
import zlib
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pyarrow as pa
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from pipeline.config import IngestConfig
from pipeline.io.readers import BadInput, content_suffix, decode, read_raw
from pipeline.schema import INGESTED, to_table


def ingest(sources: pa.Table | pd.DataFrame, cfg: IngestConfig) -> pa.Table:
    """Read every source file listed in ``sources`` (columns root, path, url, published_at)."""
    frame = sources.to_pandas() if isinstance(sources, pa.Table) else sources
    rows: list[dict] = []
    for src in frame.to_dict("records"):
        rows.extend(_read_source(src, cfg))
    return to_table(pd.DataFrame(rows), INGESTED)


def doc_id_for(address: str, content_hash: str) -> str:
    """Stable id: the same bytes under another address are another document."""
    return hashlib.sha256(f"{address}\n{content_hash}".encode("utf-8")).hexdigest()[:16]


def _read_source(src: dict, cfg: IngestConfig) -> list[dict]:
    path = Path(src["root"]) / src["path"]
    suffix = content_suffix(src["path"])
    kind = _kind(suffix, cfg)
    base = {
        "source_path": src["path"],
        "url": _text_or_none(src.get("url")),
        "fetched_at": _mtime(path),
    }
    published, warning = _timestamp(src.get("published_at"))
    base["published_at"] = published
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
    return [_decoded_row(base, raw, kind, cfg, warning)]


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


def _decoded_row(base: dict, raw: bytes, kind: str, cfg: IngestConfig, warning: str | None) -> dict:
    row = _row(base, raw, kind)
    try:
        decoded = decode(raw, kind == "html", cfg.binary_control_ratio)
    except BadInput as exc:
        return {**row, "status": "quarantined", "error": str(exc)}
    warnings = "; ".join(w for w in (warning, decoded.warning) if w) or None
    return {**row, "status": "ok", "content": decoded.text, "encoding": decoded.encoding, "warning": warnings}


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
        except (ValueError, UnicodeDecodeError) as exc:
            rows.append(_quarantined(line_base, line, f"line {number}: not a JSON object ({exc})", "jsonl"))
            continue
        html, text = record.get("html"), record.get("text")
        body = html if isinstance(html, str) and html.strip() else text
        kind = "html" if body is html else "text"
        published, warning = _timestamp(record.get("published_at"))
        line_base.update(url=_text_or_none(record.get("url")) or base.get("url"),
                         published_at=published or base["published_at"])
        if not isinstance(body, str) or not body.strip():
            rows.append(_quarantined(line_base, line, f"line {number}: no 'html' or 'text' field with content", "jsonl"))
            continue
        rows.append(_decoded_row(line_base, body.encode("utf-8"), kind, cfg, warning))
    if not rows:
        rows.append(_quarantined(base, raw, "empty JSONL file: no records", "jsonl"))
    return rows


def _read_warc(base: dict, path: Path, cfg: IngestConfig) -> list[dict]:
    """One document per HTML or text response record; a truncated archive keeps the records read so far
    and adds a quarantined row saying where it broke."""
    rows: list[dict] = []
    number = 0
    try:
        with path.open("rb") as stream:
            for number, record in enumerate(ArchiveIterator(stream), start=1):
                row = _warc_record_row(base, record, number, cfg)
                if row is not None:
                    rows.append(row)
    except (ArchiveLoadFailed, EOFError, OSError, ValueError, zlib.error) as exc:
        rows.append(_quarantined_file({**base, "source_path": f"{base['source_path']}#{number or 1}"}, path,
                                      f"truncated or corrupt WARC at record {number or 1}: {exc}", "warc"))
    if not rows:
        rows.append(_quarantined_file(base, path, "WARC file with no HTML or text response records", "warc"))
    return rows


def _warc_record_row(base: dict, record, number: int, cfg: IngestConfig) -> dict | None:
    if record.rec_type not in ("response", "resource"):
        return None
    mime = (record.http_headers.get_header("Content-Type") if record.http_headers else None) or \
        record.rec_headers.get_header("Content-Type") or ""
    kind = "html" if "html" in mime.lower() else "text" if mime.lower().startswith("text/") else None
    if kind is None:
        return None
    fetched, _ = _timestamp(record.rec_headers.get_header("WARC-Date"))
    record_base = {**base, "source_path": f"{base['source_path']}#{number}",
                   "url": record.rec_headers.get_header("WARC-Target-URI") or base.get("url"),
                   "fetched_at": fetched or base["fetched_at"]}
    raw = record.content_stream().read(cfg.max_bytes + 1)
    if getattr(record.raw_stream, "limit", 0) and len(raw) <= cfg.max_bytes:
        # warcio hands back a short record at the end of a cut archive: the declared length was not there.
        raise EOFError(f"record {number} ends {record.raw_stream.limit} bytes short of its declared length")
    if len(raw) > cfg.max_bytes:
        return _quarantined(record_base, raw[: cfg.max_bytes], f"record over the {cfg.max_bytes}-byte cap", kind)
    return _decoded_row(record_base, raw, kind, cfg, None)


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


def _mtime(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)
    except OSError:
        return None


def _timestamp(value) -> tuple[pd.Timestamp | None, str | None]:
    """Parse an ISO 8601 date; naive times are taken as UTC. Unparseable dates become a warning."""
    if not isinstance(value, (str, datetime, pd.Timestamp)) or str(value).strip() == "":
        return None, None
    try:
        ts = pd.Timestamp(str(value).strip())
    except (ValueError, TypeError):
        return None, f"unparseable published_at {str(value)[:40]!r} ignored"
    if pd.isna(ts):
        return None, None
    return (ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")), None
