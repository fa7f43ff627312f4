"""Where the shared read-only benchmark data lies: ``shared/bench`` beside the checkout or one of its parents
(a worktree sits deeper than the main checkout)."""
from __future__ import annotations

from pathlib import Path


def shared_bench() -> Path:
    """The nearest ``shared/bench`` folder above this file."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "shared" / "bench").is_dir():
            return parent / "shared" / "bench"
    raise SystemExit("no shared/bench folder above this checkout: pass the benchmark folder explicitly")
