"""Fit the machine-edit logistic model ([classify] machine_edit_*) on a labelled corpus, with a split check.

Usage: python tools/fit_machine_edit.py --output DIR --bench BENCH [--config FILE]

DIR holds a pipeline run over BENCH/docs (its saved segment and match stages). Training pairs are the
near-verbatim candidate pairs between a gold derived paragraph and its gold source paragraph, labelled
copied (human edit) or ai_paraphrased (machine edit). Prints the coefficients fitted on all documents,
and the accuracy of a fit on half the documents (by hash of the file name) on the other half.
"""
from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.config import load_config
from pipeline.edits import edit_shape
from pipeline.io.parquet import read_dataset
from pipeline.schema import CANDIDATES, PARAGRAPHS
from pipeline.stages.classify import score_links
from pipeline.text import words


def training_pairs(output: Path, bench: Path, cfg) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(features, is_machine, document name) of every near-verbatim gold derived pair."""
    paras = read_dataset(output / "stages" / "segment", PARAGRAPHS).to_pandas()
    links = score_links(paras, read_dataset(output / "stages" / "match", CANDIDATES).to_pandas(), cfg)
    names = {r.doc_id: Path(r.source_path).name for r in pd.read_parquet(output / "documents").itertuples()}
    key_of = {(names[r.doc_id], " ".join(words(r.text))): (r.doc_id, int(r.para_index)) for r in paras.itertuples()}
    tokens = {(r.doc_id, int(r.para_index)): words(r.text) for r in paras.itertuples()}
    gold = [json.loads(x) for x in (bench / "labels.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    gold_key = {(g["path"], g["para_index"]): key_of.get((Path(g["path"]).name, " ".join(words(g["text"])))) for g in gold}
    rows, labels, docs = [], [], []
    for g in gold:
        if g["label"] == "original":
            continue
        key, source = gold_key[(g["path"], g["para_index"])], gold_key[(g["source_path"], g["source_para_index"])]
        link = next((l for l in links.get(key, []) if l.source == source), None)
        if link is None or not link.near_verbatim:
            continue
        shape = edit_shape(tokens[key], tokens[source])
        rows.append((shape.scattered, np.log1p(shape.extra_edits)))
        labels.append(g["label"] == "ai_paraphrased")
        docs.append(Path(g["path"]).name)
    return np.array(rows), np.array(labels, dtype=float), docs


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 0.01, steps: int = 50) -> np.ndarray:
    """(intercept, weights...) by Newton's method with a small ridge penalty on the weights."""
    design = np.hstack([np.ones((len(x), 1)), x])
    beta = np.zeros(design.shape[1])
    penalty = np.diag([0.0] + [l2] * x.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-design @ beta))
        gradient = design.T @ (p - y) + penalty @ beta
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + penalty
        beta -= np.linalg.solve(hessian, gradient)
    return beta


def accuracy(beta: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    return float(((np.hstack([np.ones((len(x), 1)), x]) @ beta > 0) == (y > 0.5)).mean())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--output", required=True, type=Path)
    ap.add_argument("--bench", required=True, type=Path)
    ap.add_argument("--config", type=Path, default=Path("configs/default.toml"))
    a = ap.parse_args()
    x, y, docs = training_pairs(a.output, a.bench, load_config(a.config))
    beta = fit_logistic(x, y)
    print(f"pairs {len(y)} (machine {int(y.sum())})")
    print(f"machine_edit_intercept = {beta[0]:.2f}\nmachine_edit_scattered = {beta[1]:.2f}\nmachine_edit_extra = {beta[2]:.2f}")
    print(f"training accuracy {accuracy(beta, x, y):.3f}")
    half = np.array([int(hashlib.sha1(d.encode()).hexdigest(), 16) % 2 for d in docs])
    for fit_on in (0, 1):
        beta_half = fit_logistic(x[half == fit_on], y[half == fit_on])
        held = half != fit_on
        print(f"fit on half {fit_on}: held-out accuracy {accuracy(beta_half, x[held], y[held]):.3f} "
              f"({int(held.sum())} pairs, {int(y[held].sum())} machine)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
