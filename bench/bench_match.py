"""How the match stage's cost grows with the number of paragraphs (1k to 100k).

Synthetic corpus: documents of ten paragraphs drawn from a Zipf vocabulary, a tenth of them copying a
paragraph of an earlier document (one word changed), with embeddings clustered by topic as sentence
embeddings are (a topic per document, noise per paragraph) plus planted near-neighbours for the copies. Embeddings are given (the model's cost is linear and cached by
text hash); what is timed is candidate retrieval: MinHash signatures, LSH, nearest neighbours and the
document alignment. Prints seconds and peak memory per size, each size's cost relative to the smallest,
and the exponent of a log-log fit (1.0 is linear).

    python bench/bench_match.py [--sizes 1000 3000 10000 30000 100000]
"""
from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from pipeline.config import MatchConfig
from pipeline.schema import PARAGRAPHS, to_table
from pipeline.stages.match import match
from pipeline.text import text_hash

DIM = 384
PARAS_PER_DOC = 10


def corpus(n: int, seed: int = 7) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    vocab = np.array([f"w{i}" for i in range(20_000)])
    weights = 1.0 / np.arange(1, len(vocab) + 1)
    weights /= weights.sum()
    topics = rng.normal(size=(max(10, n // 200), DIM)).astype(np.float32)
    doc_topic = rng.integers(0, len(topics), size=n // PARAS_PER_DOC + 1)
    vectors = topics[doc_topic[np.arange(n) // PARAS_PER_DOC]] + rng.normal(scale=1.4, size=(n, DIM)).astype(np.float32)
    texts = []
    for i in range(n):
        if i >= 100 and rng.random() < 0.1:
            j = int(rng.integers(0, i - PARAS_PER_DOC))
            tokens = texts[j].split()
            tokens[int(rng.integers(0, len(tokens)))] = "changed"
            texts.append(" ".join(tokens))
            vectors[i] = vectors[j] + rng.normal(scale=0.05, size=DIM)
        else:
            texts.append(" ".join(rng.choice(vocab, size=int(rng.integers(20, 60)), p=weights)))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    frame = pd.DataFrame({
        "doc_id": [f"d{i // PARAS_PER_DOC:07d}" for i in range(n)],
        "para_index": [i % PARAS_PER_DOC for i in range(n)],
        "text": texts,
        "char_start": 0,
        "char_end": [len(t) for t in texts],
        "word_count": [len(t.split()) for t in texts],
        "text_hash": [text_hash(t) for t in texts],
    })
    return frame, vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10_000, 30_000, 100_000])
    args = parser.parse_args()
    cfg = MatchConfig()
    rows = []
    for n in args.sizes:
        frame, vectors = corpus(n)
        by_hash = dict(zip(frame["text_hash"], vectors))
        paragraphs = to_table(frame, PARAGRAPHS)
        began = time.perf_counter()
        candidates = match(paragraphs, cfg, embed=lambda hashes, texts: np.stack([by_hash[h] for h in hashes]))
        seconds = time.perf_counter() - began
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows.append((n, seconds, candidates.num_rows, peak_mb))
        print(f"{n:>8} paragraphs  {seconds:8.2f} s  {candidates.num_rows:>9} candidate rows  peak RSS {peak_mb:7.0f} MB",
              flush=True)
    base_n, base_s = rows[0][0], rows[0][1]
    print("\nparagraphs  cost ratio  (n ratio)")
    for n, seconds, _, _ in rows:
        print(f"{n:>10}  {seconds / base_s:10.1f}  ({n / base_n:.0f}x)")
    slope = np.polyfit(np.log([r[0] for r in rows]), np.log([r[1] for r in rows]), 1)[0]
    print(f"\nfitted exponent: cost ~ n^{slope:.2f}")


if __name__ == "__main__":
    main()
