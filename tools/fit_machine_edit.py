"""Fit the machine-edit logistic model ([classify] machine_edit_*), validated leave one generator out.

Usage: python tools/fit_machine_edit.py [--rewrites ../shared/bench/rewrite-pairs]
       [--bench ../shared/bench/provenance-dev] [--stress tests/data/stress] [--config FILE]

Machine edits: the near-verbatim (source, rewrite) pairs of rewrite-pairs (three model families).
Human edits: copies of provenance-dev's Reuters paragraphs with 1 to 8 human-style edits, made by
``tools/build_stress_sets.py``'s editor from the articles its human-edits stress set does not use (seed
``--seed``). No provenance-dev label is used, so provenance-dev is held out from the fit as a whole.
Features: log(1 + count) of each kind of edit of ``pipeline.edits`` (rewordings, substitutions,
additions). Each generator weighs alike and the two classes weigh alike; a feature fitted negative is held
at 0 (an edit kind never shows a human's hand); the intercept is then lowered until at most ``HUMAN_MISS``
of the training human edits read as machine, and until one rewording with one other change does not (a
copy called a rewrite is the costlier error, and a copy editor changes a paragraph in one or two places).
Prints, for each generator, the share of its near-verbatim rewrites read as machine by a fit made without
it, and the share of the stress set's human-edited copies read as human; then the coefficients fitted on
everything, to paste into configs/default.toml; then the commonest edit shapes with how many pairs of each
group have them: a shape that both a generator's polishes and the stress set's human copies have is one no
fit of these features can call machine without calling those copies machine too. Writes every fit to ``machine_edit_fits.json`` next to this
script: ``all`` (the configuration's) and ``without`` each generator, which ``provenance eval rewrites``
scores that generator with.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.config import Config, load_config
from pipeline.edits import edit_shape, fit_logistic, proper_names, shape_features
from pipeline.stages.classify import score_links, stoplist_of
from pipeline.text import words

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_stress_sets import HELD_OUT_SOURCES, Bench, human_edit, names_in, spare_sentences  # noqa: E402

HUMAN_MISS = 0.03
MARGIN = 0.1
HUMAN = "human"
FITS = Path(__file__).with_name("machine_edit_fits.json")
SETTINGS = ("machine_edit_intercept", "machine_edit_rewordings", "machine_edit_substitutions", "machine_edit_additions")


def near_verbatim_features(pairs: list[tuple[str, str]], cfg: Config) -> tuple[np.ndarray, np.ndarray]:
    """Features of the (later, earlier) pairs that pass classify's near-verbatim test, and which did."""
    paras = pd.DataFrame([{"doc_id": f"{side}{n}", "para_index": 0, "text": text}
                          for n, pair in enumerate(pairs) for side, text in zip("le", pair)])
    candidates = pd.DataFrame({"doc_id": [f"l{n}" for n in range(len(pairs))], "para_index": 0,
                               "cand_doc_id": [f"e{n}" for n in range(len(pairs))], "cand_para_index": 0,
                               "cosine": 1.0})
    links = score_links(paras, candidates, cfg)
    kept = np.array([links[(f"l{n}", 0)][0].near_verbatim for n in range(len(pairs))], dtype=bool)
    rows = []
    for (later, earlier), near in zip(pairs, kept):
        if near:
            tokens = words(later)
            shape = edit_shape(tokens, words(earlier), stoplist_of(tokens), proper_names(later) | proper_names(earlier))
            rows.append(shape_features(shape))
    return np.array(rows).reshape(-1, 3), kept


def machine_pairs(rewrites: Path) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for line in (rewrites / "pairs.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out.setdefault(row["generator"], []).append((row["rewrite"], row["source"]))
    return out


def training_copies(bench: Bench, seed: int) -> list[tuple[str, str]]:
    """Two human-edited copies (1 to 8 edits) of every paragraph of the Reuters articles the stress set leaves."""
    rng = random.Random(seed)
    sources = bench.of_type("source_article")[HELD_OUT_SOURCES:]
    spare, names = spare_sentences(bench, "hardneg_same_topic"), names_in(bench, sources)
    rng.shuffle(spare)
    return [(human_edit(text, rng.randint(1, 8), spare, names, rng)[0], text)
            for path in sources for text in bench.text(path) for _ in range(2)]


def stress_copies(stress: Path) -> list[tuple[str, str]]:
    rows = [json.loads(x) for x in (stress / "human-edits" / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    text = {(r["path"], r["para_index"]): r["text"] for r in rows}
    return [(r["text"], text[(r["source_path"], r["source_para_index"])]) for r in rows if r["label"] == "copied"]


def fit(groups: dict[str, np.ndarray]) -> np.ndarray:
    """Balanced logistic fit (every machine group alike, classes alike), intercept lowered until at most
    ``HUMAN_MISS`` of the human pairs read as machine."""
    x = np.vstack(list(groups.values()))
    y = np.concatenate([np.full(len(v), float(name != HUMAN)) for name, v in groups.items()])
    machines = [name for name in groups if name != HUMAN]
    w = np.concatenate([np.full(len(v), (1.0 if name == HUMAN else 1.0 / len(machines)) / len(v))
                        for name, v in groups.items()]) * len(y)
    beta = _non_negative_fit(x, y, w)
    human_z = beta[0] + groups[HUMAN] @ beta[1:]
    beta[0] -= max(0.0, float(np.quantile(human_z, 1 - HUMAN_MISS)))
    # One rewording and one other change are no evidence: a copy editor's "because" -> "as" and "company" ->
    # "firm" look like a polish's (the issue: a human changes a paragraph "in one or two places").
    beta[0] = min(beta[0], -np.log1p(1) * (beta[1] + max(beta[2], beta[3])) - MARGIN)
    return beta


def _non_negative_fit(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Logistic fit whose feature weights are all >= 0: a feature fitted negative is dropped (held at 0) and
    the rest refitted. An edit kind may fail to show a model's hand; it never shows a human's."""
    kept = list(range(x.shape[1]))
    while True:
        fitted = fit_logistic(x[:, kept], y, weights=w)
        beta = np.zeros(x.shape[1] + 1)
        beta[0], beta[[k + 1 for k in kept]] = fitted[0], fitted[1:]
        negative = [k for k in kept if beta[k + 1] < 0]
        if not negative:
            return beta
        kept.remove(min(negative, key=lambda k: beta[k + 1]))


def read_as_machine(beta: np.ndarray, x: np.ndarray) -> float:
    return float((beta[0] + x @ beta[1:] > 0).mean()) if len(x) else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rewrites", type=Path, default=Path("../shared/bench/rewrite-pairs"))
    ap.add_argument("--bench", type=Path, default=Path("../shared/bench/provenance-dev"))
    ap.add_argument("--stress", type=Path, default=Path("tests/data/stress"))
    ap.add_argument("--seed", type=int, default=20)
    ap.add_argument("--config", type=Path)
    a = ap.parse_args()
    cfg = load_config(a.config)
    groups = {}
    for generator, pairs in sorted(machine_pairs(a.rewrites).items()):
        groups[generator], kept = near_verbatim_features(pairs, cfg)
        print(f"{generator}: {int(kept.sum())} of {len(pairs)} rewrites near-verbatim")
    groups[HUMAN], kept = near_verbatim_features(training_copies(Bench(a.bench), a.seed), cfg)
    print(f"training human-edited copies: {int(kept.sum())} of {len(kept)} near-verbatim")
    held_humans, kept = near_verbatim_features(stress_copies(a.stress), cfg)
    print(f"stress-set human-edited copies (held out): {int(kept.sum())} of {len(kept)} near-verbatim")
    without = {}
    for generator in [g for g in groups if g != HUMAN]:
        beta = fit({k: v for k, v in groups.items() if k != generator})
        without[generator] = settings_of(beta)
        print(f"held out {generator}: {read_as_machine(beta, groups[generator]):.3f} read as machine; "
              f"stress copies read as human {1 - read_as_machine(beta, held_humans):.3f}")
    beta = fit(groups)
    print(f"all generators: stress copies read as human {1 - read_as_machine(beta, held_humans):.3f}")
    print("\n".join(f"{name} = {value:.2f}" for name, value in settings_of(beta).items()))
    print(shape_table({**groups, "stress human copies": held_humans}))
    FITS.write_text(json.dumps({"all": settings_of(beta), "without": without}, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {FITS}")
    return 0


def shape_table(groups: dict[str, np.ndarray], rows: int = 12) -> str:
    """The ``rows`` commonest edit shapes (rewordings, substitutions, additions) over all groups, as a table
    of how many pairs of each group have each shape."""
    counts = {name: Counter(map(tuple, np.rint(np.expm1(x)).astype(int).tolist())) for name, x in groups.items()}
    shapes = sum(counts.values(), Counter()).most_common(rows)
    lines = ["| shape (rewordings, substitutions, additions) | " + " | ".join(counts) + " |",
             "|---" * (len(counts) + 1) + "|"]
    lines += [f"| {shape} | " + " | ".join(str(c[shape]) for c in counts.values()) + " |" for shape, _ in shapes]
    return "\n".join(lines)


def settings_of(beta: np.ndarray) -> dict[str, float]:
    """The fit as ``[classify]`` settings, rounded as the configuration holds them."""
    return {name: round(float(value), 2) for name, value in zip(SETTINGS, beta)}


if __name__ == "__main__":
    raise SystemExit(main())
