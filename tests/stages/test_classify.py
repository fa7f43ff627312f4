"""Stage 5, classify: every paragraph is labelled original, copied or ai_paraphrased, with its root source."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pipeline.config import Config
from pipeline.schema import LABELS, PROVENANCE
from pipeline.stages.classify import classify
from pipeline.stages.match import match

from article_texts import FISHERMEN, FOUNDATIONS, MARKET, PIER, TERMINAL, TERMINAL_RETOLD

# A copy with one word changed, and a copy of that copy with one more word changed.
TERMINAL_B = TERMINAL.replace("Monday", "Tuesday")
TERMINAL_C = TERMINAL_B.replace("old", "ageing")

REWORDED = [
    "Port officials revealed this week a plan to tear down the ageing ferry building and replace it with a larger "
    "modern hall able to handle a pair of vessels simultaneously.",
    "According to structural surveys, seawater has eroded the base of the building over many years, making a full "
    "renovation nearly as expensive as starting from scratch.",
    "While construction is under way, travellers are expected to board from a provisional jetty across the bay, "
    "with additional coaches linking the dock to the train station.",
]


def run(paragraphs: pa.Table, candidates: pa.Table, documents: pa.Table, cfg: Config | None = None) -> pd.DataFrame:
    table = classify(paragraphs, candidates, documents, cfg or Config())
    assert table.schema.names == PROVENANCE.names
    frame = table.to_pandas()
    frame["label"] = frame["label"].astype(str)
    assert len(frame) == paragraphs.num_rows, "one row per paragraph"
    assert set(frame["label"]) <= set(LABELS)
    assert (frame["paragraph_id"] == frame["doc_id"] + ":" + frame["para_index"].astype(str)).all()
    originals = frame[frame["label"] == "original"]
    assert originals["source_doc_id"].isna().all() and originals["direct_doc_id"].isna().all()
    derived = frame[frame["label"] != "original"]
    assert derived["source_doc_id"].notna().all() and derived["direct_doc_id"].notna().all()
    assert (derived["source_doc_id"] != derived["doc_id"]).all()
    assert frame["confidence"].between(0, 1).all()
    return frame.set_index(["doc_id", "para_index"], drop=False)


def label_of(frame: pd.DataFrame, doc: str, para: int) -> dict:
    return frame.loc[(doc, para)].to_dict()


@pytest.fixture
def lexical(make_paragraphs):
    """Paragraphs and their MinHash candidates (no embedding model)."""

    def build(docs: dict[str, list[str]]):
        paragraphs = make_paragraphs(docs)
        return paragraphs, match(paragraphs, Config().match)

    return build


def test_copied_paragraph_points_to_the_longer_source_document(lexical, make_documents):
    paragraphs, candidates = lexical({"long": [TERMINAL, FOUNDATIONS, PIER], "short": [TERMINAL_B, FISHERMEN]})
    frame = run(paragraphs, candidates, make_documents(["long", "short"]))
    copy = label_of(frame, "short", 0)
    assert copy["label"] == "copied"
    assert (copy["source_doc_id"], copy["source_para_index"]) == ("long", 0)
    assert (copy["direct_doc_id"], copy["direct_para_index"]) == ("long", 0)
    assert copy["lexical_similarity"] >= Config().classify.copy_ratio
    assert copy["confidence"] > 0.5
    assert label_of(frame, "long", 0)["label"] == "original"
    assert label_of(frame, "short", 1)["label"] == "original"
    assert (frame.loc["long", "label"] == "original").all()


def test_copy_of_a_copy_points_at_the_root_original(lexical, make_documents):
    paragraphs, candidates = lexical({
        "a": [TERMINAL, FOUNDATIONS, PIER],
        "b": [TERMINAL_B, FISHERMEN],
        "c": [TERMINAL_C, MARKET],
    })
    documents = make_documents(["a", "b", "c"], {"a": "2024-01-01", "b": "2024-01-02", "c": "2024-01-03"})
    frame = run(paragraphs, candidates, documents)
    assert label_of(frame, "a", 0)["label"] == "original"
    b = label_of(frame, "b", 0)
    assert b["label"] == "copied" and (b["source_doc_id"], b["source_para_index"]) == ("a", 0)
    c = label_of(frame, "c", 0)
    assert c["label"] == "copied"
    assert (c["direct_doc_id"], c["direct_para_index"]) == ("b", 0), "taken directly from B's version"
    assert (c["source_doc_id"], c["source_para_index"]) == ("a", 0), "whose root is A"
    assert label_of(frame, "c", 1)["label"] == "original"


@pytest.mark.parametrize(
    ("dates", "source", "copier"),
    [
        ({"long": "2024-01-01", "short": "2024-02-01"}, "long", "short"),
        ({"long": "2024-02-01", "short": "2024-01-01"}, "short", "long"),
    ],
    ids=["long-first", "short-first"],
)
def test_publication_date_decides_the_direction_when_known(lexical, make_documents, dates, source, copier):
    paragraphs, candidates = lexical({"long": [TERMINAL, FOUNDATIONS, PIER], "short": [TERMINAL_B, FISHERMEN]})
    frame = run(paragraphs, candidates, make_documents(["long", "short"], dates))
    para = {"long": 0, "short": 0}
    copied = label_of(frame, copier, para[copier])
    assert copied["label"] == "copied"
    assert (copied["source_doc_id"], copied["source_para_index"]) == (source, para[source])
    assert label_of(frame, source, para[source])["label"] == "original"


def test_dates_order_a_whole_chain_against_the_size_heuristic(lexical, make_documents):
    """The shortest document is dated first: it is the root even though it is covered by the others."""
    paragraphs, candidates = lexical({
        "a": [TERMINAL_C],
        "b": [TERMINAL_B, FISHERMEN],
        "c": [TERMINAL, FOUNDATIONS, PIER],
    })
    documents = make_documents(["a", "b", "c"], {"a": "2023-06-01", "b": "2023-07-01", "c": "2023-08-01"})
    frame = run(paragraphs, candidates, documents)
    assert label_of(frame, "a", 0)["label"] == "original"
    for doc in ("b", "c"):
        row = label_of(frame, doc, 0)
        assert row["label"] == "copied" and row["source_doc_id"] == "a"


def basis(k: int, dim: int = 256) -> np.ndarray:
    return np.eye(dim)[k]


def at_cosine(k: int, cosine: float, spare: int) -> np.ndarray:
    return cosine * basis(k) + math.sqrt(1 - cosine**2) * basis(spare)


def test_shuffling_input_rows_changes_no_label(make_paragraphs, make_documents, fake_embed):
    docs = {
        "a": [TERMINAL, FOUNDATIONS, PIER],
        "b": [TERMINAL_B, FISHERMEN],
        "c": [TERMINAL_C, MARKET],
        "r": REWORDED,
    }
    paragraphs = make_paragraphs(docs)
    embed, _ = fake_embed({
        TERMINAL: basis(0), TERMINAL_B: at_cosine(0, 0.98, 20), TERMINAL_C: at_cosine(0, 0.97, 21),
        FOUNDATIONS: basis(1), PIER: basis(2), FISHERMEN: basis(3), MARKET: basis(4),
        REWORDED[0]: at_cosine(0, 0.86, 10), REWORDED[1]: at_cosine(1, 0.83, 11), REWORDED[2]: at_cosine(2, 0.66, 12),
    })
    candidates = match(paragraphs, Config().match, embed)
    documents = make_documents(list(docs))
    expected = run(paragraphs, candidates, documents)
    assert (expected["label"] != "original").sum() >= 4, "the scenario must hold copies and rewrites"
    for seed in range(5):
        rng = np.random.default_rng(seed)
        got = run(
            paragraphs.take(rng.permutation(paragraphs.num_rows)),
            candidates.take(rng.permutation(candidates.num_rows)),
            documents.take(rng.permutation(documents.num_rows)),
        )
        columns = ["label", "source_doc_id", "source_para_index", "method"]
        pd.testing.assert_frame_equal(got[columns], expected[columns])
        np.testing.assert_allclose(got["confidence"], expected["confidence"])


def test_direct_source_does_not_depend_on_row_order_when_two_sources_tie(lexical, make_documents):
    """B's paragraph differs by one word from A's and by one word from C's: equally good direct sources.
    Whichever is chosen, the same input must give the same answer whatever the order of its rows."""
    paragraphs, candidates = lexical({
        "a": [TERMINAL, FOUNDATIONS, PIER],
        "b": [TERMINAL_B, FISHERMEN],
        "c": [TERMINAL_C, MARKET],
    })
    documents = make_documents(["a", "b", "c"], {"a": "2024-01-01", "c": "2024-01-02", "b": "2024-01-03"})
    chosen = set()
    for seed in range(8):
        order = np.random.default_rng(seed).permutation(candidates.num_rows)
        row = label_of(run(paragraphs, candidates.take(order), documents), "b", 0)
        assert row["label"] == "copied" and row["source_doc_id"] == "a"
        chosen.add((row["direct_doc_id"], row["direct_para_index"]))
    assert len(chosen) == 1, f"direct source of b:0 changes with candidate row order: {sorted(chosen)}"


# ------------------------------------------------------------------ rewrites (fake cosines)

DATES = {"s": "2024-01-01", "r": "2024-02-01"}


def rewrite_case(make_paragraphs, make_candidates, make_documents, pairs):
    paragraphs = make_paragraphs({"s": [TERMINAL, FOUNDATIONS, PIER], "r": REWORDED})
    candidates = make_candidates([("r", i, "s", j, cos) for i, j, cos in pairs])
    return run(paragraphs, candidates, make_documents(["s", "r"], DATES))


def test_loose_rewording_is_ai_paraphrased_when_the_document_follows_the_source(
        make_paragraphs, make_candidates, make_documents):
    cfg = Config().classify
    loose = (cfg.aligned_cosine + cfg.paraphrase_cosine) / 2  # 0.69: enough only within an aligned document
    frame = rewrite_case(make_paragraphs, make_candidates, make_documents,
                         [(0, 0, 0.86), (1, 1, 0.84), (2, 2, loose)])
    for i in range(3):
        row = label_of(frame, "r", i)
        assert row["label"] == "ai_paraphrased", i
        assert (row["source_doc_id"], row["source_para_index"]) == ("s", i)
        assert row["method"] == "doc_alignment"
    assert label_of(frame, "r", 2)["semantic_similarity"] == pytest.approx(loose, abs=1e-6)
    assert (frame.loc["s", "label"] == "original").all()


def test_the_same_loose_rewording_alone_is_original(make_paragraphs, make_candidates, make_documents):
    cfg = Config().classify
    loose = (cfg.aligned_cosine + cfg.paraphrase_cosine) / 2
    frame = rewrite_case(make_paragraphs, make_candidates, make_documents, [(2, 2, loose)])
    assert (frame["label"] == "original").all()
    # One strong link is not enough to align the documents either.
    frame = rewrite_case(make_paragraphs, make_candidates, make_documents, [(0, 0, 0.86), (2, 2, loose)])
    assert (frame["label"] == "original").all()


# FOUNDATIONS with three small-word edits ("had been" -> "were", "would have" -> "would", "found that" ->
# "found"): alone, the machine-edit model reads it as a model's light polish.
RESTYLED = FOUNDATIONS.replace("had been weakened", "were weakened").replace("would have cost", "would cost").replace(
    "found that", "found")


def test_a_light_polish_of_a_source_paragraph_is_ai_paraphrased(make_paragraphs, make_candidates, make_documents):
    paragraphs = make_paragraphs({"s": [TERMINAL, FOUNDATIONS, PIER], "r": [RESTYLED]})
    frame = run(paragraphs, make_candidates([("r", 0, "s", 1, 0.97)]), make_documents(["s", "r"], DATES))
    assert label_of(frame, "r", 0)["label"] == "ai_paraphrased"


def test_the_same_edit_is_a_copy_on_a_page_that_took_another_paragraph_of_the_source_word_for_word(
        make_paragraphs, make_candidates, make_documents):
    paragraphs = make_paragraphs({"s": [TERMINAL, FOUNDATIONS, PIER], "r": [TERMINAL, RESTYLED]})
    candidates = make_candidates([("r", 0, "s", 0, 1.0), ("r", 1, "s", 1, 0.97)])
    frame = run(paragraphs, candidates, make_documents(["s", "r"], DATES))
    for i in range(2):
        row = label_of(frame, "r", i)
        assert row["label"] == "copied", i
        assert (row["source_doc_id"], row["source_para_index"]) == ("s", i)


def test_a_heading_two_pages_share_word_for_word_does_not_make_a_copier_of_the_page_that_polishes(
        make_paragraphs, make_candidates, make_documents):
    heading = "How long will the new ferry terminal take to build?"
    paragraphs = make_paragraphs({"s": [heading, TERMINAL, FOUNDATIONS, PIER], "r": [heading, RESTYLED]})
    candidates = make_candidates([("r", 0, "s", 0, 1.0), ("r", 1, "s", 2, 0.97)])
    frame = run(paragraphs, candidates, make_documents(["s", "r"], DATES))
    assert label_of(frame, "r", 1)["label"] == "ai_paraphrased"


# A model's condensed retelling of TERMINAL and FOUNDATIONS: reordered and trimmed, most words kept
# (token-sequence similarity 0.57 and 0.51), unlike REWORDED (0.13-0.21).
CONDENSED = [
    "The port authority announced on Monday that it plans to demolish the old ferry terminal and build a larger "
    "one for two ships at once.",
    "According to engineers, decades of salt water had weakened the foundations of the terminal, so repairing it "
    "would cost nearly as much as a new structure.",
]


def test_a_very_close_rewording_that_keeps_the_wording_is_ai_paraphrased_on_its_own(
        make_paragraphs, make_candidates, make_documents):
    cfg = Config().classify
    close = (cfg.standalone_cosine + 1) / 2
    paragraphs = make_paragraphs({"s": [TERMINAL, FOUNDATIONS, PIER], "r": [MARKET, CONDENSED[1], FISHERMEN]})
    frame = run(paragraphs, make_candidates([("r", 1, "s", 1, close)]), make_documents(["s", "r"], DATES))
    row = label_of(frame, "r", 1)
    assert (row["label"], row["method"]) == ("ai_paraphrased", "semantic")
    assert (row["source_doc_id"], row["source_para_index"]) == ("s", 1)
    assert row["lexical_similarity"] >= cfg.standalone_min_ratio
    assert label_of(frame, "r", 0)["label"] == "original"
    assert label_of(frame, "s", 1)["label"] == "original"


def test_a_stock_definition_as_close_in_meaning_but_worded_apart_stays_original(
        make_paragraphs, make_candidates, make_documents):
    """Two pages on one topic define the same thing ("Power BI is a business analytics tool ...") at a cosine
    a condensed rewrite reaches, in their own words: with no document alignment, that is not a rewrite."""
    close = (Config().classify.standalone_cosine + 1) / 2
    frame = rewrite_case(make_paragraphs, make_candidates, make_documents, [(1, 1, close)])
    assert (frame["label"] == "original").all()


def test_a_few_reworded_paragraphs_in_order_do_not_make_a_document_a_rewrite(
        make_paragraphs, make_candidates, make_documents):
    """A quarter of a page follows another's paragraphs in order, worded apart (two histories of coffee): not
    a rewrite. The same quarter keeping the source's wording, or a page reworded throughout, is one."""
    pairs = [("r", 0, "s", 0, 0.86), ("r", 1, "s", 1, 0.84)]
    dates = make_documents(["s", "r"], DATES)
    reworded = make_paragraphs({"s": [TERMINAL, FOUNDATIONS, PIER], "r": REWORDED[:2] + ZERO_WASTE_A[:6]})
    assert (run(reworded, make_candidates(pairs), dates)["label"] == "original").all()
    kept = make_paragraphs({"s": [TERMINAL, FOUNDATIONS, PIER], "r": CONDENSED + ZERO_WASTE_A[:6]})
    frame = run(kept, make_candidates(pairs), dates)
    for i in range(2):
        assert (label_of(frame, "r", i)["label"], label_of(frame, "r", i)["method"]) == ("ai_paraphrased", "doc_alignment")
    assert (frame.loc["r", "label"] == "ai_paraphrased").sum() == 2



# The source's third paragraph told again by a reporter, who says who said it: close in meaning, worded apart.
PIER_RETOLD = ("Travellers are to board from a makeshift jetty across the bay until the building is finished, and more "
               "coaches will run to the station, the ferry company said.")

FISHERMEN_RETOLD = ("Fishermen fear the building work will cut them off from the northern quay for much of the summer, "
                    "when they land the most fish, their union said.")


def test_a_page_that_retells_a_source_paragraph_with_attribution_is_a_report_not_a_rewrite(
        make_paragraphs, make_candidates, make_documents):
    """A quarter of a page follows another's paragraphs in order keeping some wording (which alone reads as a
    rewrite, see above), and a third paragraph as close tells the source's next one again with "said"
    added: another reporter's account of the same event, whose two close paragraphs are the same lead and
    background told by chance in the same order. None of it is a rewrite. A rewrite that follows the source
    for three paragraphs and retells a fourth with "said" is still the rewrite it was."""
    pairs = [("r", 0, "s", 0, 0.86), ("r", 1, "s", 1, 0.84), ("r", 2, "s", 2, 0.85)]
    paragraphs = make_paragraphs({"s": [TERMINAL, FOUNDATIONS, PIER], "r": CONDENSED + [PIER_RETOLD] + ZERO_WASTE_A[:5]})
    frame = run(paragraphs, make_candidates(pairs), make_documents(["s", "r"], DATES))
    assert (frame.loc["r", "label"] == "original").all()
    pairs = [("r", 0, "s", 0, 0.86), ("r", 1, "s", 1, 0.84), ("r", 2, "s", 2, 0.86), ("r", 3, "s", 3, 0.85)]
    paragraphs = make_paragraphs({"s": [TERMINAL, FOUNDATIONS, PIER, FISHERMEN],
                                  "r": CONDENSED + [REWORDED[2], FISHERMEN_RETOLD]})
    frame = run(paragraphs, make_candidates(pairs), make_documents(["s", "r"], DATES))
    assert frame.loc["r", "label"].tolist() == ["ai_paraphrased"] * 3 + ["original"]


def test_a_lead_that_names_another_day_than_its_source_is_not_its_rewrite(
        make_paragraphs, make_candidates, make_documents):
    """A page that rewrites its source paragraph by paragraph opens with another report's lead: the same news,
    as close in meaning as a rewrite of the source's lead, but dated Tuesday where the source says Monday. A
    model keeps the day it reports; the lead is the page's own. The same lead keeping Monday is the rewrite."""
    tuesday = REWORDED[0].replace("this week", "on Tuesday")
    pairs = [("r", 0, "s", 0, 0.80), ("r", 1, "s", 1, 0.84), ("r", 2, "s", 2, 0.86)]
    for lead, first in ((tuesday, "original"), (tuesday.replace("Tuesday", "Monday"), "ai_paraphrased")):
        paragraphs = make_paragraphs({"s": [TERMINAL, FOUNDATIONS, PIER], "r": [lead] + REWORDED[1:]})
        frame = run(paragraphs, make_candidates(pairs), make_documents(["s", "r"], DATES))
        assert frame.loc["r", "label"].tolist() == [first, "ai_paraphrased", "ai_paraphrased"]

# Another reporter's account of the source's three paragraphs, in their order and as close to each as REWORDED is,
# naming a town, a surveyor and a number of years that the source never states.
REPORTED = [
    "Port officials in Kilrush revealed this week a plan to tear down the ageing ferry building and replace it with "
    "a larger modern hall able to handle a pair of vessels simultaneously.",
    "According to structural surveys by Halcrow, seawater has eroded the base of the building over 40 years, making "
    "a full renovation nearly as expensive as starting from scratch.",
    REWORDED[2],
]


@pytest.mark.parametrize("later, labels", [
    (REPORTED, ["original"] * 3),
    (REWORDED, ["ai_paraphrased"] * 3),
    ([REPORTED[0]] + REWORDED[1:], ["ai_paraphrased"] * 3),
], ids=["own facts in two paragraphs", "no fact of its own", "one name of its own"])
def test_an_in_order_report_that_states_facts_its_source_lacks_is_no_rewrite(
        make_paragraphs, make_candidates, make_documents, later, labels):
    """A person who retells another article paragraph by paragraph, in its order, reads like a model's rewrite
    of it, but adds what the source never said: a place, who did the survey, how long. A rewrite of the same
    source with nothing of its own, or with one name added (a model's world knowledge), is still a rewrite."""
    pairs = [("r", 0, "s", 0, 0.86), ("r", 1, "s", 1, 0.84), ("r", 2, "s", 2, 0.85)]
    paragraphs = make_paragraphs({"s": [TERMINAL, FOUNDATIONS, PIER], "r": later})
    frame = run(paragraphs, make_candidates(pairs), make_documents(["s", "r"], DATES))
    assert frame.loc["r", "label"].tolist() == labels


# Another report's account of what the source's second paragraph says, worded apart (token-sequence
# similarity 0.12), with no marker word and no reporting verb: neither style tells who wrote it.
OWN_REPORT = ("Sea water eroded the base over many years; a full renovation is now nearly as expensive as starting "
              "from scratch.")
# The source's second paragraph retold once more, after its rewrite, keeping much of its wording (0.57).
RETOLD_AGAIN = ("Decades of salt water had weakened the foundations of the terminal, engineers found, so repairs would "
                "cost almost as much as a new structure.")


def unpaired_case(make_paragraphs, make_candidates, make_documents, last: str) -> pd.DataFrame:
    """A condensed rewrite of the source's first two paragraphs, in order, an own paragraph, then ``last``: close
    in meaning to the source's second paragraph (already paired with the rewrite's second, so ``last`` is not
    the other half of a split), at a cosine that counts only inside a followed document."""
    cosine = (Config().classify.aligned_cosine + Config().classify.paraphrase_cosine) / 2
    paragraphs = make_paragraphs({"s": [TERMINAL, FOUNDATIONS, PIER], "r": CONDENSED + [MARKET, last]})
    candidates = make_candidates([("r", 0, "s", 0, 0.86), ("r", 1, "s", 1, 0.84), ("r", 3, "s", 1, cosine)])
    return run(paragraphs, candidates, make_documents(["s", "r"], DATES))


def test_an_own_report_of_the_same_event_in_a_rewritten_page_stays_original(
        make_paragraphs, make_candidates, make_documents):
    """A page that rewrites its source may add a paragraph of another report of the same event: close in
    meaning to a source paragraph the rewrite has already used, worded apart, with no sign of a model's hand.
    That is not a second rewrite."""
    frame = unpaired_case(make_paragraphs, make_candidates, make_documents, OWN_REPORT)
    assert (frame.loc["r", "label"].tolist()) == ["ai_paraphrased", "ai_paraphrased", "original", "original"]
    for i in range(2):
        assert (label_of(frame, "r", i)["label"], label_of(frame, "r", i)["source_para_index"]) == ("ai_paraphrased", i)


def test_a_rewrite_that_retells_a_source_paragraph_twice_is_found_both_times(
        make_paragraphs, make_candidates, make_documents):
    """The same unpaired paragraph keeping the source's wording is the rewrite going over its source again."""
    frame = unpaired_case(make_paragraphs, make_candidates, make_documents, RETOLD_AGAIN)
    row = label_of(frame, "r", 3)
    assert (row["label"], row["method"]) == ("ai_paraphrased", "doc_alignment")
    assert (row["source_doc_id"], row["source_para_index"]) == ("s", 1)
    assert row["lexical_similarity"] >= Config().classify.standalone_min_ratio


def test_rewrite_of_a_copy_points_at_the_root(make_paragraphs, make_documents, make_candidates):
    paragraphs = make_paragraphs({"a": [TERMINAL, FOUNDATIONS], "b": [TERMINAL_B, FISHERMEN], "r": REWORDED[:1]})
    lexical = match(paragraphs, Config().match).to_pandas()
    close = make_candidates([("r", 0, "b", 0, 0.96)]).to_pandas()
    candidates = pa.Table.from_pandas(pd.concat([lexical, close], ignore_index=True), preserve_index=False)
    documents = make_documents(["a", "b", "r"], {"a": "2024-01-01", "b": "2024-01-02", "r": "2024-01-03"})
    frame = run(paragraphs, candidates.cast(candidates.schema), documents)
    row = label_of(frame, "r", 0)
    assert row["label"] == "ai_paraphrased"
    assert row["direct_doc_id"] == "b"
    assert (row["source_doc_id"], row["source_para_index"]) == ("a", 0)


def test_a_copy_of_a_rewrite_is_ai_paraphrased_from_the_root(make_paragraphs, make_documents, make_candidates):
    """The label says how a paragraph relates to its root: copying a model's rewrite verbatim gives, to the
    original, that rewrite; the copy step stays visible as the direct source."""
    copy_of_rewrite = REWORDED[0].replace("this week", "on Monday")
    paragraphs = make_paragraphs({"s": [TERMINAL, FOUNDATIONS], "r": REWORDED[:1], "c": [copy_of_rewrite, FISHERMEN]})
    lexical = match(paragraphs, Config().match).to_pandas()
    close = make_candidates([("r", 0, "s", 0, 0.96)]).to_pandas()
    candidates = pa.Table.from_pandas(pd.concat([lexical, close], ignore_index=True), preserve_index=False)
    documents = make_documents(["s", "r", "c"], {"s": "2024-01-01", "r": "2024-01-02", "c": "2024-01-03"})
    frame = run(paragraphs, candidates.cast(candidates.schema), documents)
    rewrite, copy = label_of(frame, "r", 0), label_of(frame, "c", 0)
    assert rewrite["label"] == "ai_paraphrased"
    assert (copy["label"], copy["method"], copy["direct_doc_id"]) == ("ai_paraphrased", "lexical", "r")
    assert (copy["source_doc_id"], copy["source_para_index"]) == ("s", 0)
    assert copy["confidence"] <= rewrite["confidence"]


def test_confidence_is_the_probability_that_the_label_is_right(lexical, make_documents):
    """The earlier, dated document's paragraph that another document copied verbatim is certainly original."""
    paragraphs, candidates = lexical({"a": [TERMINAL, FOUNDATIONS, PIER], "b": [TERMINAL, FISHERMEN]})
    frame = run(paragraphs, candidates, make_documents(["a", "b"], {"a": "2024-01-01", "b": "2024-03-01"}))
    copy, source = label_of(frame, "b", 0), label_of(frame, "a", 0)
    assert copy["label"] == "copied" and copy["confidence"] > 0.9
    assert source["label"] == "original"
    assert source["confidence"] >= 0.5, f"the source of a verbatim copy has confidence {source['confidence']:.3f}"


def test_no_candidates_means_everything_is_original(make_paragraphs, make_documents, make_candidates):
    paragraphs = make_paragraphs({"a": [TERMINAL, FOUNDATIONS], "b": [FISHERMEN, MARKET]})
    frame = run(paragraphs, make_candidates([]), make_documents(["a", "b"]))
    assert (frame["label"] == "original").all()
    assert (frame["method"] == "no_match").all()


def test_confidence_goes_through_the_labels_calibration():
    from pipeline.config import Calibration, LabelCalibration
    from pipeline.stages.classify import calibrated_confidence

    evidence = {"cosine": 0.9, "lexical": 0.5, "edit_doubt": 0.0}
    assert calibrated_confidence("copied", evidence, Calibration(copied=LabelCalibration())) == pytest.approx(0.5)
    shifted = Calibration(copied=LabelCalibration(intercept=1.0, cosine=2.0))
    assert calibrated_confidence("copied", evidence, shifted) == pytest.approx(1 / (1 + math.exp(-2.8)))


def test_confidence_moves_with_the_evidence(make_paragraphs, make_candidates, make_documents):
    """The same one-paragraph rewrite, found through a link closer or farther in meaning: the label stands,
    the confidence follows the evidence."""
    cfg = Config().classify
    paragraphs = make_paragraphs({"s": [TERMINAL, FOUNDATIONS], "r": REWORDED[:1]})
    confidence = []
    for cosine in (cfg.paraphrase_cosine + 0.01, cfg.standalone_cosine - 0.01):
        row = label_of(run(paragraphs, make_candidates([("r", 0, "s", 0, cosine)]), make_documents(["s", "r"], DATES)),
                       "r", 0)
        assert row["label"] == "ai_paraphrased"
        confidence.append(row["confidence"])
    assert 0.0 < confidence[0] < confidence[1] < 1.0


def test_a_one_paragraph_rewrite_follows_its_source_on_one_strong_link(make_paragraphs, make_candidates, make_documents):
    cfg = Config().classify
    strong = (cfg.paraphrase_cosine + cfg.standalone_cosine) / 2  # below standalone: needs the document to follow
    paragraphs = make_paragraphs({"s": [TERMINAL, FOUNDATIONS], "r": REWORDED[:1]})
    frame = run(paragraphs, make_candidates([("r", 0, "s", 0, strong)]), make_documents(["s", "r"], DATES))
    row = label_of(frame, "r", 0)
    assert (row["label"], row["source_doc_id"], row["method"]) == ("ai_paraphrased", "s", "doc_alignment")


STOCK_A = "What to look for in a cybersecurity company"
STOCK_B = "What to look for in a gooseneck kettle"


def test_a_shared_stock_phrase_with_other_content_words_is_not_a_copy(make_paragraphs, make_candidates, make_documents):
    paragraphs = make_paragraphs({"a": [STOCK_A, TERMINAL], "b": [STOCK_B, FISHERMEN]})
    frame = run(paragraphs, make_candidates([("b", 0, "a", 0, 0.6)]), make_documents(["a", "b"], {"a": "2024-01-01", "b": "2024-02-01"}))
    assert (frame["label"] == "original").all()


def test_content_overlap_counts_words_that_are_not_stopwords():
    from pipeline.stages.classify import content_overlap, content_words
    from pipeline.text import words

    a, b = content_words(words(STOCK_A)), content_words(words(STOCK_B))
    assert "what" not in a and "cybersecurity" in a
    assert content_overlap(a, b) < Config().classify.copy_min_content
    assert content_overlap(a, a) == 1.0


def test_a_heading_takes_the_language_of_its_document(make_paragraphs):
    """Eight words of a heading can read as another language (here Sundanese), whose stoplist is not the
    page's: in an English page the heading's content words are English ones, its subject kept whole."""
    from pipeline.boilerplate.language import page_language
    from pipeline.stages.classify import content_words, document_stoplists
    from pipeline.text import words

    heading = "What to Pack for a Trip to Japan"
    assert page_language([words(heading)], 100) != "English", "the scenario needs a heading misread on its own"
    paragraphs = make_paragraphs({"a": [heading] + ZERO_WASTE_A[:3], "b": ZERO_WASTE_B[:2]}).to_pandas()
    stop = document_stoplists(paragraphs, {"a"}, Config().strip.language_sample_words)
    assert set(stop) == {"a"}
    assert content_words(words(heading), stop["a"]) == {"pack", "trip", "japan"}


def test_an_earlier_source_crowded_out_by_same_day_rewrites_is_their_root(crowded_source):
    paragraphs, documents, embed, rewrites = crowded_source
    frame = run(paragraphs, match(paragraphs, Config().match, embed, dates=documents), documents)
    assert label_of(frame, "source", 0)["label"] == "original"
    found = frame[frame["doc_id"].isin(rewrites)]
    assert (found["label"] == "ai_paraphrased").all()
    assert (found["source_doc_id"] == "source").all()


# A source of five two-sentence paragraphs and a model's rewrite that merges the first two, splits the
# third in two and rewords the last two one for one: sentence by sentence each part finds its source.
SOURCE_SENTENCES = [
    ["The city council approved the new budget for the harbour district on Monday evening.",
     "It sets aside twelve million for repairs to the old sea wall and the fishing quay."],
    ["Opposition members said the plan ignored the needs of residents living near the docks.",
     "They asked for a public hearing before any contract is signed."],
    ["Work on the sea wall is due to start in the spring and last about two years.",
     "During that time the northern promenade will be closed to walkers and cyclists."],
    ["The mayor promised that local firms would get a fair chance to bid for the work.",
     "A list of approved contractors will be published by the end of the month."],
    ["Environmental groups welcomed the decision but warned about the nesting birds on the breakwater.",
     "They want the noisiest work to be done outside the breeding season."],
]
REWRITE_SENTENCES = [
    ["On Monday evening, the municipal council gave its approval to the harbour district's fresh budget plan.",
     "Twelve million has been earmarked to restore the ageing sea wall together with the quay used by fishermen.",
     "Critics on the opposition benches argued it overlooks dockside residents.",
     "A public hearing was requested ahead of signing."],
    ["Construction on the wall is expected to begin in spring and continue for roughly two years."],
    ["Throughout this period, pedestrians and cyclists will be unable to use the northern promenade."],
    ["The mayor pledged that businesses from the area would have an equal opportunity to tender.",
     "Approved contractors will be listed before the month is over."],
    ["Green organisations praised the move while raising concerns over birds nesting on the breakwater.",
     "They are asking for the loudest construction to happen outside the breeding period."],
]


def _restructured_embed(fake_embed):
    """Each source sentence its own direction, its rewritten sentence at cosine 0.9 to it; a paragraph the
    normalised sum of its sentences (as a sentence model roughly averages)."""
    unit = np.eye(256)
    source = [s for paragraph in SOURCE_SENTENCES for s in paragraph]
    rewritten = [s for paragraph in REWRITE_SENTENCES for s in paragraph]
    vectors = {s: unit[k] for k, s in enumerate(source)}
    vectors.update({s: 0.9 * unit[k] + math.sqrt(1 - 0.81) * unit[100 + k] for k, s in enumerate(rewritten)})
    for paragraph in SOURCE_SENTENCES + REWRITE_SENTENCES:
        total = sum(vectors[s] for s in paragraph)
        vectors[" ".join(paragraph)] = total / np.linalg.norm(total)
    return fake_embed(vectors)[0]


def test_merged_and_split_rewrite_points_to_every_source_paragraph(make_paragraphs, make_documents, fake_embed):
    paragraphs = make_paragraphs({"s": [" ".join(p) for p in SOURCE_SENTENCES],
                                  "r": [" ".join(p) for p in REWRITE_SENTENCES]})
    cfg = Config()
    candidates = match(paragraphs, cfg.match, _restructured_embed(fake_embed))
    frame = run(paragraphs, candidates, make_documents(["s", "r"], {"s": "2020-01-01", "r": "2021-01-01"}), cfg)
    merged = label_of(frame, "r", 0)
    assert merged["label"] == "ai_paraphrased"
    assert (merged["source_doc_id"], merged["source_para_index"]) == ("s", 0), "the largest contributor is the main source"
    shares = {(c["doc_id"], c["para_index"]): c["share"] for c in merged["contributors"]}
    assert set(shares) == {("s", 0), ("s", 1)}
    assert shares[("s", 0)] > shares[("s", 1)] > 0.3 and sum(shares.values()) == pytest.approx(1.0)
    for half in (1, 2):
        split = label_of(frame, "r", half)
        assert split["label"] == "ai_paraphrased" and (split["source_doc_id"], split["source_para_index"]) == ("s", 2)
        assert [(c["doc_id"], c["para_index"], round(c["share"], 3)) for c in split["contributors"]] == [("s", 2, 1.0)]
    assert all(frame.loc[("s", i), "label"] == "original" and len(frame.loc[("s", i), "contributors"]) == 0
               for i in range(5))


# Two independent pages on one topic: the same outline (intro, tips, conclusion) and stock phrases, no
# shared content. An embedding model puts many of their paragraph pairs at 0.78-0.85: most of the second
# page's intro and tips near the first page's one overview paragraph, and the conclusions near each other.
ZERO_WASTE_A = [
    "Living with less waste starts in the kitchen, where most of our household rubbish is made every single day.",
    "Here are simple ways to cut down on packaging, food scraps and single-use plastic at home this year.",
    "Buy dry goods such as rice, lentils and oats from bulk bins, and bring your own cotton bags to the shop.",
    "Keep a small compost caddy by the sink and empty it into the garden bin twice a week to stop smells.",
    "Swap cling film for beeswax wraps, which wash in cold water and last about a year with gentle use.",
    "Plan the week's meals on Sunday so that leftovers become lunches instead of ending up in the bin.",
    "What to look for in a reusable water bottle: steel walls, a wide mouth and a lid without small parts.",
    "Small changes add up, and after a month our family put out one bag of rubbish instead of three.",
]
ZERO_WASTE_B = [
    "Going zero waste can feel overwhelming at first, but a few habits make a big difference for any household.",
    "Start with a bin audit: for one week, note what you throw away and which items show up most often.",
    "Carry a tote, a coffee cup and a set of bamboo cutlery in your backpack so you never need disposables.",
    "Choose bar shampoo and soap sold without plastic bottles; a single bar lasts as long as two bottles.",
    "Repair clothes before replacing them: a sewing kit and a patch save jeans with torn knees for years.",
    "Borrow tools you rarely use from neighbours or the local library of things rather than buying new ones.",
    "What to look for in a zero-waste shop: refill stations, a scale for your own jars and loose produce.",
    "Every small step counts, so pick one habit this week and add another once it feels like second nature.",
    "Zero waste is a journey rather than a destination, and nobody gets it perfect on the first try.",
]


def test_same_topic_pages_with_a_shared_outline_stay_original(make_paragraphs, make_candidates, make_documents):
    """Close in meaning pair after pair, but every tip of b is close to a's one overview paragraph: b does not
    follow a paragraph by paragraph, so nothing is a rewrite (nor a copy: the stock phrases carry other words)."""
    pairs = [("b", i, "a", 1, 0.79 + 0.01 * (i % 3)) for i in range(6)]
    pairs += [("b", 6, "a", 6, 0.68), ("b", 7, "a", 7, 0.83), ("b", 8, "a", 7, 0.80)]
    paragraphs = make_paragraphs({"a": ZERO_WASTE_A, "b": ZERO_WASTE_B})
    frame = run(paragraphs, make_candidates(pairs), make_documents(["a", "b"], {"a": "2024-01-01", "b": "2024-02-01"}))
    assert (frame["label"] == "original").all(), frame[frame["label"] != "original"][["doc_id", "para_index", "label"]]


def test_paragraphs_followed_one_to_one_count_each_source_paragraph_once():
    from pipeline.stages.classify import _followed_one_to_one

    assert len(_followed_one_to_one([0, 1, 1, 1, 1, 7, 7])) == 3  # tips all near one overview paragraph
    assert len(_followed_one_to_one([0, 1, 2, 0, 1, 2])) == 3  # a summary, then the retelling
    assert _followed_one_to_one([4, 0, 1, 3, 2]) == [1, 2, 4]  # positions of source paragraphs 0, 1, 2


# The same short heading on two pages about ferries, one title-cased: a verbatim copy by every lexical test.
HEADING = "What the new ferry terminal means for passengers"
HEADING_TITLED = "What the New Ferry Terminal Means for Passengers"


def test_a_short_heading_shared_alone_is_not_a_copy(make_paragraphs, make_candidates, make_documents):
    """Two pages on one topic share a heading or a list item by chance; nothing longer of the later page comes
    from the earlier one, so the heading stays original (its confidence still counts the close version)."""
    paragraphs = make_paragraphs({"a": [HEADING, TERMINAL, PIER], "b": [HEADING_TITLED, FISHERMEN]})
    frame = run(paragraphs, make_candidates([("b", 0, "a", 0, 0.99)]), make_documents(["a", "b"], DATES_AB))
    assert (frame["label"] == "original").all()
    assert label_of(frame, "b", 0)["confidence"] < label_of(frame, "b", 1)["confidence"]


def test_a_short_heading_copied_with_its_text_is_a_copy(make_paragraphs, make_candidates, make_documents):
    paragraphs = make_paragraphs({"a": [HEADING, TERMINAL, PIER], "b": [HEADING_TITLED, TERMINAL_B, FISHERMEN]})
    candidates = make_candidates([("b", 0, "a", 0, 0.99), ("b", 1, "a", 1, 0.99)])
    frame = run(paragraphs, candidates, make_documents(["a", "b"], DATES_AB))
    for i in (0, 1):
        row = label_of(frame, "b", i)
        assert (row["label"], row["source_doc_id"], row["source_para_index"]) == ("copied", "a", i)
    assert label_of(frame, "b", 2)["label"] == "original"


DATES_AB = {"a": "2024-01-01", "b": "2024-02-01"}


def test_a_one_line_document_copied_whole_is_a_copy(make_paragraphs, make_candidates, make_documents):
    """With no longer text around it, a short line is all its document has to show: it is held to nothing more."""
    paragraphs = make_paragraphs({"a": [HEADING, TERMINAL, PIER], "b": [HEADING_TITLED]})
    frame = run(paragraphs, make_candidates([("b", 0, "a", 0, 0.99)]), make_documents(["a", "b"], DATES_AB))
    row = label_of(frame, "b", 0)
    assert (row["label"], row["source_doc_id"], row["source_para_index"]) == ("copied", "a", 0)


def test_stored_scores_are_kept_and_new_pairs_are_scored_both_ways_round(make_paragraphs):
    """A run scores only the pairs that come without scores: a stored pair keeps the ones an earlier run
    gave it, and a new pair gets each side's, so that the row read from the other side says the same."""
    from pipeline.stages.classify import as_scored, scored_pairs

    edited = TERMINAL.replace("next year", "in the spring")
    paragraphs = make_paragraphs({"a": [TERMINAL, PIER], "b": [edited, FISHERMEN]})
    new = as_scored(pa.table({"doc_id": ["a", "b"], "para_index": [0, 0], "cand_doc_id": ["b", "a"],
                              "cand_para_index": [0, 0], "via": ["minhash", "minhash"]}))
    stored = as_scored(pa.table({"doc_id": ["a"], "para_index": [1], "cand_doc_id": ["b"], "cand_para_index": [1],
                                 "via": ["embedding"], "ratio": [0.123]}))
    copy, back, kept = scored_pairs(paragraphs, pa.concat_tables([new, stored]), Config()).to_pylist()
    assert kept["ratio"] == 0.123 and kept["near_verbatim"] is None
    assert copy["near_verbatim"] and copy["ratio"] == back["ratio"] > 0.9
    for side in ("near_verbatim", "machine_edit", "adds_attribution"):
        assert copy[side] == back[f"cand_{side}"] and copy[f"cand_{side}"] == back[side]


COUNCIL = ("The council will set the demolition date at its next meeting, after hearing the harbour authority and "
           "the ferry operator on how long the temporary pier will be needed.")
# A model's rewrite of FISHERMEN, worded apart from it as REWORDED is from TERMINAL and FOUNDATIONS.
FISHERMEN_REWORDED = ("Fishing crews fear the building works will shut them out of the north quay through most of "
                      "the summer, their busiest months of the year.")


def roundup_case(make_paragraphs, make_candidates, make_documents, docs: dict[str, list[str]],
                 rewrites: list[tuple[str, int, str, int, float]], dates: dict[str, str] | None = None) -> pd.DataFrame:
    """``docs`` with their MinHash candidates (the copies) and the rewrite links ``rewrites``."""
    paragraphs = make_paragraphs(docs)
    lexical = match(paragraphs, Config().match).to_pandas()
    close = make_candidates(rewrites).to_pandas()
    candidates = pa.Table.from_pandas(pd.concat([lexical, close], ignore_index=True), preserve_index=False)
    return run(paragraphs, candidates.cast(candidates.schema), make_documents(list(docs), dates))


def test_a_rewrite_of_a_roundup_points_at_the_sources_the_roundup_copied(make_paragraphs, make_candidates, make_documents):
    """A roundup copies one paragraph from each of two articles; a model rewrites the roundup. Nothing is dated:
    each rewritten paragraph's root is the article paragraph, not the roundup (the direct source)."""
    docs = {"s1": [TERMINAL, FOUNDATIONS, PIER], "s2": [FISHERMEN, MARKET, COUNCIL],
            "roundup": [TERMINAL_B, FISHERMEN], "r": [REWORDED[0], FISHERMEN_REWORDED]}
    # The roundup's copies hold the articles' words, so the rewrite sits as close to both.
    frame = roundup_case(make_paragraphs, make_candidates, make_documents, docs,
                         [("r", 0, "roundup", 0, 0.88), ("r", 0, "s1", 0, 0.88), ("roundup", 0, "s1", 0, 0.99),
                          ("r", 1, "roundup", 1, 0.86), ("r", 1, "s2", 0, 0.86), ("roundup", 1, "s2", 0, 1.0)])
    assert (frame.loc["s1", "label"] == "original").all() and (frame.loc["s2", "label"] == "original").all()
    for i, root in enumerate([("s1", 0), ("s2", 0)]):
        copy, rewrite = label_of(frame, "roundup", i), label_of(frame, "r", i)
        assert (copy["label"], (copy["source_doc_id"], copy["source_para_index"])) == ("copied", root), i
        assert (rewrite["label"], (rewrite["source_doc_id"], rewrite["source_para_index"])) == ("ai_paraphrased", root), i


def test_a_roundup_rewrite_taking_two_paragraphs_of_one_source_and_one_of_another_is_found_whole(
        make_paragraphs, make_candidates, make_documents):
    """The document follows the first source for two paragraphs and takes its last from a second source: the
    second lends a single paragraph, yet with the followed source nearly all of the page is accounted for."""
    docs = {"s1": [TERMINAL, FOUNDATIONS, PIER], "s2": [FISHERMEN, MARKET],
            "r": [REWORDED[0], REWORDED[1], FISHERMEN_REWORDED]}
    rewrites = [("r", 0, "s1", 0, 0.86), ("r", 1, "s1", 1, 0.84), ("r", 2, "s2", 0, 0.86)]
    frame = roundup_case(make_paragraphs, make_candidates, make_documents, docs, rewrites,
                         {"s1": "2024-01-01", "s2": "2024-01-01", "r": "2024-02-01"})
    roots = [(label_of(frame, "r", i)["label"], label_of(frame, "r", i)["source_doc_id"],
              label_of(frame, "r", i)["source_para_index"]) for i in range(3)]
    assert roots == [("ai_paraphrased", "s1", 0), ("ai_paraphrased", "s1", 1), ("ai_paraphrased", "s2", 0)]


def test_an_undated_article_comes_before_the_rewrite_that_drops_its_attribution(
        make_paragraphs, make_candidates, make_documents):
    """Two undated one-paragraph versions of a story, one saying who "said" it, the other quoting a phrase (so
    that neither reads more machine-like): only one direction lets the close link be a rewrite, and that is
    the order taken."""
    said = TERMINAL.replace("announced on Monday that", "said on Monday that")
    quoting = REWORDED[0].replace("the ageing ferry building", 'the "ageing" ferry building')
    frame = roundup_case(make_paragraphs, make_candidates, make_documents, {"a": [said], "r": [quoting]},
                         [("r", 0, "a", 0, 0.9)])
    row = label_of(frame, "r", 0)
    assert (row["label"], row["source_doc_id"], row["source_para_index"]) == ("ai_paraphrased", "a", 0)
    assert label_of(frame, "a", 0)["label"] == "original"


def test_a_rewritten_paragraph_near_another_article_on_the_topic_keeps_the_source_its_page_follows(
        make_paragraphs, make_candidates, make_documents):
    """A page follows one source paragraph by paragraph; one of its paragraphs also sits close to a paragraph of
    another article on the topic. That article lends nothing the followed source does not already account for:
    it is no roundup source, and the paragraph's root stays in the followed source."""
    docs = {"s1": [TERMINAL, FOUNDATIONS, PIER], "s2": [FISHERMEN, MARKET, COUNCIL], "r": REWORDED[:2]}
    rewrites = [("r", 0, "s1", 0, 0.86), ("r", 1, "s1", 1, 0.84), ("r", 1, "s2", 2, 0.95)]
    frame = roundup_case(make_paragraphs, make_candidates, make_documents, docs, rewrites,
                         {"s1": "2024-01-01", "s2": "2024-01-01", "r": "2024-02-01"})
    for i in range(2):
        row = label_of(frame, "r", i)
        assert (row["label"], row["source_doc_id"], row["source_para_index"]) == ("ai_paraphrased", "s1", i)


def test_a_same_day_sibling_ordered_first_does_not_become_the_root_of_a_dated_source(
        make_paragraphs, make_candidates, make_documents):
    """Two versions of one dated source published the same day: a reporter's retelling that adds "said"
    (its own link to the source too loose to count) and a model's rewrite close to both. The attribution
    vote puts the retelling first, yet the rewrite's root is the source dated before them."""
    retelling = ("The ageing ferry building is to be torn down, port officials said this week, and a bigger, modern hall "
                 "that can take two vessels at the same time will be built in its place, the harbour master said.")
    paragraphs = make_paragraphs({"s": [TERMINAL], "q": [retelling], "r": REWORDED[:1]})
    candidates = make_candidates([("r", 0, "s", 0, 0.80), ("r", 0, "q", 0, 0.86), ("q", 0, "s", 0, 0.62)])
    documents = make_documents(["s", "q", "r"], {"s": "2020-01-01", "q": "2021-01-01", "r": "2021-01-01"})
    frame = run(paragraphs, candidates, documents)
    assert label_of(frame, "q", 0)["label"] == "original"
    rewrite = label_of(frame, "r", 0)
    assert rewrite["label"] == "ai_paraphrased"
    assert (rewrite["source_doc_id"], rewrite["source_para_index"]) == ("s", 0)

FEES = ("Harbour fees will stay at this year's level until the new hall opens, the operator said, after complaints "
        "from hauliers about the cost of the crossing.")


def test_a_roundup_rewrite_finds_the_undated_source_of_its_loosest_paragraph(make_paragraphs, make_candidates,
                                                                              make_documents):
    """A dated page rewrites one paragraph from each of three articles; the third is reworded too far for a
    strong link (cosine 0.72) and its article (longer than the page) is undated. The rest of the page is assembled from other
    pages' paragraphs, so that paragraph is a rewrite of its nearest earlier version too, and the undated
    article, linked to the page only through it, is ordered before it rather than after every dated page."""
    docs = {"s1": [TERMINAL, COUNCIL], "s2": [FOUNDATIONS, MARKET], "s3": [PIER, FISHERMEN, FISHERMEN_REWORDED, FEES],
            "r": REWORDED}
    candidates = make_candidates([("r", 0, "s1", 0, 0.88), ("r", 1, "s2", 0, 0.86), ("r", 2, "s3", 0, 0.72)])
    dates = {"s1": "2024-01-01", "s2": "2024-01-01", "r": "2024-02-01"}
    frame = run(make_paragraphs(docs), candidates, make_documents(list(docs), dates))
    roots = [(label_of(frame, "r", i)["label"], label_of(frame, "r", i)["source_doc_id"],
              label_of(frame, "r", i)["source_para_index"]) for i in range(3)]
    assert roots == [("ai_paraphrased", "s1", 0), ("ai_paraphrased", "s2", 0), ("ai_paraphrased", "s3", 0)]
    assert (frame.loc["s3", "label"] == "original").all()


def test_a_page_of_own_paragraphs_near_an_undated_article_stays_original(make_paragraphs, make_candidates,
                                                                         make_documents):
    """The same loose likeness (cosine 0.72) on a page that is not assembled from other pages' paragraphs (one
    strong link only) is a shared topic, not a rewrite, whichever way the two pages are ordered."""
    docs = {"s1": [TERMINAL, COUNCIL], "s3": [PIER, FISHERMEN, FISHERMEN_REWORDED, FEES], "r": REWORDED}
    candidates = make_candidates([("r", 0, "s1", 0, 0.88), ("r", 2, "s3", 0, 0.72)])
    frame = run(make_paragraphs(docs), candidates, make_documents(list(docs), {"s1": "2024-01-01", "r": "2024-02-01"}))
    assert label_of(frame, "r", 2)["label"] == "original"


def test_a_roundup_source_stays_the_root_when_two_rewrites_of_a_paragraph_sit_closer_to_each_other(
        make_paragraphs, make_candidates, make_documents):
    """Undated: a roundup whose paragraphs others rewrite, and a page assembled from paragraphs of three
    pages, one of them the roundup's last. That rewrite and a second one of the same paragraph read closer to
    each other (0.94) than to it (0.90, 0.89), so the versions' centrality alone takes the rewrite for the
    source. The page draws its other paragraphs from pages before it, the roundup lends its others to pages
    after it: the roundup comes first, and stays the root of both rewrites."""
    pier_retold = ("Travellers will board from a makeshift landing across the bay during the works, with more shuttle "
                   "coaches laid on from the station.")
    docs = {"s": [TERMINAL, FOUNDATIONS, PIER], "a": [FISHERMEN, COUNCIL, TERMINAL_RETOLD[5], TERMINAL_RETOLD[6]],
            "b": [MARKET, FEES, TERMINAL_RETOLD[7], TERMINAL_RETOLD[8]],
            "r1": [FISHERMEN_REWORDED, TERMINAL_RETOLD[9], REWORDED[2]], "r2": [pier_retold], "r3": [REWORDED[0]]}
    candidates = make_candidates([("r1", 0, "a", 0, 0.88), ("r1", 1, "b", 0, 0.87), ("r1", 2, "s", 2, 0.90),
                                  ("r2", 0, "s", 2, 0.89), ("r2", 0, "r1", 2, 0.94), ("r3", 0, "s", 0, 0.90)])
    frame = run(make_paragraphs(docs), candidates,
                make_documents(list(docs), {"a": "2024-01-01", "b": "2024-01-01"}))
    assert (frame.loc["s", "label"] == "original").all()
    for doc, i in (("r1", 2), ("r2", 0)):
        row = label_of(frame, doc, i)
        assert (row["label"], row["source_doc_id"], row["source_para_index"]) == ("ai_paraphrased", "s", 2), doc


def test_two_pages_of_one_day_are_ordered_by_their_own_evidence_not_by_their_partners_places(
        make_paragraphs, make_candidates, make_documents):
    """A one-paragraph page published the same day as a two-paragraph page rewrites its first paragraph (the
    other comes from an older page), and is itself rewritten a year later. Between the two pages of one day,
    the one covered whole by the other is the rewrite; where their other partners sit (one older, one newer)
    is no evidence between them: those places come from the dates."""
    docs = {"p": [FISHERMEN, COUNCIL, FEES], "x": [REWORDED[0], FISHERMEN_REWORDED], "y": [TERMINAL_RETOLD[2]],
            "q": [TERMINAL_RETOLD[3]]}
    candidates = make_candidates([("x", 1, "p", 0, 0.88), ("y", 0, "x", 0, 0.90), ("q", 0, "y", 0, 0.90)])
    dates = {"p": "2019-01-01", "x": "2021-01-01", "y": "2021-01-01", "q": "2022-01-01"}
    frame = run(make_paragraphs(docs), candidates, make_documents(list(docs), dates))
    assert label_of(frame, "x", 0)["label"] == "original"
    row = label_of(frame, "y", 0)
    assert (row["label"], row["source_doc_id"], row["source_para_index"]) == ("ai_paraphrased", "x", 0)


# A model's polishes of TERMINAL: the first swaps one phrase (which alone reads as a copy editor's fix), the
# second makes the same swap and one more (a model's edit).
POLISH_ONE = TERMINAL.replace("will be demolished", "is to be demolished")
POLISH_TWO = POLISH_ONE.replace("with space for", "that has room for")


def polish_case(make_paragraphs, make_candidates, make_documents, docs: dict[str, list[str]], dates: dict[str, str]
                ) -> pd.DataFrame:
    pairs = [(a, 0, b, 0, 0.97) for a in docs for b in docs if a < b]
    return run(make_paragraphs(docs), make_candidates(pairs), make_documents(list(docs), dates))


def test_same_day_polishes_that_share_an_edit_are_both_rewrites_of_the_earlier_source(
        make_paragraphs, make_candidates, make_documents):
    """Two versions of a dated source published the same day make one of their edits alike; the edit of one
    reads as a model's, that of the other (one swap) as a copy editor's. No direction is known between them,
    so whichever the order takes first, both relate to the source as the model's polish does."""
    frame = polish_case(make_paragraphs, make_candidates, make_documents,
                        {"s": [TERMINAL], "one": [POLISH_ONE], "two": [POLISH_TWO]},
                        {"s": "2020-01-01", "one": "2021-01-01", "two": "2021-01-01"})
    for doc in ("one", "two"):
        row = label_of(frame, doc, 0)
        assert (row["label"], row["source_doc_id"], row["source_para_index"]) == ("ai_paraphrased", "s", 0), doc


def test_a_same_day_verbatim_copy_next_to_a_polish_stays_copied(make_paragraphs, make_candidates, make_documents):
    """A page that republishes the source word for word on the day a model's polish of it appears shares no
    edit with the polish: it is a copy of the source."""
    frame = polish_case(make_paragraphs, make_candidates, make_documents,
                        {"s": [TERMINAL], "copy": [TERMINAL], "two": [POLISH_TWO]},
                        {"s": "2020-01-01", "copy": "2021-01-01", "two": "2021-01-01"})
    row = label_of(frame, "copy", 0)
    assert (row["label"], row["source_doc_id"]) == ("copied", "s")
    assert label_of(frame, "two", 0)["label"] == "ai_paraphrased"


def test_an_edit_published_before_a_polish_that_repeats_it_stays_a_copy(make_paragraphs, make_candidates,
                                                                         make_documents):
    """With dates a day apart the direction is known: the one-swap version came first, so it is a copy editor's
    version of the source, whatever a later polish repeats of it."""
    frame = polish_case(make_paragraphs, make_candidates, make_documents,
                        {"s": [TERMINAL], "one": [POLISH_ONE], "two": [POLISH_TWO]},
                        {"s": "2020-01-01", "one": "2021-01-01", "two": "2021-01-02"})
    row = label_of(frame, "one", 0)
    assert (row["label"], row["source_doc_id"]) == ("copied", "s")


# One paragraph of three sentences, and a model's loose rewrite of it: each sentence reworded, in the source's
# order, keeping its content words (names, terms). A paragraph of another page on the same topic shares the
# topic's words, not the source's sentences one after the other.
ARTICLE = " ".join([TERMINAL, FOUNDATIONS, PIER])
LOOSE_REWRITE = (
    "Next year the harbour authority will knock down the old ferry terminal for a passenger building that takes two "
    "ships. Engineers say decades of salt water left the foundations so weak that repairs would cost about as much "
    "as a new structure. Until then, passengers will board at a temporary pier on the western side of the bay, and "
    "shuttle buses will run from the railway station.")
SAME_TOPIC = (
    "The ferry terminal on the bay has served the harbour since the war. Its cafe sells fish soup to passengers, and "
    "the waiting room shows photographs of the first ships. Many locals still call it the new hall.")


def one_paragraph_case(make_paragraphs, make_candidates, make_documents, later: str) -> pd.DataFrame:
    """``later`` (one paragraph, published after) linked to ``ARTICLE`` between ``aligned_cosine`` and
    ``paraphrase_cosine``, with two other pages of the run on other things of the same port."""
    cfg = Config().classify
    loose = (cfg.aligned_cosine + cfg.paraphrase_cosine) / 2
    paragraphs = make_paragraphs({"s": [ARTICLE], "r": [later], "o": [FISHERMEN], "m": [MARKET]})
    dates = {"s": "2024-01-01", "r": "2024-02-01", "o": "2024-01-01", "m": "2024-01-01"}
    return run(paragraphs, make_candidates([("r", 0, "s", 0, loose)]), make_documents(["s", "r", "o", "m"], dates))


def test_a_loose_one_paragraph_rewrite_that_follows_its_source_sentence_by_sentence_is_ai_paraphrased(
        make_paragraphs, make_candidates, make_documents):
    """A one-paragraph document has no paragraphs to follow its source by; its sentences take the source's one
    after the other, each with its content words, as a model's loose rewrite does."""
    row = label_of(one_paragraph_case(make_paragraphs, make_candidates, make_documents, LOOSE_REWRITE), "r", 0)
    assert (row["label"], row["source_doc_id"], row["source_para_index"]) == ("ai_paraphrased", "s", 0)


def test_a_same_topic_paragraph_as_close_in_meaning_stays_original(make_paragraphs, make_candidates, make_documents):
    """A paragraph on the same port at the same cosine shares the topic's words in its own order: no rewrite."""
    frame = one_paragraph_case(make_paragraphs, make_candidates, make_documents, SAME_TOPIC)
    assert (frame["label"] == "original").all()


# A model's answer around the text it was given: suggestions that quote the phrases they would change, far from
# the source in meaning and wording as a whole. A page on the same port may repeat one phrase of it.
CHAT_ANSWER = (
    "I am not sure this text reads as well as it could, and I would like to help you make it clearer for your readers. "
    'Here are some suggestions: 1. Instead of "will be demolished next year to make room for", try "comes down next '
    'year for". 2. Is "weakened by decades of salt water" too long? 3. Could you say where "a temporary pier on the '
    'western side" is? Let me know if you would like me to go through it again.')
ONE_PHRASE = (
    "Boats leave from a jetty on the western side of the bay in summer, and the kiosk there sells tickets, maps and "
    "ice cream to day trippers who come for the beaches and the lighthouse walk.")


def test_a_one_paragraph_answer_that_quotes_stretches_of_its_source_is_ai_paraphrased(
        make_paragraphs, make_candidates, make_documents):
    """It neither keeps the source's wording as a whole nor follows its sentences, but repeats a fifth of its words
    in runs: it was made from that paragraph."""
    row = label_of(one_paragraph_case(make_paragraphs, make_candidates, make_documents, CHAT_ANSWER), "r", 0)
    assert (row["label"], row["source_doc_id"], row["source_para_index"]) == ("ai_paraphrased", "s", 0)


def test_a_paragraph_that_repeats_one_phrase_of_an_earlier_page_stays_original(
        make_paragraphs, make_candidates, make_documents):
    """A place name or a stock phrase a few words long is what pages on one topic share by chance."""
    frame = one_paragraph_case(make_paragraphs, make_candidates, make_documents, ONE_PHRASE)
    assert (frame["label"] == "original").all()
