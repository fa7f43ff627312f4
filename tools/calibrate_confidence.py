"""Fit [classify.calibration] so that `confidence` is the probability that a paragraph's label is right.

Usage: python tools/calibrate_confidence.py --output DIR --bench BENCH [--config FILE]

DIR holds a run over BENCH/docs made with FILE (e.g. `provenance eval provenance --output DIR`). Each
predicted paragraph is matched to the gold paragraph it lies in (most of its words inside it, as the
scorers match them); it is right when the labels agree. Per predicted label, a logistic regression of
rightness on the decision margin (the logit of the current confidence) gives the new slope and intercept,
composed with the current ones. Prints expected calibration error (10 bins) before and after, on all
documents and, fitted on half of them (by hash of the file name), on the other half; then the TOML.
"""
from __future__ import annotations

import argparse
import hashlib
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.config import load_config
from pipeline.schema import LABELS
from pipeline.text import words


def labelled_predictions(output: Path, bench: Path) -> pd.DataFrame:
    """One row per predicted paragraph that lies in a gold paragraph: label, confidence, right, half."""
    docs = pd.read_parquet(output / "documents")
    prov = pd.read_parquet(output / "provenance")
    name_of = {r.doc_id: Path(str(r.source_path)).name for r in docs.itertuples()}
    gold_by_doc: dict[str, list[tuple[Counter, str]]] = {}
    for line in (bench / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            g = json.loads(line)
            gold_by_doc.setdefault(Path(g["path"]).name, []).append((Counter(words(g["text"])), g["label"]))
    rows = []
    for r in prov.itertuples():
        name = name_of.get(r.doc_id)
        tokens = Counter(words(r.text))
        if not tokens or name not in gold_by_doc:
            continue
        overlap, gold = max((sum((tokens & g).values()), label) for g, label in gold_by_doc[name])
        if overlap / sum(tokens.values()) < 0.5:
            continue  # not inside any gold paragraph (a heading, say)
        half = int(hashlib.sha1(name.encode()).hexdigest(), 16) % 2
        rows.append({"label": str(r.label), "confidence": float(r.confidence), "right": str(r.label) == gold, "half": half})
    return pd.DataFrame(rows)


def fit_platt(margin: np.ndarray, right: np.ndarray, steps: int = 200) -> tuple[float, float]:
    """Logistic regression of ``right`` on ``margin`` (Newton's method, a little ridge for separable data)."""
    x = np.column_stack([margin, np.ones_like(margin)])
    w = np.array([1.0, 0.0])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-x @ w))
        gradient = x.T @ (p - right) + 1e-3 * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + 1e-3 * np.eye(2)
        w -= np.linalg.solve(hessian, gradient)
    return float(w[0]), float(w[1])


def expected_calibration_error(confidence: np.ndarray, right: np.ndarray, bins: int = 10) -> float:
    edges = np.minimum((confidence * bins).astype(int), bins - 1)
    return float(sum(abs(confidence[edges == b].mean() - right[edges == b].mean()) * (edges == b).sum()
                     for b in range(bins) if (edges == b).any()) / len(confidence))


def recalibrated(frame: pd.DataFrame, fits: dict[str, tuple[float, float]]) -> np.ndarray:
    margin = _logit(frame["confidence"].to_numpy())
    slope = frame["label"].map({k: v[0] for k, v in fits.items()}).to_numpy()
    intercept = frame["label"].map({k: v[1] for k, v in fits.items()}).to_numpy()
    return 1 / (1 + np.exp(-(slope * margin + intercept)))


def fits_for(frame: pd.DataFrame) -> dict[str, tuple[float, float]]:
    out = {}
    for label in LABELS:
        part = frame[frame["label"] == label]
        out[label] = fit_platt(_logit(part["confidence"].to_numpy()), part["right"].to_numpy(float)) if len(part) else (1.0, 0.0)
    return out


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--bench", type=Path, required=True)
    parser.add_argument("--config", type=Path)
    args = parser.parse_args()
    current = load_config(args.config).classify.calibration
    frame = labelled_predictions(args.output, args.bench)
    right = frame["right"].to_numpy(float)
    print(f"{len(frame)} predicted paragraphs, {right.mean():.3f} right")
    print(f"ECE all documents: current {expected_calibration_error(frame['confidence'].to_numpy(), right):.3f}, "
          f"refitted {expected_calibration_error(recalibrated(frame, fits_for(frame)), right):.3f}")
    for fit_half in (0, 1):
        train, test = frame[frame["half"] == fit_half], frame[frame["half"] != fit_half]
        print(f"ECE on half {1 - fit_half} (fitted on half {fit_half}): current "
              f"{expected_calibration_error(test['confidence'].to_numpy(), test['right'].to_numpy(float)):.3f}, "
              f"refitted {expected_calibration_error(recalibrated(test, fits_for(train)), test['right'].to_numpy(float)):.3f}")
    print("\n# [classify.calibration], composed with the config's current values")
    for label, (a, b) in fits_for(frame).items():
        now = getattr(current, label)
        print(f"{label} = {{ slope = {a * now.slope:.3f}, intercept = {a * now.intercept + b:.3f} }}")


if __name__ == "__main__":
    main()
