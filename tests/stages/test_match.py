"""Stage 4, match: candidate source paragraphs in other documents, by MinHash (near-verbatim reuse) and by
embeddings (rewording). The embedding model is replaced by a deterministic fake here."""
from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pandas as pd
import pytest

from pipeline.config import MatchConfig
from pipeline.schema import CANDIDATES
from pipeline.stages.match import match
from pipeline.text import shingles, words

DIM = 256

TERMINAL = (
    "The harbour authority announced on Monday that the old ferry terminal will be demolished next year to make "
    "room for a new passenger building with space for two ships at once."
)
TERMINAL_EDITED = TERMINAL.replace("Monday", "Tuesday")
FOUNDATIONS = (
    "Engineers found that the foundations of the terminal had been weakened by decades of salt water, and repairs "
    "would have cost almost as much as a completely new structure."
)
FISHERMEN = (
    "Local fishermen say they are worried that the construction work will block access to the northern quay for "
    "most of the summer season, when their catch is largest."
)
PIER = (
    "Ferry passengers will use a temporary pier on the western side of the bay while the work goes on, and the "
    "operator has promised extra shuttle buses from the railway station."
)
REWORDED_TERMINAL = (
    "Port officials revealed this week a plan to tear down the ageing ferry building and replace it with a larger "
    "modern hall able to handle a pair of vessels simultaneously."
)
REWORDED_FOUNDATIONS = (
    "According to structural surveys, seawater has eroded the base of the building over many years, making a full "
    "renovation nearly as expensive as starting from scratch."
)
REWORDED_PIER = (
    "While construction is under way, travellers are expected to board from a provisional jetty across the bay, "
    "with additional coaches linking the dock to the train station."
)
SHORT = "The terminal closes in May."  # 5 words: under min_words


def basis(k: int) -> np.ndarray:
    return np.eye(DIM)[k]


def at_cosine(k: int, cosine: float, spare: int) -> np.ndarray:
    """A unit vector at ``cosine`` to ``basis(k)``, leaning towards ``basis(spare)`` for the rest."""
    return cosine * basis(k) + math.sqrt(1 - cosine**2) * basis(spare)


def pairs_of(candidates) -> set[tuple[str, int, str, int]]:
    frame = candidates.to_pandas()
    return {(r.doc_id, r.para_index, r.cand_doc_id, r.cand_para_index) for r in frame.itertuples()}


def row_of(candidates, doc, para, cand_doc, cand_para) -> dict:
    frame = candidates.to_pandas()
    hit = frame[(frame.doc_id == doc) & (frame.para_index == para) & (frame.cand_doc_id == cand_doc)
                & (frame.cand_para_index == cand_para)]
    assert len(hit) == 1, f"pair {(doc, para, cand_doc, cand_para)} not found once"
    return hit.iloc[0].to_dict()


def both_ways(pairs: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """The pairs in both directions, sorted, as the stage's retrievals give them."""
    ordered = sorted({*pairs, *((b, a) for a, b in pairs)})
    return np.array([a for a, _ in ordered]), np.array([b for _, b in ordered])


def assert_well_formed(candidates) -> None:
    assert candidates.schema.names == CANDIDATES.names
    pairs = pairs_of(candidates)
    assert all(d != c for d, _, c, _ in pairs), "a paragraph is never paired with its own document"
    assert all((c, j, d, i) in pairs for d, i, c, j in pairs), "pairs are listed in both directions"
    assert len(pairs) == candidates.num_rows, "no pair is listed twice"


def test_copied_paragraph_with_one_word_changed_is_found_by_minhash(make_paragraphs):
    paras = make_paragraphs({
        "source": [TERMINAL, FOUNDATIONS],
        "copier": [FISHERMEN, TERMINAL_EDITED],
    })
    candidates = match(paras, MatchConfig())
    assert_well_formed(candidates)
    assert pairs_of(candidates) == {("copier", 1, "source", 0), ("source", 0, "copier", 1)}
    found = row_of(candidates, "copier", 1, "source", 0)
    assert found["via"] == "minhash"
    a, b = shingles(words(TERMINAL_EDITED), 3), shingles(words(TERMINAL), 3)
    assert found["jaccard"] == pytest.approx(len(a & b) / len(a | b), abs=1e-6)
    assert found["jaccard"] > 0.7
    assert pd.isna(found["cosine"]), "no embedding, no cosine"


def test_short_paragraphs_never_take_part(make_paragraphs, fake_embed):
    paras = make_paragraphs({
        "a": [SHORT, TERMINAL],
        "b": [SHORT, TERMINAL_EDITED, "Read more"],
    })
    cfg = MatchConfig()
    lexical = match(paras, cfg)
    # Every text looks the same to this fake model: still no pair may involve a short paragraph.
    embed, calls = fake_embed({t: basis(0) for t in (SHORT, TERMINAL, TERMINAL_EDITED, "Read more")})
    semantic = match(paras, cfg, embed)
    word_counts = paras.to_pandas().set_index(["doc_id", "para_index"])["word_count"].to_dict()
    for candidates in (lexical, semantic):
        assert_well_formed(candidates)
        assert candidates.num_rows > 0
        for d, i, c, j in pairs_of(candidates):
            assert word_counts[(d, i)] >= cfg.min_words and word_counts[(c, j)] >= cfg.min_words
    assert all(SHORT not in texts and "Read more" not in texts for texts in calls), "short text is never embedded"


def test_paragraphs_of_the_same_document_never_pair(make_paragraphs, fake_embed):
    paras = make_paragraphs({
        "a": [TERMINAL, FOUNDATIONS, TERMINAL, TERMINAL_EDITED],
        "b": [PIER, FISHERMEN],
    })
    assert match(paras, MatchConfig()).num_rows == 0
    embed, _ = fake_embed({TERMINAL: basis(0), TERMINAL_EDITED: basis(0), FOUNDATIONS: basis(0)})
    assert match(paras, MatchConfig(), embed).num_rows == 0


def test_reworded_paragraph_is_found_by_embedding(make_paragraphs, fake_embed):
    paras = make_paragraphs({
        "source": [TERMINAL, FOUNDATIONS],
        "rewrite": [REWORDED_TERMINAL, FISHERMEN],
    })
    embed, _ = fake_embed({
        TERMINAL: basis(0), REWORDED_TERMINAL: at_cosine(0, 0.9, 10),
        FOUNDATIONS: basis(1), FISHERMEN: basis(2),
    })
    cfg = MatchConfig()
    assert match(paras, cfg).num_rows == 0, "the rewording shares no wording that MinHash could see"
    candidates = match(paras, cfg, embed)
    assert_well_formed(candidates)
    assert pairs_of(candidates) == {("rewrite", 0, "source", 0), ("source", 0, "rewrite", 0)}
    found = row_of(candidates, "rewrite", 0, "source", 0)
    assert found["via"] == "embedding"
    assert found["cosine"] == pytest.approx(0.9, abs=1e-5)


def test_pair_found_both_ways_says_both(make_paragraphs, fake_embed):
    paras = make_paragraphs({"source": [TERMINAL], "copier": [TERMINAL_EDITED]})
    embed, _ = fake_embed({TERMINAL: basis(0), TERMINAL_EDITED: at_cosine(0, 0.97, 10)})
    candidates = match(paras, MatchConfig(), embed)
    found = row_of(candidates, "copier", 0, "source", 0)
    assert found["via"] == "both"
    assert found["cosine"] == pytest.approx(0.97, abs=1e-5)


def test_neighbours_below_min_cosine_are_not_candidates(make_paragraphs, fake_embed):
    paras = make_paragraphs({"source": [TERMINAL], "other": [REWORDED_TERMINAL]})
    cfg = MatchConfig()
    embed, _ = fake_embed({TERMINAL: basis(0), REWORDED_TERMINAL: at_cosine(0, cfg.min_cosine - 0.05, 10)})
    assert match(paras, cfg, embed).num_rows == 0
    embed, _ = fake_embed({TERMINAL: basis(0), REWORDED_TERMINAL: at_cosine(0, cfg.min_cosine + 0.05, 10)})
    assert match(paras, cfg, embed).num_rows == 2


def test_documents_linked_by_several_pairs_are_aligned_in_full(make_paragraphs, fake_embed):
    """A rewrite's loosely reworded paragraph (cosine under min_cosine) still becomes a candidate of its
    source paragraph once the two documents are linked by enough pairs."""
    cfg = MatchConfig()
    loose = (cfg.align_min_cosine + cfg.min_cosine) / 2
    vectors = {
        TERMINAL: basis(0), FOUNDATIONS: basis(1), PIER: basis(2),
        REWORDED_TERMINAL: at_cosine(0, 0.9, 10), REWORDED_FOUNDATIONS: at_cosine(1, 0.85, 11),
        REWORDED_PIER: at_cosine(2, loose, 12),
    }
    embed, _ = fake_embed(vectors)
    linked = match(make_paragraphs({"s": [TERMINAL, FOUNDATIONS, PIER],
                                    "r": [REWORDED_TERMINAL, REWORDED_FOUNDATIONS, REWORDED_PIER]}), cfg, embed)
    assert_well_formed(linked)
    assert row_of(linked, "r", 0, "s", 0)["via"] == "embedding"
    assert row_of(linked, "r", 1, "s", 1)["via"] == "embedding"
    aligned = row_of(linked, "r", 2, "s", 2)
    assert aligned["via"] == "alignment"
    assert aligned["cosine"] == pytest.approx(loose, abs=1e-5)

    # The same loose pair alone, between documents not otherwise linked, is no candidate.
    alone = match(make_paragraphs({"s": [PIER], "r": [REWORDED_PIER]}), cfg, embed)
    assert alone.num_rows == 0


def test_semantic_off_never_calls_the_embedder(make_paragraphs, fake_embed):
    paras = make_paragraphs({"source": [TERMINAL], "rewrite": [REWORDED_TERMINAL]})
    embed, calls = fake_embed({TERMINAL: basis(0), REWORDED_TERMINAL: basis(0)})
    candidates = match(paras, MatchConfig(semantic=False), embed)
    assert candidates.num_rows == 0
    assert calls == []


def test_row_order_of_the_input_does_not_change_the_candidates(make_paragraphs, fake_embed):
    paras = make_paragraphs({
        "s": [TERMINAL, FOUNDATIONS, PIER],
        "c": [TERMINAL_EDITED, FISHERMEN],
        "r": [REWORDED_TERMINAL, REWORDED_FOUNDATIONS, REWORDED_PIER],
    })
    embed, _ = fake_embed({
        TERMINAL: basis(0), TERMINAL_EDITED: at_cosine(0, 0.95, 9), FOUNDATIONS: basis(1), PIER: basis(2),
        REWORDED_TERMINAL: at_cosine(0, 0.9, 10), REWORDED_FOUNDATIONS: at_cosine(1, 0.85, 11),
        REWORDED_PIER: at_cosine(2, 0.4, 12), FISHERMEN: basis(3),
    })
    expected = match(paras, MatchConfig(), embed).to_pandas()
    for seed in range(3):
        order = np.random.default_rng(seed).permutation(paras.num_rows)
        got = match(paras.take(order), MatchConfig(), embed).to_pandas()
        pd.testing.assert_frame_equal(got, expected)


def test_no_matchable_paragraphs_gives_an_empty_table(make_paragraphs):
    candidates = match(make_paragraphs({"a": [SHORT], "b": ["Read more"]}), MatchConfig())
    assert candidates.num_rows == 0
    assert candidates.schema.names == CANDIDATES.names


def test_partitioned_search_finds_the_same_neighbours_as_brute_force_on_clustered_vectors():
    from pipeline.stages.match import semantic_pairs

    rng = np.random.default_rng(3)
    topics = rng.normal(size=(20, 64))
    vectors = topics[np.arange(600) % 20] + rng.normal(scale=1.0, size=(600, 64))
    vectors[300:320] = vectors[0:20] + rng.normal(scale=0.05, size=(20, 64))  # planted rewrites
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    docs = np.array([f"d{i // 10:03d}" for i in range(600)])
    query = np.ones(600, bool)
    exact = set(zip(*semantic_pairs(vectors, docs, query, MatchConfig(ann_min_rows=10_000, min_cosine=0.5))))
    approximate = set(zip(*semantic_pairs(vectors, docs, query, MatchConfig(ann_min_rows=10, exact_max_products=0,
                                                                            min_cosine=0.5, partition_rows=50))))
    planted = {(300 + i, i) for i in range(20)}
    assert planted <= exact and planted <= approximate
    assert len(exact & approximate) >= 0.95 * len(exact)


def test_partitions_search_every_row_once_and_give_each_column_its_nearest_partitions():
    """Every row searches exactly one block, each column sits in ``partition_probe`` blocks, and a column's
    blocks are its nearest centroids, so a row and a column close to each other share a block."""
    from pipeline.stages.match import nearest_centroids, partition_centroids, partitions

    rng = np.random.default_rng(8)
    vectors = rng.normal(size=(500, 16))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    rows, cols = np.arange(0, 500, 2), np.arange(500)
    cfg = MatchConfig(partition_rows=50, partition_probe=2)
    blocks = partitions(vectors, rows, cols, cfg)
    assert sorted(np.concatenate([at for at, _ in blocks]).tolist()) == list(range(len(rows)))
    assert np.bincount(np.concatenate([positions for _, positions in blocks]), minlength=500).tolist() == [2] * 500
    assert all((np.diff(positions) > 0).all() for _, positions in blocks), "columns keep their order"
    centroids = partition_centroids(vectors, cols, 10)
    assert len(centroids) == 10
    own = nearest_centroids(vectors, rows, centroids, 1)[:, 0]
    for at, positions in blocks:
        assert len(set(own[at].tolist())) == 1
        assert (nearest_centroids(vectors, cols[positions], centroids, 2) == own[at][0]).any(axis=1).all()


def test_partitions_built_a_few_cells_at_a_time_are_the_ones_built_at_once(monkeypatch):
    """k-means reads its sample, and the partitions score and list their members, a chunk of cells at a time
    (their arrays grow with the corpus): the centroids and blocks are the ones built in one chunk."""
    from pipeline.stages import match as stage

    rng = np.random.default_rng(4)
    vectors = rng.normal(size=(600, 16))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    rows, cols, cfg = np.arange(0, 600, 3), np.arange(600), MatchConfig(partition_rows=40, partition_probe=3)
    whole = stage.partition_centroids(vectors, cols, 15), stage.partitions(vectors, rows, cols, cfg)
    monkeypatch.setattr(stage, "_CELLS", 64)
    chunked = stage.partition_centroids(vectors, cols, 15), stage.partitions(vectors, rows, cols, cfg)
    assert np.array_equal(chunked[0], whole[0])
    assert [(at.tolist(), positions.tolist()) for at, positions in chunked[1]] == \
        [(at.tolist(), positions.tolist()) for at, positions in whole[1]]


def test_a_few_new_paragraphs_against_a_large_history_are_searched_exactly(monkeypatch):
    """Above ann_min_rows, but with few query rows: brute force (what partitions would only approximate),
    both ways and among the earlier documents, and no partition is fitted."""
    from pipeline.io import scratch as scratch_file
    from pipeline.stages import match as stage

    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(600, 32))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    docs = np.array([f"d{i // 10:03d}" for i in range(600)])
    published = (np.arange(600) // 10).astype(np.int64)
    query = np.arange(600) >= 580
    exact = stage.semantic_pairs(vectors, docs, query, MatchConfig(ann_min_rows=10_000, min_cosine=0.0), published)

    def no_partitions(*_):
        raise AssertionError("partitions were fitted for 20 query rows")

    monkeypatch.setattr(stage, "partitions", no_partitions)
    small = stage.semantic_pairs(vectors, docs, query, MatchConfig(ann_min_rows=10, min_cosine=0.0), published)
    assert set(zip(*small)) == set(zip(*exact))
    with pytest.raises(AssertionError, match="partitions were fitted"):
        stage.semantic_pairs(vectors, docs, query, MatchConfig(ann_min_rows=10, exact_max_products=1_000), published)


def test_history_rows_far_from_every_new_row_lose_no_pair_to_the_search_they_skip():
    """A history row searches the new rows only if one comes within min_cosine of it (or the cascade's own
    floor): the pairs are those of a brute-force search of every row both ways, one of the few rows near
    the new ones included."""
    from pipeline.stages.match import proposals, semantic_pairs, similarities

    rng = np.random.default_rng(11)
    topics = rng.normal(size=(30, 32))
    vectors = topics[np.arange(900) % 30] + rng.normal(scale=0.6, size=(900, 32))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    docs = np.arange(900) // 10
    query = docs >= 85
    cfg = MatchConfig(ann_min_rows=10_000, min_cosine=0.5, top_k=3)
    sims = similarities(vectors, vectors)
    sims[docs[:, None] == docs[None, :]] = -np.inf
    expected = set()
    for row in range(900):
        cols = np.arange(900) if query[row] else np.flatnonzero(query)
        best = cols[np.argsort(-sims[row, cols], kind="stable")[:cfg.top_k]]
        expected |= {(row, int(col)) for col in best if sims[row, col] >= cfg.min_cosine}
    found = set(zip(*(a.tolist() for a in semantic_pairs(vectors, docs, query, cfg))))
    assert found == expected and any(not query[i] for i, _ in found)
    wide = cfg.model_copy(update={"cascade_top_k": 5, "cascade_min_cosine": 0.6, "cascade_min_margin": 0.0})
    everyone = proposals(vectors, docs, query, wide.model_copy(update={"cascade_min_cosine": -1.0}))
    strong = {(i, j) for i, j in zip(*(a.tolist() for a in everyone)) if sims[i, j] >= 0.6}
    assert set(zip(*(a.tolist() for a in proposals(vectors, docs, query, wide)))) == strong


def test_top_columns_are_the_first_of_a_stable_sort():
    """Ties go to the lower column and a row's own document (-inf) comes last, as a stable argsort has it."""
    from pipeline.stages.match import top_columns

    rng = np.random.default_rng(2)
    for _ in range(200):
        rows, cols = rng.integers(1, 12), rng.integers(1, 40)
        sims = np.round(rng.random((rows, cols)) * 3, 1)
        sims[rng.random((rows, cols)) < 0.2] = -np.inf
        k = int(rng.integers(1, cols + 1))
        assert (top_columns(sims, k) == np.argsort(-sims, axis=1, kind="stable")[:, :k]).all()


def test_only_pairs_touching_new_documents_are_looked_for(make_paragraphs, fake_embed):
    paragraphs = make_paragraphs({"old1": [TERMINAL], "old2": [TERMINAL], "new": [TERMINAL]})
    embed, _ = fake_embed({})
    pairs = match(paragraphs, MatchConfig(), embed=embed, new_docs={"new"}).to_pandas()
    assert set(zip(pairs.doc_id, pairs.cand_doc_id)) == {("new", "old1"), ("new", "old2"), ("old1", "new"), ("old2", "new")}


def test_minhash_agreement_estimates_the_shingle_jaccard():
    from pipeline.stages.match import minhash_signatures

    texts = [TERMINAL, TERMINAL_EDITED, FOUNDATIONS, TERMINAL + " " + FOUNDATIONS]
    cfg = MatchConfig()
    signatures = minhash_signatures(texts, cfg)
    assert signatures.shape == (4, cfg.num_perm)
    assert (minhash_signatures(texts, cfg) == signatures).all(), "signatures depend on the text only"
    for a, b in [(0, 1), (0, 2), (0, 3), (2, 3)]:
        x, y = shingles(words(texts[a]), 3), shingles(words(texts[b]), 3)
        estimate = (signatures[a] == signatures[b]).mean()
        assert estimate == pytest.approx(len(x & y) / len(x | y), abs=0.15)


def test_shingle_sets_are_the_texts_shingle_sets():
    from pipeline.stages.match import shingle_sets

    texts = [TERMINAL, "the the the the the", "two words", "", FISHERMEN]
    values, offsets, _ = shingle_sets(texts, 3)
    assert list(np.diff(offsets)) == [len(shingles(words(t), 3)) for t in texts]
    assert all(np.all(v[1:] > v[:-1]) for v in (values[offsets[k]:offsets[k + 1]] for k in range(len(texts))))


def test_pair_jaccard_is_exact_across_chunks_of_texts(monkeypatch):
    """The shingle sets are built a few texts at a time (bounded memory); the Jaccard of every pair is still
    that of the two texts' whole shingle sets, whichever chunks they fell in."""
    from pipeline.io import scratch as scratch_file
    from pipeline.stages import match as stage

    monkeypatch.setattr(stage, "_TEXTS_PER_CHUNK", 2)
    texts = [TERMINAL, FISHERMEN, TERMINAL.replace("the", "a", 2), "two words", "", FISHERMEN + " " + TERMINAL]
    i, j = (np.array(x) for x in zip(*[(a, b) for a in range(len(texts)) for b in range(len(texts)) if a != b]))
    sets = [set(shingles(words(t), 3)) for t in texts]
    expected = [len(sets[a] & sets[b]) / len(sets[a] | sets[b]) if sets[a] | sets[b] else 0.0 for a, b in zip(i, j)]
    assert stage.pair_jaccard(stage.Strings(pa.chunked_array([texts])), i, j, 3) == pytest.approx(expected, abs=1e-6)


def test_strings_read_a_column_as_the_list_of_its_values(monkeypatch):
    """The stage reads its paragraphs' text from the Arrow column, a few strings at a time: what each step
    gets is what the column holds, in the frame's row order, across the column's chunks."""
    from pipeline.io import scratch as scratch_file
    from pipeline.stages import match as stage

    monkeypatch.setattr(stage, "_TEXTS_PER_CHUNK", 2)
    values = ["a", "bb", None, "dddd", "é", "ff", "g"]
    column = pa.chunked_array([values[:3], values[3:]])
    rows = np.array([6, 0, 3, 4, 1])
    texts = stage.Strings(column, rows)
    expected = [values[r] for r in rows]
    assert list(texts) == expected and len(texts) == len(rows)
    assert [texts[k] for k in range(len(rows))] == expected
    assert texts[1:4] == expected[1:4] and texts.take(np.array([4, 0])) == [expected[4], expected[0]]
    whole = stage.Strings(column)
    assert list(whole) == values and whole[::3] == values[::3]
    assert list(texts.subset(np.array([3, 1]))) == [expected[3], expected[1]]


def test_a_few_strings_taken_from_a_column_of_many_chunks_copy_those_strings_only():
    """A column read batch by batch has many chunks: taking a few of its strings copies those, not the whole
    column (Arrow's ``take`` on a chunked column concatenates it first: at a million paragraphs 300 MB a
    take), and gives them in the order asked."""
    from pipeline.stages import match as stage

    values = [f"paragraph {k} " + "word " * 40 for k in range(4_000)]
    column = pa.chunked_array([values[k:k + 500] for k in range(0, len(values), 500)])
    rows = np.array([3_999, 7, 2_500, 8, 1_001])
    default = pa.default_memory_pool()
    pool = pa.proxy_memory_pool(default)  # counts this take's allocations only
    pa.set_memory_pool(pool)
    try:
        taken = stage.Strings(column).take(rows)
    finally:
        pa.set_memory_pool(default)
    assert taken == [values[r] for r in rows]
    assert pool.max_memory() < column.nbytes / 20


def test_candidates_per_paragraph_are_bounded_and_stay_symmetric(make_paragraphs, fake_embed, monkeypatch):
    """Twelve documents that all say the same: each paragraph brings at most ``max_candidates`` pairs (so
    the table holds at most twice that per paragraph), every paragraph keeps its best, and a pair that is
    kept is kept both ways; bounded and written a few pairs at a time, the table is the same."""
    from pipeline.stages import match as stage

    paras = make_paragraphs({f"d{k:02d}": [TERMINAL, FOUNDATIONS] for k in range(12)})
    embed, _ = fake_embed({TERMINAL: basis(0), FOUNDATIONS: at_cosine(0, 0.8, 1)})
    cfg = MatchConfig(max_candidates=4)
    candidates = match(paras, cfg, embed)
    assert_well_formed(candidates)
    per_paragraph = candidates.to_pandas().groupby(["doc_id", "para_index"]).size()
    assert candidates.num_rows <= 2 * 4 * 24
    assert per_paragraph.min() >= 4, "every paragraph keeps its best four"
    unbounded = match(paras, MatchConfig(), embed).to_pandas().groupby(["doc_id", "para_index"]).size()
    assert unbounded.max() > 4
    monkeypatch.setattr(stage, "_PAIRS_PER_CHUNK", 5)
    pd.testing.assert_frame_equal(match(paras, cfg, embed).to_pandas(), candidates.to_pandas())


def test_alignment_keeps_each_paragraphs_best_partners_in_the_other_document(make_paragraphs, fake_embed):
    cfg = MatchConfig(align_top_k=1)
    vectors = {
        TERMINAL: basis(0), FOUNDATIONS: basis(1), PIER: 0.7 * basis(1) + math.sqrt(0.51) * basis(2),
        REWORDED_TERMINAL: at_cosine(0, 0.9, 10), REWORDED_FOUNDATIONS: at_cosine(1, 0.85, 11),
        REWORDED_PIER: 0.6 * basis(0) + 0.5 * basis(2) + math.sqrt(0.39) * basis(12),
    }
    embed, _ = fake_embed(vectors)
    paras = make_paragraphs({"s": [TERMINAL, FOUNDATIONS, PIER], "r": [REWORDED_TERMINAL, REWORDED_FOUNDATIONS, REWORDED_PIER]})
    one = pairs_of(match(paras, cfg, embed))
    assert ("r", 2, "s", 0) in one, "the loose paragraph's best partner"
    assert ("r", 2, "s", 2) not in one, "its second best (and not the best of s:2), under align_top_k=1"
    assert ("r", 2, "s", 2) in pairs_of(match(paras, MatchConfig(align_top_k=2), embed))


def test_cascade_finds_the_full_models_candidates_and_embeds_only_linked_documents(make_paragraphs, fake_embed):
    """The cheap model sees the planted rewrites less sharply than the full model (and sees the unrelated
    document as unrelated): the cascade gives the full model's candidates and cosines, and the full model
    never embeds a document that has no candidate."""
    paras = make_paragraphs({
        "s": [TERMINAL, FOUNDATIONS, PIER],
        "r": [REWORDED_TERMINAL, REWORDED_FOUNDATIONS, REWORDED_PIER],
        "other": [FISHERMEN],
    })
    full, calls = fake_embed({
        TERMINAL: basis(0), FOUNDATIONS: basis(1), PIER: basis(2), FISHERMEN: basis(3),
        REWORDED_TERMINAL: at_cosine(0, 0.9, 10), REWORDED_FOUNDATIONS: at_cosine(1, 0.85, 11),
        REWORDED_PIER: at_cosine(2, 0.45, 12),
    })
    cheap, _ = fake_embed({
        TERMINAL: basis(0), FOUNDATIONS: basis(1), PIER: basis(2), FISHERMEN: basis(3),
        REWORDED_TERMINAL: at_cosine(0, 0.75, 10), REWORDED_FOUNDATIONS: at_cosine(1, 0.7, 11),
        REWORDED_PIER: at_cosine(2, 0.2, 12),
    })
    cfg = MatchConfig()
    expected = match(paras, cfg, full).to_pandas()
    calls.clear()
    got = match(paras, cfg, full, propose=cheap).to_pandas()
    pd.testing.assert_frame_equal(got, expected)
    assert len(expected) > 0
    assert FISHERMEN not in [t for texts in calls for t in texts], "a document without candidates is not embedded"



@pytest.mark.parametrize("settings", [MatchConfig(), MatchConfig(ann_min_rows=10, exact_max_products=0, partition_rows=10,
                                                      partition_probe=2)],
                         ids=["exact", "partitioned"])
def test_vectors_kept_in_a_scratch_file_give_the_same_candidates(make_paragraphs, fake_embed, monkeypatch, settings):
    """Past ``_SCRATCH_BYTES`` the stage keeps its vectors in an unnamed scratch file, embeds a chunk of rows
    at a time and hands the pages it read back after each window of the file: the candidates (pairs, cosines,
    shares) are the ones it finds with every vector in memory, with and without the cascade."""
    from pipeline.io import scratch as scratch_file
    from pipeline.stages import match as stage

    rng = np.random.default_rng(5)
    vocabulary = [w for w in (TERMINAL + " " + FISHERMEN + " " + PIER).split() if w.isalpha()]
    filler = {f"n{d:02d}": [" ".join(rng.choice(vocabulary, 12)) for _ in range(4)] for d in range(12)}
    paras = make_paragraphs({"s": [TERMINAL, FOUNDATIONS, PIER],
                             "r": [REWORDED_TERMINAL, REWORDED_FOUNDATIONS, REWORDED_PIER], **filler})
    full, _ = fake_embed({TERMINAL: basis(0), FOUNDATIONS: basis(1), PIER: basis(2),
                          REWORDED_TERMINAL: at_cosine(0, 0.9, 10), REWORDED_FOUNDATIONS: at_cosine(1, 0.85, 11),
                          REWORDED_PIER: at_cosine(2, 0.6, 12)})
    cheap, _ = fake_embed({TERMINAL: basis(0), FOUNDATIONS: basis(1), PIER: basis(2),
                           REWORDED_TERMINAL: at_cosine(0, 0.75, 10), REWORDED_FOUNDATIONS: at_cosine(1, 0.7, 11),
                           REWORDED_PIER: at_cosine(2, 0.65, 12)})
    in_memory = [match(paras, settings, full), match(paras, settings, full, propose=cheap)]
    monkeypatch.setattr(stage, "_SCRATCH_BYTES", 0)
    monkeypatch.setattr(scratch_file, "WINDOW_BYTES", 4096)
    monkeypatch.setattr(stage, "_ROWS_PER_EMBED", 7)
    scratch = stage.OnDemandVectors(full, *(stage.Strings(paras.column(c)) for c in ("text_hash", "text")))
    assert scratch.cover(np.arange(3))._scratch is not None, "the test must reach the scratch file"
    on_disk = [match(paras, settings, full), match(paras, settings, full, propose=cheap)]
    assert all(len(t) > 0 for t in in_memory)
    for got, expected in zip(on_disk, in_memory):
        pd.testing.assert_frame_equal(got.to_pandas(), expected.to_pandas())


def test_paragraphs_signed_and_measured_a_few_at_a_time_give_the_same_candidates(make_paragraphs, fake_embed,
                                                                                 monkeypatch):
    """The stage signs its paragraphs a chunk at a time (a stored signature index is asked for a chunk, never
    for every paragraph at once), keeps their band keys and shingle sets in scratch files read a window at a
    time, measures the pairs (Jaccard, shares covered, each paragraph's best) a chunk of pairs at a time and
    writes the table a chunk of rows at a time: the candidates are the ones it finds with everything in one chunk."""
    from pipeline.io import scratch as scratch_file
    from pipeline.stages import match as stage

    rng = np.random.default_rng(3)
    vocabulary = [w for w in (TERMINAL + " " + FISHERMEN + " " + PIER).split() if w.isalpha()]
    filler = {f"n{d:02d}": [" ".join(rng.choice(vocabulary, 12)) for _ in range(4)] for d in range(12)}
    paras = make_paragraphs({"s": [TERMINAL, FOUNDATIONS, PIER], "c": [TERMINAL_EDITED, FISHERMEN],
                             "r": [REWORDED_TERMINAL, REWORDED_FOUNDATIONS, REWORDED_PIER], **filler})
    full, _ = fake_embed({TERMINAL: basis(0), FOUNDATIONS: basis(1), PIER: basis(2),
                          REWORDED_TERMINAL: at_cosine(0, 0.9, 10), REWORDED_FOUNDATIONS: at_cosine(1, 0.85, 11),
                          REWORDED_PIER: at_cosine(2, 0.6, 12)})
    cfg, signed = MatchConfig(), []

    def sign(hashes, texts):
        signed.append(len(texts))
        return stage.minhash_signatures(texts, cfg)

    whole = match(paras, cfg, full, sign=sign)
    matched = sum(count >= cfg.min_words for count in paras.column("word_count").to_pylist())
    assert signed == [matched]
    monkeypatch.setattr(stage, "_TEXTS_PER_CHUNK", 4)
    monkeypatch.setattr(stage, "_CELLS", 64)
    monkeypatch.setattr(stage, "_PAIRS_PER_CHUNK", 3)
    monkeypatch.setattr(scratch_file, "WINDOW_BYTES", 64)
    signed.clear()
    chunked = match(paras, cfg, full, sign=sign)
    assert max(signed) == 4 and sum(signed) == matched, "signed four paragraphs at a time"
    assert chunked.column("doc_id").num_chunks > 1, "the table written a few rows at a time"
    assert set(whole.column("via").to_pylist()) >= {"minhash", "embedding"} and whole.column("covered").null_count < len(whole)
    pd.testing.assert_frame_equal(chunked.to_pandas(), whole.to_pandas())


def test_cascade_pairs_a_loose_rewrite_with_its_source_when_the_cheap_model_flagged_both(make_paragraphs, fake_embed):
    """The cheap model does not see b as a rewrite of s (it sees b as close to c instead), but it flags all
    four paragraphs; among them the full model's own search pairs b with s, as it does without the cascade."""
    paras = make_paragraphs({"s": [TERMINAL], "a": [REWORDED_TERMINAL], "b": [REWORDED_FOUNDATIONS], "c": [FISHERMEN]})
    full, _ = fake_embed({TERMINAL: basis(0), REWORDED_TERMINAL: at_cosine(0, 0.9, 10),
                          REWORDED_FOUNDATIONS: at_cosine(0, 0.8, 11), FISHERMEN: basis(3)})
    cheap, _ = fake_embed({TERMINAL: basis(0), REWORDED_TERMINAL: at_cosine(0, 0.8, 10),
                           REWORDED_FOUNDATIONS: at_cosine(0, 0.3, 20), FISHERMEN: at_cosine(0, 0.3, 20)})
    cfg = MatchConfig()
    got = match(paras, cfg, full, propose=cheap)
    assert ("b", 0, "s", 0) in pairs_of(got)
    pd.testing.assert_frame_equal(got.to_pandas(), match(paras, cfg, full).to_pandas())

def test_cascade_embeds_only_the_paragraphs_of_its_pairs(make_paragraphs, fake_embed):
    """One rewritten paragraph between two otherwise unrelated documents: the pair is found with the full
    model's cosine, and the full model embeds those two paragraphs only (one pair does not make the
    documents worth aligning)."""
    paras = make_paragraphs({"s": [TERMINAL, FOUNDATIONS], "r": [REWORDED_TERMINAL, FISHERMEN]})
    full, calls = fake_embed({TERMINAL: basis(0), REWORDED_TERMINAL: at_cosine(0, 0.9, 10)})
    cheap, _ = fake_embed({TERMINAL: basis(0), REWORDED_TERMINAL: at_cosine(0, 0.8, 10)})
    got = match(paras, MatchConfig(), full, propose=cheap)
    assert pairs_of(got) == {("r", 0, "s", 0), ("s", 0, "r", 0)}
    assert got.column("cosine").to_pylist() == pytest.approx([0.9, 0.9], abs=1e-5), "the full model's cosine"
    assert sorted(t for texts in calls for t in texts) == sorted([TERMINAL, REWORDED_TERMINAL])


def test_a_paragraph_in_a_crowd_of_same_topic_neighbours_is_proposed_only_if_it_stands_out():
    """Static vectors of one topic sit close together; only a neighbour well above the paragraph's crowd
    (its cascade_top_k-th neighbour) is proposed to the full model."""
    from pipeline.stages.match import proposals

    rng = np.random.default_rng(0)
    topic = rng.normal(size=DIM)
    crowd = topic + 0.6 * np.linalg.norm(topic) * rng.normal(size=(12, DIM)) / math.sqrt(DIM)
    rewrite = crowd[0] + 0.15 * np.linalg.norm(topic) * rng.normal(size=DIM) / math.sqrt(DIM)
    vectors = np.vstack([crowd, rewrite]).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    docs = np.arange(len(vectors))  # every paragraph its own document
    cfg = MatchConfig(cascade_top_k=6, cascade_min_cosine=0.6, cascade_min_margin=0.1)
    assert (vectors[1:12] @ vectors[0] > cfg.cascade_min_cosine).all(), "the crowd passes the cosine alone"
    i, j = proposals(vectors, docs, np.ones(len(docs), bool), cfg)
    assert set(zip(i.tolist(), j.tolist())) == {(0, 12), (12, 0)}



def test_a_source_hidden_in_its_rewrites_crowd_is_proposed_among_the_possible_sources_by_date():
    """Twelve rewrites of one earlier article, published on one day, are as close to each other as to the
    article: overall, the article does not stand out of a rewrite's neighbourhood, but among the documents
    that can be its source by date (the article and unrelated earlier pages) it does."""
    from pipeline.stages.match import proposals

    rng = np.random.default_rng(1)
    unit = lambda v: v / np.linalg.norm(v, axis=-1, keepdims=True)  # noqa: E731
    source = unit(rng.normal(size=DIM))
    rewrites = unit(source + 0.5 * unit(rng.normal(size=(12, DIM))))
    unrelated = unit(rng.normal(size=(6, DIM)))
    vectors = np.vstack([source, rewrites, unrelated]).astype(np.float32)
    docs = np.arange(len(vectors))
    published = np.array([1] + [2] * 12 + [0] * 6)  # the article and the unrelated pages come first
    cfg = MatchConfig(cascade_top_k=6, cascade_min_cosine=0.6, cascade_min_margin=0.1)
    everyone = np.ones(len(docs), bool)
    to_source = lambda pairs: {i for i, j in zip(*pairs) if j == 0}  # noqa: E731
    assert to_source(proposals(vectors, docs, everyone, cfg)) == set()
    assert to_source(proposals(vectors, docs, everyone, cfg, published)) == set(range(1, 13))

def test_each_document_is_aligned_with_its_best_linked_documents_only():
    """Document 0 shares 3 pairs with 1 and 2 with 2; 1 shares 2 with 2 (all pairs alike). With one partner
    each, 0-1 is each one's best, and 2 ranks 0 first (a tie with 1, broken by document order): 1-2 is not
    aligned."""
    from pipeline.stages.match import aligned_documents

    docs = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    vectors = np.ones((len(docs), 1), np.float32)
    pairs = [(0, 3), (1, 4), (2, 5), (0, 6), (1, 7), (3, 6), (4, 7)]
    i, j = both_ways(pairs)
    none = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    a, b = aligned_documents(vectors, docs, (i, j), none, MatchConfig(align_max_docs=1))
    assert set(zip(a.tolist(), b.tolist())) == {(0, 1), (0, 2)}
    a, b = aligned_documents(vectors, docs, (i, j), none, MatchConfig(align_max_docs=2))
    assert set(zip(a.tolist(), b.tolist())) == {(0, 1), (0, 2), (1, 2)}


def test_documents_aligned_from_a_few_pairs_at_a_time_are_the_ones_aligned_at_once(monkeypatch):
    """The linked pairs are read a chunk of whole documents at a time: the same document pairs are aligned."""
    from pipeline.stages import match as stage

    rng = np.random.default_rng(6)
    docs = np.repeat(np.arange(30), 4)
    vectors = rng.normal(size=(len(docs), 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    pairs = [(int(a), int(b)) for a, b in rng.integers(0, len(docs), size=(400, 2)) if docs[a] != docs[b]]
    found, lexical = both_ways(pairs), both_ways(pairs[:40])
    cfg = MatchConfig(align_min_pairs=2, align_max_docs=2, align_link_cosine=0.3)
    whole = stage.aligned_documents(vectors, docs, found, lexical, cfg)
    monkeypatch.setattr(stage, "_PAIRS_PER_CHUNK", 5)
    chunked = stage.aligned_documents(vectors, docs, found, lexical, cfg)
    assert len(whole[0]) > 5
    assert [side.tolist() for side in chunked] == [side.tolist() for side in whole]


def test_documents_sharing_only_loose_neighbours_are_not_aligned():
    """Two same-topic pages share many paragraph pairs of middling cosine: classify could never follow
    one from the other, so they are not aligned (and the cascade need not embed them whole). One pair at
    ``align_link_cosine``, or one lexical pair, makes them worth aligning."""
    from pipeline.stages.match import aligned_documents

    docs = np.array([0, 0, 0, 1, 1, 1])
    loose = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.6, 0.8], [0.6, 0.8], [0.6, 0.8]], np.float32)
    pairs = [(0, 3), (1, 4), (2, 5)]
    i, j = both_ways(pairs)
    none = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    cfg = MatchConfig(align_link_cosine=0.78)
    assert len(aligned_documents(loose, docs, (i, j), none, cfg)[0]) == 0
    aligned = lambda vectors, lexical: [side.tolist() for side in aligned_documents(vectors, docs, (i, j), lexical, cfg)]  # noqa: E731
    assert aligned(loose, (np.array([2]), np.array([5]))) == [[0], [1]]
    strong = loose.copy()
    strong[5] = [1.0, 0.0]
    assert aligned(strong, none) == [[0], [1]]



def test_a_stock_sentence_does_not_align_two_long_documents_but_a_roundups_sources_are_aligned():
    """Two eight-paragraph pages on one topic pair loosely paragraph by paragraph and share one sentence
    verbatim (a disclosure): classify could not follow either from the other, so they are not aligned.
    A quarter of one page strongly linked to the other aligns them; so does one strong pair when most of
    the page is strongly linked to other documents, as a roundup's is to its sources."""
    from pipeline.stages.match import aligned_documents

    docs = np.array([0] * 8 + [1] * 8 + [2, 3, 4, 5])
    vectors = np.array([[1.0, 0.0]] * 8 + [[0.6, 0.8]] * 12, np.float32)
    pairs = [(k, 8 + k) for k in range(8)] + [(1 + k, 16 + k) for k in range(4)]
    i, j = both_ways(pairs)
    cfg = MatchConfig(align_min_share=0.25, align_composite_share=0.6)

    def aligned_with_first(lexical):
        a, b = aligned_documents(vectors, docs, (i, j), (np.array([p[0] for p in lexical]), np.array([p[1] for p in lexical])), cfg)
        return {int(y) for x, y in zip(a, b) if x == 0}

    assert aligned_with_first([(0, 8)]) == set()
    assert aligned_with_first([(0, 8), (1, 9)]) == {1}
    roundup = [(1 + k, 16 + k) for k in range(4)]
    assert aligned_with_first([(0, 8)] + roundup) == {1}  # one pair with each source: nothing more to align
    assert aligned_with_first(roundup) == set()

@pytest.mark.parametrize("threshold, num_perm, expected", [(0.3, 128, (37, 3)), (0.5, 128, (25, 5)), (0.8, 256, (17, 15))])
def test_lsh_bands_are_the_ones_datasketch_picks(threshold, num_perm, expected):
    from pipeline.stages.match import lsh_bands

    assert lsh_bands(threshold, num_perm) == expected


def rewrites_paired_with_the_source(candidates) -> set[str]:
    return {d for d, _, c, _ in pairs_of(candidates) if c == "source"}


@pytest.mark.parametrize("ann_min_rows", [5_000, 2], ids=["exact", "partitioned"])
def test_same_day_siblings_do_not_hide_the_earlier_source(crowded_source, ann_min_rows):
    paragraphs, documents, embed, rewrites = crowded_source
    cfg = MatchConfig(ann_min_rows=ann_min_rows, exact_max_products=0, partition_rows=10)
    assert not rewrites_paired_with_the_source(match(paragraphs, cfg, embed)) & rewrites, "undated, siblings hide it"
    candidates = match(paragraphs, cfg, embed, dates=documents)
    assert_well_formed(candidates)
    assert rewrites_paired_with_the_source(candidates) >= rewrites


def test_an_earlier_source_added_later_is_found_for_the_rewrites_already_stored(crowded_source):
    """A later run brings the source and five more rewrites: the three stored rewrites' nearest new
    paragraphs are the five siblings, yet they get the source, as a single run gives it them."""
    paragraphs, documents, embed, rewrites = crowded_source
    new = {"source", *(f"rewrite{k}" for k in range(3, 8))}
    later = match(paragraphs, MatchConfig(), embed, new_docs=new, dates=documents)
    assert rewrites_paired_with_the_source(later) >= rewrites


def test_partitioned_search_among_earlier_documents_finds_what_brute_force_finds():
    """Half the paragraphs are dated 2020, half 2021: each 2021 paragraph's nearest 2020 ones come from its
    partition restricted to the earlier half, as brute force finds them."""
    from pipeline.stages.match import semantic_pairs

    rng = np.random.default_rng(4)
    topics = rng.normal(size=(20, 64))
    vectors = topics[np.arange(600) % 20] + rng.normal(scale=1.0, size=(600, 64))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    docs = np.array([f"d{i // 10:03d}" for i in range(600)])
    published = np.where(np.arange(600) < 300, 2020, 2021).astype(np.int64)
    query = np.ones(600, bool)

    def earlier_pairs(cfg: MatchConfig) -> set:
        return {(i, j) for i, j in zip(*semantic_pairs(vectors, docs, query, cfg, published))
                if published[j] < published[i]}

    exact = earlier_pairs(MatchConfig(ann_min_rows=10_000, min_cosine=0.0))
    approximate = earlier_pairs(MatchConfig(ann_min_rows=10, exact_max_products=0, min_cosine=0.0, partition_rows=50))
    kept = np.bincount([i for i, _ in exact], minlength=600)
    assert (kept[300:] == MatchConfig().top_k).all(), "every later paragraph keeps top_k earlier neighbours"
    assert len(exact & approximate) >= 0.95 * len(exact)


@pytest.mark.parametrize("seed", range(3))
def test_the_kth_best_of_each_row_is_read_off_its_own_scores(seed):
    """The search's floor per row: rows with fewer than k scores get none (-inf), ties count once each."""
    from pipeline.stages.match import _kth_best

    rng = np.random.default_rng(seed)
    r = rng.integers(0, 40, 3000)
    value = np.round(rng.uniform(-1, 1, 3000), 2).astype(np.float32)  # rounded: many ties
    expected = np.full(50, -np.inf, np.float32)
    for row in range(50):
        mine = np.sort(value[r == row])[::-1]
        if len(mine) >= 7:
            expected[row] = mine[6]
    assert np.array_equal(_kth_best(r, value, 7, 50), expected)


@pytest.mark.parametrize("dated", [False, True], ids=["all", "earlier"])
def test_a_search_spread_over_worker_processes_finds_the_same_pairs(dated):
    """The default run hands the partitioned search's blocks to its workers: the same pairs, in the same
    order, as searching them in this process (the candidates must not depend on the worker count)."""
    from functools import partial

    from pipeline.executors.local import map_in_processes
    from pipeline.stages.match import semantic_pairs

    rng = np.random.default_rng(5)
    topics = rng.normal(size=(20, 64))
    vectors = topics[np.arange(900) % 20] + rng.normal(scale=1.0, size=(900, 64))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    docs = np.array([f"d{i // 10:03d}" for i in range(900)])
    published = np.where(np.arange(900) < 450, 2020, 2021).astype(np.int64) if dated else None
    cfg = MatchConfig(ann_min_rows=10, exact_max_products=0, min_cosine=0.3, partition_rows=50)
    here = semantic_pairs(vectors, docs, np.ones(900, bool), cfg, published)
    spread = semantic_pairs(vectors, docs, np.ones(900, bool), cfg, published, partial(map_in_processes, workers=2))
    assert len(here[0]) > 900
    assert all(np.array_equal(a, b) for a, b in zip(here, spread))
