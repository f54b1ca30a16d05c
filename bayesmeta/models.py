"""PyMC model builders: each returns a plain :class:`pymc.Model` for research code to extend."""

from bayesmeta.engines.pymc import binomial_normal, normal_normal, proportion

__all__ = ["binomial_normal", "normal_normal", "proportion"]
