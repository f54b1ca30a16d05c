"""Summaries from draws: the per-study summaries computed for all studies at once equal those
computed study by study, bit for bit (the JSON numbers must not change)."""

from __future__ import annotations

import numpy as np
import pytest

from bayesmeta.summaries.draws import describe, describe_columns


@pytest.mark.parametrize(("n", "k"), [(8000, 13), (8001, 40), (7, 3), (8000, 1)])
@pytest.mark.parametrize("level", [0.95, 0.8])
def test_all_columns_at_once_equal_one_by_one(n: int, k: int, level: float) -> None:
    rng = np.random.default_rng(n + k)
    draws = rng.normal(size=(n, k)) * rng.uniform(0.01, 10, k) + rng.normal(0, 5, k)
    names = [f"study {i}" for i in range(k)]
    together = describe_columns(draws, names, level=level)
    assert list(together) == names
    for i, name in enumerate(names):
        assert together[name] == describe(draws[:, i], level=level)
