"""The boilerplate benchmark: both layouts, WCXB's scoring to the letter, the held-out split by site."""
from __future__ import annotations

import gzip
import json

import pytest

from pipeline.evaluate import boilerplate
from pipeline.evaluate.boilerplate import (AEB, WCXB, Bench, Page, is_held_out, load_bench, page_sets, score,
                                           share_found, word_prf)


def _write_page(folder, page_id, html):
    (folder / "html").mkdir(exist_ok=True)
    (folder / "html" / f"{page_id}.html.gz").write_bytes(gzip.compress(html.encode("utf-8")))


def test_both_layouts_are_read(tmp_path):
    aeb, wcxb = tmp_path / "aeb", tmp_path / "wcxb"
    aeb.mkdir(), wcxb.mkdir()
    _write_page(aeb, "a1", "<p>x</p>")
    (aeb / "ground-truth.json").write_text(json.dumps({"a1": {"articleBody": "Body.", "url": "https://a.org/1"}}))
    _write_page(wcxb, "0001", "<p>y</p>")
    _write_page(wcxb, "0002", "<p>z</p>")
    (wcxb / "ground-truth").mkdir()
    gold = {"main_content": "Main text.", "with": ["Main"], "without": ["Menu"]}
    (wcxb / "ground-truth" / "0001.json").write_text(json.dumps({"url": "https://b.org/x", "ground_truth": gold}))
    (wcxb / "ground-truth" / "0002.json").write_text(json.dumps({"url": "https://c.org/y", "ground_truth": {}}))
    a, w = load_bench(aeb), load_bench(wcxb)
    assert (a.metric, [p.truth for p in a.pages]) == (AEB, ["Body."])
    assert (w.metric, [(p.page_id, p.must_include, p.must_exclude) for p in w.pages]) == (
        WCXB, [("0001", ("Main",), ("Menu",))])  # a page without gold text is left out, as score_wcxb does


def test_word_figures_are_wcxbs():
    assert word_prf("the cat sat", "The cat sat on the mat") == pytest.approx((1.0, 0.5, 2 / 3))
    assert word_prf("", "text") == (0.0, 0.0, 0.0)
    assert word_prf("", "") == (1.0, 1.0, 1.0)
    assert share_found("Read  the\nTerms of Service now", ("terms of service", "Sign up")) == 0.5


def test_leaks_count_pages_with_snippets_and_f1_is_the_mean_of_page_f1s(tmp_path):
    wcxb = tmp_path / "w"
    wcxb.mkdir()
    (wcxb / "ground-truth").mkdir()
    for page_id, without in (("1", ["Menu"]), ("2", [])):
        _write_page(wcxb, page_id, "<p>x</p>")
        gold = {"main_content": "alpha beta", "without": without}
        (wcxb / "ground-truth" / f"{page_id}.json").write_text(json.dumps({"url": "", "ground_truth": gold}))
    pages = load_bench(wcxb).pages
    s = score("x", "w", WCXB, {"1": "alpha beta Menu", "2": "alpha"}, pages)
    assert s.f1 == pytest.approx((0.8 + 2 / 3) / 2)
    assert (s.leak_pages, s.exclude_pages, s.leaked) == (1, 1, 1.0)


def test_held_out_fifth_is_chosen_by_site_and_never_splits_one():
    urls = [f"https://site{i}.example/{j}" for i in range(200) for j in range(2)]
    held = [is_held_out(u) for u in urls]
    assert all(held[i] == held[i + 1] for i in range(0, len(urls), 2))  # both pages of a site fall together
    assert 0.12 < sum(held) / len(held) < 0.28
    assert is_held_out("https://www.site7.example/a") == is_held_out("https://site7.example/b")


def test_aeb_is_one_set_and_wcxb_its_dev_and_held_out_sites_then_all(tmp_path):
    pages = [Page(str(i), f"https://s{i}.example/", "", "t") for i in range(50)]
    assert [name for name, _ in page_sets(Bench("aeb", AEB, pages))] == ["aeb"]
    (dev_name, dev), (held_name, held), (all_name, every) = page_sets(Bench("w", WCXB, pages))
    assert (dev_name, held_name, all_name) == ("w dev", "w held-out", "w all")
    assert len(dev) + len(held) == 50 and not {p.page_id for p in dev} & {p.page_id for p in held}
    assert every == pages


def test_each_extractor_reads_a_page_first_as_often_as_the_others():
    names = ["ours", "trafilatura", "trafilatura precision"]
    orders = [boilerplate._in_turn(names, turn) for turn in range(9)]
    assert all(sorted(order) == sorted(names) for order in orders)
    assert {name: [order[0] for order in orders].count(name) for name in names} == dict.fromkeys(names, 3)
