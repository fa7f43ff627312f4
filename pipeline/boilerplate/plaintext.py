"""Boilerplate stripping for plain-text pages, block by block (blocks are separated by blank lines)."""
from __future__ import annotations

import re

from pipeline.boilerplate.blocks import Block, absorb_widget_neighbours, judge
from pipeline.boilerplate.rules import DATELINE_LINE, Verdict, is_comment_header
from pipeline.config import StripConfig
from pipeline.text import word_count

_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_BULLET = re.compile(r"^\s*[•·*◦▪-]\s+\S")


def text_blocks(content: str, cfg: StripConfig) -> list[Block]:
    """Split plain text into blocks and decide for each whether it is article text."""
    blocks: list[Block] = []
    for raw in _BLANK_LINE.split(content.replace("\r\n", "\n").replace("\r", "\n")):
        if raw.strip():
            blocks.extend(_split_dateline(raw, cfg.max_caption_words))
    judged = [piece for block in blocks for piece in judge(block, cfg)]
    judged = _remove_comment_thread(judged, cfg)
    return absorb_widget_neighbours(judged)


def _indent(raw: str) -> int:
    first = next((line for line in raw.split("\n") if line.strip()), "")
    return len(first) - len(first.lstrip(" \t"))


def _split_dateline(raw: str, max_caption_words: int) -> list[Block]:
    """A block holding a dateline line ("CNN  —"): the lines before it are the lead photo's caption."""
    lines = raw.split("\n")
    at = next((i for i, line in enumerate(lines) if DATELINE_LINE.match(line)), None)
    indent = _indent(raw)
    if at is None:
        return [Block(raw.strip(), indent=indent)]
    out = []
    before = "\n".join(lines[:at]).strip()
    if before:
        block = Block(before, indent=indent)
        if word_count(before) <= max_caption_words:
            block = block.removed(Verdict("caption", "caption_before_dateline"))
        out.append(block)
    out.append(Block(lines[at].strip(), indent=indent).removed(Verdict("dateline", "dateline_pattern")))
    after = "\n".join(lines[at + 1 :]).strip()
    if after:
        out.append(Block(after, indent=indent))
    return out


def _remove_comment_thread(blocks: list[Block], cfg: StripConfig) -> list[Block]:
    """Everything from the start of a reader-comment thread to the end of the page goes, as comments.

    The thread is anchored on a commenter header (a relative time or a vote count) and reaches back over
    the replies indented deeper than the article's own paragraphs, and the short name line above a header.
    """
    header = next((i for i, b in enumerate(blocks) if _is_commenter_line(b.text, cfg.max_comment_header_words)), None)
    if header is None:
        return blocks
    baseline = next((b.indent for b in blocks if word_count(b.text) >= cfg.baseline_block_words), 0)
    start = header
    while start > 0 and (blocks[start - 1].indent >= baseline + cfg.min_thread_indent
                         or _is_name_line(blocks[start - 1].text, cfg.max_name_line_words)):
        start -= 1
    if not any(b.kept for b in blocks[:start]):
        return blocks
    verdict = Verdict("comments", "comment_thread")
    return blocks[:start] + [b if not b.kept else b.removed(verdict) for b in blocks[start:]]


def _is_commenter_line(text: str, max_words: int) -> bool:
    return is_comment_header(text, max_words) or (
        bool(_BULLET.match(text)) and is_comment_header(text.split("\n", 1)[-1], max_words))


def _is_name_line(text: str, max_words: int) -> bool:
    stripped = text.strip()
    return word_count(stripped) <= max_words and not stripped.endswith((".", "!", "?", ":", "”", '"'))
