"""The options of an analysis, each declared once: name, help, default, type and bounds.

The command line's options (:mod:`bayesmeta.cli.common`), the TOML specification's schema
(:mod:`bayesmeta.io.spec`), the sampler's accepted ranges
(:class:`bayesmeta.engines.nuts.SamplerSettings`) and the reproducing command line
(:func:`bayesmeta.workflows.report.command_line`) are generated from these rows;
:class:`bayesmeta.workflows.request.AnalysisRequest` carries them as ``OPTIONS``. They live
here, at the bottom of the package, because the TOML reader is below every stage that uses
them. So far: the sampler settings and the priors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SEED_MAX = 2**32 - 1  # numpy's and nutpie's seeds are unsigned 32-bit here


@dataclass(frozen=True)
class Option:
    """One option.

    ``name`` is the command line's (``--prior-mu`` is ``prior_mu``) and ``key`` the TOML
    key in ``[section]`` (``[priors] mu``). ``kind`` is the value's type (``float`` accepts
    TOML integers too); ``nullable`` options may be left unset (None). ``minimum`` and
    ``maximum`` bound the value on the command line and in a specification (``cli_bounds``
    False: in a specification only, the command line leaving the check to the settings), and
    ``limits`` are what the Python API accepts (:class:`~bayesmeta.engines.nuts.SamplerSettings`:
    ``draws`` from 4, where the command line wants 100 to judge convergence).
    """

    name: str
    section: str
    key: str
    kind: type
    default: Any
    help: str | None = None
    nullable: bool = False
    minimum: float | None = None
    maximum: float | None = None
    cli_bounds: bool = True
    limits: tuple[float, float] | None = None

    @property
    def flag(self) -> str:
        """The command-line flag: ``--target-accept``."""
        return "--" + self.name.replace("_", "-")

    def arguments(self, value: Any) -> list[str]:
        """The command-line words that give ``value`` (none for an unset nullable option)."""
        if value is None:
            return []
        text = f"{value:g}" if self.kind is float else str(value)
        return [self.flag, text]


SAMPLER_OPTIONS: tuple[Option, ...] = (
    Option("chains", "sampler", "chains", int, 4, minimum=1, limits=(1, 64)),
    Option(
        "draws", "sampler", "draws", int, 2000, "Draws per chain after tuning.",
        minimum=100, limits=(4, 10**7),
    ),
    Option(
        "tune", "sampler", "tune", int, 1000, "Tuning steps per chain.",
        minimum=100, limits=(0, 10**7),
    ),
    Option(
        "seed", "sampler", "seed", int, 1, "Random seed: the same seed gives the same numbers.",
        minimum=0, cli_bounds=False, limits=(0, SEED_MAX),
    ),
    Option(
        "target_accept", "sampler", "target_accept", float, None,
        "NUTS target acceptance rate (default: 0.99 with covariates, else 0.9).",
        nullable=True, minimum=0.5, maximum=0.999,
    ),
)  # fmt: skip

PRIOR_OPTIONS: tuple[Option, ...] = (
    Option(
        "prior_mu", "priors", "mu", str, None,
        "Prior of the pooled effect mu, e.g. 'normal(0, 2.82)'.", nullable=True,
    ),
    Option(
        "prior_tau", "priors", "tau", str, None,
        "Prior of the heterogeneity SD tau, e.g. 'half-normal(0.5)'.", nullable=True,
    ),
    Option(
        "prior_baseline", "priors", "baseline", str, None,
        "Prior of each study's control-arm log odds, e.g. 'normal(0, 10)'.", nullable=True,
    ),
    Option(
        "prior_nu", "priors", "nu", str, None,
        "Prior of the degrees of freedom nu of t random effects.", nullable=True,
    ),
    Option(
        "prior_beta", "priors", "beta", str, "normal(0, 10)",
        "Prior of each meta-regression slope.",
    ),
)  # fmt: skip

OPTIONS: dict[str, Option] = {o.name: o for o in (*SAMPLER_OPTIONS, *PRIOR_OPTIONS)}


def section_schema(section: str) -> dict[str, type | tuple[type, ...]]:
    """TOML key -> accepted Python type(s) of the options in ``[section]`` (a float option
    accepts integers)."""
    return {
        o.key: (int, float) if o.kind is float else o.kind
        for o in OPTIONS.values()
        if o.section == section
    }
