"""Stage 4, match: candidate source paragraphs from other documents (a global stage).

Two retrievals feed one candidate table: MinHash LSH over word shingles finds near-verbatim reuse,
nearest neighbours in embedding space find rewording, and documents already linked by several pairs are
aligned in full. Paragraphs under ``min_words`` take no part: short lines ("Read more", a newsletter line)
are never evidence of copying. Every step works on whole arrays of row indices (pairs are ``(i, j)``
index arrays into the sorted paragraph frame), never row by row in Python, and each paragraph brings at
most ``max_candidates`` pairs, so the stage grows with the corpus, not with its square.
"""
from __future__ import annotations

import functools
import hashlib
import mmap
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import NamedTuple, Union

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy import sparse

from pipeline import log
from pipeline.config import MatchConfig
from pipeline.embed import MapParts
from pipeline.io.scratch import (gather, release, release_pool, scatter, scratch_array, scratch_concatenation,
                                 scratch_table)
from pipeline.lookup import find_sorted
from pipeline.schema import CANDIDATES, to_table
from pipeline.text import sentences, text_hash, words

EmbedFn = Callable[[Sequence[str], Sequence[str]], np.ndarray]
"""(text hashes, texts) -> unit-length vectors, one row per text."""
SignFn = Callable[[Sequence[str], Sequence[str]], np.ndarray]
"""(text hashes, texts) -> MinHash signatures (uint32, one row of ``num_perm`` per text)."""
Matrix = Union[np.ndarray, "VectorRows"]
"""Vectors by row, read by index arrays: an array, or the stage's own ``VectorRows``."""

MINHASH_VERSION = "minhash_sig_v2"
"""Names the signature scheme below, so that signatures stored by another scheme are never mixed in."""
_MINHASH_SEED = 1
_MERSENNE = np.uint64((1 << 61) - 1)
_MASK32 = np.uint64(0xFFFFFFFF)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_CELLS = 1 << 23  # array cells per chunk of vectorised work (bounds the stage's working memory)
_PAIRS_PER_CHUNK = 1 << 18  # pairs measured at once by the steps after the retrievals (Jaccard, shares, bounds)
_COLUMNS = (1 << 63) - 1  # of the sparse rows that intersect two shingle sets: every 63-bit hash
_TEXTS_PER_CHUNK = 20_000  # texts shingled at once (their words as Python objects are the costly part)
_ROWS_PER_EMBED = 1 << 16  # rows a model embeds at once (a multiple of pipeline.embed's progress step)
_SCRATCH_BYTES = 1 << 28  # a matrix of vectors larger than this is kept in a scratch file (VectorRows)
_KMEANS_SEED = 0
_KMEANS_SAMPLE = 32  # sampled columns per centroid that k-means is fitted on
_KMEANS_ROUNDS = 6
_SCORE_DECIMALS = 9  # of float64 products, which differ in their last bits with the thread count
_FLOOR_SLACK = 1e-3  # a float32 product of unit vectors is within 1e-5 of the exact cosine
_VIA = np.array(["minhash", "embedding", "both", "alignment"], dtype=object)
_MINHASH, _EMBEDDING, _BOTH, _ALIGNMENT = 1, 2, 3, 4  # bit 1 minhash, bit 2 embedding, 4 alignment only


def match(paragraphs: pa.Table, cfg: MatchConfig, embed: EmbedFn | None = None, sign: SignFn | None = None,
          new_docs: set[str] | None = None, propose: EmbedFn | None = None, dates: pa.Table | None = None,
          spread: MapParts | None = None) -> pa.Table:
    """Candidate pairs (both directions) between paragraphs of different documents.

    With ``new_docs``, only pairs that involve a paragraph of those documents are looked for: the other
    paragraphs are the history that new ones are matched against. With ``propose`` (a cheap embedder), the
    neighbours come from its vectors and ``embed`` runs only on the paragraphs they could make candidates,
    and on the documents chosen for alignment (see ``cascade_pairs``). ``dates`` (``doc_id``,
    ``published_at``) lets the nearest-neighbour search also keep each paragraph's nearest possible sources
    by date (see ``semantic_pairs``). ``spread`` (an engine's ``map_parts``) lets its workers search the
    neighbours' blocks.
    """
    frame = paragraphs.select(["doc_id", "para_index", "word_count"]).to_pandas()
    frame = frame[frame["word_count"] >= cfg.min_words].sort_values(["doc_id", "para_index"])
    if frame.empty:
        return to_table(pd.DataFrame(columns=[f.name for f in CANDIDATES]), CANDIDATES)
    hashes, texts = (Strings(paragraphs.column(name), frame.index.to_numpy()) for name in ("text_hash", "text"))
    frame = frame.reset_index(drop=True)
    docs = pd.factorize(frame["doc_id"], sort=True)[0]
    query = np.ones(len(frame), bool) if new_docs is None else frame["doc_id"].isin(new_docs).to_numpy()
    found = {_MINHASH: lexical_pairs(band_keys(hashes, texts, sign or _minhash_of_texts(cfg), cfg), docs, query, cfg)}
    vectors = None
    if cfg.semantic and embed is not None:
        full = OnDemandVectors(embed, hashes, texts)
        published = publication_order(frame["doc_id"], dates)
        if propose is not None:
            cheap = OnDemandVectors(propose, hashes, texts).cover(np.arange(len(frame)))
            found[_EMBEDDING] = cascade_pairs(full, cheap, docs, query, found[_MINHASH], cfg, published, spread)
        else:
            found[_EMBEDDING] = semantic_pairs(full.cover(np.arange(len(frame))), docs, query, cfg, published, spread)
        linked = _union([found[_MINHASH], found[_EMBEDDING]], len(frame))  # both directions: linked[0] has every row
        aligned = aligned_documents(full.cover(linked[0]), docs, linked, found[_MINHASH], cfg)
        del linked  # twice the retrievals' pairs, which the merge below holds again
        vectors = full.cover(np.flatnonzero(np.isin(docs, aligned)))
        covers = sentence_cover(texts, docs, aligned, embed, cfg)
        found[_ALIGNMENT] = _union([alignment_pairs(vectors, docs, aligned, cfg), covers[:2]], len(frame))
        full.report()
    i, j, via = _merge(found, len(frame))
    del found  # the retrievals' own pair lists: the merged pairs hold them all
    jaccard = pair_jaccard(texts, i, j, cfg.shingle_size)
    cosine = pair_cosine(vectors, i, j) if vectors is not None else None
    covered = pair_cover(covers, docs, aligned, i, j) if vectors is not None else None
    score = np.maximum(jaccard, cosine if cosine is not None else 0.0)
    keep = bounded(i, j, np.maximum(score, np.nan_to_num(covered[0])) if covered is not None else score, len(frame),
                   cfg.max_candidates)
    del score
    return candidate_table(frame, i, j, keep, jaccard, cosine, via, covered)


def candidate_table(frame: pd.DataFrame, i: np.ndarray, j: np.ndarray, keep: np.ndarray, jaccard: np.ndarray,
                    cosine: np.ndarray | None, via: np.ndarray,
                    covered: tuple[np.ndarray, np.ndarray] | None = None) -> pa.Table:
    """The CANDIDATES table of the pairs (i, j) of ``frame``'s rows that ``keep`` says, built column-wise by
    Arrow ``take``; ``covered`` holds i's share covered by j and j's by i (``pair_cover``), NaN where not
    measured.

    Built from ``_PAIRS_PER_CHUNK`` measured pairs at a time into a scratch file (``scratch_table``): at a
    million paragraphs the table is 284 MB, which the stage would otherwise hold in Arrow's pool beside the
    pairs it is made of, and the kept pairs are taken a chunk at a time, not copied out of the measured ones
    whole (the bound keeps most pairs: a second copy of every column)."""
    doc_ids = pa.array(frame["doc_id"].to_numpy(), pa.string())
    para_index = pa.array(frame["para_index"].to_numpy(), pa.int32())

    def batches() -> Iterator[pa.RecordBatch]:
        for start in range(0, len(i), _PAIRS_PER_CHUNK):
            at = start + np.flatnonzero(keep[start:start + _PAIRS_PER_CHUNK])
            left, right = i[at], j[at]
            shares = ([pa.array(c[at], pa.float32(), from_pandas=True) for c in covered] if covered is not None
                      else [pa.nulls(len(left), pa.float32())] * 2)
            yield pa.record_batch([
                doc_ids.take(left), para_index.take(left), doc_ids.take(right), para_index.take(right),
                pa.array(jaccard[at], pa.float32()),
                pa.array(cosine[at], pa.float32()) if cosine is not None else pa.nulls(len(left), pa.float32()),
                pa.array(_VIA, pa.string()).take(pa.array(via[at] - 1)), *shares], schema=CANDIDATES)

    return scratch_table(batches(), CANDIDATES)


def shingle_sets(texts: Sequence[str], size: int) -> tuple[np.ndarray, np.ndarray, mmap.mmap]:
    """Each text's set of word ``size``-gram hashes, ascending, as one flat uint64 array in a scratch file, the
    offsets of each text's set in it (text ``k`` owns ``values[offsets[k]:offsets[k + 1]]``) and the file's
    mapping; built and written a chunk of texts at a time, so that neither the transient arrays nor the sets
    (300 MB at a million paragraphs) are held whatever the corpus.

    A text shorter than ``size`` words is one shingle, as in ``pipeline.text.shingles``.
    """
    counts = []

    def chunks() -> Iterator[np.ndarray]:
        for _, hashed, lengths in _shingle_chunks(texts, size):
            owner = np.repeat(np.arange(len(lengths)), lengths)
            order = np.lexsort((hashed, owner))
            hashed, owner = hashed[order], owner[order]
            distinct = np.r_[True, (hashed[1:] != hashed[:-1]) | (owner[1:] != owner[:-1])]
            counts.append(np.bincount(owner[distinct], minlength=len(lengths)))
            yield hashed[distinct]

    values, mapping = scratch_concatenation(chunks(), np.uint64)
    offsets = np.zeros(len(texts) + 1, np.int64)
    if counts:
        np.cumsum(np.concatenate(counts), out=offsets[1:])
    return values, offsets, mapping


def shared_counts(values: np.ndarray, offsets: np.ndarray, i: np.ndarray, j: np.ndarray,
                  mapping: mmap.mmap | None = None) -> np.ndarray:
    """How many hashes the sets of texts ``i`` and ``j`` (``shingle_sets``, read from ``mapping`` a window at a
    time) have in common, pair by pair: the two sets of a pair as two sparse rows over the hashes, multiplied
    (a merge of two sorted lists)."""
    def rows(texts: np.ndarray) -> sparse.csr_matrix:
        sizes = offsets[texts + 1] - offsets[texts]
        indptr = np.r_[0, np.cumsum(sizes)]
        index = np.arange(indptr[-1])
        index += np.repeat(offsets[texts] - indptr[:-1], sizes)
        columns = gather(values, index, mapping)
        del index
        columns >>= np.uint64(1)
        return sparse.csr_matrix((np.ones(len(columns), np.float32), columns.view(np.int64), indptr),
                                 shape=(len(texts), _COLUMNS))

    return np.asarray(rows(i).multiply(rows(j)).sum(axis=1)).reshape(-1)


def _shingle_chunks(texts: Sequence[str], size: int) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """``_shingle_hashes`` of ``_TEXTS_PER_CHUNK`` texts at a time, with the first text's position: a chunk's
    words, as Python objects, are the costly part, so the corpus's are never held at once."""
    for first in range(0, len(texts), _TEXTS_PER_CHUNK):
        yield first, *_shingle_hashes(texts[first:first + _TEXTS_PER_CHUNK], size)


def _shingle_hashes(texts: list[str], size: int) -> tuple[np.ndarray, np.ndarray]:
    """Every text's shingle hashes (uint64, concatenated, repeats kept) and how many each text has."""
    vocabulary: dict[str, int] = {}
    tokens = [[vocabulary.setdefault(w, len(vocabulary)) for w in words(t)] for t in texts]
    word_hash = np.array([_stable_hash(w) for w in vocabulary], dtype=np.uint64)
    counts = np.array([len(t) for t in tokens], dtype=np.int64)
    flat = word_hash[np.fromiter((x for t in tokens for x in t), dtype=np.int64, count=int(counts.sum()))]
    starts = np.cumsum(counts) - counts
    lengths = np.where(counts >= size, counts - size + 1, np.minimum(counts, 1))
    first = np.repeat(starts, lengths) + (np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths))
    width = np.repeat(np.minimum(counts, size), lengths)  # words in each shingle
    hashed = np.zeros(len(first), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(size):
            inside = width > k
            hashed[inside] = hashed[inside] * _MIX + flat[first[inside] + k]
        hashed = _finalize(hashed + width.astype(np.uint64))
    return hashed, lengths


def _stable_hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


def _finalize(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads a combined hash over all 64 bits."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def minhash_signatures(texts: Sequence[str], cfg: MatchConfig) -> np.ndarray:
    """MinHash signatures of the texts' word shingles, one uint32 row of ``num_perm`` per text (the values
    are 32-bit: half the memory of 64-bit cells, at a million paragraphs half a gigabyte).

    Universal hashing ``(a * x + b) mod (2^61 - 1)`` over 32-bit shingle hashes, as datasketch's
    ``affine32`` scheme, computed for a chunk of shingles times every permutation at once.
    """
    rng = np.random.RandomState(_MINHASH_SEED)
    a = rng.randint(1, int(_MERSENNE), size=cfg.num_perm, dtype=np.uint64) & _MASK32
    b = rng.randint(0, int(_MERSENNE), size=cfg.num_perm, dtype=np.uint64) & _MASK32
    rows = np.full((len(texts), cfg.num_perm), _MASK32, dtype=np.uint32)  # no shingles: the empty signature
    for first, hashed, lengths in _shingle_chunks(texts, cfg.shingle_size):
        x = (hashed & _MASK32)[:, None]
        owner = first + np.repeat(np.arange(len(lengths)), lengths)
        step = max(1, _CELLS // 4 // cfg.num_perm)
        for start in range(0, len(x), step):
            _reduce_min(rows, owner[start:start + step], _permuted(x[start:start + step], a, b))
    return rows


def _permuted(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``((x * a + b) mod (2^61 - 1))`` cut to 32 bits, for a column of shingle hashes times every permutation,
    in one array: a million cells each way, without a temporary per operation."""
    cells = x * a
    cells += b
    cells %= _MERSENNE
    cells &= _MASK32
    return cells.astype(np.uint32)


def _reduce_min(rows: np.ndarray, owner: np.ndarray, values: np.ndarray) -> None:
    """rows[owner[k]] = min(rows[owner[k]], values[k]) for runs of equal, ascending ``owner``."""
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    rows[owner[starts]] = np.minimum(rows[owner[starts]], np.minimum.reduceat(values, starts, axis=0))


@functools.lru_cache(maxsize=None)
def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) that make LSH's collision curve ``1 - (1 - s^r)^b`` best fit ``threshold``:
    the least false-positive plus false-negative area, weighted equally (datasketch's choice)."""
    s = np.linspace(0.0, 1.0, 2001)
    below, above = s <= threshold, s >= threshold
    best, best_error = (1, num_perm), np.inf
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            collide = 1 - (1 - s**rows) ** bands
            error = 0.5 * np.trapezoid(collide[below], s[below]) + 0.5 * np.trapezoid(1 - collide[above], s[above])
            if error < best_error:
                best, best_error = (bands, rows), error
    return best


def _minhash_of_texts(cfg: MatchConfig) -> SignFn:
    """A ``SignFn`` that computes the signatures (no store to look them up in)."""
    return lambda hashes, texts: minhash_signatures(texts, cfg)


def band_keys(hashes: Strings, texts: Strings, sign: SignFn, cfg: MatchConfig) -> tuple[np.ndarray, mmap.mmap]:
    """Every row's LSH band keys (``_band_keys``) as one row of keys per band, in a scratch file, and its
    mapping: the rows are signed ``_TEXTS_PER_CHUNK`` at a time and their keys written to the file.

    The signatures of a million paragraphs are half a gigabyte, and their band keys 300 MB; this way the
    stage holds a chunk's signatures, then one band's keys at a time (``lexical_pairs``)."""
    band_count, width = lsh_bands(cfg.lsh_threshold, cfg.num_perm)
    keys, mapping = scratch_array((band_count, len(texts)), np.uint64)
    for start in range(0, len(texts), _TEXTS_PER_CHUNK):
        rows = np.arange(start, min(len(texts), start + _TEXTS_PER_CHUNK))
        signatures = np.asarray(sign(hashes.take(rows), texts.take(rows)), np.uint32)
        for band in range(band_count):
            keys[band, rows[0]:rows[-1] + 1] = _band_keys(signatures[:, band * width:(band + 1) * width])
        release(mapping)
    return keys, mapping


def lexical_pairs(keys: tuple[np.ndarray, mmap.mmap], docs: np.ndarray, query: np.ndarray, cfg: MatchConfig
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j) in different documents, i a query row, that share an LSH bucket in some band (``keys``, from
    ``band_keys``, read a band at a time).

    A paragraph whose bucket-mates span more than ``max_bucket_docs`` documents is a template line, not a
    copy: it starts no pair (a bucket that spans more documents than that marks all its members so, and is
    never expanded, which bounds the pairs a band can give).
    """
    bands, mapping = keys
    n = bands.shape[1]
    template = np.zeros(n, bool)
    found = np.zeros(0, np.int64)  # distinct pair codes i * n + j: a pair shared by many bands is held once
    for band in range(len(bands)):
        keys = gather(bands, np.array([band]), mapping)[0]
        # Only the buckets of query rows give pairs: the others are left unsorted (a run's new rows
        # against the history), which changes neither the pairs nor which query rows are templates.
        members = np.arange(n) if query.all() else np.flatnonzero(find_sorted(np.sort(keys[query]), keys)[1])
        order = members[np.argsort(keys[members], kind="stable")]
        starts, sizes = _runs(keys[order])
        crowded = _distinct_per_run(docs[order], starts, sizes) > cfg.max_bucket_docs + 1
        template[order[np.repeat(crowded, sizes)]] = True
        shared = (sizes >= 2) & ~crowded
        i, j = _pairs_within_runs(order, starts[shared], sizes[shared])
        mine = (docs[i] != docs[j]) & query[i]
        found = _distinct(np.concatenate([found, _pair_codes((i[mine], j[mine]), n)]))
    i, j = found // n, found % n
    mates = _unique_pairs(i, docs[j], max(n, int(docs.max()) + 1))[0]
    template |= np.bincount(mates, minlength=n) > cfg.max_bucket_docs
    keep = ~template[i]
    return i[keep], j[keep]


def _band_keys(band: np.ndarray) -> np.ndarray:
    """One 64-bit key per row from a band's signature values (equal bands, equal keys)."""
    key = np.zeros(len(band), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in band.T:
            key = _finalize(key * _MIX + column)
    return key


def _runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and length of each run of equal values in a sorted array."""
    if len(values) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    return starts, np.diff(np.r_[starts, len(values)])


def _distinct_per_run(labels: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """How many distinct labels each run holds."""
    run = np.repeat(np.arange(len(starts)), sizes)
    distinct = _distinct(run.astype(np.int64) * (int(labels.max(initial=0)) + 1) + labels) // (int(labels.max(initial=0)) + 1)
    return np.bincount(distinct, minlength=len(starts))


def _pairs_within_runs(order: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every ordered pair (i, j), i != j, of members of the same run (members are ``order[start:start+size]``)."""
    members = np.repeat(starts, sizes) + (np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes))
    fan = np.repeat(sizes, sizes)  # each member pairs with every member of its run
    left = np.repeat(members, fan)
    right = np.repeat(np.repeat(starts, sizes), fan) + (np.arange(fan.sum()) - np.repeat(np.cumsum(fan) - fan, fan))
    other = left != right
    return order[left[other]], order[right[other]]


def _unique_pairs(i: np.ndarray, j: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (i, j) pairs, sorted by i then j."""
    code = _distinct(_pair_codes((i, j), n))
    return code // n, code % n


def _distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values, as ``np.unique`` gives them, by a sort: numpy 2's plain ``np.unique``
    goes through a hash table, some fifty times slower on millions of 64-bit pair codes."""
    values = np.sort(values, axis=None)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def semantic_pairs(vectors: Matrix, docs: np.ndarray, query: np.ndarray, cfg: MatchConfig,
                   published: np.ndarray | None = None,
                   spread: MapParts | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Distinct pairs (i, j) with cosine >= ``min_cosine``: each query row's ``top_k`` nearest paragraphs of
    other documents, and each other row's ``top_k`` nearest among the query rows (so a new paragraph that
    would enter an old one's neighbourhood is found as in a full run).

    With ``published`` (per row, from ``publication_order``), each row also keeps its ``top_k`` nearest
    among the paragraphs that can be its source by date: a dozen rewrites of one article published on one
    day are each other's nearest neighbours, and would otherwise hide the earlier article they all derive
    from (classify orders documents by date first, so only an earlier or undated document can be a source).
    """
    found = [nearest_pairs(vectors, docs, query, cfg, spread=spread)]
    if published is not None:
        found.append(nearest_pairs(vectors, docs, query, cfg, published, spread=spread))
    return _unique_pairs(np.concatenate([i for i, _ in found]), np.concatenate([j for _, j in found]), len(vectors))


def nearest_pairs(vectors: Matrix, docs: np.ndarray, query: np.ndarray, cfg: MatchConfig,
                  published: np.ndarray | None = None, floor: float | None = None,
                  spread: MapParts | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One search of ``semantic_pairs``: the neighbours among all paragraphs, or with ``published`` among
    each row's possible sources by date only (distinct pairs).

    The other rows (a run's history) search the query rows only if some query row comes within ``floor``
    (``min_cosine`` unless given) of them: the caller keeps no pair under it, and most of
    a large history is far from a run's few new paragraphs. When the query rows' own search was exact, its
    pairs say which history rows they reach (``_reached``).
    """
    floor = cfg.min_cosine if floor is None else floor
    new = np.flatnonzero(query)
    cols, allowed = _earlier_first(new, np.arange(len(vectors)), published) if published is not None else (
        np.arange(len(vectors)), None)
    found = [_nearest_pairs(vectors, docs, new, cols, cfg, allowed, spread)]
    if not query.all():
        history = np.flatnonzero(~query)
        cols, allowed = _earlier_first(history, new, published) if published is not None else (new, None)
        exact = len(new) * len(vectors) <= cfg.exact_max_products or len(vectors) <= cfg.ann_min_rows
        if published is None and exact and floor >= cfg.min_cosine:
            near = _reached(vectors, history, new, found[0], floor, cfg)
        else:
            near = _reaching(vectors, history, cols, floor, allowed)
        found.append(_nearest_pairs(vectors, docs, history[near], cols, cfg, allowed[near] if allowed is not None else None,
                                    spread))
    return _unique_pairs(np.concatenate([i for i, _ in found]), np.concatenate([j for _, j in found]), len(vectors))


def _reached(vectors: Matrix, history: np.ndarray, new: np.ndarray, nearest: tuple[np.ndarray, np.ndarray],
             floor: float, cfg: MatchConfig) -> np.ndarray:
    """``_reaching`` for the history rows, from the new rows' own exact search (``nearest``, its pairs): a
    new row whose ``top_k`` neighbours end below ``floor`` (or that has fewer) comes within it of those
    neighbours only; only the new rows crowded with close neighbours are compared with the whole history."""
    i, j = nearest
    score = pair_similarities(vectors, vectors, i, j)
    lowest = np.full(len(vectors), np.inf)
    np.minimum.at(lowest, i, score)
    crowded = new[(np.bincount(i, minlength=len(vectors))[new] >= cfg.top_k) & (lowest[new] >= floor - _FLOOR_SLACK)]
    reached = np.zeros(len(vectors), bool)
    reached[j[score >= floor - _FLOOR_SLACK]] = True
    return reached[history] | _reaching(vectors, history, crowded, floor)


def _reaching(vectors: Matrix, rows: np.ndarray, cols: np.ndarray, floor: float,
              allowed: np.ndarray | None = None) -> np.ndarray:
    """Which ``rows`` have a cosine of at least ``floor`` to some of ``cols`` (a row with ``allowed`` 0, no
    column to search, has none), by a float32 product (less exact than ``similarities``, hence
    ``_FLOOR_SLACK`` below the floor: a row is kept when in doubt)."""
    keep = np.zeros(len(rows), bool)
    wanted = np.flatnonzero(allowed > 0) if allowed is not None else np.arange(len(rows))
    if not len(wanted) or not len(cols):
        return keep
    base = np.ascontiguousarray(vectors[cols], np.float32)
    step = max(1, _CELLS // max(1, len(cols)))
    for start in range(0, len(wanted), step):
        at = wanted[start:start + step]
        products = np.asarray(vectors[rows[at]], np.float32) @ base.T
        keep[at] = products.max(axis=1, initial=-np.inf) >= floor - _FLOOR_SLACK
    return keep


def publication_order(doc_ids: pd.Series, dates: pa.Table | None) -> np.ndarray | None:
    """Per row, its document's ``published_at`` as an integer, undated documents lowest: a row may derive
    from another only if that one's value is lower (an undated document can be anyone's source, and an
    undated row's possible sources are all rows, which the plain search already covers)."""
    if dates is None:
        return None
    known = dates.select(["doc_id", "published_at"]).to_pandas().drop_duplicates("doc_id").set_index("doc_id")
    stamps = pd.to_datetime(doc_ids.map(known["published_at"]), utc=True)
    nanos = stamps.dt.tz_convert(None).to_numpy("datetime64[ns]").view(np.int64)
    return np.where(stamps.isna(), np.iinfo(np.int64).min, nanos)


def _earlier_first(rows: np.ndarray, cols: np.ndarray, published: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``cols`` sorted by publication, and for each row how many of them come strictly before it."""
    cols = cols[np.argsort(published[cols], kind="stable")]
    return cols, np.searchsorted(published[cols], published[rows], side="left")


def _nearest_pairs(vectors: Matrix, docs: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                   cfg: MatchConfig, allowed: np.ndarray | None = None,
                   spread: MapParts | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (row, col) for each row's ``top_k`` nearest columns of another document, at least
    ``min_cosine``; with ``allowed``, among the first ``allowed[r]`` of ``cols`` only.

    Exact up to ``ann_min_rows`` columns, or whenever rows times columns stays within
    ``exact_max_products`` (a run's few new paragraphs against a large history). Otherwise each row is
    compared only with the columns of its partition (``partitions``): one block product per partition, so
    the cost grows with the corpus times the partition size, not with the corpus squared. The blocks are
    independent: with ``spread``, the engine's workers search them (``block_pairs``), each given its
    block's vectors.
    """
    allowed = np.full(len(rows), len(cols)) if allowed is None else allowed
    blocks = _search_blocks(vectors, rows, cols, allowed, cfg)
    progress = log.Progress(sum(len(at) for at, _ in blocks), "match: nearest neighbours", unit="para")
    run = map
    if spread is not None and len(blocks) > 1:  # partitions: each block searches few columns
        blocks = [(at[start:start + _rows_per_product(len(positions))], positions)
                  for at, positions in blocks for start in range(0, len(at), _rows_per_product(len(positions)))]
        run = spread
    found = run(partial(block_pairs, cfg=cfg), (_search_block(vectors, docs, rows[at], cols[positions], positions,
                                                              allowed[at]) for at, positions in blocks))
    found_i, found_j = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for (at, positions), (r, c) in zip(blocks, found):
        found_i.append(rows[at][r])
        found_j.append(cols[positions][c])
        progress.add(len(at))
    progress.close()
    return np.concatenate(found_i), np.concatenate(found_j)


def _rows_per_product(columns: int) -> int:
    """Rows of one float32 product against ``columns`` columns, within ``_CELLS``."""
    return max(1, _CELLS // max(1, columns))


def _search_block(vectors: Matrix, docs: np.ndarray, rows: np.ndarray, cols: np.ndarray, positions: np.ndarray,
                  allowed: np.ndarray) -> SearchBlock:
    """A search block holding its own rows' and columns' vectors, so that any process can search it."""
    return SearchBlock(np.asarray(vectors[rows]), np.ascontiguousarray(vectors[cols], np.float32),
                       docs[rows], docs[cols], positions, allowed)


def _search_blocks(vectors: Matrix, rows: np.ndarray, cols: np.ndarray, allowed: np.ndarray, cfg: MatchConfig
                   ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Blocks (positions in ``rows``, ascending positions in ``cols``) of ``_nearest_pairs``: one of the
    columns any row may search when the search is small enough to be exact; else the rows allowed at most
    ``ann_min_rows`` columns (the earliest paragraphs, in a search by date) search all their columns, the
    others their partitions. A row allowed no column (in a search by date, an undated paragraph or one of
    the earliest day) searches nothing: when no document of a run is dated, that is every row."""
    if len(rows) * len(cols) <= cfg.exact_max_products or len(cols) <= cfg.ann_min_rows:
        searching = np.flatnonzero(allowed > 0)
        return [(searching, np.arange(int(allowed[searching].max(initial=0))))]
    few = np.flatnonzero((allowed > 0) & (allowed <= cfg.ann_min_rows))
    many = np.flatnonzero(allowed > cfg.ann_min_rows)
    blocks = [(few, np.arange(int(allowed[few].max(initial=0))))]
    return blocks + [(many[at], positions) for at, positions in partitions(vectors, rows[many], cols, cfg)]


class SearchBlock(NamedTuple):
    """One block of a nearest-neighbour search: which rows search which columns (``_nearest_pairs``)."""

    rows: np.ndarray  # the searching rows' vectors, in their own precision (exact scores use it)
    cols: np.ndarray  # the searched columns' vectors (float32, contiguous)
    row_docs: np.ndarray
    col_docs: np.ndarray
    positions: np.ndarray  # each column's position in the whole search's columns, ascending
    allowed: np.ndarray  # per row, how many of those positions it may search (a search by date)


def block_pairs(block: SearchBlock, cfg: MatchConfig) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (row, col), as positions in the block, for each row's ``top_k`` nearest columns of another
    document, at least ``min_cosine``, among the columns whose positions are under the row's ``allowed``.

    A float32 product finds the columns that can be among a row's top ``top_k`` (within ``_FLOOR_SLACK``
    of its k-th best, and of ``min_cosine``), and only those are scored exactly (``similarities``'
    rounding), ties going to the lower position: the same pairs whatever the product's thread count.
    The k-th best is looked for among the columns within ``_FLOOR_SLACK`` of ``min_cosine`` only
    (``_kth_best``): a row's top ``top_k`` lie there whenever its k-th best reaches that far, and otherwise
    the floor is ``min_cosine`` anyway.
    """
    k = min(cfg.top_k, len(block.cols))
    step = _rows_per_product(len(block.cols))
    found_i, found_j = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for start in range(0, len(block.rows) if k else 0, step):
        chunk = slice(start, start + step)
        rough = np.asarray(block.rows[chunk], np.float32) @ block.cols.T
        r, c = np.nonzero(rough >= cfg.min_cosine - _FLOOR_SLACK)
        mine = (block.row_docs[chunk][r] != block.col_docs[c]) & (block.positions[c] < block.allowed[chunk][r])
        r, c = r[mine], c[mine]
        value = rough[r, c]
        floor = np.maximum(_kth_best(r, value, k, len(rough)), cfg.min_cosine) - _FLOOR_SLACK
        near = value >= floor[r]
        r, c = r[near], c[near]
        score = pair_similarities(block.rows, block.cols, start + r, c)
        good = score >= cfg.min_cosine
        r, c, score = r[good], c[good], score[good]
        best = _rank_within(r, score, c) < cfg.top_k
        found_i.append(start + r[best])
        found_j.append(c[best])
    return np.concatenate(found_i), np.concatenate(found_j)


def _kth_best(r: np.ndarray, value: np.ndarray, k: int, count: int) -> np.ndarray:
    """For each of ``count`` rows, the ``k``-th highest of its ``value`` entries (row ``r``), or -inf when it
    has fewer than ``k``.

    One sort of float64 keys ``4 r - value`` (a cosine moves a key by at most 1, so each row's keys stay
    apart, best first) rather than a two-key ``lexsort``: static vectors put a quarter of a real corpus's
    pairs above the cascade's floor, millions per chunk, and the lexsort was 40% of the match stage on real
    pages (docs/benchmarks.md)."""
    keys = np.sort(r * 4.0 - value)
    counts = np.bincount(r, minlength=count)
    starts = np.cumsum(counts) - counts
    full = np.flatnonzero(counts >= k)
    kth = np.full(count, -np.inf, np.float32)
    kth[full] = (4.0 * full - keys[starts[full] + k - 1]).astype(np.float32)
    return kth


def partitions(vectors: Matrix, rows: np.ndarray, cols: np.ndarray, cfg: MatchConfig
               ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Blocks (positions in ``rows``, ascending positions in ``cols``) that together search every row:
    k-means splits the columns into about ``len(cols) / partition_rows`` partitions, each column joins its
    ``partition_probe`` nearest partitions, and each row searches the partition nearest to it.

    A row's close neighbours lie near it, so the partition nearest the row is among theirs: a pair at
    cosine 0.5 and over is missed only when the two sit on different sides of several partitions.
    """
    count = max(1, round(len(cols) / cfg.partition_rows))
    probe = min(cfg.partition_probe, count)
    centroids = partition_centroids(vectors, cols, count)
    both = np.union1d(rows, cols)  # usually the same paragraphs: each is scored against the centroids once
    nearest = nearest_centroids(vectors, both, centroids, probe)
    row_part = nearest[np.searchsorted(both, rows), 0]
    members, col_starts = members_by_partition(nearest, np.searchsorted(both, cols), count)
    del nearest
    row_order = np.argsort(row_part, kind="stable")
    row_starts = np.searchsorted(row_part[row_order], np.arange(count + 1))
    return [(row_order[row_starts[p]:row_starts[p + 1]], members[col_starts[p]:col_starts[p + 1]])
            for p in range(count) if row_starts[p + 1] > row_starts[p]]


def members_by_partition(nearest: np.ndarray, at: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions ``k`` of ``at`` listed partition by partition (ascending within one), each in the partitions
    ``nearest[at[k]]``, as one int32 array and each partition's start in it.

    A counting sort, a chunk of positions at a time: one stable sort of every (position, partition) cell
    would hold 64-bit cells for all of them (at a million paragraphs and 24 probes, several hundred MB). A
    chunk is an eighth of ``_CELLS`` cells: sorting it takes some eight 64-bit arrays of its size (the
    order, the ranks, the places), so that at ``_CELLS`` it was the partitioning's peak at a million rows.
    """
    probe = nearest.shape[1]
    step = max(1, _CELLS // 8 // probe)

    def chunks() -> Iterator[tuple[int, np.ndarray]]:
        for start in range(0, len(at), step):
            yield start, nearest[at[start:start + step]].reshape(-1)

    sizes = sum((np.bincount(part, minlength=count) for _, part in chunks()), np.zeros(count, np.int64))
    starts = np.r_[0, np.cumsum(sizes)]
    members = np.empty(int(starts[-1]), np.int32)
    filled = starts[:-1].copy()
    for start, part in chunks():
        order = np.argsort(part, kind="stable")
        ordered = part[order]
        members[filled[ordered] + np.arange(len(ordered)) - np.searchsorted(ordered, ordered)] = start + order // probe
        filled += np.bincount(part, minlength=count)
    return members, starts


def partition_centroids(vectors: Matrix, cols: np.ndarray, count: int) -> np.ndarray:
    """``count`` centroids fitted on a fixed sample of the columns (``_KMEANS_SAMPLE`` per centroid), so the
    same input always gives the same partitions."""
    sample = np.random.default_rng(_KMEANS_SEED).choice(len(cols), size=min(len(cols), count * _KMEANS_SAMPLE),
                                                        replace=False)
    return kmeans(vectors, cols[np.sort(sample)], count)


def kmeans(vectors: Matrix, rows: np.ndarray, count: int) -> np.ndarray:
    """Unit centroids (float64) of spherical k-means over the unit vectors of ``rows``: a seeded start and
    ``_KMEANS_ROUNDS`` rounds (a centroid left with no point stays where it was).

    Each round reads the points ``_CELLS`` cells at a time (``_point_chunks``): the sample is 32 points per
    centroid, so it grows with the corpus (200 MB at a million paragraphs), and held whole it was the largest
    array of the partitioning. The points stay in their own precision: each product and sum widens them to
    float64 exactly, and the sums add the points in the same order whatever the chunks."""
    rng = np.random.default_rng(_KMEANS_SEED)
    centroids = np.asarray(vectors[rows[np.sort(rng.choice(len(rows), size=count, replace=False))]], np.float64)
    for _ in range(_KMEANS_ROUNDS):
        sums = np.zeros_like(centroids)
        for points in _point_chunks(vectors, rows):
            np.add.at(sums, nearest_centroids(points, np.arange(len(points)), centroids, 1)[:, 0], points)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        centroids = np.where(norms > 0, sums / np.maximum(norms, 1e-12), centroids)
    return centroids


def _point_chunks(vectors: Matrix, rows: np.ndarray) -> Iterator[np.ndarray]:
    """The vectors of ``rows``, in order, read about ``_CELLS`` cells at a time."""
    step = max(1, _CELLS // max(1, vectors.shape[1]))
    for start in range(0, len(rows), step):
        yield np.asarray(vectors[rows[start:start + step]])


def nearest_centroids(vectors: Matrix, rows: np.ndarray, centroids: np.ndarray, count: int) -> np.ndarray:
    """Each row's ``count`` nearest centroids, nearest first, ties to the lower one; scored in float64 and
    rounded (``similarities``), so the choice does not depend on the thread count of the matrix product.

    A chunk is a quarter of ``_CELLS`` products: each takes some six float64 arrays of its size (the rows
    widened, the products, their rounding, ``top_columns``' negation and partition), and at ``_CELLS`` they
    were the stage's peak at 100k paragraphs."""
    out = np.zeros((len(rows), count), np.int32)
    step = max(1, _CELLS // 4 // len(centroids))
    for start in range(0, len(rows), step):
        sims = similarities(vectors[rows[start:start + step]], centroids)
        out[start:start + step] = sims.argmax(axis=1)[:, None] if count == 1 else top_columns(sims, count)
    return out


def pair_similarities(left: Matrix, right: Matrix, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """``similarities`` of rows ``left[i]`` and ``right[j]``, pair by pair."""
    out = np.empty(len(i), np.float64)
    step = max(1, _CELLS // max(1, left.shape[1]))
    for start in range(0, len(i), step):
        out[start:start + step] = np.einsum("ij,ij->i", np.asarray(left[i[start:start + step]], np.float64),
                                            np.asarray(right[j[start:start + step]], np.float64))
    return np.round(out, _SCORE_DECIMALS)


def top_columns(sims: np.ndarray, k: int) -> np.ndarray:
    """Each row's ``k`` highest columns, best first, ties to the lower column: the first ``k`` of a stable
    argsort of ``-sims``, found by a partition (a run's history rows each search the new rows: sorting
    whole rows would cost more than the products)."""
    if k >= sims.shape[1]:
        return np.argsort(-sims, axis=1, kind="stable")[:, :k]
    negative = -sims
    kth = np.partition(negative, k - 1, axis=1)[:, k - 1:k]
    take = negative <= kth
    crowded = np.flatnonzero(take.sum(axis=1) > k)  # ties with the k-th value: the lowest columns of them
    if len(crowded):
        tied = negative[crowded] == kth[crowded]
        above = take[crowded] & ~tied
        take[crowded] = above | (tied & (np.cumsum(tied, axis=1) <= k - above.sum(axis=1, keepdims=True)))
    columns = np.nonzero(take)[1].reshape(len(sims), k)
    best = np.argsort(np.take_along_axis(negative, columns, axis=1), axis=1, kind="stable")
    return np.take_along_axis(columns, best, axis=1)


def similarities(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Inner products of every row of ``left`` with every row of ``right``, the same whatever the matrix
    product's thread count (a Ray worker uses one): in float64, rounded to ``_SCORE_DECIMALS``, so that equal
    vectors (a paragraph or sentence repeated in several documents) tie exactly and ties go to the first
    column, and a threshold or an argmax cannot tip either way between two runs."""
    return np.round(np.asarray(left, np.float64) @ np.asarray(right, np.float64).T, _SCORE_DECIMALS)


def aligned_documents(vectors: Matrix, docs: np.ndarray, found: tuple[np.ndarray, np.ndarray],
                      lexical: tuple[np.ndarray, np.ndarray], cfg: MatchConfig) -> tuple[np.ndarray, np.ndarray]:
    """Document pairs (a, b), a < b, to align in full: linked by at least ``align_min_pairs`` of the pairs
    ``found`` (both directions, sorted by i; ``docs`` ascending by row, as the stage's frame is sorted), one of
    which could follow the other (``_followable``), and among the ``align_max_docs`` best-linked partners of a
    or of b (by the summed cosine of their pairs; the vectors of ``found``'s rows are needed).

    A document of a busy topic can be linked to dozens of others by loose neighbours; its sources are the
    documents it shares the most and closest pairs with, so keeping each one's best few bounds the
    alignments (and the candidate rows they bring) by the number of documents, while a source reused by
    many keeps every reuser that ranks it first.

    The pairs are read a chunk of whole documents at a time (``_document_links``): at a million paragraphs
    they are millions, and their link codes, cosines and sort, held at once, grew with the corpus.
    """
    i, j = found
    n, doc_count = len(docs), int(docs.max(initial=0)) + 1
    sizes = np.bincount(docs, minlength=doc_count)
    lexical_codes = _pair_codes(_union([lexical], n), n)
    parts = [_document_links(vectors, docs, sizes, i[start:stop], j[start:stop], lexical_codes, cfg)
             for start, stop in _row_chunks(i, np.searchsorted(docs, docs)) or [(0, 0)]]
    links, strength, followable = (np.concatenate(columns) for columns in zip(*parts))
    mirror = np.searchsorted(links, (links % doc_count) * doc_count + links // doc_count)
    enough = followable | followable[mirror]
    links, strength = links[enough], strength[enough]
    a, b = links // doc_count, links % doc_count  # both directions, sorted by (a, b)
    best = _rank_within(a, strength, b) < cfg.align_max_docs
    mirror = np.searchsorted(links, b * doc_count + a)
    keep = (best | best[mirror]) & (a < b)
    return a[keep], b[keep]


def _document_links(vectors: Matrix, docs: np.ndarray, sizes: np.ndarray, i: np.ndarray, j: np.ndarray,
                    lexical_codes: np.ndarray, cfg: MatchConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The document links (a, b) that at least ``align_min_pairs`` of the pairs (i, j) make, as ascending codes
    ``a * doc_count + b``, with the summed cosine of their pairs and whether b could follow a
    (``_followable``); the pairs hold every pair of their documents a (a link's mirror has as many), and a
    pair is strong at ``align_link_cosine`` or when it is one of the lexical pairs (``lexical_codes``, both
    directions, ascending)."""
    doc_count = len(sizes)
    links, inverse, counts = np.unique(docs[i].astype(np.int64) * doc_count + docs[j], return_inverse=True,
                                       return_counts=True)
    cosine = pair_cosine(vectors, i, j)
    strength = np.bincount(inverse.reshape(-1), weights=cosine, minlength=len(links))
    strong = (cosine >= cfg.align_link_cosine) | find_sorted(lexical_codes, _pair_codes((i, j), len(docs)))[1]
    followable = _followable(links, docs, sizes, i[strong], j[strong], cfg)
    enough = counts >= cfg.align_min_pairs
    return links[enough], strength[enough], followable[enough]


def _followable(links: np.ndarray, docs: np.ndarray, sizes: np.ndarray, i: np.ndarray, j: np.ndarray,
                cfg: MatchConfig) -> np.ndarray:
    """For each document link (a, b) (code ``a * doc_count + b``), whether classify could find a following b
    from the strong pairs (i, j) (every one of a's): at least ``align_min_share`` of a's paragraphs (``sizes``
    per document) strongly linked to b, or a paragraph so linked in a document strongly linked to some
    document for ``align_composite_share`` of its paragraphs (a roundup takes a paragraph from each of
    several sources).

    Classify follows a document only through strong links, so two pages that share loose neighbours or a
    stock sentence (a disclosure, a newsletter line) are not worth aligning: the cascade then need not
    embed them whole.
    """
    doc_count = len(sizes)
    row_to_doc = _distinct(i.astype(np.int64) * doc_count + docs[j])  # distinct (paragraph, linked document)
    rows, other = row_to_doc // doc_count, row_to_doc % doc_count
    per_link = np.bincount(np.searchsorted(links, docs[rows] * doc_count + other), minlength=len(links))
    a = links // doc_count
    composite = np.bincount(docs[_distinct(i)], minlength=doc_count) >= cfg.align_composite_share * sizes
    return (per_link > 0) & ((per_link >= cfg.align_min_share * sizes[a]) | composite[a])


def alignment_pairs(vectors: Matrix, docs: np.ndarray, aligned: tuple[np.ndarray, np.ndarray],
                    cfg: MatchConfig) -> tuple[np.ndarray, np.ndarray]:
    """Paragraph pairs down to ``align_min_cosine`` between the ``aligned`` document pairs: each paragraph's
    ``align_top_k`` best partners in the other document, both ways.

    A rewrite follows its source paragraph by paragraph, including the loosely reworded ones that no
    nearest-neighbour search would surface; classify needs them to judge the whole document.
    """
    doc_count = int(docs.max(initial=0)) + 1
    order = np.argsort(docs, kind="stable")
    starts = np.searchsorted(docs[order], np.arange(doc_count + 1))
    progress = log.Progress(len(aligned[0]), "match: document alignment", unit="pair")
    found_i, found_j = [], []
    for left, right in zip(*aligned):
        rows_a, rows_b = order[starts[left]:starts[left + 1]], order[starts[right]:starts[right + 1]]
        sims = similarities(vectors[rows_a], vectors[rows_b])
        for x, y in (_best_in_rows(sims, cfg), _best_in_rows(sims.T, cfg)[::-1]):
            found_i.append(rows_a[x])
            found_j.append(rows_b[y])
        progress.advance()
    progress.close()
    if not found_i:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(found_i), np.concatenate(found_j)


def _best_in_rows(sims: np.ndarray, cfg: MatchConfig) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of each row's ``align_top_k`` highest entries at or above ``align_min_cosine``."""
    k = min(cfg.align_top_k, sims.shape[1])
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    rows = np.broadcast_to(np.arange(len(sims))[:, None], top.shape)
    good = np.take_along_axis(sims, top, axis=1) >= cfg.align_min_cosine
    return rows[good], top[good]


def sentence_cover(texts: Strings, docs: np.ndarray, aligned: tuple[np.ndarray, np.ndarray], embed: EmbedFn,
                   cfg: MatchConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i, j) of paragraphs of the ``aligned`` document pairs, both ways, with the share of i's words
    in sentences whose nearest sentence of j's document (by cosine, at least ``sentence_min_cosine``) is
    in j.

    A rewrite of a whole article merges paragraphs, splits them and reorders them: a merged paragraph
    sits halfway between its sources, a split one holds half of its source, and neither pair of
    paragraphs looks alike. Sentence by sentence, each part still finds the sentence it was written
    from. Only the sentences of aligned documents are embedded, so the cost follows the alignments.
    """
    rows = np.flatnonzero(np.isin(docs, np.concatenate(aligned)))
    parts = [sentences(text) for text in texts.take(rows)]
    owner = np.repeat(rows, [len(p) for p in parts])
    flat = [s for p in parts for s in p]
    if not flat:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    size = np.array([len(words(s)) for s in flat], np.float64)
    unique, inverse = np.unique([text_hash(s) for s in flat], return_inverse=True)
    first = np.unique(inverse, return_index=True)[1]
    vectors = embed(unique.tolist(), [flat[k] for k in first])[inverse.reshape(-1)]
    total = np.bincount(owner, weights=size, minlength=len(texts))
    order = np.argsort(docs[owner], kind="stable")
    starts = np.searchsorted(docs[owner][order], np.arange(int(docs.max(initial=0)) + 2))
    found_i, found_j, credit = [], [], []
    for left, right in zip(*aligned):
        a, b = order[starts[left]:starts[left + 1]], order[starts[right]:starts[right + 1]]
        sims = similarities(vectors[a], vectors[b])
        for x, y, s in ((a, b, sims), (b, a, sims.T)):
            best = s.argmax(axis=1)
            good = s[np.arange(len(x)), best] >= cfg.sentence_min_cosine
            found_i.append(owner[x[good]])
            found_j.append(owner[y[best[good]]])
            credit.append(size[x[good]])
    i, j = np.concatenate(found_i), np.concatenate(found_j)
    n = len(texts)
    code, inverse = np.unique(i.astype(np.int64) * n + j, return_inverse=True)
    share = np.bincount(inverse.reshape(-1), weights=np.concatenate(credit)) / np.maximum(total[code // n], 1)
    return code // n, code % n, share.astype(np.float32)


def pair_cover(covers: tuple[np.ndarray, np.ndarray, np.ndarray], docs: np.ndarray,
               aligned: tuple[np.ndarray, np.ndarray], i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each pair (i, j): the share of i covered by j and of j by i (``sentence_cover``); 0 where the two
    documents were aligned but no sentence of one points into the other, NaN where they were not aligned."""
    n, d = len(docs), int(docs.max(initial=0)) + 1
    code = _pair_codes(covers[:2], n)
    pairs = _distinct(np.concatenate([aligned[0] * d + aligned[1], aligned[1] * d + aligned[0]]).astype(np.int64))
    out = np.full((2, len(i)), np.nan, np.float32)
    for start in range(0, len(i), _PAIRS_PER_CHUNK):
        left, right = i[start:start + _PAIRS_PER_CHUNK], j[start:start + _PAIRS_PER_CHUNK]
        measured = find_sorted(pairs, _pair_codes((docs[left], docs[right]), d))[1]
        for k, (a, b) in enumerate(((left, right), (right, left))):
            at, hit = find_sorted(code, _pair_codes((a[measured], b[measured]), n))
            out[k, start:start + _PAIRS_PER_CHUNK][measured] = np.where(hit, covers[2][at] if len(code) else 0.0, 0.0)
    return out[0], out[1]


class Strings(Sequence[str]):
    """A string column of the stage's input read as a sequence of Python strings, each made when a step
    asks for it: a million paragraphs' text as Python objects costs several times its Arrow buffers, and
    the stage would hold them from MinHash to the last pair's Jaccard. A subset is the column and the
    positions of its rows: taking the rows out would copy most of the text (the stage's paragraphs, the
    texts of its pairs) while the input still holds it."""

    def __init__(self, column: pa.ChunkedArray, rows: np.ndarray | None = None):
        """``column``'s values, or its values at ``rows``."""
        self._column, self._rows = column, None if rows is None else np.asarray(rows, np.int64)

    def __len__(self) -> int:
        return len(self._column) if self._rows is None else len(self._rows)

    def __getitem__(self, at):
        if isinstance(at, slice):
            start, stop, step = at.indices(len(self))
            return self.take(np.arange(start, stop, step))
        return self._column[int(self._positions(np.array([at]))[0])].as_py()

    def __iter__(self) -> Iterator[str]:
        for start in range(0, len(self), _TEXTS_PER_CHUNK):
            yield from self[start:start + _TEXTS_PER_CHUNK]

    def subset(self, rows: np.ndarray) -> Strings:
        """The strings at ``rows``, still in the column."""
        return Strings(self._column, self._positions(rows))

    def take(self, rows: np.ndarray) -> list[str]:
        """The strings at ``rows``, taken from each chunk of the column apart (Arrow's ``take`` on a chunked
        column first concatenates its chunks: a copy of the whole text for every few rows asked), with
        Arrow's copy of them handed back to the system (``release_pool``): the stage takes a chunk after
        another, and at a million paragraphs the pool kept 280 MB of freed copies."""
        positions = self._positions(rows)
        if not len(positions):
            return []
        starts = np.cumsum([0] + [len(c) for c in self._column.chunks])
        chunk = np.searchsorted(starts, positions, side="right") - 1
        order = np.argsort(chunk, kind="stable")
        bounds = np.searchsorted(chunk[order], np.arange(len(starts)))
        parts = [self._column.chunk(c).take(pa.array(positions[order[bounds[c]:bounds[c + 1]]] - starts[c]))
                 for c in range(self._column.num_chunks) if bounds[c + 1] > bounds[c]]
        strings = pa.concat_arrays(parts).take(pa.array(np.argsort(order))).to_pylist()
        release_pool()
        return strings

    def _positions(self, rows: np.ndarray) -> np.ndarray:
        """The column positions of ``rows``."""
        rows = np.asarray(rows, np.int64)
        return rows if self._rows is None else self._rows[rows]


class VectorRows:
    """A float32 matrix read and written by rows (``m[rows]`` gives a copy, ``m[rows] = values``), held in
    memory when small and otherwise in a scratch file: the vectors of a million paragraphs (1.5 GB) are not
    held in the stage's memory, and every step reads the rows it needs a window of the file at a time
    (``pipeline.io.scratch.gather``), so the stage's resident memory stays bounded. ``view(rows)`` reads a
    subset of the rows as a matrix of its own.
    """

    def __init__(self, array: np.ndarray, scratch: mmap.mmap | None = None, index: np.ndarray | None = None):
        self._array, self._scratch, self._index = array, scratch, index
        self.shape = (len(index) if index is not None else len(array), array.shape[1])

    @classmethod
    def zeros(cls, rows: int, dims: int) -> VectorRows:
        size = rows * dims * 4
        if size <= _SCRATCH_BYTES:
            return cls(np.zeros((rows, dims), np.float32))
        return cls(*scratch_array((rows, dims), np.float32))

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        return gather(self._array, rows if self._index is None else self._index[rows], self._scratch)

    def __setitem__(self, rows: np.ndarray, values: np.ndarray) -> None:
        scatter(self._array, rows if self._index is None else self._index[rows], values, self._scratch)

    def view(self, rows: np.ndarray) -> VectorRows:
        """The matrix of ``rows`` (in that order), reading this one's storage."""
        return VectorRows(self._array, self._scratch, rows if self._index is None else self._index[rows])


class OnDemandVectors:
    """A model's vectors of a frame's rows, each row embedded once, when a step first needs it (rows not
    embedded yet are zero): the cascade embeds only the paragraphs that can become candidates. Rows are
    embedded ``_ROWS_PER_EMBED`` at a time into a ``VectorRows``, so the embedder's output for the whole
    corpus is never held at once."""

    def __init__(self, embed: EmbedFn, hashes: Strings, texts: Strings):
        self._embed, self._hashes, self._texts = embed, hashes, texts
        self.done = np.zeros(len(texts), bool)
        self.matrix = VectorRows(np.zeros((len(texts), 0), np.float32))

    def cover(self, rows: np.ndarray) -> VectorRows:
        """The vectors, after embedding those of ``rows`` not embedded yet."""
        missing = _distinct(rows[~self.done[rows]])
        for start in range(0, len(missing), _ROWS_PER_EMBED):
            part = missing[start:start + _ROWS_PER_EMBED]
            vectors = self._embed(self._hashes.take(part), self._texts.take(part))
            if len(part) == len(self.done):  # every row at once: the embedder's array, not a copy
                self.matrix = VectorRows(np.asarray(vectors, np.float32))
            else:
                if self.matrix.shape[1] == 0:
                    self.matrix = VectorRows.zeros(len(self.done), vectors.shape[1])
                self.matrix[part] = vectors
        self.done[missing] = True
        return self.matrix

    def report(self) -> None:
        log.info(f"match: the full model embedded {int(self.done.sum())}/{len(self.done)} paragraphs",
                 embedded=int(self.done.sum()), total=len(self.done))


def cascade_pairs(full: OnDemandVectors, cheap: VectorRows, docs: np.ndarray, query: np.ndarray,
                  lexical: tuple[np.ndarray, np.ndarray], cfg: MatchConfig,
                  published: np.ndarray | None = None, spread: MapParts | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The full model's own nearest-neighbour pairs (``semantic_pairs``) among the paragraphs the cheap model
    flags: those of its proposals and of the lexical pairs, the only ones the full model embeds.

    The proposals choose which paragraphs are worth embedding, not which pairs are kept: a loose rewrite
    whose source did not stand out of its static neighbourhood is still paired with it when both were
    flagged (the source by its other rewrites, the rewrite by its siblings), as the full search would.
    """
    flagged = _distinct(np.concatenate([*proposals(cheap, docs, query, cfg, published, spread), *lexical]))
    vectors = full.cover(flagged)
    i, j = semantic_pairs(vectors.view(flagged), docs[flagged], query[flagged], cfg,
                          published[flagged] if published is not None else None, spread)
    return flagged[i], flagged[j]


def proposals(cheap: Matrix, docs: np.ndarray, query: np.ndarray, cfg: MatchConfig,
              published: np.ndarray | None = None, spread: MapParts | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j) the cheap vectors propose, from each search of ``semantic_pairs`` (all paragraphs of
    other documents; with ``published``, also i's possible sources by date): among i's ``cascade_top_k``
    nearest of that search, at least ``cascade_min_cosine``, and standing ``cascade_min_margin`` above i's
    background *in that search* (its ``cascade_top_k``-th nearest there; a row with fewer has none).

    Static vectors put every paragraph of a busy topic close to dozens of others; a paragraph the full
    model would pair as a rewrite stands out of that crowd. A source stands out among the possible sources:
    a rewrite's same-day siblings, rewritten from the same article, crowd its overall neighbourhood and
    would hide the source if the margin were taken over all paragraphs (docs/benchmarks.md,
    bench/cascade_gate.py).

    The searches keep neighbours down to ``cascade_min_cosine - cascade_min_margin`` only: a background
    lower than that lets every proposal at ``cascade_min_cosine`` through, as a row with fewer than
    ``cascade_top_k`` neighbours there does, and a search that needs no k-th best below a floor is cheap
    (``block_pairs``).
    """
    wide = cfg.model_copy(update={"top_k": cfg.cascade_top_k,
                                  "min_cosine": cfg.cascade_min_cosine - cfg.cascade_min_margin})
    searches = [nearest_pairs(cheap, docs, query, wide, floor=cfg.cascade_min_cosine, spread=spread)]
    if published is not None:
        searches.append(nearest_pairs(cheap, docs, query, wide, published, floor=cfg.cascade_min_cosine, spread=spread))
    kept = [_standing_out(cheap, i, j, len(docs), cfg) for i, j in searches]
    return _unique_pairs(np.concatenate([i for i, _ in kept]), np.concatenate([j for _, j in kept]), len(docs))


def _standing_out(cheap: Matrix, i: np.ndarray, j: np.ndarray, n: int, cfg: MatchConfig) -> tuple[np.ndarray, np.ndarray]:
    """The pairs of one search that pass the cascade's gate against their row's background in it."""
    score = pair_cosine(cheap, i, j)
    background = np.ones(n, np.float32)
    np.minimum.at(background, i, score)
    background[np.bincount(i, minlength=n) < cfg.cascade_top_k] = -1.0
    gate = (score >= cfg.cascade_min_cosine) & (score - background[i] >= cfg.cascade_min_margin)
    return i[gate], j[gate]


def _rank_within(i: np.ndarray, score: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Rank of each pair among the pairs of the same ``i``, best ``score`` first (ties by ``j``)."""
    order = np.lexsort((j, -score, i))
    rank = np.empty(len(i), np.int64)
    ordered = i[order]
    first = np.searchsorted(ordered, ordered)  # the group's first position, ``ordered`` being sorted
    rank[order] = np.arange(len(i)) - first
    return rank


def _union(pairs: list[tuple[np.ndarray, np.ndarray]], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct pairs of all the lists, each in both directions."""
    i = np.concatenate([p[0] for p in pairs] + [p[1] for p in pairs])
    j = np.concatenate([p[1] for p in pairs] + [p[0] for p in pairs])
    return _unique_pairs(i, j, n)


def _merge(found: dict[int, tuple[np.ndarray, np.ndarray]], n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct pairs (both directions, sorted) with the retrievals that found them: a bit per retrieval,
    alignment counting only for pairs no search found."""
    codes = {bit: _pair_codes(_union([pairs], n), n) for bit, pairs in found.items()}
    unique = _distinct(np.concatenate(list(codes.values())))
    via = np.zeros(len(unique), np.int8)
    for bit, code in codes.items():
        via[np.searchsorted(unique, code)] |= bit
    via = np.where(via & (_MINHASH | _EMBEDDING), via & (_MINHASH | _EMBEDDING), _ALIGNMENT)
    return unique // n, unique % n, via


def _pair_codes(pairs: tuple[np.ndarray, np.ndarray], n: int) -> np.ndarray:
    """Each pair (i, j) as the one number ``i * n + j`` (sorted pairs give sorted codes)."""
    return pairs[0].astype(np.int64) * n + pairs[1]


def pair_jaccard(texts: Strings, i: np.ndarray, j: np.ndarray, size: int) -> np.ndarray:
    """Exact Jaccard similarity of the word ``size``-gram sets of each pair of ``texts``; only the texts in
    some pair are shingled (a run's new paragraphs pair with a few of the history's, not all), and the pairs
    are measured a chunk at a time, of about ``_CELLS / 8`` shingles."""
    used = np.zeros(len(texts), bool)
    used[i] = True
    used[j] = True
    position = np.cumsum(used) - 1  # of each used text among the shingled ones
    values, offsets, mapping = shingle_sets(texts.subset(np.flatnonzero(used)), size)
    sizes = np.diff(offsets)
    jaccard = np.zeros(len(i), np.float32)
    for first in range(0, len(i), _PAIRS_PER_CHUNK):
        a, b = position[i[first:first + _PAIRS_PER_CHUNK]], position[j[first:first + _PAIRS_PER_CHUNK]]
        for start, stop in _pair_chunks(sizes[a] + sizes[b], _CELLS // 8):
            shared = shared_counts(values, offsets, a[start:stop], b[start:stop], mapping).astype(np.float32)
            union = sizes[a[start:stop]] + sizes[b[start:stop]] - shared
            np.divide(shared, union, out=jaccard[first + start:first + stop], where=union > 0)
    return jaccard


def _pair_chunks(load: np.ndarray, limit: int) -> list[tuple[int, int]]:
    """(start, stop) of consecutive chunks of pairs, each of at most ``limit`` of ``load`` (or one pair)."""
    total = np.cumsum(load)
    bounds = np.unique(np.r_[0, np.searchsorted(total, np.arange(limit, total[-1] if len(total) else 0, limit)), len(load)])
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))


def _row_chunks(i: np.ndarray, first: np.ndarray | None = None) -> list[tuple[int, int]]:
    """(start, stop) of consecutive chunks of about ``_PAIRS_PER_CHUNK`` pairs, sorted by ``i``, that never split
    the pairs of one ``i``, nor, with ``first`` (each row's group's first row, the groups being runs of rows),
    those of one group."""
    at = i[np.arange(_PAIRS_PER_CHUNK, len(i), _PAIRS_PER_CHUNK)]
    cuts = np.searchsorted(i, at if first is None else first[at])
    bounds = np.unique(np.r_[0, cuts, len(i)])
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))


def pair_cosine(vectors: Matrix, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Inner product of each pair's (unit) vectors."""
    out = np.empty(len(i), np.float32)
    step = max(1, _CELLS // max(1, vectors.shape[1]))
    for start in range(0, len(i), step):
        out[start:start + step] = np.einsum("ij,ij->i", vectors[i[start:start + step]], vectors[j[start:start + step]])
    return out


def bounded(i: np.ndarray, j: np.ndarray, score: np.ndarray, n: int, limit: int) -> np.ndarray:
    """Which pairs to keep so that each paragraph brings at most ``limit`` (its best by ``score``): a pair
    stays when it is among the best of either of its paragraphs, so both directions stay together, no
    paragraph loses its best sources to a crowd, and the table holds at most ``2 * limit`` rows per paragraph.

    ``i``, ``j`` are sorted by (i, j) and hold every pair in both directions.
    """
    best = np.zeros(len(i), bool)
    for start, stop in _row_chunks(i):
        best[start:stop] = _rank_within(i[start:stop], score[start:stop], j[start:stop]) < limit
    code = _pair_codes((i, j), n)
    keep = best.copy()
    for start in range(0, len(i), _PAIRS_PER_CHUNK):
        mirror = np.searchsorted(code, _pair_codes((j[start:start + _PAIRS_PER_CHUNK], i[start:start + _PAIRS_PER_CHUNK]), n))
        keep[start:start + _PAIRS_PER_CHUNK] |= best[mirror]
    return keep
