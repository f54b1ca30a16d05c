# Reference values of issue 20 item 5 from the R bayesmeta package (Rover 2020, J Stat Softw
# 93(6)), version 3.4 as on the cran/bayesmeta GitHub mirror (commit e7eaba2), sourced rather
# than installed:
#
#   git -C cran-bayesmeta show HEAD:R/bayesmeta.R > /tmp/bayesmeta.R
#   Rscript tests/reference/bayesmeta_checks.R /tmp/bayesmeta.R   # from the repository root
#
# R 4.2.2, metafor 3.8-1, jsonlite. Writes tests/reference/bayesmeta_checks.json.
#
# Data: examples/bcg.csv as escalc(measure = "OR") log odds ratios (metafor defaults), and
# the eight schools (Rubin 1981; bayesmeta's data(Rubin1981), effect and stderr), a data set
# the package does not ship.
# Priors: "default" mu ~ N(0, 2.82^2), tau ~ half-normal(0.5) (bayesmeta's defaults);
#         "flat"    mu flat (mu.prior = c(NA, NA)), tau uniform on [0, inf) (tau.prior =
#                   "uniform"): the R package's defaults, improper.
# Per study i, the posterior predictive p-value of the observed effect y_i: y_i^rep =
# theta_i^rep + e_i with theta_i^rep ~ N(mu, tau^2) a new draw and e_i ~ N(0, sigma_i^2), at
# (mu, tau) from the posterior; p_lower = P(y_i^rep <= y_i | y). Two references:
#   "ppp_integral": int p(tau | y) Phi((y_i - E[mu | tau, y]) /
#                   sqrt(Var[mu | tau, y] + tau^2 + sigma_i^2)) dtau with the fit's dposterior
#                   and cond.moment (stats::integrate, rel.tol 1e-10);
#   "pppvalue": bayesmeta's pppvalue(x, parameter = "mu", value = 1e6, alternative =
#               "greater", statistic = function(y) y[i], rejection.region = "lower.tail",
#               n = N, seed = 20261204, parallel = 1) on bcg (default priors) and the
#               eight schools (flat priors) only: it takes about a second a replicate: with the null value far above the
#               posterior, its replicates draw (mu, tau) from the whole posterior and theta,
#               y anew, so p.value is the Monte Carlo estimate of p_lower; "pppvalue_all"
#               gives every study's fraction from the same replicates (replicates$y).
args <- commandArgs(trailingOnly = TRUE)
stopifnot(length(args) == 1)
suppressPackageStartupMessages(library(metafor))
library(jsonlite)
source(args[1])

N <- 500
MONTE_CARLO <- c("bcg.default", "eight_schools.flat")  # pppvalue takes ~1 s a replicate
bcg <- read.csv("examples/bcg.csv")
es <- escalc(measure = "OR", ai = treatment_events, n1i = treatment_total,
             ci = control_events, n2i = control_total, data = bcg)
datasets <- list(
  bcg = list(study = bcg$study, y = as.numeric(es$yi), sigma = sqrt(as.numeric(es$vi))),
  eight_schools = list(study = c("A", "B", "C", "D", "E", "F", "G", "H"),
                       y = c(28.39, 7.94, -2.75, 6.82, -0.64, 0.63, 18.01, 12.16),
                       sigma = c(14.9, 10.2, 16.3, 11.0, 9.4, 11.4, 10.4, 17.6))
)

fit <- function(d, priors) {
  if (priors == "default") {
    bayesmeta(y = d$y, sigma = d$sigma, labels = d$study, mu.prior.mean = 0,
              mu.prior.sd = 2.82, tau.prior = function(t) dhalfnormal(t, scale = 0.5))
  } else {
    bayesmeta(y = d$y, sigma = d$sigma, labels = d$study, tau.prior = "uniform")
  }
}

ppp_integral <- function(x, i) {
  f <- function(t) {
    cm <- x$cond.moment(tau = t)
    x$dposterior(tau = t) *
      pnorm((x$y[i] - cm[, "mean"]) / sqrt(cm[, "sd"]^2 + t^2 + x$sigma[i]^2))
  }
  integrate(f, 0, Inf, rel.tol = 1e-10)$value
}

summary_of <- function(x) {
  s <- x$summary
  q <- function(p, what) x$qposterior(tau.p = p)
  list(
    mu = list(median = s["median", "mu"], mean = s["mean", "mu"], sd = s["sd", "mu"],
              lower = x$qposterior(mu.p = 0.025), upper = x$qposterior(mu.p = 0.975)),
    tau = list(median = s["median", "tau"], mean = s["mean", "tau"], sd = s["sd", "tau"],
               lower = x$qposterior(tau.p = 0.025), upper = x$qposterior(tau.p = 0.975)),
    theta_new = list(median = s["median", "theta"], mean = s["mean", "theta"],
                     sd = s["sd", "theta"],
                     lower = x$qposterior(theta.p = 0.025, predict = TRUE),
                     upper = x$qposterior(theta.p = 0.975, predict = TRUE)),
    theta_median = unname(x$theta["median", ]),
    log_marginal_likelihood = if (is.finite(x$marginal)) log(x$marginal) else NULL
  )
}

out <- list(
  provenance = list(
    R = R.version.string, metafor = as.character(packageVersion("metafor")),
    bayesmeta = "3.4 (cran/bayesmeta mirror e7eaba2, R/bayesmeta.R sourced)",
    pppvalue_n = N, seed = 20261204
  )
)
for (name in names(datasets)) {
  d <- datasets[[name]]
  block <- list(study = d$study, y = d$y, sigma = d$sigma)
  for (priors in c("default", "flat")) {
    x <- fit(d, priors)
    k <- length(d$y)
    integral <- sapply(seq_len(k), function(i) ppp_integral(x, i))
    block[[priors]] <- c(summary_of(x), list(ppp_integral = integral))
    if (paste(name, priors, sep = ".") %in% MONTE_CARLO) {
      stat1 <- function(y) y[1]
      mc <- pppvalue(x, parameter = "mu", value = 1e6, alternative = "greater",
                     statistic = stat1, rejection.region = "lower.tail", n = N,
                     seed = 20261204, parallel = 1, quietly = TRUE)
      all <- sapply(seq_len(k), function(i) mean(mc$replicates$y[, i] <= d$y[i]))
      block[[priors]]$pppvalue_study1 <- unname(mc$p.value)
      block[[priors]]$pppvalue_all <- all
    }
  }
  out[[name]] <- block
}
write_json(out, "tests/reference/bayesmeta_checks.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
