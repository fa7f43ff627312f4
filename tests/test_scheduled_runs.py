"""Scheduled-run guarantees: incremental, idempotent, crash-safe, locked, never losing a document."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from pipeline import state
from pipeline.config import Config
from hostile_inputs import expected_rows, write_hostile_corpus
from pipeline.runner import KILL_SWITCH, ConfigChanged, run
from pipeline.stages.ingest import UNFORESEEN

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
CLI = [sys.executable, "-m", "pipeline.cli"]


def config(inputs: list[Path], output: Path, **sections) -> Config:
    data = {"run": {"input": [str(p) for p in inputs], "output": str(output)}, "match": {"semantic": False}}
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return Config.model_validate(data)


def paragraphs(seed: str) -> list[str]:
    text = next(SEEDS.glob(f"{seed}_*.txt")).read_text(encoding="utf-8")
    return [p.strip() for p in text.split("\n\n") if len(p.split()) >= 20 and not p.startswith(" ")]


def write_corpus(folder: Path) -> dict[str, list[str]]:
    """Two originals (seeds 002 and 003) and three copiers, each quoting two to three of their paragraphs."""
    folder.mkdir(parents=True)
    cnn, france = paragraphs("002"), paragraphs("003")
    own = "Our correspondent adds that local markets stayed calm throughout the week, with traders reporting little change in prices or volumes across the region."
    docs = {
        "orig-cnn.txt": cnn,
        "orig-france.txt": france,
        "copy-a.txt": [cnn[1], own, cnn[4].replace("beginning", "starting")],
        "copy-b.txt": [own.replace("calm", "quiet"), france[2], france[5], cnn[12]],
        "copy-c.txt": [cnn[16], cnn[17], "A reader wrote in to say the talks were long overdue and that both sides had waited far too long to meet in person."],
    }
    for name, paras in docs.items():
        (folder / name).write_text("\n\n".join(paras) + "\n", encoding="utf-8")
    return docs


def table(output: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(output / name)


def test_second_run_on_same_input_adds_nothing(tmp_path):
    cfg = config([SEEDS], tmp_path / "out")
    first = run(cfg)
    before = {name: len(table(tmp_path / "out", name)) for name in state.TABLES}
    second = run(cfg)
    after = {name: len(table(tmp_path / "out", name)) for name in state.TABLES}
    assert first.tables["documents"] == 5 and first.status == "ok"
    assert second.tables == {"documents": 0, "provenance": 0, "removed": 0}
    assert second.already_processed == 5
    assert before == after


def test_second_run_exits_zero_from_the_command_line(tmp_path):
    args = CLI + ["run", "--input", str(SEEDS), "--output", str(tmp_path / "out"), "--config", str(_no_semantic(tmp_path))]
    assert subprocess.run(args, cwd=ROOT, capture_output=True).returncode == 0
    again = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    assert again.returncode == 0
    assert "+5 already processed" in again.stdout


def _no_semantic(tmp_path: Path) -> Path:
    path = tmp_path / "fast.toml"
    path.write_text("[match]\nsemantic = false\n[run]\ndoc_timeout = 20\n", encoding="utf-8")
    return path


def test_copies_in_a_later_run_point_at_sources_from_an_earlier_run(tmp_path):
    corpus = tmp_path / "corpus"
    docs = write_corpus(corpus)
    first_half = tmp_path / "first"
    second_half = tmp_path / "second"
    first_half.mkdir(), second_half.mkdir()
    for name in docs:
        target = first_half if name.startswith("orig") else second_half
        (target / name).write_bytes((corpus / name).read_bytes())
    out = tmp_path / "out"
    run(config([first_half], out))
    run(config([second_half], out))
    documents, prov = table(out, "documents"), table(out, "provenance")
    name_of = dict(zip(documents.doc_id, documents.source_path))
    prov["doc"] = prov.doc_id.map(name_of)
    prov["source"] = prov.source_doc_id.map(name_of)
    copies = prov[prov.doc.str.startswith("copy")]
    expected = {("copy-a.txt", 0): "orig-cnn.txt", ("copy-a.txt", 2): "orig-cnn.txt",
                ("copy-b.txt", 1): "orig-france.txt", ("copy-b.txt", 2): "orig-france.txt",
                ("copy-b.txt", 3): "orig-cnn.txt", ("copy-c.txt", 0): "orig-cnn.txt", ("copy-c.txt", 1): "orig-cnn.txt"}
    got = {(r.doc, r.para_index): (r.label, r.source) for r in copies.itertuples()}
    for key, source in expected.items():
        assert got[key] == ("copied", source), key
    # The copied text is the source paragraph's text, found in the earlier run's rows.
    source_text = {(r.doc_id, r.para_index): r.text for r in prov.itertuples()}
    for r in copies[copies.label == "copied"].itertuples():
        assert source_text[(r.source_doc_id, r.source_para_index)].split()[:3] == r.text.split()[:3]
    # Same labels as one run over everything.
    whole = tmp_path / "whole"
    run(config([corpus], whole))
    one = table(whole, "provenance")
    assert sorted(zip(one.doc_id, one.para_index, one.label.astype(str))) == sorted(
        zip(prov.doc_id, prov.para_index, prov.label.astype(str)))


@pytest.mark.parametrize("point", ["strip", "match", "classify", "write", "commit:documents", "commit:provenance",
                                   "commit:_links", "commit:swap", "manifest"])
def test_a_run_killed_at_any_point_leaves_readable_tables_and_the_rerun_completes(tmp_path, point):
    corpus = tmp_path / "corpus"
    write_corpus(corpus)
    out = tmp_path / "out"
    fast = _no_semantic(tmp_path)
    base = CLI + ["run", "--config", str(fast), "--output", str(out), "--input"]
    # A committed earlier run, so there is previous state to protect.
    first = subprocess.run(base + [str(corpus / "orig-cnn.txt")], cwd=ROOT, capture_output=True)
    assert first.returncode == 0
    killed = subprocess.run(base + [str(corpus)], cwd=ROOT, capture_output=True, env={**os.environ, KILL_SWITCH: point})
    assert killed.returncode == -9
    for name in state.TABLES:
        readable = table(out, name)  # readers are never broken by the crash
        assert len(readable) >= 0
    rerun = subprocess.run(base + [str(corpus)], cwd=ROOT, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    documents = table(out, "documents")
    assert sorted(documents.source_path) == sorted(p.name for p in corpus.iterdir())
    assert documents.doc_id.is_unique
    prov = table(out, "provenance")
    assert not prov.duplicated(["doc_id", "para_index"]).any()
    assert set(prov.doc_id) == set(documents.doc_id)


def test_a_second_concurrent_run_exits_with_the_lock_code_and_leaves_the_output_intact(tmp_path):
    out = tmp_path / "out"
    args = CLI + ["run", "--config", str(_no_semantic(tmp_path)), "--input", str(SEEDS), "--output", str(out)]
    assert subprocess.run(args, cwd=ROOT, capture_output=True).returncode == 0
    before = table(out, "provenance")
    with state.output_lock(out):  # another run in progress
        started = time.monotonic()
        blocked = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
        assert blocked.returncode == 3
        assert "locked" in blocked.stderr
        assert time.monotonic() - started < 30
    pd.testing.assert_frame_equal(table(out, "provenance"), before)


def test_wait_queues_behind_the_running_one(tmp_path):
    out = tmp_path / "out"
    args = CLI + ["run", "--config", str(_no_semantic(tmp_path)), "--input", str(SEEDS), "--output", str(out), "--wait"]
    released = threading.Event()

    def hold():
        with state.output_lock(out):
            released.wait(2)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.2)
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1)
    assert proc.poll() is None  # still waiting for the lock
    released.set()
    holder.join()
    assert proc.wait(timeout=120) == 0
    assert len(table(out, "documents")) == 5


def test_a_results_changing_config_is_refused_until_rebuild(tmp_path):
    out = tmp_path / "out"
    run(config([SEEDS], out))
    changed = config([SEEDS], out, classify={"copy_ratio": 0.9})
    with pytest.raises(ConfigChanged, match="--rebuild"):
        run(changed)
    rebuilt = run(changed, rebuild=True)
    assert rebuilt.tables["documents"] == 5
    assert len(table(out, "documents")) == 5


def test_a_new_batch_size_goes_on_without_a_rebuild(tmp_path):
    """Batch sizes change how fast vectors come, not what they are: a scheduled run tuned for its machine
    must not find its output folder refused."""
    out = tmp_path / "out"
    run(config([SEEDS], out))
    again = run(config([SEEDS], out, match={"embed_batch_size": 8, "embed_batch_tokens": 256}))
    assert again.already_processed == 5


def test_run_manifest_records_the_run(tmp_path):
    out = tmp_path / "out"
    result = run(config([SEEDS], out))
    [manifest] = state.manifests(out)
    assert manifest["run_id"] == result.run_id
    assert manifest["status"] == "ok"
    assert manifest["config_hash"] == config([SEEDS], out).results_hash()
    assert set(manifest["seconds"]) >= {"ingest", "strip", "segment", "match", "classify", "write"}
    assert manifest["statuses"] == {"ok": 5}
    assert manifest["stage_rows"]["ingest"] == 5
    assert len(manifest["input_fingerprint"]) == 64
    assert manifest["started_at"] <= manifest["ended_at"]
    assert {"trafilatura", "onnxruntime", "model2vec"} <= set(manifest["versions"]), "what decides the results"
    assert manifest["model_load_seconds"] == 0, "a lexical run loads no model"


def test_a_run_manifest_times_its_model_loading_apart_from_its_work(tmp_path):
    """Loading the models varies with the page cache by more than a small run's whole work: a scheduler comparing
    runs, and `make bench`, take it out."""
    out = tmp_path / "out"
    run(config([SEEDS], out, match={"semantic": True}))
    [manifest] = state.manifests(out)
    assert 0 < manifest["model_load_seconds"] <= manifest["seconds"]["match"]


def test_a_page_that_hangs_the_extractor_is_quarantined_and_the_run_goes_on(tmp_path, monkeypatch):
    import pipeline.stages.strip as strip_module

    real = strip_module.html_blocks

    def hanging(html, cfg):
        if "HANG-ME" in html:
            time.sleep(600)
        return real(html, cfg)

    monkeypatch.setattr(strip_module, "html_blocks", hanging)  # the sandbox forks: workers inherit it
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "hang.html").write_text("<html><body><p>HANG-ME</p></body></html>", encoding="utf-8")
    article = " ".join(paragraphs("002")[:3])
    (inputs / "fine.html").write_text(f"<html><body><article><p>{article}</p></article></body></html>", encoding="utf-8")
    started = time.monotonic()
    result = run(config([inputs], tmp_path / "out", run={"doc_timeout": 2}))
    assert time.monotonic() - started < 60
    documents = table(tmp_path / "out", "documents").set_index("source_path")
    assert documents.loc["hang.html", "status"] == "quarantined"
    assert "timed out" in documents.loc["hang.html", "error"]
    assert documents.loc["fine.html", "status"] == "ok"
    assert documents.loc["fine.html", "n_paragraphs"] >= 1
    assert result.status == "partial"


def test_hostile_inputs_of_every_format_never_crash_a_run_and_all_are_accounted_for(tmp_path):
    """A sample of the generator that ``make bench`` feeds ten thousand of (bench/bench_fuzz.py)."""
    inputs = tmp_path / "hostile"
    names = write_hostile_corpus(inputs, seed=20261121, count=360)
    result = run(config([inputs], tmp_path / "out", run={"doc_timeout": 20, "workers": 2}))
    documents = table(tmp_path / "out", "documents")
    rows = documents.source_path.str.split("#").str[0].value_counts()
    for name in names:
        assert rows.get(name, 0) >= (expected_rows(name, (inputs / name).read_bytes()) or 1), name
    assert set(rows.index) == set(names)
    assert set(documents.status) <= {"ok", "quarantined", "skipped"}
    not_ok = documents[documents.status != "ok"]
    assert not_ok.error.notna().all()
    assert not not_ok.error.str.startswith(UNFORESEEN).any(), "every failure has a reason of the readers' own"
    assert result.quarantined > 0 and (documents.status == "ok").any()


def test_two_runs_started_together_one_runs_the_other_gets_the_lock_code(tmp_path):
    out = tmp_path / "out"
    args = CLI + ["run", "--input", str(SEEDS), "--output", str(out)]  # semantic on: the first run takes a while
    first = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = out / ".lock"
    deadline = time.monotonic() + 60
    while not (lock.exists() and lock.read_text().startswith("pid")) and time.monotonic() < deadline:
        time.sleep(0.05)
    second = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    assert first.wait(timeout=300) == 0
    assert second.returncode == 3
    documents = table(out, "documents")
    assert len(documents) == 5 and documents.doc_id.is_unique


def test_json_log_lines_parse(tmp_path):
    import json

    args = CLI + ["run", "--config", str(_no_semantic(tmp_path)), "--input", str(SEEDS), "--output",
                  str(tmp_path / "out"), "--log-format", "json"]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0
    entries = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
    stages = {e.get("stage") for e in entries}
    assert {"ingest", "strip", "segment", "match", "classify"} <= stages
    assert all({"ts", "level", "msg"} <= set(e) for e in entries)


def test_a_site_template_is_recognised_across_runs(tmp_path):
    """Two pages of a site a night: alone, no run sees the footer three times; together they do."""
    article = paragraphs("002")
    footer = "The Quiet Observer is published by the Harbour Press Trust, independent since 1998, all rights reserved."

    def page(i: int) -> str:
        body = "".join(f"<p>{p}</p>" for p in article[3 * i : 3 * i + 3])
        return f"<html><body><article><h1>Story {i}</h1>{body}<p>{footer}</p></article></body></html>"

    out = tmp_path / "out"
    for night in range(2):
        folder = tmp_path / f"night{night}"
        folder.mkdir()
        rows = ["path,url,published_at"]
        for i in (2 * night, 2 * night + 1):
            (folder / f"p{i}.html").write_text(page(i), encoding="utf-8")
            rows.append(f"p{i}.html,https://quiet.example.org/story/{i},")
        (folder / "manifest.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        run(config([folder], out))
    documents = table(out, "documents")
    prov, removed = table(out, "provenance"), table(out, "removed")
    second_night = set(documents[documents.source_path.isin(["p2.html", "p3.html"])].doc_id)
    kept_footer = prov[prov.text.str.contains("Harbour Press Trust") & prov.doc_id.isin(second_night)]
    assert kept_footer.empty
    assert (removed[removed.doc_id.isin(second_night)].rule == "host_template").any()
