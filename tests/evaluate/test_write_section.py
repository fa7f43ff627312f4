"""The figures files that `make bench` and `provenance eval --report` rewrite section by section."""
from pipeline.evaluate import GENERATED_END, write_section


def test_measuring_again_replaces_the_figures_and_keeps_the_notes_written_under_them(tmp_path):
    """A bench rewrites its own section with new figures; the analysis a person wrote under the generated
    part (what changed, why) stays, and the other sections are untouched."""
    doc = tmp_path / "benchmarks.md"
    write_section(doc, "## Speed\n\n| run | s |\n|---|---|\n| a | 10 |\n")
    write_section(doc, "## Memory\n\npeak 1 GB\n")
    text = doc.read_text()
    speed_end = text.index(GENERATED_END) + len(GENERATED_END)
    doc.write_text(text[:speed_end] + "\n\nContext: the run before took 20 s.\n" + text[speed_end:], encoding="utf-8")

    write_section(doc, "## Speed\n\n| run | s |\n|---|---|\n| b | 8 |\n")

    text = doc.read_text()
    assert "| b | 8 |" in text and "| a | 10 |" not in text
    assert "Context: the run before took 20 s." in text
    assert text.index("| b | 8 |") < text.index(GENERATED_END) < text.index("Context:") < text.index("## Memory")
    assert text.count("## Speed") == 1 and "peak 1 GB" in text


def test_a_section_without_the_marker_is_replaced_whole(tmp_path):
    """A section written before the marker existed has no notes to keep: it is replaced, the next kept."""
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Speed\n\nold figures\n\nold note\n\n## Memory\n\npeak\n", encoding="utf-8")
    write_section(doc, "## Speed\n\nnew figures\n")
    text = doc.read_text()
    assert "old" not in text and "new figures" in text and text.endswith("## Memory\n\npeak\n")
    assert text.startswith("# Benchmarks\n\n## Speed\n")
