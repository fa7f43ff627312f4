"""Build the provenance stress sets (issue 9) from the real text of provenance-dev, deterministically.

Usage: python tools/build_stress_sets.py [--bench ../shared/bench/provenance-dev] [--out tests/data/stress] [--seed 9]

Each set is a small labelled corpus in provenance-dev's format (``docs/*.txt`` with ``manifest.csv``,
``labels.jsonl`` with ``path, para_index, text, label, source_path, source_para_index, doc_type,
edit_ops``), so ``provenance eval provenance`` scores it as it scores provenance-dev. Documents whose
``doc_type`` starts with ``source_`` are the originals a set derives from; the others are the ones the set
is about (``pipeline/evaluate/stress.py`` says what each set's figure is).

- ``restructured``: provenance-dev's gpt-3.5-turbo rewrites of one Reuters article, merged (2-3 into one),
  split at a sentence boundary, condensed (a sentence dropped) and reordered at document level; dated
  after their sources.
- ``human-edits``: copies of paragraphs of the first 12 Reuters articles with 1 to 8 human-style edits (a
  spelling fix, a changed number or name, an added or removed sentence, a word swapped for a synonym or two
  words transposed, a credit to the outlet); dated after their sources. ``tools/fit_machine_edit.py``
  trains on copies edited the same way from the other Reuters articles, never these.
- ``human-paraphrases``: provenance-dev's independent human paraphrases (MSRP) regrouped to follow their
  source briefs in order, and its same-topic Reuters articles as they are; all ``original``.
- ``roundups-chains``: roundups taking one or two paragraphs (copied, edited or rewritten) from each of
  three sources, and three-step chains (source, rewrite or copy, copy, copy of the copy); undated.

The human-style edits are rule-based, as provenance-dev's own copy edits are.
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import re
import shutil
from collections import defaultdict
from pathlib import Path

SOURCE_DATE = "2020-01-01T00:00:00Z"
DERIVED_DATE = "2021-01-01T00:00:00Z"
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"”']))\s+(?=[\"“A-Z0-9])")
_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)?\b")
_NAME = re.compile(r"(?<=[a-z,] )[A-Z][a-z]{3,}\b")
_SYNONYMS = {"said": "stated", "big": "large", "rose": "climbed", "fell": "dropped", "bought": "acquired",
             "shares": "stock", "company": "firm", "also": "further", "about": "around", "many": "numerous",
             "plans": "intends", "help": "assist", "before": "prior to", "start": "begin", "show": "indicate",
             "expected": "anticipated", "major": "leading", "talks": "negotiations", "added": "noted"}
_TRANSPOSABLE = re.compile(r"\b(also|now|still|only|already|just|then|again|further)\s+([a-z]+)\b")


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


class Corpus:
    """One stress set being written: documents, manifest rows and gold labels."""

    def __init__(self, folder: Path):
        self.folder = folder
        shutil.rmtree(folder, ignore_errors=True)
        (folder / "docs").mkdir(parents=True)
        self.manifest: list[tuple[str, str, str]] = []
        self.labels: list[dict] = []

    def add(self, name: str, doc_type: str, paragraphs: list[dict], date: str = "") -> str:
        """Write one document; each paragraph dict holds ``text``, ``label`` and, if derived, ``source``
        ((path, para_index)) and ``edit_ops``."""
        path = f"docs/{name}.txt"
        (self.folder / path).write_text("\n\n".join(p["text"] for p in paragraphs) + "\n", encoding="utf-8")
        self.manifest.append((f"{name}.txt", f"https://stress.example.org/{name}", date))
        for i, p in enumerate(paragraphs):
            source = p.get("source")
            self.labels.append({"path": path, "para_index": i, "text": p["text"], "label": p["label"],
                                "source_path": source[0] if source else None,
                                "source_para_index": source[1] if source else None,
                                "doc_type": doc_type, "edit_ops": p.get("edit_ops", [])})
        return path

    def close(self) -> None:
        with open(self.folder / "docs" / "manifest.csv", "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([("path", "url", "published_at"), *self.manifest])
        (self.folder / "labels.jsonl").write_text(
            "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in self.labels), encoding="utf-8")


class Bench:
    """provenance-dev's labelled paragraphs, by document."""

    def __init__(self, bench: Path):
        rows = [json.loads(x) for x in (bench / "labels.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
        self.docs: dict[str, list[dict]] = defaultdict(list)
        for row in rows:
            self.docs[row["path"]].append(row)
        for paras in self.docs.values():
            paras.sort(key=lambda r: r["para_index"])

    def of_type(self, doc_type: str) -> list[str]:
        return sorted(p for p, rows in self.docs.items() if rows[0]["doc_type"] == doc_type)

    def text(self, path: str) -> list[str]:
        return [r["text"] for r in self.docs[path]]


def add_sources(corpus: Corpus, bench: Bench, paths, date: str = "") -> dict[str, str]:
    """Copy provenance-dev source documents into the set; returns their new paths by old path."""
    out = {}
    for path in sorted(set(paths)):
        name = "src-" + Path(path).stem
        out[path] = corpus.add(name, bench.docs[path][0]["doc_type"],
                               [{"text": t, "label": "original"} for t in bench.text(path)], date)
    return out


def restructured(corpus: Corpus, bench: Bench, rng: random.Random) -> None:
    """Whole-document rewrites merged, split, condensed and reordered."""
    docs = [p for p in bench.of_type("ai_rewrite")
            if sum(r["label"] == "ai_paraphrased" for r in bench.docs[p]) >= 3]
    renamed = add_sources(corpus, bench, {r["source_path"] for p in docs for r in bench.docs[p] if r["source_path"]},
                          SOURCE_DATE)
    for n, path in enumerate(docs):
        rewrites = [{"text": r["text"], "label": "ai_paraphrased", "edit_ops": [],
                     "source": (renamed[r["source_path"]], r["source_para_index"])}
                    for r in bench.docs[path] if r["label"] == "ai_paraphrased"]
        paragraphs = _restructure(rewrites, rng)
        if rng.random() < 0.6:
            i, j = sorted(rng.sample(range(len(paragraphs)), 2))
            paragraphs[i], paragraphs[j] = paragraphs[j], paragraphs[i]
            for p in paragraphs:
                p["edit_ops"] = p["edit_ops"] + ["reordered"]
        corpus.add(f"restructured-{n:02d}", "restructured", paragraphs, DERIVED_DATE)


def _restructure(rewrites: list[dict], rng: random.Random) -> list[dict]:
    """Each rewrite merged with the next one or two, split in two, condensed or kept; at least one change."""
    out, i = [], 0
    while i < len(rewrites):
        move = rng.choice(["merged", "split", "condensed", "kept"])
        current = rewrites[i]
        if move == "merged" and i + 1 < len(rewrites):
            group = rewrites[i:i + rng.choice([2, 3])]
            main = max(group, key=lambda p: len(p["text"]))
            out.append({**main, "text": " ".join(p["text"] for p in group), "edit_ops": ["merged"]})
            i += len(group)
            continue
        parts = sentences(current["text"])
        if move == "split" and len(parts) >= 2:
            cut = len(parts) // 2
            out += [{**current, "text": " ".join(parts[:cut]), "edit_ops": ["split"]},
                    {**current, "text": " ".join(parts[cut:]), "edit_ops": ["split"]}]
        elif move == "condensed" and len(parts) >= 2:
            drop = rng.randrange(len(parts))
            out.append({**current, "text": " ".join(s for k, s in enumerate(parts) if k != drop), "edit_ops": ["condensed"]})
        else:
            out.append(dict(current))
        i += 1
    if all(not p["edit_ops"] for p in out):
        first = min(range(len(out) - 1), key=lambda k: len(out[k]["text"]))
        out[first:first + 2] = [{**out[first + 1], "text": out[first]["text"] + " " + out[first + 1]["text"],
                                 "edit_ops": ["merged"]}]
    return out


def human_edit(text: str, count: int, spare: list[str], names: list[str], rng: random.Random) -> tuple[str, list[str]]:
    """``text`` with ``count`` human-style edits; ``spare`` gives sentences to add, ``names`` names to put in.

    A copy stays the source's paragraph: at most one sentence added (shorter than the paragraph) and one of
    the source's own sentences removed (when it has two or more), the other edits local.
    """
    ops: list[str] = []
    original = set(sentences(text))
    for _ in range(count):
        kinds = [k for k in _EDITS if k not in ops or k not in _ONCE]
        for kind in rng.sample(kinds, len(kinds)):
            edited = _EDITS[kind](text, spare, names, rng, original)
            if edited is not None and edited != text:
                text = edited
                ops.append(kind)
                break
    return text, ops


def _spelling(text, spare, names, rng, original):
    """A one-letter slip (two letters transposed) in a long word: the shape of a typo or its fix."""
    found = [m for m in re.finditer(r"\b[a-z]{6,}\b", text)]
    if not found:
        return None
    m = rng.choice(found)
    word, k = m.group(), rng.randrange(1, len(m.group()) - 2)
    return text[:m.start()] + word[:k] + word[k + 1] + word[k] + word[k + 2:] + text[m.end():]


def _number(text, spare, names, rng, original):
    found = list(_NUMBER.finditer(text))
    if not found:
        return None
    m = rng.choice(found)
    value = m.group().replace(",", "")
    new = str(int(float(value)) + rng.randint(1, 9)) if "." not in value else f"{float(value) + rng.randint(1, 9) / 10:.2f}"
    return text[:m.start()] + new + text[m.end():]


def _name(text, spare, names, rng, original):
    found = list(_NAME.finditer(text))
    if not found:
        return None
    m = rng.choice(found)
    return text[:m.start()] + rng.choice(names) + text[m.end():]


def _add_sentence(text, spare, names, rng, original):
    short = [k for k, s in enumerate(spare) if len(s.split()) < len(text.split())]
    if not short:
        return None
    parts = sentences(text)
    parts.insert(rng.randrange(len(parts) + 1), spare.pop(short[-1]))
    return " ".join(parts)


def _remove_sentence(text, spare, names, rng, original):
    parts = sentences(text)
    own = [k for k, s in enumerate(parts) if s in original]
    if len(own) < 2:
        return None
    del parts[rng.choice(own)]
    return " ".join(parts)


def _swap_words(text, spare, names, rng, original):
    """A word replaced by a synonym, or an adverb moved past the next word."""
    found = [m for m in re.finditer(r"\b[a-z]+\b", text) if m.group() in _SYNONYMS]
    if found and rng.random() < 0.5:
        m = rng.choice(found)
        return text[:m.start()] + _SYNONYMS[m.group()] + text[m.end():]
    moves = list(_TRANSPOSABLE.finditer(text))
    if not moves:
        return None
    m = rng.choice(moves)
    return text[:m.start()] + f"{m.group(2)} {m.group(1)}" + text[m.end():]


_ONCE = ("add_sentence", "remove_sentence", "attribution")
def _attribution(text, spare, names, rng, original):
    """Credit to the outlet taken from, named, as provenance-dev's copiers add it."""
    outlet = rng.choice(["Reuters", "the BBC", "Harbor Ledger"])
    return text.rstrip(".") + f", {rng.choice(['according to', 'via'])} {outlet}."


_EDITS = {"spelling": _spelling, "number": _number, "name": _name, "add_sentence": _add_sentence,
          "remove_sentence": _remove_sentence, "swap_words": _swap_words, "attribution": _attribution}


def spare_sentences(bench: Bench, doc_type: str) -> list[str]:
    """Sentences of provenance-dev documents of ``doc_type`` (not otherwise used by the set), to add as a
    human's own line."""
    return [s for p in bench.of_type(doc_type) for t in bench.text(p) for s in sentences(t) if len(s.split()) >= 8]


HELD_OUT_SOURCES = 12
"""The human-edits set copies the first this many Reuters articles; the machine-edit fit uses the others."""


def names_in(bench: Bench, paths: list[str]) -> list[str]:
    """Capitalized words inside sentences of these documents: names to put in place of others."""
    return sorted({m.group() for p in paths for t in bench.text(p) for m in _NAME.finditer(t)})


def human_edits(corpus: Corpus, bench: Bench, rng: random.Random) -> None:
    """Copies of 3-4 paragraphs of one Reuters article, each with 1 to 8 edits (cycling)."""
    sources = bench.of_type("source_article")[:HELD_OUT_SOURCES]
    renamed = add_sources(corpus, bench, sources, SOURCE_DATE)
    spare = spare_sentences(bench, "hardneg_same_topic")
    rng.shuffle(spare)
    names = names_in(bench, sources)
    count = 0
    for n in range(24):
        path = sources[n % len(sources)]
        texts = bench.text(path)
        picked = sorted(rng.sample(range(len(texts)), min(len(texts), rng.choice([3, 4]))))
        paragraphs = []
        for index in picked:
            count = count % 8 + 1
            text, ops = human_edit(texts[index], count, spare, names, rng)
            paragraphs.append({"text": text, "label": "copied", "source": (renamed[path], index), "edit_ops": ops})
        corpus.add(f"copy-{n:02d}", "human_edits", paragraphs, DERIVED_DATE)


def human_paraphrases(corpus: Corpus, bench: Bench) -> None:
    """MSRP paraphrases regrouped in their source briefs' order, and same-topic articles as they are."""
    briefs = add_sources(corpus, bench, bench.of_type("source_mrpc_briefs"), SOURCE_DATE)
    by_source: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for path in bench.of_type("hardneg_human_paraphrase"):
        for row in bench.docs[path]:
            source, index = row["hard_negative_for"].split("#")
            by_source[source].append((int(index), row["text"]))
    for n, source in enumerate(sorted(by_source)):
        corpus.add(f"paraphrase-{n:02d}", "human_paraphrase_in_order",
                   [{"text": t, "label": "original"} for _, t in sorted(by_source[source])], DERIVED_DATE)
    same_topic = bench.of_type("hardneg_same_topic")
    add_sources(corpus, bench, [bench.docs[p][0]["hard_negative_for"] for p in same_topic], SOURCE_DATE)
    for n, path in enumerate(same_topic):
        corpus.add(f"same-topic-{n:02d}", "same_topic_report",
                   [{"text": t, "label": "original"} for t in bench.text(path)], DERIVED_DATE)


def roundups_and_chains(corpus: Corpus, bench: Bench, rng: random.Random) -> None:
    """Undated roundups of three sources and three-step chains (source -> rewrite or copy -> copy -> copy)."""
    rewrites: dict[tuple[str, int], list[str]] = defaultdict(list)
    for path in bench.of_type("ai_rewrite"):
        for r in bench.docs[path]:
            if r["label"] == "ai_paraphrased":
                rewrites[(r["source_path"], r["source_para_index"])].append(r["text"])
    rewritten = sorted({p for p, _ in rewrites})
    sources = sorted(set(rewritten[:6] + bench.of_type("source_article")[-8:]))
    renamed = add_sources(corpus, bench, sources)
    spare = spare_sentences(bench, "hardneg_same_topic")
    rng.shuffle(spare)
    names = names_in(bench, sources)

    def derived(path: str, index: int) -> dict:
        """One paragraph taken from a source: a rewrite when there is one (half the time), else a copy with
        0-2 edits."""
        root = (renamed[path], index)
        if rewrites.get((path, index)) and rng.random() < 0.5:
            return {"text": rng.choice(rewrites[(path, index)]), "label": "ai_paraphrased", "source": root}
        text, ops = human_edit(bench.text(path)[index], rng.randint(0, 2), spare, names, rng)
        return {"text": text, "label": "copied", "source": root, "edit_ops": ops}

    for n in range(12):
        paragraphs = []
        for path in rng.sample(sources, 3):
            picked = sorted(rng.sample(range(len(bench.text(path))), rng.choice([1, 2])))
            paragraphs += [derived(path, i) for i in picked]
        corpus.add(f"roundup-{n:02d}", "roundup", paragraphs)
    for n in range(12):
        path = rewritten[n % 6] if n % 2 == 0 else rng.choice(sources)
        texts = bench.text(path)
        step = [derived(path, i) for i in sorted(rng.sample(range(len(texts)), min(len(texts), 5)))]
        for depth in (1, 2, 3):
            corpus.add(f"chain-{n:02d}-{depth}", f"chain_step_{depth}", step)
            # The next step copies all but the last paragraph, with one edit each: same root, and to that root
            # a copy of a copy is copied, a copy of a rewrite still that rewrite (the label is relative to the root).
            step = [{"text": human_edit(p["text"], 1, spare, names, rng)[0], "source": p["source"],
                     "label": "ai_paraphrased" if p["label"] == "ai_paraphrased" else "copied"} for p in step[:-1]]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", type=Path, default=Path("../shared/bench/provenance-dev"))
    ap.add_argument("--out", type=Path, default=Path("tests/data/stress"))
    ap.add_argument("--seed", type=int, default=9)
    a = ap.parse_args()
    bench = Bench(a.bench)
    builders = {"restructured": lambda c, r: restructured(c, bench, r),
                "human-edits": lambda c, r: human_edits(c, bench, r),
                "human-paraphrases": lambda c, r: human_paraphrases(c, bench),
                "roundups-chains": lambda c, r: roundups_and_chains(c, bench, r)}
    for name, build in builders.items():
        corpus = Corpus(a.out / name)
        build(corpus, random.Random(f"{a.seed}-{name}"))
        corpus.close()
        print(f"{name}: {len(corpus.manifest)} documents, {len(corpus.labels)} labelled paragraphs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
