"""Block-level decisions shared by the plain-text and HTML strippers."""
from __future__ import annotations

from typing import NamedTuple

from pipeline.config import StripConfig
from pipeline.boilerplate.rules import Verdict, block_verdict, dateline_prefix, is_form_state, trailing_share

WIDGET_REASONS = ("comments", "newsletter", "share", "cookie")


class Block(NamedTuple):
    """A unit of visible text and the decision taken on it.

    A named tuple rather than a frozen dataclass: a page makes hundreds of blocks, and a frozen
    dataclass sets each field through ``object.__setattr__``, several times slower to build and copy.
    """

    text: str
    kept: bool = True
    reason: str | None = None
    rule: str | None = None
    indent: int = 0

    def removed(self, verdict: Verdict) -> "Block":
        # built directly: ``_replace`` goes through keyword look-ups, and most of a page's blocks are removed
        return Block(self.text, False, verdict.reason, verdict.rule, self.indent)


def judge(block: Block, cfg: StripConfig) -> tuple[Block, ...]:
    """Apply the text rules to one kept block; glued chrome is split off into blocks of its own. A tuple: the
    HTML stripper holds each paragraph's pieces until the page is judged (see ``dom.Paragraph``)."""
    if not block.kept:
        return (block,)
    verdict = block_verdict(block.text, cfg)
    if verdict:
        return (block.removed(verdict),)
    pieces = []
    text = block.text
    cut = dateline_prefix(text)
    if cut:
        pieces.append(block._replace(text=text[:cut].strip()).removed(Verdict("dateline", "dateline_prefix")))
        text = text[cut:]
    share_at = trailing_share(text, cfg.min_share_prefix_words)
    if not pieces and share_at is None:
        return (block,)  # nothing glued to it: most blocks
    tail = None
    if share_at is not None:
        tail = block._replace(text=text[share_at:].strip()).removed(Verdict("share", "trailing_share_text"))
        text = text[:share_at].rstrip()
    pieces.append(block._replace(text=text))
    if tail:
        pieces.append(tail)
    return tuple(pieces)


def absorb_widget_neighbours(blocks: list[Block]) -> list[Block]:
    """Form-state lines ("Please wait...", "Thank you!") next to a removed widget take the widget's reason.

    The neighbours are looked at before the text: most kept blocks have no widget beside them, and their text
    (a whole paragraph) need not be read."""
    out = list(blocks)
    changed = True
    while changed:
        changed = False
        for i, block in enumerate(out):
            if not block.kept:
                continue
            widget = None
            for j in (i - 1, i + 1):
                if 0 <= j < len(out) and not out[j].kept and out[j].reason in WIDGET_REASONS:
                    widget = out[j]
                    break
            if widget is not None and is_form_state(block.text):
                out[i] = block.removed(Verdict(widget.reason, "widget_neighbour"))
                changed = True
    return out
