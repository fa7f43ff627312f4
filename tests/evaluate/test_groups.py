"""Leave-one-group-out helpers: grouping, pooling, calibration error."""
from __future__ import annotations

import numpy as np

from pipeline.evaluate.groups import MIN_GROUP, _pooled, expected_calibration_error, fit_platt, page_template


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


def test_platt_fit_follows_the_margin():
    margin = np.linspace(-4, 4, 400)
    right = (np.random.default_rng(0).random(400) < 1 / (1 + np.exp(-2 * margin))).astype(float)
    slope, intercept = fit_platt(margin, right)
    assert 1.3 < slope < 3.0 and abs(intercept) < 0.5
