"""Posterior draws as numpy arrays, with the ArviZ DataTree built from them only when asked for.

Summaries and convergence checks need only the arrays. Turning them into a DataTree (xarray,
``arviz_base``, and the ``dask.array`` import xarray makes to recognise dask arrays) cost 0.4 s
of a 2 s ``bayesmeta fit`` and about a sixth of the CPU of a batch fit (issue 13), so
:class:`Draws` builds the DataTree on first use of :meth:`Draws.datatree`: saving the
posterior, PSIS-LOO, ``AnalysisResult.idata``. The tree equals the one ``nutpie.sample`` gives
(with ``constant_data``/``observed_data`` and the attributes PyMC adds; tested).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from xarray import DataTree

    from bayesmeta.engines.nutpie_adapter import Trace

SAMPLE_DIMS = ("chain", "draw")


@dataclass(eq=False)
class Draws:
    """Draws ``(chain, draw, *shape)`` by variable, and how to make the DataTree of them.

    ``posterior`` and ``sample_stats`` map names to arrays; ``dims`` gives the names of the
    dimensions after ``chain`` and ``draw`` of each variable and ``coords`` their labels.
    ``group_attrs`` holds the attributes of the ``posterior`` and ``sample_stats`` groups,
    ``attrs`` those of the root. ``finish`` adds what the arrays do not hold (observed and
    constant data) to the new tree.
    """

    posterior: dict[str, np.ndarray]
    sample_stats: dict[str, np.ndarray] = field(default_factory=dict)
    dims: dict[str, list[str]] = field(default_factory=dict)
    coords: dict[str, Any] = field(default_factory=dict)
    group_attrs: dict[str, dict[str, Any]] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)
    finish: Callable[[DataTree], None] | None = field(default=None, repr=False)
    _tree: DataTree | None = field(default=None, repr=False)

    @classmethod
    def from_trace(
        cls,
        trace: Trace,
        *,
        posterior_attrs: Mapping[str, Any] | None = None,
        finish: Callable[[DataTree], None] | None = None,
    ) -> Draws:
        """The draws of a :class:`~bayesmeta.engines.nutpie_adapter.Trace`."""
        return cls(
            posterior=trace.posterior,
            sample_stats=trace.sample_stats,
            dims=trace.dims,
            coords=dict(trace.coords),
            group_attrs={
                "posterior": {
                    "inference_library": trace.stats_attrs.get("inference_library"),
                    **(posterior_attrs or {}),
                },
                "sample_stats": dict(trace.stats_attrs),
            },
            finish=finish,
        )

    @classmethod
    def from_datatree(cls, idata: DataTree) -> Draws:
        """The draws of an existing DataTree (kept: :meth:`datatree` returns it)."""
        post = idata["posterior"]
        posterior, dims = {}, {}
        for name in post.data_vars:
            var = post[name].transpose(*SAMPLE_DIMS, ...)
            posterior[str(name)] = np.asarray(var)
            dims[str(name)] = [str(d) for d in var.dims[2:]]
        coords = {str(d): np.asarray(post.coords[d]) for d in post.coords if d not in SAMPLE_DIMS}
        stats = {}
        if "sample_stats" in idata.children:
            group = idata["sample_stats"]
            stats = {str(n): np.asarray(group[n]) for n in group.data_vars}
        return cls(
            posterior=posterior,
            sample_stats=stats,
            dims=dims,
            coords=coords,
            group_attrs={"posterior": dict(post.attrs)},
            attrs=idata.attrs,
            _tree=idata,
        )

    def var_dims(self, name: str) -> list[str]:
        """Dimensions of ``name`` after ``chain`` and ``draw``."""
        return list(self.dims.get(name, []))

    def labels(self, dim: str) -> list[str]:
        """The labels of dimension ``dim`` as text (study names, subgroup levels...)."""
        return [str(v) for v in np.asarray(self.coords[dim])]

    @property
    def sampler(self) -> str:
        """The library that made the draws (``nutpie``), or ``unknown``."""
        name = self.group_attrs.get("posterior", {}).get("inference_library")
        return str(name) if name else "unknown"

    def update_attrs(self, values: Mapping[str, Any]) -> None:
        """Add root attributes (also to the DataTree if it was built already)."""
        self.attrs.update(values)
        if self._tree is not None and self._tree.attrs is not self.attrs:
            self._tree.attrs.update(values)

    def datatree(self) -> DataTree:
        """The draws as an ArviZ DataTree (built on the first call, then kept)."""
        if self._tree is None:
            import pandas as pd
            from arviz_base import from_dict

            tree = from_dict(
                {"posterior": self.posterior, "sample_stats": self.sample_stats},
                dims=self.dims,
                coords={name: pd.Index(values) for name, values in self.coords.items()},
                attrs={"sample_stats": self.group_attrs.get("sample_stats", {})},
            )
            if self.finish is not None:
                self.finish(tree)
            tree.attrs.update(self.attrs)
            self._tree = tree
        return self._tree


def as_draws(data: Draws | DataTree) -> Draws:
    """``data`` as :class:`Draws` (a DataTree is wrapped, not copied)."""
    return data if isinstance(data, Draws) else Draws.from_datatree(data)
