"""Everything bayesmeta uses of nutpie's internals, in one place.

nutpie samples a model given as C callbacks (log density with gradient, and an "expand"
function writing the posterior variables) through its private extension module ``nutpie._lib``,
as ``nutpie.compile_pymc_model`` does for PyTensor's numba functions. The hand-written kernels
(:mod:`bayesmeta.engines.kernels`) are such callbacks, so :func:`callback_model` wraps them the
same way, and :func:`sample` drives nutpie's Rust sampler directly, as ``nutpie.sample`` does
with its defaults, but:

- it returns the draws as numpy arrays (:class:`Trace`), not a DataTree: xarray, ArviZ and the
  ``nutpie`` package itself (whose ``sample`` module imports them, about 0.6 s) are not
  imported; ``nutpie._lib`` alone loads in milliseconds (:func:`lib`);
- Ctrl-C (or any exception) while sampling stops the chains and is raised again.
  ``nutpie.sample`` instead returns the draws made so far, which a caller cannot tell from a
  finished run (issue 9: an interrupted fit was refitted and exited 0);
- it reports the chains' progress to a callback (:class:`ChainProgress`).

Only this module touches ``nutpie._lib``, the ``_make_sampler`` hook of nutpie's compiled
models and the import of ``nutpie`` itself; :func:`check` says clearly what is missing if a
nutpie release changes them (``tests/engines/test_nutpie_adapter.py`` runs it).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import sys
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

SUPPORTED = "0.16"
# The private names this module uses, each with the attributes it calls.
PRIVATE_API = {
    "nutpie._lib": (
        "PySampler",
        "ExpandFunc",
        "LogpFunc",
        "PyVariable",
        "PyMcModel",
        "PyNutsSettings",
        "ProgressType",
        "PyStorage",
        "PyTrace",
    ),
    "nutpie._lib.PySampler": ("from_pymc", "wait", "abort", "take_results"),
    "nutpie._lib.PyVariable": ("new_variables",),
    "nutpie._lib.PyNutsSettings": ("Diag", "update", "as_dict"),
    "nutpie._lib.ProgressType": ("none",),
    "nutpie._lib.PyStorage": ("arrow",),
    "nutpie._lib.PyTrace": ("get_arrow_trace",),
    "nutpie.sample.CompiledModel": ("_make_sampler", "_make_model"),
    "nutpie.compile_pymc": ("_prepare_dims_and_coords", "CompiledPyMCModel"),
    "nutpie.compile_pymc.CompiledPyMCModel": (
        "with_data",
        "shared_var_keys",
        "shape_info",
        "initial_point_func",
    ),
}
POLL_SECONDS = 0.1
"""How often :func:`sample` wakes up while the chains run (to call ``on_wait``)."""


class NutpieChangedError(RuntimeError):
    """nutpie no longer has an internal name the fast path needs."""


def lib() -> types.ModuleType:
    """nutpie's extension module ``nutpie._lib``, without importing the ``nutpie`` package.

    ``import nutpie`` runs ``nutpie.sample``, which imports xarray, pandas and ArviZ (0.5-1 s);
    the extension alone loads in milliseconds. It is loaded from the package's folder under its
    full name, so a later ``import nutpie`` finds it in ``sys.modules`` and uses it.
    """
    if "nutpie._lib" in sys.modules:
        return sys.modules["nutpie._lib"]
    if "nutpie" in sys.modules:
        from nutpie import _lib

        return _lib
    package = importlib.util.find_spec("nutpie")  # locates nutpie without running it
    if package is None or not package.submodule_search_locations:
        raise NutpieChangedError("nutpie is not installed; bayesmeta samples with nutpie")
    for folder in package.submodule_search_locations:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = Path(folder) / f"_lib{suffix}"
            if path.is_file():
                loader = importlib.machinery.ExtensionFileLoader("nutpie._lib", str(path))
                spec = importlib.util.spec_from_file_location("nutpie._lib", path, loader=loader)
                module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
                sys.modules["nutpie._lib"] = module
                loader.exec_module(module)
                return module
    raise NutpieChangedError(f"nutpie's extension module _lib is not in {package.origin}")


def nutpie_sample() -> Callable[..., Any]:
    """``nutpie.sample``, imported without importing all of ArviZ when ArviZ is not loaded yet.

    ``nutpie.sample`` does ``import arviz`` at module level but uses only ``arviz.from_dict``
    and ``arviz.dict_to_dataset``, which ArviZ re-exports from ``arviz_base``. The full
    ``arviz`` package also imports ``arviz_plots`` and matplotlib (about 1.2 s). So while
    nutpie is first imported, ``sys.modules["arviz"]`` holds a stand-in that gives those two
    functions from ``arviz_base`` and imports the real ArviZ for any other name; the stand-in
    is removed again straight after, so a later ``import arviz`` anywhere gets the real package.
    Only models compiled by PyMC need this (``nutpie.compile_pymc_model``).
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


def check() -> None:
    """Raise :class:`NutpieChangedError` naming what is missing if nutpie's internals moved."""
    nutpie_sample()
    import nutpie
    from nutpie import _lib, compile_pymc
    from nutpie.sample import CompiledModel

    owners: dict[str, Any] = {"nutpie._lib": _lib}
    for owner in PRIVATE_API:
        if owner.startswith("nutpie._lib."):
            owners[owner] = getattr(_lib, owner.rsplit(".", 1)[1], None)
    owners["nutpie.sample.CompiledModel"] = CompiledModel
    owners["nutpie.compile_pymc"] = compile_pymc
    owners["nutpie.compile_pymc.CompiledPyMCModel"] = _dataclass_fields(
        getattr(compile_pymc, "CompiledPyMCModel", None)
    )
    missing = [
        f"{owner}.{name}"
        for owner, names in PRIVATE_API.items()
        for name in names
        if not hasattr(owners[owner], name)
    ]
    if missing:
        raise NutpieChangedError(
            f"nutpie {nutpie.__version__} lacks {', '.join(missing)}, which bayesmeta's cached "
            f"kernels use (written for nutpie {SUPPORTED}); install nutpie=={SUPPORTED}.* "
            "or a bayesmeta release that supports this nutpie"
        )


def _dataclass_fields(cls: Any) -> Any:
    """A class's attributes and dataclass fields as one namespace (for :func:`check`)."""
    import dataclasses

    names = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
    return types.SimpleNamespace(**dict.fromkeys(names | set(dir(cls or object))))


def with_model_data(compiled: Any, model: Any) -> Any:
    """A model compiled by ``nutpie.compile_pymc_model`` for another PyMC model of the same
    structure, given ``model``'s data containers and coordinates."""
    import dataclasses

    from nutpie.compile_pymc import _prepare_dims_and_coords

    used = {var.name for var in compiled.shared_var_keys}
    values = {v.name: v.get_value() for v in model.data_vars if v.name in used}
    updated = compiled.with_data(**values)
    dims, coords = _prepare_dims_and_coords(
        model, compiled.shape_info, compiled.reparameterized_names
    )
    return dataclasses.replace(
        updated, dims=dims, _coords=coords, initial_point_func=initial_point_func(model)
    )


def initial_point_func(model: Any) -> Callable[[Any], np.ndarray]:
    """``model``'s starting points as one flat array, as ``nutpie.compile_pymc_model`` makes
    them by default (PyMC's support point, jittered, on the unconstrained scale).

    A compiled model's own starting-point function reads the data containers and dimension
    lengths of the model it was compiled from, so reused for another model it would start
    from that model's shapes: after ``pm.set_data`` to another number of studies on the first
    model, a fresh model of the first shape got starting points of the new shape and nutpie
    failed ("Size of initial value for alpha is (8,), expected [13]"). Each model therefore
    gets a starting-point function of its own.
    """
    import threading

    from pymc.initial_point import make_initial_point_fn

    point = make_initial_point_fn(
        model=model,
        default_strategy="support_point",
        jitter_rvs=set(model.free_RVs),
        return_transformed=True,
    )
    names = [model.rvs_to_values[rv].name for rv in model.free_RVs]
    lock = threading.Lock()  # nutpie calls it from the chains' threads; PyTensor is not safe

    def flat(seed: Any = None) -> np.ndarray:
        with lock:
            values = point(seed)
        return np.concatenate([np.asarray(values[n], dtype="float64").ravel() for n in names])

    return flat


@dataclass(frozen=True)
class Callbacks:
    """A model as C callbacks: what nutpie needs to sample it.

    ``logp`` and ``expand`` are the C functions (objects with an ``address``: numba ``cfunc``
    objects or :class:`bayesmeta.engines.kernels` entries) of nutpie's C signatures;
    ``user_data`` is the float64 array both read; ``names``/``shapes`` describe what ``expand``
    writes; ``initial_point(seed)`` gives a starting point; ``model`` is what the callbacks
    implement, kept for the caller.
    """

    n_dim: int
    logp: Any
    expand: Any
    user_data: np.ndarray
    names: list[str]
    shapes: list[tuple[int, ...]]
    coords: dict[str, Any]
    dims: dict[str, tuple[str, ...]]
    reparameterized: list[str]
    initial_point: Callable[[Any], np.ndarray]
    model: Any = None


@dataclass(frozen=True)
class CallbackModel:
    """A model over C callbacks, with the hooks of nutpie's compiled models that
    :func:`sample` (and ``nutpie.sample``) call."""

    callbacks: Callbacks

    @property
    def n_dim(self) -> int:
        return self.callbacks.n_dim

    @property
    def dims(self) -> dict[str, tuple[str, ...]]:
        return self.callbacks.dims

    @property
    def reparameterized_names(self) -> list[str]:
        return self.callbacks.reparameterized

    @property
    def shapes(self) -> dict[str, tuple[int, ...]]:
        return dict(zip(self.callbacks.names, self.callbacks.shapes, strict=True))

    @property
    def coords(self) -> dict[str, Any]:
        return self.callbacks.coords

    def _make_sampler(
        self,
        settings: Any,
        init_mean: Any,
        cores: int,
        progress_type: Any,
        extra_callback: Any,
        rate: int,
        store: Any,
    ) -> Any:
        model = self._make_model(init_mean)
        return lib().PySampler.from_pymc(
            settings, cores, model, progress_type, extra_callback, rate, store
        )

    def _make_model(self, init_mean: Any) -> Any:
        _lib = lib()
        c = self.callbacks
        n_expanded = sum(int(np.prod(s)) for s in c.shapes)
        ptr = c.user_data.ctypes.data
        expand_fn = _lib.ExpandFunc(c.n_dim, n_expanded, c.expand.address, ptr, self)
        logp_fn = _lib.LogpFunc(c.logp.address, ptr, self)
        dim_sizes = {name: len(vals) for name, vals in c.coords.items()}
        variables = _lib.PyVariable.new_variables(
            c.names,
            ["float64"] * len(c.names),
            [list(s) for s in c.shapes],
            dim_sizes,
            self.dims,
        )
        return _lib.PyMcModel(
            logp_fn,
            expand_fn,
            variables,
            c.n_dim,
            dim_sizes,
            c.coords,
            c.initial_point,
            None,
        )


def callback_model(callbacks: Callbacks) -> CallbackModel:
    """A model that :func:`sample` (or ``nutpie.sample``) samples through ``callbacks``."""
    return CallbackModel(callbacks)


@dataclass(frozen=True)
class ChainProgress:
    """Where one chain is: draws done of its total (tuning included), divergences so far."""

    finished: int
    total: int
    divergences: int
    tuning: bool


@dataclass(frozen=True)
class Trace:
    """Draws after tuning, as ``nutpie.sample`` would put them in its DataTree.

    ``posterior`` and ``sample_stats`` map names to arrays ``(chain, draw, *shape)``;
    ``dims`` names the extra dimensions of each variable and ``coords`` their labels;
    ``stats_attrs`` are the attributes nutpie gives its ``sample_stats`` group.
    """

    posterior: dict[str, np.ndarray]
    sample_stats: dict[str, np.ndarray]
    dims: dict[str, list[str]]
    coords: dict[str, Any]
    stats_attrs: dict[str, str] = field(default_factory=dict)


# Sample statistics nutpie.sample leaves out unless the setting that makes them is on.
_STAT_SETTINGS = {
    "store_gradient": ["gradient"],
    "store_unconstrained": ["unconstrained_draw"],
    "adapt_options.mass_matrix_options.store_mass_matrix": [
        "mass_matrix_inv",
        "mass_matrix_eigvals",
        "mass_matrix_stds",
    ],
    "store_divergences": [
        "divergence_start",
        "divergence_end",
        "divergence_momentum",
        "divergence_start_gradient",
    ],
    "store_transformed": ["transformed_position", "transformed_gradient", "transformation_mu"],
}


def sample(
    compiled_model: Any,
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    target_accept: float,
    cores: int | None = None,
    on_progress: Callable[[list[ChainProgress]], None] | None = None,
    on_wait: Callable[[], None] | None = None,
    progress_rate: int = 200,
) -> Trace:
    """Draw from ``compiled_model`` (a :func:`callback_model` or a model compiled by
    ``nutpie.compile_pymc_model``) with nutpie's NUTS and its default (diagonal, gradient-based)
    mass-matrix adaptation.

    The draws equal those of ``nutpie.sample`` with the same arguments and
    ``save_warmup=False`` (tested). ``on_progress`` is called from nutpie's thread every
    ``progress_rate`` milliseconds with each chain's :class:`ChainProgress`; ``on_wait`` from
    this thread about every :data:`POLL_SECONDS` while the chains run.

    Raises
    ------
    KeyboardInterrupt
        Ctrl-C (or a signal handler raising it) while sampling: the chains are stopped, the
        draws dropped, and the interrupt raised again, never returned as a short trace.
    """
    _lib = lib()
    settings = _lib.PyNutsSettings.Diag(seed)
    settings.update(
        {
            "num_tune": tune,
            "num_draws": draws,
            "num_chains": chains,
            "target_accept": target_accept,
        }
    )
    if cores is None:
        available = getattr(os, "process_cpu_count", os.cpu_count)() or 1
        cores = min(chains, available)
    callback = None
    if on_progress is not None:
        report = on_progress

        def callback(progress: Sequence[Any]) -> None:
            report(
                [
                    ChainProgress(p.finished_draws, p.total_draws, p.divergences, p.tuning)
                    for p in progress
                ]
            )

    sampler = compiled_model._make_sampler(
        settings,
        np.zeros(compiled_model.n_dim),
        cores,
        _lib.ProgressType.none(),
        callback,
        progress_rate,
        _lib.PyStorage.arrow(),
    )
    try:
        while True:
            try:
                sampler.wait(POLL_SECONDS)
                break
            except TimeoutError:
                if on_wait is not None:
                    on_wait()
    except BaseException:
        sampler.abort()  # stops the chain threads; the draws so far are discarded
        raise
    draw_batches, stat_batches = sampler.take_results().get_arrow_trace()
    return _trace(
        draw_batches,
        stat_batches,
        settings.as_dict(),
        compiled_model.reparameterized_names or [],
        compiled_model.coords,
    )


def _nested(settings: dict[str, Any], name: str) -> Any:
    for part in name.split("."):
        if not isinstance(settings, dict) or part not in settings:
            return False
        settings = settings[part]
    return settings


def _trace(
    draw_batches: Sequence[Any],
    stat_batches: Sequence[Any],
    settings: dict[str, Any],
    reparameterized: Sequence[str],
    coords: dict[str, Any],
) -> Trace:
    """Arrays of the draws after tuning from nutpie's arrow record batches (one per chain), as
    ``nutpie.sample._arrow_to_arviz`` lays them out."""
    tuning = [int(np.sum(_column(s, "tuning")[0])) for s in stat_batches]
    lengths = [d.num_rows - n for d, n in zip(draw_batches, tuning, strict=True)]
    off = [key for key in _STAT_SETTINGS if not _nested(settings["settings"], key)]
    skip = {name for key in off for name in _STAT_SETTINGS[key]}
    dims: dict[str, list[str]] = {}
    posterior = _stack(draw_batches, tuning, lengths, set(), dims)
    for name in reparameterized:
        posterior.pop(name, None)
    stats = _stack(stat_batches, tuning, lengths, skip, dims)
    from importlib.metadata import version

    attrs = {
        "inference_library": "nutpie",
        "inference_library_version": version("nutpie"),
        "inference_library_settings": json.dumps(settings),
    }
    return Trace(posterior, stats, dims, coords, attrs)


def _column(
    batch: Any, name: str
) -> tuple[np.ndarray, np.ndarray | None, Any, list[str], list[int]]:
    """Values (flattened), null mask (None: no nulls), numpy dtype, dims and shape of one
    column."""
    import pyarrow

    col = batch.column(name)
    meta = col.field.metadata or {}
    item_dims = meta.get(b"dims", b"").decode("utf-8")
    item_shape = meta.get(b"shape", b"").decode("utf-8")
    arr = pyarrow.array(col)
    nulls = arr.null_count
    mask = arr.is_null().to_numpy(zero_copy_only=False) if nulls else None
    if hasattr(arr, "flatten"):
        arr = arr.flatten()
    return (
        arr.to_numpy(zero_copy_only=False),
        mask,
        arr.type.to_pandas_dtype(),
        item_dims.split(",") if item_dims else [],
        [int(s) for s in item_shape.split(",")] if item_shape else [],
    )


def _fill(dtype: Any) -> Any:
    """What nutpie leaves in an array element no draw writes."""
    if dtype in (np.float64, np.float32):
        return np.nan
    return None if np.dtype(dtype) == np.dtype("O") else 0


def _stack(
    batches: Sequence[Any],
    tuning: list[int],
    lengths: list[int],
    skip: set[str],
    dims: dict[str, list[str]],
) -> dict[str, np.ndarray]:
    """Each column of the per-chain batches as one array ``(chain, draw, *shape)`` of the
    draws after tuning; chains shorter than the longest are padded as nutpie pads them."""
    out: dict[str, np.ndarray] = {}
    n_chains, longest = len(batches), max(lengths, default=0)
    for chain, batch in enumerate(batches):
        part = batch.slice(tuning[chain], lengths[chain])
        n = lengths[chain]
        for name in part.column_names:
            if name in skip:
                continue
            values, mask, dtype, item_dims, shape = _column(part, name)
            if name not in out:
                # nutpie fills what no draw writes (nulls, the end of a short chain) with NaN,
                # None or 0; those elements are filled below, the rest is written over
                out[name] = np.empty((n_chains, longest, *shape), dtype=dtype)
                dims[name] = item_dims
            target = out[name][chain]
            if n < longest:
                target[n:] = _fill(dtype)
            if mask is None:
                target[:n] = values.reshape((n, *shape))
            else:
                if values.shape[0] == n:
                    values = values[~mask]
                target[:n][mask] = _fill(dtype)
                target[:n][~mask] = values.reshape((int((~mask).sum()), *shape))
    return out
