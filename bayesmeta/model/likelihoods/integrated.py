"""A count arm's likelihood with the study effect integrated out, for leave-one-out.

The events of the arm a study's effect enters are ``Bin(n, expit(offset + theta))`` or
``Poisson(t exp(offset + theta))``, ``offset`` the study's baseline of the draw (0 for single
proportions) and ``theta ~ N(m, tau^2)``. ``log int f(offset + theta) N(theta; m, tau^2)
dtheta`` is done by adaptive Gauss-Hermite quadrature (Liu & Pierce 1994, Biometrika 81:624):
Newton steps to the mode of the log integrand (concave: both log likelihoods are concave in
the linear predictor), its curvature as the scale, :data:`NODES` nodes; vectorised over draws
and studies. ``tau = 0`` (a common effect) is the likelihood at ``theta = m``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

NODES = 32
GH_X, GH_W = np.polynomial.hermite.hermgauss(NODES)
NEWTON = 40  # Newton steps to the mode (each at most STEP long)
STEP = 2.0


@dataclass(frozen=True)
class CountArm:
    """``events`` (per study) out of ``size`` (trials or person-time) at linear predictor
    ``offset + theta``; subclasses give the log pmf and its derivatives in the predictor
    (``r`` and ``n``: the events and sizes broadcast against ``eta``)."""

    events: np.ndarray
    size: np.ndarray
    offset: Any = 0.0

    def log_pmf(self, eta: np.ndarray, r: np.ndarray, n: np.ndarray) -> np.ndarray:
        """``log f(r | eta)`` with its normalising constant."""
        raise NotImplementedError

    def derivatives(
        self, eta: np.ndarray, r: np.ndarray, n: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """First and second derivatives of :meth:`log_pmf` in ``eta``."""
        raise NotImplementedError

    def sample(self, eta: np.ndarray, rng: Any) -> np.ndarray:
        """Replicated events at ``eta`` (draws x studies)."""
        raise NotImplementedError

    def log_integrated(self, mean: np.ndarray, tau: np.ndarray) -> np.ndarray:
        """``log int f(offset + theta) N(theta; mean, tau^2) dtheta`` (draws x studies)."""
        mean, tau = np.broadcast_arrays(np.asarray(mean, float), np.asarray(tau, float))
        offset = np.broadcast_to(np.asarray(self.offset, float), mean.shape)
        r, n = np.asarray(self.events, float), np.asarray(self.size, float)
        random = tau > 0
        scale = np.where(random, tau, 1.0)
        prec = 1.0 / scale**2
        x = mean.copy()
        for _ in range(NEWTON):
            d1, d2 = self.derivatives(offset + x, r, n)
            x = x + np.clip((d1 - (x - mean) * prec) / (prec - d2), -STEP, STEP)
        sd = 1.0 / np.sqrt(prec - self.derivatives(offset + x, r, n)[1])
        nodes = x[..., None] + np.sqrt(2.0) * sd[..., None] * GH_X
        log_g = (
            self.log_pmf(offset[..., None] + nodes, r[:, None], n[:, None])
            - 0.5 * ((nodes - mean[..., None]) / scale[..., None]) ** 2
            - np.log(scale * np.sqrt(2.0 * np.pi))[..., None]
        )
        log_w = np.log(GH_W) + GH_X**2 + np.log(np.sqrt(2.0) * sd)[..., None]
        out = special.logsumexp(log_g + log_w, axis=-1)
        return np.where(random, out, self.log_pmf(offset + mean, r, n))

    def predictive(self, mean: np.ndarray, tau: np.ndarray, rng: Any) -> np.ndarray:
        """Events replicated from the integrated predictive: a new ``theta ~ N(mean, tau^2)``,
        then the arm's events."""
        theta = mean + tau * rng.standard_normal(np.shape(mean))
        return self.sample(np.asarray(self.offset, float) + theta, rng)


class BinomialArm(CountArm):
    """``events ~ Bin(size, expit(eta))``."""

    def log_pmf(self, eta: np.ndarray, r: np.ndarray, n: np.ndarray) -> np.ndarray:
        log_choose = special.gammaln(n + 1) - special.gammaln(r + 1) - special.gammaln(n - r + 1)
        return log_choose + r * eta - n * np.logaddexp(0.0, eta)

    def derivatives(
        self, eta: np.ndarray, r: np.ndarray, n: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        p = special.expit(eta)
        return r - n * p, -n * p * (1.0 - p)

    def sample(self, eta: np.ndarray, rng: Any) -> np.ndarray:
        return rng.binomial(np.broadcast_to(np.asarray(self.size), eta.shape), special.expit(eta))


class PoissonArm(CountArm):
    """``events ~ Poisson(size exp(eta))`` (``size``: person-time)."""

    def log_pmf(self, eta: np.ndarray, r: np.ndarray, n: np.ndarray) -> np.ndarray:
        return r * (eta + np.log(n)) - n * np.exp(eta) - special.gammaln(r + 1)

    def derivatives(
        self, eta: np.ndarray, r: np.ndarray, n: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        mean = n * np.exp(eta)
        return r - mean, -mean

    def sample(self, eta: np.ndarray, rng: Any) -> np.ndarray:
        return rng.poisson(np.asarray(self.size, float) * np.exp(eta))
