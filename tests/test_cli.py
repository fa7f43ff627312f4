"""The command line: help that names every option, --dry-run, exit codes, and a partial run's report."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import build_parser, main
from pipeline.config import Config, load_config

PROVENANCE = Path(sys.executable).parent / "provenance"
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"
GOOD_TEXT = (
    "The city council voted on Tuesday to expand the bus network into the eastern suburbs, ending a debate that "
    "has lasted for almost three years. The new routes will start running in the autumn, and officials expect them "
    "to carry several thousand passengers a day once the service is fully established.\n"
)
LATIN1_TEXT = "Le café du coin sert une crème brûlée qui donne à tout le monde une impression de déjà vu.\n"


def cli(*args: str) -> subprocess.CompletedProcess:
    """The installed console script, as a user runs it."""
    return subprocess.run([str(PROVENANCE), *args], capture_output=True, text=True, timeout=120)


def run_options() -> list[str]:
    parser = build_parser()
    run_parser = next(a for a in parser._subparsers._group_actions).choices["run"]  # noqa: SLF001
    return [s for action in run_parser._actions for s in action.option_strings if s.startswith("--")]  # noqa: SLF001


def help_text(capsys, *args: str) -> str:
    with pytest.raises(SystemExit) as exited:
        main([*args, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_console_script_help_names_the_command_and_exit_codes():
    done = cli("--help")
    assert done.returncode == 0
    for word in ("run", "report", "--version", "documents/", "provenance/", "removed/", "Exit status", "partial", "130",
                 "143"):
        assert word in done.stdout


def test_run_help_mentions_every_option(capsys):
    text = help_text(capsys, "run")
    options = run_options()
    for required in ("--config", "--input", "--output", "--from", "--workers", "--dry-run"):
        assert required in options
    for option in options:
        assert option in text, f"{option} missing from `provenance run --help`"
    for stage in ("ingest", "strip", "segment", "match", "classify", "write"):
        assert stage in text


def test_top_level_help_mentions_every_option(capsys):
    text = help_text(capsys)
    parser = build_parser()
    for action in parser._actions:  # noqa: SLF001
        for option in action.option_strings:
            assert option in text
    assert "run" in text


def test_version(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("provenance ")


def test_dry_run_prints_the_resolved_config_and_does_nothing(tmp_path, repo_root, capsys):
    output = tmp_path / "out"
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
    code = main(["run", "--config", str(repo_root / "configs" / "default.toml"),
                 "--input", str(tmp_path / "a"), str(tmp_path / "b"), "--output", str(output),
                 "--workers", "2", "--dry-run"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["run"]["input"] == [str(tmp_path / "a"), str(tmp_path / "b")]
    assert printed["run"]["output"] == str(output)
    assert printed["run"]["workers"] == 2
    expected = Config().model_dump(mode="json")
    for section in ("ingest", "strip", "segment", "match", "classify"):
        assert printed[section] == expected[section]
    assert Config.model_validate(printed).results_hash() == Config().results_hash()
    assert not output.exists(), "a dry run writes nothing"


def test_dry_run_without_overrides_prints_the_config_file(repo_root, tmp_path, monkeypatch, capsys):
    """The config's own relative paths (``seeds``, ``data``), read from a fresh folder: whatever a developer's
    ``data/`` holds must not decide the outcome."""
    default = repo_root / "configs" / "default.toml"
    (tmp_path / "seeds").symlink_to(repo_root / "seeds")
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--config", str(default), "--dry-run"]) == 0
    assert json.loads(capsys.readouterr().out) == load_config(default).model_dump(mode="json")


@pytest.mark.parametrize(
    "toml",
    ["[run]\nbogus = 1\n", "[classify]\naligned_cosine = 0.95\n", "not toml at all [[\n"],
    ids=["unknown-key", "threshold-order", "invalid-toml"],
)
def test_a_bad_config_exits_2_with_a_message(tmp_path, capsys, toml):
    path = tmp_path / "bad.toml"
    path.write_text(toml, encoding="utf-8")
    assert main(["run", "--config", str(path), "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "provenance:" in err and str(path) in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_missing_config_file_exits_2(tmp_path, capsys):
    assert main(["run", "--config", str(tmp_path / "nope.toml"), "--dry-run"]) == 2
    assert "not found" in capsys.readouterr().err


@pytest.mark.parametrize("workers", ["0", "-2"])
def test_a_bad_override_exits_2_like_a_bad_config(tmp_path, capsys, workers):
    """--workers is validated like [run] workers in a file (ge=1)."""
    assert main(["run", "--workers", workers, "--output", str(tmp_path / "out"), "--dry-run"]) == 2
    assert "workers" in capsys.readouterr().err


def test_a_missing_input_exits_2(tmp_path, fast_config, capsys):
    code = main(["run", "--config", str(fast_config), "--input", str(tmp_path / "nothing-here"),
                 "--output", str(tmp_path / "out")])
    assert code == 2
    assert "nothing-here" in capsys.readouterr().err


@pytest.fixture
def mixed_folder(tmp_path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "picture.html").write_bytes(PNG_BYTES)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "latin1.txt").write_bytes(LATIN1_TEXT.encode("latin-1"))
    (folder / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")
    return folder


def test_partial_run_exits_1_and_reports_every_document(mixed_folder, tmp_path, fast_config, capsys):
    output = tmp_path / "out"
    code = main(["run", "--config", str(fast_config), "--input", str(mixed_folder), "--output", str(output)])
    captured = capsys.readouterr()
    assert code == 1, captured.err
    assert "quarantined" in captured.out

    docs = pd.read_parquet(output / "documents").set_index("source_path")
    assert sorted(docs.index) == ["empty.txt", "good.txt", "latin1.txt", "picture.html"]
    assert docs.loc["picture.html", "status"] == "quarantined"
    assert "png" in docs.loc["picture.html", "error"].lower()
    assert docs.loc["empty.txt", "status"] == "quarantined"
    assert "empty" in docs.loc["empty.txt", "error"].lower()
    assert docs.loc["latin1.txt", "status"] == "ok"
    assert pd.isna(docs.loc["latin1.txt", "error"])
    assert docs.loc["latin1.txt", "encoding"] in docs.loc["latin1.txt", "warning"]
    assert docs.loc["good.txt", "status"] == "ok"
    assert pd.isna(docs.loc["good.txt", "error"])

    provenance = pd.read_parquet(output / "provenance")
    assert set(provenance["doc_id"]) == set(docs.loc[["good.txt", "latin1.txt"], "doc_id"])
    assert provenance.loc[provenance["doc_id"] == docs.loc["good.txt", "doc_id"], "text"].tolist() == [GOOD_TEXT.strip()]


def test_a_clean_run_exits_0(tmp_path, fast_config, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")
    code = main(["run", "--config", str(fast_config), "--input", str(folder), "--output", str(tmp_path / "out")])
    assert code == 0, capsys.readouterr().err
    assert pd.read_parquet(tmp_path / "out" / "documents")["status"].tolist() == ["ok"]


def test_schema_prints_every_column_with_its_description(capsys):
    from pipeline.cli import main
    from pipeline.schema import PROVENANCE

    assert main(["schema", "provenance"]) == 0
    out = capsys.readouterr().out
    for field in PROVENANCE:
        assert f"| `{field.name}` |" in out
    assert "Root source document" in out


def test_input_given_twice_reads_both_folders(tmp_path, fast_config):
    """``--input A --input B`` (as a scheduler's template adds folders) reads both, not only the last."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / f"{name}.txt").write_text(GOOD_TEXT.replace("city", f"{name} city"), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", "--config", str(fast_config), "--input", str(tmp_path / "a"), "--input", str(tmp_path / "b"),
                 "--output", str(out)]) == 0
    assert sorted(Path(p).name for p in pd.read_parquet(out / "documents")["source_path"]) == ["a.txt", "b.txt"]
