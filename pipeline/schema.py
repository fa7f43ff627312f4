"""Every table the pipeline writes: columns, types and one-line descriptions, in one place.

Stage outputs (under ``<output>/stages/<stage>/``) and the three handoff tables (``documents``,
``provenance``, ``removed``) are built from these schemas and never from inference.
"""
from __future__ import annotations

import pandas as pd
import pyarrow as pa

SCHEMA_VERSION = "1"

LABELS = ("original", "copied", "ai_paraphrased")
STATUSES = ("ok", "quarantined", "skipped")
DATE_SOURCES = ("manifest", "jsonl", "page", "url", "none")
REMOVAL_REASONS = (
    "comments", "newsletter", "share", "navigation", "related", "cookie",
    "caption", "dateline", "byline", "ad", "other",
)

_TS = pa.timestamp("us", tz="UTC")


def _f(name: str, type_: pa.DataType, description: str, nullable: bool = True) -> pa.Field:
    return pa.field(name, type_, nullable=nullable, metadata={"description": description})


def _schema(*fields: pa.Field) -> pa.Schema:
    return pa.schema(list(fields), metadata={"schema_version": SCHEMA_VERSION})


_DOC_ID = _f("doc_id", pa.string(), "Stable document id: hash of source address and content.", False)
_PARA_INDEX = _f("para_index", pa.int32(), "Position of the paragraph in the document's kept text, from 0.", False)

_DOCUMENT_FIELDS = (
    _DOC_ID,
    _f("source_path", pa.string(), "Path relative to the input root (a JSONL line adds '#<line>').", False),
    _f("url", pa.string(), "Address of the page, from the manifest or the JSONL record."),
    _f("content_hash", pa.string(), "SHA-256 of the raw bytes (hex)."),
    _f("content_type", pa.string(), "html, text, or the file suffix of a skipped file."),
    _f("encoding", pa.string(), "Character encoding the bytes were decoded with."),
    _f("published_at", _TS, "Publication time, UTC: as the manifest or JSONL record states it, else the day "
       "the page or its address states (midnight UTC of that calendar day); null when nothing states one."),
    _f("published_at_source", pa.string(), f"Where published_at comes from: {', '.join(DATE_SOURCES)}. "
       "A WARC capture time is never a publication date (see fetched_at)."),
    _f("fetched_at", _TS, "When the page was fetched, UTC: the WARC record's WARC-Date, or the manifest's or "
       "JSONL record's fetched_at; null otherwise (a file's modification time is not a fetch time)."),
    _f("size_bytes", pa.int64(), "Size of the raw content in bytes."),
    _f("status", pa.string(), "ok, quarantined (bad input, see error) or skipped (not a page).", False),
    _f("error", pa.string(), "Why the document was quarantined or skipped."),
    _f("warning", pa.string(), "Non-fatal remark on reading the document (such as a guessed encoding)."),
)

INGESTED = _schema(*_DOCUMENT_FIELDS, _f("content", pa.large_string(), "Decoded page text or HTML."))

BLOCKS = _schema(
    _DOC_ID,
    _f("block_index", pa.int32(), "Position of the block in the document, from 0.", False),
    _f("text", pa.string(), "Visible text of the block.", False),
    _f("kept", pa.bool_(), "True when the block is article text.", False),
    _f("reason", pa.string(), f"Why a removed block was removed: {', '.join(REMOVAL_REASONS)}."),
    _f("rule", pa.string(), "The rule or model that decided."),
)

REMOVED = _schema(*(f for f in BLOCKS if f.name != "kept"))

PARAGRAPHS = _schema(
    _DOC_ID,
    _PARA_INDEX,
    _f("text", pa.string(), "Paragraph text, exactly as in the stripped text.", False),
    _f("char_start", pa.int32(), "Offset of the paragraph in the document's stripped text.", False),
    _f("char_end", pa.int32(), "End offset (exclusive) in the stripped text.", False),
    _f("word_count", pa.int32(), "Number of words.", False),
    _f("text_hash", pa.string(), "Hash of the normalized text (case, quotes and spacing folded).", False),
)

CANDIDATES = _schema(
    _DOC_ID,
    _PARA_INDEX,
    _f("cand_doc_id", pa.string(), "Document of the candidate source paragraph.", False),
    _f("cand_para_index", pa.int32(), "Candidate source paragraph.", False),
    _f("jaccard", pa.float32(), "Word-shingle Jaccard similarity (exact)."),
    _f("cosine", pa.float32(), "Cosine similarity of the sentence embeddings."),
    _f("via", pa.string(), "Which retrieval found the pair: minhash, embedding, both, or alignment (full alignment of linked documents).", False),
)

PROVENANCE = _schema(
    _DOC_ID,
    _PARA_INDEX,
    _f("paragraph_id", pa.string(), "'<doc_id>:<para_index>'.", False),
    _f("text", pa.string(), "Paragraph text.", False),
    _f("char_start", pa.int32(), "Offset of the paragraph in the document's stripped text.", False),
    _f("char_end", pa.int32(), "End offset (exclusive) in the stripped text.", False),
    _f("word_count", pa.int32(), "Number of words.", False),
    _f("text_hash", pa.string(), "Hash of the normalized text.", False),
    _f("label", pa.dictionary(pa.int8(), pa.string()), "original, copied or ai_paraphrased.", False),
    _f("source_doc_id", pa.string(), "Root source document (the original, not a copy of a copy)."),
    _f("source_para_index", pa.int32(), "Root source paragraph."),
    _f("direct_doc_id", pa.string(), "Document this paragraph was taken from directly (may itself be a copy)."),
    _f("direct_para_index", pa.int32(), "Paragraph this one was taken from directly."),
    _f("lexical_similarity", pa.float32(), "Token-sequence similarity to the direct source, 0..1."),
    _f("containment", pa.float32(), "Share of this paragraph's word shingles found in the direct source."),
    _f("shared_ngrams", pa.int32(), "Word shingles shared with the direct source."),
    _f("semantic_similarity", pa.float32(), "Embedding cosine to the direct source."),
    _f("span_start", pa.int32(), "Longest run of words shared with the direct source: start offset in this paragraph's text."),
    _f("span_end", pa.int32(), "End offset (exclusive) of that run in this paragraph's text."),
    _f("source_span_start", pa.int32(), "Start offset of the same run in the direct source paragraph's text."),
    _f("source_span_end", pa.int32(), "End offset (exclusive) of the same run in the direct source paragraph's text."),
    _f("confidence", pa.float32(), "Probability that the label is right, 0..1."),
    _f("method", pa.string(), "What decided: lexical (copy), semantic or doc_alignment (rewrite), earliest_occurrence or no_match (original).", False),
)

DOCUMENTS = _schema(
    *_DOCUMENT_FIELDS,
    _f("n_paragraphs", pa.int32(), "Kept paragraphs."),
    _f("n_removed", pa.int32(), "Removed blocks."),
    _f("share_original", pa.float32(), "Share of kept paragraphs labelled original."),
    _f("share_copied", pa.float32(), "Share of kept paragraphs labelled copied."),
    _f("share_ai_paraphrased", pa.float32(), "Share of kept paragraphs labelled ai_paraphrased."),
    _f("derived_from", pa.list_(pa.string()), "Root source documents of its copied or rewritten paragraphs."),
)


def to_table(frame: pd.DataFrame | list[dict], schema: pa.Schema) -> pa.Table:
    """Build a table with exactly ``schema``'s columns and types (missing nullable columns become nulls)."""
    if isinstance(frame, list):
        frame = pd.DataFrame(frame)
    arrays = []
    for field in schema:
        if field.name in frame.columns:
            values = frame[field.name]
            arrays.append(pa.array(_as_objects(values), type=_storage_type(field.type), from_pandas=True))
        else:
            arrays.append(pa.nulls(len(frame), type=_storage_type(field.type)))
    table = pa.Table.from_arrays(arrays, schema=_storage_schema(schema))
    return table.cast(schema)


def _as_objects(values: pd.Series) -> list:
    return [None if _is_missing(v) else v for v in values.tolist()]


def _is_missing(value) -> bool:
    if isinstance(value, (list, tuple, dict)):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _storage_type(type_: pa.DataType) -> pa.DataType:
    return type_.value_type if pa.types.is_dictionary(type_) else type_


def _storage_schema(schema: pa.Schema) -> pa.Schema:
    fields = [f.with_type(_storage_type(f.type)) for f in schema]
    return pa.schema(fields, metadata=schema.metadata)


def describe(schema: pa.Schema) -> list[tuple[str, str, str]]:
    """(column, type, description) rows, for documentation and the CLI."""
    return [(f.name, str(f.type), (f.metadata or {}).get(b"description", b"").decode()) for f in schema]
