"""The typed configuration: configs/default.toml is the built-in default, and mistakes fail before any work."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.config import Config, ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cfg.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_config_file_loads_and_equals_the_built_in_defaults(repo_root):
    cfg = load_config(repo_root / "configs" / "default.toml")
    assert cfg == Config()
    assert load_config(None) == Config()
    assert cfg.run.input == [Path("seeds")] and cfg.run.output == Path("data")
    assert cfg.match.semantic is True
    assert cfg.run.workers == (os.cpu_count() or 1), "the default run uses every core"


def test_a_partial_file_keeps_defaults_for_the_rest(tmp_path):
    cfg = load_config(write(tmp_path, '[match]\nsemantic = false\nmin_words = 12\n[run]\noutput = "elsewhere"\n'))
    assert cfg.match.semantic is False and cfg.match.min_words == 12
    assert cfg.run.output == Path("elsewhere")
    assert cfg.classify == Config().classify


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[run]\nbogus = 1\n", "bogus"),
        ("[classify]\ncopy_ration = 0.7\n", "copy_ration"),
        ("[surprise]\nx = 1\n", "surprise"),
        ("top_level = true\n", "top_level"),
    ],
)
def test_unknown_keys_are_rejected_by_name(tmp_path, text, named):
    with pytest.raises(ConfigError, match=named):
        load_config(write(tmp_path, text))


@pytest.mark.parametrize(
    "text",
    [
        "[classify]\naligned_cosine = 0.9\n",                       # above paraphrase_cosine
        "[classify]\nparaphrase_cosine = 0.95\n",                   # above standalone_cosine
        "[classify]\nstandalone_cosine = 0.7\n",                    # below paraphrase_cosine
        "[match]\nalign_min_cosine = 0.7\n",                        # above classify.aligned_cosine
    ],
)
def test_thresholds_out_of_order_are_rejected(tmp_path, text):
    with pytest.raises(ConfigError):
        load_config(write(tmp_path, text))


@pytest.mark.parametrize(
    "text",
    [
        "[run]\nworkers = 0\n",
        "[match]\nmin_cosine = 1.5\n",
        "[classify]\ncopy_ratio = 0\n",
        "[match]\nnum_perm = \"many\"\n",
    ],
)
def test_values_out_of_range_or_of_the_wrong_type_are_rejected(tmp_path, text):
    with pytest.raises(ConfigError):
        load_config(write(tmp_path, text))


def test_missing_or_unreadable_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="TOML"):
        load_config(write(tmp_path, "[run\ninput = \n"))


def test_cli_style_overrides_replace_run_settings_only():
    cfg = Config().with_run(input=[Path("a"), Path("b")], output=Path("out"), workers=None)
    assert cfg.run.input == [Path("a"), Path("b")] and cfg.run.output == Path("out")
    assert cfg.run.workers == Config().run.workers
    assert cfg.match == Config().match


def test_the_machine_edit_model_is_the_fit_its_script_wrote(repo_root):
    """The configuration's machine-edit model and the held-out fits the rewrites eval scores with come from one
    run of tools/fit_machine_edit.py: a hand-edited value on either side would make the held-out figures
    describe another model."""
    import json

    fits = json.loads((repo_root / "tools" / "machine_edit_fits.json").read_text(encoding="utf-8"))
    cfg = load_config(repo_root / "configs" / "default.toml")
    assert fits["all"] == {name: getattr(cfg.classify, name) for name in fits["all"]}
    assert set(fits["without"]) == {"gpt-3.5-turbo", "llama-2-7b-chat", "text-davinci-002"}


def test_classify_settings_can_be_replaced_and_are_validated():
    cfg = Config().with_classify(machine_edit_intercept=-1.0)
    assert cfg.classify.machine_edit_intercept == -1.0 and cfg.match == Config().match
    with pytest.raises(ConfigError, match="no_such_setting"):
        Config().with_classify(no_such_setting=1)


def test_results_hash_ignores_placement_but_not_thresholds():
    base = Config()
    moved = base.with_run(output=Path("/somewhere/else"), workers=4)
    assert moved.results_hash() == base.results_hash()
    stricter = Config.model_validate({"classify": {"copy_ratio": 0.9}})
    assert stricter.results_hash() != base.results_hash()
