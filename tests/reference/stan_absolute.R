# Absolute effects from a long Stan run of the binomial-normal model on bcg, the reference of
# bayesmeta's absolute effects (tests/summaries/test_absolute.py).
# R 4.2.2, rstan 2.21, jsonlite. Run from the repository root:
#   Rscript tests/reference/stan_absolute.R   (writes tests/reference/stan_absolute.json)
# Model (tests/reference/README.md, as stan_ref.R of the shared reference set):
#   logit p_c[i] = alpha[i], logit p_t[i] = alpha[i] + theta[i], theta[i] = mu + tau * z[i],
#   alpha[i] ~ N(0, 10^2), mu ~ N(0, 10^2), tau ~ HalfNormal(0.5), z[i] ~ N(0, 1);
#   theta_new ~ N(mu, tau^2). 4 chains x 9,000 draws after 1,000 warm-up, adapt_delta 0.95.
# At each control risk p0 and for theta = mu (pooled) and theta_new (a new study), on every draw:
#   treated risk = plogis(qlogis(p0) + theta); risk difference per 1,000 = 1000 (risk - p0);
#   risk ratio = risk / p0. Summaries: mean, median, 2.5% and 97.5% quantiles, sd.
# Control risk from the studies ("studies"): the posterior predictive control risk of the model's
#   baselines, p0 = plogis(alpha[J]) with J a study drawn uniformly, i.e. every (draw, study)
#   pair: p0[s, i] = plogis(alpha[s, i]), risk[s, i] = plogis(alpha[s, i] + theta[s]).
# Probability of a clinically relevant benefit at 10 fewer events per 1,000:
#   mean(1000 (risk - p0) <= -10) over the same draws (or pairs).
suppressMessages({library(rstan); library(jsonlite)})
rstan_options(auto_write = FALSE); options(mc.cores = 2)
two_arm <- "
data { int<lower=1> K; int rt[K]; int nt[K]; int rc[K]; int nc[K];
       real mu_sd; real tau_sd; real alpha_sd; }
parameters { vector[K] alpha; real mu; real<lower=0> tau; vector[K] z; }
transformed parameters { vector[K] theta = mu + tau * z; }
model { alpha ~ normal(0, alpha_sd); mu ~ normal(0, mu_sd); tau ~ normal(0, tau_sd); z ~ std_normal();
        rc ~ binomial_logit(nc, alpha); rt ~ binomial_logit(nt, alpha + theta); }
generated quantities { real theta_new = normal_rng(mu, tau); }"
d <- read.csv("examples/bcg.csv")
dl <- list(K = nrow(d), rt = d$treatment_events, nt = d$treatment_total, rc = d$control_events,
           nc = d$control_total, mu_sd = 10, tau_sd = 0.5, alpha_sd = 10)
fit <- sampling(stan_model(model_code = two_arm), data = dl, chains = 4, iter = 10000, warmup = 1000,
                seed = 20261127, refresh = 0, control = list(adapt_delta = 0.95))
e <- extract(fit)
q <- function(x) list(mean = mean(x), median = median(x), q025 = unname(quantile(x, 0.025)),
                      q975 = unname(quantile(x, 0.975)), sd = sd(x))
absolute <- function(p0, theta) {
  risk <- plogis(qlogis(p0) + theta)
  list(treated_risk = q(risk), risk_difference_per_1000 = q(1000 * (risk - p0)), risk_ratio = q(risk / p0),
       p_benefit_10 = mean(1000 * (risk - p0) <= -10))
}
from_studies <- function(alpha, theta) {
  p0 <- plogis(alpha)                      # draws x studies
  risk <- plogis(alpha + as.vector(theta)) # theta recycled down the columns: one per draw
  rd <- 1000 * (risk - p0)
  list(control_risk = q(as.vector(p0)), treated_risk = q(as.vector(risk)),
       risk_difference_per_1000 = q(as.vector(rd)), risk_ratio = q(as.vector(risk / p0)),
       p_benefit_10 = mean(rd <= -10))
}
sm <- summary(fit, pars = c("mu", "tau"))$summary
res <- list(dataset = "bcg", model = "binomial-normal, fixed baselines",
            prior = list(mu = "normal(0,10)", tau = "half-normal(0.5)", alpha = "normal(0,10)"),
            versions = list(R = as.character(getRversion()), rstan = as.character(packageVersion("rstan"))),
            draws = length(e$mu), rhat_max = max(sm[, "Rhat"]), n_eff_min = min(sm[, "n_eff"]),
            divergences = sum(get_divergent_iterations(fit)),
            baseline_risks = list())
for (p0 in c(0.05, 0.20))
  res$baseline_risks[[format(p0)]] <- list(pooled = absolute(p0, e$mu), new_study = absolute(p0, e$theta_new))
res$baseline_risks[["studies"]] <- list(pooled = from_studies(e$alpha, e$mu),
                                        new_study = from_studies(e$alpha, e$theta_new))
write(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/reference/stan_absolute.json")
cat("wrote tests/reference/stan_absolute.json; rhat", res$rhat_max, "div", res$divergences, "\n")
