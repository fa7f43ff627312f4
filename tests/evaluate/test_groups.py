"""Leave-one-group-out helpers: grouping, pooling, calibration error."""
from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.evaluate.groups import (MIN_GROUP, _pooled, expected_calibration_error, fit_calibration, page_template,
                                      recalibrated)


def test_small_groups_are_pooled_within_their_dimension():
    members = {"big": {("a", i) for i in range(MIN_GROUP)}, "s1": {("b", 0)}, "s2": {("c", 0), ("c", 1)}}
    groups = _pooled("doc_type", members)
    assert [(g.name, len(g.paragraphs)) for g in groups] == [("big", MIN_GROUP), ("s1 + s2", 3)]
    assert groups[1].documents == {"b", "c"}


def test_page_templates(tmp_path):
    (tmp_path / "a.html").write_text('<div class="entry"><p>x</p></div>')
    (tmp_path / "b.html").write_text("<p>x</p>")
    (tmp_path / "c.txt").write_text("x")
    assert [page_template(tmp_path / n) for n in ("a.html", "b.html", "c.txt")] == [
        "html with class names", "bare html", "plain text"]


def test_calibration_error_is_zero_when_confidence_matches_the_share_right():
    confidence = np.array([0.75] * 4 + [0.25] * 4)
    right = np.array([1, 1, 1, 0, 1, 0, 0, 0], dtype=float)
    assert expected_calibration_error(confidence, right) == 0.0
    assert abs(expected_calibration_error(np.full(4, 0.9), np.zeros(4)) - 0.9) < 1e-12


def _rewrites(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Predicted rewrites that are right more often the closer they are in meaning; the wording says nothing,
    and the near-verbatim doubt, against expectation, goes with being right."""
    rng = np.random.default_rng(seed)
    cosine = rng.uniform(0.65, 1.0, n)
    right = rng.random(n) < 1 / (1 + np.exp(-20 * (cosine - 0.75)))
    doubt = np.where(right, rng.uniform(0.0, 1.0, n), 0.0)
    return pd.DataFrame({"label": "ai_paraphrased", "right": right, "cosine": cosine,
                         "lexical": rng.uniform(0.1, 0.9, n), "edit_doubt": doubt})


def test_the_calibration_follows_the_evidence_and_only_in_its_expected_direction():
    frame = _rewrites()
    model = fit_calibration(frame).ai_paraphrased
    assert model.cosine > 5
    assert model.edit_doubt == 0.0, "a doubtful edit never makes a rewrite likelier right: dropped, not fitted"
    confidence = recalibrated(frame, fit_calibration(frame))
    assert expected_calibration_error(confidence, frame["right"].to_numpy(float)) < 0.05
    held_out = _rewrites(seed=1)
    assert expected_calibration_error(recalibrated(held_out, fit_calibration(frame)), held_out["right"].to_numpy(float)) < 0.05


def test_a_label_never_predicted_keeps_the_even_odds_model():
    calibration = fit_calibration(_rewrites())
    assert calibration.copied.intercept == 0.0 and calibration.copied.cosine == 0.0
