"""Evaluation of the pipeline against labelled corpora and published gold data."""
from __future__ import annotations

from pathlib import Path

DOC_TITLE = "# Benchmarks\n"


GENERATED_END = "<!-- generated figures end here; notes below this line are kept when they are measured again -->"


def write_section(path: Path, section: str) -> None:
    """Put a ``## `` section into a Markdown file, replacing the section with the same heading if present.

    Each ``eval <kind>`` and bench owns one section, so running one kind leaves the others' figures in place.
    The generated part ends with ``GENERATED_END``: what was written by hand after that line (the context of
    the figures, what changed since the last run) is kept when the figures are measured again.
    """
    heading = section.splitlines()[0]
    text = Path(path).read_text(encoding="utf-8") if Path(path).exists() else DOC_TITLE
    start = text.find(heading)
    end = text.find("\n## ", start + len(heading)) if start >= 0 else -1
    old = "" if start < 0 else text[start:end + 1] if end >= 0 else text[start:]
    notes = old.split(GENERATED_END, 1)[1].strip("\n") if GENERATED_END in old else ""
    parts = [section.strip("\n"), GENERATED_END] + ([notes] if notes else [])
    before = text.rstrip("\n") if start < 0 else text[:start].rstrip("\n")
    after = text[end + 1:] if end >= 0 else ""
    text = "\n\n".join(p for p in [before, *parts, after.strip("\n")] if p) + "\n"
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text, encoding="utf-8")
