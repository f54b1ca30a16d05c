"""The count arms' likelihoods with the study effect integrated out (adaptive Gauss-Hermite,
:mod:`bayesmeta.model.likelihoods.integrated`) against scipy's adaptive quadrature of the
same integral, and the integrated leave-one-out rows of the likelihoods."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, special, stats

from bayesmeta.model.likelihoods.integrated import BinomialArm, PoissonArm

EVENTS = np.array([0, 4, 505, 29, 12])
SIZE = np.array([10, 123, 88391, 7499, 12])  # the last: all events
OFFSET = np.array([[-2.0, -3.0, -5.1, -5.5, 1.0], [0.5, -1.0, -4.9, -5.0, 3.0]])
MEAN = np.array([[-0.7] * 5, [0.2, -1.5, 0.0, -0.3, 4.0]])
TAU = np.array([[0.5] * 5, [0.05, 2.0, 0.3, 0.01, 1.5]])


def _quad(pmf, mean: float, tau: float, mode: float) -> float:
    """log int pmf(theta) N(theta; mean, tau^2) dtheta by scipy quad on a range covering the
    normal and the likelihood's mode, split halfway between them."""
    f = lambda t: pmf(t) * stats.norm.pdf(t, mean, tau)  # noqa: E731
    lo, hi = min(mean - 12 * tau, mode - 3), max(mean + 12 * tau, mode + 3)
    mid = 0.5 * (mode + mean)
    parts = [integrate.quad(f, x, y, limit=500, epsabs=0, epsrel=1e-12)[0]
             for x, y in ((lo, mid), (mid, hi)) if y > x]  # fmt: skip
    return math.log(sum(parts))


@pytest.mark.parametrize("poisson", [False, True])
def test_log_integrated_equals_quadrature(poisson: bool) -> None:
    size = SIZE / 100.0 if poisson else SIZE
    arm = (PoissonArm if poisson else BinomialArm)(EVENTS, size, OFFSET)
    ours = arm.log_integrated(MEAN, TAU)
    for d in range(2):
        for i in range(len(EVENTS)):
            r, n, a = EVENTS[i], size[i], OFFSET[d, i]
            if poisson:
                pmf = lambda t, r=r, n=n, a=a: stats.poisson.pmf(r, n * np.exp(a + t))  # noqa: E731
                mode = math.log((r + 0.5) / n) - a
            else:
                pmf = lambda t, r=r, n=n, a=a: stats.binom.pmf(r, n, special.expit(a + t))  # noqa: E731
                mode = math.log((r + 0.5) / (n - r + 0.5)) - a
            expected = _quad(pmf, MEAN[d, i], TAU[d, i], mode)
            assert ours[d, i] == pytest.approx(expected, abs=1e-8), (d, i)


def test_common_effect_is_the_likelihood_at_the_mean() -> None:
    arm = BinomialArm(EVENTS, SIZE, OFFSET)
    expected = stats.binom.logpmf(EVENTS, SIZE, special.expit(OFFSET + MEAN))
    assert arm.log_integrated(MEAN, np.zeros_like(TAU)) == pytest.approx(expected, abs=1e-12)


def test_predictive_replicates_have_the_integrated_probabilities() -> None:
    """Replicated events from the integrated predictive: P(r^rep = r) equals
    exp(log_integrated) within 4.5 Monte Carlo SEs."""
    rng = np.random.default_rng(8)
    n = 40_000
    mean, tau = np.full((n, 2), -0.4), np.full((n, 2), 0.8)
    arm = BinomialArm(np.array([3, 7]), np.array([20, 15]), np.full((n, 2), -1.0))
    rep = arm.predictive(mean, tau, rng)
    p = np.exp(BinomialArm(arm.events, arm.size, -1.0).log_integrated(mean[0], tau[0]))
    freq = (rep == arm.events).mean(axis=0)
    assert np.all(np.abs(freq - p) < 4.5 * np.sqrt(p * (1 - p) / n))
