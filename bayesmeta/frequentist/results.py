"""Typed results of the frequentist methods: pooled estimates, small-study tests, skipped rows.

Each has named fields that the reports and plots read, and a ``to_dict`` that is its JSON form
(``docs/json.md``); intervals at level 0.95 are written as ``ci95``, ``tau2_ci95``, ``pi95``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bayesmeta.io.output import level_key

DEFAULT_LEVEL = 0.95


def tails(level: float) -> tuple[float, float]:
    """Lower and upper tail probabilities of a two-sided interval at ``level``.

    Rounded to 15 decimals so that 0.95 gives exactly 0.025 and 0.975, as R's ``qchisq(0.025,
    df)`` sees them (``(1 - 0.95) / 2`` is 0.025000000000000022 in floating point).
    """
    return round((1 - level) / 2, 15), round((1 + level) / 2, 15)


@dataclass(frozen=True)
class PooledEstimate:
    """One pooled effect with its uncertainty and heterogeneity statistics.

    ``estimate`` is on the analysis scale (log OR, log RR, RD or logit); ``ci`` is its
    confidence interval, ``tau2_ci`` the Q-profile interval of tau^2 (``tau2_ci_pl`` the
    profile-likelihood one, ML and REML), ``i2_ci`` and ``h2_ci`` the intervals of I^2 and H^2
    from the Q-profile limits, ``se_tau2`` the standard error of tau^2, and ``pi`` the
    prediction interval for a new study, all at ``level``. ``i2`` is in percent; ``df`` is the
    t-distribution's degrees of freedom when the Hartung-Knapp test was used.

    An interval of zero width (Hartung-Knapp on identical effects: ``se`` is 0, ``p`` 0, as
    metafor reports them) is :attr:`degenerate`: the numbers are kept, but they are not
    evidence, and reports say so instead of showing p < 0.0001.
    """

    method: str
    estimate: float
    se: float
    ci: tuple[float, float]
    p: float
    k: int
    tau2: float | None = None
    tau2_ci: tuple[float, float] | None = None
    i2: float | None = None
    h2: float | None = None
    q: float | None = None
    q_p: float | None = None
    pi: tuple[float, float] | None = None
    df: int | None = None
    level: float = DEFAULT_LEVEL
    se_tau2: float | None = None
    tau2_ci_pl: tuple[float, float] | None = None
    i2_ci: tuple[float, float] | None = None
    h2_ci: tuple[float, float] | None = None

    @property
    def degenerate(self) -> bool:
        """The interval has zero width (or the SE is 0 or not finite)."""
        return not (self.se > 0 and self.ci[1] > self.ci[0])

    def to_dict(self) -> dict[str, Any]:
        """The fields that are set, as JSON-ready floats, ints and lists; ``degenerate: true``
        for a zero-width interval."""
        fields: list[tuple[str, Any]] = [
            ("method", self.method),
            ("estimate", self.estimate),
            ("se", self.se),
            (level_key("ci", self.level), self.ci),
            ("p", self.p),
            ("k", self.k),
            ("tau2", self.tau2),
            (level_key("tau2_ci", self.level), self.tau2_ci),
            ("i2", self.i2),
            ("h2", self.h2),
            ("q", self.q),
            ("q_p", self.q_p),
            (level_key("pi", self.level), self.pi),
            ("df", self.df),
            ("se_tau2", self.se_tau2),
            (level_key("tau2_pl_ci", self.level), self.tau2_ci_pl),
            (level_key("i2_ci", self.level), self.i2_ci),
            (level_key("h2_ci", self.level), self.h2_ci),
        ]
        out: dict[str, Any] = {}
        for key, value in fields:
            if value is None:
                continue
            if isinstance(value, tuple):
                out[key] = [float(v) for v in value]
            elif isinstance(value, int | str) and not isinstance(value, bool):
                out[key] = value
            else:
                out[key] = float(value)
        if self.degenerate:
            out["degenerate"] = True
        return out


@dataclass(frozen=True)
class AsymmetryTest:
    """A small-study regression test: t statistic ``z`` (metafor's name), two-sided ``p``,
    its ``df`` and the number of studies ``k``."""

    method: str
    z: float
    p: float
    df: int
    k: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {"method": self.method, "z": self.z, "p": self.p, "df": self.df, "k": self.k}


@dataclass(frozen=True)
class Skipped:
    """A method that cannot be computed on these data (too few studies, an undefined
    estimate, no convergence), with the reason."""

    method: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """``{"skipped": reason}``."""
        return {"skipped": self.reason}


Estimate = PooledEstimate | AsymmetryTest | Skipped
