"""Stage 5, classify: every kept paragraph gets a label, its root source and the evidence (a global stage).

1. Each candidate pair is scored: token-sequence similarity and shingle containment (lexical), cosine
   (semantic). A near-verbatim pair is a *copy* link when its edit has a human's shape (one or two local
   changes), else rewrite evidence (a machine's minimal-change polish, see ``pipeline.edits``).
2. Documents linked by pairs are put in one deterministic order: the earlier ``published_at`` first when
   both are known; otherwise the document that is less covered by the other and whose shared paragraphs
   read less machine-like, sit closer to third versions of them and are not the ones adding attribution
   comes first (a copier's text sits inside its source, a rewrite carries style markers, independent
   derivatives drift apart from each other more than from their source, a rewrite link is refused to a
   paragraph that adds "said"); verbatim copies that cover alike go to the document more others draw on.
   Pairs with a document of unknown date are then ordered again, each document also placed by where that
   first order puts its other partners (a page assembled from others comes after them, a source before its
   derivatives).
3. Walking documents in that order, a paragraph takes its best link to an earlier document. A rewrite
   link counts only when its cosine is high on its own, or when the whole document follows that source
   paragraph by paragraph (an independent report of the same event shares facts, not structure, and one
   retold in the same order states facts of its own in several paragraphs), or, for the
   paragraph of a one-paragraph document, when its sentences take the source paragraph's one after the other
   with their content words (a same-topic paragraph says its own things in its own order) or it repeats a
   tenth of the source paragraph's words in runs of several words (a model's answer around the text), and
   never when the paragraph adds attribution its source lacks (a model keeps or drops "said") or names
   another day of the week (a model keeps the day it reports); a page that retells its source's paragraphs
   with attribution added is a report of the same event, not a rewrite.
   The source pointer is resolved to the root original through the earlier paragraph's own source; an
   original of the paragraph's own publication day is its root only when no earlier or undated one competes.
   Versions of one day that made one of the same edits of an earlier paragraph relate to it alike: a
   rewrite of it when the edit of one of them reads as a model's, whichever the order took first.
"""
from __future__ import annotations

import bisect
import functools
import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz.distance import Indel

from pipeline.boilerplate.language import page_language, stoplist
from pipeline.config import EVIDENCE, Calibration, Config
from pipeline.edits import (edit_shape, facts, kept_share, machine_edit_probability, proper_names, share_an_edit,
                            spelling_variants)
from pipeline.schema import PROVENANCE, SCORED, to_table
from pipeline.style import attributions, machine_style, style_counts, style_of, weekdays
from pipeline.text import longest_shared_run, sentences, shared_run_share, shingles, words

Key = tuple[str, int]
_SPAN_COLUMNS = ("span_start", "span_end", "source_span_start", "source_span_end")
_ROUNDING = 1e-4  # shares of words stored as float32


@dataclass(frozen=True)
class Link:
    """Evidence that paragraph ``key`` may derive from paragraph ``source``."""

    key: Key
    source: Key
    ratio: float
    containment: float
    shared: int
    cosine: float | None
    near_verbatim: bool
    machine_edit: float
    """Probability that the differences are a language model's edit (0 unless ``near_verbatim``)."""
    adds_attribution: bool
    """The paragraph has more verbs of speech ("said") than ``source``: a reporter's retelling, not a rewrite."""
    covered: float | None = None
    """Share of the paragraph's words in sentences whose nearest sentence of ``source``'s document is in
    ``source`` (None when the two documents were not aligned sentence by sentence)."""
    copier_page: bool = False
    """The two documents also share a paragraph word for word (see ``_edited_by_a_copier``)."""

    @property
    def is_copy(self) -> bool:
        """Near-verbatim reuse with a human's kind of edit, or on a page that copies its source elsewhere."""
        return self.near_verbatim and (self.machine_edit < 0.5 or self.copier_page)

    @property
    def semantic(self) -> float:
        return self.cosine if self.cosine is not None else 0.0


@dataclass(frozen=True)
class Decision:
    label: str
    link: Link | None
    root: Key | None
    method: str
    confidence: float
    contributors: tuple[tuple[Key, float | None], ...] = ()
    """Every direct source paragraph and the share of this paragraph's words it accounts for."""
    evidence: dict[str, float] | None = None
    """The features ``confidence`` was calibrated on (``EVIDENCE``); None for a published decision."""


def classify(paragraphs: pa.Table, candidates: pa.Table, documents: pa.Table, cfg: Config,
             history: pa.Table | None = None) -> pa.Table:
    """The provenance table: one row per paragraph, in (doc_id, para_index) order.

    ``history`` holds published provenance rows of earlier runs: their labels and roots stand as
    published, they serve as sources, and they are not part of the output.
    """
    return to_table(provenance_rows(paragraphs, candidates, documents, cfg, history), PROVENANCE)


def provenance_rows(paragraphs: pa.Table, candidates: pa.Table, documents: pa.Table, cfg: Config,
                    history: pa.Table | None = None) -> pd.DataFrame:
    """``classify``'s rows, each also with the ``evidence`` its confidence was calibrated on (a dict the
    table leaves out), so that a calibration can be refitted on a labelled run."""
    paras = paragraphs.to_pandas().sort_values(["doc_id", "para_index"]).reset_index(drop=True)
    links = _edited_by_a_copier(links_of(scored_pairs(paragraphs, candidates, cfg)), _long_paragraphs(paras, cfg))
    text_of = paragraph_texts(paras)
    dates = _dates(documents.to_pandas())
    order = document_order(paras, links, dates, cfg, text_of)
    published = _published_decisions(history)
    decisions = decide(paras, links, order, cfg, published, dates, text_of)
    rows = []
    fresh = [key not in published for key in text_of]  # text_of is in the frame's order
    for para in paras[fresh].to_dict("records"):
        key = (para["doc_id"], int(para["para_index"]))
        decision = decisions[key]
        link = decision.link
        span = longest_shared_run(para["text"], text_of[link.source]) if link else None
        rows.append({
            **para,
            **dict(zip(_SPAN_COLUMNS, span or (None,) * 4)),
            "paragraph_id": f"{key[0]}:{key[1]}",
            "label": decision.label,
            "source_doc_id": decision.root[0] if decision.root else None,
            "source_para_index": decision.root[1] if decision.root else None,
            "direct_doc_id": link.source[0] if link else None,
            "direct_para_index": link.source[1] if link else None,
            "lexical_similarity": link.ratio if link else None,
            "containment": link.containment if link else None,
            "shared_ngrams": link.shared if link else None,
            "semantic_similarity": link.cosine if link else None,
            "confidence": decision.confidence,
            "method": decision.method,
            "contributors": [{"doc_id": k[0], "para_index": k[1], "share": share} for k, share in decision.contributors],
            "evidence": decision.evidence,
        })
    return pd.DataFrame(rows)


def paragraph_texts(paras: pd.DataFrame) -> dict[Key, str]:
    """Text by (doc_id, para_index), in the frame's row order."""
    return dict(zip(zip(paras["doc_id"].tolist(), paras["para_index"].tolist()), paras["text"].tolist()))


def score_links(paras: pd.DataFrame, candidates: pd.DataFrame, cfg: Config) -> dict[Key, list[Link]]:
    """Scored links from each paragraph to its candidates (``scored_pairs``, then ``links_of``)."""
    table = pa.Table.from_pandas(paras[["doc_id", "para_index", "text"]], preserve_index=False)
    return links_of(scored_pairs(table, pa.Table.from_pandas(candidates, preserve_index=False), cfg))


def scored_pairs(paragraphs: pa.Table, pairs: pa.Table, cfg: Config) -> pa.Table:
    """``pairs`` (candidate rows, both directions) with classify's scores of each (the ``SCORED`` columns).

    A row that carries its scores already (stored by the run that first scored the pair) keeps them: a run
    scores only its new pairs, not the neighbours' pairs it reads as context. The others are scored here,
    once per pair and both ways round (token-sequence similarity and shared shingles do not depend on the
    direction; near-verbatim reuse, a machine's edit and added attribution do), from the texts of
    ``paragraphs``; a row whose paragraph is not there stays unscored, and is no link.
    """
    table = as_scored(pairs)
    todo = np.flatnonzero(table.column("ratio").is_null().to_numpy(zero_copy_only=False))
    if not len(todo):
        return table
    rows = table.take(todo)
    keys = list(zip(rows.column("doc_id").to_pylist(), rows.column("para_index").to_pylist()))
    sources = list(zip(rows.column("cand_doc_id").to_pylist(), rows.column("cand_para_index").to_pylist()))
    involved = set(keys) | set(sources)
    texts = {k: t for k, t in zip(zip(paragraphs.column("doc_id").to_pylist(), paragraphs.column("para_index").to_pylist()),
                                  paragraphs.column("text").to_pylist()) if k in involved}
    scores = _pair_scores(texts, {tuple(sorted(pair)) for pair in zip(keys, sources)}, paragraphs, cfg)
    columns = {name: table.column(name).to_pylist() for name in _SCORE_NAMES}
    for at, key, source in zip(todo.tolist(), keys, sources):
        pair = (key, source) if key <= source else (source, key)
        if pair not in scores:
            continue
        ratio, shared, containment, first, second = scores[pair]
        mine, theirs = (first, second) if pair[0] == key else (second, first)
        for name, value in zip(_SCORE_NAMES, (ratio, containment, shared, *mine, *theirs)):
            columns[name][at] = value
    for name, values in columns.items():
        table = table.set_column(table.schema.get_field_index(name), SCORED.field(name),
                                 pa.array(values, SCORED.field(name).type))
    return table


_SCORE_NAMES = ("ratio", "containment", "shared", "near_verbatim", "machine_edit", "adds_attribution",
                "cand_near_verbatim", "cand_machine_edit", "cand_adds_attribution")


def as_scored(pairs: pa.Table) -> pa.Table:
    """Candidate rows in the ``SCORED`` columns, those they lack (scores, or columns of an older table) null."""
    missing = [field.with_nullable(True) for field in SCORED if field.name not in pairs.column_names]
    for field in missing:
        pairs = pairs.append_column(field, pa.nulls(pairs.num_rows, field.type))
    schema = pa.schema([pairs.schema.field(f.name) if f.name in {m.name for m in missing} else f for f in SCORED])
    return pairs.select(SCORED.names).cast(schema)


def _pair_scores(texts: dict[Key, str], pairs: set[tuple[Key, Key]], paragraphs: pa.Table, cfg: Config
                 ) -> dict[tuple[Key, Key], tuple]:
    """For each pair (a, b) of paragraphs whose texts are known: similarity ratio, shared shingles,
    containment, and (near verbatim, machine edit, adds attribution) of a from b and of b from a."""
    tokens = {k: words(t) for k, t in texts.items()}
    reported = {k: attributions(t) for k, t in texts.items()}
    grams = {k: shingles(t, cfg.match.shingle_size) for k, t in tokens.items()}
    docs = {k[0] for k in texts}
    paras = paragraphs.select(["doc_id", "para_index", "text"]).filter(
        pc.is_in(paragraphs.column("doc_id"), value_set=pa.array(sorted(docs), pa.string())))
    languages = document_stoplists(paras.sort_by([("doc_id", "ascending"), ("para_index", "ascending")]).to_pandas(),
                                   docs, cfg.strip.language_sample_words)
    stops = {k: languages[k[0]] for k in tokens}
    names = {k: proper_names(t, stops[k]) for k, t in texts.items()}
    content = {k: content_words(t, stops[k]) for k, t in tokens.items()}
    thresholds = cfg.classify

    def reuse(key: Key, source: Key, ratio: float, containment: float) -> tuple[bool, float, bool]:
        near = ((ratio >= thresholds.copy_ratio or containment >= thresholds.copy_containment)
                and content_overlap(content[key], content[source]) >= thresholds.copy_min_content)
        if not near and ratio >= thresholds.copy_edited_ratio:
            near = (kept_share(tokens[key], tokens[source], stops[key], names[key] | names[source])
                    >= thresholds.copy_edited_kept
                    and content_overlap(content[key], content[source], spelled=True) >= thresholds.copy_min_content)
        machine = _machine_edit(tokens[key], tokens[source], stops[key], names[key] | names[source], cfg) if near else 0.0
        return near, machine, reported[key] > reported[source]

    out = {}
    for a, b in sorted(pairs):
        if a not in tokens or b not in tokens:
            continue
        shared = len(grams[a] & grams[b])
        ratio = Indel.normalized_similarity(tokens[a], tokens[b])
        containment = shared / max(1, min(len(grams[a]), len(grams[b])))
        out[(a, b)] = (ratio, shared, containment, reuse(a, b, ratio, containment), reuse(b, a, ratio, containment))
    return out


def links_of(scored: pa.Table) -> dict[Key, list[Link]]:
    """The scored rows as links from each paragraph to its candidates (unscored rows are none)."""
    columns = scored.select(["doc_id", "para_index", "cand_doc_id", "cand_para_index", "ratio", "containment",
                             "shared", "cosine", "near_verbatim", "machine_edit", "adds_attribution", "covered"])
    out: dict[Key, list[Link]] = {}
    for doc, para, cand_doc, cand_para, ratio, containment, shared, cosine, near, machine, adds, covered in zip(
            *(column.to_pylist() for column in columns.columns)):
        if ratio is None:
            continue
        cosine = None if cosine is None or math.isnan(cosine) else cosine
        covered = None if covered is None or math.isnan(covered) else covered
        key = (doc, para)
        out.setdefault(key, []).append(Link(key, (cand_doc, cand_para), ratio, containment, shared, cosine, near,
                                            machine, adds, covered))
    # Sorted by source, so that ties between equally good sources resolve the same way whatever the row order.
    return {key: sorted(links, key=lambda l: l.source) for key, links in out.items()}


def _long_paragraphs(paras: pd.DataFrame, cfg: Config) -> set[Key]:
    """The paragraphs of at least ``short_paragraph_words`` words: not a heading or a list item, which two
    pages on one topic share by chance ("How long does it take to form an LLC?")."""
    long = paras[paras["word_count"] >= cfg.classify.short_paragraph_words]
    return set(zip(long["doc_id"].tolist(), long["para_index"].tolist()))


def _edited_by_a_copier(links: dict[Key, list[Link]], long: set[Key]) -> dict[Key, list[Link]]:
    """The links, with each one between two documents that also share one of the ``long`` paragraphs word for
    word marked ``copier_page``: a near-verbatim one is then a human's edit whatever the machine-edit model
    says (its probability stays the evidence that confidence is calibrated on).

    A language model asked to rewrite or polish a document changes every paragraph of it (no rewritten
    document of provenance-dev keeps one as it was); a copier takes some paragraphs as they are and touches
    up others. The machine-edit model sees one pair alone, and a copy editor's two-word restyle looks to it
    like a model's light polish: the paragraphs the same page took unchanged from the same source say which
    hand it was."""
    verbatim = {frozenset((l.key[0], l.source[0])) for items in links.values() for l in items
                if l.ratio >= 1.0 and l.key in long}
    return {key: [replace(l, copier_page=True) if frozenset((key[0], l.source[0])) in verbatim else l for l in items]
            for key, items in links.items()}


def content_words(tokens: list[str], stop: frozenset[str] | None = None) -> frozenset[str]:
    """The words of a paragraph that carry its content: not in ``stop``, the stoplist of its language."""
    stop = stoplist_of(tokens) if stop is None else stop
    return frozenset(t for t in tokens if t not in stop)


def document_stoplists(paras: pd.DataFrame, doc_ids: set[str], sample_words: int) -> dict[str, frozenset[str]]:
    """The stoplist of each document's language, guessed on its first ``sample_words`` words.

    A paragraph takes its document's language: a heading's eight words ("What to Pack for a Trip to
    Japan") can read as another language, whose stoplist leaves "what", "to" and "for" as content words
    that two unrelated headings share.
    """
    sample: dict[str, list[list[str]]] = {}
    counts: dict[str, int] = {}
    for doc, text in zip(paras["doc_id"].tolist(), paras["text"].tolist()):
        if doc in doc_ids and counts.get(doc, 0) < sample_words:
            tokens = words(text)
            sample.setdefault(doc, []).append(tokens)
            counts[doc] = counts.get(doc, 0) + len(tokens)
    return {doc: stoplist(page_language(blocks, sample_words)) for doc, blocks in sample.items()}


def stoplist_of(tokens: list[str]) -> frozenset[str]:
    """The stoplist of a paragraph's language: the words that do not carry its content."""
    return stoplist(page_language([tokens], len(tokens)))


def content_overlap(a: frozenset[str], b: frozenset[str], spelled: bool = False) -> float:
    """Share of the smaller set found in the other (1 when either is empty: nothing to contradict); with
    ``spelled``, a word found misspelled counts as found.

    Same-topic pages share structure and stock phrases ("What to look for in a ..."), which word
    sequences and shingles count; a copy or a rewrite also keeps the names, numbers and terms that say
    what the paragraph is about.
    """
    if not a or not b:
        return 1.0
    shared = len(a & b)
    if spelled:
        rest = b - a
        shared += sum(any(spelling_variants(w, v) for v in rest) for w in a - b)
    return min(1.0, shared / min(len(a), len(b)))


def _machine_edit(later: list[str], earlier: list[str], stop: frozenset[str], names: frozenset[str],
                  cfg: Config) -> float:
    c = cfg.classify
    return machine_edit_probability(edit_shape(later, earlier, stop, names), c.machine_edit_intercept,
                                    (c.machine_edit_rewordings, c.machine_edit_substitutions, c.machine_edit_additions))


def _may_rewrite(link: Link) -> bool:
    """A language model asked to rewrite keeps or drops attribution ("X said"); an added one is a
    reporter's own retelling of the same facts."""
    return not link.adds_attribution


def _another_day(link: Link, days: Callable[[Key], frozenset[str]]) -> bool:
    """Whether a link that is no near-verbatim copy joins two paragraphs that name different days of the
    week (each names one the other does not): two reports of one event written on different days ("announced
    Tuesday", "released its plan Wednesday"). A model asked to rewrite keeps the day it reports; a human
    copier may change it, so a near-verbatim copy stays one. On provenance-dev and its stress sets, each of the
    38 links at ``aligned_cosine`` or closer that this drops joins two paragraphs neither of which derives from
    the other (the leads of reports filed on different days)."""
    mine, theirs = days(link.key), days(link.source)
    return not link.near_verbatim and bool(mine - theirs) and bool(theirs - mine)


def _is_strong(link: Link, cfg: Config) -> bool:
    """A copy, or a rewrite close enough to count as evidence that one document follows another."""
    return link.is_copy or link.semantic >= cfg.classify.paraphrase_cosine


def document_order(paras: pd.DataFrame, links: dict[Key, list[Link]], dates: dict[str, pd.Timestamp], cfg: Config,
                   text: dict[Key, str]) -> dict[str, int]:
    """Position of each document in source-before-derivative order (deterministic, input-order free).

    The pairwise evidence gives a first order; the direction of each pair with an undated document then
    also weighs the role that order gives each document among its other partners (``_drawn_share``), and
    the order is taken again. Two documents of one date are left as they were: their other partners are
    mostly their common source and its other same-day versions, so the vote would only echo the first
    order among those siblings, which rests on evidence worth a few thousandths (on rewrite-pairs, llama-2
    right root 0.799 -> 0.769 with it). ``dates`` are the documents' (``_dates``), ``text`` the paragraphs'
    (``paragraph_texts``)."""
    sizes = _matchable_counts(paras, cfg)
    counts = functools.cache(lambda key: style_counts(text[key]))
    neighbours = _strong_neighbours(links, cfg)
    copies = {(key, link.source) for key, items in links.items() for link in items if link.is_copy}
    retold = _retold_links(links, cfg)
    linked = _linked_paragraphs(links, lambda link: _is_strong(link, cfg))
    partners = _strong_partners(linked)
    linked = _with_loose_pairs(linked, _linked_paragraphs(links, lambda link: link.semantic >= cfg.classify.aligned_cosine),
                               dates)
    dated: dict[tuple[str, str], float] = {}  # (earlier, later) -> strength
    scores: dict[tuple[str, str], float] = {}  # positive: a looks derived from b
    for a, b in sorted({tuple(sorted(pair)) for pair in linked}):
        share_a = len(linked.get((a, b), ())) / sizes[a]
        share_b = len(linked.get((b, a), ())) / sizes[b]
        if a in dates and b in dates and dates[a] != dates[b]:
            dated[(a, b) if dates[a] < dates[b] else (b, a)] = math.inf
            continue
        # Positive: a looks derived from b (more of a is covered by b, a reads more machine-like, b's
        # shared paragraphs sit between the other versions of them, only a's could be rewrites of b's).
        style_a = _shared_style(a, linked.get((a, b), ()), counts)
        style_b = _shared_style(b, linked.get((b, a), ()), counts)
        scores[(a, b)] = ((share_a - share_b) + cfg.classify.style_weight * (style_a - style_b)
                          - cfg.classify.centrality_weight * _centrality_margin(a, b, neighbours, copies)
                          + cfg.classify.attribution_weight * _attribution_margin(a, b, retold, linked))
    first = _topological_order(sorted(sizes), {**dated, **_directed(scores, partners, sizes)}, dates)
    roles = {(a, b): score + (cfg.classify.role_weight * (_drawn_share(a, b, first, partners)
                                                          - _drawn_share(b, a, first, partners))
                              if a not in dates or b not in dates else 0.0)
             for (a, b), score in scores.items()}
    return _topological_order(sorted(sizes), {**dated, **_directed(roles, partners, sizes)}, dates)


def _directed(scores: dict[tuple[str, str], float], partners: dict[str, set[str]], sizes: dict[str, int]
              ) -> dict[tuple[str, str], float]:
    """(earlier, later) -> strength of each pair's direction score (positive: the first document is derived)."""
    edges = {}
    for (a, b), score in scores.items():
        if score == 0:  # verbatim copies covering alike: the document more others draw on is the source
            score = len(partners.get(b, ())) - len(partners.get(a, ())) or sizes[b] - sizes[a] or (1 if a > b else -1)
        edges[(b, a) if score > 0 else (a, b)] = abs(score)
    return edges


def _drawn_share(doc: str, other: str, order: dict[str, int], partners: dict[str, set[str]]) -> float:
    """Share of ``doc``'s strongly linked documents, ``other`` left out, that ``order`` puts before it.

    A page assembled from other pages (a roundup rewrite, a copier's page) comes after the pages it draws
    on, and a source before the pages drawing on it, whichever of its paragraphs is in question: a source
    paragraph can read further from two rewrites of it than they read from each other (both fix what the
    source got wrong), yet the source's other paragraphs are drawn on by later pages, while the rewrite's come
    from earlier ones. On provenance-dev this vote changes the order of roundup rewrites and their sources
    only (root-source of the gpt-4 / llama-2 roundup rewrites 0.929 -> 1.000; every other label and root
    unchanged at weights 0.1 to 1, docs/benchmarks.md)."""
    others = partners.get(doc, set()) - {other}
    return sum(order[p] < order[doc] for p in others) / len(others) if others else 0.0


def _linked_paragraphs(links: dict[Key, list[Link]], counts) -> dict[tuple[str, str], set[int]]:
    """The paragraphs of each document with a link that ``counts`` to each other document, per (document of the
    paragraph, document of the source)."""
    linked: dict[tuple[str, str], set[int]] = {}
    for key, items in links.items():
        for link in items:
            if counts(link):
                linked.setdefault((key[0], link.source[0]), set()).add(key[1])
    return linked


def _with_loose_pairs(strong: dict[tuple[str, str], set[int]], aligned: dict[tuple[str, str], set[int]],
                      dates: dict) -> dict[tuple[str, str], set[int]]:
    """The strongly linked paragraphs of each document pair, and for pairs with no strong link, those linked
    at ``aligned_cosine``: a roundup rewrite may take one paragraph of a source in words far enough from it
    that no strong link joins the two, and without an order between them the undated source comes after
    every dated document it is not linked to, its rewrite's included. Such a pair is ordered by the same
    evidence (coverage, style; the centrality and attribution votes read strong links only)."""
    loose = {pair: paras for pair, paras in aligned.items()
             if pair not in strong and pair[::-1] not in strong and not (pair[0] in dates and pair[1] in dates)}
    return {**strong, **loose}


def _dates(documents: pd.DataFrame) -> dict[str, pd.Timestamp]:
    """Publication date of each document that has one."""
    return {r.doc_id: r.published_at for r in documents.itertuples() if not pd.isna(r.published_at)}


def _retold_links(links: dict[Key, list[Link]], cfg: Config) -> dict[tuple[str, str], int]:
    """Strong rewrite-grade links (not near verbatim) whose paragraph adds attribution to its source, per
    (document of the paragraph, document of the source)."""
    out: dict[tuple[str, str], int] = {}
    for key, items in links.items():
        for link in items:
            if _is_strong(link, cfg) and not link.near_verbatim and not _may_rewrite(link):
                out[(key[0], link.source[0])] = out.get((key[0], link.source[0]), 0) + 1
    return out


def _attribution_margin(a: str, b: str, retold: dict[tuple[str, str], int], linked: dict[tuple[str, str], set[int]]
                        ) -> float:
    """Share of the shared paragraphs that can be a rewrite only if a derives from b (b's version adds
    attribution to a's, which ``_may_rewrite`` refuses of a rewrite), less the share for the other way
    round (positive: a looks derived). An order against it leaves the strong link unusable, both
    paragraphs original. It stands or falls with ``_may_rewrite``: on provenance-dev, each of the 61
    document pairs of known direction it votes on, it votes right; independent reports of one event,
    whose links classify refuses either way, it may order either way."""
    shared = max(len(linked.get((a, b), ())), len(linked.get((b, a), ())), 1)
    return (retold.get((b, a), 0) - retold.get((a, b), 0)) / shared


def _strong_partners(linked: dict[tuple[str, str], set[int]]) -> dict[str, set[str]]:
    """Documents each document is strongly linked to."""
    out: dict[str, set[str]] = {}
    for doc, other in linked:
        out.setdefault(doc, set()).add(other)
    return out


def _strong_neighbours(links: dict[Key, list[Link]], cfg: Config) -> dict[str, dict[Key, dict[Key, float]]]:
    """Cosine of each paragraph's strong links, by linked paragraph, grouped by document."""
    out: dict[str, dict[Key, dict[Key, float]]] = {}
    for key, items in links.items():
        out.setdefault(key[0], {})[key] = {l.source: l.semantic for l in items if _is_strong(l, cfg)}
    return out


def _centrality_margin(a: str, b: str, neighbours: dict[str, dict[Key, dict[Key, float]]],
                       copies: set[tuple[Key, Key]]) -> float:
    """How much closer a's shared paragraphs are than b's to the third versions both are linked to
    (positive: a is the centre). Versions derived independently from one paragraph drift apart from
    each other more than from it, so the source sits between its derivatives.

    A paragraph and its copy (a pair of ``copies``) sit at the same place among the other versions: the
    margins of such a pair are the few words a copier changed, whichever way the copy went, so they
    count for nothing and a verbatim copy's direction goes to the tie-break (the document more others
    draw on)."""
    of_b = neighbours.get(b, {})
    margins = [near[z] - of_b[y][z]
               for x, near in neighbours.get(a, {}).items()
               for y in near if y in of_b and (x, y) not in copies and (y, x) not in copies
               for z in near.keys() & of_b[y].keys() if z[0] not in (a, b)]
    # fsum: exactly rounded whatever the order the links came in, so exact ties stay exact.
    return math.fsum(margins) / len(margins) if margins else 0.0


def _shared_style(doc: str, indexes, counts: Callable[[Key], tuple[int, float, int]]) -> float:
    """Machine style of the paragraphs a document shares with another: what the two versions differ in,
    untouched by page chrome or own paragraphs that only one of them has (from each paragraph's
    ``style_counts``: a paragraph shared with many documents is read once)."""
    return style_of([counts((doc, i)) for i in indexes])


def _topological_order(nodes: list[str], edges: dict[tuple[str, str], float], dates: dict) -> dict[str, int]:
    """Kahn's algorithm with a heap (earliest date, then id, first); a cycle is broken at the node whose
    incoming evidence is weakest, found in a second heap of (incoming evidence, id) that gets an entry each
    time a node's incoming evidence changes (an entry that no longer holds is skipped). Near-linear in
    documents and edges: a scan of every node per broken cycle took most of a 1% run's ordering."""
    incoming: dict[str, dict[str, float]] = {n: {} for n in nodes}
    outgoing: dict[str, list[str]] = {n: [] for n in nodes}
    for (earlier, later), weight in edges.items():
        incoming[later][earlier] = weight
        outgoing[earlier].append(later)
    never = pd.Timestamp.max.tz_localize("UTC")
    rank = {n: (dates.get(n, never), n) for n in nodes}
    ready = [rank[n] for n in nodes if not incoming[n]]
    heapq.heapify(ready)
    weakest = [(sum(incoming[n].values()), n) for n in nodes if incoming[n]]
    heapq.heapify(weakest)
    order: dict[str, int] = {}
    while len(order) < len(nodes):
        if not ready:
            stuck = _weakest_waiting(weakest, incoming, order)
            incoming[stuck].clear()
            heapq.heappush(ready, rank[stuck])
        chosen = heapq.heappop(ready)[1]
        if chosen in order:
            continue
        order[chosen] = len(order)
        for later in outgoing[chosen]:
            if later in order:
                continue
            incoming[later].pop(chosen, None)
            if incoming[later]:
                heapq.heappush(weakest, (sum(incoming[later].values()), later))
            else:
                heapq.heappush(ready, rank[later])
    return order


def _weakest_waiting(weakest: list[tuple[float, str]], incoming: dict[str, dict[str, float]], order: dict[str, int]
                     ) -> str:
    """The waiting node with the least incoming evidence (then the lowest id), popped from ``weakest``."""
    while True:
        evidence, node = heapq.heappop(weakest)
        if node not in order and incoming[node] and sum(incoming[node].values()) == evidence:
            return node


def _matchable_counts(paras: pd.DataFrame, cfg: Config) -> dict[str, int]:
    """Paragraphs per document long enough to be matched (at least 1, so shares are defined)."""
    long_enough = paras["word_count"] >= cfg.match.min_words
    counts = long_enough.groupby(paras["doc_id"]).sum()
    return {d: max(1, int(n)) for d, n in counts.items()}


def _published_decisions(history: pa.Table | None) -> dict[Key, Decision]:
    if history is None:
        return {}
    columns = history.select(["doc_id", "para_index", "label", "source_doc_id", "source_para_index", "confidence"])
    return {(doc, index): Decision(str(label), None, (root, root_index) if root is not None else None, "published",
                                   confidence)
            for doc, index, label, root, root_index, confidence in zip(*(c.to_pylist() for c in columns.columns))}


def decide(paras: pd.DataFrame, links: dict[Key, list[Link]], order: dict[str, int], cfg: Config,
           published: dict[Key, Decision], dates: dict[str, pd.Timestamp], text: dict[Key, str]
           ) -> dict[Key, Decision]:
    """Label and root source for every paragraph, walking documents in ``order``; ``published`` decisions stand;
    ``dates`` are the documents' publication dates (see ``_dated_roots``), ``text`` the paragraphs'."""
    sizes = _matchable_counts(paras, cfg)
    decisions: dict[Key, Decision] = dict(published)
    pending = {doc for doc, _ in text.keys() - decisions.keys()}  # the others' decisions stand
    word_counts: dict[str, list[tuple[int, int]]] = {}  # (para_index, word_count) by document, in order

    @functools.cache
    def days(key: Key) -> frozenset[str]:
        """The weekdays a paragraph names, read only for the paragraphs that a link of an undecided document
        joins: in a run that adds a few documents, most paragraphs are context whose decisions stand."""
        return weekdays(text[key]) if key in text else frozenset()

    members: dict[str, list[Key]] = {}
    for key in text:
        members.setdefault(key[0], []).append(key)

    @functools.cache
    def source_words(doc: str) -> frozenset[str]:
        return frozenset(w for key in members[doc] for w in words(text[key]))

    twins = _twin_rewrites(links, dates, text, pending)
    for doc, index, count in zip(paras["doc_id"].tolist(), paras["para_index"].tolist(), paras["word_count"].tolist()):
        if doc in pending:
            word_counts.setdefault(doc, []).append((index, count))
    for doc in sorted(word_counts, key=lambda d: order[d]):
        keys = [(doc, i) for i, _ in word_counts[doc]]
        machine_like = {k: machine_style(text[k]) > 0 for k in keys}
        earlier = {k: [l for l in links.get(k, []) if order[l.source[0]] < order[doc] and not _another_day(l, days)]
                   for k in keys}
        aligned = _aligned_sources(keys, earlier, sizes[doc], text, cfg)
        partners = {source_doc: _monotone_alignment(keys, earlier, source_doc, cfg) for source_doc in sorted(aligned)}
        if partners:
            stop = stoplist_of([w for k in keys for w in words(text[k])])
            reports = {source_doc for source_doc, pairs in partners.items()
                       if _reports_independently(pairs, earlier, text, source_words(source_doc), stop, cfg)}
            aligned -= reports
            partners = {source_doc: pairs for source_doc, pairs in partners.items() if source_doc not in reports}
        follows = {source_doc: _followed_paragraphs(keys, earlier, pairs, source_doc, cfg)
                   for source_doc, pairs in partners.items()}
        short = {(doc, i) for i, count in word_counts[doc] if count < cfg.classify.short_paragraph_words}
        longer = [k for k in keys if k not in short]
        for key in longer + [k for k in keys if k in short]:  # a short paragraph's sources are the longer ones'
            sources = _lending_documents(longer, decisions) if key in short and longer else None
            rewrites = _rewrite_links(key, earlier[key], partners, follows, machine_like[key], cfg)
            if sizes[doc] == 1:  # no paragraphs to follow a source by: its sentences or its reused wording may
                rewrites += _sentence_rewrites(earlier[key], text, cfg) + _reworded_around_runs(earlier[key], text, cfg)
            decisions[key] = _decide_one(key, earlier[key], rewrites, aligned, decisions, links.get(key, []), text,
                                         cfg, sources, dates, twins.get(key, ()))
    return decisions


def _reports_independently(pairs: dict[Key, Link], earlier: dict[Key, list[Link]], text: dict[Key, str],
                           source_words: frozenset[str], stop: frozenset[str], cfg: Config) -> bool:
    """Whether a document that follows a source (``pairs``: its alignment with it) is an independent report of
    the same event: ``rereport_min_paragraphs`` of its aligned paragraphs, none of them a near-verbatim
    version of an earlier paragraph, each state a name or number (``facts``; ``stop``, the document's
    stoplist) found nowhere in the source document (``source_words``).

    A person's paraphrase of a digest of briefs keeps the briefs' order one to one, each sentence close in
    meaning to its source and keeping half its words, as a model's rewrite does; what a model cannot do is
    state what its source never said: the agency behind a figure, the town, the year. A model does add a
    word of world knowledge here and there (a country, a decade): of the 455 document pairs followed on
    provenance-dev and its stress sets, 66 have one such paragraph, and the three with two are rewrites
    against a sibling rewrite of the same sources (which lacks a name the sources have), wrongly followed; the
    in-order human paraphrases taken for rewrites have two each (a margin of one paragraph). So the test
    is on the document: vetoing each paragraph with a fact of its own loses 17 true rewrites
    (docs/benchmarks.md). Near-verbatim paragraphs do not count: a copier changes names and numbers and adds
    a credit line ("Reuters"), and its copies are decided as such (counted, they cost 1 human-edited copy and
    9 roundup and chain rewrites of the stress sets). The document is then not taken to follow that source:
    its paragraphs derive from it only on evidence that stands alone (a copy, a link above
    ``standalone_cosine``). ``rereport_min_paragraphs`` is chosen by leave one group out on provenance-dev
    (``pipeline.evaluate.groups.CLASSIFY_GRID``): every fold picks 2, and no held-out group loses by it (the
    worst macro-F1 0.964 -> 0.973, the pooled ai false-positive rate 0.007 -> 0.005); at 2, a one-paragraph
    document (a rewrite-pairs abstract) is never held to it."""
    own = [key for key in pairs
           if not any(l.near_verbatim for l in earlier[key]) and facts(text[key], stop) - source_words]
    return len(own) >= cfg.classify.rereport_min_paragraphs


def _sentence_rewrites(links: list[Link], text: dict[Key, str], cfg: Config) -> list[Link]:
    """Rewrite evidence for the paragraph of a one-paragraph document: its links at ``aligned_cosine`` or
    closer, no near-verbatim reuse, that it follows sentence by sentence (``_follows_sentences``) and that keep
    ``standalone_min_ratio`` of the wording, as any rewrite found without document alignment must (on
    rewrite-pairs, a davinci rewrite follows another abstract on its topic sentence by sentence, keeping 0.15
    of its wording).

    A one-paragraph rewrite (an abstract, a brief) cannot show that it follows its source paragraph by
    paragraph, and a model asked to rewrite it loosely lands under ``paraphrase_cosine`` (llama-2 on
    rewrite-pairs, 0.66-0.78); a paragraph of another page on the same topic lands there too. The rewrite
    still takes the source's sentences one after the other, each keeping its content words; the other
    paragraph says its own things in its own order. A paragraph of one sentence (a human paraphrase of one
    news sentence) cannot show it. Weighting the words by their rarity in the run did no better on the
    corpora it was fitted on and would make a decision depend on which documents a run holds
    (docs/benchmarks.md)."""
    c = cfg.classify
    return [l for l in links if l.semantic >= c.aligned_cosine and l.ratio >= c.standalone_min_ratio
            and not l.near_verbatim and _may_rewrite(l) and _follows_sentences(text[l.key], text[l.source], cfg)]


def _reworded_around_runs(links: list[Link], text: dict[Key, str], cfg: Config) -> list[Link]:
    """Rewrite evidence for the paragraph of a one-paragraph document: its links, no near-verbatim reuse, into
    a paragraph whose words it repeats in runs of ``reuse_run_words`` or more for ``reuse_min_share`` of them.

    A model that answers around the text it was given (a list of suggestions quoting each phrase it would
    change, a question about a sentence it repeats, its rewrite wrapped in chatter) is neither near verbatim
    nor close in meaning or wording as a whole, and need not take the source's sentences in order; yet it
    repeats stretches of the source's wording. Pages on one topic share its terms and stock phrases a few
    words long ("a smartphone is a"), not a tenth of one paragraph's words in runs of four or more. Measured
    on the source's words, so chatter around the stretches does not dilute them. The run length and share
    were fitted with llama-2 held out (docs/benchmarks.md); a document of several paragraphs must follow its
    source instead.
    """
    c = cfg.classify
    return [l for l in links if not l.near_verbatim and _may_rewrite(l)
            and shared_run_share(words(text[l.source]), words(text[l.key]), c.reuse_run_words) >= c.reuse_min_share]


def _follows_sentences(paragraph: str, source: str, cfg: Config) -> bool:
    """Whether ``doc_min_links`` sentences of ``paragraph``, holding ``sentence_min_cover`` of its words, each
    share ``sentence_min_content`` of their content words with one sentence of ``source``, one after the other
    in ``source``'s order."""
    c = cfg.classify
    own = [words(s) for s in sentences(paragraph)]
    stop = stoplist_of([w for tokens in own for w in tokens])
    other = [content_words(words(s), stop) for s in sentences(source)]
    taken: list[tuple[int, int]] = []  # (source sentence, words of the sentence taken from it)
    for tokens in own:
        content = content_words(tokens, stop)
        found = [(content_overlap(content, o), -j) for j, o in enumerate(other) if content and o]
        share, at = max(found, default=(0.0, 0))
        if share >= c.sentence_min_content:
            taken.append((-at, len(tokens)))
    chain = _followed_one_to_one([j for j, _ in taken])
    kept = sum(taken[i][1] for i in chain)
    return len(chain) >= c.doc_min_links and kept >= c.sentence_min_cover * max(1, sum(map(len, own)))


def _followed_paragraphs(keys: list[Key], earlier: dict[Key, list[Link]], pairs: dict[Key, Link], source_doc: str,
                         cfg: Config) -> dict[Key, set[Key]]:
    """The paragraphs of ``source_doc`` each paragraph of this document follows: its alignment partner's, and
    those its sentences come from when it was merged or split."""
    return {key: {l.source for l in ([pairs[key]] if key in pairs else []) + _restructured(earlier[key], source_doc, cfg)}
            for key in keys}


def _contributors(links: list[Link], source_doc: str) -> list[Link]:
    """The links to ``source_doc`` whose paragraph holds the nearest sentence of some sentence of this one,
    the largest share first (then the lower source paragraph)."""
    found = [l for l in links if l.source[0] == source_doc and l.covered]
    return sorted(found, key=lambda l: (-l.covered, _source_index(l)))


def _restructured(links: list[Link], source_doc: str, cfg: Config) -> list[Link]:
    """The contributors in ``source_doc`` when, together, they account for ``sentence_min_cover`` of this
    paragraph's words (a merged, split or condensed rewrite of them), else none."""
    found = _contributors(links, source_doc)
    return found if sum(l.covered for l in found) >= cfg.classify.sentence_min_cover else []


def _lending_documents(longer: list[Key], decisions: dict[Key, Decision]) -> set[str]:
    """Documents that one of ``longer`` (the paragraphs of at least ``short_paragraph_words`` words of a
    document) was taken from, directly: a copy or a rewrite takes a heading or a list item with the text
    around it, while two pages on one topic share such lines by chance ("What to look for in a CRM"). A
    document of short lines only (a one-line post) has no text around them, so its lines are not held to it."""
    return {decisions[k].link.source[0] for k in longer if decisions[k].link is not None}


def _rewrite_score(link: Link, cfg: Config) -> float:
    return link.semantic + cfg.classify.source_lexical_weight * link.ratio


def _monotone_alignment(keys: list[Key], earlier: dict[Key, list[Link]], source_doc: str, cfg: Config) -> dict[Key, Link]:
    """Best order-keeping, one-to-one pairing of this document's paragraphs with ``source_doc``'s.

    Sequence alignment by dynamic programming over each paragraph's near-best links (within
    ``alignment_margin`` of its best); paragraphs on either side may stay unpaired. Order breaks the tie
    between source paragraphs that score alike, and a source paragraph that resembles everything (the
    article's thesis) cannot absorb the whole rewrite.
    """
    scores: dict[tuple[int, int], Link] = {}
    for i, key in enumerate(keys):
        near = [l for l in earlier[key]
                if l.source[0] == source_doc and l.semantic >= cfg.classify.aligned_cosine and _may_rewrite(l)]
        top = max((_rewrite_score(l, cfg) for l in near), default=0.0)
        for link in near:
            if _rewrite_score(link, cfg) >= top - cfg.classify.alignment_margin:
                scores[(i, link.source[1])] = link
    columns = sorted({j for _, j in scores})
    n, m = len(keys), len(columns)
    best = np.zeros((n + 1, m + 1))
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            link = scores.get((i - 1, columns[j - 1]))
            paired = best[i - 1, j - 1] + _rewrite_score(link, cfg) if link else -np.inf
            best[i, j] = max(best[i - 1, j], best[i, j - 1], paired)
    pairs: dict[Key, Link] = {}
    i, j = n, m
    while i > 0 and j > 0:
        link = scores.get((i - 1, columns[j - 1]))
        if link and best[i, j] == best[i - 1, j - 1] + _rewrite_score(link, cfg):
            pairs[keys[i - 1]] = link
            i, j = i - 1, j - 1
        elif best[i, j] == best[i, j - 1]:
            j -= 1
        else:
            i -= 1
    return pairs


def _rewrite_links(key: Key, earlier: list[Link], partners: dict[str, dict[Key, Link]],
                   follows: dict[str, dict[Key, set[Key]]], machine_like: bool, cfg: Config) -> list[Link]:
    """Rewrite evidence for one paragraph: its alignment partner in each followed document (or, unpaired,
    its best link there), and any link above ``standalone_cosine`` to other documents that also keeps
    ``standalone_min_ratio`` of the wording: two pages on one topic hold stock definitions ("Power BI is
    a business analytics tool ...") this close in meaning, worded apart; a model that merges, splits or
    reorders paragraphs keeps more of their words.

    A rewrite may go over its source twice (a summary, then the retelling), so an unpaired paragraph can
    still be a rewrite; but the rewriter's own paragraphs also sit near source paragraphs that are
    already paired. Unpaired, a paragraph needs a strong link, or an aligned one and a sign of the model's
    hand (``_unpaired_rewrite``).
    An unpaired paragraph whose sentences come from one or several paragraphs of a followed document
    (merged, split, moved) takes the largest of them (a paired one keeps its partner: order tells
    apart source paragraphs that say the same, as a lead and its later detail); one whose best link there
    goes to the paragraph its neighbour follows is the other half of a split (a short half shares
    too little with the whole to come near it in meaning, ``split_min_cosine``, but may keep
    ``standalone_min_ratio`` of its wording with a word shingle or more, the sign of the model's hand
    ``_unpaired_rewrite`` also takes).
    """
    c = cfg.classify
    everything, earlier = earlier, [l for l in earlier if _may_rewrite(l)]
    out = [l for l in earlier if l.semantic >= c.standalone_cosine and l.ratio >= c.standalone_min_ratio
           and l.source[0] not in partners]
    for source_doc, pairs in partners.items():
        if key in pairs:
            out.append(pairs[key])
            continue
        merged = _restructured(everything, source_doc, cfg)
        if any(_may_rewrite(l) for l in merged):  # a merged paragraph may say "said" as often as its sources together
            out.append(merged[0])
            continue
        near = [l for l in earlier if l.source[0] == source_doc and _unpaired_rewrite(l, machine_like, cfg)]
        if near:
            out.append(max(near, key=lambda l: (_rewrite_score(l, cfg), -_source_index(l))))
            continue
        there = [l for l in earlier if l.source[0] == source_doc]
        best = max(there, key=lambda l: (_rewrite_score(l, cfg), -_source_index(l))) if there else None
        beside = follows[source_doc].get((key[0], key[1] - 1), set()) | follows[source_doc].get((key[0], key[1] + 1), set())
        if best is not None and best.source in beside and (best.semantic >= c.split_min_cosine
                                                           or best.shared and best.ratio >= c.standalone_min_ratio):
            out.append(best)
    return out


def _unpaired_rewrite(link: Link, machine_like: bool, cfg: Config) -> bool:
    """Whether a link of a paragraph the alignment left unpaired is rewrite evidence: a strong link, or an
    aligned one with a sign of the model's hand, a machine-like style (more marker words than quotes and
    reporting verbs) or ``standalone_min_ratio`` of the source's wording kept.

    A page that follows a source elsewhere (a rewrite with an own paragraph or two, taken from another
    report of the same event) holds paragraphs close in meaning to a source paragraph outside the
    alignment, worded apart and in a reporter's style: such a paragraph on provenance-dev keeps 0.09 of
    the wording, with one marker word and one "said". The unpaired rewrites seen keep 0.48 of the wording
    (restructured stress set), or read as a model's summary (a seed's conclusion, 0.16).
    """
    c = cfg.classify
    return link.semantic >= c.paraphrase_cosine or (
        link.semantic >= c.aligned_cosine and (machine_like or link.ratio >= c.standalone_min_ratio))


def _aligned_sources(keys: list[Key], earlier: dict[Key, list[Link]], size: int, text: dict[Key, str],
                     cfg: Config) -> set[str]:
    """Earlier documents that this one follows paragraph by paragraph, mostly in the source's order.

    Only strongly linked paragraphs count (same-event reports share stock background sentences, two
    in one paragraph at times, so a merge seen in sentences alone links none), and of them those that
    follow the source one to one and in its order (``_followed_one_to_one``): two pages on one topic (two
    guides to forming a company) hold many paragraph pairs close in meaning, but each of their
    paragraphs is close to several of the other's, in any order, while a rewrite takes its source's
    paragraphs one after the other. The order is that of the source paragraphs their sentences come
    from (``_followed_sentences``), so that a paragraph moved whole breaks it once or twice among all
    the sentences, while a shuffled set of one-sentence paragraphs breaks it at every step. A document
    that merges or splits the source's paragraphs follows it in whatever order (``_reshaped``): by a chain in
    the source's order as above, or by paragraphs linked one per source paragraph in any order that make up
    ``reworded_min_share`` of it (a rewrite of a short article that merges two paragraphs and moves its lead
    to the end leaves a chain of one; two pages on one topic follow each other for a third at most), counting
    also the paragraphs whose sentences come from one of the source's (``_sentence_pairs``). So does a
    document holding a language model's near-verbatim edit of one of its paragraphs (``_polishes``): a model
    rewrote the source, and the order it put the rest in tells nothing more (briefs that other outlets retold
    in another order hold no such edit). A paragraph that retells a source paragraph with attribution added
    counts against following (``_net_followed``).

    A document with fewer matchable paragraphs than ``doc_min_links`` needs all of them linked: a
    one-paragraph rewrite (an abstract, a brief) cannot show more than one link.
    """
    # (paragraph, source paragraph of its strongest link, the share of wording that link keeps)
    linked: dict[str, list[tuple[int, int, float]]] = {}
    sequence: dict[str, list[int]] = {}
    retold: dict[str, set[int]] = {}  # paragraphs whose strongest link there adds attribution (``_retells``)
    for key in keys:
        strongest: dict[str, Link] = {}
        for link in earlier[key]:
            current = strongest.get(link.source[0])
            if _is_strong(link, cfg) and (current is None or _strength(link) > _strength(current)):
                strongest[link.source[0]] = link
        for source_doc, link in strongest.items():
            linked.setdefault(source_doc, []).append((key[1], link.source[1], link.ratio))
            if _retells(link):
                retold.setdefault(source_doc, set()).add(key[1])
            sequence.setdefault(source_doc, []).extend(
                _followed_sentences(earlier[key], source_doc, link, len(sentences(text[key]))))
    c = cfg.classify
    aligned = set()
    for source_doc, pairs in linked.items():
        reshaped = _reshaped(keys, earlier, source_doc, cfg)
        in_order = _forward_share(sequence[source_doc]) >= c.doc_min_order or reshaped
        followed = [pairs[i] for i in _followed_one_to_one([s for _, s, _ in pairs])]
        retold_here = retold.get(source_doc, set())
        rewritten = reshaped or _polishes(keys, earlier, source_doc)
        any_order = _one_per_source(pairs + _sentence_pairs(keys, earlier, source_doc, pairs, cfg)) if rewritten else []
        if (in_order and _shows_following(followed, retold_here, size, _min_followed_share(followed, cfg), cfg)
                or rewritten and _shows_following(any_order, retold_here, size, c.reworded_min_share, cfg)):
            aligned.add(source_doc)
    composite = _composite_sources(linked, aligned, size, cfg)
    return aligned | composite | (_loose_lenders(keys, earlier, linked, cfg) if composite else set())


def _shows_following(followed: list[tuple[int, int, float]], retold: set[int], size: int, share: float,
                     cfg: Config) -> bool:
    """Whether the paragraphs ``followed`` (less those ``retold``) show that a document of ``size`` matchable
    paragraphs follows a source: ``doc_min_links`` of them (all, in a shorter document) and ``share`` of it."""
    shown = _net_followed(followed, retold)
    return shown >= min(cfg.classify.doc_min_links, size) and shown / size >= share


def _sentence_pairs(keys: list[Key], earlier: dict[Key, list[Link]], source_doc: str,
                    pairs: list[tuple[int, int, float]], cfg: Config) -> list[tuple[int, int, float]]:
    """The paragraphs that ``pairs`` (strong links) leave out and whose sentences come from ``source_doc``
    (``_restructured``), each with its largest contributor, if that link is at ``aligned_cosine`` or closer.

    Merging two paragraphs dilutes a paragraph vector, and a rewrite that merges some of a source's
    paragraphs rewords the others as freely: a reworded one next to a merge keeps every sentence of its
    source paragraph in meaning but may fall short of a strong link. Loose sentence likeness alone (a
    stock sentence of the topic) does not count: same-topic pages share many such below ``aligned_cosine``."""
    have = {para for para, _, _ in pairs}
    out = []
    for key in keys:
        merged = _restructured(earlier[key], source_doc, cfg)
        if key[1] not in have and merged and merged[0].semantic >= cfg.classify.aligned_cosine:
            out.append((key[1], merged[0].source[1], merged[0].ratio))
    return out


def _one_per_source(pairs: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """The first paragraph linked to each source paragraph, in whatever order."""
    seen: dict[int, tuple[int, int, float]] = {}
    for pair in pairs:
        seen.setdefault(pair[1], pair)
    return list(seen.values())


def _retells(link: Link) -> bool:
    """A strong link that is no near-verbatim copy and whose paragraph adds attribution to its source: the
    same facts told again by a reporter, which classify refuses as a rewrite (``_may_rewrite``)."""
    return not link.near_verbatim and not _may_rewrite(link)


def _net_followed(followed: list[tuple[int, int, float]], retold: set[int]) -> int:
    """Paragraphs that show a document follows a source: those followed one to one that could be rewrites,
    less those that retell a source paragraph with attribution added (``_retells``).

    A report of the same event by another reporter holds paragraphs close to the source's, some of them
    told with "said" where the source has none, and a couple close enough and in order by chance (the
    same lead, the same background line): on provenance-dev a same-topic report follows an article with
    two such paragraphs and retells a third. A model's rewrite keeps or drops attribution; the rewrites
    there that retell a paragraph at all follow their source with four or more others.
    """
    return len([p for p in followed if p[0] not in retold]) - len(retold)


def _min_followed_share(followed: list[tuple[int, int, float]], cfg: Config) -> float:
    """Share of a document's matchable paragraphs that must follow the source one to one.

    Two pages on one topic (two histories of coffee, two zero-waste listicles) follow each other for a
    quarter or a third of their paragraphs, pairs that keep little of each other's wording (median
    token-sequence similarity 0.12-0.22 on wcxb-articles). A rewrite keeps more of it (0.31 or more for
    every multi-paragraph rewrite on provenance-dev), or, reworded throughout, follows its source for
    most of its length (``reworded_min_share``); a one-paragraph rewrite is followed whole.
    """
    c = cfg.classify
    wording = float(np.median([ratio for _, _, ratio in followed])) if followed else 0.0
    return c.doc_min_share if wording >= c.aligned_min_ratio else c.reworded_min_share


def _reshaped(keys: list[Key], earlier: dict[Key, list[Link]], source_doc: str, cfg: Config) -> bool:
    """Whether this document merges paragraphs of ``source_doc`` into one or splits one over two: a whole
    document rewritten, whatever order it put them in (an independent retelling of the same facts says
    them in sentences of its own, each paraphrasing at most one)."""
    mains = []
    for key in keys:
        merged = _restructured(earlier[key], source_doc, cfg)
        if len(merged) >= 2:
            return True
        mains += [merged[0].source] if merged else []
    return len(mains) > len(set(mains))


def _polishes(keys: list[Key], earlier: dict[Key, list[Link]], source_doc: str) -> bool:
    """Whether a paragraph of this document is a language model's near-verbatim edit of one of ``source_doc``'s."""
    return any(l.near_verbatim and not l.is_copy for key in keys for l in earlier[key] if l.source[0] == source_doc)


def _followed_sentences(links: list[Link], source_doc: str, strongest: Link, count: int) -> list[int]:
    """The source paragraph of each of this paragraph's sentences that comes from ``source_doc``, taken in the
    source's order (their share of the words gives about how many sentences each holds); without any,
    the strongest link's."""
    found = sorted(_contributors(links, source_doc), key=_source_index)
    if found:
        return [_source_index(l) for l in found for _ in range(max(1, round(l.covered * count)))]
    return [_source_index(strongest)]


def _composite_sources(linked: dict[str, list[tuple[int, int, float]]], followed: set[str], size: int,
                       cfg: Config) -> set[str]:
    """Earlier documents that each lend this one a single paragraph the documents it follows do not
    account for, when together with those they make up most of it.

    A roundup rewritten from several sources follows none of them for two paragraphs, or one of them
    for two and another for one, yet nearly all of it is strongly linked to one source paragraph or
    another; an independent report shares a paragraph's worth with a few documents at most. A paragraph
    of a followed document's rewrite that also sits near another article on the topic is that rewrite's.
    """
    following = {para for source_doc in followed for para, _, _ in linked.get(source_doc, ())}
    single = {source_doc: pairs[0][0] for source_doc, pairs in linked.items()
              if len(pairs) == 1 and source_doc not in followed and pairs[0][0] not in following}
    covered = set(single.values()) | following
    c = cfg.classify
    if single and len(covered) >= c.doc_min_links and len(covered) / size >= c.composite_min_share:
        return set(single)
    return set()


def _loose_lenders(keys: list[Key], earlier: dict[Key, list[Link]], linked: dict[str, list[tuple[int, int, float]]],
                   cfg: Config) -> set[str]:
    """Of a composite document (a roundup rewrite, ``_composite_sources``), the earlier documents that each
    hold the nearest version, at ``aligned_cosine``, of one paragraph that no strong link accounts for.

    A model rewriting a roundup rewords each gathered paragraph on its own, some further from their source
    than a strong link reaches (a lead with its headline run in, reworded and recased); the rest of the page
    shows it is assembled from other pages' paragraphs, so its remaining paragraph's nearest earlier
    version is its source as for the others, not a chance likeness."""
    accounted = {para for pairs in linked.values() for para, _, _ in pairs}
    lent: dict[str, int] = {}
    for key in keys:
        near = [l for l in earlier[key] if l.semantic >= cfg.classify.aligned_cosine and _may_rewrite(l)]
        if key[1] not in accounted and near:
            source_doc = max(near, key=lambda l: (_rewrite_score(l, cfg), -_source_index(l))).source[0]
            lent[source_doc] = lent.get(source_doc, 0) + 1
    return {source_doc for source_doc, count in lent.items() if count == 1}


def _strength(link: Link) -> float:
    return max(link.ratio, link.semantic)


def _followed_one_to_one(sources: list[int]) -> list[int]:
    """Positions of the paragraphs that follow the source one to one and in its order: the longest strictly
    increasing subsequence of their source paragraph indexes, taken in this document's order."""
    ends: list[int] = []  # ends[n]: the smallest last source index of a chain of n + 1 paragraphs
    last: list[int] = []  # last[n]: the position that ends that chain
    previous: list[int | None] = []
    for position, source in enumerate(sources):
        at = bisect.bisect_left(ends, source)
        ends[at:at + 1] = [source]
        last[at:at + 1] = [position]
        previous.append(last[at - 1] if at else None)
    chain, position = [], (last[-1] if last else None)
    while position is not None:
        chain.append(position)
        position = previous[position]
    return chain[::-1]


def _forward_share(values: list[int]) -> float:
    """Share of successive values that do not go back: 1 for a source followed in order (even twice
    over, as a summary and then a retelling), about one half for a shuffled one."""
    if len(values) < 2:
        return 1.0
    return sum(b >= a for a, b in zip(values, values[1:])) / (len(values) - 1)


def _decide_one(key: Key, earlier: list[Link], rewrites: list[Link], aligned: set[str],
                decided: dict[Key, Decision], every: list[Link], text: dict[Key, str], cfg: Config,
                sources: set[str] | None = None, dates: dict[str, pd.Timestamp] | None = None,
                twin_rewrites: tuple[Link, ...] = ()) -> Decision:
    """Label of one paragraph; with ``sources``, it may derive only from those documents (a short paragraph,
    see ``_lending_documents``), while its confidence as an original still counts every earlier link.
    ``twin_rewrites`` are its links to earlier paragraphs that its family of same-day versions rewrote
    (``_twin_rewrites``): a copy of one of those, or of a copy of one, is a rewrite of it."""
    c = cfg.classify
    if sources is not None:
        rewrites = [l for l in rewrites if l.source[0] in sources]
        twin_rewrites = tuple(l for l in twin_rewrites if l.source[0] in sources)
    # The nearest near-verbatim version decides: a polish that also sits close to a sibling polish of its
    # source is the source's rewrite, not the sibling's copy, when the source is nearer. Between versions
    # as near, one edit read as a copier's (``_edited_by_a_copier``) is that edit's verdict for them all.
    near = [l for l in earlier if l.near_verbatim and (sources is None or l.source[0] in sources)]
    closest = max(near, key=lambda l: (l.ratio, l.containment, l.is_copy, -_source_index(l))) if near else None
    if closest is not None and closest.is_copy:
        copied = _copied(closest, decided, earlier, cfg)
        rewritten = next((l for l in twin_rewrites if _root(l, decided) == copied.root), None)
        if copied.label == "ai_paraphrased" or rewritten is None:
            return copied
        return _rewrite_decision(rewritten, aligned, decided, earlier, cfg)
    if rewrites:
        roots = _dated_roots([l for l in rewrites if decided[l.source].label == "original"], key[0], dates or {})
        link = max(roots or rewrites, key=lambda l: (_rewrite_score(l, cfg), -_source_index(l)))
        via_alignment = link.source[0] in aligned
        merged = _restructured(earlier, link.source[0], cfg) if via_alignment else []
        if merged and merged[0] == link:  # decided by its sentences: a copy when every one taken is kept as it was
            kept, taken = _kept_sentences(text[key], [text[l.source] for l in merged], cfg), sum(l.covered for l in merged)
            if kept >= taken - _ROUNDING:
                return _copied(link, decided, earlier, cfg)
        return _rewrite_decision(link, aligned, decided, earlier, cfg)
    # The label is wrong only if some earlier document held this paragraph: judge by the nearest earlier link.
    nearest = max(earlier, key=lambda l: (_strength(l), l.source), default=None)
    evidence = _evidence(nearest)
    method = "earliest_occurrence" if any(_is_strong(l, cfg) for l in every) else "no_match"
    return Decision("original", None, None, method, calibrated_confidence("original", evidence, c.calibration),
                    evidence=evidence)


def _rewrite_decision(link: Link, aligned: set[str], decided: dict[Key, Decision], earlier: list[Link], cfg: Config
                      ) -> Decision:
    """The decision for a rewrite of ``link``'s source, by document alignment when this document follows
    that source's."""
    evidence = _evidence(link)
    return Decision("ai_paraphrased", link, _root(link, decided), "doc_alignment" if link.source[0] in aligned else "semantic",
                    calibrated_confidence("ai_paraphrased", evidence, cfg.classify.calibration), _shares(link, earlier),
                    evidence)


def _dated_roots(roots: list[Link], doc: str, dates: dict[str, pd.Timestamp]) -> list[Link]:
    """The rewrite links to original paragraphs, less those into documents published the same day as ``doc``
    (or later) when others remain. Dates order documents for certain; among documents of one date, the
    order rests on evidence worth a few thousandths when several rewrites of one source are alike. An
    original of the same date that this order puts first is a sibling whose own link to the source was
    refused (a model's answer that quotes a polish of the source sits nearer the other polishes than the
    source does), not the source of a rewrite that also links to an earlier or undated original."""
    mine = dates.get(doc)
    kept = [l for l in roots if mine is None or l.source[0] not in dates or dates[l.source[0]] < mine]
    return kept or roots


def _twin_rewrites(links: dict[Key, list[Link]], dates: dict[str, pd.Timestamp], text: dict[Key, str],
                   pending: set[str]) -> dict[Key, tuple[Link, ...]]:
    """For each paragraph of the ``pending`` documents (those to decide), its near-verbatim links to
    earlier-dated paragraphs that its family of same-day versions rewrote: a version of the same day (a twin)
    reuses the earlier paragraph too and makes one of the same edits of it, and the edit of the paragraph or
    of that twin reads as a model's.

    Between two documents of one date no direction is known: either may have been made from the other,
    and the order classify walks them in rests on evidence worth a few thousandths. Versions that changed
    their earlier root alike share the history of that change, so they relate to that root alike: as a
    model's rewrite of it when the edit of one of them reads as a model's, else as copies. Without this,
    the version the order takes first decides for all (on rewrite-pairs, a davinci polish whose one or two
    swapped words read as a copy editor's, taken before a sibling that shows more of the same polish). A
    version that changed nothing (a verbatim copy) or nothing alike (a copy editor's own fix) is left to
    its own edit, a copy from a later date to its copy step (its source's label), undated pairs to the
    document order."""
    words_of = functools.cache(lambda key: words(text[key]))
    out: dict[Key, tuple[Link, ...]] = {}
    for key, items in links.items():
        day = dates.get(key[0])
        if day is None or key[0] not in pending:
            continue
        roots = {l.source: l for l in items if l.near_verbatim and l.source[0] in dates and dates[l.source[0]] < day}
        twins = [l.source for l in items if l.near_verbatim and l.source[0] != key[0] and dates.get(l.source[0]) == day]
        rewritten = {theirs.source for twin in twins for theirs in links.get(twin, [])
                     if theirs.source in roots and theirs.near_verbatim and not (theirs.is_copy and roots[theirs.source].is_copy)
                     and share_an_edit(words_of(key), words_of(twin), words_of(theirs.source))}
        if rewritten:
            out[key] = tuple(roots[source] for source in sorted(rewritten))
    return out


def _copied(link: Link, decided: dict[Key, Decision], earlier: list[Link], cfg: Config) -> Decision:
    """The decision for a copy of ``link``'s source.

    A label says how a paragraph relates to its root: a copy of a model's rewrite is, to the original it
    points to, that rewrite; only a chain of copies stays copied (``direct_*`` shows the copy step).
    """
    source = decided[link.source]
    shares = _shares(link, earlier)
    if source.label == "ai_paraphrased":  # a human's copy step is seldom wrong: the doubt is the rewrite's
        return Decision("ai_paraphrased", link, _root(link, decided), "lexical", source.confidence, shares,
                        source.evidence)
    evidence = _evidence(link)
    return Decision("copied", link, _root(link, decided), "lexical",
                    calibrated_confidence("copied", evidence, cfg.classify.calibration), shares, evidence)


def _kept_sentences(paragraph: str, sources: list[str], cfg: Config) -> float:
    """Share of the paragraph's words in sentences copied from a sentence of ``sources``: near-verbatim
    (``copy_ratio``) with a human's kind of edit. A copy edited by adding, dropping or moving whole
    sentences keeps the others as they were; a rewrite, or a summary that quotes one sentence, rewords
    the others, or polishes them as a model does."""
    names = proper_names(paragraph)
    stop = stoplist_of(words(paragraph))
    theirs = [words(s) for source in sources for s in sentences(source)]
    mine = [words(s) for s in sentences(paragraph)]

    def copied(sentence: list[str]) -> bool:
        near = [t for t in theirs if Indel.normalized_similarity(sentence, t) >= cfg.classify.copy_ratio]
        return any(_machine_edit(sentence, t, stop, names, cfg) < 0.5 for t in near)

    return sum(len(m) for m in mine if copied(m)) / max(1, sum(len(m) for m in mine))


def _shares(link: Link, earlier: list[Link]) -> tuple[tuple[Key, float | None], ...]:
    """The direct source paragraphs of a derived paragraph in ``link``'s document, with the share of its words
    each accounts for, the largest first; ``link``'s alone, share unknown, when the documents were not
    aligned sentence by sentence."""
    if link.covered is None:
        return ((link.source, None),)
    found = _contributors(earlier, link.source[0])
    if link not in found:
        found.append(link)
    return tuple((l.source, l.covered) for l in found)


def _source_index(link: Link) -> int:
    """Tie-break between equally good links: the lower paragraph index of the source wins."""
    return link.source[1]


def _root(link: Link, decided: dict[Key, Decision]) -> Key:
    earlier = decided[link.source]
    return earlier.root if earlier.root is not None else link.source


def _evidence(link: Link | None) -> dict[str, float]:
    """What a decision rests on (``EVIDENCE``), read off the link it follows (for an original, its nearest
    earlier link; none at all is the surest original): how close in meaning and in wording the two
    paragraphs are, and how undecided the machine-edit model is between a human's and a model's edit of a
    near-verbatim pair (the side it took decides copied against ai_paraphrased)."""
    if link is None:
        return dict.fromkeys(EVIDENCE, 0.0)
    doubt = 1.0 - abs(2.0 * link.machine_edit - 1.0) if link.near_verbatim else 0.0
    return dict(zip(EVIDENCE, (link.semantic, link.ratio, doubt)))


def calibrated_confidence(label: str, evidence: dict[str, float], calibration: Calibration) -> float:
    """Probability that ``label`` is right: the label's logistic regression on the decision's evidence,
    fitted on a labelled corpus (``[classify.calibration]``)."""
    model = getattr(calibration, label)
    z = model.intercept + math.fsum(getattr(model, name) * value for name, value in evidence.items())
    return 0.5 * (1.0 + math.tanh(z / 2))  # the logistic function, without overflow
