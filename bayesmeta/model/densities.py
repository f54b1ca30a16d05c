"""Log densities and quantiles of the location-scale prior families, without scipy.stats.

Importing ``scipy.stats`` takes 0.4-0.5 s, most of what ``bayesmeta fit --model normal-normal``
cost besides its answer. The exact engine needs only the prior's log density and median, so
for the families below :class:`LocScale` computes ``logpdf`` and ``ppf`` with the numpy and
``scipy.special`` operations ``scipy.stats`` itself performs (``rv_continuous.logpdf``/``ppf``
and each distribution's ``_logpdf``/``_ppf``, scipy 1.14-1.18), in the same order and on arrays
of the same shapes, so the numbers are the same bit for bit
(``tests/model/test_densities.py`` checks every family against scipy). Other families (log-normal,
half-Student-t) use scipy.stats.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

_NORM_PDF_LOGC = np.log(np.sqrt(2 * np.pi))


@dataclass(frozen=True)
class Standard:
    """A standard form (loc 0, scale 1): its support and scipy's ``_logpdf`` and ``_ppf``."""

    name: str
    lower: float
    upper: float
    logpdf: Callable[[np.ndarray], np.ndarray]
    ppf: Callable[[np.ndarray], np.ndarray]


def _uniform_logpdf(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(1.0 * (x == x))


NORM = Standard("norm", -np.inf, np.inf, lambda x: -(x**2) / 2.0 - _NORM_PDF_LOGC, special.ndtri)
HALFNORM = Standard(
    "halfnorm",
    0.0,
    np.inf,
    lambda x: 0.5 * np.log(2.0 / np.pi) - x * x / 2.0,
    lambda q: special.ndtri((1 + q) / 2.0),
)
HALFCAUCHY = Standard(
    "halfcauchy",
    0.0,
    np.inf,
    lambda x: np.log(2.0 / np.pi) - special.log1p(x * x),
    lambda q: np.tan(np.pi / 2 * q),
)
EXPON = Standard("expon", 0.0, np.inf, lambda x: -x, lambda q: -special.log1p(-q))
UNIFORM = Standard("uniform", 0.0, 1.0, _uniform_logpdf, lambda q: q)


def _argsreduce(cond: np.ndarray, *args: Any) -> list[np.ndarray]:
    """scipy.stats' ``argsreduce``: the arguments where ``cond`` holds, as 1-d arrays."""
    newargs = np.atleast_1d(*args)
    if not isinstance(newargs, list | tuple):
        newargs = (newargs,)
    if np.all(cond):
        *newargs, cond = np.broadcast_arrays(*newargs, cond)
        return [arg.ravel() for arg in newargs]
    s = cond.shape
    return [
        (arg if np.size(arg) == 1 else np.extract(cond, np.broadcast_to(arg, s))) for arg in newargs
    ]


@dataclass(frozen=True)
class LocScale:
    """``loc + scale * X`` for ``X`` of the standard form ``standard``, as scipy freezes it."""

    standard: Standard
    loc: float = 0.0
    scale: float = 1.0

    def logpdf(self, x: Any) -> np.ndarray:
        """Log density at ``x`` (``-inf`` outside the support), as ``scipy.stats``."""
        x, loc, scale = map(np.asarray, (x, self.loc, self.scale))
        dtyp = np.promote_types(x.dtype, np.float64)
        x = np.asarray((x - loc) / scale, dtype=dtyp)
        cond0 = 1 & (scale > 0)
        with np.errstate(invalid="ignore"):
            cond1 = ((self.standard.lower <= x) & (x <= self.standard.upper)) & (scale > 0)
        cond = cond0 & cond1
        output = np.empty(np.shape(cond), dtyp)
        output.fill(-np.inf)
        np.putmask(output, (1 - cond0) + np.isnan(x), np.nan)
        if np.any(cond):
            goodargs = _argsreduce(cond, x, scale)
            scale, goodargs = goodargs[-1], goodargs[:-1]
            np.place(output, cond, self.standard.logpdf(*goodargs) - np.log(scale))
        if output.ndim == 0:
            return output[()]
        return output

    def ppf(self, q: Any) -> np.ndarray:
        """Quantile function at ``q``, as ``scipy.stats``."""
        q, loc, scale = map(np.asarray, (q, self.loc, self.scale))
        cond0 = 1 & (scale > 0) & (loc == loc)
        cond1 = (q > 0) & (q < 1)
        cond2 = cond0 & (q == 0)
        cond3 = cond0 & (q == 1)
        cond = cond0 & cond1
        output = np.full(np.shape(cond), fill_value=np.nan)
        lower_bound = self.standard.lower * scale + loc
        upper_bound = self.standard.upper * scale + loc
        np.place(output, cond2, _argsreduce(cond2, lower_bound)[0])
        np.place(output, cond3, _argsreduce(cond3, upper_bound)[0])
        if np.any(cond):
            goodargs = _argsreduce(cond, q, scale, loc)
            scale, loc, goodargs = goodargs[-2], goodargs[-1], goodargs[:-2]
            np.place(output, cond, self.standard.ppf(*goodargs) * scale + loc)
        if output.ndim == 0:
            return output[()]
        return output


@dataclass(frozen=True)
class InverseGamma:
    """``1 / X`` for ``X ~ Gamma(shape, rate = scale)``: density
    ``scale^shape / Gamma(shape) x^-(shape + 1) exp(-scale / x)`` on ``x > 0``, cdf
    ``Q(shape, scale / x)`` (regularised upper incomplete gamma), so the quantile is
    ``scale / Q^-1(shape, q)`` (scipy.stats.invgamma's numbers to rounding; tested)."""

    shape: float
    scale: float

    def logpdf(self, x: Any) -> np.ndarray:
        """Log density at ``x`` (``-inf`` at and below 0)."""
        x = np.asarray(x, dtype=float)
        a, b = self.shape, self.scale
        with np.errstate(divide="ignore", invalid="ignore"):
            inside = a * np.log(b) - special.gammaln(a) - (a + 1.0) * np.log(x) - b / x
        return np.where(x > 0, inside, np.where(np.isnan(x), np.nan, -np.inf))

    def cdf(self, x: Any) -> np.ndarray:
        """Cumulative distribution function at ``x``."""
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore"):
            return np.where(
                x > 0, special.gammaincc(self.shape, self.scale / np.maximum(x, 0)), 0.0
            )

    def ppf(self, q: Any) -> np.ndarray:
        """Quantile function at ``q``."""
        q = np.asarray(q, dtype=float)
        with np.errstate(divide="ignore"):
            return self.scale / special.gammainccinv(self.shape, q)
