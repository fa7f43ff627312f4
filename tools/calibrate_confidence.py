"""Fit [classify.calibration] so that `confidence` is the probability that a paragraph's label is right.

Usage: python tools/calibrate_confidence.py --output DIR --bench BENCH [--config FILE]

DIR holds a run over BENCH/docs (e.g. `provenance eval provenance --output DIR`); its saved segment and match
stages are classified again with FILE, keeping each decision's evidence (`pipeline.config.EVIDENCE`: the
cosine, token-sequence similarity and containment of the link it rests on, how undecided the machine-edit
model is, the share of the paragraph's words aligned to the source, the margin over the decisive threshold).
Each predicted paragraph is matched to the gold paragraph it lies in (most of its words inside it, as the
scorers match them); it is right when the labels agree. Per predicted label, a ridge logistic regression of
rightness on the standardised evidence gives the weights. Prints the expected calibration error (10 bins)
per label cross-fitted in each dimension of `pipeline.evaluate.groups` (each group's paragraphs scored by a
fit on the other groups' documents, as `provenance eval provenance --leave-one-group-out` does), then the
TOML fitted on the whole corpus, for configs/default.toml and the defaults of `pipeline.config.Calibration`.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from pipeline.config import EVIDENCE, load_config
from pipeline.evaluate.groups import (corpus_groups, cross_fitted, expected_calibration_error, fit_calibration,
                                      load_saved, saved_predictions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--bench", type=Path, required=True)
    parser.add_argument("--config", type=Path)
    args = parser.parse_args()
    saved = load_saved(args.output, args.bench)
    _, predictions = saved_predictions(saved, load_config(args.config))
    print(f"{len(predictions)} predicted paragraphs, {predictions['right'].mean():.3f} right")
    groups = corpus_groups(args.bench, saved.gold)
    for dimension in dict.fromkeys(g.dimension for g in groups):
        crossed = pd.concat([cross_fitted(predictions, g) for g in groups if g.dimension == dimension])
        print(f"ECE cross-fitted over {dimension} groups: " + ", ".join(
            f"{label} {expected_calibration_error(part['confidence'].to_numpy(), part['right'].to_numpy(float)):.3f}"
            f" (n {len(part)})" for label, part in crossed.groupby("label")))
    print("\n[classify.calibration]")
    for label, model in fit_calibration(predictions):
        terms = ", ".join(f"{name} = {getattr(model, name):.3f}" for name in ("intercept", *EVIDENCE))
        print(f"{label} = {{ {terms} }}")


if __name__ == "__main__":
    main()
