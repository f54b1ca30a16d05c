"""The likelihood registry: one row per likelihood, read by every engine, report and command.

Adding a likelihood is adding its module to this package and its instance to
:data:`LIKELIHOODS` (in the order ``--model auto`` tries them against the data).
"""

from __future__ import annotations

from typing import Any

from bayesmeta.errors import OptionError
from bayesmeta.model.likelihoods.base import Likelihood
from bayesmeta.model.likelihoods.binomial_normal import BinomialNormal
from bayesmeta.model.likelihoods.mixed import MixedBinomialNormal
from bayesmeta.model.likelihoods.network import NetworkBinomial
from bayesmeta.model.likelihoods.normal_normal import NormalNormal
from bayesmeta.model.likelihoods.poisson_normal import PoissonNormal
from bayesmeta.model.likelihoods.proportion import Proportion

LIKELIHOODS: dict[str, Likelihood] = {
    lik.name: lik
    for lik in (
        BinomialNormal(),
        Proportion(),
        PoissonNormal(),
        MixedBinomialNormal(),
        NetworkBinomial(),
        NormalNormal(),
    )
}
NAMES = tuple(LIKELIHOODS)


def likelihood(name: str) -> Likelihood:
    """The registered likelihood ``name``.

    Raises
    ------
    OptionError
        An unknown name; the message lists the valid ones.
    """
    try:
        return LIKELIHOODS[name]
    except KeyError:
        raise OptionError(f"unknown model {name!r}; choose one of {', '.join(NAMES)}") from None


def native(data: Any) -> Likelihood:
    """The likelihood whose data class ``data`` is (the one ``--model auto`` fits)."""
    for lik in LIKELIHOODS.values():
        if type(data) is lik.data_class:
            return lik
    for lik in LIKELIHOODS.values():
        if isinstance(data, lik.data_class):
            return lik
    raise TypeError(f"no likelihood for data of type {type(data).__name__}")


def resolve(data: Any, model: str = "auto") -> Likelihood:
    """The likelihood for ``data``: checks an explicit choice, picks one for ``"auto"``.

    Raises
    ------
    OptionError
        An unknown model, or one that cannot be fitted to ``data``.
    """
    if model == "auto":
        return native(data)
    lik = likelihood(model)
    if not lik.accepts(data):
        raise OptionError(f"model {model} needs {lik.needs}")
    return lik
