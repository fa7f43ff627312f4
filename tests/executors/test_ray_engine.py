"""``--engine ray`` gives the local engine's tables: the same labels, sources, spans and scores (issue 8).

Ray is started once for the module as a local cluster of two CPUs; each run then uses it as an existing
cluster would be used. Only ``run_id`` may differ between the two engines' tables.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import ray

from pipeline.config import Config, load_config
from pipeline.runner import run

REPO = Path(__file__).resolve().parents[2]
DEV_DOCS = REPO.parent / "shared" / "bench" / "provenance-dev" / "docs"
TABLES = {"documents": ["doc_id"], "provenance": ["doc_id", "para_index"], "removed": ["doc_id", "block_index"]}


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, configure_logging=False, log_to_driver=False)
    yield
    ray.shutdown()


def tables(output: Path) -> dict[str, pd.DataFrame]:
    """The handoff tables as pandas reads them, in key order, without the column naming the run."""
    return {name: pd.read_parquet(output / name).drop(columns="run_id").sort_values(key).reset_index(drop=True)
            for name, key in TABLES.items()}


def assert_same_tables(local: Path, distributed: Path) -> None:
    """Equal row for row; float scores within 1e-5."""
    for name, expected in tables(local).items():
        got = tables(distributed)[name]
        assert list(got.columns) == list(expected.columns) and len(got) == len(expected), name
        for column in expected.columns:
            if pd.api.types.is_float_dtype(expected[column]):
                np.testing.assert_allclose(got[column].to_numpy(float), expected[column].to_numpy(float),
                                           atol=1e-5, equal_nan=True, err_msg=f"{name}.{column}")
            else:
                assert got[column].astype(str).tolist() == expected[column].astype(str).tolist(), f"{name}.{column}"


def test_the_seeds_on_ray_equal_the_local_run(local_ray, out, tmp_path):
    """The default config (the published embedding model), through the CLI as a user runs it."""
    done = subprocess.run(
        [str(Path(sys.executable).parent / "provenance"), "run", "--config", str(REPO / "configs" / "default.toml"),
         "--input", str(REPO / "seeds"), "--output", str(tmp_path / "ray"), "--engine", "ray",
         "--ray-address", ray.get_runtime_context().gcs_address],
        capture_output=True, text=True, timeout=600, cwd=REPO, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert_same_tables(out, tmp_path / "ray")


def test_provenance_dev_on_ray_equals_the_local_run(local_ray, tmp_path):
    """168 labelled documents, semantic matching with the static embedder (the engine is what differs)."""
    base = load_config(REPO / "configs" / "default.toml").model_dump(mode="json")
    base["match"]["embedder"] = "static"

    def config(engine: str) -> Config:
        # A generous strip deadline: on a loaded machine a page must not be quarantined on one side only.
        return Config.model_validate({**base, "run": {"input": [str(DEV_DOCS)], "output": str(tmp_path / engine),
                                                      "engine": engine, "workers": 2, "doc_timeout": 300}})

    local, distributed = run(config("local")), run(config("ray"))
    assert local.statuses == distributed.statuses and "quarantined" not in local.statuses
    assert local.labels == distributed.labels and sum(local.labels.values()) > 1000
    assert_same_tables(tmp_path / "local", tmp_path / "ray")
