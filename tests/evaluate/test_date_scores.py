"""The publication-date evaluation: scored against stated days, with a held-out fold by host."""
from __future__ import annotations

import gzip
import json

import pandas as pd

from pipeline.config import IngestConfig
from pipeline.evaluate.dates import evaluate_dates, held_out, markdown_section, same_day


def write_page(bench, page_id: str, url: str, html: str, stated: str | None) -> None:
    (bench / "html" / f"{page_id}.html.gz").write_bytes(gzip.compress(html.encode()))
    truth = {"url": url, "ground_truth": {"publish_date": stated}}
    (bench / "ground-truth" / f"{page_id}.json").write_text(json.dumps(truth), encoding="utf-8")


def test_pages_are_scored_on_the_stated_day(tmp_path):
    bench = tmp_path / "bench"
    (bench / "html").mkdir(parents=True)
    (bench / "ground-truth").mkdir()
    write_page(bench, "0001", "https://a.example/story", "<h1>A</h1><p>By Ann, March 5, 2024</p>", "2024-03-05")
    write_page(bench, "0002", "https://b.example/2021/07/01/story", "<h1>B</h1><p>Text.</p>", "2021-07-02")
    write_page(bench, "0003", "https://c.example/story", "<h1>C</h1><p>Text.</p>", None)
    report = evaluate_dates(bench, IngestConfig())
    assert report.pages == 3
    assert (report.all.stated, report.all.right) == (2, 1)
    assert report.all.sources == {"page": 1, "url": 1}
    assert report.tuned.stated + report.held_out.stated == 2
    section = markdown_section(report, bench, "Cost: none.")
    assert section.startswith("## Publication dates on `bench`") and "| all | 2 | 1 | 0.500 |" in section


def test_same_day_and_month():
    assert same_day(pd.Timestamp("2024-03-05", tz="UTC"), "2024-03-05")
    assert not same_day(pd.Timestamp("2024-03-06", tz="UTC"), "2024-03-05")
    assert same_day(pd.Timestamp("2015-11-20", tz="UTC"), "2015-11")
    assert not same_day(None, "2024-03-05")


def test_the_held_out_fold_follows_the_host():
    assert held_out("https://www.a.example/x", "1") == held_out("https://a.example/y", "2")
    folds = {held_out(f"https://site{i}.example/", str(i)) for i in range(50)}
    assert folds == {True, False}
