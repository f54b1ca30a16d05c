"""Publication figures of a meta-analysis: the public plotting API.

Each function returns a :class:`matplotlib.figure.Figure` and writes nothing; :func:`save`
writes one as PNG, SVG (text kept as text) or PDF::

    import bayesmeta
    from bayesmeta import plots

    result = bayesmeta.analyze("examples/bcg.csv")
    plots.save(plots.forest(result), "forest.pdf")
    plots.save(plots.funnel(result.data), "funnel.svg")

- :func:`forest`: study columns, weights, observed and shrunken effects, pooled diamonds,
  prediction interval, heterogeneity line (:mod:`bayesmeta.report.figures.forest`).
- :func:`funnel`: effects against standard errors with the pseudo-confidence region and
  Egger's line (takes the data, needs no fit).
- :func:`posterior` and :func:`tau`: the pooled effect's and tau's posterior with the prior.
- :func:`trace` and :func:`rank`: MCMC diagnostics drawn by ArviZ (NUTS fits only).
- :func:`sensitivity`: the pooled effect across priors for tau
  (rows of :func:`bayesmeta.workflows.sensitivity.prior_sensitivity`).
- :func:`influence`: leave-one-out influence
  (:func:`bayesmeta.workflows.influence.influence`).
- :func:`robustness_map`: P(benefit) and the Bayes factors over the prior scales
  (:func:`bayesmeta.robustness`); :func:`model_average`: the four models' probabilities and the
  model-averaged effect (:func:`bayesmeta.average`).
- :func:`baujat` and :func:`gosh`: the frequentist case diagnostics
  (:func:`bayesmeta.frequentist.influence.baujat`, :func:`~bayesmeta.frequentist.influence.gosh`).

The same figures come from the command line as ``bayesmeta plot KIND DATA --out FILE``.
"""

from bayesmeta.report.figures import save
from bayesmeta.report.figures.diagnostics import baujat, gosh
from bayesmeta.report.figures.forest import forest
from bayesmeta.report.figures.funnel import funnel
from bayesmeta.report.figures.influence import influence, sensitivity
from bayesmeta.report.figures.mcmc import rank, trace
from bayesmeta.report.figures.posterior import pooled_posterior as posterior
from bayesmeta.report.figures.posterior import tau_posterior as tau
from bayesmeta.report.figures.robustness import model_average, robustness_map

__all__ = [
    "baujat",
    "forest",
    "funnel",
    "gosh",
    "influence",
    "model_average",
    "posterior",
    "rank",
    "robustness_map",
    "save",
    "sensitivity",
    "tau",
    "trace",
]
