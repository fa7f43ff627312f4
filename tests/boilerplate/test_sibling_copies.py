"""A page builder's layouts for several screen sizes: the article's box again, word for word, beside itself
(the style sheet shows one). The article is kept once; a paragraph that the text itself repeats stays."""
from __future__ import annotations

from pipeline.boilerplate.html import html_blocks
from pipeline.config import StripConfig

ARTICLE = (
    "Home remodeling is a significant investment, with costs that vary widely with the place, the scope of the "
    "work and the materials chosen for it, from a single room to a whole house.",
    "Labor is about sixty per cent of most remodeling budgets, which makes it the largest single factor in what "
    "a project costs, and skilled trades are scarce in the busiest markets.",
    "Materials make up most of the rest. Premium finishes raise the cost a great deal, while local or standard "
    "materials keep it down without giving up much in quality or in how long they last.",
)


def _variant(name: str) -> str:
    return f'<div class="variant {name}"><h2>What a remodel costs</h2>{"".join(f"<p>{t}</p>" for t in ARTICLE)}</div>'


def _kept(html: str) -> list[str]:
    return [b.text for b in html_blocks(html, StripConfig()) if b.kept]


def test_the_article_laid_out_for_each_screen_size_is_kept_once():
    page = (f'<html><body><main><section>{_variant("desktop")}{_variant("tablet")}{_variant("phone")}</section>'
            f'</main></body></html>')
    kept = _kept(page)
    assert [t for t in kept if t in ARTICLE] == list(ARTICLE)


def test_removed_copies_say_why():
    page = f'<html><body><main><section>{_variant("desktop")}{_variant("phone")}</section></main></body></html>'
    removed = [b for b in html_blocks(page, StripConfig()) if not b.kept and b.text in ARTICLE]
    assert removed and {(b.reason, b.rule) for b in removed} == {("other", "sibling_copy")}


def test_a_paragraph_the_text_repeats_stays_twice():
    chorus = ARTICLE[1]
    page = (f'<html><body><main><article><p>{ARTICLE[0]}</p><p>{chorus}</p><p>{ARTICLE[2]}</p><p>{chorus}</p>'
            f'</article></main></body></html>')
    assert _kept(page).count(chorus) == 2


def test_each_slide_laid_out_for_each_screen_size_is_kept_once():
    slides = [("Lift off", "Launching a beer brand with a museum to raise money for its space exhibits."),
              ("Choose the city", "A talent brand that brought young engineers back to the plains for good.")]
    page = "".join(f'<section class="slide desktop"><h3>{t}</h3><p>{p}</p></section>'
                   f'<section class="slide mobile"><h3>{t}</h3><p>{p}</p></section>' for t, p in slides)
    kept = _kept(f"<html><body><main>{page}</main></body></html>")
    assert sorted(t for t in kept if t in dict(slides).values()) == sorted(dict(slides).values())
