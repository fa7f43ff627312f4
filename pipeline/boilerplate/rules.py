"""Text-pattern rules that recognise page chrome in a single block, whatever the page format.

Each rule returns a ``Verdict`` naming the removal reason and the rule, or ``None``. Rules that could
match article prose (newsletter words, "Reply") only fire on short blocks: an article paragraph that
mentions a newsletter is still an article paragraph.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pipeline.config import StripConfig
from pipeline.text import word_count


@dataclass(frozen=True)
class Verdict:
    reason: str
    rule: str


_AGENCIES = r"(?:AFP|AP|Reuters|dpa|DPA|ANSA|EFE|Xinhua|Bloomberg|PA|UPI|IANS|PTI|Yonhap|Kyodo|TASS|CNN|BBC)"
_NAME = r"[A-Z][\w'’.-]+(?:\s+(?:[A-Z][\w'’.-]+|de|da|van|von|der|al|bin|el|le|la)){1,3}"

MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
         r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
# A line that is only a date with its month named, maybe labelled and with a time ("Updated: 15 Dec, 2025 at
# 9:30 am"): the page's dateline, never a sentence of the article. A date in figures alone is as often a cell
# of the article's table.
DATE_ONLY = re.compile(
    r"^(?:(?:published|posted|updated|last updated|modified|date)(?:\s+on)?\s*:?\s*)?"
    r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
    rf"(?:{MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}(?:st|nd|rd|th)?\s+{MONTH}\.?,?\s+\d{{4}})"
    r"(?:,?\s*[-–—|·@]?\s*(?:at\s+)?\d{1,2}:\d{2}\s*(?:[ap]\.?m\.?)?(?:\s+[A-Z]{2,4})?)?\W*$",
    re.I,
)
RELATIVE_TIME = re.compile(
    r"(?:^|[\s(·•|-])(?:\d+|an?|one)\s*(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|wks?|months?|mos?|years?|yrs?|[smhdwy])\s+ago\b",
    re.I,
)
# A vote count names its unit or carries a sign: a bare number is as likely a table cell or a score.
VOTES = re.compile(r"^(?:[-+−]\d+|[-+−]?\d+\s*(?:points?|votes?|likes?|upvotes?|downvotes?|replies|reply))$", re.I)
COMMENT_WIDGET = re.compile(
    r"^(?:leave a (?:comment|reply)|post a comment|add a comment|write a comment|cancel reply|reply|replies|"
    r"\d+\s+(?:comments?|replies|responses?)|comments?(?:\s*\(\d+\))?|show (?:more |all )?(?:comments|replies)|"
    r"load more comments|view (?:all )?comments|join the (?:discussion|conversation)|log ?in to (?:comment|reply)|"
    r"sign in to (?:comment|reply)|sort by:?.*|newest|oldest|most popular|report|permalink|"
    r"be the first to comment.*|you must be logged in to post a comment.*|"
    r"this site uses akismet to reduce spam.*|your email address will not be published.*|"
    r"required fields are marked.*|save my name, email, and website.*|notify me of (?:follow-up|new) (?:comments|posts).*)$",
    re.I,
)
NEWSLETTER = re.compile(
    r"\b(?:newsletters?|subscribe|subscription|subscribing|sign(?:ing)?[- ]?up|unsubscribe|inbox|e-?mail address|"
    r"enter your e-?mail|your e-?mail|thank you for (?:signing|sign|subscribing))\b",
    re.I,
)
FORM_STATE = re.compile(r"^(?:please wait\W*|loading\W*|submit|send|sending\W*|success!?|thanks!?|thank you!?|"
                        r"something went wrong.*|invalid e-?mail.*|processing\W*)$", re.I)
SHARE_WORDS = (
    r"share(?:\s+(?:this|on|via))?(?:\s+(?:post|page|article|story))?|tweet|e-?mail|print|save|copy link|link copied|facebook|twitter|x|"
    r"linkedin|whatsapp|pinterest|reddit|telegram|messenger|flipboard|pocket|google it|google\+?|tumblr|threads|bluesky"
)
SHARE_BUTTON_RULE = "share_button_text"
"""The rule of a block whose whole text is share-button words."""
SHARE_ONLY = re.compile(rf"^(?:(?:{SHARE_WORDS})[\s|·•,:/-]*)+$", re.I)
# The end of a sentence that glued share buttons follow: none of these is in a share word or a separator, so
# the buttons can only start after the text's last one.
_SENTENCE_END = ".!?…\"”'’)"
TRAILING_SHARE = re.compile(rf"(?<=[{re.escape(_SENTENCE_END)}])\s*((?:(?:{SHARE_WORDS})[\s|·•,:/-]*)+)$", re.I)
DATELINE_LINE = re.compile(r"^\s*(?:[A-Z][A-Z.&]+(?:[ ,]+[A-Z][A-Z.&]+){0,3})(?:\s*\([^)]{1,30}\))?\s*[—–-]{1,2}\s*$")
DATELINE_PREFIX = re.compile(r"^\s*([A-Z][A-Z.&]+(?:[ ,]+[A-Z][A-Z.&]+){0,3}(?:\s*\([^)]{1,30}\))?\s+[—–-]{1,2}\s+)(?=\S)")
# A line opened by "By" names a person in capitals ("By combining these strategies" opens a sentence), read
# case-sensitively inside the case-blind pattern; after "posted ... by" any words do ("Posted by David at ...").
BYLINE = re.compile(
    rf"^(?:(?:by|written by|words by|reporting by|additional reporting by|editing by|compiled by)\s+(?-i:{_NAME}).*"
    rf"|(?:posted|published|updated|written)\b[^.!?]{{0,40}}?\bby\s+{_NAME}.*"
    rf"|{_NAME}(?:\s*(?:,|and|&)\s*{_NAME})*\s*(?:,|;|-|–)?\s*(?:with|for|via|and|in)\s+{_AGENCIES}\b.*"
    rf"|\(?(?:reporting|writing|editing) by [^.]{{3,80}}\)?)$",
    re.I,
)
# A photo credit on a line of its own ("Photograph: Getty Images", "Image credit: NASA").
CREDIT = re.compile(r"^(?:(?:photo(?:graph)?|image|picture|illustration|video)s?(?:\s+credits?)?|credits?)\s*(?::|by\b)\s*\S.*$",
                    re.I)
COOKIE = re.compile(r"\b(?:cookies?|consent|gdpr|privacy (?:policy|settings|preferences))\b", re.I)
NAVIGATION = re.compile(r"^(?:skip to (?:main )?content|menu|home|search|next|previous|back to top|"
                        r"continue reading|advertisement|"
                        r"sponsored(?: content)?|all rights reserved.*|©.*|copyright \d{4}.*)$", re.I)
# Characters of a block's start read per word of a word limit, to tell that it is over the limit (prose
# averages about six characters a word, spaces included): the count is the same either way.
_HEAD_CHARS_PER_WORD = 8
# The heading of a list of other articles ("You might also like:"); the list itself is a link list.
RELATED_HEADING = re.compile(r"^(?:related(?: (?:posts|articles|stories|content|coverage|reading))?|"
                             r"you (?:might|may) also (?:like|enjoy)|more (?:stories|on this|from us)|read (?:more|next|also)|"
                             r"recommended(?: for you)?|most (?:read|popular)|trending(?: now)?|don'?t miss|see also|"
                             r"further reading)\W*$", re.I)


def block_verdict(text: str, cfg: StripConfig) -> Verdict | None:
    """Chrome that a block's own text gives away, or ``None`` when it may be article text."""
    return _text_verdict(text, cfg.max_widget_words, cfg.max_comment_header_words, cfg.max_byline_words,
                         cfg.newsletter_prose_words, cfg.max_credit_words)


@lru_cache(maxsize=4096)
def _text_verdict(text: str, max_widget_words: int, max_comment_header_words: int, max_byline_words: int,
                  newsletter_prose_words: int, max_credit_words: int) -> Verdict | None:
    """``block_verdict`` on the limits it reads, remembered for the texts seen last: the HTML stripper asks it
    twice of each paragraph it brings back (whether to, then how to judge it) and a page repeats its chrome
    lines ("Share", "Reply"), a quarter of the questions on the 972 pages of ``provenance eval boilerplate``."""
    stripped = " ".join(text.split())
    if not stripped:
        return Verdict("other", "empty_block")
    if DATELINE_LINE.match(stripped):
        return Verdict("dateline", "dateline_pattern")
    if DATE_ONLY.match(stripped):
        return Verdict("dateline", "date_line")
    if SHARE_ONLY.match(stripped):
        return Verdict("share", SHARE_BUTTON_RULE)
    n_words = _word_count_to(stripped, max_widget_words)
    if n_words <= max_widget_words:
        if COMMENT_WIDGET.match(stripped):
            return Verdict("comments", "comment_form_text")
        if n_words <= max_comment_header_words and _is_commenter_line(stripped):
            return Verdict("comments", "comment_header")
        if n_words <= max_byline_words and BYLINE.match(stripped):
            return Verdict("byline", "byline_pattern")
        if NEWSLETTER.search(stripped) and not _is_newsletter_prose(stripped, newsletter_prose_words):
            return Verdict("newsletter", "newsletter_text")
        if n_words <= max_credit_words and CREDIT.match(stripped):
            return Verdict("caption", "photo_credit")
        if COOKIE.search(stripped) and re.search(r"\b(?:accept|agree|use|manage|reject)\b", stripped, re.I):
            return Verdict("cookie", "cookie_text")
        if NAVIGATION.match(stripped):
            return Verdict("navigation", "navigation_text")
        if RELATED_HEADING.match(stripped):
            return Verdict("related", "related_heading")
    return None


def _word_count_to(text: str, limit: int) -> int:
    """``word_count(text)``, or a smaller count that is still over ``limit`` when the text's first
    ``_HEAD_CHARS_PER_WORD * (limit + 1)`` characters hold more than ``limit`` words: most blocks asked about
    are article paragraphs, far over the widget limit, and need not be counted to their end."""
    head = text[: _HEAD_CHARS_PER_WORD * (limit + 1)]
    count = word_count(head)
    return count if count > limit or len(head) == len(text) else word_count(text)


def is_comment_header(text: str, max_words: int) -> bool:
    """A commenter line: a relative time ("8 months ago") or a vote count on a short block."""
    stripped = " ".join(text.split())
    return word_count(stripped) <= max_words and _is_commenter_line(stripped)


def _is_commenter_line(stripped: str) -> bool:
    """``is_comment_header`` past its word limit, on a block's whitespace-collapsed text."""
    return bool(RELATIVE_TIME.search(stripped) or VOTES.match(stripped))


def is_form_state(text: str) -> bool:
    """Texts that only make sense inside a form widget ("Please wait...", "Thank you!")."""
    return bool(FORM_STATE.match(" ".join(text.split())))


def trailing_share(text: str, min_prefix_words: int) -> int | None:
    """Offset where share-button text glued to the end of a paragraph starts ("…informative.shareGoogle it"). The
    pattern is only tried after the text's last sentence end (``_SENTENCE_END``), where the buttons must start,
    rather than at every place in a long paragraph."""
    last_end = max(map(text.rfind, _SENTENCE_END))
    if last_end < 0:
        return None
    found = TRAILING_SHARE.search(text, last_end + 1)
    if not found or word_count(text[: found.start(1)]) < min_prefix_words:
        return None
    glued = found.group(1)
    # One generic word ("print", "save") after a sentence is prose; button rows name a network or say "share".
    if not re.search(r"share|tweet|facebook|twitter|linkedin|whatsapp|pinterest|reddit|telegram|google", glued, re.I):
        return None
    return found.start(1)


def dateline_prefix(text: str) -> int:
    """Length of an all-caps dateline opening a paragraph ("WASHINGTON (Reuters) — "), or 0."""
    found = DATELINE_PREFIX.match(text)
    return found.end(1) if found else 0


def _is_newsletter_prose(text: str, min_words: int) -> bool:
    """Prose that merely mentions a newsletter: several sentences, or one long one without a call to act."""
    return word_count(text) > min_words and not re.search(r"\b(?:sign up|subscribe|enter your|get the)\b", text, re.I)
