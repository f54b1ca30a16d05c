"""bayesmeta: Bayesian meta-analysis of clinical studies.

Exact binomial-normal hierarchical models in PyMC, beside the frequentist estimators
(Mantel-Haenszel, inverse-variance, DerSimonian-Laird ...) that reviewers expect, matched to
R metafor. Heavy libraries (PyMC, ArviZ) are imported only by the Bayesian modules.
"""

from importlib.metadata import PackageNotFoundError, version

from bayesmeta.errors import BayesmetaError, DataError
from bayesmeta.io.counts import SingleArmData, TwoArmData, load

try:
    __version__ = version("bayesmeta")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["BayesmetaError", "DataError", "SingleArmData", "TwoArmData", "__version__", "load"]
