"""Stage 4, match: candidate source paragraphs from other documents (a global stage).

Two retrievals feed one candidate table: MinHash LSH over word shingles finds near-verbatim reuse,
nearest neighbours in embedding space find rewording. Paragraphs under ``min_words`` take no part:
short lines ("Read more", a newsletter line) are never evidence of copying.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
from datasketch import MinHash, MinHashLSH

from pipeline.config import MatchConfig
from pipeline.schema import CANDIDATES, to_table
from pipeline.text import shingles, words

EmbedFn = Callable[[list[str], list[str]], np.ndarray]
"""(text hashes, texts) -> unit-length vectors, one row per text."""

_ROW_CHUNK = 2048


def match(paragraphs: pa.Table, cfg: MatchConfig, embed: EmbedFn | None = None) -> pa.Table:
    """Candidate pairs (both directions) between paragraphs of different documents."""
    frame = paragraphs.to_pandas()
    frame = frame[frame["word_count"] >= cfg.min_words].sort_values(["doc_id", "para_index"]).reset_index(drop=True)
    if frame.empty:
        return to_table(pd.DataFrame(columns=[f.name for f in CANDIDATES]), CANDIDATES)
    grams = [shingles(words(t), cfg.shingle_size) for t in frame["text"]]
    docs = frame["doc_id"].to_numpy()
    pairs: dict[tuple[int, int], str] = {}
    for i, j in lexical_pairs(grams, docs, cfg):
        pairs[(i, j)] = "minhash"
    vectors = None
    if cfg.semantic and embed is not None:
        vectors = embed(frame["text_hash"].tolist(), frame["text"].tolist())
        for i, j in semantic_pairs(vectors, docs, cfg.top_k, cfg.min_cosine):
            pairs[(i, j)] = "both" if pairs.get((i, j)) == "minhash" else "embedding"
        for i, j in alignment_pairs(vectors, docs, set(pairs), cfg.align_min_pairs, cfg.align_min_cosine):
            pairs.setdefault((i, j), "alignment")
    rows = []
    for (i, j), via in sorted(pairs.items()):
        rows.append({
            "doc_id": docs[i], "para_index": int(frame.at[i, "para_index"]),
            "cand_doc_id": docs[j], "cand_para_index": int(frame.at[j, "para_index"]),
            "jaccard": _jaccard(grams[i], grams[j]),
            "cosine": float(vectors[i] @ vectors[j]) if vectors is not None else None,
            "via": via,
        })
    return to_table(pd.DataFrame(rows, columns=[f.name for f in CANDIDATES]), CANDIDATES)


def lexical_pairs(grams: list[set[str]], docs: np.ndarray, cfg: MatchConfig) -> set[tuple[int, int]]:
    """Ordered pairs (i, j), i != j in different documents, whose shingle sets collide in the LSH index.

    A paragraph whose bucket-mates span more than ``max_bucket_docs`` documents is a template line, not a copy.
    """
    lsh = MinHashLSH(threshold=cfg.lsh_threshold, num_perm=cfg.num_perm)
    signatures = []
    for i, gram_set in enumerate(grams):
        signature = MinHash(num_perm=cfg.num_perm, seed=1)
        signature.update_batch([g.encode("utf-8") for g in sorted(gram_set)])
        signatures.append(signature)
        lsh.insert(i, signature)
    pairs = set()
    for i, signature in enumerate(signatures):
        mates = [j for j in lsh.query(signature) if docs[j] != docs[i]]
        if len({docs[j] for j in mates}) > cfg.max_bucket_docs:
            continue
        for j in mates:
            pairs.add((i, j))
            pairs.add((j, i))
    return pairs


def semantic_pairs(vectors: np.ndarray, docs: np.ndarray, top_k: int, min_cosine: float) -> set[tuple[int, int]]:
    """Ordered pairs (i, j): j among i's ``top_k`` nearest paragraphs of other documents, cosine >= ``min_cosine``."""
    pairs = set()
    n = len(vectors)
    k = min(top_k, n - 1)
    if k <= 0:
        return pairs
    for start in range(0, n, _ROW_CHUNK):
        block = vectors[start : start + _ROW_CHUNK] @ vectors.T
        rows = np.arange(start, min(start + _ROW_CHUNK, n))
        block[docs[rows][:, None] == docs[None, :]] = -np.inf
        top = np.argpartition(-block, k - 1, axis=1)[:, :k]
        for local, i in enumerate(rows):
            for j in top[local]:
                if block[local, j] >= min_cosine:
                    pairs.add((int(i), int(j)))
                    pairs.add((int(j), int(i)))
    return pairs


def alignment_pairs(
    vectors: np.ndarray, docs: np.ndarray, found: set[tuple[int, int]], min_pairs: int, min_cosine: float
) -> set[tuple[int, int]]:
    """All paragraph pairs down to ``min_cosine`` between documents already linked by ``min_pairs`` pairs.

    A rewrite follows its source paragraph by paragraph, including the loosely reworded ones that no
    nearest-neighbour search would surface; classify needs them to judge the whole document.
    """
    links: dict[tuple[str, str], int] = {}
    for i, j in found:
        key = (docs[i], docs[j])
        links[key] = links.get(key, 0) + 1
    rows_of: dict[str, np.ndarray] = {}
    for doc in np.unique(docs):
        rows_of[doc] = np.flatnonzero(docs == doc)
    pairs = set()
    for (a, b), count in sorted(links.items()):
        if count < min_pairs or a > b:
            continue
        rows_a, rows_b = rows_of[a], rows_of[b]
        sims = vectors[rows_a] @ vectors[rows_b].T
        for x, y in zip(*np.nonzero(sims >= min_cosine)):
            pairs.add((int(rows_a[x]), int(rows_b[y])))
            pairs.add((int(rows_b[y]), int(rows_a[x])))
    return pairs


def _jaccard(a: set[str], b: set[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0
