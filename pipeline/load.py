"""``pipeline.load``: a handoff table as a pandas DataFrame with the documented dtypes, ready for questions.

Reading a table folder with ``pandas.read_parquet`` gives the current rows, but plain strings for labels
and float64 for nullable integers. ``load`` reads the same folder and returns the rows with categoricals
of fixed categories, nullable integers and UTC timestamps; ``sources=True`` puts each paragraph's root
and direct source beside it, so that no self-join is needed.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa

from pipeline.schema import CATEGORIES, HANDOFF, SOURCE_COLUMNS

_ORDER = {"documents": ["source_path"], "provenance": ["doc_id", "para_index"], "removed": ["doc_id", "block_index"],
          "provenance_history": ["doc_id", "para_index", "superseded_at"]}
"""Row order of ``load``: the files are bucketed by document, which is no order a person reads by."""

_NULLABLE_INTS = {pa.int8(): "Int8", pa.int16(): "Int16", pa.int32(): "Int32", pa.int64(): "Int64"}


def load(output: str | Path, table: str = "provenance", sources: bool = False) -> pd.DataFrame:
    """The current rows of ``output/<table>`` (documents, provenance, removed or provenance_history) with the schema's dtypes.

    ``sources=True`` (provenance only) adds the text, ``source_path`` and ``url`` of the root source
    (``root_*``) and of the direct source (``direct_*``) of every paragraph that has one.
    """
    if table not in HANDOFF:
        raise ValueError(f"unknown table {table!r}; tables are {', '.join(HANDOFF)}")
    if sources and table != "provenance":
        raise ValueError("sources=True applies to the provenance table only")
    output = Path(output)
    frame = _typed(_read(output, table), HANDOFF[table]).sort_values(_ORDER[table], kind="stable", ignore_index=True)
    return _with_sources(frame, load(output, "documents")) if sources else frame


def _read(output: Path, table: str) -> pd.DataFrame:
    folder = output / table
    if not folder.exists():
        raise FileNotFoundError(f"no table {table!r} under {output}: run the pipeline first")
    return pd.read_parquet(folder)


def _typed(frame: pd.DataFrame, schema: pa.Schema) -> pd.DataFrame:
    """Columns in schema order, each converted to its pandas dtype; a column added to the schema after the
    table was written (a minor version) reads as nulls."""
    return pd.DataFrame({field.name: _column(frame[field.name] if field.name in frame else
                                             pd.Series([None] * len(frame), index=frame.index, dtype=object), field)
                         for field in schema}, index=frame.index)


def _column(values: pd.Series, field: pa.Field) -> pd.Series:
    if field.name in CATEGORIES:
        return _categorical(values, field.name)
    if field.type in _NULLABLE_INTS:
        return values.astype(_NULLABLE_INTS[field.type])
    if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
        return values.astype("string")
    if pa.types.is_timestamp(field.type):
        return pd.to_datetime(values, utc=True)
    return values


def _categorical(values: pd.Series, name: str) -> pd.Series:
    """A categorical with the schema's fixed categories; a value outside them is an error, never a silent NaN."""
    categories = CATEGORIES[name]
    present = values.dropna().astype(str)
    unknown = sorted(set(present) - set(categories))
    if unknown:
        raise ValueError(f"column {name!r} holds values outside its categories {categories}: {unknown}")
    return pd.Series(pd.Categorical(values.astype("object").where(values.notna()), categories=categories),
                     index=values.index, name=name)


def _with_sources(provenance: pd.DataFrame, documents: pd.DataFrame) -> pd.DataFrame:
    """The provenance rows with the text, path and URL of their root and direct sources (null when original)."""
    texts = provenance[["doc_id", "para_index", "text"]]
    docs = documents[["doc_id", "source_path", "url"]]
    added = {}
    for prefix, doc_column, para_column in (("root", "source_doc_id", "source_para_index"),
                                            ("direct", "direct_doc_id", "direct_para_index")):
        keys = provenance[[doc_column, para_column]].set_axis(["doc_id", "para_index"], axis=1)
        found = keys.merge(texts, on=["doc_id", "para_index"], how="left").merge(docs, on="doc_id", how="left")
        added.update({f"{prefix}_text": found["text"], f"{prefix}_source_path": found["source_path"],
                      f"{prefix}_url": found["url"]})
    extra = pd.DataFrame({field.name: added[field.name].astype("string").to_numpy() for field in SOURCE_COLUMNS},
                         index=provenance.index)
    return pd.concat([provenance, extra], axis=1)
