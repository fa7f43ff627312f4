"""The character of the edit between two near-identical paragraphs: a human's or a language model's.

Each separate word-level edit is sorted by what it changes. A language model asked for a light polish
rewords: it changes small words ("aims at" -> "aims to", an added "the"), inflections ("obtaining" ->
"obtain") and short phrases, at several places. A human who reuses a paragraph fixes or makes a typo,
changes a number or a name, adds or drops a sentence, swaps a word; those edits say nothing about who
edited (a model fixes typos too), so they are not counted. The model weighs the rewordings and the
single content-word substitutions; fitted by ``tools/fit_machine_edit.py`` on two model families'
polishes and held out on the third (rewrite-pairs), where counting every edit alike did not transfer.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np
from rapidfuzz.distance import Levenshtein

_BLOCK = 6
"""An insertion or deletion of this many words or more is a sentence or clause added or dropped."""
_STEM = 4
"""Leading letters two words share when one is an inflection of the other."""


@dataclass(frozen=True)
class EditShape:
    """How the word sequence ``later`` differs from ``earlier``: separate edits by kind."""

    rewordings: int
    """Edits of small words only, inflections, and multi-word phrases replaced by others."""
    substitutions: int
    """Single content words replaced by unrelated ones, or content words added or dropped (under a sentence)."""


def edit_shape(later: list[str], earlier: list[str], stop: frozenset[str]) -> EditShape:
    """The shape of the word-level edit that turns ``earlier`` into ``later``; ``stop`` is the stoplist of
    their language."""
    ops = [(earlier[op.src_start:op.src_end], later[op.dest_start:op.dest_end])
           for op in Levenshtein.opcodes(earlier, later) if op.tag != "equal"]
    moved = _moved(ops)
    kinds = ["neutral" if n in moved else edit_kind(old, new, stop) for n, (old, new) in enumerate(ops)]
    return EditShape(kinds.count("rewording"), kinds.count("substitution"))


def _moved(ops: list[tuple[list[str], list[str]]]) -> set[int]:
    """Edits that delete words inserted by another edit, and that insertion: words moved, not changed."""
    deleted = {tuple(old): n for n, (old, new) in enumerate(ops) if old and not new}
    out = set()
    for n, (old, new) in enumerate(ops):
        if new and not old and tuple(new) in deleted and deleted[tuple(new)] not in out:
            out |= {n, deleted[tuple(new)]}
    return out


def edit_kind(old: list[str], new: list[str], stop: frozenset[str]) -> str:
    """``rewording``, ``substitution`` or ``neutral`` (a sentence added, dropped or replaced, a number, a typo,
    words transposed)."""
    if max(len(old), len(new)) >= _BLOCK or sorted(old) == sorted(new):
        return "neutral"
    if not old or not new:
        return "rewording" if all(w in stop for w in old + new) else "substitution"
    if len(old) != len(new):
        return "rewording"
    kinds = {"rewording" if a in stop and b in stop else _word_change(a, b) for a, b in zip(old, new)}
    return next((k for k in ("rewording", "substitution") if k in kinds), "neutral")


def _word_change(a: str, b: str) -> str:
    """One word replaced by another: a number or a typo (neutral), an inflection (rewording) or another word."""
    if a == b or any(c.isdigit() for c in a + b) or sorted(a) == sorted(b):
        return "neutral"
    if min(len(a), len(b)) >= 4 and Levenshtein.distance(a, b) <= 1:
        return "neutral"
    return "rewording" if len(os.path.commonprefix([a, b])) >= min(_STEM, len(a) - 1, len(b) - 1) else "substitution"


def shape_features(shape: EditShape) -> tuple[float, float]:
    """The model's inputs: log(1 + count) of each kind of edit."""
    return math.log1p(shape.rewordings), math.log1p(shape.substitutions)


def machine_edit_probability(shape: EditShape, intercept: float, rewording_weight: float,
                             substitution_weight: float) -> float:
    """Logistic probability that a near-identical pair is a language-model edit rather than a human one."""
    rewordings, substitutions = shape_features(shape)
    z = intercept + rewording_weight * rewordings + substitution_weight * substitutions
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
