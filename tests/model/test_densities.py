"""bayesmeta.model.densities gives scipy.stats' log densities and quantiles bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bayesmeta.model import densities
from bayesmeta.model.priors import FAMILIES, Prior

PRIORS = [
    Prior("normal", (0.3, 2.82)),
    Prior("normal", (-1e3, 1e-3)),
    Prior("half-normal", (0.5,)),
    Prior("half-normal", (1e-6,)),
    Prior("half-cauchy", (0.3,)),
    Prior("uniform", (0.0, 2.0)),
    Prior("uniform", (-5.0, 5.0)),
    Prior("exponential", (2.0,)),
]


def _points(seed: int) -> list:
    rng = np.random.default_rng(seed)
    grid = np.concatenate([rng.normal(scale=3, size=200), [0.0, -0.0, np.inf, -np.inf, np.nan]])
    return [grid, grid.reshape(5, 41), 0.7, -1.0, 0.0, np.float64(2.5), [0.1, 0.2]]


@pytest.mark.parametrize("prior", PRIORS, ids=str)
def test_logpdf_equals_scipy_bit_for_bit(prior: Prior) -> None:
    ours, theirs = FAMILIES[prior.family].numpy(prior.params), prior.scipy()
    for x in _points(len(str(prior))):
        with np.errstate(all="ignore"):
            got, want = ours.logpdf(x), theirs.logpdf(x)
        np.testing.assert_array_equal(got, want)
        assert np.shape(got) == np.shape(want)


@pytest.mark.parametrize("prior", PRIORS, ids=str)
def test_ppf_equals_scipy_bit_for_bit(prior: Prior) -> None:
    ours, theirs = FAMILIES[prior.family].numpy(prior.params), prior.scipy()
    rng = np.random.default_rng(3)
    for q in (rng.uniform(size=300), 0.5, [0.0, 1.0, 0.025, 0.975, -0.1, 1.5, np.nan]):
        with np.errstate(all="ignore"):
            np.testing.assert_array_equal(ours.ppf(q), theirs.ppf(q))


def test_families_without_a_numpy_form_use_scipy() -> None:
    assert FAMILIES["lognormal"].numpy is None
    assert FAMILIES["half-student-t"].numpy is None
    prior = Prior("lognormal", (-1.0, 0.5))
    x = np.array([0.1, 0.4, 2.0])
    np.testing.assert_array_equal(prior.logpdf(x), stats.lognorm(0.5, scale=np.exp(-1.0)).logpdf(x))


def test_the_standard_forms_are_scipys() -> None:
    for standard in (densities.NORM, densities.HALFNORM, densities.HALFCAUCHY, densities.EXPON,
                     densities.UNIFORM):  # fmt: skip
        dist = getattr(stats, standard.name)
        assert (standard.lower, standard.upper) == dist.support()


@pytest.mark.parametrize("params", [(1.0, 0.15), (0.5, 2.0), (7.5, 0.01)])
def test_inverse_gamma_matches_scipy(params) -> None:
    """Computed with scipy.special (not bit for bit with scipy.stats.invgamma: to 1e-12)."""
    prior = Prior("inverse-gamma", params)
    theirs = stats.invgamma(a=params[0], scale=params[1])
    x = np.array([1e-4, 0.01, 0.1, 0.15, 0.7, 3.0, 50.0])
    np.testing.assert_allclose(prior.logpdf(x), theirs.logpdf(x), rtol=1e-12, atol=1e-12)
    assert np.all(prior.logpdf(np.array([0.0, -1.0])) == -np.inf)
    q = np.array([1e-6, 0.025, 0.5, 0.975, 1 - 1e-6])
    np.testing.assert_allclose(prior.ppf(q), theirs.ppf(q), rtol=1e-10)
    ours = FAMILIES["inverse-gamma"].numpy(params)
    np.testing.assert_allclose(ours.cdf(x), theirs.cdf(x), rtol=1e-12, atol=1e-300)
