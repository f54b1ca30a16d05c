"""The distribution of the study effects: one registry row per random-effects distribution.

The random-effects distribution is an axis of the model description
(:attr:`bayesmeta.model.description.ModelSpec.random_effects`, ``--random-effects``), beside
the likelihood: every likelihood's model is ``theta_i = mu + tau * z_i`` (non-centred), and
the row says how ``z_i`` (and a new study's ``z_new``) are distributed, which extra parameters
that needs, which engines implement it and how the methods paragraph says it.

- ``normal`` (the default): ``z_i ~ N(0, 1)``, so ``theta_i ~ N(mu, tau^2)``.
- ``t``: ``z_i ~ Student-t(nu)``, so ``theta_i ~ t_nu(mu, tau)`` with location ``mu`` and scale
  ``tau`` (the SD is ``tau * sqrt(nu / (nu - 2))`` for ``nu > 2``): heavier tails let an
  outlying study keep its own effect rather than pull ``mu`` (Lee & Thompson 2008, Stat Med
  27:418). ``nu`` has its own prior (:data:`bayesmeta.model.priors.DEFAULT_NU`, gamma(2, 0.1):
  Juarez & Steel 2010, J Bus Econ Stat 28:52).
  Only the PyMC path fits it: the kernels and the exact engines integrate normal effects.
"""

from __future__ import annotations

from typing import Any, ClassVar

from bayesmeta.errors import OptionError


class RandomEffects:
    """One distribution of the standardised study effects ``z`` (see the module docstring).

    Attributes
    ----------
    name
        ``--random-effects`` value (the JSON ``random_effects`` key).
    parameters
        Its own parameters, each with a prior of that name in the
        :class:`~bayesmeta.model.priors.PriorSet`.
    kernels, exact
        Whether the hand-written kernels / the exact engines implement it.
    checks
        Whether the model checks (:mod:`bayesmeta.summaries.checks`, which replicate study
        effects) implement it; ``checks_refusal`` says why not.
    refusal
        Why an engine that does not implement it is refused (one line).
    references, citations
        Keys its methods sentence cites, and the full text of those only it cites.
    """

    name: ClassVar[str]
    parameters: ClassVar[tuple[str, ...]] = ()
    kernels: ClassVar[bool] = False
    exact: ClassVar[bool] = False
    checks: ClassVar[bool] = False
    checks_refusal: ClassVar[str] = ""
    refusal: ClassVar[str] = ""
    references: ClassVar[tuple[str, ...]] = ()
    citations: ClassVar[dict[str, str]] = {}
    justifications: ClassVar[dict[tuple[str, str], tuple[str, tuple[str, ...]]]] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def standardised(self, priors: Any, new_dims: dict[str, Any]) -> tuple[Any, Any]:
        """Add its parameters and ``z`` (dims ``study``) and ``z_new`` (``new_dims``) to the
        current PyMC model; returns ``(z, z_new)``."""
        raise NotImplementedError

    def methods_text(self) -> str:
        """The sentences of the methods paragraph on the study effects and a new study's."""
        raise NotImplementedError


class Normal(RandomEffects):
    """``z_i ~ N(0, 1)``: ``theta_i ~ N(mu, tau^2)``."""

    name = "normal"
    kernels = True
    exact = True
    checks = True

    def standardised(self, priors: Any, new_dims: dict[str, Any]) -> tuple[Any, Any]:
        import pymc as pm

        return pm.Normal("z", 0.0, 1.0, dims="study"), pm.Normal("z_new", 0.0, 1.0, **new_dims)

    def methods_text(self) -> str:
        return "theta_new ~ N(mu, tau^2) is the effect in a new study"


class StudentT(RandomEffects):
    """``z_i ~ Student-t(nu)``: ``theta_i ~ t_nu(mu, tau)``, ``nu ~`` its prior."""

    name = "t"
    parameters = ("nu",)
    refusal = (
        "Student-t random effects (--random-effects t) are fitted by NUTS only: the "
        "exact engines integrate normal random effects"
    )
    checks_refusal = (
        "the model checks replicate normal random effects; Student-t ones are not covered yet"
    )
    references = ("lee2008", "juarez2010")
    citations: ClassVar[dict[str, str]] = {
        "lee2008": "Lee KJ, Thompson SG. Flexible parametric models for random-effects "
        "distributions. Stat Med 2008;27(3):418-434.",
        "juarez2010": "Juárez MA, Steel MFJ. Model-based clustering of non-Gaussian panel data "
        "based on skew-t distributions. J Bus Econ Stat 2010;28(1):52-66.",
    }
    justifications: ClassVar[dict[tuple[str, str], tuple[str, tuple[str, ...]]]] = {
        ("nu", "gamma(2, 0.1)"): (
            "mean 20, median 17 and mode 10 degrees of freedom, 5% below 3.6 and 0.5% "
            "below 1: it allows both near-normal study effects and heavy tails",
            ("juarez2010",),
        )
    }

    def standardised(self, priors: Any, new_dims: dict[str, Any]) -> tuple[Any, Any]:
        import pymc as pm

        nu = priors.nu.to_pymc("nu")
        z = pm.StudentT("z", nu=nu, mu=0.0, sigma=1.0, dims="study")
        return z, pm.StudentT("z_new", nu=nu, mu=0.0, sigma=1.0, **new_dims)

    def methods_text(self) -> str:
        return (
            "the study effects follow a Student-t distribution instead of the normal, "
            "theta_i ~ t_nu(mu, tau), "
            "with location mu, scale tau and nu degrees of freedom, whose heavier tails let "
            "an outlying study keep its own effect rather than pull mu "
            "(Lee 2008); theta_new ~ t_nu(mu, tau) is the effect in a new study"
        )


RANDOM_EFFECTS: dict[str, RandomEffects] = {re.name: re for re in (Normal(), StudentT())}
NAMES = tuple(RANDOM_EFFECTS)


def random_effects(name: str) -> RandomEffects:
    """The registered random-effects distribution ``name``.

    Raises
    ------
    OptionError
        An unknown name; the message lists the valid ones.
    """
    try:
        return RANDOM_EFFECTS[name]
    except KeyError:
        raise OptionError(
            f"unknown random-effects distribution {name!r}; choose one of {', '.join(NAMES)}"
        ) from None
