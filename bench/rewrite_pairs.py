"""Score the pipeline on ../shared/bench/rewrite-pairs run as one corpus (see that folder's README).

Each source abstract is one document dated 2020-01-01, each rewrite one document dated 2021-01-01, all in
one run. Every paragraph of a rewrite should be ``ai_paraphrased`` with its root in its source's document;
every source paragraph ``original``. Prints, per generator and overall: the share of rewrite paragraphs
labelled ai_paraphrased, copied and original, the share with the right root, and the share of source
paragraphs labelled original. ``--sources N`` keeps the first N source ids (sorted) and all their
rewrites, for a quicker run.

    python bench/rewrite_pairs.py --config configs/default.toml --output /tmp/rp [--sources 70]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
from shared_data import shared_bench



def corpus_lines(pairs: pd.DataFrame) -> list[dict]:
    """JSONL input lines: one per distinct source, one per rewrite."""
    sources = pairs.drop_duplicates("source_id")
    lines = [{"url": f"https://source.example/{s}", "text": t, "published_at": "2020-01-01"}
             for s, t in zip(sources["source_id"], sources["source"])]
    lines += [{"url": f"https://rewrite.example/{k}", "text": t, "published_at": "2021-01-01"}
              for k, t in zip(pairs.index, pairs["rewrite"])]
    return lines


def scores(pairs: pd.DataFrame, output: Path) -> pd.DataFrame:
    """Per generator (and ``all``): label shares of rewrite paragraphs, right-root share, source originals."""
    documents = pd.read_parquet(output / "documents", columns=["doc_id", "url"])
    prov = pd.read_parquet(output / "provenance", columns=["doc_id", "label", "source_doc_id"])
    doc_of = dict(zip(documents["url"], documents["doc_id"]))
    rewrite_doc = {doc_of[f"https://rewrite.example/{k}"]: k for k in pairs.index}
    source_doc = {s: doc_of[f"https://source.example/{s}"] for s in pairs["source_id"].unique()}
    rewrites = prov[prov["doc_id"].isin(rewrite_doc)].copy()
    pair = pairs.loc[rewrites["doc_id"].map(rewrite_doc)]
    rewrites["generator"] = pair["generator"].to_numpy()
    rewrites["right_root"] = ((rewrites["label"] == "ai_paraphrased")
                              & (rewrites["source_doc_id"] == pair["source_id"].map(source_doc).to_numpy()))
    source_rows = prov[prov["doc_id"].isin(set(source_doc.values()))]
    rows = []
    for generator, group in [*rewrites.groupby("generator"), ("all", rewrites)]:
        shares = group["label"].value_counts(normalize=True)
        rows.append({"generator": generator, "paragraphs": len(group),
                     "ai_paraphrased": shares.get("ai_paraphrased", 0.0), "copied": shares.get("copied", 0.0),
                     "original": shares.get("original", 0.0), "right_root": group["right_root"].mean(),
                     "sources_original": (source_rows["label"] == "original").mean()})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="configs/default.toml")
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--bench", default=None, type=Path, help="default: shared/bench/rewrite-pairs")
    parser.add_argument("--sources", type=int, default=None, help="keep the first N source ids and their rewrites")
    args = parser.parse_args()
    bench = args.bench or shared_bench() / "rewrite-pairs"
    pairs = pd.read_json(bench / "pairs.jsonl", lines=True)
    if args.sources:
        pairs = pairs[pairs["source_id"].isin(sorted(pairs["source_id"].unique())[:args.sources])]
    inputs = args.output.with_name(args.output.name + "-input")
    inputs.mkdir(parents=True, exist_ok=True)
    (inputs / "corpus.jsonl").write_text("".join(json.dumps(line) + "\n" for line in corpus_lines(pairs)))
    subprocess.run([sys.executable, "-m", "pipeline.cli", "run", "--config", args.config, "--input", str(inputs),
                    "--output", str(args.output), "--rebuild"], check=True)
    print(scores(pairs, args.output).to_string(index=False, float_format=lambda v: f"{v:.4f}"))


if __name__ == "__main__":
    main()
