"""Everything bayesmeta uses of nutpie's internals, in one place.

nutpie samples a model given as C callbacks (log density with gradient, and an "expand"
function writing the posterior variables) through its private extension module ``nutpie._lib``,
as ``nutpie.compile_pymc_model`` does for PyTensor's numba functions. The hand-written kernels
(:mod:`bayesmeta.engines.kernels`) are such callbacks, so :func:`callback_model` wraps them the
same way. Only this module touches ``nutpie._lib``, ``nutpie.sample.CompiledModel``'s hooks and
the import of ``nutpie`` itself; :func:`check` says clearly what is missing if a nutpie release
changes them (``tests/engines/test_nutpie_adapter.py`` runs it).
"""

from __future__ import annotations

import functools
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

SUPPORTED = "0.16"
# The private names this module uses, each with the attributes it calls.
PRIVATE_API = {
    "nutpie._lib": ("PySampler", "ExpandFunc", "LogpFunc", "PyVariable", "PyMcModel"),
    "nutpie._lib.PySampler": ("from_pymc",),
    "nutpie._lib.PyVariable": ("new_variables",),
    "nutpie.sample.CompiledModel": ("_make_sampler", "_make_model"),
    "nutpie.compile_pymc": ("_prepare_dims_and_coords", "CompiledPyMCModel"),
    "nutpie.compile_pymc.CompiledPyMCModel": ("with_data", "shared_var_keys", "shape_info"),
}


class NutpieChangedError(RuntimeError):
    """nutpie no longer has an internal name the fast path needs."""


def nutpie_sample() -> Callable[..., Any]:
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


def check() -> None:
    """Raise :class:`NutpieChangedError` naming what is missing if nutpie's internals moved."""
    nutpie_sample()
    import nutpie
    from nutpie import _lib, compile_pymc
    from nutpie.sample import CompiledModel

    owners = {
        "nutpie._lib": _lib,
        "nutpie._lib.PySampler": getattr(_lib, "PySampler", None),
        "nutpie._lib.PyVariable": getattr(_lib, "PyVariable", None),
        "nutpie.sample.CompiledModel": CompiledModel,
        "nutpie.compile_pymc": compile_pymc,
        "nutpie.compile_pymc.CompiledPyMCModel": _dataclass_fields(
            getattr(compile_pymc, "CompiledPyMCModel", None)
        ),
    }
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
    return dataclasses.replace(updated, dims=dims, _coords=coords)


@dataclass(frozen=True)
class Callbacks:
    """A model as C callbacks: what nutpie needs to sample it.

    ``logp`` and ``expand`` are numba ``cfunc`` objects (with an ``address``) of nutpie's C
    signatures; ``user_data`` is the float64 array both read; ``names``/``shapes`` describe
    what ``expand`` writes; ``initial_point(seed)`` gives a starting point; ``model`` is what
    the callbacks implement, kept for the caller.
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


@functools.cache
def _compiled_class() -> type:
    """A nutpie ``CompiledModel`` over C callbacks (built lazily: nutpie is imported here)."""
    nutpie_sample()
    from nutpie import _lib
    from nutpie.sample import CompiledModel

    @dataclass(frozen=True)
    class CallbackModel(CompiledModel):  # type: ignore[misc, valid-type]
        """nutpie model over cached C callbacks."""

        callbacks: Callbacks

        @property
        def n_dim(self) -> int:
            return self.callbacks.n_dim

        @property
        def shapes(self) -> dict[str, tuple[int, ...]]:
            return dict(zip(self.callbacks.names, self.callbacks.shapes, strict=True))

        @property
        def coords(self) -> dict[str, Any]:
            return self.callbacks.coords

        def _make_sampler(
            self, settings, init_mean, cores, progress_type, extra_callback, rate, store
        ):
            model = self._make_model(init_mean)
            return _lib.PySampler.from_pymc(
                settings, cores, model, progress_type, extra_callback, rate, store
            )

        def _make_model(self, init_mean):
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

    return CallbackModel


def callback_model(callbacks: Callbacks) -> Any:
    """A nutpie compiled model that ``nutpie.sample`` samples through ``callbacks``."""
    return _compiled_class()(
        dims=callbacks.dims,
        reparameterized_names=callbacks.reparameterized,
        callbacks=callbacks,
    )
