"""Log output for an unattended job: plain lines or JSON, progress as lines when no terminal watches."""
from __future__ import annotations

import io
import json
import logging
import sys

from pipeline import log


def captured(monkeypatch, fmt: str) -> io.StringIO:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    log.configure(fmt)
    return stream


def test_json_lines_carry_the_fields(monkeypatch):
    stream = captured(monkeypatch, "json")
    log.info("strip: 3 rows", stage="strip", rows=3)
    entry = json.loads(stream.getvalue())
    assert entry["msg"] == "strip: 3 rows" and entry["stage"] == "strip" and entry["rows"] == 3
    assert entry["level"] == "info" and entry["ts"].endswith("Z")


def test_progress_without_a_terminal_is_a_line_every_tenth(monkeypatch):
    stream = captured(monkeypatch, "text")
    progress = log.Progress(100, "strip")
    for _ in range(100):
        progress.advance()
    progress.close()
    lines = [line for line in stream.getvalue().splitlines() if "strip:" in line]
    assert len(lines) == 10
    assert "strip: 100/100 (" in lines[-1]
    assert " doc/s, ETA 0s)" in lines[-1], "a line says the rate and the time left"


def test_page_text_in_a_message_cannot_forge_json_fields(monkeypatch):
    stream = captured(monkeypatch, "json")
    log.warning('quarantined x: bad "}, {"level": "ok', doc_id="x")
    [entry] = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert entry["level"] == "warning"


def teardown_module():
    log.configure("text")
    logging.getLogger("provenance").handlers[:] = []
