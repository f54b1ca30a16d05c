# Reference values for the prior robustness map (bayesmeta robustness): the R package
# bayesmeta 3.4 (Roever 2020, J Stat Softw 93(6)) on the normal-normal model of the BCG log odds
# ratios, at a few (tau half-normal scale, mu normal scale) prior pairs.
# R 4.2.2, metafor 3.8-1, numDeriv, mvtnorm, jsonlite. bayesmeta is not installed here (its
# forestplot dependency is missing), so its source file is read directly: R/bayesmeta.R of
# github.com/cran/bayesmeta at commit e7eaba2f (version 3.4, 2024-02-15). Run from the
# repository root:
#   git -C MIRROR show HEAD:R/bayesmeta.R > /tmp/bayesmeta.R
#   Rscript tests/reference/rbayesmeta_robustness.R /tmp/bayesmeta.R
# (writes tests/reference/rbayesmeta_robustness.json)
suppressMessages({library(metafor); library(numDeriv); library(mvtnorm); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
source(args[1])

es <- escalc(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
pairs <- list(c(0.5, 1), c(1, 4), c(0.1, 0.3))  # (tau scale, mu sd); mu prior mean 0
cells <- lapply(pairs, function(p) {
  fit <- bayesmeta(y = as.numeric(es$yi), sigma = sqrt(as.numeric(es$vi)),
                   mu.prior.mean = 0, mu.prior.sd = p[2],
                   tau.prior = function(t) dhalfnormal(t, scale = p[1]))
  bf <- fit$bayesfactor
  list(tau_scale = p[1], mu_sd = p[2],
       # pposterior(mu = 0) is P(mu <= 0 | y); the Bayes factors are BF01, so log BF10 = -log
       p_mu_below_0 = fit$pposterior(mu = 0),
       log_bf10_effect = -log(bf["actual", "mu=0"]),
       log_bf10_heterogeneity = -log(bf["actual", "tau=0"]),
       log_marginal_likelihood = log(fit$marginal.likelihood))
})
out <- list(
  source = "R bayesmeta 3.4 (cran/bayesmeta e7eaba2f, R/bayesmeta.R sourced), R 4.2.2",
  data = "dat.bcg, escalc(measure = 'OR') log odds ratios",
  yi = as.numeric(es$yi), vi = as.numeric(es$vi),
  mu_prior_mean = 0, cells = cells)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/rbayesmeta_robustness.json")
