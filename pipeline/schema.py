"""Every table the pipeline writes: columns, types and one-line descriptions, in one place.

Stage outputs (under ``<output>/stages/<stage>/``) and the three handoff tables (``documents``,
``provenance``, ``removed``) are built from these schemas and never from inference. ``docs/schema.md``
is generated from this module (``provenance schema > docs/schema.md``) and a test keeps them equal.
"""
from __future__ import annotations

import pandas as pd
import pyarrow as pa

SCHEMA_VERSION = "1.4"
"""``MAJOR.MINOR``, written into every Parquet file's metadata. Adding a column is a minor change (readers
keep working); renaming or removing one, or changing its type, is a major one (see ``required_version``)."""

LABELS = ("original", "copied", "ai_paraphrased")
STATUSES = ("ok", "quarantined", "skipped")
DATE_SOURCES = ("manifest", "jsonl", "page", "url", "none")
REMOVAL_REASONS = (
    "comments", "newsletter", "share", "navigation", "related", "cookie",
    "caption", "dateline", "byline", "ad", "title", "other",
)
METHODS = ("lexical", "semantic", "doc_alignment", "earliest_occurrence", "no_match")

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
    _f("status", pa.string(), f"{', '.join(STATUSES)}: quarantined is bad input (see error), skipped is not a page.", False),
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
    _f("covered", pa.float32(), "Share of this paragraph's words in sentences whose nearest sentence of the candidate's "
       "document is in the candidate paragraph (null when the two documents were not aligned in full)."),
    _f("cand_covered", pa.float32(), "The same share of the candidate paragraph's words, covered by this paragraph."),
)

_LINK_SCORES = (
    _f("ratio", pa.float64(), "Token-sequence similarity of the two paragraphs (null until classify scored the pair)."),
    _f("containment", pa.float64(), "Shared word shingles over the shingles of the shorter paragraph."),
    _f("shared", pa.int32(), "Word shingles the two paragraphs share."),
    _f("near_verbatim", pa.bool_(), "This paragraph reuses the candidate near verbatim."),
    _f("machine_edit", pa.float64(), "Probability that this paragraph's differences from the candidate are a "
       "language model's edit (0 unless near verbatim)."),
    _f("adds_attribution", pa.bool_(), "This paragraph has more verbs of speech than the candidate."),
    _f("cand_near_verbatim", pa.bool_(), "The candidate reuses this paragraph near verbatim."),
    _f("cand_machine_edit", pa.float64(), "The same probability, the candidate's differences from this paragraph."),
    _f("cand_adds_attribution", pa.bool_(), "The candidate has more verbs of speech than this paragraph."),
)

SCORED = _schema(*CANDIDATES, *_LINK_SCORES)
"""Candidate pairs with classify's scores of each, both ways round: stored, so that a later run that reads
a pair as context need not score it again."""

PROVENANCE = _schema(
    _DOC_ID,
    _PARA_INDEX,
    _f("paragraph_id", pa.string(), "'<doc_id>:<para_index>'.", False),
    _f("text", pa.string(), "Paragraph text.", False),
    _f("char_start", pa.int32(), "Offset of the paragraph in the document's stripped text.", False),
    _f("char_end", pa.int32(), "End offset (exclusive) in the stripped text.", False),
    _f("word_count", pa.int32(), "Number of words.", False),
    _f("text_hash", pa.string(), "Hash of the normalized text.", False),
    _f("label", pa.dictionary(pa.int8(), pa.string()), "How the paragraph relates to its root source: original, copied (every step from the root a copy) or ai_paraphrased (a model's rewrite of the root, also when copied from that rewrite).", False),
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
    _f("contributors", pa.list_(pa.struct([pa.field("doc_id", pa.string()), pa.field("para_index", pa.int32()),
                                           pa.field("share", pa.float32())])),
       "Every direct source paragraph in the direct source's document (several when paragraphs were merged or split), "
       "largest first, with the share of this paragraph's words whose sentences come from it (null when the two "
       "documents were not aligned sentence by sentence); empty for an original."),
)

DOCUMENTS = _schema(
    *_DOCUMENT_FIELDS,
    _f("host", pa.string(), "Lower-case host of url, without a leading 'www.'."),
    _f("title", pa.string(), "The page's headline (its <h1> or <title>), kept as metadata: its block is in removed "
       "with the reason 'title', not a paragraph."),
    _f("chars_kept", pa.int64(), "Characters of the page's text kept as article text."),
    _f("chars_removed", pa.int64(), "Characters of the page's text removed as boilerplate."),
    _f("n_paragraphs", pa.int32(), "Kept paragraphs."),
    _f("n_removed", pa.int32(), "Removed blocks."),
    _f("share_original", pa.float32(), "Share of kept paragraphs labelled original."),
    _f("share_copied", pa.float32(), "Share of kept paragraphs labelled copied."),
    _f("share_ai_paraphrased", pa.float32(), "Share of kept paragraphs labelled ai_paraphrased."),
    _f("derived_from", pa.list_(pa.string()), "Root source documents of its copied or rewritten paragraphs."),
)

_RUN_ID = _f("run_id", pa.string(), "The run that wrote this row; for a revised row, the run that revised it.", False)


def _stored(schema: pa.Schema, *extra: pa.Field, run_id: pa.Field = _RUN_ID) -> pa.Schema:
    """A handoff table as kept in the output folder: its rows carry the run that wrote them."""
    return _schema(*schema, run_id, *extra)


PROVENANCE_HISTORY = _stored(
    PROVENANCE,
    _f("superseded_by_run", pa.string(), "The run whose new documents revised this row.", False),
    _f("superseded_at", _TS, "When that run committed the revision, UTC.", False),
    _f("revision_reason", pa.string(), "What changed: the old and new label, root and direct source.", False),
)
"""Rows of ``provenance`` that a later run revised, so that what was said on an earlier date stays answerable."""

STORED = {
    "documents": _stored(DOCUMENTS, run_id=_f("run_id", pa.string(), "The run that ingested the document.", False)),
    "provenance": _stored(PROVENANCE),
    "removed": _stored(REMOVED),
    "provenance_history": PROVENANCE_HISTORY,
    "_links": _stored(SCORED),
}
"""Every table of an output folder, by name. ``_links`` (internal: no folder of its own at the top) keeps
the candidate pairs of every run, so that a later run can reclassify the documents its new ones touch."""


HANDOFF = {name: STORED[name] for name in ("documents", "provenance", "removed", "provenance_history")}
"""The tables a reader finds under the output folder, by folder name."""

SOURCE_COLUMNS = pa.schema([
    _f("root_text", pa.string(), "Text of the root source paragraph (source_doc_id, source_para_index)."),
    _f("root_source_path", pa.string(), "source_path of the root source document."),
    _f("root_url", pa.string(), "url of the root source document."),
    _f("direct_text", pa.string(), "Text of the direct source paragraph (direct_doc_id, direct_para_index)."),
    _f("direct_source_path", pa.string(), "source_path of the direct source document."),
    _f("direct_url", pa.string(), "url of the direct source document."),
])
"""Columns ``pipeline.load(output, "provenance", sources=True)`` adds, so that a paragraph sits next to its sources."""

CATEGORIES = {"label": LABELS, "status": STATUSES, "reason": REMOVAL_REASONS, "method": METHODS}
"""Columns that ``pipeline.load`` returns as pandas categoricals, with these fixed categories."""


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


def table_markdown(name: str) -> str:
    """One handoff table as a Markdown section: one row per column, with its type and description."""
    rows = "\n".join(f"| `{column}` | {type_} | {text} |" for column, type_, text in describe(HANDOFF[name]))
    return f"## {name}/\n\n| column | type | description |\n|---|---|---|\n{rows}\n"


def markdown() -> str:
    """Every handoff table and the columns ``pipeline.load`` adds, with the schema version: ``docs/schema.md``."""
    added = "\n".join(f"| `{column}` | {type_} | {text} |" for column, type_, text in describe(SOURCE_COLUMNS))
    return "\n".join([
        f"# Output tables\n\nschema_version: {SCHEMA_VERSION}\n\nGenerated from `pipeline/schema.py` by "
        "`provenance schema > docs/schema.md`; do not edit by hand. Adding a column bumps the minor version; "
        "renaming or removing one, or changing its type, bumps the major version. `pipeline.load` returns "
        f"{', '.join(f'`{c}`' for c in CATEGORIES)} as categoricals with fixed categories.\n",
        *(table_markdown(name) for name in HANDOFF),
        "## provenance/ with `pipeline.load(output, \"provenance\", sources=True)`\n\nThe provenance columns "
        f"and these:\n\n| column | type | description |\n|---|---|---|\n{added}\n",
    ])


def required_version(version: str, before: dict[str, dict[str, str]], after: dict[str, dict[str, str]]) -> str:
    """The lowest schema version allowed after a change from ``before`` to ``after`` (table -> column -> type):
    a removed, renamed or retyped column needs the next major version, an added column the next minor."""
    major, minor = (int(part) for part in version.split("."))
    lost = any(column not in after.get(table, {}) or after[table][column] != type_
               for table, columns in before.items() for column, type_ in columns.items())
    if lost:
        return f"{major + 1}.0"
    gained = any(column not in before.get(table, {}) for table, columns in after.items() for column in columns)
    return f"{major}.{minor + 1}" if gained else version
