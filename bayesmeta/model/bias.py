"""The Bayesian publication-bias ensemble: its bias components (one registry) and priors.

The ensemble is RoBMA-PSMA's (Bartos et al. 2023, Res Synth Methods 14:99-116; RoBMA 3.6
``set_default_priors``): the normal-normal model on each study's ``y, se`` crossed with
{effect, no effect} x {random, common effect} x the components of :data:`BIAS_COMPONENTS`
(no bias; six step weight functions on p-values; PET; PEESE), 36 models. A weight function's
weights ``omega`` are a cumulative Dirichlet(1, ..., 1): ``omega_j = eta_1 + ... + eta_j`` in
the order of increasing significance, so the most significant interval has weight 1 and the
weights never rise as p grows. PET adds ``b se_i`` to the mean of study ``i``, PEESE ``b se_i^2``,
with ``b >= 0`` in the expected direction of the effect.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from bayesmeta.errors import OptionError
from bayesmeta.model.priors import Prior, default_priors, parse_prior

Kind = Literal["none", "weightfunction", "pet", "peese"]
DIRECTIONS = ("positive", "negative")


@dataclass(frozen=True)
class BiasComponent:
    """One publication-bias component: ``kind``, for a weight function its p-value ``steps``
    and whether they are ``one``- or ``two``-sided, and its prior weight among the bias
    components (RoBMA-PSMA's ``prior_weights``)."""

    name: str
    kind: Kind
    steps: tuple[float, ...] = ()
    sides: Literal["one", "two"] | None = None
    weight: float = 1.0

    @property
    def n_omega(self) -> int:
        """Number of free weights (the most significant interval's weight is 1)."""
        return len(self.steps)

    @property
    def n_params(self) -> int:
        """Number of bias parameters."""
        return self.n_omega if self.kind == "weightfunction" else int(self.kind != "none")


BIAS_COMPONENTS: dict[str, BiasComponent] = {
    c.name: c
    for c in (
        BiasComponent("none", "none"),
        BiasComponent("two-sided(0.05)", "weightfunction", (0.05,), "two", 1 / 12),
        BiasComponent("two-sided(0.05, 0.1)", "weightfunction", (0.05, 0.1), "two", 1 / 12),
        BiasComponent("one-sided(0.05)", "weightfunction", (0.05,), "one", 1 / 12),
        BiasComponent("one-sided(0.025, 0.05)", "weightfunction", (0.025, 0.05), "one", 1 / 12),
        BiasComponent("one-sided(0.05, 0.5)", "weightfunction", (0.05, 0.5), "one", 1 / 12),
        BiasComponent(
            "one-sided(0.025, 0.05, 0.5)", "weightfunction", (0.025, 0.05, 0.5), "one", 1 / 12
        ),
        BiasComponent("PET", "pet", weight=1 / 4),
        BiasComponent("PEESE", "peese", weight=1 / 4),
    )
}


@dataclass(frozen=True)
class BiasPriors:
    """Priors of the ensemble's parameters: ``mu``, ``tau``, the PET and PEESE coefficients
    (on the expected direction of the effect); the weights' Dirichlet is Dirichlet(1, ..., 1)."""

    mu: Prior
    tau: Prior
    pet: Prior
    peese: Prior
    name: str = "custom"

    def to_dict(self) -> dict[str, str]:
        """``{parameter: prior text}``, and the preset's name."""
        return {
            "preset": self.name,
            "mu": str(self.mu),
            "tau": str(self.tau),
            "pet": str(self.pet),
            "peese": str(self.peese),
            "omega": "cumulative dirichlet(1, ..., 1)",
        }


PET_PRIOR = Prior("half-cauchy", (1.0,))
PEESE_PRIOR = Prior("half-cauchy", (5.0,))
# RoBMA-PSMA's defaults as RoBMA applies them to y, se input (prior_scale "none")
ROBMA = BiasPriors(
    Prior("normal", (0.0, 1.0)),
    Prior("inverse-gamma", (1.0, 0.15)),
    PET_PRIOR,
    PEESE_PRIOR,
    "robma",
)
PRESETS = ("default", "robma")


def bias_priors(
    preset: str = "default",
    *,
    scale: str = "log_odds_ratio",
    mu: Prior | str | None = None,
    tau: Prior | str | None = None,
) -> BiasPriors:
    """The priors of ``preset`` (``default``: the package's ``mu`` and ``tau`` priors of
    ``scale`` with RoBMA's PET and PEESE priors; ``robma``: RoBMA-PSMA's), with ``mu`` and
    ``tau`` overriding.

    Raises
    ------
    OptionError
        An unknown preset or prior text, or a ``tau`` prior not on the positive reals.
    """
    if preset not in PRESETS:
        raise OptionError(f"unknown --priors preset {preset!r}; valid: {', '.join(PRESETS)}")
    if preset == "robma":
        base = ROBMA
    else:
        p = default_priors(scale)
        base = BiasPriors(p.mu, p.tau, PET_PRIOR, PEESE_PRIOR, "default")
    if mu is not None or tau is not None:
        given_tau = parse_prior(tau) if tau is not None else base.tau
        if given_tau.support[0] < 0:
            raise OptionError(f"--prior-tau {given_tau} must be on the positive reals")
        base = replace(
            base,
            mu=parse_prior(mu) if mu is not None else base.mu,
            tau=given_tau,
            name=f"{base.name} (changed)",
        )
    return base
