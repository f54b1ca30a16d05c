"""How far a NUTS summary is from the exact posterior, where the exact engines cover the model.

:func:`exact_check` is the largest difference between a NUTS quantile (median and interval
ends of ``mu``, ``tau``, ``theta_new`` and each shrunken ``theta_i``) and the exact one, in
units of the exact posterior SD of that quantity: Monte Carlo error of a few thousand draws
gives a few hundredths; a value above about 0.1 means the sampler missed part of the posterior.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from bayesmeta.errors import BayesmetaError
from bayesmeta.model.description import ModelSpec
from bayesmeta.summaries.types import DEFAULT_LEVEL, PosteriorSummary, Summary


def quadrature(spec: ModelSpec) -> ModuleType:
    """The exact summaries module of ``spec``'s likelihood (:attr:`Likelihood.exact`:
    :mod:`bayesmeta.summaries.exact` or :mod:`bayesmeta.summaries.exact_binomial`).

    Raises
    ------
    BayesmetaError
        No exact engine integrates the likelihood.
    """
    family = spec.family
    if not spec.effects.exact:
        raise BayesmetaError(spec.effects.refusal)
    if family.exact is None:
        raise BayesmetaError(
            f"the exact engine cannot fit the {spec.likelihood} model: {family.exact_refusal}"
        )
    return import_module(f"bayesmeta.summaries.{family.exact}")


def supported(spec: ModelSpec) -> bool:
    """The exact engines compute this model (no moderators; a likelihood and random effects
    they integrate)."""
    return spec.family.exact is not None and spec.moderators is None and spec.effects.exact


def _distance(a: Summary, b: Summary) -> float:
    if not b.sd > 0:
        return 0.0
    pairs = zip((a.median, *a.interval), (b.median, *b.interval), strict=True)
    return max(abs(x - y) for x, y in pairs) / b.sd


def exact_check(
    spec: ModelSpec, nuts: PosteriorSummary, level: float = DEFAULT_LEVEL
) -> float | None:
    """Largest quantile difference of ``nuts`` from the exact posterior of ``spec``, in
    posterior SDs; None where the exact engines do not cover the model or its priors."""
    if not supported(spec):
        return None
    try:
        ref, _ = quadrature(spec).summarize(spec, level=level)
    except BayesmetaError:
        return None
    pairs = [(getattr(nuts, n), getattr(ref, n)) for n in ("mu", "tau", "theta_new")]
    pairs += [(s, ref.theta[name]) for name, s in nuts.theta.items() if name in ref.theta]
    return max((_distance(a, b) for a, b in pairs if a is not None and b is not None), default=0.0)
