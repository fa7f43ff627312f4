"""A run killed with SIGKILL at any moment leaves no process behind and no lock held."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from pipeline.runner import KILL_SWITCH

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "pipeline.cli"]
EXIT_LOCKED = 3

# Kill points spread over every stage and the publish step: the runner's own checkpoints (before each
# stage, inside strip while both workers are busy, between tables of the commit, before the snapshot
# swap, before the manifest),
# then kills from outside at moments that fall wherever the run happens to be.
CHECKPOINTS = ["ingest", "strip", "strip:1", "strip:4", "strip:9", "segment", "match", "classify", "write",
               "commit:documents", "commit:provenance", "commit:swap", "manifest"]
KILL_AFTER_SECONDS = [1.5, 2.5, 3.0, 3.5, 4.0, 5.0, 6.5]


def _corpus(folder: Path) -> list[str]:
    """Plain-text seeds and HTML chrome fixtures: enough pages that both strip workers are busy."""
    folder.mkdir()
    for path in [*sorted((ROOT / "seeds").glob("*.txt")), *sorted((ROOT / "tests" / "fixtures").rglob("*.html"))]:
        shutil.copy(path, folder / path.name)
    return sorted(p.name for p in folder.iterdir())


def _session_members(session_id: int) -> list[int]:
    """Pids of live processes in a session (zombies excluded: they hold no lock and run nothing)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[3]) == session_id:
            members.append(int(entry.name))
    return members


def _survivors(session_id: int, grace: float = 5.0) -> list[int]:
    """The run's processes still alive once ``grace`` seconds have passed (empty as soon as none is)."""
    deadline = time.monotonic() + grace
    while (alive := _session_members(session_id)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    # A session of its own, so that every process the run started can be found after the kill; the log
    # goes to a file, since a pipe would stay open as long as any orphan lives.
    with open(log, "w", encoding="utf-8") as stderr:
        return subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=stderr)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to find the run's processes")
def test_twenty_kills_leave_no_process_and_no_lock_and_every_document_once(tmp_path):
    names = _corpus(tmp_path / "corpus")
    config = tmp_path / "fast.toml"
    config.write_text("[match]\nsemantic = false\n[run]\nbatch_size = 2\n", encoding="utf-8")
    out = tmp_path / "out"
    args = CLI + ["run", "--config", str(config), "--input", str(tmp_path / "corpus"), "--output", str(out),
                  "--workers", "2"]
    kills = [(point, None) for point in CHECKPOINTS] + [(None, after) for after in KILL_AFTER_SECONDS]
    assert len(kills) == 20
    for point, after in kills:
        if out.exists() and point is None:
            shutil.rmtree(out)  # a timed kill lands in a fresh run's stages, not in an instant no-op rerun
        env = {**os.environ, **({KILL_SWITCH: point} if point else {})}
        proc = _start(args, env, tmp_path / "run.log")
        if after is not None:
            try:
                proc.wait(timeout=after)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
        code = proc.wait()
        stderr = (tmp_path / "run.log").read_text(encoding="utf-8")
        assert code in (0, -signal.SIGKILL), f"kill at {point or after}: exit {code}\n{stderr}"
        assert code != EXIT_LOCKED, f"the lock was still held before the kill at {point or after}"
        assert _survivors(proc.pid) == [], f"processes of the run killed at {point or after} are alive"

    final = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    assert final.returncode == 0, final.stderr
    documents = pd.read_parquet(out / "documents")
    assert sorted(documents.source_path) == names
    assert documents.doc_id.is_unique
    provenance = pd.read_parquet(out / "provenance")
    assert not provenance.duplicated(["doc_id", "para_index"]).any()
