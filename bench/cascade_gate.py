"""How well the cascade's gate keeps the full model's candidates, per group of documents.

Reads a finished run's saved paragraphs (``stages/segment``) and the full model's cached vectors
(``index/embeddings-<model>.arrow``; missing ones are computed), and runs the match stage twice per gate
(``cascade_min_cosine`` x ``cascade_top_k``): with the full model alone, and as the cascade (static
proposals, full-model confirmation). Prints, per group of documents: the full model's candidate pairs
(unordered), the share of its semantic pairs (found by its nearest-neighbour search) that the cascade
still gives, the share of all its candidates at or above the classify stage's ``aligned_cosine`` (the
least cosine a paraphrase is judged on) that the cascade still gives, and the share of paragraphs the full
model embeds. Also the static cosines of the full model's semantic pairs, as quantiles, to choose the gate
on one corpus and check it on another.

    python bench/cascade_gate.py --run OUT --corpus provenance-dev [--gate 0.4 0.5] [--top-k 10 20]
    python bench/cascade_gate.py --run OUT --corpus rewrite-pairs [--sources N]

``--corpus`` names how documents are grouped: provenance-dev by ``doc_type`` and by ``generator``
(its labels.jsonl), rewrite-pairs by generator (OUT a run of ``provenance eval rewrites``, which numbers the
rewrites of its sample of pairs.jsonl: give it the same ``--sources``).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from shared_data import shared_bench

from pipeline.config import Config
from pipeline.embed import embedder_for
from pipeline.evaluate.rewrites import read_pairs
from pipeline.io.arraystore import ArrayStore
from pipeline.stages.match import match


def document_groups(run: Path, corpus: str, sources: int | None = None) -> pd.DataFrame:
    """One row per (doc_id, dimension, group) of the run's documents."""
    documents = pd.read_parquet(run / "stages" / "ingest", columns=["doc_id", "source_path", "url"])
    rows = []
    if corpus == "provenance-dev":
        labels = pd.read_json(shared_bench() / "provenance-dev" / "labels.jsonl", lines=True)
        labels["file"] = labels["path"].str.rsplit("/", n=1).str[-1]
        per_doc = labels.groupby("file").agg(doc_type=("doc_type", "first"),
                                             generator=("generator", lambda g: g.dropna().iloc[0] if g.notna().any()
                                                        else "human"))
        for dimension in ("doc_type", "generator"):
            group = documents["source_path"].map(per_doc[dimension])
            rows.append(pd.DataFrame({"doc_id": documents["doc_id"], "dimension": dimension, "group": group}))
    else:
        pairs = read_pairs(shared_bench() / "rewrite-pairs", sources)
        number = documents["url"].str.extract(r"rewrites\.example\.org/(\d+)$")[0]
        if number.notna().sum() != len(pairs):
            raise SystemExit(f"{run} holds {number.notna().sum()} rewrites, the sample {len(pairs)}: wrong --sources?")
        group = number.map(lambda k: pairs[int(k)]["generator"] if isinstance(k, str) else "source")
        rows.append(pd.DataFrame({"doc_id": documents["doc_id"], "dimension": "generator", "group": group}))
    return pd.concat(rows).dropna()


def unordered(candidates: pd.DataFrame) -> pd.DataFrame:
    """One row per unordered pair of a candidate table (the pair's first side sorts first)."""
    first = (candidates["doc_id"] + ":" + candidates["para_index"].astype(str)
             < candidates["cand_doc_id"] + ":" + candidates["cand_para_index"].astype(str))
    return candidates[first].assign(key=lambda f: f["doc_id"] + ":" + f["para_index"].astype(str) + "|"
                                    + f["cand_doc_id"] + ":" + f["cand_para_index"].astype(str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, required=True, help="output folder of a run with the full model")
    parser.add_argument("--corpus", choices=["provenance-dev", "rewrite-pairs"], required=True)
    parser.add_argument("--gate", type=float, nargs="+", default=None, help="static cosines (default: the config's)")
    parser.add_argument("--top-k", type=int, nargs="+", default=None, help="proposals per row (default: the config's)")
    parser.add_argument("--sources", type=int, default=None, help="rewrite-pairs: the --sources of the eval's run")
    args = parser.parse_args()
    config = Config()
    cfg = config.match.model_copy(update={"embedder": "sentence-transformers"})
    paragraphs = pq.read_table(args.run / "stages" / "segment")
    published = embedder_for("sentence-transformers", cfg)
    store = ArrayStore(args.run / "index" / f"embeddings-{published.name}.arrow", np.float32)
    static = embedder_for("static", cfg)
    frame = paragraphs.select(["text_hash", "text"]).to_pandas().drop_duplicates("text_hash")
    cheap = dict(zip(frame["text_hash"], static.encode(frame["text"].tolist())))
    embedded: set[str] = set()

    def full(hashes: list[str], texts: list[str]) -> np.ndarray:
        embedded.update(hashes)
        return store.lookup(hashes, texts, compute=published.encode)

    expected = unordered(match(paragraphs, cfg, embed=full).to_pandas())
    semantic = expected["via"].isin(["embedding", "both"]).to_numpy()
    strong = (expected["cosine"] >= config.classify.aligned_cosine).to_numpy()
    hashes = paragraphs.select(["doc_id", "text_hash", "word_count"]).to_pandas()
    hashes = hashes[hashes["word_count"] >= cfg.min_words]
    print(f"{len(hashes)} paragraphs to match, {len(expected)} full-model candidate pairs, {int(semantic.sum())} "
          f"from its search, {int(strong.sum())} at or above aligned_cosine")
    hash_of = paragraphs.select(["doc_id", "para_index", "text_hash"]).to_pandas().set_index(["doc_id", "para_index"])["text_hash"]
    left = np.stack([cheap[h] for h in hash_of.loc[list(zip(expected["doc_id"], expected["para_index"]))]])
    right = np.stack([cheap[h] for h in hash_of.loc[list(zip(expected["cand_doc_id"], expected["cand_para_index"]))]])
    static_cosine = np.einsum("ij,ij->i", left, right)
    for name, chosen in (("semantic", semantic), ("at or above aligned_cosine", strong)):
        print(f"static cosine of the full model's {name} pairs, quantiles 0.1% / 1% / 5% / 50%: "
              + " / ".join(f"{np.quantile(static_cosine[chosen], q):.3f}" for q in (0.001, 0.01, 0.05, 0.5)))
    groups = document_groups(args.run, args.corpus, args.sources)
    rows = []
    for gate in args.gate or [cfg.cascade_min_cosine]:
        for top_k in args.top_k or [cfg.cascade_top_k]:
            gated = cfg.model_copy(update={"cascade_min_cosine": gate, "cascade_top_k": top_k})
            embedded.clear()
            got = unordered(match(paragraphs, gated, embed=full,
                                  propose=lambda h, _: np.stack([cheap[x] for x in h])).to_pandas())
            kept = expected["key"].isin(got["key"]).to_numpy()
            done = hashes["text_hash"].isin(embedded).to_numpy()
            for (dimension, group), members in [*groups.groupby(["dimension", "group"]), (("all", "all"), groups)]:
                inside = (expected["doc_id"].isin(members["doc_id"]) | expected["cand_doc_id"].isin(members["doc_id"])).to_numpy()
                rows.append({"gate": gate, "top_k": top_k, "dimension": dimension, "group": group,
                             "semantic": int((inside & semantic).sum()),
                             "recall_semantic": kept[inside & semantic].mean() if (inside & semantic).any() else np.nan,
                             "recall_strong": kept[inside & strong].mean() if (inside & strong).any() else np.nan,
                             "candidates": f"{len(got)}/{len(expected)}" if dimension == "all" else "",
                             "embedded": done[hashes["doc_id"].isin(members["doc_id"]).to_numpy()].mean()})
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    worst = table[table["dimension"] != "all"].groupby(["gate", "top_k"])[["recall_semantic", "recall_strong"]].min()
    print("\nworst group per gate:\n" + worst.to_string(float_format=lambda v: f"{v:.4f}"))


if __name__ == "__main__":
    main()
