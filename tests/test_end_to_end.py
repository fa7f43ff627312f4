"""The whole pipeline on the seed documents, with the real embedding model (one run for the session).

Seeds: 002 is a CNN article (the original); 000 copies its opening paragraphs verbatim under a reader
comment thread; 001 and 004 are machine rewrites of it; 003 is an independent report of the same
event that ends with a byline and a newsletter widget.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pipeline.text import words

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
GOLD = REPO / "tests" / "data" / "seeds_gold.jsonl"
SCORER = Path(__file__).resolve().parents[2] / "shared" / "tools" / "score_seeds.py"


def norm(text: str) -> str:
    return " ".join(words(text))


@pytest.fixture(scope="session")
def docs(out) -> pd.DataFrame:
    return pd.read_parquet(out / "documents")


@pytest.fixture(scope="session")
def ids(docs) -> dict[str, str]:
    """Seed number ("000") -> doc_id."""
    return {Path(p).name[:3]: d for p, d in zip(docs["source_path"], docs["doc_id"])}


@pytest.fixture(scope="session")
def prov(out) -> pd.DataFrame:
    frame = pd.read_parquet(out / "provenance")
    return frame.assign(label=frame["label"].astype(str))


@pytest.fixture(scope="session")
def removed(out) -> pd.DataFrame:
    return pd.read_parquet(out / "removed")


@pytest.fixture(scope="session")
def gold() -> list[dict]:
    return [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_every_seed_is_read(docs, ids):
    assert sorted(ids) == ["000", "001", "002", "003", "004"]
    assert (docs["status"] == "ok").all()
    assert docs["doc_id"].is_unique


def test_copies_of_002_are_found_in_000(prov, ids, gold):
    copied_in_gold = [g for g in gold if g["doc_id"].startswith("000") and g["label"] == "copied"]
    assert len(copied_in_gold) == 6
    mine = prov[prov["doc_id"] == ids["000"]]
    source = prov[prov["doc_id"] == ids["002"]].set_index("para_index")
    for g in copied_in_gold:
        hit = mine[mine["text"].map(norm) == norm(g["text"])]
        assert len(hit) == 1, f"000 paragraph {g['text'][:50]!r} not kept as one paragraph"
        row = hit.iloc[0]
        assert row["label"] == "copied", g["text"][:50]
        assert row["source_doc_id"] == ids["002"]
        assert norm(source.loc[int(row["source_para_index"]), "text"]) == norm(g["text"]), "points at the same text"


def _removed_with_reason(removed: pd.DataFrame, doc_id: str, text: str) -> set[str]:
    mine = removed[removed["doc_id"] == doc_id]
    return set(mine.loc[mine["text"].map(norm) == norm(text), "reason"])


def test_comment_thread_of_000_is_removed(removed, prov, ids, gold):
    thread = [g for g in gold if g["doc_id"].startswith("000") and g["expect"] == "strip"]
    assert len(thread) == 4
    for g in thread:
        assert _removed_with_reason(removed, ids["000"], g["text"]) == {"comments"}, g["text"][:50]
    kept = " ".join(prov.loc[prov["doc_id"] == ids["000"], "text"])
    assert "Mediazona" not in kept and "months ago" not in kept


def test_newsletter_widget_and_byline_of_003_are_removed(removed, prov, ids, gold):
    chrome = [g for g in gold if g["doc_id"].startswith("003") and g["expect"] == "strip"]
    assert {g["strip_reason"] for g in chrome} == {"newsletter", "byline"}
    for g in chrome:
        assert _removed_with_reason(removed, ids["003"], g["text"]) == {g["strip_reason"]}, g["text"]
    kept = " ".join(prov.loc[prov["doc_id"] == ids["003"], "text"])
    for leak in ("Subscribe", "Newsletter", "Please wait", "Thank you for sign up", "Khalil Wakim"):
        assert leak not in kept


def test_002_is_the_source_of_000_001_and_004(prov, docs, ids):
    derived_from = dict(zip(docs["doc_id"], docs["derived_from"]))
    for seed in ("000", "001", "004"):
        mine = prov[prov["doc_id"] == ids[seed]]
        derived = mine[mine["label"].isin(["copied", "ai_paraphrased"])]
        assert len(derived) >= len(mine) / 2, f"{seed}: most of it comes from 002"
        assert (derived["source_doc_id"] == ids["002"]).all(), seed
        assert list(derived_from[ids[seed]]) == [ids["002"]]
    assert (prov.loc[prov["doc_id"] == ids["001"], "label"] == "ai_paraphrased").all()


def test_002_and_003_are_all_original(prov, docs, ids):
    derived_from = dict(zip(docs["doc_id"], docs["derived_from"]))
    for seed in ("002", "003"):
        mine = prov[prov["doc_id"] == ids[seed]]
        assert len(mine) > 0
        assert (mine["label"] == "original").all(), mine.loc[mine["label"] != "original", "text"].tolist()
        assert mine["source_doc_id"].isna().all()
        assert list(derived_from[ids[seed]]) == []


def test_seed_score_is_perfect(out):
    if not SCORER.exists():
        pytest.skip(f"scorer not found at {SCORER}")
    done = subprocess.run([sys.executable, str(SCORER), "--output", str(out), "--gold", str(GOLD)],
                          capture_output=True, text=True, timeout=300)
    last = done.stdout.strip().splitlines()[-1]
    assert done.returncode == 0, done.stdout
    assert last == "seeds: 206/206 checks passed", done.stdout
