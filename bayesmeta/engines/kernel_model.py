"""The kernels' view of a model description: parameter layout and the data array they read.

The hand-written kernels (:mod:`bayesmeta.engines._numba`) sample the binomial-normal and
proportion models without moderators. They read one float64 array, ``user_data``: a header
(number of studies; family code, transform and two parameters of the ``mu``, ``tau`` and
baseline priors; the summed log binomial coefficients), then the count arrays. A
:class:`KernelModel` lays a :class:`~bayesmeta.model.description.ModelSpec` out that way, with
the same unconstrained parameters as PyMC (``alpha``, ``mu``, ``tau_log__``, ``z``, ``z_new``)
and the same posterior variables. No numba and no nutpie here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from bayesmeta.model.description import OBSERVED_SUFFIX, ModelSpec
from bayesmeta.model.priors import Prior

# user_data header slots: k, then (family, transform, p0, p1) for mu, tau, baseline, then the
# log binomial coefficients summed over studies; the count arrays follow, each of length k.
H_K = 0
H_MU, H_TAU, H_BASE = 1, 5, 9
H_CONST = 13
HEADER = 14
# PyMC's default transform of each support to the real line, as the kernels number them.
TRANSFORMS = {"real": 0, "positive": 1, "interval": 2}


def supports(spec: ModelSpec) -> bool:
    """Whether the kernels implement ``spec``: a likelihood with a kernel code
    (:attr:`~bayesmeta.model.likelihoods.base.Likelihood.kernel`), without moderators, with
    random effects they implement (normal)."""
    return spec.family.kernel is not None and spec.moderators is None and spec.effects.kernels


def value_name(name: str, prior: Prior) -> str:
    """PyMC's name of the unconstrained value of ``name`` (``tau_log__`` for a positive prior)."""
    support = prior.spec.support
    if support == "positive":
        return f"{name}_log__"
    if support == "interval":
        return f"{name}_interval__"
    return name


def to_unconstrained(prior: Prior, x: float) -> float:
    """Map a value in the prior's support to the real line (PyMC's default transform)."""
    support = prior.spec.support
    if support == "positive":
        return math.log(x)
    if support == "interval":
        lo, hi = prior.params
        s = (x - lo) / (hi - lo)
        return math.log(s) - math.log1p(-s)
    return x


def _prior_code(prior: Prior) -> list[float]:
    """(family code, transform code, p0, p1) as the kernels read them; one-parameter
    families leave p1 = 0."""
    params = list(prior.params) + [0.0] * (2 - len(prior.params))
    return [float(prior.spec.code), float(TRANSFORMS[prior.spec.support]), *params]


def _log_binom(n: np.ndarray, y: np.ndarray) -> float:
    lg = np.vectorize(math.lgamma, otypes=[float])
    return float(np.sum(lg(n + 1) - lg(y + 1) - lg(n - y + 1)))


@dataclass(frozen=True)
class KernelModel:
    """A model description as the kernels sample it (see the module docstring)."""

    spec: ModelSpec

    def __post_init__(self) -> None:
        if not supports(self.spec):
            raise ValueError(f"the kernels do not implement this model: {self.spec}")

    @property
    def kernel_names(self) -> tuple[str, str]:
        """The log density and expand callbacks of :mod:`bayesmeta.engines._numba`."""
        kind = self.spec.family.kernel
        effect = "ce" if self.spec.common_effect else "re"
        return f"logp_{kind}_{effect}", f"expand_{kind}_{effect}"

    @property
    def study(self) -> list[str]:
        return list(self.spec.data.study)

    @property
    def k(self) -> int:
        return len(self.spec.data.study)

    def _priors(self) -> list[tuple[str, Prior]]:
        """The reported parameters with a prior, in PyMC's order of value variables."""
        p = self.spec.priors
        out = [("alpha", p.baseline)] if self.spec.baseline else []
        out.append(("mu", p.mu))
        if not self.spec.common_effect:
            out.append(("tau", p.tau))
        return out

    def value_names(self) -> list[str]:
        """Unconstrained parameters in PyMC's order (``model.value_vars``)."""
        names = [value_name(n, prior) for n, prior in self._priors()]
        return names + ([] if self.spec.common_effect else ["z", "z_new"])

    def value_sizes(self) -> list[int]:
        return [self.k if per_study(name) else 1 for name in self.value_names()]

    @property
    def n_dim(self) -> int:
        return sum(self.value_sizes())

    def expanded(self) -> tuple[list[str], list[tuple[int, ...]]]:
        """Names and shapes of what the expand function writes (value variables first, then
        the constrained parameters that were transformed, then ``theta_new`` and ``theta``)."""
        study: tuple[int, ...] = (self.k,)
        names = self.value_names()
        shapes = [study if per_study(n) else () for n in names]
        transformed = [n for n, prior in self._priors() if value_name(n, prior) != n]
        order = ["mu", "tau", "alpha"]  # the order the kernels write them in
        extra = [(n, study if n == "alpha" else ()) for n in order if n in transformed]
        extra += [("theta_new", ()), ("theta", study)]
        return names + [n for n, _ in extra], shapes + [s for _, s in extra]

    def reparameterized(self) -> list[str]:
        """Value variables that are not themselves reported (``tau_log__`` and the like)."""
        return [value_name(n, prior) for n, prior in self._priors() if value_name(n, prior) != n]

    def counts(self) -> list[np.ndarray]:
        """``[n_t, y_t, n_c, y_c]`` (two-arm) or ``[n, y]`` (single arm), as floats."""
        d = self.spec.data
        if self.spec.baseline:
            raw = [d.treatment_total, d.treatment_events, d.control_total, d.control_events]
        else:
            raw = [d.total, d.events]
        return [np.asarray(a, dtype=np.float64) for a in raw]

    def user_data(self) -> np.ndarray:
        """The float64 array the compiled callbacks read: header, then the counts."""
        p = self.spec.priors
        header = np.zeros(HEADER)
        header[H_K] = self.k
        header[H_MU : H_MU + 4] = _prior_code(p.mu)
        header[H_BASE : H_BASE + 4] = _prior_code(p.baseline)
        if not self.spec.common_effect:
            header[H_TAU : H_TAU + 4] = _prior_code(p.tau)
        arrays = self.counts()
        header[H_CONST] = sum(
            _log_binom(n, y) for n, y in zip(arrays[::2], arrays[1::2], strict=True)
        )
        return np.ascontiguousarray(np.concatenate([header, *arrays]), dtype=np.float64)

    def initial_point(self, seed: Any = None) -> np.ndarray:
        """PyMC's default start: support points, unconstrained, jittered by U(-1, 1)."""
        rng = np.random.default_rng(seed)
        priors = dict(self._priors())
        parts = []
        for name, size in zip(self.value_names(), self.value_sizes(), strict=True):
            prior = priors.get(name.split("_")[0] if name != "z_new" else name)
            centre = 0.0 if prior is None else to_unconstrained(prior, prior.support_point())
            parts.append(np.full(size, centre) + rng.uniform(-1.0, 1.0, size))
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.float64)

    def recorded_data(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """``constant_data`` and ``observed_data`` as PyMC records them for the model
        :func:`bayesmeta.engines.pymc.build` makes: every ``pm.Data`` container (integers as
        int32, PyMC's ``intX`` with float64 models), then the observed counts (int64)."""
        given, observed = self.spec.arrays()
        containers = {**given, **{k + OBSERVED_SUFFIX: v for k, v in observed.items()}}
        return (
            {k: np.asarray(v, dtype=np.int32) for k, v in containers.items()},
            {k: np.asarray(v, dtype=np.int64) for k, v in observed.items()},
        )


def per_study(value_name: str) -> bool:
    """Whether an unconstrained parameter has one value per study (``z``, ``alpha``)."""
    return value_name == "z" or value_name.startswith("alpha")
