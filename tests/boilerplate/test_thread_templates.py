"""Forum and Q&A threads in the templates users meet: the first post is the article, the rest is comments.

Every fixture under tests/fixtures/threads/ is a hand-written page in the markup of one thread template
(forum software, a Q&A site, a blog or news comment section). THREADS lists, per fixture, the openings of
the article's paragraphs (the first post, the question, the story), which must all be kept and none also
removed, and the replies, quotes, signatures, user-info and vote lines, which must all be removed with
the reason ``comments``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.boilerplate.html import html_blocks
from pipeline.config import StripConfig

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "threads"


@dataclass(frozen=True)
class Thread:
    article: tuple[str, ...]  # openings of the article's paragraphs: kept, and in no removed block
    comments: tuple[str, ...]  # reply, quote, signature, user-info and vote texts: removed as comments
    # why the strip stage does not get this template right yet, by test ("article", "comments"): expected failures
    fails: tuple[tuple[str, str], ...] = ()


THREADS = {
    "phpbb_thread.html": Thread(
        article=(
            "The canal trust has confirmed that the towpath between locks 12 and 15",
            "Walkers and cyclists will be sent along a signed diversion",
            "Boats can still move through the flight",
            "Moorings on the offside between the aqueduct and lock 15",
            "The trust says the new surface will be a bound gravel",
        ),
        comments=(
            "Site Admin",
            "Posts: 3,482",
            "Joined: Sun Apr 12, 2015 7:03 pm",
            "Location: Hadley Wharf",
            "NB Kingfisher, 58ft trad",
            "Lock Wheeler",
            "Joined: Thu Sep 01, 2016 11:40 am",
            "lockkeeper_jo wrote:",
            "Postby marleybridge",
            "That climb is hopeless with a pushchair",
            "Volunteer lock keeper at Marley flight",
            "Does anyone know whether the pump-out at Hadley",
            "flight_map.jpg (88.4 KiB)",
            "The pump-out stays open throughout",
        ),
    ),
    "xenforo_thread.html": Thread(
        article=(
            "The committee agreed on Monday evening that every plot holder at Fernside",
            "Lids can be bought through the society shop at cost",
            "The rule also limits each plot to three butts",
            "Tenants who already collect more than that",
            "The mains supply will stay on from April to October",
        ),
        comments=(
            "Plot secretary",
            "Feb 2, 2017",
            "2,918",
            "Fernside, plot 41",
            "Plot 41: rhubarb, runner beans",
            "Reactions: marrow_man, Beth K and 14 others",
            "Well-known member",
            "Aug 19, 2020",
            "hollyhock_ann said:",
            "Click to expand...",
            "Netting has worked on my tanks for six seasons",
            "Reactions: Old Tom Pryce",
            "Yesterday at 6:02 PM",
            "As a new tenant I am just glad",
            "Learning as I go, mostly from the slugs",
        ),
    ),
    "vbulletin_thread.html": Thread(
        article=(
            "The appeal to replace the leaking roof of Ashcombe village hall",
            "Nearly half of the money came from a single grant",
            "The rest was collected over eighteen months",
            "Work is due to start after the Easter holidays",
            "The toddler group and the Tuesday lunch club",
        ),
        comments=(
            "03-14-2024, 08:22 PM",
            "Committee Member",
            "Oct 2012",
            "Church Lane",
            "1,873",
            "Hall bookings: ring the number on the noticeboard",
            "Senior Member",
            "Originally Posted by hall_treasurer",
            "Will the old slates be sold off?",
            "Today, 07:41 AM",
            "Junior Member",
            "Well done to everyone who stood behind a tombola table",
            "Ashcombe WI, second Thursday of the month",
        ),
    ),
    "discourse_thread.html": Thread(
        article=(
            "The committee has signed a five-year lease on the old fire station",
            "The new building gives us roughly three times the floor space",
            "The rent is higher than at the arches",
            "We need volunteers for two moving weekends",
            "Membership fees stay the same until at least the end of the year",
        ),
        comments=(
            "solderqueen (Rosa Menzies) January 18, 2024, 10:21am",
            "27 Likes",
            "tomlathe January 18, 2024, 11:02am",
            "solderqueen:",
            "Best news all winter.",
            "9 Likes",
            "k_obi January 19, 2024, 8:37am",
            "Is there still a plan for the dust extraction?",
            "Yes, the extraction is in the budget as its own line",
        ),
    ),
    # The question is the article; its own vote count and "asked" card sit outside the list of answers and
    # are removed by other rules (as "other"), so only the answers and the comments are listed here.
    "stackexchange_qa.html": Thread(
        article=(
            "I keep a rye starter that is usually fed every morning",
            "When I took the jar out there was a layer of grey liquid",
            "I poured the liquid off and fed it twice",
            "Is the starter still safe to bake with",
        ),
        comments=(
            "Was the jar sealed tight, or does it have a loose lid?",
            "@PietroV a clip-top jar",
            "Oct 2, 2023 at 20:15",
            "Accepted",
            "That smell is ethyl acetate and a little acetone",
            "It is harmless, and two feeds at a generous ratio",
            "Improve this answer",
            "answered Oct 2, 2023 at 21:26",
            "9,40233 gold badges",
            "Thank you, the stiffer feed before travelling",
            "Oct 3, 2023 at 6:44",
            "Another option for trips longer than a week",
            "A spoonful of flakes in warm water",
            "answered Oct 5, 2023 at 13:09",
            "Hattie OkonjoHattie Okonjo",
        ),
    ),
    "wordpress_nested_comments.html": Thread(  # replies nested three deep in <ol class="children">
        article=(
            "The hub came off a ladies",
            "Taking it apart is less frightening",
            "Most of the trouble turned out to be old grease",
            "A long soak in paraffin",
            "Next time I will write about adjusting the cable",
        ),
        comments=(
            "4 comments on",
            "Declan Rourke says:",
            "April 2, 2024 at 8:14 am",
            "Did you find the pawl springs were still good?",
            "Gwen Tiller says:",
            "They were stiff but still springy",
            "April 3, 2024 at 7:02 am",
            "Good advice about the scrap wheel",
            "Ines Palfrey says:",
            "Paraffin and a toothbrush fixed my father",
            "Leave a comment",
            "Your email address will not be published",
        ),
    ),
    "reddit_nested_thread.html": Thread(  # a text post, comments nested in "child" boxes inside each comment
        article=(
            "I volunteer at the Brackenford branch library",
            "We started with forty-two items",
            "Anyone with a library card can borrow up to two items",
            "In the first four weeks we made one hundred and seventeen loans",
            "We are now looking for a second hedge trimmer",
        ),
        comments=(
            "submitted 5 hours ago by quiet_shelfie",
            "ferrule_fan 141 points 4 hours ago",
            "The cake tins are the best part of this",
            "permalink",
            "quiet_shelfie[S] 58 points",
            "The figure seven has been out every single week",
            "mossy_gate 12 points 2 hours ago",
            "I have a set of alphabet tins in the loft",
            "Wrenlow_Builds 77 points",
            "Happy to do the Saturday power tool checks",
        ),
    ),
    "news_article_comments.html": Thread(  # no "comment" in the section's class or id; one reply dated "Yesterday"
        article=(
            "Return fares on the Holm Island ferry will go up",
            "The company said the cost of marine fuel had risen",
            "Islanders will keep their resident discount",
            "Freight charges are rising by a smaller amount",
            "The community council has asked the regional transport board",
            "A spokesman for the transport board said",
        ),
        comments=(
            "Join the conversation",
            "SkerryviewSubscriber",
            "2 hours ago",
            "Thirteen pounds to see a consultant on the mainland",
            "harbourmaster_ret",
            "In reply to Skerryview: the hospital travel scheme",
            "M. Fairlie",
            "Yesterday",
            "Fuel went up for everyone.",
        ),
    ),
}


def _cases(test: str):
    """Every fixture, those this test is known to fail on marked as strict expected failures."""
    cases = []
    for name in sorted(THREADS):
        reason = dict(THREADS[name].fails).get(test)
        cases.append(pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=reason)) if reason else name)
    return cases


def _blocks(name: str):
    return html_blocks((FIXTURES / name).read_text(encoding="utf-8"), StripConfig())


def test_every_fixture_is_listed():
    assert sorted(p.name for p in FIXTURES.glob("*.html")) == sorted(THREADS)


@pytest.mark.parametrize("name", _cases("article"))
def test_first_post_is_kept_whole(name):
    blocks = _blocks(name)
    kept = "\n".join(b.text for b in blocks if b.kept)
    for opening in THREADS[name].article:
        assert opening in kept, f"article paragraph dropped: {opening!r}"
        assert not any(opening in b.text for b in blocks if not b.kept), f"article paragraph also removed: {opening!r}"


@pytest.mark.parametrize("name", _cases("comments"))
def test_replies_go_as_comments(name):
    blocks = _blocks(name)
    for snippet in THREADS[name].comments:
        holding = [b for b in blocks if snippet in b.text]
        assert holding, f"fixture text not found as a block: {snippet!r}"
        for block in holding:
            assert not block.kept, f"comment kept: {snippet!r}"
            assert block.reason == "comments", f"{snippet!r} removed as {block.reason} ({block.rule}), want comments"


QUOTED_EXCHANGE = """<html><body><article><h1>Council papers show the barrier row</h1>
<p>Emails released by the council this week show how long the dispute over the flood barrier had been running
before the authority finally agreed to pay for the work.</p>
<blockquote class="exchange">
 <div class="msg"><span class="when">Jan 5, 2023</span><p>We cannot carry the cost of the barrier alone and the
 authority knows it, so the matter has to go to the regional board.</p></div>
 <div class="msg"><span class="when">Jan 9, 2023</span><p>The board will not consider it before the spring, and the
 authority asks the council to make an offer in the meantime.</p></div>
</blockquote>
<p>A month later the council wrote again, and the tone of its letter had changed completely.</p>
<blockquote class="exchange">
 <div class="msg"><span class="when">Feb 14, 2023</span><p>The council will offer a third of the cost if the authority
 agrees to a fixed timetable for every stage of the work.</p></div>
</blockquote>
<p>The offer was accepted in the summer, and the contract was signed in the autumn after two more rounds of
talks about the timetable and the compensation for farmers upstream.</p>
</article></body></html>"""


def test_a_quoted_exchange_is_the_articles_text():
    """Dated messages the article quotes, in quotations of their own, are read as its text, never as a thread
    of the page: the quotations that hold them are no posts."""
    blocks = html_blocks(QUOTED_EXCHANGE, StripConfig())
    kept = "\n".join(b.text for b in blocks if b.kept)
    for opening in ("We cannot carry the cost", "The board will not consider it", "The council will offer a third",
                    "Emails released by the council", "The offer was accepted in the summer"):
        assert opening in kept
