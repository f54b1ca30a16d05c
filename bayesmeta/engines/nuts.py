"""Sample a model with NUTS and judge whether the result can be trusted.

Sampling uses PyMC's default NUTS backend, nutpie (Rust NUTS on a numba-compiled log density),
the fastest correct choice measured here (see ``benchmarks/RESULTS.md``). A model description
(:class:`~bayesmeta.model.description.ModelSpec`) that the cached kernels implement
(:mod:`bayesmeta.engines.kernels`), or a PyMC model built from such a description and left
unchanged (:func:`bayesmeta.engines.pymc.spec_of`), is sampled through them: no PyTensor
compilation, a few milliseconds instead of 5-10 s per process. Any other model is built by
:func:`bayesmeta.engines.pymc.build` (for a description) and compiled by
``nutpie.compile_pymc_model``. Convergence is judged as ArviZ judges it
(:mod:`bayesmeta.engines.diagnostics`): rank-normalised split R-hat, bulk and tail ESS, and
divergences. A fit that fails is refitted once with a higher target acceptance rate and
longer tuning; if it still fails, the result is marked as not converged and the report says
so prominently.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from bayesmeta.engines.draws import Draws, as_draws
from bayesmeta.model.description import ModelSpec

if TYPE_CHECKING:
    import pymc as pm
    from xarray import DataTree

RHAT_MAX = 1.01
ESS_MIN = 400
SEED_MAX = 2**32 - 1  # numpy's and nutpie's seeds are unsigned 32-bit here
# Accepted ranges of the settings (the CLI's options have the same bounds, with draws and
# tune at least 100 there, where convergence is judged).
_LIMITS = {"chains": (1, 64), "draws": (4, 10**7), "tune": (0, 10**7), "seed": (0, SEED_MAX)}


class ConvergenceWarning(UserWarning):
    """Draws that fail the convergence checks (R-hat, ESS, divergences)."""


@dataclass(frozen=True)
class SamplerSettings:
    """NUTS settings; ``seed`` (0 to 2**32 - 1) makes a fit reproducible.

    ``target_accept`` None (the default) is the model's :func:`recommended_target_accept`:
    0.99 with covariates, else 0.9 (:meth:`for_model`).

    Raises
    ------
    TypeError
        A setting that is not an integer (``target_accept``: a number).
    BayesmetaError
        A setting out of its range (e.g. ``draws`` below 4, a negative seed).
    """

    chains: int = 4
    draws: int = 2000
    tune: int = 1000
    seed: int = 1
    target_accept: float | None = None
    cores: int | None = None

    def __post_init__(self) -> None:
        from bayesmeta.errors import OptionError

        for name, (lo, hi) in _LIMITS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
            if not lo <= value <= hi:
                raise OptionError(f"{name} must be between {lo} and {hi}, got {value}")
        accept = self.target_accept
        if accept is not None:
            if isinstance(accept, bool) or not isinstance(accept, int | float | np.floating):
                raise TypeError(f"target_accept must be a number, got {type(accept).__name__}")
            if not 0 < accept < 1:
                raise OptionError(f"target_accept must be between 0 and 1, got {accept}")
        if self.cores is not None and (isinstance(self.cores, bool) or self.cores < 1):
            raise OptionError(f"cores must be a positive integer or None, got {self.cores}")

    def for_model(self, model: ModelSpec | pm.Model) -> SamplerSettings:
        """These settings with ``target_accept`` chosen for ``model`` if it was left None."""
        if self.target_accept is not None:
            return self
        return replace(self, target_accept=recommended_target_accept(model))

    def stricter(self) -> SamplerSettings:
        """Settings for the one refit: target acceptance 0.99 (smaller steps), twice the tuning.

        0.99 rather than 0.95: on bcg with a covariate (little residual heterogeneity, large
        trials) 0.95 still left 1-3 divergences in every seed tried, 0.99 none; sampling is
        the cheap part of a fit.
        """
        return replace(self, target_accept=max(0.99, self.target_accept or 0.0), tune=2 * self.tune)


@dataclass(frozen=True)
class Diagnostics:
    """Convergence of one fit, with the thresholds it was judged by."""

    rhat_max: float
    ess_bulk_min: float
    ess_tail_min: float
    divergences: int
    converged: bool
    sampler: str
    chains: int
    draws: int
    tune: int
    target_accept: float
    seconds: float
    refitted: bool = False
    problems: tuple[str, ...] = field(default=())
    exact_check: float | None = None  # largest quantile difference from the exact posterior

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (``exact_check`` only where the exact engines cover the model)."""
        out = asdict(self)
        out["problems"] = list(self.problems)
        if self.exact_check is None:
            del out["exact_check"]
        return out


@dataclass(frozen=True)
class Fit:
    """Posterior draws with their diagnostics and the settings used.

    ``draws`` holds the arrays; ``idata``, the ArviZ DataTree of them, is built on first use
    (:class:`~bayesmeta.engines.draws.Draws`).
    """

    draws: Draws
    diagnostics: Diagnostics
    settings: SamplerSettings

    @property
    def idata(self) -> DataTree:
        """The draws as an ArviZ DataTree (``posterior``, ``sample_stats``, ``observed_data``,
        ``constant_data``), built on the first use."""
        return self.draws.datatree()


@dataclass(frozen=True)
class Compiled:
    """A model ready to sample: nutpie's compiled model, and the PyMC model it came from
    (None when the cached kernels serve it)."""

    nutpie_model: Any
    pymc_model: pm.Model | None = None


# nutpie models compiled in this process, by structure (bayesmeta.engines.pymc.structure_key)
_COMPILED: dict[tuple[Any, ...], Any] = {}


def compile_model(model: ModelSpec | pm.Model) -> Compiled:
    """Compile the log density and its gradient (see the module docstring for which models
    get the cached kernels).

    Any other model is compiled once per structure in a process: a model of the same
    structure (variables, priors, transforms, data shapes) reuses that compilation with its
    own data and coordinates, so refitting an extended model on new data costs only sampling.
    """
    from bayesmeta.engines import kernels, nutpie_adapter, pymc

    if isinstance(model, ModelSpec):
        model.check_for_sampler()
    spec = model if isinstance(model, ModelSpec) else pymc.spec_of(model)
    if spec is not None and kernels.supports(spec):
        return Compiled(kernels.compile_spec(spec))
    pm_model = pymc.build(model) if isinstance(model, ModelSpec) else model
    key = pymc.structure_key(pm_model)
    if key in _COMPILED:
        return Compiled(nutpie_adapter.with_model_data(_COMPILED[key], pm_model), pm_model)
    nutpie_adapter.nutpie_sample()  # import nutpie without the whole of ArviZ
    import nutpie

    _COMPILED[key] = nutpie.compile_pymc_model(pm_model, backend="numba")
    return Compiled(_COMPILED[key], pm_model)


def sample(
    model: ModelSpec | pm.Model,
    settings: SamplerSettings,
    compiled: Compiled | None = None,
    *,
    label: str = "Sampling",
) -> tuple[Draws, float]:
    """Draw from the posterior of ``model`` with nutpie's NUTS, as numpy arrays.

    ``compiled`` (from :func:`compile_model`) is reused when given, so a refit or a new seed
    costs only the sampling. While the chains run, a progress bar labelled ``label`` is shown
    if :mod:`bayesmeta.progress` is on. Returns the draws (their DataTree, built on demand,
    has observed and constant data, as ``pymc.sample`` gives) and the wall seconds taken,
    compilation included.

    Raises
    ------
    KeyboardInterrupt
        On Ctrl-C (or SIGTERM under the command line): the chains are stopped and nothing is
        returned, so an interrupted fit is never mistaken for a short one.
    """
    from bayesmeta import progress
    from bayesmeta.engines import kernels, nutpie_adapter

    settings = settings.for_model(model)
    start = time.perf_counter()
    compiled = compiled if compiled is not None else compile_model(model)
    begin = time.perf_counter()
    with progress.sampling(label, settings.chains) as bar:
        trace = nutpie_adapter.sample(
            compiled.nutpie_model,
            draws=settings.draws,
            tune=settings.tune,
            chains=settings.chains,
            cores=settings.cores,
            seed=settings.seed,
            target_accept=settings.target_accept,
            on_progress=bar.chains if bar is not None else None,
            on_wait=bar.refresh if bar is not None else None,
        )
    elapsed = time.perf_counter() - begin
    kernel_model = kernels.kernel_model_of(compiled.nutpie_model)
    pymc_model = compiled.pymc_model

    def finish(idata: DataTree) -> None:
        if kernel_model is not None:
            kernels.attach_data(idata, kernel_model, sampling_time=elapsed, tune=settings.tune)
        else:
            from pymc.backends.arviz import patch_nutpie_idata

            patch_nutpie_idata(idata, pymc_model, sampling_time=elapsed)

    draws = Draws.from_trace(trace, finish=finish)
    return draws, time.perf_counter() - start


def draw(
    model: ModelSpec | pm.Model, settings: SamplerSettings, compiled: Compiled | None = None
) -> tuple[DataTree, float]:
    """:func:`sample`, with the draws as an ArviZ DataTree."""
    draws, seconds = sample(model, settings, compiled)
    return draws.datatree(), seconds


def diagnose(
    idata: Draws | DataTree,
    *,
    var_names: list[str] | None = None,
    rhat_max: float = RHAT_MAX,
    ess_min: float = ESS_MIN,
    seconds: float = float("nan"),
    settings: SamplerSettings | None = None,
) -> Diagnostics:
    """R-hat, bulk/tail ESS over ``var_names`` and the number of divergent transitions.

    ``var_names`` defaults to the quantities bayesmeta reports (``mu``, ``tau``, ``theta``,
    ``theta_new``) where present. R-hat and ESS come from
    :mod:`bayesmeta.engines.diagnostics`, which computes them as ``arviz_stats.rhat`` and
    ``arviz_stats.ess(method="bulk"|"tail")`` do without importing ArviZ's statistics package
    (tested equal).
    """
    from bayesmeta.engines import diagnostics

    draws = as_draws(idata)
    post = draws.posterior
    reported = [v for v in (var_names or ["mu", "tau", "theta", "theta_new"]) if v in post]
    if reported:
        columns = [post[v].reshape(*post[v].shape[:2], -1) for v in reported]
        rhat, ess_bulk, ess_tail = diagnostics.rhat_ess(np.concatenate(columns, axis=2))
    else:
        rhat = ess_bulk = ess_tail = np.array([np.nan])

    def extreme(values: np.ndarray, fn: Any) -> float:
        flat = values[np.isfinite(values)]
        return float(fn(flat)) if flat.size else float("nan")

    r, eb, et = extreme(rhat, np.max), extreme(ess_bulk, np.min), extreme(ess_tail, np.min)
    div = int(np.asarray(draws.sample_stats["diverging"]).sum())
    problems = []
    if not r <= rhat_max:
        problems.append(f"R-hat {r:.3f} > {rhat_max}")
    if not min(eb, et) >= ess_min:
        problems.append(f"min ESS {min(eb, et):.0f} < {ess_min}")
    if div:
        problems.append(f"{div} divergent transition(s)")
    settings = settings or SamplerSettings()
    first = next(iter(post.values()))
    return Diagnostics(
        rhat_max=r,
        ess_bulk_min=eb,
        ess_tail_min=et,
        divergences=div,
        converged=not problems,
        sampler=draws.sampler,
        chains=int(first.shape[0]),
        draws=int(first.shape[1]),
        tune=settings.tune,
        target_accept=settings.target_accept,
        seconds=seconds,
        problems=tuple(problems),
    )


def fit(
    model: ModelSpec | pm.Model,
    settings: SamplerSettings | None = None,
    *,
    var_names: list[str] | None = None,
) -> Fit:
    """Sample ``model``; if the diagnostics fail, refit once with :meth:`SamplerSettings.stricter`.

    ``var_names`` are the variables whose convergence is judged (:func:`diagnose`'s default:
    the quantities of the pairwise models).

    The returned :class:`Fit` holds the last attempt; ``diagnostics.refitted`` says whether a
    refit happened and ``diagnostics.converged`` whether the final draws pass every check.
    A KeyboardInterrupt while sampling is raised, never taken as a failed fit to refit.
    """
    settings = (settings or SamplerSettings()).for_model(model)
    start = time.perf_counter()
    compiled = compile_model(model)
    draws, _ = sample(model, settings, compiled)
    seconds = time.perf_counter() - start
    diag = diagnose(draws, var_names=var_names, seconds=seconds, settings=settings)
    if diag.converged:
        return Fit(draws, diag, settings)
    stricter = settings.stricter()
    label = f"Refitting (target_accept {stricter.target_accept:g})"
    draws, more = sample(model, stricter, compiled, label=label)
    diag = diagnose(draws, var_names=var_names, seconds=seconds + more, settings=stricter)
    return Fit(draws, replace(diag, refitted=True), stricter)


def recommended_target_accept(model: ModelSpec | pm.Model) -> float:
    """0.99 for a model (or a builder model, extended or not) with covariates, else 0.9."""
    from bayesmeta.engines import pymc as pymc_engine

    spec = model if isinstance(model, ModelSpec) else pymc_engine.built_from(model)
    mods = spec.moderators if spec is not None else None
    return 0.99 if mods is not None and mods.x is not None else 0.9
