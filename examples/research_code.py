"""bayesmeta from research code: fit, extend, compare with LOO, predict a new trial.

Data: the 13 BCG vaccine trials (Colditz et al. 1994, JAMA 271:698; shipped as ``bcg``).
Run: ``.venv/bin/python examples/research_code.py`` (about a minute: two PyMC compilations).
"""

import arviz_stats as azs
import numpy as np
import pymc as pm

import bayesmeta
from bayesmeta.models import binomial_normal, sample

data = bayesmeta.load_example("bcg")

# 1. The default analysis: binomial-normal model, posterior and frequentist rows side by side.
result = bayesmeta.analyze(data, seed=2026)
print(result.summary().loc[["odds_ratio", "tau", "predictive_odds_ratio"]].round(3))
frame = bayesmeta.classic(data).to_frame()
print(frame.loc[["random_dl", "random_reml_hksj"], ["estimate", "se", "ci_lower", "ci_upper"]])

# 2a. Another prior for tau: priors take the command line's text.
wide = sample(
    binomial_normal(data, priors={"tau": "half-cauchy(0.5)"}), seed=2026, target_accept=0.95
)
print("tau median, half-Cauchy(0.5) prior:", float(wide["posterior"]["tau"].median()))

# 2b. A study-level covariate added by hand: the binomial-normal model written out in PyMC with
# absolute latitude on the log odds ratio (the builders do this with bayesmeta.moderators).
latitude = data.covariates["ablat"].to_numpy(float)
with pm.Model(coords={"study": list(data.study)}) as by_hand:
    n_t = pm.Data("treatment_total", data.treatment_total, dims="study")
    n_c = pm.Data("control_total", data.control_total, dims="study")
    lat = pm.Data("latitude", latitude - latitude.mean(), dims="study")
    alpha = pm.Normal("alpha", 0.0, 10.0, dims="study")
    mu = pm.Normal("mu", 0.0, 2.82)
    tau = pm.HalfNormal("tau", 0.5)
    beta = pm.Normal("beta", 0.0, 1.0)
    z = pm.Normal("z", 0.0, 1.0, dims="study")
    theta = pm.Deterministic("theta", mu + beta * lat + tau * z, dims="study")
    pm.Binomial("control_events", n=n_c, logit_p=alpha, observed=data.control_events)
    pm.Binomial("treatment_events", n=n_t, logit_p=alpha + theta, observed=data.treatment_events)
regression = sample(by_hand, seed=2026, target_accept=0.99)
print("log OR per degree of latitude:", float(regression["posterior"]["beta"].median()))

# 2c. A derived quantity added to a builder model: P(OR < 0.5 in a new trial).
model = binomial_normal(data)
with model:
    pm.Deterministic("or_new_below_half", model["theta_new"] < np.log(0.5))
extended = sample(model, seed=2026)
print("P(OR_new < 0.5):", float(extended["posterior"]["or_new_below_half"].mean()))

# 3. Random against common effect with PSIS-LOO, studies as the units left out.
random_ = bayesmeta.analyze(data, seed=2026, log_likelihood=True)
common = bayesmeta.analyze(data, seed=2026, log_likelihood=True, common_effect=True)
print(azs.compare({"random": random_.idata, "common": common.idata}))

# 4. A new trial of 200 + 200 patients with a 5% control risk: predicted treatment events.
rng = np.random.default_rng(2026)
theta_new = np.asarray(result.idata["posterior"]["theta_new"]).ravel()
p_control = 0.05
p_treatment = 1 / (1 + np.exp(-(np.log(p_control / (1 - p_control)) + theta_new)))
events = rng.binomial(200, p_treatment)
print("new trial, treatment events of 200:", np.percentile(events, [2.5, 50, 97.5]))
