"""Convergence diagnostics of MCMC draws: rank-normalised split R-hat, bulk and tail ESS.

Plain numpy (and ``scipy.special.ndtri``, already loaded by every fit), so a fit no longer
imports ``arviz_stats``, whose package import loads PSIS-LOO, ``xarray_einstats`` and
``scipy.stats`` (about 1-2 s). The algorithms are those of Vehtari, Gelman, Simpson, Carpenter
& Buerkner (2021), "Rank-normalization, folding, and localization: an improved R-hat for
assessing convergence of MCMC", Bayesian Analysis 16:667-718, computed step by step as
``arviz_stats`` 1.3 computes them (``arviz_stats/base/diagnostics.py``, ``base/core.py``), so
the numbers agree to rounding (``tests/engines/test_diagnostics.py``). Arrays have the layout
``(chain, draw, *shape)``; the result has ``shape``. Every scalar quantity is computed at once
(ranks per column, FFT autocovariances along the draws, Geyer's sequences as array
operations), in blocks of columns that bound the memory.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import numpy as np
from scipy.special import ndtri

TAIL_PROB = 0.89
"""Default ``prob`` of :func:`ess_tail`: ``arviz_stats.ess(method="tail")`` uses
``arviz_base.rcParams["stats.ci_prob"]`` (0.89), i.e. the 11 % and 89 % quantiles."""

BLOCK_SIZE = 2**17
"""Draws (values) processed together: columns are taken in blocks of about this many values
(1 MB of float64), so the work arrays of a block stay in the CPU cache and 10,000 quantities
need no gigabytes (blocks of 2**21 values took 35 % longer on 1,000 quantities)."""


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
    return _per_column(ary, _rhat_rank, min_chains=2)


def ess_bulk(ary: np.ndarray) -> np.ndarray:
    """Bulk effective sample size: the ESS of the rank-normalised split chains.

    Vehtari et al. (2021), section 4.1 (autocorrelations by FFT, Geyer's initial monotone
    sequence). NaN where there are fewer than 4 draws or any NaN draw.

    Parameters
    ----------
    ary : array of shape ``(chain, draw, *shape)``
    """
    return _per_column(ary, lambda x: _ess(_z_scale(_split_chains(x))), min_chains=1)


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
    return _per_column(ary, _tail_ess(prob), min_chains=1)


def _tail_ess(prob: float) -> Callable[[np.ndarray], np.ndarray]:
    """The tail ESS of each column of a block ``(n, chain, draw)`` (see :func:`ess_tail`)."""
    if not 0 < prob < 1:
        raise ValueError(f"prob must be in (0, 1), got {prob}")
    low, high = sorted((prob, 1 - prob))

    def tail(x: np.ndarray) -> np.ndarray:
        q_low, q_high = np.quantile(x.reshape(x.shape[0], -1), [low, high], axis=1)
        ess_low, ess_high = _ess_below(x, q_low), _ess_below(x, q_high)
        return np.where(ess_high < ess_low, ess_high, ess_low)  # Python's min(low, high)

    return tail


def rhat_ess(ary: np.ndarray, *, prob: float = TAIL_PROB) -> tuple[np.ndarray, ...]:
    """:func:`rhat`, :func:`ess_bulk` and :func:`ess_tail` of ``ary`` at once.

    The bulk R-hat and the bulk ESS both need the normal scores of the ranks of the split
    chains; computed once here, they cost a fifth less than the three functions called one
    after the other, with the same numbers.

    Parameters
    ----------
    ary : array of shape ``(chain, draw, *shape)``
    prob : float in (0, 1), as in :func:`ess_tail`

    Returns
    -------
    tuple of three arrays of shape ``shape``: R-hat, bulk ESS, tail ESS
    """
    tail = _tail_ess(prob)

    def all_three(x: np.ndarray) -> np.ndarray:
        split = _split_chains(x)
        scores = _z_scale(split)
        folded = _z_scale(abs(split - np.median(split, axis=(1, 2), keepdims=True)))
        bulk_rhat, tail_rhat = _psrf(scores), _psrf(folded)
        return np.stack(
            (np.where(tail_rhat > bulk_rhat, tail_rhat, bulk_rhat), _ess(scores), tail(x))
        )

    out = _per_column(ary, all_three, min_chains=1, n_out=3)
    ary = np.asarray(ary)
    if ary.shape[0] < 2:  # R-hat needs two chains; the ESS one
        out[0] = np.nan
    return out[0], out[1], out[2]


def _per_column(
    ary: np.ndarray, fn: Callable[[np.ndarray], np.ndarray], min_chains: int, n_out: int = 0
) -> np.ndarray:
    """Apply ``fn`` to blocks of columns ``(n, chain, draw)``, one column per element of
    ``shape``; NaN for columns with a NaN draw, and everywhere if there are fewer than
    ``min_chains`` chains or 4 draws (arviz_stats ``not_valid``). With ``n_out``, ``fn``
    returns ``n_out`` results per column (an array ``(n_out, n)``) and so does this function
    (``(n_out, *shape)``)."""
    ary = np.asarray(ary, dtype=float)
    if ary.ndim < 2:
        raise ValueError(f"expected an array of shape (chain, draw, ...), got shape {ary.shape}")
    n_chain, n_draw, shape = *ary.shape[:2], ary.shape[2:]
    columns = np.moveaxis(ary.reshape(n_chain, n_draw, math.prod(shape)), 2, 0)  # a view
    lead = (n_out,) if n_out else ()
    out = np.full((*lead, columns.shape[0]), np.nan)
    if n_chain < min_chains or n_draw < 4:
        return out.reshape((*lead, *shape))
    step = max(1, BLOCK_SIZE // (n_chain * n_draw))
    with np.errstate(divide="ignore", invalid="ignore"):  # 0/0 -> NaN as arviz_stats
        for start in range(0, columns.shape[0], step):
            block = np.ascontiguousarray(columns[start : start + step])  # copy one block only
            valid = ~np.isnan(block).any(axis=(1, 2))
            if valid.all():
                out[..., start : start + step] = fn(block)
            elif valid.any():
                out[..., start + np.flatnonzero(valid)] = fn(block[valid])
    return out.reshape((*lead, *shape))


def _ess_below(x: np.ndarray, quantile: np.ndarray) -> np.ndarray:
    """ESS of the split indicators ``draw <= quantile`` of each column."""
    return _ess(_split_chains(x <= quantile[:, None, None]).astype(float))


def _split_chains(x: np.ndarray) -> np.ndarray:
    """The first and the last half of every chain as separate chains (a middle draw of an
    odd-length chain is dropped); ``x`` is ``(n, chain, draw)``."""
    half = x.shape[2] // 2
    return np.concatenate((x[:, :, :half], x[:, :, -half:]), axis=1)


def _z_scale(x: np.ndarray) -> np.ndarray:
    """Normal scores of the ranks pooled over chains and draws, per column, with Blom's offset
    3/8 (Vehtari et al. 2021, eq. 14); tied draws share their average rank.

    An average rank is a multiple of 1/2, so the scores come from a table of the ``2N + 1``
    possible ones rather than from N quantile evaluations per column.
    """
    flat = x.reshape(x.shape[0], -1)
    order = np.argsort(flat, axis=1)  # the order within a tie group does not matter
    z = np.empty(flat.shape)
    scores = _scores(flat.shape[1])[_twice_average_rank(np.take_along_axis(flat, order, axis=1))]
    np.put_along_axis(z, order, scores, axis=1)
    return z.reshape(x.shape)


@lru_cache(maxsize=8)
def _scores(size: int) -> np.ndarray:
    """Normal scores of the ranks 0, 1/2, 1, ..., N of N draws (index: twice the rank)."""
    c = 3 / 8
    table = ndtri((0.5 * np.arange(2 * size + 1) - c) / (size - 2 * c + 1))
    table.flags.writeable = False
    return table


def _twice_average_rank(ordered: np.ndarray) -> np.ndarray:
    """Twice the average rank (ranks 1..N) of each value in the sorted rows ``ordered``: a tie
    group at positions ``s .. e - 1`` has ranks ``s + 1 .. e``, twice their mean ``s + 1 + e``."""
    size = ordered.shape[1]
    position = np.arange(size)
    first = np.ones(ordered.shape, dtype=bool)  # a tie group starts here
    first[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    if first.all():
        return np.broadcast_to(2 * position + 2, ordered.shape)
    last = np.ones(ordered.shape, dtype=bool)  # a tie group ends here
    last[:, :-1] = first[:, 1:]
    starts = np.maximum.accumulate(np.where(first, position, 0), axis=1)
    ends = np.minimum.accumulate(np.where(last, position + 1, size)[:, ::-1], axis=1)[:, ::-1]
    return starts + 1 + ends


def _psrf(x: np.ndarray) -> np.ndarray:
    """Classic potential scale reduction factor of each column ``(chain, draw)`` of ``x``
    (Gelman et al., Bayesian Data Analysis, 3rd ed., eq. 11.4)."""
    n = x.shape[2]
    between = n * np.var(np.mean(x, axis=2), axis=1, ddof=1)
    within = np.mean(np.var(x, axis=2, ddof=1), axis=1)
    return np.sqrt((between / within + n - 1) / n)


def _rhat_rank(x: np.ndarray) -> np.ndarray:
    split = _split_chains(x)
    bulk = _psrf(_z_scale(split))
    tail = _psrf(_z_scale(abs(split - np.median(split, axis=(1, 2), keepdims=True))))
    return np.where(tail > bulk, tail, bulk)  # Python's max(bulk, tail), NaN as arviz_stats


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


def _autocov(x: np.ndarray) -> np.ndarray:
    """Autocovariance along the last axis at lags 0..n-1 (biased, divided by n), by FFT."""
    n = x.shape[-1]
    m = _next_fast_len(2 * n)
    centred = x - x.mean(axis=-1, keepdims=True)
    spectrum = np.fft.rfft(centred, n=m, axis=-1)
    spectrum *= np.conjugate(spectrum)
    return np.fft.irfft(spectrum, n=m, axis=-1)[..., :n] / n


def _ess(x: np.ndarray) -> np.ndarray:
    """ESS of each column ``(chain, draw)`` of ``x`` (n, chain, draw): Geyer's initial positive
    then initial monotone sequence of the combined autocorrelations (Vehtari et al. 2021,
    eqs. 10-13). A constant column has the ESS of its number of draws."""
    n_chain, n_draw = x.shape[1:]
    size = n_chain * n_draw
    flat = x.reshape(x.shape[0], -1)
    constant = np.max(flat, axis=1) - np.min(flat, axis=1) < np.finfo(float).resolution
    acov = _autocov(x).mean(axis=1)  # (n, draw): mean over chains at each lag
    mean_var = acov[:, 0] * n_draw / (n_draw - 1.0)
    var_plus = mean_var * (n_draw - 1.0) / n_draw
    if n_chain > 1:
        var_plus += np.var(x.mean(axis=2), axis=1, ddof=1)
    rho = 1.0 - (mean_var[:, None] - acov) / var_plus[:, None]
    rho[:, 0] = 1.0
    kept, last = _geyer(rho)
    tau = -1.0 + 2.0 * kept + last
    ess = size / np.maximum(tau, 1 / np.log10(size))
    ess[np.isnan(rho[:, 1])] = np.nan  # arviz_stats: NaN if any autocorrelation it kept is NaN
    return np.where(constant, float(size), ess)


def _geyer(rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sum of the autocorrelations kept by Geyer's initial positive and monotone sequences
    and the next one, per row, as arviz_stats' loops find them.

    Pairs ``P_p = rho[2p] + rho[2p + 1]`` are scanned for p = 1 .. (draws - 3) // 2 while the
    previous pair is positive; the scan stops at the first ``p_last`` with ``P <= 0`` (or the
    last pair). The kept pairs ``0 .. p_last - 1`` are made non-increasing (a pair above the
    smallest before it becomes that value, halved into both terms); ``rho[2 p_last]`` is added
    on its own (not doubled) if ``P_{p_last} >= 0`` or it is positive, else 0.
    """
    n, n_draw = rho.shape
    n_pairs = max(n_draw - 3, 0) // 2 + 1  # pair 0, then the pairs the scan may reach
    pairs = rho[:, : 2 * n_pairs].reshape(n, n_pairs, 2)
    pair_sum = pairs[:, :, 0] + pairs[:, :, 1]
    stop = ~(pair_sum > 0)  # NaN stops the scan too
    p_last = np.where(stop.any(axis=1), np.argmax(stop, axis=1), n_pairs - 1)
    floor = np.minimum.accumulate(pair_sum, axis=1)
    above = np.zeros(pair_sum.shape, dtype=bool)
    above[:, 1:] = pair_sum[:, 1:] > floor[:, :-1]
    halves = np.zeros(pair_sum.shape)
    halves[:, 1:] = floor[:, :-1] / 2.0
    terms = np.where(above[:, :, None], halves[:, :, None], pairs).reshape(n, -1)
    kept = np.arange(terms.shape[1])[None, :] < 2 * p_last[:, None]
    rows = np.arange(n)
    last = rho[rows, 2 * p_last]
    last_pair = pair_sum[rows, p_last]
    tail = np.where((last_pair >= 0) | (last > 0), last, 0.0)
    return np.sum(np.where(kept, terms, 0.0), axis=1), tail
