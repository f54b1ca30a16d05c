"""The traces behind metafor's ``se.tau2`` beyond ``DENSE_MAX`` studies come from the low-rank
form of the projection; they equal the sums over the dense k x k matrix (the formulas of
``rma.uni``), with and without moderators."""

from __future__ import annotations

import numpy as np
import pytest

from bayesmeta.frequentist import pooled


@pytest.mark.parametrize("p", [1, 3])
def test_low_rank_traces_equal_the_dense_ones(p: int) -> None:
    rng = np.random.default_rng(p)
    k = 300
    v = rng.uniform(0.01, 1, k)
    x = np.column_stack([np.ones(k), *(rng.normal(size=k) for _ in range(p - 1))])
    d = rng.uniform(0.1, 2, k)
    dense = pooled._Projection(1 / v, x)
    low = pooled._Projection(1 / v, x)
    low.p = None  # the path taken above DENSE_MAX studies
    for trace in ("tr_pd", "tr_pdpd", "tr_dpp"):
        assert getattr(low, trace)(d) == pytest.approx(getattr(dense, trace)(d), rel=1e-12)
    p_mat = pooled.projection(v, x)[0]
    assert dense.tr_pdpd(np.ones(k)) == pytest.approx(np.sum(p_mat * p_mat), rel=1e-12)
