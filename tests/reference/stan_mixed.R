# Reference posterior of the mixed-format model (tests/reference/mixed.stan) on the shipped
# example examples/bcg_mixed.csv (written by tests/reference/make_bcg_mixed.R): 8 trials as
# 2x2 counts (binomial arms, baseline alpha_i ~ N(0, 10^2)), 5 as a reported log odds ratio
# with its SE (normal likelihood); mu ~ N(0, 10^2), tau ~ HalfNormal(0.5), the priors of the
# other Stan references (bayesmeta's default mu prior is N(0, 2.82^2): the tests give these).
# rstan 2.21, 4 chains x 9,000 draws after 1,000 warm-up, adapt_delta = 0.95, seed 20261127,
# as the other Stan references (tests/reference/README.md). Run from the
# repository root:
#   Rscript tests/reference/stan_mixed.R
# writes tests/reference/bcg_mixed.stan.json.
suppressMessages({library(rstan); library(jsonlite)})
options(mc.cores = 2)
d <- read.csv("examples/bcg_mixed.csv", check.names = FALSE)
counted <- which(!is.na(d$treatment_events))
reported <- which(is.na(d$treatment_events))
dl <- list(K = nrow(d), Kc = length(counted), ic = counted,
           rt = d$treatment_events[counted], nt = d$treatment_total[counted],
           rc = d$control_events[counted], nc = d$control_total[counted],
           Kr = length(reported), ir = reported, y = d$log_or[reported], se = d$se[reported],
           mu_sd = 10, tau_sd = 0.5, alpha_sd = 10)
q <- function(x) list(mean = mean(x), median = median(x), q025 = unname(quantile(x, 0.025)),
                      q975 = unname(quantile(x, 0.975)), sd = sd(x))
m <- stan_model("tests/reference/mixed.stan")
fit <- sampling(m, data = dl, chains = 4, iter = 10000, warmup = 1000, seed = 20261127,
                refresh = 0, control = list(adapt_delta = 0.95))
e <- extract(fit); sm <- summary(fit, pars = c("mu", "tau"))$summary
res <- list(dataset = "bcg_mixed", study = d$study, reported = d$study[reported],
            prior = list(model = "mixed: binomial arms (fixed baselines) or normal reported log OR",
                         mu = "normal(0,10)", tau = "half-normal(0.5)", alpha = "normal(0,10)"),
            mu = q(e$mu), tau = q(e$tau), theta_new = q(e$theta_new),
            theta = lapply(seq_len(nrow(d)), function(i) q(e$theta[, i])),
            p_mu_below_0 = mean(e$mu < 0), rhat_max = max(sm[, "Rhat"]),
            n_eff_min = min(sm[, "n_eff"]), divergences = sum(get_divergent_iterations(fit)),
            draws = length(e$mu),
            provenance = list(R = R.version.string, rstan = as.character(packageVersion("rstan")),
                              script = "tests/reference/stan_mixed.R",
                              model = "tests/reference/mixed.stan"))
write(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE),
      "tests/reference/bcg_mixed.stan.json")
cat("rhat", res$rhat_max, "n_eff", res$n_eff_min, "div", res$divergences, "\n")
