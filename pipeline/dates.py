"""Publication dates: the ones a crawl states (manifest, JSONL), else the one the page states, else the
one in its address.

A page date is the calendar day the page gives (midnight UTC): pages state a day far more often than an
instant, and the day they show their readers is local to the publisher, so turning a local time into UTC
would move it to another day for a publisher far from Greenwich. A stated crawl date keeps its precision.
It is the day the text first appeared: an "Updated" day does not move that, so a page's declared
publication outranks a revision day it shows.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import htmldate
import lxml.etree
import pandas as pd
from htmldate.extractors import extract_url_date
from htmldate.validators import Extractor

from pipeline.boilerplate.dom import parse_html
from pipeline.text import words as text_words

_PUBLISHED_NAMES = frozenset((
    "article:published_time", "og:published_time", "og:article:published_time", "published_time",
    "datepublished", "pubdate", "publishdate", "publish_date", "publish-date", "publication_date",
    "date_published", "dc.date.issued", "dcterms.issued", "citation_publication_date", "citation_date",
    "citation_online_date", "parsely-pub-date", "sailthru.date", "article.published", "rnews:datepublished",
    "published",
))


def _month_numbers(*months: tuple[str, ...]) -> dict[str, int]:
    """Each name and abbreviation of the twelve months (in calendar order) with the month's number."""
    return {name: number for number, names in enumerate(months, start=1) for name in names}


def _alternatives(names) -> str:
    """A regex group matching any of ``names`` (the longest first), with an abbreviation's dot."""
    return "(" + "|".join(sorted(names, key=len, reverse=True)) + r")\.?"


_MONTHS = _month_numbers(
    ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
    ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"),
    ("november", "nov"), ("december", "dec"))
# The months as Spanish, French, German, Italian, Portuguese and Dutch write them, day first ("4 de marzo de
# 2024", "3. März 2024", "04-ago-2021"): read only between a day and a year, where abbreviations that are also
# English words ("set", "out", "ago") cannot be misread.
_DAY_FIRST_MONTHS = {**_month_numbers(
    ("enero", "ene", "janvier", "janv", "januar", "jänner", "jän", "gennaio", "gen", "janeiro", "januari"),
    ("febrero", "février", "fevrier", "févr", "fevr", "februar", "febbraio", "fevereiro", "fev", "februari"),
    ("marzo", "mars", "märz", "maerz", "mär", "mrz", "março", "marco", "maart", "mrt"),
    ("abril", "abr", "avril", "avr", "aprile"),
    ("mayo", "mai", "maggio", "mag", "maio", "mei"),
    ("junio", "juin", "juni", "giugno", "giu", "junho"),
    ("julio", "juillet", "juil", "juli", "luglio", "lug", "julho"),
    ("agosto", "ago", "août", "aout", "augustus"),
    ("septiembre", "setiembre", "set", "septembre", "settembre", "setembro"),
    ("octubre", "octobre", "oktober", "okt", "ottobre", "ott", "outubro", "out"),
    ("noviembre", "novembre", "novembro"),
    ("diciembre", "dic", "décembre", "decembre", "déc", "dezember", "dez", "dicembre", "dezembro")), **_MONTHS}
_MONTH = _alternatives(_MONTHS)
_SHOWN = re.compile(
    rf"\b(?:{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})"  # March 5, 2024
    rf"|(\d{{1,2}})(?:st|nd|rd|th|\.)?(?:\s+(?:of\s+|de\s+)?|-){_alternatives(_DAY_FIRST_MONTHS)}"
    r"(?:,?\s+(?:de\s+)?|-)(\d{4})"  # 5 March 2024, 4 de marzo de 2024, 3. März 2024, 04-Aug-2021
    r"|(\d{4})-(\d{2})-(\d{2})"  # 2024-03-05
    r"|(\d{1,2})\.(\d{1,2})\.(\d{4})"  # 05.03.2024
    r"|(\d{1,2})/(\d{1,2})/(\d{4}))\b",  # 3/5/2024
    re.I)
# A month written with its year and no day ("November 2015", "Nov. 2015"; not the end of "5 November 2015").
_MONTH_ALONE = re.compile(rf"(?<!\d )\b{_MONTH},?\s+(\d{{4}})\b", re.I)
# A day in an address with its month named (``/2023/oct/03/``, ``/2023/october/03/``): htmldate reads
# only numeric ones.
_URL_NAMED_MONTH = re.compile(rf"/(\d{{4}})/{_MONTH}/(\d{{1,2}})(?:/|$)", re.I)
_HIDDEN = ("script", "style", "noscript", "template", "svg", "option")
_MARK = "\u2063\u2063"  # invisible separators: marks where the headline starts
# Characters of visible text read before the headline (a dateline above it) and after it (the byline).
_BEFORE_HEADLINE, _AFTER_HEADLINE = 300, 600
_EARLIEST = date(1995, 1, 1)  # before the web had dated pages: a misread number
_ISO_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
# Words that call the written date right after them its publication, read over the _LABEL_CHARS
# characters before it ("Originally published on", "Posted:").
_LABEL_CHARS = 40
_PUBLISHED_LABEL = re.compile(r"\b(?:published|posted)(?:\s+on)?\W*$", re.I)
# Markup that calls an element's date a revision without words (``<span class="updated">``, ``itemprop=
# "dateModified"``): its text is read as if labelled "Updated", marked by this invisible character. An
# element that also calls itself the publication (hAtom's ``class="published updated"`` on a post never
# revised) is not marked.
_REVISION_MARK = "\u2064"
# Words (or that mark) that call it a later revision ("Last updated:", "Updated on", "Reviewed"): not when
# the text appeared.
_UPDATED_LABEL = re.compile(rf"(?:\b(?:updated|modified|revised|reviewed)(?:\s+on)?|{_REVISION_MARK})\W*$", re.I)
_REVISION_NAME = re.compile(r"(?:^|[-_])(?:updated|modified)(?:$|[-_])|^datemodified$", re.I)
_PUBLICATION_NAME = re.compile(r"(?:^|[-_])(?:published|pubdate)(?:$|[-_])|^datepublished$", re.I)
_HEADER_DEPTH = 3  # levels above the headline that hold its byline (h1 < header < article < main)
_REVISION_CANDIDATES = lxml.etree.XPath(
    ".//*[contains(@class, 'pdated') or contains(@class, 'odified') or contains(@itemprop, 'odified')]")
# Share of their words (of the words either has) an element's text and the page's title have in common for
# the element to be the headline: "7 Ways to Help You Transition" shows the title "7 Ways to Transition".
_TITLE_LIKENESS = 0.75
_SITE_NAME = re.compile(r"\s+[|\u2013\u2014-]\s+[^|\u2013\u2014]*$")  # " | Harbour News", " - Site", " – Site"
_WESTMOST, _EASTMOST = timedelta(hours=-12), timedelta(hours=14)  # the time zones in use, UTC-12 to UTC+14
# A year and month in the lead image's address (``/wp-content/uploads/2024/03/``, ``/files/2024-03/``): content
# systems file an upload under the month it was made, WordPress under its post's date.
_UPLOAD_MONTH = re.compile(r"/((?:19|20)\d{2})[/-](0[1-9]|1[0-2])/")
# JSON-LD is read by pattern: many pages ship JSON-LD that is not valid JSON.
_LD_PUBLISHED = re.compile(r'"datePublished"\s*:\s*"([^"]{8,40})"')


def parse_stated(value, field: str) -> tuple[pd.Timestamp | None, str | None]:
    """An ISO 8601 time given by the crawl (manifest, JSONL record, WARC header) in UTC, naive times taken as
    UTC; a value that is not one becomes a warning, never a guess (pandas would read "now" as this instant)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None, None
    if isinstance(value, (datetime, pd.Timestamp)):
        parsed = pd.Timestamp(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            parsed = pd.Timestamp(datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text))
        except ValueError:
            return None, f"unparseable {field} {text[:40]!r} ignored"
    elif isinstance(value, str):
        return None, None
    else:
        return None, f"{field} of type {type(value).__name__} ignored: an ISO 8601 string is expected"
    if pd.isna(parsed):
        return None, None
    return (parsed.tz_localize("UTC") if parsed.tzinfo is None else parsed.tz_convert("UTC")), None


def page_date(html: str, latest: date, address_day: date | None = None) -> pd.Timestamp | None:
    """The day the page says it was first published, in this order:

    1. a day written by the headline (the byline below it, else a dateline above it) that the page also
       declares for machines as its publication, when one of those written there is;
    2. else the first of them that its label calls a publication ("Published", "Originally published
       on", "Posted"), else the first one without a label; a numeric date whose day and month could swap
       (03/10/2023) matches the declared day in either order, and is otherwise read as the address's day
       when that is one of its readings, else month first after a slash, day first after a dot;
    3. the publication day it declares for machines: schema.org ``datePublished`` (JSON-LD, microdata),
       Open Graph, Dublin Core and citation meta tags, ``<time pubdate>``;
    4. a day written by the headline that its label calls a revision ("Updated", "Last updated on",
       "Reviewed"), or its markup does (``class="updated"``, ``itemprop="dateModified"``): an update
       does not move when the text first appeared, so it comes after the declared publication, but it
       still bounds the publication from above;
    5. what htmldate's fast mode finds (its own reading of the markup and text), unless the visible text
       calls that day an update and shows an earlier day it does not call one: then that earlier day;
    6. when the address gives no day either, a month written by the headline with its year and no day
       ("November 2015", as monthly columns are dated): its first day, the earliest the text can have
       appeared (a later day would make an original look like a copy).

    Visible text leads because declarations go stale (templates stamp a site-wide or first-draft date)
    while readers see the byline; htmldate comes last because, when a page declares a modification time in
    its head, it returns that before reading JSON-LD. A written day on which the declared moment falls in
    some time zone (a byline in the publisher's zone, a declaration often in UTC: 23:00 UTC is the next
    day in Sydney) is that moment: the declared day, as written, is taken, unless ``address_day`` (the day
    the page's address gives) is the written one. So is the declared day when the lead image's address
    is filed under its month and not the written day's (``/uploads/2022/07/`` with a declared July 21, 2022
    and a byline day a year later, often the page's ``dateModified``): content systems file an upload under
    the month it was made, WordPress under its post's date. The address and the image only choose between
    the page's own days: the URL date on its own is a weaker fallback, read by the caller. Days after
    ``latest`` (the fetch day, or today) are not publication days.
    """
    # Parsed as the strip stage parses it (htmldate's own loader would fetch a page whose text is an address).
    tree = parse_html(html)
    if tree is None:
        return None
    declared = _declared(tree, latest)
    before, after = _text_by_headline(tree)
    shown = _written_days(after, latest) + _written_days(before, latest)
    day = _publication_day(declared, shown, address_day, _lead_image_month(tree))
    if day is not None:
        return _midnight(day)
    # The shown dates were read on a tree stripped of its scripts: htmldate reads JSON-LD, so it parses anew.
    found = htmldate.find_date(parse_html(html), extensive_search=False, original_date=True, url="",
                               max_date=latest.isoformat())
    if found:
        return _midnight(_before_its_update(date.fromisoformat(found), tree, latest))
    month = None if address_day else _written_month(after, latest) or _written_month(before, latest)
    return _midnight(month) if month else None


def _publication_day(declared: tuple[date, frozenset[date]] | None,
                     shown: list[tuple[tuple[date, ...], str | None]], address_day: date | None,
                     image_month: tuple[int, int] | None) -> date | None:
    """Steps 1-4 of ``page_date``: the days written by the headline (each with its readings and label)
    against the declared publication day (with the days its moment falls on around the world), the
    address's day and the month the lead image is filed under choosing between them."""
    published, worldwide = declared or (None, frozenset())
    if any(published in readings for readings, _ in shown):
        return published
    first_shown = next((readings for readings, label in shown if label == "published"),
                       next((readings for readings, label in shown if label is None), None))
    if first_shown is not None:
        written = address_day if address_day in first_shown else first_shown[0]
        if written == address_day:
            return written
        in_image_month = (published is not None and _month(published) == image_month != _month(written))
        return published if written in worldwide or in_image_month else written
    if published is not None:
        return published
    return next((readings[0] for readings, _ in shown), None)


def url_date(url: str | None, latest: date) -> pd.Timestamp | None:
    """The day a page's address gives (``/2024/03/05/``, ``2024-03-05``, ``/2024/mar/05/``), not after
    ``latest``."""
    if not url:
        return None
    found = extract_url_date(url, Extractor(False, datetime.combine(latest, datetime.max.time()),
                                            datetime.combine(_EARLIEST, datetime.min.time()), True, "%Y-%m-%d"))
    if found:
        return _midnight(date.fromisoformat(found))
    named = _URL_NAMED_MONTH.search(url)
    day = _plausible_day(int(named[1]), _MONTHS[named[2].lower()], int(named[3]), latest) if named else None
    return _midnight(day) if day else None


def _lead_image_month(tree) -> tuple[int, int] | None:
    """The year and month in the address of the page's lead image (``og:image``), if it has them."""
    head = tree.find("head")
    for element in () if head is None else head.iter("meta"):
        if (element.get("property") or element.get("name") or "").lower() == "og:image":
            found = _UPLOAD_MONTH.search(element.get("content") or "")
            return (int(found[1]), int(found[2])) if found else None
    return None


def _month(day: date) -> tuple[int, int]:
    return day.year, day.month


def _declared(tree, latest: date) -> tuple[date, frozenset[date]] | None:
    """The first plausible publication day the page declares for machines, in document order, with the
    days its moment falls on somewhere in the world (none for a day without a time and zone)."""
    for element in tree.iter("meta", "time", "script"):
        if element.tag == "script":
            is_ld = (element.get("type") or "").lower() == "application/ld+json"
            found = _LD_PUBLISHED.search(element.text or "") if is_ld else None
            value = found.group(1) if found else None
            day = _iso_day(value, latest)
        elif element.tag == "time":
            published = "pubdate" in element.attrib or (element.get("itemprop") or "").lower() == "datepublished"
            value = element.get("datetime") if published else None
            day = _iso_day(value, latest)
        else:
            names = {(element.get(key) or "").strip().lower() for key in ("property", "name", "itemprop")}
            value = element.get("content") if names & _PUBLISHED_NAMES else None
            day = _meta_day(value, latest)
        if day is not None:
            return day, _days_worldwide(value)
    return None


def _days_worldwide(value: str) -> frozenset[date]:
    """The calendar days an ISO 8601 moment with a zone falls on in the zones in use (UTC-12 to UTC+14):
    where a byline written in another zone may put it. None for a day alone or a time without a zone."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return frozenset()
    if moment.tzinfo is None:
        return frozenset()
    utc = moment.astimezone(timezone.utc)
    first, last = (utc + _WESTMOST).date(), (utc + _EASTMOST).date()
    return frozenset(first + timedelta(days=n) for n in range((last - first).days + 1))


def _meta_day(value: str | None, latest: date) -> date | None:
    """The day a publication meta tag gives: ISO 8601 (its local day, as written) or a date as people
    write it ("July 17, 2025") when that is the whole value."""
    day = _iso_day(value, latest)
    if day is None and value and (written := _SHOWN.fullmatch(value.strip())):
        readings = _shown_readings(written, latest)
        return readings[0] if readings else None
    return day


def _text_by_headline(tree) -> tuple[str, str]:
    """The visible text around the headline (the first ``<h1>`` or element that shows the page's title),
    where its dates are: the ``_BEFORE_HEADLINE`` characters before it (a dateline, but also the site's
    "today" or a list of other articles in the header) and the headline with the ``_AFTER_HEADLINE``
    characters after it (the byline); empty without a headline. Markup that names a revision is marked as
    the words "Updated" would mark it; the tree's body loses its scripts and styles on the way."""
    body = tree.find("body")
    body = tree if body is None else body  # a fragment has no body element
    lxml.etree.strip_elements(body, *_HIDDEN, with_tail=False)
    headline = _headline(body, _page_titles(tree.find("head")))
    if headline is None:
        return "", ""
    for element in _REVISION_CANDIDATES(_header(headline, body)):
        if _marks_a_revision(element):
            element.text = _REVISION_MARK + (element.text or "")
    headline.text = _MARK + (headline.text or "")
    before, after = _text_around_mark(body, _AFTER_HEADLINE + len(headline.text_content()))
    return before[-_BEFORE_HEADLINE:], after


def _written_days(text: str, latest: date) -> list[tuple[tuple[date, ...], str | None]]:
    """The days written in ``text`` in reading order, each with its plausible readings (two for a numeric
    date whose day and month could swap) and what the words just before it call it: ``"published"``,
    ``"updated"`` or None."""
    return [(readings, _label(text, found.start())) for found in _SHOWN.finditer(text)
            if (readings := _shown_readings(found, latest))]


def _written_month(text: str, latest: date) -> date | None:
    """The first day of the first month written with its year and no day in ``text`` ("November 2015"),
    if plausible: the earliest day the text can have appeared."""
    found = _MONTH_ALONE.search(text)
    return _plausible_day(int(found[2]), _MONTHS[found[1].lower()], 1, latest) if found else None


def _before_its_update(day: date, tree, latest: date) -> date:
    """``day`` (htmldate's), unless the visible text of ``tree`` (its body read by ``_text_by_headline``, so
    without scripts) labels it an update and writes an earlier day without that label: then the first
    such day. htmldate takes "December 7" from "December 3, 2025. Updated: December 7, 2025" written far
    below the headline; an update is not when the text first appeared, and it bounds that from above."""
    body = tree.find("body")
    text = " ".join(" ".join((tree if body is None else body).itertext()).split())
    written = _written_days(text, latest)
    if not any(day in readings and label == "updated" for readings, label in written):
        return day
    return next((readings[0] for readings, label in written if label != "updated" and readings[0] < day), day)


def _page_titles(head) -> list[frozenset[str]]:
    """The words of the page's title as its head gives it (``og:title``, ``twitter:title``, ``<title>``),
    each also without a site name after a separator ("Ferry timetable | Harbour News")."""
    if head is None:
        return []
    titles = [element.get("content") for element in head.iter("meta")
              if (element.get("property") or element.get("name") or "").lower() in ("og:title", "twitter:title")]
    titles += [element.text for element in head.iter("title")]
    named = {" ".join(title.split()) for title in titles if title and title.strip()}
    words = {frozenset(text_words(title)) for title in named | {_SITE_NAME.sub("", title) for title in named}}
    return [title for title in words if title]


def _headline(body, titles: list[frozenset[str]]):
    """The first element that is an ``<h1>`` or whose own text is, word for word, mostly one of ``titles``:
    the headline, also on a page that marks none with ``<h1>`` (a headline styled by classes, or set in an
    ``<h2>``, often worded a little apart from the title) or whose first ``<h1>`` is a widget's below the
    article ("Contact us")."""
    def shows_a_title(text: str) -> bool:
        words = frozenset(text_words(text))
        return bool(words) and any(len(words & title) >= _TITLE_LIKENESS * len(words | title) for title in titles)

    return next((element for element in body.iter(lxml.etree.Element)
                 if element.tag == "h1" or (titles and element.text and shows_a_title(element.text))), None)


def _header(headline, body):
    """The headline's ``_HEADER_DEPTH``-th ancestor (or the body, if nearer): the part of the page that holds
    its byline and dateline, the only part whose markup is read for revisions (reading all of it costs more
    than the rest of ``page_date``)."""
    header = headline
    for _ in range(_HEADER_DEPTH):
        if header is body or header.getparent() is None:
            break
        header = header.getparent()
    return header


def _marks_a_revision(element) -> bool:
    """The element's class or itemprop names a revision (updated, modified) and none names the publication."""
    names = (element.get("class") or "").split() + (element.get("itemprop") or "").split()
    return any(map(_REVISION_NAME.search, names)) and not any(map(_PUBLICATION_NAME.search, names))


def _label(window: str, position: int) -> str | None:
    """What the words just before ``position`` call the date written there: its publication, a revision,
    or nothing."""
    start = max(0, position - _LABEL_CHARS)
    if _PUBLISHED_LABEL.search(window, start, position):
        return "published"
    return "updated" if _UPDATED_LABEL.search(window, start, position) else None


def _text_around_mark(body, after_chars: int) -> tuple[str, str]:
    """The body's visible text, white space collapsed, before the first ``_MARK`` and the first
    ``after_chars`` characters after it. The text after the window (most of a page: the article, the
    comments) is never read; chunks of text are joined by a space, so they are words apart."""
    texts = body.itertext()
    read = []
    for text in texts:
        read.append(text)
        if _MARK in text:
            break
    before, _, after = " ".join(" ".join(read).split()).partition(_MARK)
    pieces, length = [after], len(after)
    for text in texts:
        if length >= after_chars:
            break
        for word in text.split():
            pieces.append(" " + word)
            length += len(word) + 1
    return before, "".join(pieces)[:after_chars]


def _shown_readings(found: re.Match, latest: date) -> tuple[date, ...]:
    """The real, plausible days a written date can stand for, the likelier first: one, or two for a
    numeric date such as 03/04/2024 whose day and month could swap."""
    g = found.groups()
    if g[0]:
        orders = [(int(g[2]), _MONTHS[g[0].lower()], int(g[1]))]
    elif g[3]:
        orders = [(int(g[5]), _DAY_FIRST_MONTHS[g[4].lower()], int(g[3]))]
    elif g[6]:
        orders = [(int(g[6]), int(g[7]), int(g[8]))]
    elif g[9]:  # 05.03.2024: day first, as where dots are written, else month first
        orders = [(int(g[11]), int(g[10]), int(g[9])), (int(g[11]), int(g[9]), int(g[10]))]
    else:  # 3/5/2024: month first, as in the US, else day first
        orders = [(int(g[14]), int(g[12]), int(g[13])), (int(g[14]), int(g[13]), int(g[12]))]
    readings = []
    for year, month, day_of_month in orders:
        day = _plausible_day(year, month, day_of_month, latest)
        if day is not None and day not in readings:
            readings.append(day)
    return tuple(readings)


def _plausible_day(year: int, month: int, day_of_month: int, latest: date) -> date | None:
    """The day, if it exists and falls between the first dated web pages and ``latest``."""
    try:
        day = date(year, month, day_of_month)
    except ValueError:
        return None
    return day if _EARLIEST <= day <= latest else None


def _iso_day(value: str | None, latest: date) -> date | None:
    """The calendar day at the start of an ISO 8601 value, as written (its local day), if plausible."""
    found = _ISO_DAY.match(value.strip()) if value else None
    return _plausible_day(*(int(g) for g in found.groups()), latest) if found else None


def _midnight(day: date) -> pd.Timestamp:
    return pd.Timestamp(datetime(day.year, day.month, day.day, tzinfo=timezone.utc))
