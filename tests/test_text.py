"""pipeline.text: one definition of a word, a sentence and a text hash for every stage."""
from __future__ import annotations

import pytest

from pipeline.text import sentences, shared_run_share


def test_sentences_split_at_full_stops_but_not_after_initials_or_titles():
    text = ('A U.S. judge ruled on Monday. Mr. Smith said he would appeal! "Why now?" asked J. Doe. '
            "Shares fell 3.5 percent. 2021 was worse")
    assert sentences(text) == ["A U.S. judge ruled on Monday.", "Mr. Smith said he would appeal!",
                               '"Why now?" asked J. Doe.', "Shares fell 3.5 percent.", "2021 was worse"]


def test_a_sentence_ending_in_a_quote_ends_there_and_lower_case_continues_it():
    assert sentences('He said "no." Then he left. It was e.g. here.') == ['He said "no."', "Then he left.",
                                                                         "It was e.g. here."]


def test_the_longest_shared_run_of_two_long_texts_is_found_in_linear_time():
    """Beyond a few thousand words a side (a hostile page's megabyte line) the run is anchored on shared
    eight-word n-grams: SequenceMatcher would take hours on a line of one repeated word."""
    import random

    from pipeline.text import longest_shared_run

    rng = random.Random(7)
    shared = " ".join(f"shared{k}" for k in range(40))
    a = " ".join(f"left{rng.randrange(10**6)}" for _ in range(3000)) + " " + shared + " tail"
    b = "head " + shared + " " + " ".join(f"right{rng.randrange(10**6)}" for _ in range(3000))
    a_start, a_end, b_start, b_end = longest_shared_run(a, b)
    assert a[a_start:a_end] == shared and b[b_start:b_end] == shared
    same = "spam " * 200_000
    assert longest_shared_run(same, same[:-500]) == (0, len(same[:-500].rstrip()), 0, len(same[:-500].rstrip()))


def test_short_texts_keep_sequence_matchers_longest_run():
    from pipeline.text import longest_shared_run

    a, b = "the cat sat on the mat today", "yesterday the cat sat on a mat"
    a_start, a_end, b_start, b_end = longest_shared_run(a, b)
    assert a[a_start:a_end] == "the cat sat on" == b[b_start:b_end]


def test_shared_run_share_counts_the_words_in_runs_the_other_text_holds():
    """Runs of at least ``size`` words count wherever they are in the other text; shorter ones do not."""
    mine = "the old ferry terminal will be demolished next year".split()
    other = "next year the city says the old ferry terminal goes".split()
    assert shared_run_share(mine, other, 3) == pytest.approx(4 / 9)  # "the old ferry terminal"; "next year" is 2
    assert shared_run_share(mine, other, 4) == pytest.approx(4 / 9)
    assert shared_run_share(mine, other, 5) == 0.0
    assert shared_run_share([], other, 3) == 0.0
