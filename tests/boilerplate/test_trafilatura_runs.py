"""The order of trafilatura's runs on a page where its precise run keeps too little: the article comes back
whole either way, and a precise run that found a piece of it goes straight to the full run."""
from __future__ import annotations

import pytest

from pipeline.boilerplate import html
from pipeline.config import StripConfig

LEADS = [
    "The regional insurance market grew again last year, and the ranking of the largest companies changed for the "
    "first time in a decade, the regulator said in its annual report on Monday.",
    "Two mutual insurers merged in the spring, which put the combined company ahead of the former leader by a "
    "small margin in written premiums across the whole of the region.",
    "Analysts expect the new order to hold for some years, because the merged company also bought a broker that "
    "sells most of the policies written for small businesses in the north.",
    "The former leader said it would answer with lower prices for households, and that it had no plan to sell "
    "any of its own branches before the end of the next financial year.",
]
# long enough for jusText to call each paragraph good, so that a run keeping one of them keeps too little
PARAGRAPHS = [f"{lead} It was the main subject of the week for the people who follow the market." for lead in LEADS]
PAGE = ("<html><body><nav><a href='/'>Home</a></nav><article><h1>Insurers change places</h1>"
        + "".join(f"<p>{s}</p>" for s in PARAGRAPHS) + "</article><footer>Footer line</footer></body></html>")


def _runs_and_kept(monkeypatch, precise_text: str, cfg: StripConfig) -> tuple[list[tuple[bool, bool]], list[str]]:
    """The (fast, precise) runs made when the precise run returns ``precise_text`` and the others the whole
    article, and the kept text of the page."""
    runs = []

    def text_of_run(tree, fast, precise, cfg):
        runs.append((fast, precise))
        return precise_text if precise else "\n".join(PARAGRAPHS)

    monkeypatch.setattr(html, "_trafilatura_text", text_of_run)
    kept = [b.text for b in html.html_blocks(PAGE, cfg) if b.kept]
    return runs, kept


@pytest.mark.parametrize("precise_text, runs", [
    (PARAGRAPHS[0], [(True, True), (False, False)]),
    ("", [(True, True), (True, False)]),
    ("Insurers change places", [(True, True), (True, False)]),
])
def test_a_precise_run_that_keeps_a_piece_is_followed_by_the_full_run(monkeypatch, precise_text, runs):
    cfg = StripConfig()
    assert len(PARAGRAPHS[0].split()) >= cfg.full_run_after_precise_words > len("Insurers change places".split())
    made, kept = _runs_and_kept(monkeypatch, precise_text, cfg)
    assert made == runs
    assert kept == PARAGRAPHS


def test_the_fast_run_without_precision_comes_back_when_configured_so(monkeypatch):
    cfg = StripConfig(full_run_after_precise_words=10_000)
    made, kept = _runs_and_kept(monkeypatch, PARAGRAPHS[0], cfg)
    assert made == [(True, True), (True, False)]
    assert kept == PARAGRAPHS
