"""Shared fixtures: small tables built straight from pipeline.schema, a fake embedder, repo paths."""
from __future__ import annotations

import os

# The embedding model is bundled in an installed package: never let the hub go online.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pipeline.config import Config
from pipeline.schema import BLOCKS, CANDIDATES, INGESTED, to_table
from pipeline.stages.segment import segment

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def seeds_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """``provenance run`` with configs/default.toml (the real embedding model) over seeds/, into a fresh
    folder: one run for the whole session, read by every test of the seeds' output."""
    output = tmp_path_factory.mktemp("e2e") / "out"
    done = subprocess.run(
        [str(Path(sys.executable).parent / "provenance"), "run", "--config", str(REPO / "configs" / "default.toml"),
         "--input", str(REPO / "seeds"), "--output", str(output)],
        capture_output=True, text=True, timeout=600, cwd=REPO,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
    )
    return output, done


@pytest.fixture(scope="session")
def out(seeds_run) -> Path:
    """The seeds' output folder, once the run succeeded."""
    output, done = seeds_run
    assert done.returncode == 0, f"run failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-3000:]}"
    return output


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return REPO / "tests" / "fixtures"


@pytest.fixture
def cfg() -> Config:
    """The built-in default configuration (the same as configs/default.toml)."""
    return Config()


@pytest.fixture
def make_blocks():
    """``{doc_id: [text, ...]}`` -> a BLOCKS table whose blocks are all kept, in the given order."""

    def build(docs: dict[str, list[str]]) -> pa.Table:
        rows = [
            {"doc_id": doc, "block_index": i, "text": text, "kept": True, "reason": None, "rule": None}
            for doc, texts in docs.items()
            for i, text in enumerate(texts)
        ]
        return to_table(pd.DataFrame(rows, columns=BLOCKS.names), BLOCKS)

    return build


@pytest.fixture
def make_paragraphs(make_blocks, cfg):
    """``{doc_id: [paragraph, ...]}`` -> the PARAGRAPHS table that segment makes of them."""

    def build(docs: dict[str, list[str]]) -> pa.Table:
        return segment(make_blocks(docs), cfg.segment)

    return build


@pytest.fixture
def make_documents():
    """Doc ids (and optional ``{doc_id: "YYYY-MM-DD"}`` publication dates) -> an INGESTED table of ok documents."""

    def build(doc_ids, dates: dict[str, str] | None = None) -> pa.Table:
        dates = dates or {}
        rows = [
            {
                "doc_id": doc,
                "source_path": f"{doc}.txt",
                "content_type": "text",
                "status": "ok",
                "published_at": pd.Timestamp(dates[doc], tz="UTC") if doc in dates else None,
            }
            for doc in doc_ids
        ]
        return to_table(pd.DataFrame(rows), INGESTED)

    return build


@pytest.fixture
def make_candidates():
    """``[(doc, para, cand_doc, cand_para, cosine), ...]`` -> a CANDIDATES table holding both directions."""

    def build(pairs) -> pa.Table:
        rows = []
        for doc, para, cand_doc, cand_para, cosine in pairs:
            for a, i, b, j in ((doc, para, cand_doc, cand_para), (cand_doc, cand_para, doc, para)):
                rows.append({"doc_id": a, "para_index": i, "cand_doc_id": b, "cand_para_index": j,
                             "jaccard": 0.0, "cosine": cosine, "via": "embedding"})
        return to_table(pd.DataFrame(rows, columns=CANDIDATES.names), CANDIDATES)

    return build


def _unit(vector: np.ndarray) -> np.ndarray:
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def _noise_vector(text: str, dim: int) -> np.ndarray:
    seed = int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16)
    return np.random.default_rng(seed).standard_normal(dim)


@pytest.fixture
def fake_embed():
    """An embedding function without the model: ``{text: vector}`` decides, other texts get a private direction.

    Returns ``(embed, calls)``; ``embed(hashes, texts)`` returns unit float32 rows like the real embedder, and
    ``calls`` records the texts it was asked for.
    """

    def build(vectors: dict[str, np.ndarray], dim: int = 256):
        calls: list[list[str]] = []

        def embed(hashes: list[str], texts: list[str]) -> np.ndarray:
            assert len(hashes) == len(texts)
            calls.append(list(texts))
            rows = []
            for text in texts:
                given = vectors.get(text)
                rows.append(_unit(np.asarray(given, dtype=np.float64)) if given is not None
                            else _unit(_noise_vector(text, dim)))
            return np.vstack(rows) if rows else np.zeros((0, dim), dtype=np.float32)

        return embed, calls

    return build


@pytest.fixture
def crowded_source(make_paragraphs, make_documents, fake_embed):
    """A source (2020) hidden from its eight same-day rewrites (2021) by the nearest-neighbour search alone.

    The rewrites sit at cosine 0.98 to each other and 0.85 to the source, so each one's ``top_k`` = 5
    nearest are siblings; five later retellings (2022) at 0.9 to the source are the source's own 5
    nearest. Returns (paragraphs, documents, embed, rewrite doc ids).
    """
    from article_texts import TERMINAL, TERMINAL_RETOLD

    rewrites, later = TERMINAL_RETOLD[:8], TERMINAL_RETOLD[8:13]
    unit = np.eye(256)
    rest = np.sqrt(1 - 0.85**2 - 0.15**2)
    vectors = {TERMINAL: unit[0],
               **{t: 0.85 * unit[0] + rest * unit[1] + 0.15 * unit[2 + k] for k, t in enumerate(rewrites)},
               **{t: 0.9 * unit[0] + np.sqrt(1 - 0.81) * unit[20 + k] for k, t in enumerate(later)}}
    docs = {"source": [TERMINAL], **{f"rewrite{k}": [t] for k, t in enumerate(rewrites)},
            **{f"later{k}": [t] for k, t in enumerate(later)}}
    dates = {doc: "2020-01-01" if doc == "source" else "2021-01-01" if doc.startswith("rewrite") else "2022-01-01"
             for doc in docs}
    return (make_paragraphs(docs), make_documents(list(docs), dates), fake_embed(vectors)[0],
            {d for d in docs if d.startswith("rewrite")})


@pytest.fixture
def fast_config(tmp_path) -> Path:
    """A config file that switches the embedding model off (lexical matching only)."""
    path = tmp_path / "fast.toml"
    path.write_text("[match]\nsemantic = false\n", encoding="utf-8")
    return path
