"""Fit [classify.calibration] so that `confidence` is the probability that a paragraph's label is right.

Usage: python tools/calibrate_confidence.py --output DIR --bench BENCH [--config FILE]

DIR holds a run over BENCH/docs made with FILE (e.g. `provenance eval provenance --output DIR`). Each
predicted paragraph is matched to the gold paragraph it lies in (most of its words inside it, as the
scorers match them); it is right when the labels agree. Per predicted label, a logistic regression of
rightness on the decision margin (the logit of the current confidence) gives the new slope and intercept,
composed with the current ones. Prints the expected calibration error (10 bins) per label, cross-fitted:
each document type's paragraphs recalibrated by a fit on the other types (`provenance eval provenance
--leave-one-group-out` measures it with every fitted parameter refitted); then the TOML fitted on all.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from pipeline.config import load_config
from pipeline.evaluate.groups import (calibration_fits, corpus_groups, expected_calibration_error, labelled_predictions,
                                      load_saved, recalibrated)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--bench", type=Path, required=True)
    parser.add_argument("--config", type=Path)
    args = parser.parse_args()
    current = load_config(args.config).classify.calibration
    saved = load_saved(args.output, args.bench)
    frame = labelled_predictions(pd.read_parquet(args.output / "provenance"), saved)
    print(f"{len(frame)} predicted paragraphs, {frame['right'].mean():.3f} right")
    parts = []
    for group in corpus_groups(args.bench, saved.gold):
        if group.dimension == "doc_type":
            held = frame[frame["gold"].isin(group.paragraphs)].copy()
            held["refitted"] = recalibrated(held, calibration_fits(frame[~frame["name"].isin(group.documents)]))
            parts.append(held)
    crossed = pd.concat(parts)
    for label, part in crossed.groupby("label"):
        right = part["right"].to_numpy(float)
        print(f"ECE {label}: current {expected_calibration_error(part['confidence'].to_numpy(), right):.3f}, "
              f"cross-fitted by document type {expected_calibration_error(part['refitted'].to_numpy(), right):.3f}")
    print("\n# [classify.calibration], composed with the config's current values")
    for label, (a, b) in calibration_fits(frame).items():
        now = getattr(current, label)
        print(f"{label} = {{ slope = {a * now.slope:.3f}, intercept = {a * now.intercept + b:.3f} }}")


if __name__ == "__main__":
    main()
