"""Leave-one-group-out validation on a labelled corpus: figures for groups no fitted parameter has seen.

Groups come in three dimensions: the generator and prompt of a model-written paragraph, the page
template of a document (the news template with class names, the bare-``<p>`` blog, plain text) and the
document type. Groups with fewer than ``MIN_GROUP`` labelled paragraphs are pooled within their
dimension. For each group, the parameters fitted on this corpus (the per-label confidence calibration)
are refitted on the documents outside the group and only the group's paragraphs are scored. The
machine-edit model of ``pipeline.edits`` is fitted on other data (``tools/fit_machine_edit.py``), so the
whole corpus is classified once, from the saved segment and match stages of one pipeline run.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline.config import Calibration, Config, Platt
from pipeline.edits import fit_logistic
from pipeline.io.parquet import read_dataset
from pipeline.schema import CANDIDATES, LABELS, PARAGRAPHS
from pipeline.stages.classify import classify
from pipeline.text import words

MIN_GROUP = 30
_IDENTITY = Calibration(**{label: Platt(slope=1.0, intercept=0.0) for label in LABELS})


@dataclass(frozen=True)
class Group:
    dimension: str
    name: str
    paragraphs: frozenset  # (file name, para_index) of the gold paragraphs it holds

    @property
    def documents(self) -> set[str]:
        return {name for name, _ in self.paragraphs}


@dataclass(frozen=True)
class Saved:
    """The saved stage outputs of one pipeline run over a labelled corpus, with its gold labels."""

    paragraphs: pd.DataFrame
    candidates: pd.DataFrame
    documents: pd.DataFrame
    gold: list[dict]

    @property
    def name_of(self) -> dict[str, str]:
        return {r.doc_id: Path(str(r.source_path)).name for r in self.documents.itertuples()}


def load_saved(output: Path, bench: Path) -> Saved:
    lines = (Path(bench) / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    return Saved(read_dataset(Path(output) / "stages" / "segment", PARAGRAPHS).to_pandas(),
                 read_dataset(Path(output) / "stages" / "match", CANDIDATES).to_pandas(),
                 pd.read_parquet(Path(output) / "documents"), [json.loads(x) for x in lines if x.strip()])


def corpus_groups(bench: Path, gold: list[dict]) -> list[Group]:
    """Every group of every dimension, small ones pooled."""
    keyed = {"generator": lambda g: f"{g['generator']} / {g.get('prompt')}" if g.get("generator") else None,
             "template": lambda g: page_template(Path(bench) / g["path"]),
             "doc_type": lambda g: g.get("doc_type")}
    groups = []
    for dimension, key in keyed.items():
        members: dict[str, set] = defaultdict(set)
        for g in gold:
            if (name := key(g)) is not None:
                members[name].add((Path(g["path"]).name, g["para_index"]))
        groups += _pooled(dimension, members)
    return groups


def page_template(path: Path) -> str:
    """The page template a document uses: plain text, an HTML page whose blocks carry class names, or a
    bare-``<p>`` HTML page."""
    if path.suffix != ".html":
        return "plain text"
    return "html with class names" if "class=" in path.read_text(encoding="utf-8") else "bare html"


def _pooled(dimension: str, members: dict[str, set]) -> list[Group]:
    small = sorted(name for name, keys in members.items() if len(keys) < MIN_GROUP)
    groups = [Group(dimension, name, frozenset(keys)) for name, keys in sorted(members.items()) if name not in small]
    if small:
        groups.append(Group(dimension, " + ".join(small), frozenset().union(*(members[n] for n in small))))
    return groups


def labelled_predictions(prov: pd.DataFrame, saved: Saved) -> pd.DataFrame:
    """Predicted paragraphs lying mostly inside a gold paragraph: file name, gold key, label, confidence, right."""
    gold_by_doc: dict[str, list[tuple[Counter, int, str]]] = defaultdict(list)
    for g in saved.gold:
        gold_by_doc[Path(g["path"]).name].append((Counter(words(g["text"])), g["para_index"], g["label"]))
    name_of = saved.name_of
    rows = []
    for r in prov.itertuples():
        name, tokens = name_of.get(r.doc_id), Counter(words(r.text))
        if not tokens or name not in gold_by_doc:
            continue
        overlap, index, gold = max((sum((tokens & g).values()), i, label) for g, i, label in gold_by_doc[name])
        if overlap / sum(tokens.values()) >= 0.5:
            rows.append({"name": name, "gold": (name, index), "label": str(r.label),
                         "confidence": float(r.confidence), "right": str(r.label) == gold})
    return pd.DataFrame(rows, columns=["name", "gold", "label", "confidence", "right"])


def fit_platt(margin: np.ndarray, right: np.ndarray) -> tuple[float, float]:
    """Logistic regression of ``right`` on ``margin``: (slope, intercept)."""
    beta = fit_logistic(margin.reshape(-1, 1), right, l2=1e-3)
    return float(beta[1]), float(beta[0])


def calibration_fits(frame: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Per predicted label, the (slope, intercept) mapping the logit of confidence to the chance of being right."""
    out = {}
    for label in LABELS:
        part = frame[frame["label"] == label]
        out[label] = fit_platt(logit(part["confidence"].to_numpy()), part["right"].to_numpy(float)) if len(part) else (1.0, 0.0)
    return out


def recalibrated(frame: pd.DataFrame, fits: dict[str, tuple[float, float]]) -> np.ndarray:
    slope = frame["label"].map({k: v[0] for k, v in fits.items()}).to_numpy(float)
    intercept = frame["label"].map({k: v[1] for k, v in fits.items()}).to_numpy(float)
    return 1 / (1 + np.exp(-(slope * logit(frame["confidence"].to_numpy()) + intercept)))


def expected_calibration_error(confidence: np.ndarray, right: np.ndarray, bins: int = 10) -> float:
    """Mean over equal-width confidence bins of |mean confidence - share right|, weighted by bin size."""
    if not len(confidence):
        return 0.0
    edges = np.minimum((confidence * bins).astype(int), bins - 1)
    return float(sum(abs(confidence[edges == b].mean() - right[edges == b].mean()) * (edges == b).sum()
                     for b in range(bins) if (edges == b).any()) / len(confidence))


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


@dataclass(frozen=True)
class Fold:
    """One held-out group: its provenance rows under parameters fitted without it."""

    group: Group
    provenance: pd.DataFrame
    predictions: pd.DataFrame
    """The group's predicted paragraphs with ``confidence`` recalibrated on the other groups."""


def run_folds(saved: Saved, groups: list[Group], cfg: Config) -> list[Fold]:
    """Each group held out in turn: the calibration fitted on the rest, the group's rows kept."""
    dates = saved.documents[["doc_id", "published_at"]]
    every = set(saved.name_of.values())
    fold_cfg = cfg.model_copy(update={"classify": cfg.classify.model_copy(update={"calibration": _IDENTITY})})
    prov = classify(pa.Table.from_pandas(saved.paragraphs, preserve_index=False),
                    pa.Table.from_pandas(saved.candidates, preserve_index=False),
                    pa.Table.from_pandas(dates, preserve_index=False), fold_cfg).to_pandas()
    predictions = labelled_predictions(prov, saved)
    folds = []
    for group in groups:
        train = every - group.documents
        fits = calibration_fits(predictions[predictions["name"].isin(train)])
        held = predictions[predictions["gold"].isin(group.paragraphs)].copy()
        held["confidence"] = recalibrated(held, fits)
        folds.append(Fold(group, prov, held))
    return folds
