"""Finding input files and turning raw bytes into text, or into a precise reason why not."""
from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import charset_normalizer
import pandas as pd

from pipeline import log

MANIFEST_NAME = "manifest.csv"

_MAGIC = {
    b"\x89PNG": "PNG image",
    b"\xff\xd8\xff": "JPEG image",
    b"GIF8": "GIF image",
    b"%PDF": "PDF document",
    b"PK\x03\x04": "ZIP archive",
    b"\x1f\x8b": "gzip data",
    b"\x7fELF": "ELF executable",
    b"RIFF": "RIFF media",
    b"OggS": "Ogg media",
    b"\x00\x00\x01\x00": "icon image",
}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)


class BadInput(Exception):
    """The bytes cannot become a document; the message is the reason recorded in ``documents.error``."""


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    warning: str | None = None


def find_sources(inputs: list[Path]) -> pd.DataFrame:
    """One row per file under the inputs (sorted, manifest files excluded) with manifest metadata joined."""
    rows = []
    for given in inputs:
        given = Path(given)
        if given.is_dir():
            root = given
            files = sorted(p for p in given.rglob("*") if p.is_file() and not _is_hidden(p, given))
        elif given.exists():
            root, files = given.parent, [given]
        else:
            raise FileNotFoundError(f"input not found: {given}")
        manifest = read_manifest(root / MANIFEST_NAME)
        if given.is_dir():
            _warn_unlisted(manifest, {path.relative_to(root).as_posix() for path in files}, root / MANIFEST_NAME)
        for path in files:
            rel = path.relative_to(root).as_posix()
            if rel == MANIFEST_NAME:
                continue
            meta = manifest.get(rel, {})
            rows.append({
                "root": str(root),
                "path": rel,
                "url": meta.get("url") or None,
                "published_at": meta.get("published_at") or None,
                "fetched_at": meta.get("fetched_at") or None,
            })
    return pd.DataFrame(rows, columns=["root", "path", "url", "published_at", "fetched_at"])


def _warn_unlisted(manifest: dict[str, dict[str, str]], present: set[str], where: Path) -> None:
    """A manifest row that names no file under the root is a typo or a lost file: say so."""
    for path in sorted(set(manifest) - present):
        log.warning(f"{where}: row for {path!r} names no file under {where.parent}", manifest=str(where), path=path)


def _is_hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def read_manifest(path: Path) -> dict[str, dict[str, str]]:
    """``path -> {url, published_at, fetched_at}`` from an optional ``manifest.csv`` (any subset of the columns)."""
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "path" not in reader.fieldnames:
            raise ValueError(f"{path}: a manifest needs a 'path' column")
        rows = {row["path"].strip(): {k: (v or "").strip() for k, v in row.items()} for row in reader if row.get("path")}
    for rel, row in rows.items():
        if row.get("published_at") and not _is_iso_date(row["published_at"]):
            log.warning(f"{path}: published_at {row['published_at']!r} of {rel!r} is not an ISO 8601 date "
                        "(YYYY-MM-DD[THH:MM[:SS][+HH:MM]]): ignored, since day and month could be either way round",
                        manifest=str(path), path=rel)
            row["published_at"] = ""
    return rows


def _is_iso_date(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def read_raw(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, gunzipped for ``.gz``; refuses anything over ``max_bytes``."""
    size = path.stat().st_size
    if size > max_bytes:
        raise BadInput(f"file too large: {size} bytes over the {max_bytes}-byte cap")
    raw = path.read_bytes()
    if path.suffix.lower() != ".gz":
        return raw
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as handle:
            data = handle.read(max_bytes + 1)
    except (EOFError, OSError, zlib.error) as exc:
        raise BadInput(f"truncated or corrupt gzip: {exc}") from exc
    if len(data) > max_bytes:
        raise BadInput(f"decompressed content over the {max_bytes}-byte cap")
    return data


def content_suffix(path: str) -> str:
    """The suffix that says what a file holds, looking through ``.gz``."""
    p = Path(path)
    if p.suffix.lower() == ".gz":
        p = p.with_suffix("")
    return p.suffix.lower()


def decode(raw: bytes, is_html: bool, control_ratio: float) -> Decoded:
    """Decode page bytes: BOM, then UTF-8, then the page's declared charset, then a statistical guess."""
    if not raw:
        raise BadInput("empty file (0 bytes)")
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return _checked(raw.decode(name, errors="replace"), name, None)
    for magic, kind in _MAGIC.items():
        if raw.startswith(magic):
            raise BadInput(f"binary content ({kind}), not text")
    if b"\x00" in raw[:4096]:
        raise BadInput("binary content (NUL bytes), not text")
    try:
        return _checked(raw.decode("utf-8"), "utf-8", None, control_ratio)
    except UnicodeDecodeError:
        pass
    declared = _declared_charset(raw) if is_html else None
    if declared:
        try:
            return _checked(raw.decode(declared), declared, f"not UTF-8; decoded as declared {declared}", control_ratio)
        except (UnicodeDecodeError, LookupError):
            pass
    western = _as_western(raw)
    if western is not None:
        return _checked(western, "cp1252", "not UTF-8; decoded as cp1252 (Latin-1 superset, guessed)", control_ratio)
    guess = charset_normalizer.from_bytes(raw[:200_000]).best()
    if guess is None:
        raise BadInput("undecodable bytes: no text encoding fits")
    encoding = guess.encoding
    return _checked(raw.decode(encoding, errors="replace"), encoding, f"not UTF-8; decoded as {encoding} (guessed)", control_ratio)


_WESTERN = re.compile(r"[A-Za-z\u00c0-\u00ff]")


def _as_western(raw: bytes) -> str | None:
    """The text as cp1252 when it reads as a Western European language written in it: every non-ASCII
    character a Latin letter or typographic mark, and letters sitting inside words with ASCII letters.

    Statistical detectors misread short Latin-1 texts (as cp1006, cp1257...); Latin-1/cp1252 is by far
    the most common non-UTF-8 encoding on the web, so it is tried first, under this check.
    """
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        return None
    odd = [(i, ch) for i, ch in enumerate(text) if ord(ch) > 127]
    if not odd:
        return None
    marks = set("‘’“”–—…•€£©®°«»·§¢¥")
    letters = [(i, ch) for i, ch in odd if ch not in marks]
    if any(not _WESTERN.match(ch) for _, ch in letters):
        return None
    in_words = sum(1 for i, _ in letters if any(
        0 <= j < len(text) and text[j].isascii() and text[j].isalpha() for j in (i - 1, i + 1)))
    return text if not letters or in_words / len(letters) >= 0.8 else None


def _declared_charset(raw: bytes) -> str | None:
    found = _META_CHARSET.search(raw[:8192])
    if not found:
        return None
    name = found.group(1).decode("ascii", "ignore").lower()
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _checked(text: str, encoding: str, warning: str | None, control_ratio: float = 0.05) -> Decoded:
    if not text.strip():
        raise BadInput("no text: the file holds only whitespace")
    sample = text[:20_000]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f\v")
    if controls / len(sample) > control_ratio:
        raise BadInput(f"binary content ({controls} control characters in the first {len(sample)}), not text")
    return Decoded(text, encoding, warning)
