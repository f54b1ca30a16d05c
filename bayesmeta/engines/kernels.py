"""Hand-written log densities of the binomial models, compiled once and cached on disk.

Compiling a PyMC model for nutpie (``nutpie.compile_pymc_model``) takes 5-10 s in every new
process: nutpie wraps PyTensor's numba functions in C callbacks whose closures numba cannot
cache, so they are re-typed and re-lowered each time (``benchmarks/RESULTS.md``). The two
models bayesmeta fits are small, so this module writes their log density and gradient by hand
as numba C callbacks with ``cache=True``. The machine code is stored under the cache directory
(:func:`cache_dir`) and a later process loads it in milliseconds. The data and the prior
parameters are passed to the callbacks at run time (``user_data``), so ONE cached artefact
serves every dataset, every number of studies and every prior of the supported families.

The densities are those of :func:`bayesmeta.engines.pymc.binomial_normal` and
:func:`bayesmeta.engines.pymc.proportion` (normalised, with the same constants, transforms and
Jacobians as PyMC), with the same unconstrained parameters (``alpha``, ``mu``, ``tau_log__``,
``z``, ``z_new``) and the same posterior variables (``alpha``, ``mu``, ``tau``, ``z``,
``z_new``, ``theta_new``, ``theta`` on the ``study`` coordinate). ``tests/engines/test_kernels.py``
checks the log density and its gradient against PyMC's at random points.

This module imports numba, nutpie and xarray but not PyMC or PyTensor.
"""

from __future__ import annotations

import functools
import math
import os
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bayesmeta.io.counts import SingleArmData, TwoArmData
from bayesmeta.model.priors import PriorSet, check_scale_prior

CACHE_ENV = "BAYESMETA_CACHE_DIR"

# Prior family codes, read by the compiled code (see _prior_logp).
FAMILY_CODES = {
    "normal": 0,
    "half-normal": 1,
    "half-cauchy": 2,
    "half-student-t": 3,
    "uniform": 4,
    "exponential": 5,
    "lognormal": 6,
}
# Transform of each family's support to the real line, as PyMC does it.
IDENTITY, LOG, INTERVAL = 0, 1, 2
_TRANSFORM = {"real": IDENTITY, "positive": LOG, "interval": INTERVAL}

# user_data layout: a float64 header, then the count arrays (each of length k).
# header: k, then (family, transform, p0, p1) for mu, tau, baseline, then the log binomial
# coefficients summed over studies.
H_K = 0
H_MU, H_TAU, H_BASE = 1, 5, 9
H_CONST = 13
HEADER = 14


def cache_dir() -> Path:
    """Where compiled code is stored: ``$BAYESMETA_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/bayesmeta`` (``~/.cache/bayesmeta``)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "bayesmeta"


@dataclass(frozen=True)
class FastModel:
    """A bayesmeta model the compiled code can sample: kind, data, priors.

    ``kind`` is ``"binomial-normal"`` (two-arm counts) or ``"proportion"`` (single arm).
    """

    kind: str
    data: TwoArmData | SingleArmData
    priors: PriorSet
    common_effect: bool = False

    @property
    def study(self) -> list[str]:
        return list(self.data.study)

    @property
    def k(self) -> int:
        return len(self.data.study)

    def value_names(self) -> list[str]:
        """Unconstrained parameters in PyMC's order (``model.value_vars``)."""
        names = (
            [_value_name("alpha", self.priors.baseline)] if self.kind == "binomial-normal" else []
        )
        names.append(_value_name("mu", self.priors.mu))
        if not self.common_effect:
            names += [_value_name("tau", self.priors.tau), "z", "z_new"]
        return names

    def value_sizes(self) -> list[int]:
        return [self.k if _is_study(name) else 1 for name in self.value_names()]

    @property
    def n_dim(self) -> int:
        return sum(self.value_sizes())

    def expanded(self) -> tuple[list[str], list[tuple[int, ...]]]:
        """Names and shapes of what the expand function writes (value variables first)."""
        study: tuple[int, ...] = (self.k,)
        names = self.value_names()
        shapes = [study if _is_study(n) else () for n in names]
        extra: list[tuple[str, tuple[int, ...]]] = []
        if _value_name("mu", self.priors.mu) != "mu":
            extra.append(("mu", ()))
        if not self.common_effect and _value_name("tau", self.priors.tau) != "tau":
            extra.append(("tau", ()))
        if self.kind == "binomial-normal" and _value_name("alpha", self.priors.baseline) != "alpha":
            extra.append(("alpha", study))
        extra += [("theta_new", ()), ("theta", study)]
        return names + [n for n, _ in extra], shapes + [s for _, s in extra]

    def reparameterized(self) -> list[str]:
        """Value variables that are not themselves reported (``tau_log__`` and the like)."""
        out = [_value_name("mu", self.priors.mu)]
        if not self.common_effect:
            out.append(_value_name("tau", self.priors.tau))
        if self.kind == "binomial-normal":
            out.append(_value_name("alpha", self.priors.baseline))
        base = {"mu", "tau", "alpha"}
        return [n for n in out if n not in base]

    def user_data(self) -> np.ndarray:
        """The float64 array the compiled callbacks read: header, then the counts."""
        header = np.zeros(HEADER)
        header[H_K] = self.k
        for slot, prior in ((H_MU, self.priors.mu), (H_BASE, self.priors.baseline)):
            header[slot : slot + 4] = _prior_code(prior)
        if not self.common_effect:
            header[H_TAU : H_TAU + 4] = _prior_code(check_scale_prior(self.priors.tau))
        arrays = self.counts()
        const = 0.0
        for n, y in zip(arrays[::2], arrays[1::2], strict=True):
            const += _log_binom(n, y)
        header[H_CONST] = const
        return np.ascontiguousarray(np.concatenate([header, *arrays]), dtype=np.float64)

    def counts(self) -> list[np.ndarray]:
        """``[n_t, y_t, n_c, y_c]`` (two-arm) or ``[n, y]`` (single arm), as floats."""
        d = self.data
        if self.kind == "binomial-normal":
            raw = [d.treatment_total, d.treatment_events, d.control_total, d.control_events]
        else:
            raw = [d.total, d.events]
        return [np.asarray(a, dtype=np.float64) for a in raw]

    def constant_data(self) -> dict[str, np.ndarray]:
        d = self.data
        if self.kind == "binomial-normal":
            return {
                "treatment_total": np.asarray(d.treatment_total),
                "control_total": np.asarray(d.control_total),
            }
        return {"total": np.asarray(d.total)}

    def observed_data(self) -> dict[str, np.ndarray]:
        d = self.data
        if self.kind == "binomial-normal":
            return {
                "control_events": np.asarray(d.control_events),
                "treatment_events": np.asarray(d.treatment_events),
            }
        return {"events": np.asarray(d.events)}


def _is_study(value_name: str) -> bool:
    return value_name == "z" or value_name.startswith("alpha")


def _value_name(name: str, prior: Any) -> str:
    support = _support_kind(prior)
    if support == "positive":
        return f"{name}_log__"
    if support == "interval":
        return f"{name}_interval__"
    return name


def _support_kind(prior: Any) -> str:
    from bayesmeta.model.priors import FAMILIES

    return FAMILIES[prior.family][1]


def _prior_code(prior: Any) -> list[float]:
    """(family code, transform code, p0, p1) as the kernels read them; one-parameter
    families leave p1 = 0."""
    params = list(prior.params) + [0.0] * (2 - len(prior.params))
    return [
        float(FAMILY_CODES[prior.family]),
        float(_TRANSFORM[_support_kind(prior)]),
        *params,
    ]


def _log_binom(n: np.ndarray, y: np.ndarray) -> float:
    lg = np.vectorize(math.lgamma, otypes=[float])
    return float(np.sum(lg(n + 1) - lg(y + 1) - lg(n - y + 1)))


def support_point(prior: Any) -> float:
    """PyMC's default starting value of a prior (its support point, e.g. the mean or scale)."""
    p = prior.params
    match prior.family:
        case "normal":
            return p[0]
        case "uniform":
            return 0.5 * (p[0] + p[1])
        case "exponential":
            return 1.0 / p[0]
        case "lognormal":
            return math.exp(p[0] + 0.5 * p[1] ** 2)
        case "half-student-t":
            return p[1]
    return p[0]  # half-normal sigma, half-cauchy beta


def to_unconstrained(prior: Any, x: float) -> float:
    """Map a value in the prior's support to the real line (PyMC's default transform)."""
    kind = _support_kind(prior)
    if kind == "positive":
        return math.log(x)
    if kind == "interval":
        lo, hi = prior.params
        s = (x - lo) / (hi - lo)
        return math.log(s) - math.log1p(-s)
    return x


# --------------------------------------------------------------------------- numba kernels


@functools.cache
def _kernel(name: str) -> Any:
    """The C callback ``name`` of :mod:`bayesmeta.engines._numba`, loaded from the disk cache (or
    compiled and stored there, about 2 s, the first time); numba is imported only here."""
    import numba

    from bayesmeta.engines import _numba as kernels

    doubles = numba.types.CPointer(numba.types.double)
    if name.startswith("logp"):
        sig = numba.types.int64(numba.types.uint64, doubles, doubles, doubles, numba.types.voidptr)
    else:
        sig = numba.types.int64(
            numba.types.uint64, numba.types.uint64, doubles, doubles, numba.types.voidptr
        )
    previous = numba.config.CACHE_DIR
    numba.config.CACHE_DIR = str(cache_dir() / "numba")  # read when the cache is created
    try:
        return numba.cfunc(sig, cache=True)(getattr(kernels, name))
    finally:
        numba.config.CACHE_DIR = previous


def _kernel_names(model: FastModel) -> tuple[str, str]:
    kind = "bn" if model.kind == "binomial-normal" else "prop"
    effect = "ce" if model.common_effect else "re"
    return f"logp_{kind}_{effect}", f"expand_{kind}_{effect}"


# --------------------------------------------------------------------------- nutpie model


def _nutpie_base() -> type:
    nutpie_sample()  # import nutpie without the whole of ArviZ
    from nutpie.sample import CompiledModel

    return CompiledModel


@functools.cache
def _compiled_class() -> type:
    """A nutpie ``CompiledModel`` over our C callbacks (built lazily: nutpie is imported here)."""
    base = _nutpie_base()
    from nutpie import _lib

    @dataclass(frozen=True)
    class CompiledFastModel(base):  # type: ignore[misc, valid-type]
        """nutpie model over cached C callbacks; ``with_data`` swaps the data (any k)."""

        model: FastModel
        logp_cfunc: Any
        expand_cfunc: Any
        data_array: np.ndarray

        @property
        def n_dim(self) -> int:
            return self.model.n_dim

        @property
        def shapes(self) -> dict[str, tuple[int, ...]]:
            names, shapes = self.model.expanded()
            return dict(zip(names, shapes, strict=True))

        @property
        def coords(self) -> dict[str, Any]:
            import pandas as pd

            names = []
            for name, size in zip(self.model.value_names(), self.model.value_sizes(), strict=True):
                names += [f"{name}_{i}" for i in range(size)] if _is_study(name) else [name]
            return {
                "study": pd.Index(self.model.study),
                "unconstrained_parameter": pd.Index(names),
            }

        def with_data(self, model: FastModel) -> CompiledFastModel:
            """The same compiled code on other data or priors (same kind of model)."""
            if _kernel_names(model) != _kernel_names(self.model):
                raise ValueError("with_data needs a model of the same kind and effect")
            return compile_fast(model)

        def initial_point(self, seed: Any = None) -> np.ndarray:
            """PyMC's default start: support points, unconstrained, jittered by U(-1, 1)."""
            m = self.model
            rng = np.random.default_rng(seed)
            parts = []
            for name, size in zip(m.value_names(), m.value_sizes(), strict=True):
                if name.startswith("alpha"):
                    prior = m.priors.baseline
                elif name.startswith("mu"):
                    prior = m.priors.mu
                elif name.startswith("tau"):
                    prior = m.priors.tau
                else:
                    prior = None
                centre = 0.0 if prior is None else to_unconstrained(prior, support_point(prior))
                parts.append(np.full(size, centre) + rng.uniform(-1.0, 1.0, size))
            return np.ascontiguousarray(np.concatenate(parts), dtype=np.float64)

        def _make_sampler(
            self, settings, init_mean, cores, progress_type, extra_callback, rate, store
        ):
            model = self._make_model(init_mean)
            return _lib.PySampler.from_pymc(
                settings, cores, model, progress_type, extra_callback, rate, store
            )

        def _make_model(self, init_mean):
            names, shapes = self.model.expanded()
            n_expanded = sum(int(np.prod(s)) for s in shapes)
            ptr = self.data_array.ctypes.data
            expand_fn = _lib.ExpandFunc(
                self.n_dim, n_expanded, self.expand_cfunc.address, ptr, self
            )
            logp_fn = _lib.LogpFunc(self.logp_cfunc.address, ptr, self)
            coords = self.coords
            dim_sizes = {name: len(vals) for name, vals in coords.items()}
            variables = _lib.PyVariable.new_variables(
                names, ["float64"] * len(names), [list(s) for s in shapes], dim_sizes, self.dims
            )
            return _lib.PyMcModel(
                logp_fn,
                expand_fn,
                variables,
                self.n_dim,
                dim_sizes,
                coords,
                self.initial_point,
                None,
            )

    return CompiledFastModel


def compile_fast(model: FastModel) -> Any:
    """nutpie model for ``model``: cached C callbacks plus this dataset's ``user_data``."""
    logp_name, expand_name = _kernel_names(model)
    names, shapes = model.expanded()
    dims = {name: ("study",) for name, shape in zip(names, shapes, strict=True) if shape}
    return _compiled_class()(
        dims=dims,
        reparameterized_names=model.reparameterized(),
        model=model,
        logp_cfunc=_kernel(logp_name),
        expand_cfunc=_kernel(expand_name),
        data_array=model.user_data(),
    )


def logp_and_grad(compiled: Any, x: np.ndarray) -> tuple[float, np.ndarray]:
    """Evaluate the compiled log density and gradient at unconstrained ``x`` (for tests)."""
    import ctypes

    x = np.ascontiguousarray(x, dtype=np.float64)
    grad = np.zeros_like(x)
    logp = np.zeros(1)
    fn = compiled.logp_cfunc.ctypes
    dbl = ctypes.POINTER(ctypes.c_double)
    code = fn(
        ctypes.c_uint64(x.size),
        x.ctypes.data_as(dbl),
        grad.ctypes.data_as(dbl),
        logp.ctypes.data_as(dbl),
        ctypes.c_void_p(compiled.data_array.ctypes.data),
    )
    if code not in (0, 3, 4):
        raise RuntimeError(f"log density callback failed with code {code}")
    return float(logp[0]), grad


def expand(compiled: Any, x: np.ndarray) -> dict[str, np.ndarray]:
    """Evaluate the compiled expand function at ``x``: the posterior variables (for tests)."""
    import ctypes

    names, shapes = compiled.model.expanded()
    sizes = [int(np.prod(s)) for s in shapes]
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.zeros(sum(sizes))
    dbl = ctypes.POINTER(ctypes.c_double)
    code = compiled.expand_cfunc.ctypes(
        ctypes.c_uint64(x.size),
        ctypes.c_uint64(out.size),
        x.ctypes.data_as(dbl),
        out.ctypes.data_as(dbl),
        ctypes.c_void_p(compiled.data_array.ctypes.data),
    )
    if code != 0:
        raise RuntimeError(f"expand callback failed with code {code}")
    parts = np.split(out, np.cumsum(sizes)[:-1])
    return {n: p.reshape(s) for n, p, s in zip(names, parts, shapes, strict=True)}


def attach_data(idata: Any, model: FastModel, sampling_time: float, tune: int) -> None:
    """Add ``constant_data`` / ``observed_data`` and sampling attributes, as PyMC does."""
    import xarray as xr

    coords = {"study": np.asarray(model.study, dtype=object)}
    for group, values in (
        ("constant_data", model.constant_data()),
        ("observed_data", model.observed_data()),
    ):
        ds = xr.Dataset({k: ("study", v) for k, v in values.items()}, coords=coords)
        idata[group] = xr.DataTree(ds)
    attrs = idata["posterior"].attrs
    attrs["sampling_time"] = sampling_time
    attrs["tuning_steps"] = tune
    attrs["inference_library"] = "nutpie"
    from nutpie import __version__

    attrs["inference_library_version"] = __version__


def fast_model(
    data: TwoArmData | SingleArmData, *, priors: PriorSet | None = None, common_effect: bool = False
) -> FastModel:
    """The :class:`FastModel` of ``data``: binomial-normal for two-arm counts, proportion for
    single-arm data (the models of :func:`bayesmeta.engines.pymc.binomial_normal` and
    :func:`bayesmeta.engines.pymc.proportion`)."""
    kind = "binomial-normal" if isinstance(data, TwoArmData) else "proportion"
    return FastModel(kind, data, priors or PriorSet(), common_effect)


def tag(model: Any, spec: FastModel) -> None:
    """Record on a PyMC model built by :mod:`bayesmeta.engines.pymc` which :class:`FastModel`
    it is."""
    model.bayesmeta_fast_model = spec


def fast_model_of(model: Any) -> FastModel | None:
    """The :class:`FastModel` equal to ``model``, or None.

    ``model`` is either a :class:`FastModel` or a PyMC model from :mod:`bayesmeta.engines.pymc`; the
    latter qualifies only if nothing was added to or changed in it since it was built (same
    variables, transforms, data and observations), so research code that extends a model is
    always compiled from its own graph.
    """
    if isinstance(model, FastModel):
        return model
    spec = getattr(model, "bayesmeta_fast_model", None)
    if not isinstance(spec, FastModel):
        return None
    random = not spec.common_effect
    free = (["alpha"] if spec.kind == "binomial-normal" else []) + ["mu"]
    free += ["tau", "z", "z_new"] if random else []
    try:
        same = (
            [v.name for v in model.free_RVs] == free
            and [v.name for v in model.value_vars] == spec.value_names()
            and [v.name for v in model.deterministics] == ["theta_new", "theta"]
            and not model.potentials
            and [v.name for v in model.observed_RVs] == list(spec.observed_data())
            and list(model.coords) == ["study"]
            and list(model.coords["study"]) == spec.study
            and all(
                np.array_equal(np.asarray(model[name].get_value()), value)
                for name, value in spec.constant_data().items()
            )
            and all(
                np.array_equal(np.asarray(model.rvs_to_values[model[name]].data), value)
                for name, value in spec.observed_data().items()
            )
        )
    except (AttributeError, KeyError, TypeError):
        return None
    return spec if same else None


def is_fast(compiled: Any) -> bool:
    """Whether ``compiled`` came from :func:`compile_fast`."""
    return isinstance(getattr(compiled, "model", None), FastModel) and hasattr(
        compiled, "logp_cfunc"
    )


def nutpie_sample() -> Any:
    """``nutpie.sample``, imported without importing all of ArviZ when ArviZ is not loaded yet.

    ``nutpie.sample`` does ``import arviz`` at module level but uses only ``arviz.from_dict``
    and ``arviz.dict_to_dataset``, which ArviZ re-exports from ``arviz_base``. The full
    ``arviz`` package also imports ``arviz_plots`` and matplotlib (about 1.2 s of the 2 s a
    warm ``bayesmeta fit`` takes). So while nutpie is first imported, ``sys.modules["arviz"]``
    holds a stand-in that gives those two functions from ``arviz_base`` and imports the real
    ArviZ for any other name; the stand-in is removed again straight after, so a later
    ``import arviz`` anywhere gets the real package.
    """
    if "nutpie" not in sys.modules and "arviz" not in sys.modules:
        import arviz_base

        stand_in = types.ModuleType("arviz", "bayesmeta stand-in for arviz while nutpie imports")
        stand_in.from_dict = arviz_base.from_dict  # type: ignore[attr-defined]
        stand_in.dict_to_dataset = arviz_base.dict_to_dataset  # type: ignore[attr-defined]
        stand_in.__getattr__ = _real_arviz_attribute  # type: ignore[attr-defined]
        sys.modules["arviz"] = stand_in
        try:
            import nutpie
        finally:
            if sys.modules.get("arviz") is stand_in:
                del sys.modules["arviz"]
    import nutpie

    return nutpie.sample


def _real_arviz_attribute(name: str) -> Any:
    import importlib

    return getattr(importlib.import_module("arviz"), name)
