"""The effect axis every figure shares: log ratio axes with plain tick labels, a linear axis
for proportions and other measures, the line of no effect and the "favours" labels.

Ratios (odds, risk and hazard ratios) go on a log axis symmetric about 1 with ticks at
0.1, 0.2, 0.5, 1, 2, 5, 10 (extended to 0.05 ... 20 or 0.02 ... 50 when the estimates need it,
and to decades beyond), labelled as plain numbers. Proportions go on a linear axis from 0 to 1.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes

from bayesmeta.model.likelihoods import native
from bayesmeta.model.scales import Scale

# Half-widths (as ratio limits 1/L ... L) of the log axes, and their ticks.
RATIO_LIMITS: dict[float, tuple[float, ...]] = {
    10: (0.1, 0.2, 0.5, 1, 2, 5, 10),
    20: (0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20),
    50: (0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50),
    100: (0.01, 0.1, 0.2, 0.5, 1, 2, 5, 10, 100),
    1000: (0.001, 0.01, 0.1, 1, 10, 100, 1000),
}
WIDE_MAX = 50
PROPORTION_TICKS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
FONT_SIZE = 8.5


@dataclass(frozen=True)
class EffectAxis:
    """How effects are drawn: their scale, axis title, limits, ticks and line of no effect.

    Values passed to the drawing functions are on the shown scale (odds ratio, proportion).
    ``null`` is the value of no effect (1 for ratios, 0 for differences, None for proportions).
    """

    scale: Scale
    title: str
    log: bool
    limits: tuple[float, float]
    ticks: tuple[float, ...]
    null: float | None

    def clip(self, value: float) -> float:
        """``value`` moved inside the limits (for intervals that reach beyond them)."""
        return float(min(max(value, self.limits[0]), self.limits[1]))

    def inside(self, value: float) -> bool:
        """``value`` lies within the limits."""
        return self.limits[0] <= value <= self.limits[1]

    def apply(
        self, ax: Axes, *, label: bool = True, null_style: dict[str, Any] | None = None
    ) -> None:
        """Set ``ax``'s x scale, limits, ticks (plain numbers), title and the line of no
        effect (solid grey unless ``null_style`` says otherwise)."""
        from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

        if self.log:
            ax.set_xscale("log")
        ax.set_xlim(*self.limits)
        ax.xaxis.set_major_locator(FixedLocator(list(self.ticks)))
        ax.xaxis.set_major_formatter(FixedFormatter([tick_label(t) for t in self.ticks]))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.tick_params(axis="x", labelsize=FONT_SIZE)
        if label:
            ax.set_xlabel(self.title, fontsize=FONT_SIZE + 0.5)
        if self.null is not None:
            style = {"color": "0.3", "lw": 0.8, **(null_style or {})}
            ax.axvline(self.null, zorder=1, gid="null-line", **style)


def tick_label(value: float) -> str:
    """A tick as a plain number: ``0.1``, ``2``, ``0.001`` (never ``10^-1``)."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def axis_title(scale: Scale, data: object | None = None) -> str:
    """``"Odds ratio"``, ``"Proportion"``...; reported effects on another scale are named by
    their measure (``"SMD"``), a generic estimate as ``"Effect"``."""
    if scale.axis is not None:
        return scale.axis
    if data is not None:
        measure = native(data).measure_of(data)
        return "Effect" if measure == "generic" else measure
    return scale.label


def effect_axis(
    scale: Scale,
    values: Iterable[float],
    data: object | None = None,
    *,
    wide: Iterable[float] = (),
) -> EffectAxis:
    """The axis for ``values`` on ``scale`` (shown scale; non-finite values are ignored).

    Ratios: the narrowest symmetric log axis of :data:`RATIO_LIMITS` that holds ``values``;
    ``wide`` values (the studies' confidence limits, very wide for a study with a zero cell)
    widen it to at most 1/50 ... 50 and are otherwise clipped (drawn with an arrow).
    Proportions: 0 to 1. Other measures: a linear axis holding all values and 0.
    """
    finite = _finite(values)
    title = axis_title(scale, data)
    if scale.log_ratio:
        half = max(_half_width(finite), min(_half_width(_finite(wide)), WIDE_MAX))
        return EffectAxis(scale, title, True, (1 / half, half), RATIO_LIMITS[half], 1.0)
    if scale.unit_interval:
        return EffectAxis(scale, title, False, (0.0, 1.0), PROPORTION_TICKS, None)
    from matplotlib.ticker import MaxNLocator

    every = np.concatenate([finite, _finite(wide), [0.0]])
    lo, hi = float(every.min()), float(every.max())
    pad = 0.05 * ((hi - lo) or 1.0)
    lo, hi = lo - pad, hi + pad
    ticks = tuple(float(t) for t in MaxNLocator(nbins=6).tick_values(lo, hi) if lo <= t <= hi)
    return EffectAxis(scale, title, False, (lo, hi), ticks, 0.0)


def range_axis(scale: Scale, lower: float, upper: float, data: object | None = None) -> EffectAxis:
    """An axis spanning exactly ``lower`` ... ``upper`` (shown scale), for densities.

    Ratios get plain-number ticks at 1, 2, ..., 9 times powers of ten, or at 1, 2 and 5 times
    them when that would be more than 8 ticks, or at powers of ten beyond that.
    """
    title = axis_title(scale, data)
    null = 1.0 if scale.log_ratio else (None if scale.unit_interval else 0.0)
    if scale.log_ratio:
        decades = range(math.floor(math.log10(lower)) - 1, math.ceil(math.log10(upper)) + 1)
        ticks: tuple[float, ...] = ()
        for mantissas in ((1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 5), (1,)):
            ticks = tuple(
                float(f"{m}e{e}") for e in decades for m in mantissas
                if lower <= float(f"{m}e{e}") <= upper
            )  # fmt: skip
            if len(ticks) <= 8:
                break
        return EffectAxis(scale, title, True, (lower, upper), ticks, null)
    from matplotlib.ticker import MaxNLocator

    ticks = tuple(
        float(t) for t in MaxNLocator(nbins=6).tick_values(lower, upper) if lower <= t <= upper
    )
    return EffectAxis(scale, title, False, (lower, upper), ticks, null)


def _finite(values: Iterable[float]) -> np.ndarray:
    out = np.array([v for v in values if v is not None], dtype=float)
    return out[np.isfinite(out)]


def _half_width(ratios: np.ndarray) -> float:
    """The smallest ``L`` of :data:`RATIO_LIMITS` with every ratio in ``[1/L, L]``."""
    positive = ratios[ratios > 0]
    extent = float(np.max(np.abs(np.log(positive)))) if positive.size else 0.0
    return next((h for h in RATIO_LIMITS if math.log(h) >= extent - 1e-9), max(RATIO_LIMITS))


def add_favours(ax: Axes, axis: EffectAxis, left: str, right: str) -> None:
    """``left`` and ``right`` (e.g. "Favours treatment", "Favours control") under the tick
    labels on either side of the line of no effect."""
    if axis.null is None:
        return
    for text, sign, align in ((left, -1, "right"), (right, 1, "left")):
        ax.annotate(
            text,
            xy=(axis.null, 0),
            xycoords=("data", "axes fraction"),
            xytext=(sign * 6, -17),
            textcoords="offset points",
            ha=align,
            va="top",
            fontsize=FONT_SIZE,
            gid="favours",
        )
