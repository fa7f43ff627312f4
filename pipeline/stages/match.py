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
from datasketch import LeanMinHash, MinHash, MinHashLSH

from pipeline.config import MatchConfig
from pipeline.schema import CANDIDATES, to_table
from pipeline.text import shingles, words

EmbedFn = Callable[[list[str], list[str]], np.ndarray]
"""(text hashes, texts) -> unit-length vectors, one row per text."""
SignFn = Callable[[list[str], list[str]], np.ndarray]
"""(text hashes, texts) -> MinHash signatures (uint64, one row of ``num_perm`` per text)."""

_ROW_CHUNK = 2048
_MINHASH_SEED = 1
_MINHASH_SCHEME = "affine32"  # fixed, so that stored signatures stay comparable across versions


def match(paragraphs: pa.Table, cfg: MatchConfig, embed: EmbedFn | None = None, sign: SignFn | None = None,
          new_docs: set[str] | None = None) -> pa.Table:
    """Candidate pairs (both directions) between paragraphs of different documents.

    With ``new_docs``, only pairs that involve a paragraph of those documents are looked for: the other
    paragraphs are the history that new ones are matched against.
    """
    frame = paragraphs.to_pandas()
    frame = frame[frame["word_count"] >= cfg.min_words].sort_values(["doc_id", "para_index"]).reset_index(drop=True)
    if frame.empty:
        return to_table(pd.DataFrame(columns=[f.name for f in CANDIDATES]), CANDIDATES)
    grams = [shingles(words(t), cfg.shingle_size) for t in frame["text"]]
    docs = frame["doc_id"].to_numpy()
    query = np.ones(len(frame), bool) if new_docs is None else frame["doc_id"].isin(new_docs).to_numpy()
    hashes, texts = frame["text_hash"].tolist(), frame["text"].tolist()
    signatures = sign(hashes, texts) if sign else minhash_signatures(texts, cfg)
    pairs: dict[tuple[int, int], str] = {}
    for i, j in lexical_pairs(signatures, docs, query, cfg):
        pairs[(i, j)] = "minhash"
    vectors = None
    if cfg.semantic and embed is not None:
        vectors = embed(hashes, texts)
        for i, j in semantic_pairs(vectors, docs, query, cfg):
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


def minhash_signatures(texts: list[str], cfg: MatchConfig) -> np.ndarray:
    """MinHash signatures of the texts' word shingles, one uint64 row of ``num_perm`` per text."""
    rows = np.empty((len(texts), cfg.num_perm), dtype=np.uint64)
    template = MinHash(num_perm=cfg.num_perm, seed=_MINHASH_SEED, scheme=_MINHASH_SCHEME)
    for i, text in enumerate(texts):
        signature = template.copy()  # shares the permutations: drawing them is most of a fresh MinHash's cost
        signature.update_batch([g.encode("utf-8") for g in sorted(shingles(words(text), cfg.shingle_size))])
        rows[i] = signature.hashvalues
    return rows


def lexical_pairs(signatures: np.ndarray, docs: np.ndarray, query: np.ndarray, cfg: MatchConfig) -> set[tuple[int, int]]:
    """Ordered pairs (i, j) in different documents, one of them a query row, colliding in the LSH index.

    A paragraph whose bucket-mates span more than ``max_bucket_docs`` documents is a template line, not a copy.
    """
    lsh = MinHashLSH(threshold=cfg.lsh_threshold, num_perm=cfg.num_perm)
    minhashes = [LeanMinHash(seed=_MINHASH_SEED, hashvalues=row, scheme=_MINHASH_SCHEME) for row in signatures]
    for i, minhash in enumerate(minhashes):
        lsh.insert(i, minhash, check_duplication=False)
    pairs = set()
    for i in np.flatnonzero(query):
        i = int(i)
        mates = [j for j in lsh.query(minhashes[i]) if docs[j] != docs[i]]
        if len({docs[j] for j in mates}) > cfg.max_bucket_docs:
            continue
        for j in mates:
            pairs.add((i, j))
            pairs.add((j, i))
    return pairs


def semantic_pairs(vectors: np.ndarray, docs: np.ndarray, query: np.ndarray, cfg: MatchConfig) -> set[tuple[int, int]]:
    """Ordered pairs (i, j), both ways, with cosine >= ``min_cosine``: each query row's ``top_k`` nearest
    paragraphs of other documents, and each other row's ``top_k`` nearest among the query rows (so a new
    paragraph that would enter an old one's neighbourhood is found as in a full run)."""
    everything = np.arange(len(vectors))
    pairs = _nearest_pairs(vectors, docs, np.flatnonzero(query), everything, cfg)
    if not query.all():
        pairs |= _nearest_pairs(vectors, docs, np.flatnonzero(~query), np.flatnonzero(query), cfg)
    return pairs


def _nearest_pairs(vectors: np.ndarray, docs: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                   cfg: MatchConfig) -> set[tuple[int, int]]:
    """Pairs (row, col) both ways for each row's ``top_k`` nearest columns of another document.

    Exact below ``ann_min_rows`` columns; above, an HNSW graph asked for ``ann_extra_neighbours`` more
    than needed, to make up for neighbours dropped as the row's own document.
    """
    pairs = set()
    if len(cols) == 0 or len(rows) == 0:
        return pairs
    exact = len(cols) <= cfg.ann_min_rows
    search = None if exact else _hnsw_searcher(vectors[cols], cfg)
    k = min(len(cols), cfg.top_k if exact else cfg.top_k + cfg.ann_extra_neighbours)
    for start in range(0, len(rows), _ROW_CHUNK):
        chunk = rows[start : start + _ROW_CHUNK]
        if exact:
            scores, found = _exact_search(vectors[chunk], vectors[cols], docs[chunk][:, None] == docs[cols][None, :], k)
        else:
            scores, found = search(vectors[chunk], k)
        for local, i in enumerate(chunk):
            kept = 0
            for score, c in zip(scores[local], found[local]):
                if c < 0 or docs[cols[c]] == docs[i]:
                    continue
                if score < cfg.min_cosine or kept == cfg.top_k:
                    break
                pairs.add((int(i), int(cols[c])))
                pairs.add((int(cols[c]), int(i)))
                kept += 1
    return pairs


def _exact_search(queries: np.ndarray, base: np.ndarray, excluded: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top ``k`` inner products per query, best first, never an ``excluded`` (same-document) column."""
    sims = queries @ base.T
    sims[excluded] = -np.inf
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    top_scores = np.take_along_axis(sims, top, axis=1)
    order = np.argsort(-top_scores, axis=1, kind="stable")
    return np.take_along_axis(top_scores, order, axis=1), np.take_along_axis(top, order, axis=1)


def _hnsw_searcher(base: np.ndarray, cfg: MatchConfig):
    """A search function over an HNSW graph of ``base`` (faiss, inner product), best first.

    The graph is built single-threaded in row order, so it (and every result) depends only on the input.
    """
    import faiss

    faiss.omp_set_num_threads(1)
    index = faiss.IndexHNSWFlat(base.shape[1], cfg.hnsw_m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = cfg.hnsw_ef_construction
    index.add(np.ascontiguousarray(base, dtype=np.float32))

    def search(queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        index.hnsw.efSearch = max(cfg.hnsw_ef_search, k)
        return index.search(np.ascontiguousarray(queries, dtype=np.float32), k)

    return search


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
    order = np.argsort(docs, kind="stable")
    names, starts, counts = np.unique(docs[order], return_index=True, return_counts=True)
    rows_of = {name: order[start:start + count] for name, start, count in zip(names, starts, counts)}
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
