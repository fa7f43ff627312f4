"""Fit the machine-edit logistic model ([classify] machine_edit_*) on a labelled corpus, with a group check.

Usage: python tools/fit_machine_edit.py --output DIR --bench BENCH [--config FILE]

DIR holds a pipeline run over BENCH/docs (its saved segment and match stages). Training pairs are the
near-verbatim candidate pairs between a gold derived paragraph and its gold source paragraph, labelled
copied (human edit) or ai_paraphrased (machine edit). Prints the coefficients fitted on all documents,
and, for every generator/prompt group, the accuracy on its pairs of a fit made without its documents
(the leave-one-group-out protocol of pipeline/evaluate/groups.py).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from pipeline.config import load_config
from pipeline.edits import fit_logistic
from pipeline.evaluate.groups import corpus_groups, edit_training_pairs, load_saved


def accuracy(beta: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    return float(((np.hstack([np.ones((len(x), 1)), x]) @ beta > 0) == (y > 0.5)).mean()) if len(y) else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--output", required=True, type=Path)
    ap.add_argument("--bench", required=True, type=Path)
    ap.add_argument("--config", type=Path)
    a = ap.parse_args()
    cfg = load_config(a.config)
    saved = load_saved(a.output, a.bench)
    x, y, names = edit_training_pairs(saved, cfg)
    beta = fit_logistic(x, y)
    print(f"pairs {len(y)} (machine {int(y.sum())})")
    print(f"machine_edit_intercept = {beta[0]:.2f}\nmachine_edit_scattered = {beta[1]:.2f}\nmachine_edit_extra = {beta[2]:.2f}")
    print(f"training accuracy {accuracy(beta, x, y):.3f}")
    for group in corpus_groups(a.bench, saved.gold):
        if group.dimension == "doc_type":
            held = np.array([n in group.documents for n in names], dtype=bool)
            fitted = fit_logistic(x[~held], y[~held])
            print(f"held out {group.name}: accuracy {accuracy(fitted, x[held], y[held]):.3f} "
                  f"({int(held.sum())} pairs, {int(y[held].sum())} machine)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
