"""Simulation studies: meta-analyses drawn from a stated truth, fitted, scored per method.

Each scenario states the truth (k studies, pooled log odds ratio ``mu``, between-study SD
``tau``, control-arm risk, range of arm sizes). A replicate draws, per study,
``theta_i ~ N(mu, tau^2)``, arm sizes uniform on ``arm_size`` (both ends included), control
events ``Binomial(n_c, baseline_risk)`` and treatment events
``Binomial(n_t, expit(logit(baseline_risk) + theta_i))``, with a generator seeded from the base
seed and the replicate's name (:func:`bayesmeta.workflows.batch.derive_seed`). The replicates
run through
:func:`bayesmeta.workflows.batch.run_batch` (Bayesian model beside DL, REML and REML-HKSJ) and
:func:`summarise` reports, per scenario and method, the bias and RMSE of the point estimate of
``mu`` (posterior median; frequentist estimate), and the coverage and mean width of its 95%
interval (Morris, White & Crowther 2019, Stat Med 38:2074-2102, table 6).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayesmeta.errors import BayesmetaError
from bayesmeta.workflows.batch import BatchOptions, Job, derive_seed, read_toml, run_batch

# method label -> (point estimate, interval low, interval high) columns of a batch row
METHODS: dict[str, tuple[str, str, str]] = {
    "bayes": ("mu_median", "mu_ci_lower", "mu_ci_upper"),
    "dl": ("dl_estimate", "dl_ci_lower", "dl_ci_upper"),
    "reml": ("reml_estimate", "reml_ci_lower", "reml_ci_upper"),
    "reml_hksj": ("reml_hksj_estimate", "reml_hksj_ci_lower", "reml_hksj_ci_upper"),
}


@dataclass(frozen=True)
class Scenario:
    """The truth one set of replicates is drawn from (effects on the log odds ratio scale)."""

    name: str
    k: int
    mu: float
    tau: float
    baseline_risk: float
    arm_size: tuple[int, int]
    replicates: int

    def __post_init__(self) -> None:
        lo, hi = self.arm_size
        problems = [
            (self.k >= 2, f"k must be at least 2, got {self.k}"),
            (self.tau >= 0, f"tau must be >= 0, got {self.tau}"),
            (
                0 < self.baseline_risk < 1,
                f"baseline_risk must be in (0, 1), got {self.baseline_risk}",
            ),
            (1 <= lo <= hi, f"arm_size must be [low, high] with 1 <= low <= high, got {[lo, hi]}"),
            (self.replicates >= 1, f"replicates must be at least 1, got {self.replicates}"),
        ]
        for ok, message in problems:
            if not ok:
                raise BayesmetaError(f"scenario {self.name!r}: {message}")

    def replicate_name(self, index: int) -> str:
        """Name of replicate ``index`` (0-based); always says it is simulated."""
        return f"simulated {self.name} {index + 1:04d}"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_arm_size(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(_is_int(v) and v >= 1 for v in value)
        and value[0] <= value[1]
    )


# Each key of a [[scenario]] table: the check of its value and what the check expects.
SCENARIO_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "name": (lambda v: isinstance(v, str) and v.strip() != "", "a non-empty string"),
    "k": (lambda v: _is_int(v) and v >= 2, "an integer >= 2"),
    "mu": (lambda v: _is_number(v) and math.isfinite(v), "a finite number"),
    "tau": (lambda v: _is_number(v) and math.isfinite(v) and v >= 0, "a finite number >= 0"),
    "baseline_risk": (lambda v: _is_number(v) and 0 < v < 1, "a number in (0, 1)"),
    "arm_size": (_is_arm_size, "[low, high], two integers with 1 <= low <= high"),
    "replicates": (lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
}
GRID_KEYS = ("replicates", "scenario")
DEFAULT_REPLICATES = 100


def _problem(key: str, value: Any) -> str | None:
    """What is wrong with ``value`` for scenario key ``key`` (None: nothing)."""
    check, expected = SCENARIO_RULES[key]
    return None if check(value) else f"{key} must be {expected}, got {value!r}"


def read_scenarios(path: str | Path) -> list[Scenario]:
    """Scenarios from the ``[[scenario]]`` tables of a TOML grid.

    Keys: ``name``, ``k`` (integer >= 2), ``mu`` (finite), ``tau`` (>= 0), ``baseline_risk``
    (in (0, 1)), ``arm_size = [low, high]`` (integers, 1 <= low <= high) and ``replicates``
    (integer >= 1); a top-level ``replicates`` is the default for scenarios without one
    (default 100).

    Raises
    ------
    BayesmetaError
        A missing or unreadable file, text that is not UTF-8 or not TOML, unknown or missing
        keys (with the valid ones), or a value out of range, naming the scenario and the key.
    """
    path = Path(path)
    if not path.is_file():
        raise BayesmetaError(f"{path}: file not found")
    spec = read_toml(path)
    unknown = sorted(set(spec) - set(GRID_KEYS))
    if unknown:
        raise BayesmetaError(
            f"{path}: unknown top-level key(s) {unknown}; valid: {', '.join(GRID_KEYS)}"
        )
    default = spec.get("replicates", DEFAULT_REPLICATES)
    problem = _problem("replicates", default)
    if problem:
        raise BayesmetaError(f"{path}: top-level {problem}")
    tables = spec.get("scenario", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise BayesmetaError(f"{path}: scenarios must be [[scenario]] tables")
    if not tables:
        raise BayesmetaError(f"{path}: no [[scenario]] tables")
    keys = tuple(SCENARIO_RULES)
    out = []
    for i, table in enumerate(tables, start=1):
        entry = {"replicates": default, **table}
        label = f"scenario {i}" + (f" ({entry['name']!r})" if "name" in entry else "")
        unknown = sorted(set(entry) - set(keys))
        missing = [key for key in keys if key not in entry]
        if unknown or missing:
            raise BayesmetaError(
                f"{path}: {label}: unknown key(s) {unknown}, missing {missing}; "
                f"valid keys: {', '.join(keys)}"
            )
        for key in keys:
            problem = _problem(key, entry[key])
            if problem:
                raise BayesmetaError(f"{path}: {label}: {problem}")
        out.append(
            Scenario(
                name=entry["name"],
                k=entry["k"],
                mu=float(entry["mu"]),
                tau=float(entry["tau"]),
                baseline_risk=float(entry["baseline_risk"]),
                arm_size=(entry["arm_size"][0], entry["arm_size"][1]),
                replicates=entry["replicates"],
            )
        )
    names = [s.name for s in out]
    if len(set(names)) != len(names):
        raise BayesmetaError(f"{path}: scenario names must be unique, got {names}")
    return out


def simulate_counts(scenario: Scenario, rng: np.random.Generator) -> pd.DataFrame:
    """One simulated meta-analysis of ``scenario``: a two-arm table with ``k`` studies."""
    k = scenario.k
    lo, hi = scenario.arm_size
    n_t = rng.integers(lo, hi + 1, size=k)
    n_c = rng.integers(lo, hi + 1, size=k)
    theta = rng.normal(scenario.mu, scenario.tau, size=k)
    alpha = math.log(scenario.baseline_risk / (1 - scenario.baseline_risk))
    p_t = 1 / (1 + np.exp(-(alpha + theta)))
    return pd.DataFrame(
        {
            "study": [f"study {i + 1}" for i in range(k)],
            "treatment_events": rng.binomial(n_t, p_t),
            "treatment_total": n_t,
            "control_events": rng.binomial(n_c, scenario.baseline_risk),
            "control_total": n_c,
        }
    )


def simulation_jobs(scenarios: list[Scenario], seed: int) -> list[Job]:
    """Every replicate of every scenario as a batch job, counts drawn with derived seeds."""
    jobs = []
    for scenario in scenarios:
        for i in range(scenario.replicates):
            name = scenario.replicate_name(i)
            rng = np.random.default_rng(derive_seed(seed, name))
            jobs.append(Job(name, simulate_counts(scenario, rng)))
    return jobs


def summarise(rows: pd.DataFrame, scenarios: list[Scenario]) -> pd.DataFrame:
    """Bias, RMSE, 95% coverage and mean interval width of ``mu`` per scenario and method.

    Parameters
    ----------
    rows
        Batch rows (``name`` as made by :meth:`Scenario.replicate_name`); failed replicates
        and methods without an estimate are left out of that method's figures.
    scenarios
        The truths the rows were drawn from.

    Returns
    -------
    pandas.DataFrame
        Columns ``scenario, method, n, bias, rmse, coverage, mean_width``; ``n`` counts the
        replicates scored. Coverage counts ``low <= mu <= high``.
    """
    records = []
    for scenario in scenarios:
        # exactly this scenario's replicates: by prefix, scenario "a" would also take the
        # replicates of a scenario "a b" ("simulated a b 0001" starts with "simulated a ")
        names = {scenario.replicate_name(i) for i in range(scenario.replicates)}
        mine = rows[rows["name"].isin(names)]
        for method, (est_col, lo_col, hi_col) in METHODS.items():
            part = mine[[est_col, lo_col, hi_col]].astype(float).dropna()
            est, lo, hi = (part[c].to_numpy() for c in (est_col, lo_col, hi_col))
            error = est - scenario.mu
            n = len(part)
            records.append(
                {
                    "scenario": scenario.name,
                    "method": method,
                    "n": n,
                    "bias": float(error.mean()) if n else math.nan,
                    "rmse": float(np.sqrt(np.mean(error**2))) if n else math.nan,
                    "coverage": float(np.mean((lo <= scenario.mu) & (scenario.mu <= hi)))
                    if n
                    else math.nan,
                    "mean_width": float(np.mean(hi - lo)) if n else math.nan,
                }
            )
    return pd.DataFrame.from_records(records)


def run_simulation(
    scenarios: list[Scenario],
    options: BatchOptions,
    progress_file: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    show_progress: bool | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate every replicate, fit it through the batch machinery and score the methods.

    ``options.settings.seed`` seeds both the simulated counts and the samplers. Returns the
    per-replicate batch rows and the :func:`summarise` table.
    """
    jobs = simulation_jobs(scenarios, options.settings.seed)
    rows = run_batch(
        jobs,
        options,
        progress_file,
        workers=workers,
        scheduler=scheduler,
        show_progress=show_progress,
    )
    return rows, summarise(rows, scenarios)
