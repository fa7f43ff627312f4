"""Decisions of the HTML stripper beyond the extractor's choice: what comes back that it left out (the article's
own headings, lists and tables, not link lists), and what goes that it kept (forms, author boxes)."""
from __future__ import annotations

from pipeline.boilerplate.dom import article_element, parse_html, segment_dom
from pipeline.boilerplate.html import (
    _after_article,
    _classify_justext,
    _judge_kept,
    _recovered,
    _trusted_dom_verdicts,
)
from pipeline.config import StripConfig

PROSE = ("The regional insurance market grew again last year, and the ranking of the largest companies changed "
         "for the first time in a decade, the regulator said in its annual report on Monday.")
PAGE = f"""<html><body><main><article>
<p>{PROSE}</p>
<h2>How insurers set a premium</h2>
<ul><li>Claims history</li><li>Location of the property</li></ul>
<table><tr><th>Company</th><th>Premiums</th><th>Online quotes</th></tr>
<tr><td>Northern Mutual</td><td>2,348,646</td><td>Yes</td></tr><tr><td>Lakeside Casualty</td><td>1,123,578</td><td>Yes</td></tr>
</table>
<p>{PROSE.replace("Monday", "Tuesday")}</p>
<ul><li>Source: <a href="/report">the regulator's annual report</a></li></ul>
<ul><li><a href="/a">Storm season raises premiums</a></li><li><a href="/b">Quotes by postcode</a></li></ul>
<p>{PROSE.replace("Monday", "Friday")}</p>
</article></main>
<ul><li>Sitemap</li><li>Careers</li></ul>
</body></html>"""


def _recovered_texts(html: str, links_chosen: bool = False) -> list[str]:
    """The blocks brought back when the extractor chose only the long paragraphs of prose (and, with
    ``links_chosen``, the paragraphs of links)."""
    cfg = StripConfig()
    paragraphs = segment_dom(parse_html(html))
    _classify_justext(paragraphs, cfg)
    chosen = [p.text.startswith(PROSE[:40]) or (links_chosen and p.links_density() == 1) for p in paragraphs]
    article = article_element(paragraphs, chosen, cfg.article_element_share)
    recovered = _recovered(paragraphs, chosen, [None] * len(paragraphs), cfg.recover_levels, article, cfg)
    return [p.text for p, back in zip(paragraphs, recovered) if back]


def _brought_back(html: str, chosen_texts: tuple[str, ...]) -> list[str]:
    """The blocks brought back when the extractor chose the paragraphs with these texts."""
    cfg = StripConfig()
    paragraphs = segment_dom(parse_html(html))
    _classify_justext(paragraphs, cfg)
    chosen = [p.text in chosen_texts for p in paragraphs]
    article = article_element(paragraphs, chosen, cfg.article_element_share)
    recovered = _recovered(paragraphs, chosen, [None] * len(paragraphs), cfg.recover_levels, article, cfg)
    return [p.text for p, back in zip(paragraphs, recovered) if back]


def test_headings_lists_and_tables_inside_the_article_come_back():
    back = _recovered_texts(PAGE)
    for text in ("How insurers set a premium", "Claims history", "Location of the property", "Company",
                 "Northern Mutual", "2,348,646"):
        assert text in back


def test_a_line_with_a_link_comes_back_and_links_alone_and_lists_outside_the_article_stay_out():
    back = _recovered_texts(PAGE)
    assert "Source: the regulator's annual report" in back
    assert "Storm season raises premiums" not in back and "Quotes by postcode" not in back
    assert "Sitemap" not in back and "Careers" not in back


def test_a_form_and_an_author_box_go_even_when_the_extractor_keeps_them():
    cfg = StripConfig()
    bio = ("Maria Lopez covers insurance and personal finance. She joined the newsroom in 2015 after ten years at "
           "a regional business weekly.")
    consent = ("By submitting this form you agree that the publisher may contact you by email about its products "
               "and services.")
    html = (f"<html><body><article><p>{PROSE}</p><p>{PROSE.replace('Monday', 'Friday')}</p>"
            f"<div class='author-box'><p>{bio}</p></div><form action='/signup'><p>{consent}</p></form>"
            "</article></body></html>")
    paragraphs = segment_dom(parse_html(html))
    chosen = [True] * len(paragraphs)
    trusted = _trusted_dom_verdicts(paragraphs, chosen, cfg)
    judged = {p.text: _judge_kept(p, p.dom_verdict if id(p.dom_source) in trusted else None, None, False, cfg)[0]
              for p in paragraphs}
    assert judged[PROSE].kept
    assert (judged[bio].kept, judged[bio].reason) == (False, "byline")
    assert (judged[consent].kept, judged[consent].reason) == (False, "other")


def test_headings_listed_in_a_table_of_contents_the_extractor_kept_still_come_back():
    """A table of contents repeats the headings as in-page links; the headings are not copies of kept text."""
    headings = ("Why premiums rise", "How to compare quotes")
    contents = "".join(f"<li><a href='#s{i}'>{h}</a></li>" for i, h in enumerate(headings))
    sections = "".join(f"<h2 id='s{i}'>{h}</h2><p>{PROSE.replace('Monday', day)}</p>"
                       for i, (h, day) in enumerate(zip(headings, ("Tuesday", "Friday"))))
    html = f"<html><body><article><p>{PROSE}</p><ul>{contents}</ul>{sections}</article></body></html>"
    back = _recovered_texts(html, links_chosen=True)
    assert all(back.count(h) == 1 for h in headings)


def test_a_value_repeated_down_a_table_column_comes_back_each_time():
    assert _recovered_texts(PAGE).count("Yes") == 2


def test_chosen_lines_after_the_article_box_go_and_the_article_s_own_links_stay():
    pitch = "Talk to our advisers about a policy that fits your home today."
    html = (f"<html><body><main><article><p>{PROSE}</p><p>See <a href='/r'>the regulator's report</a> for the "
            f"figures.</p><p>{PROSE.replace('Monday', 'Friday')}</p><p>{PROSE.replace('Monday', 'Tuesday')}</p>"
            "</article><div class='next'><p><a href='/b'>Storm season raises premiums</a> Insurers warned customers...</p>"
            f"<p>{pitch}</p><p>Written with care by our newsroom.</p></div></main></body></html>")
    paragraphs = segment_dom(parse_html(html))
    chosen = [not p.text.startswith("Written") for p in paragraphs]  # the extractor kept the teaser and the pitch
    article = article_element(paragraphs, chosen, StripConfig().article_element_share)
    after = {paragraphs[i].text: verdict.reason for i, verdict in _after_article(paragraphs, chosen, article).items()}
    assert after == {"Storm season raises premiums Insurers warned customers...": "related", pitch: "other"}


def test_a_table_column_named_share_stays_and_a_share_button_goes():
    """"Share" heading a table's column (market share) is the article's data; the same word alone in a
    paragraph, or as a link in a cell, is a share button."""
    cfg = StripConfig()
    html = (f"<html><body><article><p>{PROSE}</p><table><tr><th>Company</th><th>Share</th></tr>"
            "<tr><td>Northern Mutual</td><td>31%</td></tr></table><p>Share</p>"
            "<table><tr><td><a href='/share?u=1'>Share</a></td></tr></table></article></body></html>")
    paragraphs = segment_dom(parse_html(html))
    judged = [(p.container.tag if p.container is not None else None, _judge_kept(p, None, None, False, cfg)[0])
              for p in paragraphs if p.text == "Share"]
    assert [(tag, block.kept) for tag, block in judged] == [("th", True), ("p", False), ("td", False)]


def test_a_hidden_copy_of_the_article_stays_out_and_a_hidden_section_of_its_own_comes_back():
    """A page that hides the article's body again (metadata for machines) does not get it twice; a collapsed
    section of text the page shows nowhere else is the article's own."""
    answer = ("Most policies pay for water that comes in through the roof after a storm, but not for water that "
              "rises from the ground during a flood, which needs a separate policy.")
    friday = PROSE.replace("Monday", "Friday")
    copy = f"{PROSE} {friday}"
    html = (f"<html><body><main><article><p>{PROSE}</p><div hidden><div>{copy}</div></div>"
            f"<div style='display: none'><p>{answer}</p></div><p>{friday}</p></article></main></body></html>")
    back = _brought_back(html, (PROSE, friday))
    assert answer in back
    assert copy not in back


def test_a_hidden_copy_of_the_article_in_markdown_stays_out():
    """The article's body again for machines, in Markdown: the marks around its words do not make it new text."""
    friday = PROSE.replace("Monday", "Friday")
    copy = (f"# Insurance ranking\n\n{PROSE.replace('largest companies', '**largest companies**')}\n\n"
            f"{friday.replace('annual report', '[annual report](/report)').replace('regulator', '*regulator*')}")
    html = (f"<html><body><main><article><p>{PROSE}</p><div hidden><pre>{copy}</pre></div><p>{friday}</p>"
            f"</article></main></body></html>")
    assert segment_dom(parse_html(html))[1].text.startswith("# Insurance ranking")
    assert not any(text.startswith("# Insurance ranking") for text in _brought_back(html, (PROSE, friday)))


def test_prose_that_goes_on_with_the_article_in_its_box_comes_back_up_to_a_line_of_chrome():
    """An extractor that starts late or stops early (the article's questions and answers in a section of their
    own) leaves out prose the article's box goes on with; past a line of links, the box's prose is someone
    else's."""
    more = " It expects the same order next year, when the new rules on the reserves that they must hold apply."
    chosen_texts = (PROSE + more, PROSE.replace("Monday", "Friday") + more)
    answer = ("Most policies pay for water that comes in through the roof after a storm, but not for water that "
              "rises from the ground during a flood, which needs a separate policy from the state program that "
              "the owners of the houses in the valley have to buy on their own.")
    intro = ("Every spring the regulator counts the premiums that each company in the region has written, and "
             "this year the count shows a market that is larger than it has been at any time since the law that "
             "opened it to companies from abroad.")
    note = ("The author has written about the insurance business for the newspaper since the year the regulator "
            "first published its ranking, and she lives with her family in the north of the country, where she "
            "also teaches a course on the history of the trade.")
    html = (f"<html><body><main><article><div><p>{intro}</p></div><p>{chosen_texts[0]}</p><p>{chosen_texts[1]}</p>"
            f"<section><div><h2>Questions readers asked</h2><p>{answer}</p></div></section>"
            f"<div><p><a href='/contact'>Contact the newsroom about this story</a></p></div>"
            f"<div><div><p>{note}</p></div></div></article></main></body></html>")
    back = _brought_back(html, chosen_texts)
    assert intro in back and answer in back
    assert note not in back


def test_a_sentence_jusText_calls_bad_does_not_end_the_article_as_a_line_of_chrome_does():
    """A sentence of names and figures has too few stopwords for jusText, which calls it bad as it calls a line of
    chrome; a paragraph without links that ends as a sentence is the article's, and the box's prose after it comes
    back with it. A bad line that does not end as a sentence (a product's card) still ends the article."""
    more = " It expects the same order next year, when the new rules on the reserves that they must hold apply."
    chosen_texts = (PROSE + more, PROSE.replace("Monday", "Friday") + more)
    figures = ("Northern Mutual (EUR 2.3bn), Lakeside Casualty (1.1bn), Harbour Mutual (0.9bn), Granite Casualty "
               "(0.7bn), Crescent Assurance (0.6bn).")
    outlook = ("Brokers in the region said that they expect the smaller companies to merge over the next few years, "
               "because the new rules on reserves weigh more on a company that writes only a few lines of business.")
    card = "Northern Mutual Home Cover Plus | EUR 240 per year | 4.5 stars | 1,204 reviews | Compare quotes"
    for line, goes_on in ((figures, True), (card, False)):
        html = (f"<html><body><main><article><p>{chosen_texts[0]}</p><p>{chosen_texts[1]}</p>"
                f"<p>{line}</p><div><p>{outlook}</p></div></article></main></body></html>")
        paragraphs = segment_dom(parse_html(html))
        _classify_justext(paragraphs, StripConfig())
        assert [p.class_type for p in paragraphs if p.text == line] == ["bad"]
        assert (outlook in _brought_back(html, chosen_texts)) is goes_on


def test_the_article_goes_on_through_its_own_table_to_the_introduction_above_it():
    """An extractor that starts after the article's table leaves out the table and the introduction above it:
    the table's cells, lines that jusText calls bad for want of sentences, do not end the article as a line of
    chrome does."""
    intro = ("Every spring the regulator counts the premiums that each company in the region has written, and "
             "this year the count shows a market that is larger than it has been at any time since the law that "
             "opened it to companies from abroad.")
    more = " It expects the same order next year, when the new rules on the reserves that they must hold apply."
    chosen_texts = (PROSE + more, PROSE.replace("Monday", "Friday") + more)
    cells = ("Company", "Premiums written, property, motor, marine and liability lines (EUR, 2023)",
             "Northern Mutual", "2,348,646 property, 1,204,118 motor, 310,442 marine, 98,120 liability")
    table = (f"<table><tr><th>{cells[0]}</th><th>{cells[1]}</th></tr>"
             f"<tr><td>{cells[2]}</td><td>{cells[3]}</td></tr></table>")
    html = (f"<html><body><main><article><div><p>{intro}</p></div>{table}<p>{chosen_texts[0]}</p>"
            f"<p>{chosen_texts[1]}</p></article></main></body></html>")
    back = _brought_back(html, chosen_texts)
    assert intro in back
    assert set(cells) <= set(back)


def test_a_table_the_page_is_laid_out_in_does_not_carry_the_article_past_a_line_of_chrome():
    """A page (a newsletter) laid out in a table: the article's box sits in one of its cells, and the lines of
    the box are no table cells of the article's."""
    pitch = ("Readers who pay for the newsletter get every report of the week in full, the archive of the years "
             "before, and an invitation to the meeting in the spring where the editors answer their questions.")
    more = " It expects the same order next year, when the new rules on the reserves that they must hold apply."
    chosen_texts = (PROSE + more, PROSE.replace("Monday", "Friday") + more)
    html = (f"<html><body><table><tr><td><div><div><p>{chosen_texts[0]}</p><p>{chosen_texts[1]}</p>"
            f"<p><a href='/subscribe'>Subscribe</a></p><p>{pitch}</p></div></div></td></tr></table></body></html>")
    assert pitch not in _brought_back(html, chosen_texts)


def test_a_subhead_linked_to_itself_comes_back_and_a_table_of_contents_linking_to_it_stays_out():
    """A Markdown renderer links each subhead to itself (its permalink): all link text, but no link elsewhere."""
    friday = PROSE.replace("Monday", "Friday")
    html = (f"<html><body><main><article><ul><li><a href='#premiums'>How insurers set a premium</a></li>"
            f"<li><a href='#ranking'>The ranking</a></li></ul><p>{PROSE}</p>"
            f"<h2 id='premiums'><a href='#premiums'>How insurers set a premium</a></h2><p>{friday}</p>"
            f"<h2><a id='ranking' href='#ranking'>The ranking</a></h2><p>{PROSE.replace('Monday', 'Sunday')}</p>"
            f"<h2><a href='/ranking'>Last year's ranking</a></h2><p>{PROSE.replace('Monday', 'Tuesday')}</p>"
            f"</article></main></body></html>")
    chosen = (PROSE, friday, PROSE.replace("Monday", "Sunday"), PROSE.replace("Monday", "Tuesday"))
    back = _brought_back(html, chosen)
    assert back.count("How insurers set a premium") == 1 and back.count("The ranking") == 1
    assert "Last year's ranking" not in back
