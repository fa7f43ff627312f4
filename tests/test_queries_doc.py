"""docs/queries.md runs: every Python block, executed in order against the seeds' output, prints exactly the
text block that follows it."""
from __future__ import annotations

import contextlib
import io
import os
import re
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "queries.md"
BLOCK = re.compile(r"```python\n(.*?)```\n\n```text\n(.*?)```", re.S)


def printed(doc: str, output: Path) -> list[tuple[str, str, str]]:
    """(code, documented output, printed output) for every block of ``doc``, run in a folder where ``data``
    is ``output``, all blocks in one namespace as a reader pasting them would."""
    results, namespace = [], {}
    workdir = output.parent / "queries-cwd"
    workdir.mkdir(exist_ok=True)
    if not (workdir / "data").exists():
        (workdir / "data").symlink_to(output.resolve(), target_is_directory=True)
    before = os.getcwd()
    os.chdir(workdir)
    try:
        for code, expected in BLOCK.findall(doc):
            stream = io.StringIO()
            with contextlib.redirect_stdout(stream):
                exec(compile(code, str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation's code
            results.append((code, expected, stream.getvalue()))
    finally:
        os.chdir(before)
    return results


def test_every_query_prints_what_the_doc_shows(out):
    results = printed(DOC.read_text(encoding="utf-8"), out)
    assert len(results) >= 6
    for code, expected, got in results:
        assert got == expected, f"docs/queries.md block prints something else:\n{code}\n--- got:\n{got}"


if __name__ == "__main__":  # python tests/test_queries_doc.py DIR: write the outputs of the run in DIR into the doc
    text = DOC.read_text(encoding="utf-8")
    for code, expected, got in printed(text, Path(sys.argv[1])):
        text = text.replace(f"```python\n{code}```\n\n```text\n{expected}```", f"```python\n{code}```\n\n```text\n{got}```", 1)
    DOC.write_text(text, encoding="utf-8")
