"""Fit the binomial-normal model to the BCG trials from Python and print the key numbers.

Run: .venv/bin/python examples/api_example.py
"""

import math
from pathlib import Path

import bayesmeta
from bayesmeta.engines.nuts import SamplerSettings
from bayesmeta.model.priors import PriorSet, parse_prior
from bayesmeta.workflows.analyze import analyze

data = bayesmeta.load(Path(__file__).parent / "bcg.csv")
result = analyze(
    data,
    priors=PriorSet(tau=parse_prior("half-normal(0.5)")),
    settings=SamplerSettings(seed=2026),
)
post = result.posterior.to_dict()
print(f"pooled OR {post['odds_ratio']['median']:.2f}, 95% CrI {post['odds_ratio']['ci95']}")
print(f"tau {post['tau']['median']:.2f}; P(OR < 1) = {post['prob_mu_below_0']:.4f}")
print(f"DerSimonian-Laird OR: {math.exp(result.frequentist['random_dl']['estimate']):.2f}")
print(f"converged: {result.diagnostics.converged}")
