"""Likelihoods as registered objects (:mod:`~bayesmeta.model.likelihoods.registry`)."""

from bayesmeta.model.likelihoods.base import Likelihood
from bayesmeta.model.likelihoods.registry import LIKELIHOODS, NAMES, likelihood, native, resolve

__all__ = ["LIKELIHOODS", "NAMES", "Likelihood", "likelihood", "native", "resolve"]
