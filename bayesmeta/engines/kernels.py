"""Hand-written log densities of the binomial models, compiled once and cached on disk.

Compiling a PyMC model for nutpie (``nutpie.compile_pymc_model``) takes 5-10 s in every new
process: nutpie wraps PyTensor's numba functions in C callbacks whose closures numba cannot
cache, so they are re-typed and re-lowered each time (``benchmarks/RESULTS.md``). The two
models bayesmeta fits most are small, so their log density and gradient are written by hand
(:mod:`bayesmeta.engines._numba`) as numba C callbacks. Each is compiled once and stored under
the cache directory (:func:`cache_dir`) as a shared library (:mod:`bayesmeta.engines.native`),
which a later process loads in a millisecond without importing numba; where no library can be
built (no C compiler), numba's own disk cache (``cache=True``) serves instead. Data and prior
parameters reach the callbacks at run time (``user_data``, laid out by
:mod:`bayesmeta.engines.kernel_model`), so ONE compiled artefact serves every dataset, every
number of studies and every prior family of the registry.

The densities equal those PyMC builds from the same description
(:func:`bayesmeta.engines.pymc.build`; normalised, with the same constants, transforms and
Jacobians); ``tests/engines/test_kernels.py`` checks the log density and its gradient against
PyMC's at random points. This module imports neither PyMC nor xarray (numba only to build).
"""

from __future__ import annotations

import ctypes
import functools
import os
from pathlib import Path
from typing import Any

import numpy as np

from bayesmeta.engines import nutpie_adapter
from bayesmeta.engines.kernel_model import KernelModel, per_study, supports
from bayesmeta.model.description import ModelSpec

CACHE_ENV = "BAYESMETA_CACHE_DIR"
_DOUBLES = ctypes.POINTER(ctypes.c_double)
LOGP_TYPE = ctypes.CFUNCTYPE(
    ctypes.c_int64, ctypes.c_uint64, _DOUBLES, _DOUBLES, _DOUBLES, ctypes.c_void_p
)
EXPAND_TYPE = ctypes.CFUNCTYPE(
    ctypes.c_int64, ctypes.c_uint64, ctypes.c_uint64, _DOUBLES, _DOUBLES, ctypes.c_void_p
)

__all__ = ["KernelModel", "compile_spec", "supports"]


def cache_dir() -> Path:
    """Where compiled code is stored: ``$BAYESMETA_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/bayesmeta`` (``~/.cache/bayesmeta``)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "bayesmeta"


@functools.cache
def _kernel(name: str) -> Any:
    """The C callback ``name`` of :mod:`bayesmeta.engines._numba`: from its shared library
    (:mod:`bayesmeta.engines.native`; built the first time, about 2 s), else from numba's disk
    cache (numba is imported only then)."""
    from bayesmeta.engines import native

    kernel = native.load(cache_dir() / "native", name)
    return kernel if kernel is not None else numba_kernel(name)


def numba_kernel(name: str) -> Any:
    """The C callback ``name`` as numba's ``cfunc``, from numba's disk cache under
    :func:`cache_dir` (compiled and stored there the first time)."""
    import numba

    from bayesmeta.engines.native import compile_cfunc

    previous = numba.config.CACHE_DIR
    numba.config.CACHE_DIR = str(cache_dir() / "numba")  # read when the cache is created
    try:
        return compile_cfunc(name, cache=True)
    finally:
        numba.config.CACHE_DIR = previous


def callbacks(model: KernelModel) -> nutpie_adapter.Callbacks:
    """The cached C callbacks of ``model`` with its data, as nutpie samples them."""
    import pandas as pd

    logp_name, expand_name = model.kernel_names
    names, shapes = model.expanded()
    unconstrained = []
    for name, size in zip(model.value_names(), model.value_sizes(), strict=True):
        unconstrained += [f"{name}_{i}" for i in range(size)] if per_study(name) else [name]
    return nutpie_adapter.Callbacks(
        n_dim=model.n_dim,
        logp=_kernel(logp_name),
        expand=_kernel(expand_name),
        user_data=model.user_data(),
        names=names,
        shapes=shapes,
        coords={
            "study": pd.Index(model.study),
            "unconstrained_parameter": pd.Index(unconstrained),
        },
        dims={name: ("study",) for name, shape in zip(names, shapes, strict=True) if shape},
        reparameterized=model.reparameterized(),
        initial_point=model.initial_point,
        model=model,
    )


def compile_spec(spec: ModelSpec) -> Any:
    """nutpie model of ``spec`` over the cached kernels (``supports(spec)`` must hold)."""
    return nutpie_adapter.callback_model(callbacks(KernelModel(spec)))


def kernel_model_of(compiled: Any) -> KernelModel | None:
    """The :class:`KernelModel` behind a model from :func:`compile_spec` (None otherwise)."""
    model = getattr(getattr(compiled, "callbacks", None), "model", None)
    return model if isinstance(model, KernelModel) else None


def logp_and_grad(compiled: Any, x: np.ndarray) -> tuple[float, np.ndarray]:
    """Evaluate the compiled log density and gradient at unconstrained ``x`` (for tests)."""
    c = compiled.callbacks
    x = np.ascontiguousarray(x, dtype=np.float64)
    grad = np.zeros_like(x)
    logp = np.zeros(1)
    dbl = ctypes.POINTER(ctypes.c_double)
    code = LOGP_TYPE(c.logp.address)(
        ctypes.c_uint64(x.size),
        x.ctypes.data_as(dbl),
        grad.ctypes.data_as(dbl),
        logp.ctypes.data_as(dbl),
        ctypes.c_void_p(c.user_data.ctypes.data),
    )
    if code not in (0, 3, 4):
        raise RuntimeError(f"log density callback failed with code {code}")
    return float(logp[0]), grad


def expand(compiled: Any, x: np.ndarray) -> dict[str, np.ndarray]:
    """Evaluate the compiled expand function at ``x``: the posterior variables (for tests)."""
    c = compiled.callbacks
    sizes = [int(np.prod(s)) for s in c.shapes]
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.zeros(sum(sizes))
    dbl = ctypes.POINTER(ctypes.c_double)
    code = EXPAND_TYPE(c.expand.address)(
        ctypes.c_uint64(x.size),
        ctypes.c_uint64(out.size),
        x.ctypes.data_as(dbl),
        out.ctypes.data_as(dbl),
        ctypes.c_void_p(c.user_data.ctypes.data),
    )
    if code != 0:
        raise RuntimeError(f"expand callback failed with code {code}")
    parts = np.split(out, np.cumsum(sizes)[:-1])
    return {n: p.reshape(s) for n, p, s in zip(c.names, parts, c.shapes, strict=True)}


def attach_data(idata: Any, model: KernelModel, sampling_time: float, tune: int) -> None:
    """Add ``constant_data`` / ``observed_data`` and sampling attributes, as PyMC does."""
    import xarray as xr

    coords = {"study": np.asarray(model.study, dtype=object)}
    constant, observed = model.recorded_data()
    for group, values in (("constant_data", constant), ("observed_data", observed)):
        ds = xr.Dataset({k: ("study", v) for k, v in values.items()}, coords=coords)
        idata[group] = xr.DataTree(ds)
    attrs = idata["posterior"].attrs
    attrs["sampling_time"] = sampling_time
    attrs["tuning_steps"] = tune
    attrs["inference_library"] = "nutpie"
    from importlib.metadata import version

    attrs["inference_library_version"] = version("nutpie")
