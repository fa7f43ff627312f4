"""The run report: rendered by headless Chromium as a reader would open it, its numbers checked against the tables,
and hostile page text shown as text, never run."""
from __future__ import annotations

import os
import shutil
import signal
import struct
import subprocess
import uuid
from pathlib import Path

import lxml.html
import pandas as pd
import pytest

from pipeline import load
from pipeline.cli import main
from pipeline.report import write_report

from article_texts import FISHERMEN, FOUNDATIONS, PIER, TERMINAL

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--enable-logging=stderr", "--v=0"]
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"
PAYLOADS = ("<script>document.title='pwned'</script>", "<img src=x onerror=\"document.title='pwned'\">",
            "<svg onload=\"document.title='pwned'\">")


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("Debian's chromium is not installed and could not be (`make test` runs "
                    "`apt-get install -y chromium` when it is missing): the report is not rendered")
    return found


def browse(page: Path, tmp_path: Path, *action: str) -> tuple[str, list[str]]:
    """Open ``page`` in headless Chromium with a fresh profile; returns its stdout and the console messages it
    logged (script errors, refused content). Every process it started is ended."""
    profile = tmp_path / f"profile-{uuid.uuid4().hex[:8]}"
    profile.mkdir()
    proc = subprocess.Popen([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *action, page.as_uri()],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    assert proc.returncode == 0, err[-2000:]
    return out, [line for line in err.splitlines() if ":CONSOLE" in line]


def rendered_dom(page: Path, tmp_path: Path) -> lxml.html.HtmlElement:
    dom, console = browse(page, tmp_path, "--dump-dom")
    assert console == [], f"the page logged to the console: {console}"
    return lxml.html.fromstring(dom)


def counts(tree: lxml.html.HtmlElement, key: str) -> dict[str, int]:
    """``data-count="<key>:<name>"`` cells of the rendered page, as {name: number}."""
    found = {}
    for cell in tree.xpath(f'//*[starts-with(@data-count, "{key}:")]'):
        found[cell.get("data-count")[len(key) + 1:]] = int(cell.text_content())
    return found


def nonzero(series: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in series.items() if v}


@pytest.fixture(scope="module")
def seeds_report(out) -> Path:
    return write_report(out)


def test_the_console_check_sees_a_script_error(tmp_path):
    """The check the report tests rely on does catch an error (so that its silence means something)."""
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>notDefined()</script></body></html>", encoding="utf-8")
    _, console = browse(page, tmp_path, "--dump-dom")
    assert any("notDefined" in line for line in console)


def test_the_seeds_report_renders_with_the_tables_counts_and_lineage(out, seeds_report, tmp_path):
    tree = rendered_dom(seeds_report, tmp_path)
    docs, prov, removed = load(out, "documents"), load(out, "provenance"), load(out, "removed")
    assert counts(tree, "label") == {str(k): int(v) for k, v in prov["label"].value_counts().items()}
    assert counts(tree, "status") == {str(k): int(v) for k, v in docs["status"].value_counts().items()}
    assert counts(tree, "reason") == nonzero(removed["reason"].value_counts())
    assert counts(tree, "stripped") == nonzero(removed["reason"].value_counts())
    per_host = prov.merge(docs[["doc_id", "host"]], on="doc_id").groupby(["host", "label"], observed=False).size()
    assert counts(tree, "host") == {f"{host}:{label}": int(n) for (host, label), n in per_host.items()}
    pairs = tree.xpath('//div[@class="pair"]')
    assert len(pairs) == int((prov["label"] != "original").sum())

    seed = {Path(p).name[:3]: d for p, d in zip(docs["source_path"], docs["doc_id"])}
    roots = tree.xpath('//ul[@class="lineage"]/li')
    assert roots[0].get("data-doc") == seed["002"], "roots first: the article the others derive from leads"
    derived = {li.get("data-doc") for li in roots[0].xpath("./ul/li")}
    assert derived == {seed["000"], seed["001"], seed["004"]}


def test_the_seeds_report_screenshot(seeds_report, tmp_path):
    shot = tmp_path / "report.png"
    _, console = browse(seeds_report, tmp_path, f"--screenshot={shot}", "--window-size=1280,2400")
    assert console == []
    header = shot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (1280, 2400)


def test_the_report_command_writes_the_latest_run_and_refuses_an_unknown_one(out, capsys):
    assert main(["report", "--output", str(out)]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path.parent == out / "reports" and path.stem in load(out, "documents")["run_id"].tolist()
    assert main(["report", "--output", str(out), "--run", "no-such-run"]) == 2
    err = capsys.readouterr().err
    assert "no-such-run" in err and len(err.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory) -> Path:
    """A run over pages whose text, file names and removed blocks carry script and event-handler payloads."""
    base = tmp_path_factory.mktemp("hostile")
    corpus = base / "in"
    corpus.mkdir()
    lines = [f"{TERMINAL} {PAYLOADS[0]}", f"{FOUNDATIONS} {PAYLOADS[1]}", PIER]
    body = "".join(f"<p>{text.replace('<', '&lt;').replace('>', '&gt;')}</p>" for text in lines)
    (corpus / "hostile.html").write_text(
        f"<html><body><article><h1>Harbour news</h1>{body}</article><div class=\"newsletter\"><p>Sign up today "
        f"{PAYLOADS[2].replace('<', '&lt;')}</p></div></body></html>", encoding="utf-8")
    (corpus / "copier.txt").write_text(f"{lines[0]}\n\n{lines[1]}\n\n{FISHERMEN}\n", encoding="utf-8")
    (corpus / "<img src=x onerror=alert(1)>.html").write_bytes(PNG_BYTES)
    (corpus / "manifest.csv").write_text(
        "path,url,published_at\nhostile.html,https://evil.example/a?q=<script>alert(1)</script>,2024-01-01\n"
        "copier.txt,https://copier.example/b,2024-01-02\n", encoding="utf-8")
    config = base / "fast.toml"
    config.write_text("[match]\nsemantic = false\n", encoding="utf-8")
    out = base / "out"
    assert main(["run", "--config", str(config), "--input", str(corpus), "--output", str(out)]) == 1
    prov = load(out, "provenance")
    assert (prov["label"] == "copied").sum() >= 2, "the payload paragraphs are shown side by side"
    return write_report(out)


def assert_inert(tree: lxml.html.HtmlElement) -> None:
    """Nothing in the page runs: no script or embedded element, no event-handler attribute, the payloads as text."""
    assert tree.xpath("//script | //img | //iframe | //object | //embed") == []
    assert tree.xpath("//svg//*[local-name()='svg']") == []  # only the report's own charts, none nested
    assert [a for el in tree.iter() if isinstance(el.tag, str) for a in el.attrib if a.lower().startswith("on")] == []
    text = tree.text_content()
    for payload in (*PAYLOADS, "<img src=x onerror=alert(1)>.html"):
        assert payload in text, f"{payload!r} is not shown as text"
    assert "pwned" not in (tree.findtext(".//title") or "")


def test_hostile_page_text_is_escaped_in_the_report(hostile_report):
    assert_inert(lxml.html.fromstring(hostile_report.read_text(encoding="utf-8")))


def test_hostile_page_text_stays_text_in_the_browser(hostile_report, tmp_path):
    assert_inert(rendered_dom(hostile_report, tmp_path))


def test_a_later_runs_report_traces_its_documents_to_a_root_of_an_earlier_run(tmp_path, fast_config):
    corpus = tmp_path / "in"
    corpus.mkdir()
    for seed in ("000_7f34de361f8afc52.txt", "002_bac54f9c1543ab99.txt"):
        (corpus / seed).write_text((Path(__file__).parents[1] / "seeds" / seed).read_text(encoding="utf-8"),
                                   encoding="utf-8")
    out = tmp_path / "out"
    for seed in ("002_bac54f9c1543ab99.txt", "000_7f34de361f8afc52.txt"):
        assert main(["run", "--config", str(fast_config), "--input", str(corpus / seed), "--output", str(out)]) == 0
    docs = load(out, "documents").set_index("source_path")
    first, second = docs.loc["002_bac54f9c1543ab99.txt", "run_id"], docs.loc["000_7f34de361f8afc52.txt", "run_id"]
    later = lxml.html.fromstring(write_report(out).read_text(encoding="utf-8"))
    [root] = later.xpath('//ul[@class="lineage"]/li')
    assert root.get("data-doc") == docs.loc["002_bac54f9c1543ab99.txt", "doc_id"]
    assert [li.get("data-doc") for li in root.xpath("./ul/li")] == [docs.loc["000_7f34de361f8afc52.txt", "doc_id"]]
    assert later.xpath('//div[@class="pair"]') and second in later.findtext(".//title")
    earlier = lxml.html.fromstring(write_report(out, first).read_text(encoding="utf-8"))
    prov = load(out)
    alone = prov[prov["run_id"] == first]["label"].value_counts()
    assert earlier.xpath('//div[@class="pair"]') == [] and set(alone[alone > 0].index) == {"original"}
    assert counts(earlier, "label") == {str(k): int(v) for k, v in alone.items()}
