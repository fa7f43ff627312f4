"""Current labels: whatever order pages arrive in, the provenance table says what holds given everything."""
from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from pipeline.config import Config
from pipeline.runner import KILL_SWITCH, run

from test_scheduled_runs import write_corpus

ROOT = Path(__file__).resolve().parents[1]
DEV_DOCS = ROOT.parent / "shared" / "bench" / "provenance-dev" / "docs"
DATES = {"orig-cnn.txt": "2024-01-01T00:00:00Z", "orig-france.txt": "2024-01-02T00:00:00Z",
         "copy-a.txt": "2024-02-01T00:00:00Z", "copy-b.txt": "2024-02-02T00:00:00Z", "copy-c.txt": "2024-02-03T00:00:00Z"}


def config(inputs: list[Path], output: Path, semantic: bool = False) -> Config:
    return Config.model_validate({"run": {"input": [str(p) for p in inputs], "output": str(output)},
                                  "match": {"semantic": semantic}})


def dated_folder(corpus: Path, names: list[str], folder: Path, dates: dict[str, str]) -> Path:
    """A run input holding ``names`` from ``corpus`` with their dates in a manifest."""
    folder.mkdir(parents=True)
    for name in names:
        shutil.copy(corpus / name, folder / name)
    lines = ["path,url,published_at"] + [f"{n},https://{Path(n).stem}.example/{n},{dates.get(n, '')}" for n in names]
    (folder / "manifest.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def labelled(output: Path) -> dict[tuple[str, int], tuple[str, str | None, int | None]]:
    """(source file, paragraph) -> (label, root source file, root paragraph)."""
    documents = pd.read_parquet(output / "documents")
    name = dict(zip(documents.doc_id, documents.source_path.map(lambda p: Path(p).name)))
    prov = pd.read_parquet(output / "provenance")
    return {(name[r.doc_id], int(r.para_index)): (str(r.label), name.get(r.source_doc_id),
                                                  None if pd.isna(r.source_para_index) else int(r.source_para_index))
            for r in prov.itertuples()}


def test_a_source_that_arrives_after_its_copy_relabels_the_copy_and_keeps_the_old_row(tmp_path):
    corpus = tmp_path / "corpus"
    write_corpus(corpus)
    out = tmp_path / "out"
    run(config([dated_folder(corpus, ["copy-a.txt"], tmp_path / "first", DATES)], out))
    before = labelled(out)
    assert {label for label, _, _ in before.values()} == {"original"}
    second = run(config([dated_folder(corpus, ["orig-cnn.txt"], tmp_path / "second", DATES)], out))

    after = labelled(out)
    assert after[("copy-a.txt", 0)][:2] == ("copied", "orig-cnn.txt")
    assert after[("copy-a.txt", 2)][:2] == ("copied", "orig-cnn.txt")
    assert after[("copy-a.txt", 1)][0] == "original"
    prov = pd.read_parquet(out / "provenance")
    assert not prov.duplicated(["doc_id", "para_index"]).any()
    history = pd.read_parquet(out / "provenance_history")
    assert sorted(history.para_index) == [0, 2]
    assert set(history.label.astype(str)) == {"original"}
    assert set(history.superseded_by_run) == {second.run_id}
    assert history.revision_reason.str.contains("label original -> copied").all()
    revised_rows = prov[prov.doc_id.isin(history.doc_id) & prov.para_index.isin([0, 2])]
    assert set(revised_rows.run_id) == {second.run_id}
    documents = pd.read_parquet(out / "documents").set_index("source_path")
    copy_doc = documents.loc[[p for p in documents.index if p.endswith("copy-a.txt")][0]]
    assert list(copy_doc.derived_from) == [documents.loc[[p for p in documents.index if p.endswith("orig-cnn.txt")][0]].doc_id]
    manifest = json.loads((out / "runs" / f"{second.run_id}.json").read_text())
    assert manifest["revised_paragraphs"] == 2 and manifest["revised_documents"] == 1


@pytest.mark.parametrize("point", ["commit:documents", "commit:provenance_history", "commit:swap", "manifest"])
def test_a_kill_at_each_commit_point_leaves_one_consistent_snapshot(tmp_path, point):
    corpus = tmp_path / "corpus"
    write_corpus(corpus)
    out = tmp_path / "out"
    fast = tmp_path / "fast.toml"
    fast.write_text("[match]\nsemantic = false\n", encoding="utf-8")
    first = dated_folder(corpus, ["copy-a.txt", "copy-b.txt"], tmp_path / "first", DATES)
    second = dated_folder(corpus, ["orig-cnn.txt", "orig-france.txt"], tmp_path / "second", DATES)
    base = [sys.executable, "-m", "pipeline.cli", "run", "--config", str(fast), "--output", str(out), "--input"]
    first_run = subprocess.run(base + [str(first)], cwd=ROOT, capture_output=True, text=True)
    assert first_run.returncode == 0, first_run.stderr
    before = {t: pd.read_parquet(out / t) for t in ("documents", "provenance", "provenance_history")}
    killed = subprocess.run(base + [str(second)], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, KILL_SWITCH: point})
    assert killed.returncode == -9, killed.stderr
    now = {t: pd.read_parquet(out / t) for t in ("documents", "provenance", "provenance_history")}
    swapped = point == "manifest"
    for name in now:  # all tables from the old snapshot, or all from the new one
        assert now[name].equals(before[name]) != swapped, name
    if swapped:
        assert len(now["provenance_history"]) > 0 and set(now["documents"].run_id) != set(before["documents"].run_id)
    rerun = subprocess.run(base + [str(second)], cwd=ROOT, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    statuses = sorted(json.loads(p.read_text())["status"] for p in (out / "runs").glob("*.json"))
    assert statuses == (["ok", "ok", "ok"] if swapped else ["interrupted", "ok", "ok"])  # a commit is never lost
    assert pd.read_parquet(out / "documents").doc_id.is_unique


def _order_corpus(folder: Path) -> list[str]:
    """The seeds and a sample of provenance-dev's plain-text documents (no dates: direction is inferred)."""
    folder.mkdir()
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        shutil.copy(path, folder / path.name)
    if DEV_DOCS.is_dir():
        for path in random.Random(11).sample(sorted(DEV_DOCS.glob("*.txt")), 14):
            shutil.copy(path, folder / path.name)
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture(scope="module")
def order_corpus(tmp_path_factory):
    base = tmp_path_factory.mktemp("order")
    names = _order_corpus(base / "corpus")
    whole = base / "whole"
    run(config([base / "corpus"], whole, semantic=True))
    return base, names, labelled(whole)


@pytest.mark.slow
@settings(max_examples=4, deadline=None, phases=[Phase.generate],  # each example is several pipeline runs
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_labels_and_roots_do_not_depend_on_arrival_order_or_split(order_corpus, data):
    base, names, single = order_corpus
    order = data.draw(st.permutations(names), label="order")
    runs = data.draw(st.integers(min_value=2, max_value=4), label="runs")
    cuts = sorted(data.draw(st.lists(st.integers(1, len(names) - 1), min_size=runs - 1, max_size=runs - 1,
                                     unique=True), label="cuts"))
    trial = base / f"trial-{len(list(base.glob('trial-*')))}"
    out = trial / "out"
    for i, (start, end) in enumerate(zip([0, *cuts], [*cuts, len(names)])):
        part = trial / f"part-{i}"
        part.mkdir(parents=True)
        for name in order[start:end]:
            shutil.copy(base / "corpus" / name, part / name)
        run(config([part], out, semantic=True))
    assert labelled(out) == single


def _chain_corpus(folder: Path) -> dict[str, str]:
    """A chain S -> M -> L (M quotes S's paragraph and adds one, L quotes only the added one, so L never
    pairs with S), F quoting M's other paragraph, and G quoting F: one connected component."""
    from test_scheduled_runs import paragraphs

    cnn, france = paragraphs("002"), paragraphs("003")
    docs = {"s.txt": [cnn[2], france[0]], "m.txt": [f"{cnn[2]} {cnn[3]}", cnn[5]], "l.txt": [cnn[3], france[1]],
            "f.txt": [cnn[5], cnn[6]], "g.txt": [cnn[6], france[2]]}
    folder.mkdir()
    for name, paras in docs.items():
        (folder / name).write_text("\n\n".join(paras) + "\n", encoding="utf-8")
    return {name: f"2024-01-0{day}T00:00:00Z" for day, name in enumerate(docs, start=1)}


def test_a_run_decides_only_the_documents_its_new_one_pairs_with_and_roots_follow_down_the_chain(tmp_path):
    dates = _chain_corpus(tmp_path / "corpus")
    out = tmp_path / "out"
    first = run(config([dated_folder(tmp_path / "corpus", ["m.txt", "l.txt", "f.txt", "g.txt"], tmp_path / "first", dates)], out))
    assert labelled(out)[("l.txt", 0)] == ("copied", "m.txt", 0)
    second = run(config([dated_folder(tmp_path / "corpus", ["s.txt"], tmp_path / "second", dates)], out))

    single = tmp_path / "single"
    run(config([dated_folder(tmp_path / "corpus", sorted(dates), tmp_path / "all", dates)], single))
    assert labelled(out) == labelled(single)
    after = labelled(out)
    assert after[("m.txt", 0)] == ("copied", "s.txt", 0)
    assert after[("l.txt", 0)] == ("copied", "s.txt", 0)  # the middle of the chain got an earlier source
    assert after[("f.txt", 0)] == ("copied", "m.txt", 1)

    documents = pd.read_parquet(out / "documents")
    name = dict(zip(documents.doc_id, documents.source_path.map(lambda p: Path(p).name)))
    decided = pd.read_parquet(out / "stages" / "classify")
    assert {name[d] for d in decided.doc_id} == {"s.txt", "m.txt"}  # l, f and g are not reclassified
    manifest = json.loads((out / "runs" / f"{second.run_id}.json").read_text())
    assert manifest["decided_documents"] == 2
    history = pd.read_parquet(out / "provenance_history")
    inherited = history[history.doc_id.map(name) == "l.txt"]
    assert list(inherited.para_index) == [0] and inherited.revision_reason.str.startswith("root").all()
    prov = pd.read_parquet(out / "provenance")
    assert set(prov[prov.doc_id.map(name) == "l.txt"].run_id) == {first.run_id, second.run_id}
    assert set(prov[prov.doc_id.map(name).isin(["f.txt", "g.txt"])].run_id) == {first.run_id}
