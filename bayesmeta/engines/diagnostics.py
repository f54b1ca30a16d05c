"""Convergence diagnostics of MCMC draws: rank-normalised split R-hat, bulk and tail ESS.

Plain numpy (and ``scipy.special.ndtri``, already loaded by every fit), so a fit no longer
imports ``arviz_stats``, whose package import loads PSIS-LOO, ``xarray_einstats`` and
``scipy.stats`` (about 1-2 s). The algorithms are those of Vehtari, Gelman, Simpson, Carpenter
& Buerkner (2021), "Rank-normalization, folding, and localization: an improved R-hat for
assessing convergence of MCMC", Bayesian Analysis 16:667-718, computed step by step as
``arviz_stats`` 1.3 computes them (``arviz_stats/base/diagnostics.py``, ``base/core.py``), so
the numbers agree to rounding (``tests/engines/test_diagnostics.py``). Arrays have the layout
``(chain, draw, *shape)``; the result has ``shape``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.special import ndtri

TAIL_PROB = 0.89
"""Default ``prob`` of :func:`ess_tail`: ``arviz_stats.ess(method="tail")`` uses
``arviz_base.rcParams["stats.ci_prob"]`` (0.89), i.e. the 11 % and 89 % quantiles."""


def rhat(ary: np.ndarray) -> np.ndarray:
    """Rank-normalised split R-hat: the larger of the bulk and the folded (tail) R-hat.

    Each chain is split in two halves; the pooled draws are replaced by normal scores of their
    ranks (bulk) and of the ranks of their absolute deviations from the median (folded), and
    the classic potential scale reduction factor is computed on both (Vehtari et al. 2021,
    section 4.2). NaN where there are fewer than 2 chains or 4 draws or any NaN draw.

    Parameters
    ----------
    ary : array of shape ``(chain, draw, *shape)``
    """
    return _per_element(ary, _rhat_rank)


def ess_bulk(ary: np.ndarray) -> np.ndarray:
    """Bulk effective sample size: the ESS of the rank-normalised split chains.

    Vehtari et al. (2021), section 4.1 (autocorrelations by FFT, Geyer's initial monotone
    sequence). NaN where there are fewer than 4 draws or any NaN draw.

    Parameters
    ----------
    ary : array of shape ``(chain, draw, *shape)``
    """
    return _per_element(ary, _ess_bulk)


def ess_tail(ary: np.ndarray, *, prob: float = TAIL_PROB) -> np.ndarray:
    """Tail effective sample size: the smaller of the ESS of the indicators ``draw <= q`` for
    the quantiles ``q`` at ``min(prob, 1 - prob)`` and ``max(prob, 1 - prob)``.

    Vehtari et al. (2021), section 4.3, with ``arviz_stats``' default ``prob`` (see
    :data:`TAIL_PROB`). NaN where there are fewer than 4 draws or any NaN draw.

    Parameters
    ----------
    ary : array of shape ``(chain, draw, *shape)``
    prob : float in (0, 1)
    """
    if not 0 < prob < 1:
        raise ValueError(f"prob must be in (0, 1), got {prob}")
    low, high = sorted((prob, 1 - prob))
    return _per_element(ary, lambda x: min(_ess_quantile(x, low), _ess_quantile(x, high)))


def _per_element(ary: np.ndarray, fn: Callable[[np.ndarray], float]) -> np.ndarray:
    """Apply ``fn`` to the ``(chain, draw)`` array of each element of ``shape``."""
    ary = np.asarray(ary, dtype=float)
    if ary.ndim < 2:
        raise ValueError(f"expected an array of shape (chain, draw, ...), got shape {ary.shape}")
    shape = ary.shape[2:]
    flat = ary.reshape((*ary.shape[:2], -1))
    out = np.array([fn(flat[:, :, i]) for i in range(flat.shape[2])], dtype=float)
    return out.reshape(shape)


def _invalid(ary: np.ndarray, min_chains: int) -> bool:
    """Any NaN, or fewer than ``min_chains`` chains or 4 draws (arviz_stats ``not_valid``)."""
    return bool(np.isnan(ary).any()) or ary.shape[0] < min_chains or ary.shape[1] < 4


def _split_chains(ary: np.ndarray) -> np.ndarray:
    """The first and the last half of every chain as separate chains (a middle draw of an
    odd-length chain is dropped)."""
    half = ary.shape[1] // 2
    return np.vstack((ary[:, :half], ary[:, -half:]))


def _rank_average(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n of the flattened ``x``, ties given their average rank."""
    flat = x.ravel()
    order = np.argsort(flat, kind="stable")
    ordered = flat[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    ends = np.append(starts[1:], flat.size)  # one past the last position of each tie group
    group_rank = 0.5 * (starts + 1 + ends)  # mean of the ranks starts+1 .. ends
    ranks = np.empty(flat.size)
    ranks[order] = np.repeat(group_rank, ends - starts)
    return ranks


def _z_scale(ary: np.ndarray) -> np.ndarray:
    """Normal scores of the pooled ranks with Blom's offset 3/8 (Vehtari et al. 2021, eq. 14)."""
    c = 3 / 8
    ranks = _rank_average(ary)
    return ndtri((ranks - c) / (ranks.size - 2 * c + 1)).reshape(ary.shape)


def _psrf(ary: np.ndarray) -> float:
    """Classic potential scale reduction factor of a ``(chain, draw)`` array (Gelman et al.,
    Bayesian Data Analysis, 3rd ed., eq. 11.4)."""
    n = ary.shape[1]
    between = n * np.var(np.mean(ary, axis=1), ddof=1)
    within = np.mean(np.var(ary, axis=1, ddof=1))
    return float(np.sqrt((between / within + n - 1) / n))


def _rhat_rank(ary: np.ndarray) -> float:
    if _invalid(ary, min_chains=2):
        return math.nan
    split = _split_chains(ary)
    bulk = _psrf(_z_scale(split))
    tail = _psrf(_z_scale(abs(split - np.median(split))))
    return max(bulk, tail)


def _ess_bulk(ary: np.ndarray) -> float:
    if _invalid(ary, min_chains=1):
        return math.nan
    return _ess(_z_scale(_split_chains(ary)))


def _ess_quantile(ary: np.ndarray, prob: float) -> float:
    if _invalid(ary, min_chains=1):
        return math.nan
    below = ary <= np.quantile(ary, prob)
    return _ess(_split_chains(below).astype(float))


def _next_fast_len(target: int) -> int:
    """Smallest 5-smooth integer >= ``target`` (``scipy.fftpack.next_fast_len``)."""
    n = max(target, 1)
    while True:
        m = n
        for p in (2, 3, 5):
            while m % p == 0:
                m //= p
        if m == 1:
            return n
        n += 1


def _autocov(ary: np.ndarray) -> np.ndarray:
    """Autocovariance of every row at lags 0..n-1 (biased, divided by n), by FFT."""
    n = ary.shape[1]
    m = _next_fast_len(2 * n)
    centred = ary - ary.mean(axis=1, keepdims=True)
    spectrum = np.fft.rfft(centred, n=m, axis=1)
    spectrum *= np.conjugate(spectrum)
    return np.fft.irfft(spectrum, n=m, axis=1)[:, :n] / n


def _ess(ary: np.ndarray) -> float:
    """ESS of a ``(chain, draw)`` array: Geyer's initial positive then initial monotone
    sequence of the combined autocorrelations (Vehtari et al. 2021, eqs. 10-13)."""
    if np.max(ary) - np.min(ary) < np.finfo(float).resolution:
        return float(ary.size)
    n_chain, n_draw = ary.shape
    acov = _autocov(ary)
    mean_var = np.mean(acov[:, 0]) * n_draw / (n_draw - 1.0)
    var_plus = mean_var * (n_draw - 1.0) / n_draw
    if n_chain > 1:
        var_plus += np.var(ary.mean(axis=1), ddof=1)

    rho = np.zeros(n_draw)
    rho_even = 1.0
    rho[0] = rho_even
    rho_odd = 1.0 - (mean_var - np.mean(acov[:, 1])) / var_plus
    rho[1] = rho_odd
    t = 1  # initial positive sequence: stop at the first negative pair sum
    while t < n_draw - 3 and rho_even + rho_odd > 0.0:
        rho_even = 1.0 - (mean_var - np.mean(acov[:, t + 1])) / var_plus
        rho_odd = 1.0 - (mean_var - np.mean(acov[:, t + 2])) / var_plus
        if rho_even + rho_odd >= 0:
            rho[t + 1] = rho_even
            rho[t + 2] = rho_odd
        t += 2
    max_t = t - 2
    if rho_even > 0:
        rho[max_t + 1] = rho_even
    t = 1  # initial monotone sequence: pair sums may not increase
    while t <= max_t - 2:
        if rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t]:
            rho[t + 1] = (rho[t - 1] + rho[t]) / 2.0
            rho[t + 2] = rho[t + 1]
        t += 2
    size = n_chain * n_draw
    tau = -1.0 + 2.0 * np.sum(rho[: max_t + 1]) + np.sum(rho[max_t + 1 : max_t + 2])
    tau = max(tau, 1 / np.log10(size))
    if np.isnan(rho).any():
        return math.nan
    return float(size / tau)
