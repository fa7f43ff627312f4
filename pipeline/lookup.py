"""Finding values in a sorted array, the one lookup that the index, LSH and the pair tables share."""
from __future__ import annotations

import numpy as np


def find_sorted(ordered: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``values``, its position in the ascending ``ordered`` (clipped to the last position) and
    whether it is there: a binary search per value, where ``np.isin`` sorts both arrays together (a run's
    thousand new keys against a history of millions would sort the millions every time)."""
    if not len(ordered):
        return np.zeros(len(values), np.int64), np.zeros(len(values), bool)
    at = np.minimum(np.searchsorted(ordered, values), len(ordered) - 1)
    return at, ordered[at] == values
