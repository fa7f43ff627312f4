"""The embedding backends: the derived models (built by `make models`) stand in for the published one."""
from __future__ import annotations

import socket

import numpy as np
import pytest

from pipeline.config import Config
from pipeline.embed import DERIVED_MODELS, FP32_MODEL, MissingDependency, OnnxEmbedder, embedder_for, token_batches

pytestmark = pytest.mark.slow

SOURCE = ("The harbour authority announced on Monday that the old ferry terminal will be demolished next year to "
          "make room for a new passenger building with space for two ships at once.")
REWRITE = ("Port officials revealed this week a plan to tear down the ageing ferry building and replace it with a "
           "larger modern hall able to handle a pair of vessels simultaneously.")
UNRELATED = ("The county cricket club confirmed that its captain will miss the rest of the season after an "
             "operation on his knee, and a younger batsman will lead the side.")
TEXTS = [SOURCE, REWRITE, UNRELATED, "Short line.", ""]
MATCH = Config().match
SMALL_BATCHES = MATCH.model_copy(update={"embed_batch_size": 2, "embed_batch_tokens": 16})


@pytest.fixture(scope="module")
def published() -> np.ndarray:
    return embedder_for("sentence-transformers", MATCH).encode(TEXTS)


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8", "static"])
def test_vectors_are_unit_rows_in_input_order(backend):
    vectors = embedder_for(backend, SMALL_BATCHES).encode(TEXTS[:3])
    assert vectors.dtype == np.float32 and len(vectors) == 3
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    again = embedder_for(backend, MATCH).encode(TEXTS[2::-1])
    # int8 activations are scaled per batch, so a batch's other texts may move a vector, but only slightly
    assert np.einsum("ij,ij->i", again[::-1], vectors).min() > 0.98, "batching and order barely change a vector"


def test_float32_export_gives_the_published_models_vectors(published):
    vectors = embedder_for("onnx", SMALL_BATCHES).encode(TEXTS)
    assert np.einsum("ij,ij->i", vectors[:4], published[:4]).min() > 0.9999, "the same model, the same figures"


def test_the_default_config_embeds_offline_with_the_float32_export_make_models_builds(monkeypatch):
    """The default embedder is the float32 ONNX export (the published vectors, faster: docs/benchmarks.md), loaded
    from tools/models with nothing fetched."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("the default embedder reached for the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    match = Config().match
    embedder = embedder_for(match.embedder, match)
    assert isinstance(embedder, OnnxEmbedder) and embedder.folder == DERIVED_MODELS / FP32_MODEL
    assert embedder.encode(TEXTS).shape == (len(TEXTS), 384)


def test_int8_export_gives_nearly_the_published_models_vectors(published):
    vectors = embedder_for("onnx-int8", MATCH).encode(TEXTS)
    agreement = np.einsum("ij,ij->i", vectors[:4], published[:4])
    assert agreement.min() > 0.97


@pytest.mark.parametrize("backend", ["onnx-int8", "static"])
def test_a_rewrite_sits_nearer_its_source_than_an_unrelated_paragraph(backend):
    source, rewrite, unrelated = embedder_for(backend, MATCH).encode(TEXTS[:3])
    assert source @ rewrite > source @ unrelated + 0.2


def test_a_model_not_built_says_how_to_build_it(tmp_path):
    with pytest.raises(MissingDependency, match="make models"):
        OnnxEmbedder(tmp_path / "absent", MATCH.embed_batch_tokens).encode([SOURCE])
    assert DERIVED_MODELS.name == "models"


def test_a_paragraphs_float32_vector_does_not_depend_on_what_it_is_embedded_with():
    """An incremental run embeds a new paragraph with other texts than a full run would: its vector, and so its
    candidates, must be the same either way (batches differ in length and row count)."""
    embedder = embedder_for("onnx", MATCH)
    together = embedder.encode([SOURCE * 6, *TEXTS, UNRELATED * 3])
    alone = np.concatenate([embedder.encode([text]) for text in TEXTS])
    assert np.abs(together[1:-1] - alone).max() < 1e-6


@pytest.mark.parametrize("lengths", [[3, 3, 4, 9, 40, 300, 300], [5] * 50, [2000]])
def test_token_batches_cover_every_row_in_order_within_the_budget(lengths):
    lengths = np.array(lengths)
    batches = token_batches(lengths, 64)
    assert np.concatenate([np.arange(len(lengths))[b] for b in batches]).tolist() == list(range(len(lengths)))
    for batch in batches:
        rows = lengths[batch]
        assert len(rows) == 1 or len(rows) * rows.max() <= 64
        assert batch.stop == len(lengths) or (len(rows) + 1) * lengths[batch.stop] > 64, "as many rows as fit"


@pytest.mark.parametrize("backend", ["onnx", "static"])
def test_an_embedding_spread_over_worker_processes_gives_the_vectors_of_one_process(backend):
    """The default run spreads a large embedding over its workers: the vectors (and so every candidate and
    label) must not depend on the worker count, and the workers' model loading is still timed."""
    from functools import partial

    from pipeline.embed import PART_ROWS, SpreadEmbedder
    from pipeline.executors.local import map_in_processes

    texts = [f"{TEXTS[n % 3]} Item {n}: {' and more' * (n % 7)}." for n in range(2 * PART_ROWS + 37)]
    spread = embedder_for(backend, MATCH, partial(map_in_processes, workers=2))
    assert isinstance(spread, SpreadEmbedder)
    assert np.array_equal(spread.encode(texts), embedder_for(backend, MATCH).encode(texts))
    assert spread.worker_load_seconds > 0


def test_the_int8_export_is_never_spread():
    """Its activations are quantized per batch: parts in other processes would give other vectors."""
    from pipeline.executors.local import map_in_processes

    assert isinstance(embedder_for("onnx-int8", MATCH, map_in_processes), OnnxEmbedder)
