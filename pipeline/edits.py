"""The character of the edit between two near-identical paragraphs: a human's or a language model's.

Each separate word-level edit is sorted by what it changes. A language model asked for a light polish
rewords: it changes small words ("aims at" -> "aims to", an added "the"), inflections ("obtaining" ->
"obtain") and short phrases, at several places. A human who reuses a paragraph fixes or makes a typo,
changes a number or a name, adds or drops a sentence, moves a word; those edits say nothing about who
edited (a model fixes typos too), so they are not counted. The model weighs the rewordings and the
single content-word substitutions; fitted by ``tools/fit_machine_edit.py`` on two model families'
polishes and held out on the third (rewrite-pairs), where counting every edit alike did not transfer.
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass

import numpy as np
from rapidfuzz.distance import Levenshtein

from pipeline.text import words

_BLOCK = 6
"""An insertion or deletion of this many words or more is a sentence or clause added or dropped."""
_MAX_BLOCKS = 2
"""Sentences a copy editor adds or drops: one of each."""
_STEM = 4
_INNER_CAPITAL = re.compile(r"(?<=[\w,;:(] )([A-Z]\w+)")
"""Leading letters two words share when one is an inflection of the other."""


@dataclass(frozen=True)
class EditShape:
    """How the word sequence ``later`` differs from ``earlier``: separate edits by kind."""

    rewordings: int
    """Edits of small words only, inflections, and multi-word phrases replaced by others."""
    substitutions: int
    """Content words replaced by unrelated ones (not names, numbers or typos)."""
    additions: int
    """Content words added or dropped, short of a sentence (an intensifier, a clause), not names or numbers."""


def edit_shape(later: list[str], earlier: list[str], stop: frozenset[str], names: frozenset[str] = frozenset()) -> EditShape:
    """The shape of the word-level edit that turns ``earlier`` into ``later``; ``stop`` is the stoplist of
    their language, ``names`` the (lower-cased) proper names either paragraph holds."""
    ops = _merged_edits(later, earlier)
    moved = _moved(ops)
    kinds = ["neutral" if n in moved else edit_kind(old, new, stop, names) for n, (old, new) in enumerate(ops)]
    return EditShape(kinds.count("rewording"), kinds.count("substitution"), kinds.count("addition"))


def _merged_edits(later: list[str], earlier: list[str]) -> list[tuple[list[str], list[str]]]:
    """(old words, new words) of each separate edit; edits with no word between them are one ("percent" ->
    "per cent" is an insertion next to a replacement for the aligner)."""
    return [(earlier[a:b], later[c:d]) for a, b, c, d in _edit_spans(later, earlier)]


def _edit_spans(later: list[str], earlier: list[str]) -> list[list[int]]:
    """(start, end in ``earlier``, start, end in ``later``) of each separate edit (``_merged_edits``)."""
    spans: list[list[int]] = []
    for op in Levenshtein.opcodes(earlier, later):
        if op.tag == "equal":
            continue
        if spans and spans[-1][1] == op.src_start and spans[-1][3] == op.dest_start:
            spans[-1][1], spans[-1][3] = op.src_end, op.dest_end
        else:
            spans.append([op.src_start, op.src_end, op.dest_start, op.dest_end])
    return spans


def share_an_edit(one: list[str], other: list[str], earlier: list[str]) -> bool:
    """Whether two versions of ``earlier`` make one of their edits of it alike: the same words of it
    replaced by the same words (or the same dropped, or the same added at one place)."""
    def edits(later: list[str]) -> set[tuple]:
        return {(a, b, tuple(later[c:d])) for a, b, c, d in _edit_spans(later, earlier)}

    return bool(edits(one) & edits(other))


def _moved(ops: list[tuple[list[str], list[str]]]) -> set[int]:
    """Edits that delete words inserted by another edit, and that insertion: words moved, not changed."""
    deleted = {tuple(old): n for n, (old, new) in enumerate(ops) if old and not new}
    out = set()
    for n, (old, new) in enumerate(ops):
        if new and not old and tuple(new) in deleted and deleted[tuple(new)] not in out:
            out |= {n, deleted[tuple(new)]}
    return out


def edit_kind(old: list[str], new: list[str], stop: frozenset[str], names: frozenset[str] = frozenset()) -> str:
    """``rewording``, ``substitution``, ``addition`` or ``neutral`` (a sentence added, dropped or replaced, a number, a name,
    a typo, words transposed, an abbreviation restyled: "U.S." -> "US")."""
    if max(len(old), len(new)) >= _BLOCK or sorted(old) == sorted(new) or "".join(old) == "".join(new):
        return "neutral"
    if not old or not new:
        added = old or new
        if all(w in stop for w in added):
            return "rewording"
        return "neutral" if all(w in stop or w in names or _is_number(w) for w in added) else "addition"
    if len(old) != len(new):
        return "rewording"
    if any(_is_number(w) or w in names for w in old + new):
        return "neutral"  # the small words around a changed date, number or name go with it ("on Friday" -> "this week")
    kinds = {"rewording" if a in stop and b in stop else _word_change(a, b, names) for a, b in zip(old, new)}
    return next((k for k in ("rewording", "substitution") if k in kinds), "neutral")


def proper_names(text: str, stop: frozenset[str] = frozenset()) -> frozenset[str]:
    """Capitalized words inside a sentence (not after a full stop), lower-cased: names, as a human changes
    them ("Reuters reported", another town) while a polish keeps them.

    In a title-cased line (a heading: every word outside ``stop``, the stoplist, capitalized) capitals
    mark the style, not names: "Platform" -> "Service" is a changed word, not a changed name.
    """
    if stop and _is_title_cased(text, stop):
        return frozenset()
    return frozenset(m.group(1).lower() for m in _INNER_CAPITAL.finditer(text))


def facts(text: str, stop: frozenset[str] = frozenset()) -> frozenset[str]:
    """The names (``proper_names``) and numbers a text states, lower-cased, less the words of ``stop`` (its
    language's stoplist): what a reporter learns and a rewording of someone else's text cannot make up."""
    numbers = {w for w in words(text) if _is_number(w)}
    return (proper_names(text, stop) | numbers) - stop


def _is_title_cased(text: str, stop: frozenset[str]) -> bool:
    content = [w for w in re.findall(r"[^\W\d_]+", text) if w.lower() not in stop]
    return len(content) >= 2 and all(w[0].isupper() for w in content)


def _abbreviates(short: str, long: str) -> bool:
    """``short`` is a house-style abbreviation of ``long`` ("mln" for "million"): its letters in order, the
    first one first, at most 60% as long, and not a mere prefix (an inflection)."""
    if not short or short[0] != long[0] or len(short) > 0.6 * len(long) or long.startswith(short):
        return False
    rest = iter(long)
    return all(c in rest for c in short)


def _is_number(word: str) -> bool:
    return any(c.isdigit() for c in word)


def kept_share(later: list[str], earlier: list[str], stop: frozenset[str], names: frozenset[str] = frozenset()) -> float:
    """Share of the shorter paragraph's words that the other keeps, counting a typo, a number, a name, a moved
    word and a sentence added or dropped (two such blocks at most) as kept: how much of a copy survives a
    copy editor's many local fixes, which break word n-grams."""
    ops = _merged_edits(later, earlier)
    blocks = sum(not (old and new) and max(len(old), len(new)) >= _BLOCK for old, new in ops)
    if blocks > _MAX_BLOCKS:
        return 0.0  # text added or dropped in several places is a retelling, not a copy editor's work
    moved = _moved(ops)
    shorter_is_later = len(later) <= len(earlier)
    changed = 0
    for n, (old, new) in enumerate(ops):
        side = new if shorter_is_later else old
        whole_sentence = not (old and new) and max(len(old), len(new)) >= _BLOCK
        if n in moved or whole_sentence:
            continue
        if edit_kind(old, new, stop, names) != "neutral" or max(len(old), len(new)) >= _BLOCK:
            changed += len(side)
    return 1.0 - changed / max(1, min(len(later), len(earlier)))


def spelling_variants(a: str, b: str) -> bool:
    """The same word with a typo: letters transposed, or one letter added, dropped or changed (long words)."""
    return a != b and (sorted(a) == sorted(b) or min(len(a), len(b)) >= 4 and Levenshtein.distance(a, b) <= 1)


def _word_change(a: str, b: str, names: frozenset[str]) -> str:
    """One word replaced by another: a number, a name or a typo (neutral), an inflection (rewording) or
    another word."""
    if a == b or _is_number(a) or _is_number(b) or a in names or b in names or spelling_variants(a, b):
        return "neutral"
    if _abbreviates(a, b) or _abbreviates(b, a):
        return "neutral"
    return "rewording" if len(os.path.commonprefix([a, b])) >= min(_STEM, len(a) - 1, len(b) - 1) else "substitution"


def shape_features(shape: EditShape) -> tuple[float, float, float]:
    """The model's inputs: log(1 + count) of each kind of edit that counts."""
    return math.log1p(shape.rewordings), math.log1p(shape.substitutions), math.log1p(shape.additions)


def machine_edit_probability(shape: EditShape, intercept: float, weights: tuple[float, float, float]) -> float:
    """Logistic probability that a near-identical pair is a language-model edit rather than a human one;
    ``weights`` go with ``shape_features``."""
    z = intercept + sum(w * x for w, x in zip(weights, shape_features(shape)))
    return 1.0 / (1.0 + math.exp(-z))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 0.01, steps: int = 50,
                 weights: np.ndarray | None = None) -> np.ndarray:
    """(intercept, weights...) of a (sample-weighted) logistic regression by Newton's method, with a small
    ridge penalty on the weights so that separable training pairs still give finite coefficients."""
    design = np.hstack([np.ones((len(x), 1)), x])
    w = np.ones(len(x)) if weights is None else weights
    beta = np.zeros(design.shape[1])
    penalty = np.diag([0.0] + [l2] * x.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-design @ beta))
        gradient = design.T @ (w * (p - y)) + penalty @ beta
        hessian = design.T @ (design * (w * p * (1 - p))[:, None]) + penalty + 1e-9 * np.eye(len(beta))
        beta -= np.linalg.solve(hessian, gradient)
    return beta
