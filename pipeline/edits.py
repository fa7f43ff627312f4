"""The character of the edit between two near-identical paragraphs: a human's or a language model's.

A human who reuses a paragraph changes it in one or two places: a quote or dash style (invisible at the
word level), an added attribution ("Reuters reported"), a dropped sentence, a few swapped words. A
language model asked for a minimal-change polish instead touches many small words and phrasings spread
over the whole paragraph. Two features tell them apart: the share of words changed *outside* the largest
single edit (a dropped sentence or an added clause is one edit, however long), and the number of further
separate edits.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from rapidfuzz.distance import Levenshtein


@dataclass(frozen=True)
class EditShape:
    """How the word sequence ``later`` differs from ``earlier``."""

    scattered: float
    """Words changed outside the largest single edit, per word of the later paragraph."""
    extra_edits: int
    """Separate edits beyond the largest one."""


def edit_shape(later: list[str], earlier: list[str]) -> EditShape:
    """The shape of the word-level edit that turns ``earlier`` into ``later``."""
    sizes = sorted(
        (max(op.src_end - op.src_start, op.dest_end - op.dest_start)
         for op in Levenshtein.opcodes(earlier, later) if op.tag != "equal"),
        reverse=True,
    )
    return EditShape(sum(sizes[1:]) / max(1, len(later)), max(0, len(sizes) - 1))


def machine_edit_probability(shape: EditShape, intercept: float, scattered_weight: float, edits_weight: float) -> float:
    """Logistic probability that a near-identical pair is a language-model edit rather than a human one."""
    z = intercept + scattered_weight * shape.scattered + edits_weight * math.log1p(shape.extra_edits)
    return 1.0 / (1.0 + math.exp(-z))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 0.01, steps: int = 50) -> np.ndarray:
    """(intercept, weights...) of a logistic regression by Newton's method, with a small ridge penalty on
    the weights so that separable training pairs still give finite coefficients."""
    design = np.hstack([np.ones((len(x), 1)), x])
    beta = np.zeros(design.shape[1])
    penalty = np.diag([0.0] + [l2] * x.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-design @ beta))
        gradient = design.T @ (p - y) + penalty @ beta
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + penalty + 1e-9 * np.eye(len(beta))
        beta -= np.linalg.solve(hessian, gradient)
    return beta
