"""Under a scheduler: signals stop a run cleanly, usage errors are one line with status 2, --dry-run checks what a
run would check, JSON logs carry the run id and end with a summary, and waits, quarantines and manifest mistakes
are logged."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

from pipeline import state
from pipeline.runner import KILL_SIGNAL, KILL_SWITCH

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
CLI = [sys.executable, "-m", "pipeline.cli"]
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], cwd=ROOT, capture_output=True, text=True, env={**os.environ, **(env or {})})


def seeds_folder(tmp_path: Path, names: tuple[str, ...] = ("000", "001", "002", "003", "004")) -> Path:
    """A copy of some seeds (without their manifest)."""
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    for seed in sorted(SEEDS.glob("*.txt")):
        if seed.name[:3] in names:
            (folder / seed.name).write_text(seed.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


def json_lines(stderr: str) -> list[dict]:
    return [json.loads(line) for line in stderr.splitlines()]


@pytest.mark.parametrize(("signame", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_signal_stops_the_run_cleanly_with_nothing_committed(tmp_path, fast_config, signame, code):
    out = tmp_path / "out"
    folder = seeds_folder(tmp_path)
    run = ["run", "--config", str(fast_config), "--output", str(out), "--input"]
    assert cli(*run, str(folder / "002_bac54f9c1543ab99.txt")).returncode == 0
    before = {name: pd.read_parquet(out / name) for name in state.TABLES}
    # The signal arrives in the middle of the commit, before the snapshot swap.
    stopped = cli(*run, str(folder), env={KILL_SWITCH: "commit:provenance", KILL_SIGNAL: signame})
    assert stopped.returncode == code
    assert "Traceback" not in stopped.stderr
    assert stopped.stderr.strip().splitlines()[-1] == f"provenance: interrupted by {signame}: stopped, nothing committed"
    assert [m["status"] for m in state.manifests(out)] == ["ok", "interrupted"]
    for name, frame in before.items():
        pd.testing.assert_frame_equal(pd.read_parquet(out / name), frame)  # nothing of it is left on disk
    rerun = cli(*run, str(folder))
    assert rerun.returncode == 0, rerun.stderr
    assert len(pd.read_parquet(out / "documents")) == 5


@pytest.mark.parametrize("case", ["output-is-a-file", "output-under-a-file", "unknown-option", "bad-choice", "bad-workers", "missing-input",
                                  "report-without-runs"])
def test_every_usage_error_is_one_line_and_status_2(tmp_path, case):
    a_file = tmp_path / "taken"
    a_file.write_text("not a folder", encoding="utf-8")
    args = {
        "output-is-a-file": ["run", "--input", str(SEEDS), "--output", str(a_file)],
        "output-under-a-file": ["run", "--input", str(SEEDS), "--output", str(a_file / "out"), "--dry-run"],
        "unknown-option": ["run", "--frobnicate"],
        "bad-choice": ["run", "--from", "nowhere"],
        "bad-workers": ["run", "--workers", "0", "--output", str(tmp_path / "out")],
        "missing-input": ["run", "--input", str(tmp_path / "absent"), "--output", str(tmp_path / "out")],
        "report-without-runs": ["report", "--output", str(tmp_path)],
    }[case]
    done = cli(*args)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith("provenance") and "Traceback" not in done.stderr


def test_a_usage_error_in_json_mode_is_one_json_line(tmp_path):
    a_file = tmp_path / "taken"
    a_file.write_text("x", encoding="utf-8")
    done = cli("run", "--input", str(SEEDS), "--output", str(a_file), "--log-format", "json")
    assert done.returncode == 2
    [entry] = json_lines(done.stderr)
    assert entry["level"] == "error" and entry["exit_code"] == 2 and "is a file" in entry["msg"]
    assert "run_id" in entry


def test_dry_run_lists_what_it_would_process_and_skip_and_writes_nothing(tmp_path, fast_config):
    out = tmp_path / "out"
    folder = seeds_folder(tmp_path, ("002",))
    assert cli("run", "--config", str(fast_config), "--input", str(folder), "--output", str(out)).returncode == 0
    seeds_folder(tmp_path, ("000", "001"))
    (folder / "notes.csv").write_text("a,b\n", encoding="utf-8")
    (folder / "broken.html").write_bytes(PNG_BYTES)
    runs_before = sorted((out / "runs").iterdir())
    done = cli("run", "--config", str(fast_config), "--input", str(folder), "--output", str(out), "--dry-run",
               "--log-format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["run"]["output"] == str(out)
    plan = {(e["would"], e["path"]): e.get("reason") for e in json_lines(done.stderr) if "would" in e}
    assert set(plan) == {("process", "000_7f34de361f8afc52.txt"), ("process", "001_6c72edc2f5181216.txt"),
                         ("skip", "002_bac54f9c1543ab99.txt"), ("skip", "notes.csv"), ("skip", "broken.html")}
    assert "already processed" in plan[("skip", "002_bac54f9c1543ab99.txt")]
    assert "unsupported file type" in plan[("skip", "notes.csv")]
    assert "quarantined" in plan[("skip", "broken.html")]
    assert sorted((out / "runs").iterdir()) == runs_before


def test_dry_run_names_the_settings_that_changed_and_refuses_like_the_run(tmp_path, fast_config):
    out = tmp_path / "out"
    folder = seeds_folder(tmp_path, ("002",))
    assert cli("run", "--config", str(fast_config), "--input", str(folder), "--output", str(out)).returncode == 0
    changed = tmp_path / "changed.toml"
    changed.write_text("[match]\nsemantic = false\n\n[classify]\ncopy_ratio = 0.9\n", encoding="utf-8")
    done = cli("run", "--config", str(changed), "--input", str(folder), "--output", str(out), "--dry-run")
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert "classify.copy_ratio" in last and "0.9" in last and "--rebuild" in last
    real = cli("run", "--config", str(changed), "--input", str(folder), "--output", str(out))
    assert real.returncode == 2 and "classify.copy_ratio" in real.stderr
    rebuild = cli("run", "--config", str(changed), "--input", str(folder), "--output", str(out), "--dry-run", "--rebuild")
    assert rebuild.returncode == 0, rebuild.stderr


def test_dry_run_checks_the_inputs_and_the_lock(tmp_path, fast_config):
    out = tmp_path / "out"
    missing = cli("run", "--config", str(fast_config), "--input", str(tmp_path / "absent"), "--output", str(out), "--dry-run")
    assert missing.returncode == 2 and "absent" in missing.stderr
    assert not out.exists()
    folder = seeds_folder(tmp_path, ("002",))
    with state.output_lock(out):
        locked = cli("run", "--config", str(fast_config), "--input", str(folder), "--output", str(out), "--dry-run")
    assert locked.returncode == 3 and "locked" in locked.stderr


def test_json_log_lines_carry_the_run_id_and_end_with_a_summary(tmp_path, fast_config):
    out = tmp_path / "out"
    done = cli("run", "--config", str(fast_config), "--input", str(seeds_folder(tmp_path)), "--output", str(out),
               "--log-format", "json")
    assert done.returncode == 0
    assert done.stdout == "", "with JSON logs nothing but JSON lines is written"
    entries = json_lines(done.stderr)
    [manifest] = state.manifests(out)
    assert {e["run_id"] for e in entries} == {manifest["run_id"]}
    summary = entries[-1]
    assert summary["event"] == "summary" and summary["status"] == "ok"
    assert summary["documents"] == {"ok": 5} and summary["tables"]["provenance"] == sum(summary["labels"].values())


def test_wait_logs_that_it_waits(tmp_path, fast_config):
    out = tmp_path / "out"
    release = threading.Event()
    held = threading.Event()

    def hold():
        with state.output_lock(out):
            held.set()
            release.wait()

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait()
    proc = subprocess.Popen([*CLI, "run", "--config", str(fast_config), "--input", str(seeds_folder(tmp_path, ("002",))),
                             "--output", str(out), "--wait", "--log-format", "json"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = json.loads(proc.stderr.readline())  # blocks until the run says something: that it waits
    finally:
        release.set()
        holder.join()
    assert first["waiting_for"] == "lock" and "locked" in first["msg"] and first["run_id"]
    _, rest = proc.communicate()
    assert proc.returncode == 0, rest
    assert any(e["msg"] == "lock acquired, starting" for e in json_lines(rest))


def test_each_quarantined_document_gets_a_warning_line(tmp_path, fast_config):
    folder = seeds_folder(tmp_path, ("002",))
    (folder / "picture.html").write_bytes(PNG_BYTES)
    (folder / "empty.txt").write_bytes(b"")
    done = cli("run", "--config", str(fast_config), "--input", str(folder), "--output", str(tmp_path / "out"),
               "--log-format", "json")
    assert done.returncode == 1
    warned = {e["source_path"]: e["error"] for e in json_lines(done.stderr)
              if e["level"] == "warning" and e["msg"].startswith("quarantined")}
    assert set(warned) == {"picture.html", "empty.txt"}
    assert "PNG" in warned["picture.html"] and "empty" in warned["empty.txt"]


def test_manifest_rows_without_a_file_and_non_iso_dates_are_warned_about(tmp_path, fast_config):
    folder = seeds_folder(tmp_path, ("002", "003"))
    (folder / "manifest.csv").write_text(
        "path,url,published_at\n002_bac54f9c1543ab99.txt,https://news.example/a,03/04/2024\n"
        "003_796d416b0a81cd49.txt,https://wire.example/b,2024-03-04T10:00:00Z\ngone.html,https://x.example/c,\n",
        encoding="utf-8")
    out = tmp_path / "out"
    done = cli("run", "--config", str(fast_config), "--input", str(folder), "--output", str(out), "--log-format", "json")
    assert done.returncode == 0, done.stderr
    warnings = [e for e in json_lines(done.stderr) if e["level"] == "warning"]
    assert {e["path"] for e in warnings} == {"002_bac54f9c1543ab99.txt", "gone.html"}
    assert any("03/04/2024" in e["msg"] and "ISO 8601" in e["msg"] for e in warnings)
    assert any("names no file" in e["msg"] for e in warnings)
    dates = pd.read_parquet(out / "documents").set_index("source_path")["published_at"]
    assert pd.isna(dates["002_bac54f9c1543ab99.txt"]), "an ambiguous date is not guessed"
    assert dates["003_796d416b0a81cd49.txt"] == pd.Timestamp("2024-03-04T10:00:00Z")
