"""Hostile inputs for every format the pipeline reads, deterministic from a seed.

HTML, plain text, gzip, JSONL and WARC files that are broken, lying or pathological: random bytes, wrong
and lying encodings, truncated gzip, decompression bombs, JSON that is not a record or nests too deeply,
WARC records with missing, garbled or lying headers (no target URI, wrong Content-Length, bad dates, no
HTTP status line, broken chunking), cut archives, pathological nesting and sizes, hostile dates; and a
``manifest.csv`` with garbled dates for some of them. ``tests/test_scheduled_runs.py`` feeds a few hundred
to one run, ``bench/bench_fuzz.py`` ten thousand.
"""
from __future__ import annotations

import gzip
import json
import random
from pathlib import Path
from typing import Callable, Iterator

_TAGS = ["div", "p", "span", "table", "td", "tr", "script", "style", "a", "form", "iframe", "svg", "math",
         "!--", "![CDATA[", "h1", "time", "meta", "template", "select", "option", "noscript"]
_BAD_DATES = ["9999-99-99", "0000-00-00", "2024-02-30", "now", "yesterday", "-1", "1e309", "", "2024-13-01T25:61",
              "\u0000", "１９９９-０１-０１", "2024-01-01T00:00:00+99:00", "99999999999999999999", "2038-01-19T03:14:08Z"]
_BOMB = gzip.compress(b"\x00" * 11_000_000, compresslevel=9)  # over the default byte cap once inflated
_PAGE = ("<html><head><title>T</title>{head}</head><body><h1>{title}</h1><p>{text}</p>"
         "<p>The harbour authority said the old ferry terminal would close at the end of the year.</p></body></html>")


def hostile_inputs(seed: int, count: int) -> Iterator[tuple[str, bytes]]:
    """``count`` (file name, bytes) pairs, cycling through every kind below with random parameters."""
    rng = random.Random(seed)
    for i in range(count):
        kind = _KINDS[i % len(_KINDS)]
        name, data = kind(rng)
        yield f"{i:05d}-{kind.__name__.lstrip('_')}{name}", data


def write_hostile_corpus(folder: Path, seed: int, count: int) -> list[str]:
    """Write ``count`` hostile files and a manifest that lies about some of them; returns the file names."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed + 1)
    names, manifest = [], ["path,url,published_at,fetched_at"]
    for name, data in hostile_inputs(seed, count):
        (folder / name).write_bytes(data)
        names.append(name)
        if rng.random() < 0.2:
            url = rng.choice(["https://x.example/2024/02/30/a", "not a url", "", "javascript:alert(1)",
                              "https://x.example/" + "a" * 3000, "https://x.example/1999/01/01/b"])
            dates = [f'"{rng.choice(_BAD_DATES)}"' for _ in range(2)]
            manifest.append(f"{name},{url},{dates[0]},{dates[1]}")
    (folder / "manifest.csv").write_text("\n".join(manifest) + "\n", encoding="utf-8")
    return names


def expected_rows(name: str, data: bytes) -> int | None:
    """Rows the documents table holds for a plain JSONL file (one per non-blank line, at least one);
    None for other files, which have at least one row (a WARC one per page record)."""
    if not name.endswith(".jsonl"):
        return None
    return max(1, sum(1 for line in data.split(b"\n") if line.strip()))


# --- HTML ---------------------------------------------------------------------------------------------

def _random_bytes(rng: random.Random) -> tuple[str, bytes]:
    return rng.choice([".html", ".htm", ".txt"]), rng.randbytes(rng.randint(0, 4000))


def _tag_soup(rng: random.Random) -> tuple[str, bytes]:
    attributes = ["", " x", ' a="', "/"]
    html = "".join(f"<{rng.choice(_TAGS)}{rng.choice(attributes)}>" + rng.choice(["", "w ", "&#0;", "&"])
                   for _ in range(rng.randint(1, 3000)))
    return ".html", html.encode()


def _random_unicode(rng: random.Random) -> tuple[str, bytes]:
    text = "".join(chr(rng.randint(1, 0x2FFFF)) for _ in range(rng.randint(1, 800)))
    return ".html", f"<html><body><h1>x</h1><p>{text}</p>".encode("utf-8", "surrogatepass")


def _deep_nesting(rng: random.Random) -> tuple[str, bytes]:
    tag = rng.choice([b"div", b"span", b"table", b"b", b"li"])
    depth = rng.randint(1, 30000)
    return ".html", b"<html><body><h1>" + (b"<" + tag + b">") * depth + b"deep 12 March 2024" + (b"</" + tag + b">") * rng.randint(0, 10)


def _lying_charset(rng: random.Random) -> tuple[str, bytes]:
    declared = rng.choice(["nope", "utf-7", "latin-1", "shift_jis", "utf-16", "x-user-defined", "utf-32", '"><script>'])
    body = "<p>caf\xe9 cr\xe8me " * rng.randint(1, 100)
    encoding = rng.choice(["latin-1", "cp1251", "utf-16-le", "utf-8"])
    return ".html", (f'<meta charset="{declared}">' + body).encode(encoding, "replace")


def _huge_line(rng: random.Random) -> tuple[str, bytes]:
    size = rng.choice([10_000, 200_000, 1_000_000])
    filler = rng.choice(["a", "word ", "<b>", "&amp;", "\u00e9"])
    return ".html", (f"<html><body><h1>x</h1><p title='{'y' * 1000}'>" + filler * (size // len(filler))).encode()


def _hostile_dates(rng: random.Random) -> tuple[str, bytes]:
    bad = rng.choice(_BAD_DATES)
    heads = [f'<meta property="article:published_time" content="{bad}">',
             f'<script type="application/ld+json">{{"datePublished": "{bad}", "@graph": {"[" * 5000}</script>',
             f'<time pubdate datetime="{bad}">{bad}</time>',
             '<script type="application/ld+json">{"datePublished": 5}</script>']
    text = rng.choice([bad, "Posted on 31/31/2024", "March 0, 2024", "99 December 99999", "2024-02-29",
                       "1/1/1 " * 5000])
    return ".html", _PAGE.format(head=rng.choice(heads), title=bad, text=text).encode()


def _utf16(rng: random.Random) -> tuple[str, bytes]:
    text = _PAGE.format(head="", title="UTF-16", text="A sentence of text. " * rng.randint(0, 50))
    encoding = rng.choice(["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
    return rng.choice([".html", ".txt"]), text.encode(encoding)


# --- text ---------------------------------------------------------------------------------------------

def _broken_utf8(rng: random.Random) -> tuple[str, bytes]:
    return ".txt", bytes(rng.choice([0xC3, 0x28, 0xA0, 0xFF, 0xFE, 0x00, 0x41, 0x20, 0xE2, 0x82])
                         for _ in range(rng.randint(1, 500)))


def _empty_or_binary(rng: random.Random) -> tuple[str, bytes]:
    data = rng.choice([b"", b"   \n\t ", b"\x89PNG\r\n\x1a\n" + rng.randbytes(100), b"%PDF-1.4 x", b"\x7fELF",
                       b"PK\x03\x04" + rng.randbytes(50), b"\r" * 1000, b"\x00" * 10])
    return rng.choice([".txt", ".html", ".jsonl", ".warc"]), data


# --- gzip ---------------------------------------------------------------------------------------------

def _truncated_gzip(rng: random.Random) -> tuple[str, bytes]:
    whole = gzip.compress(b"<html><body>" + b"<p>word " * 2000)
    return rng.choice([".html.gz", ".txt.gz", ".jsonl.gz"]), whole[: rng.randint(0, len(whole) - 1)]


def _gzip_oddities(rng: random.Random) -> tuple[str, bytes]:
    inner = _PAGE.format(head="", title="gz", text="Gzip page.").encode()
    data = rng.choice([
        gzip.compress(gzip.compress(inner)),  # gzip inside gzip
        b"not gzip at all",
        _BOMB,
        gzip.compress(inner) + b"trailing garbage",
        gzip.compress(inner) + gzip.compress(inner),  # two members
    ])
    return rng.choice([".html.gz", ".txt.gz"]), data


# --- JSONL --------------------------------------------------------------------------------------------

def _jsonl(rng: random.Random) -> tuple[str, bytes]:
    lines = [
        b'{"url": "u", "text": "hello"}', b"{broken", b"[1,2]", b'{"html": 5}', b"", b"null", b'"a string"',
        b"[" * 100_000 + b"]" * 100_000, b'{"text": "\\ud800 lone surrogate"}', b'{"html": "<p>\\u0000</p>"}',
        json.dumps({"url": ["list"], "html": "<h1>x</h1><p>y</p>", "published_at": 20240101,
                    "fetched_at": {"a": 1}}).encode(),
        json.dumps({"url": "https://x.example/2023/05/06/p", "text": "Dated by address.",
                    "published_at": rng.choice(_BAD_DATES), "fetched_at": rng.choice(_BAD_DATES)}).encode(),
        b'\xef\xbb\xbf{"text": "BOM first"}', b'{"text": "caf\xe9 latin-1 bytes"}', b'{"text": "' + b"x" * 100_000 + b'"}',
        b'{"text": 1e999}', b'{"text": "a", "text": "duplicate keys"}', b"\r", b'{"html": "' + b"<div>" * 5000 + b'"}',
    ]
    separator = rng.choice([b"\n", b"\r\n"])
    return ".jsonl", separator.join(rng.choice(lines) for _ in range(rng.randint(0, 6)))


# --- WARC ---------------------------------------------------------------------------------------------

_HTTP_OK = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
            + _PAGE.format(head="", title="Warc page", text="Captured in 2024.").encode())


def _warc_record(headers: dict[str, str | None], block: bytes, length: str | None = None) -> bytes:
    fields = {"WARC-Type": "response", "WARC-Target-URI": "https://x.example/page",
              "WARC-Date": "2024-01-01T00:00:00Z", "WARC-Record-ID": "<urn:uuid:1>", **headers}
    fields["Content-Length"] = str(len(block)) if length is None else length
    head = "".join(f"{k}: {v}\r\n" for k, v in fields.items() if v is not None)
    return b"WARC/1.0\r\n" + head.encode("utf-8", "surrogateescape") + b"\r\n" + block + b"\r\n\r\n"


def _warc_missing_or_garbled_headers(rng: random.Random) -> tuple[str, bytes]:
    headers = rng.choice([
        {"WARC-Target-URI": None}, {"WARC-Target-URI": ""}, {"WARC-Target-URI": "<https://x.example/a b>"},
        {"WARC-Target-URI": "dns:x.example"}, {"WARC-Type": None}, {"WARC-Type": "metadata"},
        {"WARC-Date": rng.choice(_BAD_DATES)}, {"WARC-Date": None}, {"Content-Type": "application/http; msgtype=response"},
        {"X-Garbage": "\udcff\udcfe"}, {"WARC-Target-URI": "https://x.example/" + "%" * 5000},
    ])
    records = [_warc_record(headers, _HTTP_OK), _warc_record({}, _HTTP_OK)]
    return ".warc", b"".join(rng.sample(records, len(records)))


def _warc_lying_length(rng: random.Random) -> tuple[str, bytes]:
    length = rng.choice(["0", "-5", "abc", "", "99999999", str(len(_HTTP_OK) // 2), str(len(_HTTP_OK) + 40)])
    return ".warc", _warc_record({}, _HTTP_OK, length) + _warc_record({"WARC-Target-URI": "https://x.example/2"}, _HTTP_OK)


def _warc_payloads(rng: random.Random) -> tuple[str, bytes]:
    block = rng.choice([
        b"<html><body>no HTTP status line</body></html>",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nbroken chunks",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n\r\nnot gzip",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: br\r\n\r\n\x00\x01",
        b"HTTP/1.1 200 OK\r\n" + b"X-Long: " + b"h" * 70_000 + b"\r\n\r\n<p>long header</p>",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n",  # no end of headers
        b"HTTP/9 what\r\n\r\n<p>odd status</p>", b"HTTP/1.1 200 OK\r\n\r\n<p>no content type</p>",
        b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-16\r\n\r\n" + "<p>sixteen</p>".encode("utf-16"),
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + rng.randbytes(300),
    ])
    rec_type = rng.choice(["response", "resource", "revisit", "request"])
    return ".warc", _warc_record({"WARC-Type": rec_type}, block)


def _warc_cut(rng: random.Random) -> tuple[str, bytes]:
    whole = b"".join(_warc_record({"WARC-Target-URI": f"https://x.example/{n}"}, _HTTP_OK) for n in range(3))
    data = whole[: rng.randint(0, len(whole))]
    if rng.random() < 0.5:
        return ".warc", data
    members = b"".join(gzip.compress(_warc_record({"WARC-Target-URI": f"https://x.example/{n}"}, _HTTP_OK))
                       for n in range(3))
    return ".warc.gz", rng.choice([members[: rng.randint(0, len(members))], gzip.compress(whole), members])


def _warc_garbled_framing(rng: random.Random) -> tuple[str, bytes]:
    record = _warc_record({}, _HTTP_OK)
    data = rng.choice([
        record.replace(b"WARC/1.0", b"WARC/9.9", 1), record.replace(b"WARC/1.0\r\n", b"", 1),
        record.replace(b": ", b"", 2), b"\r\n\r\n\r\n" + record, record + rng.randbytes(200),
        record[:40] + b"\xff\xfe\x00" + record[40:], record.replace(b"\r\n", b"\n"),
    ])
    return rng.choice([".warc", ".arc"]), data


_KINDS: list[Callable[[random.Random], tuple[str, bytes]]] = [
    _random_bytes, _tag_soup, _random_unicode, _deep_nesting, _lying_charset, _huge_line, _hostile_dates, _utf16,
    _broken_utf8, _empty_or_binary, _truncated_gzip, _gzip_oddities, _jsonl, _warc_missing_or_garbled_headers,
    _warc_lying_length, _warc_payloads, _warc_cut, _warc_garbled_framing,
]
