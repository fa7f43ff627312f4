"""The versioned schema: docs/schema.md is generated from pipeline/schema.py, and MAJOR.MINOR follows the rule
(adding a column is minor; renaming, removing or retyping one is major)."""
from __future__ import annotations

import re
from pathlib import Path

import pyarrow.parquet as pq

from pipeline import schema

DOC = Path(__file__).resolve().parents[1] / "docs" / "schema.md"


def documented(text: str) -> tuple[str, dict[str, dict[str, str]]]:
    """The schema version and the handoff tables' columns (table -> column -> type) that a schema.md states."""
    version = re.search(r"^schema_version: (\d+\.\d+)$", text, re.M).group(1)
    tables: dict[str, dict[str, str]] = {}
    current = None
    for line in text.splitlines():
        heading = re.match(r"^## (\w+)/$", line)
        if heading or line.startswith("## "):
            current = heading.group(1) if heading else None
            continue
        row = re.match(r"^\| `(\w+)` \| ([^|]+) \|", line)
        if row and current:
            tables.setdefault(current, {})[row.group(1)] = row.group(2).strip()
    return version, tables


def test_schema_md_is_the_schema_module_and_the_version_follows_the_rule():
    text = DOC.read_text(encoding="utf-8")
    if text == schema.markdown():
        return
    version, before = documented(text)
    _, after = documented(schema.markdown())
    needed = schema.required_version(version, before, after)
    assert schema.SCHEMA_VERSION == needed or needed == version, (
        f"the columns changed since docs/schema.md ({version}): schema_version must become {needed}")
    assert False, "docs/schema.md is out of date: regenerate it with `provenance schema > docs/schema.md`"


def test_documented_columns_parse_as_the_schema_module_has_them():
    version, tables = documented(schema.markdown())
    assert version == schema.SCHEMA_VERSION and re.fullmatch(r"\d+\.\d+", version)
    assert {name: list(columns) for name, columns in tables.items()} == {
        name: table.names for name, table in schema.HANDOFF.items()}


def test_adding_a_column_is_minor_renaming_removing_or_retyping_is_major():
    before = {"documents": {"doc_id": "string", "url": "string"}}
    assert schema.required_version("1.4", before, before) == "1.4"
    assert schema.required_version("1.4", before, {"documents": {**before["documents"], "host": "string"}}) == "1.5"
    assert schema.required_version("1.4", before, {"documents": {"doc_id": "string"}}) == "2.0"
    assert schema.required_version("1.4", before, {"documents": {"doc_id": "string", "address": "string"}}) == "2.0"
    assert schema.required_version("1.4", before, {"documents": {"doc_id": "string", "url": "int64"}}) == "2.0"
    assert schema.required_version("1.4", before, {**before, "history": {"doc_id": "string"}}) == "1.5"


def test_every_file_of_the_seeds_output_carries_the_schema_version(out):
    files = sorted(p for p in out.rglob("*.parquet") if "index" not in p.relative_to(out).parts)
    assert len(files) >= 3 + 5  # the three handoff tables and the five saved stage outputs
    for path in files:
        assert pq.read_metadata(path).metadata[b"schema_version"].decode() == schema.SCHEMA_VERSION, path
