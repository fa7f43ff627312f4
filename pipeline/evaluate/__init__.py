"""Evaluation of the pipeline against labelled corpora and published gold data."""
from __future__ import annotations

from pathlib import Path

DOC_TITLE = "# Benchmarks\n"


def write_section(path: Path, section: str) -> None:
    """Put a ``## `` section into a Markdown file, replacing the section with the same heading if present.

    Each ``eval <kind>`` owns one section, so running one kind leaves the others' figures in place.
    """
    heading = section.splitlines()[0]
    text = Path(path).read_text(encoding="utf-8") if Path(path).exists() else DOC_TITLE
    start = text.find(heading)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + section + (text[end + 1 :] if end >= 0 else "")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text, encoding="utf-8")
