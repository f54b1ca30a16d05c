"""Independent brute-force marginal likelihoods of the 36 publication-bias models.

Written apart from bayesmeta (numpy and scipy only): each model's marginal likelihood is
integrated by composite Gauss-Legendre rules -- ``mu`` over +-2 around the inverse-variance
mean, ``tau`` and the PET/PEESE coefficient through their priors' cdfs (uniform in
u = F(tau), u = F(b)), the weights over the ordered
simplex 0 <= w_1 <= ... <= w_{J-1} <= 1 (density (J-1)!, the cumulative Dirichlet(1, ..., 1))
as ``w_{J-1} = v_1, w_{J-2} = v_1 v_2, ...`` on [0, 1]^(J-1). Each study's weight is read
from its p-value (one-sided ``P(Z > y / se)``, two-sided ``2 P(Z > |y| / se)``), its
normaliser is sum_j w_j P(p in interval j). Every integral is repeated with 2/3 of the panels;
the JSON keeps both (``log_ml``, ``log_ml_coarse``) and the posterior mean of ``mu`` (on the
data's scale).

    .venv/bin/python tests/reference/bias_bruteforce.py   # writes bias_bruteforce.json (~15 min)

Data: the 13 BCG trials (Colditz et al. 1994, JAMA 271:698; metafor dat.bcg), log risk
ratios, expected direction negative, RoBMA-PSMA priors (mu ~ N(0, 1), tau ~ InvGamma(1, 0.15),
PET ~ Cauchy+(0, 1), PEESE ~ Cauchy+(0, 5)); the 37 studies of passive smoking and lung
cancer (Hackshaw et al. 1997, BMJ 315:980; metadat dat.hackshaw1998, not shipped with
bayesmeta), log odds ratios, direction positive, priors mu ~ N(0, 2.82), tau ~ HalfNormal(0.5).
"""

import itertools
import json
import math
from pathlib import Path

import numpy as np
from numpy.polynomial.legendre import leggauss
from scipy import stats
from scipy.special import ndtr

BCG = [  # tpos, tneg, cpos, cneg (metafor dat.bcg)
    (4, 119, 11, 128), (6, 300, 29, 274), (3, 228, 11, 209), (62, 13536, 248, 12619),
    (33, 5036, 47, 5761), (180, 1361, 372, 1079), (8, 2537, 10, 619), (505, 87886, 499, 87892),
    (29, 7470, 45, 7232), (17, 1699, 65, 1600), (186, 50448, 141, 27197), (5, 2493, 3, 2338),
    (27, 16886, 29, 17825),
]  # fmt: skip
HACKSHAW_YI = [
    0.165514438477573328, 0.371563556432483011, 0.703097511413113385, 0.182321556793954592,
    -0.287682072451780901, 0.727548607277277659, 0.756121979721333659, -0.223143551314209709,
    -0.235722333521069832, 0.698134722070984259, 0.207014169384326124, 0.182321556793954592,
    0.418710334858185040, 0.029558802241544429, 0.438254930931155307, 0.029558802241544429,
    0.850150929369610009, 0.500775287912489153, 0.173953307123437984, 0.418710334858185040,
    0.770108221696073736, 0.076961041136128394, 0.936093359170334760, 0.482426149244292779,
    0.058268908123975824, -0.235722333521069832, -0.301105092783921613, 0.819779831493311351,
    -0.030459207484708574, 0.470003629245735632, 0.173953307123437984, 0.506817602368451858,
    0.231111720963386641, 0.095310179804324935, 0.506817602368451858, 0.148420005118273218,
    0.104360015324242855,
]  # fmt: skip
HACKSHAW_VI = [
    0.018776885485068111, 0.033044038905788040, 0.540195865342449344, 0.031267614488666259,
    0.079655654102011059, 0.227320591670481742, 0.088921562706980317, 0.192679603117081349,
    0.339016347538589169, 0.098066202438763614, 0.045555548577534688, 0.231749969641463993,
    0.079642922019245332, 0.217395024672567272, 0.076957974038688148, 0.071501763525773143,
    0.292565772065689345, 0.032437507429871205, 0.036273346641853617, 0.483851241822467082,
    0.123816201921842367, 0.071085191722118954, 0.398195433354185058, 0.089623124068944029,
    0.033719888332550567, 0.016129490917390160, 0.180233473435611968, 0.317147722864399018,
    0.012546845149027305, 0.113696292350967440, 0.089336780416566675, 0.175985594791832289,
    0.010029047431528208, 0.086214355886586311, 0.039874967543697924, 0.036399755569629523,
    0.066419506621977722,
]  # fmt: skip

# (name, kind, steps, sides)
BIAS = [
    ("none", "none", (), None),
    ("two-sided(0.05)", "wf", (0.05,), "two"),
    ("two-sided(0.05, 0.1)", "wf", (0.05, 0.1), "two"),
    ("one-sided(0.05)", "wf", (0.05,), "one"),
    ("one-sided(0.025, 0.05)", "wf", (0.025, 0.05), "one"),
    ("one-sided(0.05, 0.5)", "wf", (0.05, 0.5), "one"),
    ("one-sided(0.025, 0.05, 0.5)", "wf", (0.025, 0.05, 0.5), "one"),
    ("PET", "pet", (), None),
    ("PEESE", "peese", (), None),
]


def composite(lo, hi, panels, order):
    """Composite Gauss-Legendre nodes and weights on [lo, hi]."""
    x, w = leggauss(order)
    edges = np.linspace(lo, hi, panels + 1)
    a, b = edges[:-1, None], edges[1:, None]
    nodes = (0.5 * (b - a) * x + 0.5 * (a + b)).ravel()
    weights = (0.5 * (b - a) * w).ravel()
    return nodes, weights


class Data:
    def __init__(self, yi, sei, direction, prior_mu, prior_tau):
        sign = -1.0 if direction == "negative" else 1.0
        self.y = sign * np.asarray(yi, float)  # in the expected direction
        self.se = np.asarray(sei, float)
        self.sign = sign
        self.prior_mu, self.prior_tau = prior_mu, prior_tau


def p_values(d, sides):
    t = d.y / d.se
    return stats.norm.sf(t) if sides == "one" else 2 * stats.norm.sf(np.abs(t))


def interval_probs(d, mean, sd, steps, sides):
    """P(study's p-value in each interval), intervals ordered by increasing p: shape (..., k, J)."""
    cuts = sorted(steps)
    out = []
    edges = [0.0, *cuts, 1.0]
    for a, b in itertools.pairwise(edges):
        # p in [a, b)  <=>  t in (isf(b), isf(a)] (one-sided) or |t| in (isf(b/2), isf(a/2)]
        if sides == "one":
            hi = stats.norm.isf(a) * d.se if a > 0 else np.inf
            lo = stats.norm.isf(b) * d.se if b < 1 else -np.inf
            pr = ndtr((hi - mean) / sd) - ndtr((lo - mean) / sd)
        else:
            hi = stats.norm.isf(a / 2) * d.se if a > 0 else np.inf
            lo = stats.norm.isf(b / 2) * d.se if b < 1 else 0.0
            pr = (ndtr((hi - mean) / sd) - ndtr((lo - mean) / sd)) + (
                ndtr((-lo - mean) / sd) - ndtr((-hi - mean) / sd)
            )
        out.append(pr)
    return np.stack(out, axis=-1)


def _logsum(logw, logv, mu=None):
    """log sum exp(logw + logv) over finite terms (and the weighted sum of ``mu``)."""
    x = logw + logv
    good = np.isfinite(x)
    top = x[good].max()
    e = np.exp(x[good] - top)
    total = np.sum(e)
    mean = float(np.sum(e * mu[good]) / total) if mu is not None else 0.0
    return top + math.log(total), total, mean


def log_ml(d, effect, random, bias, scale):
    """log p(y | model) by the product rule; ``scale`` multiplies the number of panels."""
    _, kind, steps, sides = bias
    if effect:
        w = 1 / (d.se**2 + 0.05)
        centre = d.sign * np.sum(w * d.y) / np.sum(w)
        mu, wmu = composite(centre - 2.0, centre + 2.0, round((10 if random else 40) * scale), 8)
        wmu = wmu * d.prior_mu.pdf(mu)
    else:
        mu, wmu = np.zeros(1), np.ones(1)
    if random:
        # through the prior's cdf (uniform in u = F(tau)): the heavy tail of InvGamma too
        ut, wtau = composite(0.0, 1.0, round((8 if kind == "wf" else 16) * scale), 8)
        tau = d.prior_tau.ppf(ut)
    else:
        tau, wtau = np.zeros(1), np.ones(1)
    if kind in ("pet", "peese"):
        prior_b = stats.halfcauchy(scale=1.0 if kind == "pet" else 5.0)
        ub, wb = composite(0.0, 1.0, round(8 * scale), 8)
        b = prior_b.ppf(ub)
    else:
        b, wb = np.zeros(1), np.ones(1)
    M, T, B = (x.reshape(-1, 1) for x in np.meshgrid(mu, tau, b, indexing="ij"))
    W = (wmu[:, None, None] * wtau[None, :, None] * wb[None, None, :]).ravel()
    with np.errstate(divide="ignore"):
        logw = np.log(W)
    mean = d.sign * M + (B * d.se if kind == "pet" else B * d.se**2 if kind == "peese" else 0.0)
    sd = np.sqrt(d.se**2 + T**2)
    ll = np.sum(-0.5 * np.log(2 * np.pi) - np.log(sd) - 0.5 * ((d.y - mean) / sd) ** 2, axis=1)
    if kind != "wf":
        lml, _, mean = _logsum(logw, ll, M[:, 0])
        return lml, mean
    # weights by increasing p-value: omega_1 = 1 (most significant interval), then
    # 1 >= omega_2 >= ... >= omega_J on the ordered simplex: omega_2 = v1, omega_3 = v1 v2 ...
    J = len(steps) + 1
    probs = interval_probs(d, mean, sd, steps, sides)  # n x k x J
    which = np.searchsorted(sorted(steps), p_values(d, sides), side="right")
    v, wv = composite(0.0, 1.0, round(2 * scale), 8)
    grid = np.array(list(itertools.product(range(len(v)), repeat=J - 1)))
    vals = v[grid]  # m x (J-1)
    free = np.cumprod(vals, axis=1)
    jac = np.prod([vals[:, i] ** (J - 2 - i) for i in range(J - 1)], axis=0)
    wom = np.prod(wv[grid], axis=1) * jac * math.factorial(J - 1)
    omega = np.column_stack([np.ones(len(grid)), free])  # m x J
    counts = np.bincount(which, minlength=J)
    parts, means = [], []
    for i in range(0, len(omega), 64):
        om = omega[i : i + 64]
        norm = np.einsum("nkj,mj->nmk", probs, om)
        lv = ll[:, None] + (np.log(om) @ counts)[None, :] - np.sum(np.log(norm), axis=2)
        mus = np.repeat(M[:, 0], len(om))
        lml, _, mean = _logsum(
            (logw[:, None] + np.log(wom[i : i + 64])[None, :]).ravel(), lv.ravel(), mus
        )
        parts.append(lml)
        means.append(mean)
    parts, means = np.array(parts), np.array(means)
    lml = float(np.logaddexp.reduce(parts))
    return lml, float(np.sum(np.exp(parts - lml) * means))


def main():
    a = np.array(BCG, float)
    yi = np.log(a[:, 0] / (a[:, 0] + a[:, 1])) - np.log(a[:, 2] / (a[:, 2] + a[:, 3]))
    vi = 1 / a[:, 0] - 1 / (a[:, 0] + a[:, 1]) + 1 / a[:, 2] - 1 / (a[:, 2] + a[:, 3])
    sets = {
        "bcg": Data(yi, np.sqrt(vi), "negative", stats.norm(0, 1), stats.invgamma(1, scale=0.15)),
        "hackshaw": Data(
            HACKSHAW_YI, np.sqrt(HACKSHAW_VI), "positive", stats.norm(0, 2.82),
            stats.halfnorm(scale=0.5),
        ),
    }  # fmt: skip
    out = {"source": __doc__.split("\n\n")[0], "datasets": {}}
    for key, d in sets.items():
        d.name = key
        rows = []
        for bias in BIAS:
            for effect, random in itertools.product((True, False), repeat=2):
                fine, mean_mu = log_ml(d, effect, random, bias, 1.5)
                coarse, _ = log_ml(d, effect, random, bias, 1)
                rows.append({"effect": effect, "random": random, "bias": bias[0],
                             "log_ml": fine, "log_ml_coarse": coarse,
                             "mean_mu": mean_mu})  # fmt: skip
                print(key, bias[0], effect, random, f"{fine:.8f} {fine - coarse:.1e}", flush=True)
        out["datasets"][key] = {"yi": list(map(float, d.sign * d.y)), "sei": list(map(float, d.se)),
                                "direction": "negative" if d.sign < 0 else "positive",
                                "models": rows}  # fmt: skip
    path = Path(__file__).with_suffix(".json")
    path.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
