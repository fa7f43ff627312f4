"""Edit kinds: what a human's copy edit and a model's light polish change."""
from __future__ import annotations

from pipeline.edits import edit_kind, edit_shape, facts, proper_names
from pipeline.stages.classify import stoplist_of
from pipeline.text import words

STOP = stoplist_of(words("the company said on Tuesday that it would close the plant"))


def _shape(later: str, earlier: str):
    return edit_shape(words(later), words(earlier), STOP, proper_names(later) | proper_names(earlier))


def test_small_words_and_inflections_are_rewordings():
    assert edit_kind(["at", "obtaining"], ["to", "obtain"], STOP) == "rewording"
    assert edit_kind([], ["the"], STOP) == "rewording"


def test_typos_numbers_names_and_whole_sentences_count_for_nothing():
    assert edit_kind(["advised"], ["adivsed"], STOP) == "neutral"
    assert edit_kind(["3", "600"], ["3", "604"], STOP) == "neutral"
    assert edit_kind(["flint"], ["detroit"], STOP, frozenset({"flint", "detroit"})) == "neutral"
    assert edit_kind([], "union leaders were not available for comment".split(), STOP) == "neutral"
    assert edit_kind(["million"], ["mln"], STOP) == "neutral"


def test_a_house_style_restyle_is_no_rewording():
    assert _shape("The US Court ruled, at 5 per cent.", "The U.S. Court ruled, at 5 percent.").rewordings == 0


def test_a_moved_word_is_no_change():
    shape = _shape("He said it would now also close the plant.", "He said it would also now close the plant.")
    assert (shape.rewordings, shape.substitutions) == (0, 0)


def test_a_polish_rewords_in_several_places():
    source = "The model aims at obtaining a low risk, and it is shown on enwik8 that it outperforms others."
    polish = "The model aims to obtain a low risk, and we show on the enwik8 task that it outperforms the others."
    assert _shape(polish, source).rewordings >= 3


def test_capitals_of_a_title_cased_heading_are_not_names():
    """In a heading every content word is capitalized: "Platform" -> "Service" is a changed word, not a
    changed name that a human copy editor might make."""
    assert proper_names("How to Choose the Right Platform for Your Enterprise", STOP) == frozenset()
    assert proper_names("Shares fell after Reuters reported that the plant would close", STOP) == {"reuters"}
    assert proper_names("How to Choose the Right Platform for Your Enterprise") == {"choose", "right", "platform",
                                                                                      "your", "enterprise"}


def test_the_facts_of_a_text_are_its_names_and_numbers():
    text = "Officials in Kilrush said on Monday that 40 years of salt water had done The damage."
    assert facts(text, STOP) == {"kilrush", "monday", "40"}, "not the first word, nor a capitalised stopword"
