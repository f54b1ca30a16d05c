"""Rare events: many double-zero studies must fit without divergences (issue 2).

The data are simulated here (seeded; names say "simulated"): 20 two-arm studies of 40-150
patients per arm, control risk 0.2%, true log OR ~ N(-0.5, 0.3^2). About 15 studies are
double-zero and every study has a zero cell.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayesmeta import load
from bayesmeta.workflows.analyze import analyze


def simulated_sparse(seed: int, k: int = 20, control_risk: float = 0.002) -> pd.DataFrame:
    """Binomial counts from the binomial-normal model with a rare event."""
    rng = np.random.default_rng(seed)
    n = rng.integers(40, 150, size=(k, 2))
    theta = rng.normal(-0.5, 0.3, size=k)
    base = np.log(control_risk / (1 - control_risk))
    p_t = 1 / (1 + np.exp(-(base + theta)))
    return pd.DataFrame(
        {
            "study": [f"simulated {i + 1}" for i in range(k)],
            "treatment_events": rng.binomial(n[:, 0], p_t),
            "treatment_total": n[:, 0],
            "control_events": rng.binomial(n[:, 1], control_risk),
            "control_total": n[:, 1],
        }
    )


@pytest.mark.sampling
@pytest.mark.parametrize("seed", [1, 2])
def test_many_double_zero_studies_converge_without_divergences(seed: int) -> None:
    data = load(simulated_sparse(seed))
    assert data.double_zero.sum() >= 10
    result = analyze(data, frequentist=("random_dl",))
    assert result.diagnostics.divergences == 0
    assert result.diagnostics.converged, result.diagnostics.problems
    # Double-zero studies carry almost no information on the OR: their shrunken effect is the
    # predictive distribution of a new study, up to Monte Carlo error.
    name = data.study[int(np.flatnonzero(data.double_zero)[0])]
    shrunk, new = result.posterior.theta[name], result.posterior.theta_new
    assert shrunk.median == pytest.approx(new.median, abs=0.15 * new.sd)
