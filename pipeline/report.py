"""The run report: one self-contained HTML page per run, for a person to read before trusting the run.

It holds label counts and shares per host (inline SVG drawn here), which documents derive from which
(roots first), every copied and ai_paraphrased paragraph beside its direct source with the shared words
highlighted and the scores, what was stripped by reason with examples, and the quarantined documents.
Page text is untrusted: every value goes through ``html.escape``, the page has no script, and its
Content-Security-Policy forbids scripts and any fetch, so that nothing a crawled page carries can run or
call out when the report is opened.
"""
from __future__ import annotations

import difflib
import html
import os
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from pipeline import state
from pipeline.load import load
from pipeline.schema import LABELS

COLORS = {"original": "#4c78a8", "copied": "#e45756", "ai_paraphrased": "#f58518"}
MIN_SHARED_WORDS = 3
"""Shortest run of words, common to a paragraph and its source, that the evidence view highlights."""
EXAMPLES_PER_REASON = 3
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_WORD = re.compile(r"\w+")
_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0; } td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; border: 1px solid #ddd; padding: .6em; margin: 1em 0; }
.pair h3 { grid-column: 1 / 3; margin: 0; font-size: 1em; }
.pair p { white-space: pre-wrap; margin: 0; } .scores { grid-column: 1 / 3; color: #555; }
mark { background: #fde68a; } mark.longest { background: #fca5a5; }
ul.lineage li { margin: .2em 0; } .muted { color: #777; } blockquote { margin: .3em 0 .3em 1em; color: #444; }
"""


def write_report(output: str | Path, run_id: str | None = None) -> Path:
    """Write ``<output>/reports/<run_id>.html`` for a committed run (the latest by default); returns its path."""
    output = Path(output)
    runs = state.committed_run_ids(output)
    if not runs:
        raise FileNotFoundError(f"no committed run in {output}: run the pipeline first")
    run_id = run_id or runs[-1]
    if run_id not in runs:
        raise ValueError(f"run {run_id!r} is not a committed run of {output} (committed: {', '.join(runs)})")
    manifest = next(m for m in state.manifests(output) if m["run_id"] == run_id)
    page = render(manifest, load(output, "documents"), load(output, "provenance", sources=True),
                  load(output, "removed"))
    path = output / "reports" / f"{run_id}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, path)
    return path


def render(manifest: dict, documents: pd.DataFrame, provenance: pd.DataFrame, removed: pd.DataFrame) -> str:
    """The report page of the run ``manifest`` names, from the loaded tables (all runs: sources may be older)."""
    run_id = manifest["run_id"]
    docs = documents[documents["run_id"] == run_id]
    prov = provenance[provenance["run_id"] == run_id]
    sections = [
        _summary(manifest, docs, prov, removed[removed["run_id"] == run_id]),
        _hosts(docs, prov),
        _lineage(docs, documents, prov),
        _evidence(prov, documents),
        _stripped(removed[removed["run_id"] == run_id], documents),
        _quarantined(docs),
    ]
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
            f"<title>provenance run {_e(run_id)}</title><style>{_STYLE}</style></head><body>\n"
            + "\n".join(sections) + "\n</body></html>\n")


def _e(value) -> str:
    """Escaped text of a value; empty for a missing one."""
    return "" if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)) else html.escape(str(value))


def _counts_table(title: str, key: str, counts: pd.Series) -> str:
    """A two-column table of counts; each cell carries ``data-count="<key>:<value>"`` so that tests read it."""
    rows = "".join(f'<tr><td>{_e(name)}</td><td class="n" data-count="{_e(key)}:{_e(name)}">{int(n)}</td></tr>'
                   for name, n in counts.items())
    return f"<table><tr><th>{_e(title)}</th><th>count</th></tr>{rows}</table>"


def _summary(manifest: dict, docs: pd.DataFrame, prov: pd.DataFrame, removed: pd.DataFrame) -> str:
    facts = [("run", manifest["run_id"]), ("status", manifest.get("status")), ("started", manifest.get("started_at")),
             ("ended", manifest.get("ended_at")), ("config hash", manifest.get("config_hash")),
             ("package version", manifest.get("package_version"))]
    rows = "".join(f"<tr><th>{_e(name)}</th><td>{_e(value)}</td></tr>" for name, value in facts)
    return (f"<h1>provenance run {_e(manifest['run_id'])}</h1><table>{rows}</table>"
            + _counts_table("documents by status", "status", docs["status"].value_counts(sort=False))
            + _counts_table("paragraphs by label", "label", prov["label"].value_counts(sort=False))
            + _counts_table("removed blocks by reason", "reason",
                            removed["reason"].value_counts(sort=False).loc[lambda c: c > 0]))


def _hosts(docs: pd.DataFrame, prov: pd.DataFrame) -> str:
    """Label counts and shares per host: two bar charts (paragraph counts, then shares) and the numbers."""
    hosts = docs.set_index("doc_id")["host"].astype("object").fillna("(no host)")
    counts = (prov.assign(host=prov["doc_id"].map(hosts)).groupby(["host", "label"], observed=False).size()
              .unstack("label").reindex(columns=list(LABELS), fill_value=0).fillna(0).astype(int))
    counts = counts[counts.sum(axis=1) > 0]
    if counts.empty:
        return "<h2>Labels per host</h2><p>No paragraphs in this run.</p>"
    header = "".join(f"<th>{_e(label)}</th><th>share</th>" for label in LABELS)
    rows = []
    for host, row in counts.iterrows():
        total = row.sum()
        cells = "".join(f'<td class="n" data-count="host:{_e(host)}:{label}">{row[label]}</td>'
                        f'<td class="n">{row[label] / total:.0%}</td>' for label in LABELS)
        rows.append(f"<tr><td>{_e(host)}</td>{cells}</tr>")
    return (f"<h2>Labels per host</h2><h3>Paragraphs per host, by label</h3>{_bars(counts, shares=False)}"
            f"<h3>Label shares per host</h3>{_bars(counts, shares=True)}"
            f"<table><tr><th>host</th>{header}</tr>{''.join(rows)}</table>")


def _bars(counts: pd.DataFrame, shares: bool) -> str:
    """An inline SVG: one bar per host split by label, as long as its paragraph count (the longest host fills
    the width) or, with ``shares``, all the same length so that the shares compare; with a legend."""
    left, width, row_height = 220, 560, 26
    height = row_height * (len(counts) + 1) + 10
    longest = counts.sum(axis=1).max()
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 120}" height="{height}" role="img" '
             f'aria-label="{"label shares" if shares else "paragraphs by label"} per host" font-size="12">']
    for i, (host, row) in enumerate(counts.iterrows()):
        y, x, total = 10 + i * row_height, float(left), row.sum()
        parts.append(f'<text x="{left - 8}" y="{y + 14}" text-anchor="end">{_e(host)}</text>')
        for label in LABELS:
            w = width * row[label] / (total if shares else longest)
            if w:
                parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_height - 6}" '
                             f'fill="{COLORS[label]}"><title>{_e(host)}: {label} {row[label]} '
                             f'({row[label] / total:.0%})</title></rect>')
            x += w
        parts.append(f'<text x="{(left + width if shares else x) + 6}" y="{y + 14}">{total} paragraphs</text>')
    y = 10 + len(counts) * row_height + 4
    for i, label in enumerate(LABELS):
        parts.append(f'<rect x="{left + i * 150}" y="{y}" width="12" height="12" fill="{COLORS[label]}"/>'
                     f'<text x="{left + i * 150 + 16}" y="{y + 11}">{label}</text>')
    return "".join(parts) + "</svg>"


def _doc_name(doc: pd.Series) -> str:
    host = f' <span class="muted">{_e(doc["host"])}</span>' if not pd.isna(doc["host"]) else ""
    return f"<code>{_e(doc['source_path'])}</code>{host}"


def _lineage(docs: pd.DataFrame, documents: pd.DataFrame, prov: pd.DataFrame) -> str:
    """Which documents derive from which, roots first: each root source (possibly of an earlier run) with the
    documents of this run that take paragraphs from it, and how many of each label."""
    by_id = documents.set_index("doc_id")
    derived: dict[str, list[str]] = {}
    for doc_id, roots in zip(docs["doc_id"], docs["derived_from"]):
        for root in roots if roots is not None else []:
            derived.setdefault(root, []).append(doc_id)
    taken = {d for children in derived.values() for d in children}
    roots = sorted(derived, key=lambda d: by_id.loc[d, "source_path"]) + sorted(
        (d for d in docs["doc_id"] if d not in derived and d not in taken and by_id.loc[d, "status"] == "ok"),
        key=lambda d: by_id.loc[d, "source_path"])
    labels = prov.groupby(["doc_id", "label"], observed=False).size()
    items = []
    for root in roots:
        children = "".join(
            f'<li data-doc="{_e(child)}">{_doc_name(by_id.loc[child])}: '
            + ", ".join(f"{labels.get((child, label), 0)} {label}" for label in LABELS if label != "original")
            + "</li>" for child in sorted(derived.get(root, []), key=lambda d: by_id.loc[d, "source_path"]))
        inner = f"<ul>{children}</ul>" if children else ' <span class="muted">(nothing derives from it)</span>'
        items.append(f'<li data-doc="{_e(root)}">{_doc_name(by_id.loc[root])}{inner}</li>')
    return ("<h2>Lineage</h2><p>Root sources first; under each, the documents whose paragraphs it is the root "
            f'source of.</p><ul class="lineage">{"".join(items)}</ul>')


def _evidence(prov: pd.DataFrame, documents: pd.DataFrame) -> str:
    """Every copied and ai_paraphrased paragraph beside its direct source, shared words highlighted."""
    paths = documents.set_index("doc_id")["source_path"]
    taken = prov[prov["label"].isin(["copied", "ai_paraphrased"])].sort_values(["doc_id", "para_index"])
    pairs = [_pair(row, paths) for row in taken.itertuples(index=False)]
    return (f"<h2>Copied and rewritten paragraphs ({len(pairs)})</h2><p>Highlighted: runs of {MIN_SHARED_WORDS} or "
            "more words found on both sides; in red, the longest shared run the classifier measured.</p>"
            + ("".join(pairs) or "<p>None.</p>"))


def _pair(row, paths: pd.Series) -> str:
    text, source = row.text, row.direct_text if not pd.isna(row.direct_text) else ""
    mine, theirs = _shared_runs(text, source)
    longest_mine = _span(row.span_start, row.span_end)
    longest_theirs = _span(row.source_span_start, row.source_span_end)
    root = ("" if row.source_doc_id == row.direct_doc_id else
            f"; root source <code>{_e(row.root_source_path)}</code> paragraph {_e(row.source_para_index)}")
    scores = ", ".join(f"{name} {_fmt(getattr(row, name))}" for name in (
        "lexical_similarity", "containment", "shared_ngrams", "semantic_similarity", "confidence"))
    return (f'<div class="pair" data-label="{_e(row.label)}"><h3>{_e(row.label)} ({_e(row.method)}): '
            f"<code>{_e(paths.get(row.doc_id, row.doc_id))}</code> paragraph {_e(row.para_index)} from "
            f"<code>{_e(row.direct_source_path)}</code> paragraph {_e(row.direct_para_index)}{root}</h3>"
            f"<p>{_highlighted(text, mine, longest_mine)}</p><p>{_highlighted(source, theirs, longest_theirs)}</p>"
            f'<div class="scores">{scores}</div></div>')


def _fmt(value) -> str:
    if pd.isna(value):
        return "n/a"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _span(start, end) -> tuple[int, int] | None:
    return None if pd.isna(start) or pd.isna(end) else (int(start), int(end))


def _shared_runs(text: str, source: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Character ranges, on each side, of the runs of at least ``MIN_SHARED_WORDS`` words (case folded) that
    the two texts share in the same order."""
    a, b = list(_WORD.finditer(text)), list(_WORD.finditer(source))
    matcher = difflib.SequenceMatcher(None, [m.group().lower() for m in a], [m.group().lower() for m in b],
                                      autojunk=False)
    mine, theirs = [], []
    for i, j, size in matcher.get_matching_blocks():
        if size >= MIN_SHARED_WORDS:
            mine.append((a[i].start(), a[i + size - 1].end()))
            theirs.append((b[j].start(), b[j + size - 1].end()))
    return mine, theirs


def _highlighted(text: str, shared: Iterable[tuple[int, int]], longest: tuple[int, int] | None) -> str:
    """The text, escaped, with shared ranges in ``<mark>`` and the longest run in ``<mark class="longest">``."""
    level = [0] * len(text)
    for (start, end), value in [*((r, 1) for r in shared), *([(longest, 2)] if longest else [])]:
        for k in range(max(0, start), min(end, len(text))):
            level[k] = max(level[k], value)
    out, k = [], 0
    while k < len(text):
        end = k
        while end < len(text) and level[end] == level[k]:
            end += 1
        piece = html.escape(text[k:end])
        out.append({0: piece, 1: f"<mark>{piece}</mark>", 2: f'<mark class="longest">{piece}</mark>'}[level[k]])
        k = end
    return "".join(out)


def _stripped(removed: pd.DataFrame, documents: pd.DataFrame) -> str:
    """Removed blocks by reason: the count and a few examples each, with the rule that decided."""
    paths = documents.set_index("doc_id")["source_path"]
    parts = [f"<h2>Stripped ({len(removed)} blocks)</h2>"]
    for reason, group in removed.groupby("reason", observed=True):
        examples = "".join(
            f"<blockquote>{_e(_clip(row.text))} <span class=\"muted\">({_e(paths.get(row.doc_id, row.doc_id))}, "
            f"rule {_e(row.rule)})</span></blockquote>" for row in group.head(EXAMPLES_PER_REASON).itertuples())
        parts.append(f'<h3>{_e(reason)}: <span data-count="stripped:{_e(reason)}">{len(group)}</span></h3>{examples}')
    return "".join(parts) if len(removed) else parts[0] + "<p>Nothing was stripped.</p>"


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _quarantined(docs: pd.DataFrame) -> str:
    bad = docs[docs["status"] != "ok"].sort_values("source_path")
    rows = "".join(f'<tr data-doc="{_e(row.doc_id)}"><td><code>{_e(row.source_path)}</code></td>'
                   f"<td>{_e(row.status)}</td><td>{_e(row.error)}</td></tr>" for row in bad.itertuples())
    body = f"<table><tr><th>document</th><th>status</th><th>why</th></tr>{rows}</table>" if rows else "<p>None.</p>"
    return f"<h2>Quarantined and skipped documents ({len(bad)})</h2>{body}"
