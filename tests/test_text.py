"""pipeline.text: one definition of a word, a sentence and a text hash for every stage."""
from __future__ import annotations

from pipeline.text import sentences


def test_sentences_split_at_full_stops_but_not_after_initials_or_titles():
    text = ('A U.S. judge ruled on Monday. Mr. Smith said he would appeal! "Why now?" asked J. Doe. '
            "Shares fell 3.5 percent. 2021 was worse")
    assert sentences(text) == ["A U.S. judge ruled on Monday.", "Mr. Smith said he would appeal!",
                               '"Why now?" asked J. Doe.', "Shares fell 3.5 percent.", "2021 was worse"]


def test_a_sentence_ending_in_a_quote_ends_there_and_lower_case_continues_it():
    assert sentences('He said "no." Then he left. It was e.g. here.') == ['He said "no."', "Then he left.",
                                                                         "It was e.g. here."]
