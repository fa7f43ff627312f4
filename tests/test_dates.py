"""Publication dates read from the page (declarations, the byline by the headline, htmldate), from its
address, and times stated by the crawl (strict ISO 8601)."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from pipeline.dates import page_date, parse_stated, url_date

LATEST = date(2026, 1, 1)


def day(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def page(head: str = "", body: str = "") -> str:
    return (f"<html><head><title>Harbour news</title>{head}</head><body><nav>Home | News</nav>{body}"
            "<p>The harbour authority announced that the old ferry terminal will close.</p></body></html>")


@pytest.mark.parametrize(("head", "body", "expected"), [
    ('<meta property="article:published_time" content="2024-03-05T10:00:00+01:00">', "<h1>Ferry</h1>", "2024-03-05"),
    ('<meta name="citation_publication_date" content="2019-11-30">', "<h1>Ferry</h1>", "2019-11-30"),
    ('<script type="application/ld+json">{"@type": "NewsArticle", "dateModified": "2024-06-01", '
     '"datePublished": "2024-02-29T23:30:00-08:00"}</script>', "<h1>Ferry</h1>", "2024-02-29"),
    ("", '<h1>Ferry</h1><p>By Ann Lee <time datetime="2023-07-14T09:00">July 14, 2023</time></p>', "2023-07-14"),
    ("", "<h1>Ferry</h1><p class=byline>By Ann Lee, 5 March 2022</p>", "2022-03-05"),
    ("", "<p class=kicker>News | Oct. 9, 2021</p><h1>Ferry</h1>", "2021-10-09"),
    ("", "<h1>Ferry</h1><p>Posted 3/4/2025 by Yu</p>", "2025-03-04"),
    ("", "<h1>Ferry</h1><p>By Yu, 05.03.2024</p>", "2024-03-05"),
    ('<meta name="published" content="July 17, 2025">', "<h1>Ferry</h1>", "2025-07-17"),
], ids=["open-graph-meta", "citation-meta", "json-ld-local-day", "time-element", "byline", "dateline-above",
        "us-numeric", "dotted-numeric", "written-date-meta"])
def test_the_day_the_page_states(head, body, expected):
    assert page_date(page(head, body), LATEST) == day(expected)


@pytest.mark.parametrize(("head", "body"), [
    ('<meta property="article:published_time" content="2023-01-10T08:00:00Z">'
     '<meta property="article:modified_time" content="2024-05-02T08:00:00Z">',
     "<h1>Ferry</h1><p>Updated May 2, 2024 · Published January 10, 2023</p>"),
    ('<script type="application/ld+json">{"@type": "Article", "dateModified": "2024-05-02T09:00:00Z", '
     '"datePublished": "2023-01-10T09:00:00Z"}</script>',
     "<h1>Ferry</h1><p>By Ann Lee · Last updated: May 2, 2024</p>"),
], ids=["update-shown-first", "update-shown-alone"])
def test_a_declared_publication_day_wins_over_an_update_shown(head, body):
    assert page_date(page(head, body), LATEST) == day("2023-01-10")


def test_the_shown_day_wins_over_a_declaration_it_does_not_show():
    head = '<meta property="article:published_time" content="2020-01-01T00:00:00Z">'
    assert page_date(page(head, "<h1>Ferry</h1><p>By Ann Lee, August 14, 2025</p>"), LATEST) == day("2025-08-14")


@pytest.mark.parametrize("written", ["4 de agosto de 2021", "04-ago-2021", "4. August 2021", "4 août 2021",
                                     "04-Aug-2021", "4 agosto 2021"])
def test_a_day_first_date_with_its_month_named_in_another_language_or_between_dashes(written):
    assert page_date(page(body=f"<h1>Ferry</h1><p>Ann Lee, {written}</p>"), LATEST) == day("2021-08-04")


@pytest.mark.parametrize(("image", "expected"), [
    ("https://example.org/wp-content/uploads/2020/01/ferry.jpg", "2020-01-01"),
    ("https://example.org/sites/default/files/2025-08/ferry.jpg", "2025-08-14"),
    ("https://example.org/images/ferry.jpg", "2025-08-14"),
], ids=["image-filed-in-the-declared-month", "image-filed-in-the-shown-month", "image-without-a-month"])
def test_the_lead_images_upload_month_chooses_between_the_shown_and_the_declared_day(image, expected):
    head = (f'<meta property="og:image" content="{image}">'
            '<meta property="article:published_time" content="2020-01-01T00:00:00Z">')
    assert page_date(page(head, "<h1>Ferry</h1><p>By Ann Lee, August 14, 2025</p>"), LATEST) == day(expected)


def test_an_update_shown_alone_dates_a_page_that_declares_no_publication():
    assert page_date(page(body="<h1>Ferry</h1><p>Reviewed by Ann Lee Updated on May 2, 2024</p>"), LATEST) == \
        day("2024-05-02")


@pytest.mark.parametrize(("declared", "shown", "address_day", "expected"), [
    ("2025-02-23T00:57:30+00:00", "February 22, 2025", None, "2025-02-23"),
    ("2025-12-02T23:00:55+00:00", "Published: 03 Dec 2025", None, "2025-12-02"),
    ("2025-02-23T00:57:30+00:00", "February 22, 2025", date(2025, 2, 22), "2025-02-22"),
    ("2025-12-19T22:02:58Z", "Dec 18, 2025", None, "2025-12-18"),
    ("2025-12-19", "Dec 18, 2025", None, "2025-12-18"),
], ids=["utc-declaration-local-byline", "labelled-byline-a-zone-ahead", "address-gives-the-byline-day",
        "no-zone-puts-the-moment-on-that-day", "a-day-alone-is-no-moment"])
def test_a_byline_day_in_another_time_zone_is_the_declared_moment(declared, shown, address_day, expected):
    head = f'<meta property="article:published_time" content="{declared}">'
    assert page_date(page(head, f"<h1>Ferry</h1><p>By Ann Lee {shown}</p>"), LATEST, address_day) == day(expected)


def test_htmldate_reads_the_scripts_that_the_byline_reading_strips():
    data = ('<script id="__NEXT_DATA__" type="application/json">{"props": {"post": {"title": "Ferry", '
            '"date": "2024-04-08T06:59:34", "status": "publish"}}}</script>')
    assert page_date(page(body=f"<h1>Ferry</h1><p>By Ann Lee</p>{data}"), LATEST) == day("2024-04-08")


@pytest.mark.parametrize("marked", [
    '<span class="updated">May 2, 2024</span>',
    '<span class="entry-meta updated-on"><time datetime="2024-05-02T09:00:00Z" class="entry-date published updated">'
    "May 2, 2024</time></span>",
    '<time itemprop="dateModified" datetime="2024-05-02">May 2, 2024</time>',
], ids=["class", "ancestor-class", "itemprop"])
def test_a_day_the_markup_calls_a_revision_is_an_update_shown(marked):
    head = '<meta property="article:published_time" content="2023-01-10T08:00:00Z">'
    assert page_date(page(head, f"<h1>Ferry</h1><p>By Ann Lee {marked}</p>"), LATEST) == day("2023-01-10")


def test_a_day_the_markup_calls_both_publication_and_revision_is_not_an_update():
    head = '<meta property="article:published_time" content="2020-01-01T00:00:00Z">'
    shown = '<time class="entry-date published updated" datetime="2025-08-14">August 14, 2025</time>'
    assert page_date(page(head, f"<h1>Ferry</h1><p>By Ann Lee {shown}</p>"), LATEST) == day("2025-08-14")


def test_a_day_labelled_as_the_publication_wins_over_an_update_shown_before_it():
    body = "<h1>Ferry</h1><p>Updated May 2, 2024 8:23 PM ET · Originally published January 10, 2023 11:01 AM ET</p>"
    assert page_date(page(body=body), LATEST) == day("2023-01-10")


def test_the_byline_below_the_headline_wins_over_dates_in_the_header_above_it():
    header = ("<header><p>Friday, December 19, 2025</p><ul><li>Council votes on bridge 12/17/2025</li>"
              "<li>New ferry timetable 12/16/2025</li></ul></header>")
    assert page_date(page(body=f"{header}<h1>Ferry</h1><p>03/01/2017 by Ann Lee</p>"), LATEST) == day("2017-03-01")


@pytest.mark.parametrize(("headline", "after"), [
    ('<div class="post-title">Ferry terminal to close</div>', ""),
    ('<div class="post-title">Ferry terminal to close</div>',
     "<footer><h1>Contact us</h1><p>Podcast recorded on May 2, 2024</p></footer>"),
    ("<h2>The ferry terminal to close</h2>", ""),
], ids=["no-h1", "h1-below-the-article", "worded-a-little-apart"])
def test_the_element_that_shows_the_page_title_is_the_headline_before_any_h1(headline, after):
    head = ('<meta property="og:title" content="Ferry terminal to close | Harbour News">'
            '<meta property="article:published_time" content="2020-01-01T00:00:00Z">')
    body = f'<p>Menu: news, ferries</p>{headline}<p>By Ann Lee, August 14, 2025</p>{after}'
    assert page_date(page(head, body), LATEST) == day("2025-08-14")


def test_a_numeric_date_whose_day_and_month_could_swap_matches_the_declared_day_in_either_order():
    head = '<meta property="article:published_time" content="2024-09-10T08:00:00Z">'
    assert page_date(page(head, "<h1>Ferry</h1><p>By Block 09.10.2024</p>"), LATEST) == day("2024-09-10")
    assert page_date(page(head, "<h1>Ferry</h1><p>By Block 10/09/2024</p>"), LATEST) == day("2024-09-10")


def test_the_address_day_chooses_between_the_readings_of_a_numeric_date_whose_day_and_month_could_swap():
    body = "<h1>Ferry</h1><p>By Block 10/03/2023</p>"
    assert page_date(page(body=body), LATEST) == day("2023-10-03")
    assert page_date(page(body=body), LATEST, date(2023, 3, 10)) == day("2023-03-10")


def test_without_a_stated_day_there_is_no_page_date():
    assert page_date(page(body="<h1>Ferry</h1><p>No date anywhere.</p>"), LATEST) is None
    assert page_date("", LATEST) is None


def test_days_after_the_latest_plausible_day_and_impossible_days_are_not_publication_days():
    future = page(body="<h1>Ferry</h1><p>By Ann Lee, March 5, 2031</p>")
    impossible = page(body="<h1>Ferry</h1><p>By Ann Lee, February 30, 2024</p>")
    assert page_date(future, LATEST) is None
    assert page_date(impossible, LATEST) is None


@pytest.mark.parametrize(("address_day", "expected"), [(None, day("2015-11-01")), (date(2015, 11, 20), None)],
                         ids=["no-other-date", "the-address-gives-a-day"])
def test_a_month_written_by_the_headline_dates_a_page_that_gives_no_day_to_its_first_day(address_day, expected):
    body = "<h1>Ferry</h1><p>Harbour column</p><p>November 2015</p>"
    assert page_date(page(body=body), LATEST, address_day) == expected


def test_a_page_whose_text_is_an_address_is_read_never_fetched(monkeypatch):
    def no_fetch(*args, **kwargs):
        raise AssertionError("a page date tried to download a page")

    monkeypatch.setattr("htmldate.utils.fetch_url", no_fetch)
    assert page_date("https://example.org/2024/03/05/ferry", LATEST) is None


def test_a_day_written_far_below_the_headline_is_not_its_byline():
    head = '<meta property="article:published_time" content="2020-01-01T00:00:00Z">'
    far_below = "<p>Ferry traffic grew every year.</p>" * 40 + "<p>The terminal opened on June 1, 2001.</p>"
    assert page_date(page(head, f"<h1>Ferry</h1><p>By Ann Lee</p>{far_below}"), LATEST) == day("2020-01-01")


def test_an_update_that_htmldate_takes_gives_way_to_the_earlier_day_written_with_it():
    head = '<meta property="article:modified_time" content="2025-12-07T13:33:15+00:00">'
    far_below = "<p>Ferry traffic grew every year.</p>" * 40
    byline = "<p>Ann Lee</p><p>December 3, 2025. <i>Updated: December 7, 2025</i></p>"
    assert page_date(page(head, f"<h1>Ferry</h1>{far_below}{byline}"), LATEST) == day("2025-12-03")
    assert page_date(page(head, f"<h1>Ferry</h1>{far_below}<p>Updated: December 7, 2025</p>"), LATEST) == \
        day("2025-12-07")

def test_url_dates():
    assert url_date("https://example.org/news/2024/03/05/ferry-terminal/", LATEST) == day("2024-03-05")
    assert url_date("https://example.org/news/ferry-terminal/", LATEST) is None
    assert url_date("https://example.org/2031/03/05/ferry/", LATEST) is None
    assert url_date(None, LATEST) is None


@pytest.mark.parametrize(("url", "expected"), [
    ("https://example.org/world/2023/oct/03/ferry-terminal", "2023-10-03"),
    ("https://example.org/blog/2023/october/3/ferry-terminal/", "2023-10-03"),
], ids=["abbreviated", "spelled-out"])
def test_url_dates_with_the_month_named(url, expected):
    assert url_date(url, LATEST) == day(expected)


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-03-01T12:00:00+01:00", "2024-03-01T11:00:00"),
    ("2024-03-01T12:00:00Z", "2024-03-01T12:00:00"),
    ("2024-03-02 08:30:00", "2024-03-02T08:30:00"),
    ("2024-03-02", "2024-03-02T00:00:00"),
])
def test_stated_times_are_iso_8601_in_utc(value, expected):
    assert parse_stated(value, "published_at") == (day(expected), None)


@pytest.mark.parametrize("value", ["now", "today", "yesterday at noon", "03/04/2024", "2024-13-45", 20240301])
def test_a_stated_time_that_is_not_iso_8601_is_a_warning_never_a_guess(value):
    parsed, warning = parse_stated(value, "manifest published_at")
    assert parsed is None
    assert "manifest published_at" in warning


@pytest.mark.parametrize("value", [None, "", "   ", float("nan")])
def test_no_stated_time_is_no_warning(value):
    assert parse_stated(value, "published_at") == (None, None)
