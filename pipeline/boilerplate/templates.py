"""Cross-document pass: a block that recurs on many pages of one host is the site's template, not content."""
from __future__ import annotations

from collections import Counter
from urllib.parse import urlsplit

from pipeline.text import words


def host_of(url: str | None) -> str | None:
    """Lower-case host of a URL without a leading ``www.``; ``None`` when there is none."""
    if not url:
        return None
    host = (urlsplit(url if "//" in url else f"//{url}").hostname or "").lower()
    return host.removeprefix("www.") or None


def template_blocks(pages: dict[str, list[str]], hosts: dict[str, str | None], min_pages: int,
                    min_share: float) -> dict[str, set[str]]:
    """Per host, the normalized texts of blocks found on at least ``min_pages`` of its pages and at least
    ``min_share`` of them. ``pages`` maps a document to its block texts, ``hosts`` a document to its host."""
    pages_per_host = Counter(h for h in hosts.values() if h)
    counted = {h for h, n in pages_per_host.items() if n >= min_pages}
    pages_per_text: Counter[tuple[str, str]] = Counter()
    for doc_id, texts in pages.items():
        host = hosts.get(doc_id)
        if host in counted:
            pages_per_text.update({(host, normalized_block(t)) for t in texts} - {(host, "")})
    found: dict[str, set[str]] = {}
    for (host, text), n in pages_per_text.items():
        if n >= min_pages and n >= min_share * pages_per_host[host]:
            found.setdefault(host, set()).add(text)
    return found


def normalized_block(text: str) -> str:
    """A block's words, case and punctuation folded: templates vary in spacing and entities, not words."""
    return " ".join(words(text))
