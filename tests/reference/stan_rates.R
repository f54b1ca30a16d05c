# Reference posterior for the Poisson-normal incidence-rate model, from Stan (rstan 2.21).
#   log rate_c[i] = alpha[i], log rate_t[i] = alpha[i] + theta[i] (events ~ Poisson(rate * time)),
#   theta[i] = mu + tau * z[i], alpha[i] ~ N(0, 10^2), mu ~ N(0, 10^2), tau ~ HalfNormal(0.5)
# 4 chains x 9,000 draws after 1,000 warm-up, adapt_delta = 0.95, seed 20261127, as the
# binomial references in tests/reference/README.md. Run from the repository root:
#   Rscript tests/reference/stan_rates.R
# writes tests/reference/nielweise2008.stan.json (the shipped example) and
# tests/reference/hart1999.stan.json (tests/frequentist/data/hart1999_rates.csv, not shipped;
# written by metafor_rates.R from metadat dat.hart1999).
suppressMessages({library(rstan); library(jsonlite)})
options(mc.cores = 2)
code <- "
data { int<lower=1> K; int xt[K]; vector[K] tt; int xc[K]; vector[K] tc;
       real mu_sd; real tau_sd; real alpha_sd; }
parameters { vector[K] alpha; real mu; real<lower=0> tau; vector[K] z; }
transformed parameters { vector[K] theta = mu + tau * z; }
model { alpha ~ normal(0, alpha_sd); mu ~ normal(0, mu_sd); tau ~ normal(0, tau_sd); z ~ std_normal();
        xc ~ poisson_log(alpha + log(tc)); xt ~ poisson_log(alpha + theta + log(tt)); }
generated quantities { real theta_new = normal_rng(mu, tau); }"
q <- function(x) list(mean = mean(x), median = median(x), q025 = unname(quantile(x, 0.025)),
                      q975 = unname(quantile(x, 0.975)), sd = sd(x))
m <- stan_model(model_code = code)
sources <- c(nielweise2008 = "examples/nielweise2008.csv",
             hart1999 = "tests/frequentist/data/hart1999_rates.csv")
for (name in names(sources)) {
  d <- read.csv(sources[[name]])
  if (!("treatment_events" %in% names(d)))
    d <- data.frame(treatment_events = d$x1i, treatment_time = d$t1i,
                    control_events = d$x2i, control_time = d$t2i)
  dl <- list(K = nrow(d), xt = d$treatment_events, tt = d$treatment_time,
             xc = d$control_events, tc = d$control_time, mu_sd = 10, tau_sd = 0.5, alpha_sd = 10)
  fit <- sampling(m, data = dl, chains = 4, iter = 10000, warmup = 1000, seed = 20261127,
                  refresh = 0, control = list(adapt_delta = 0.95))
  e <- extract(fit); sm <- summary(fit, pars = c("mu", "tau"))$summary
  res <- list(dataset = name,
              prior = list(model = "Poisson-normal, fixed baselines", mu = "normal(0,10)",
                           tau = "half-normal(0.5)", alpha = "normal(0,10)"),
              mu = q(e$mu), tau = q(e$tau), theta_new = q(e$theta_new),
              theta = lapply(seq_len(nrow(d)), function(i) q(e$theta[, i])),
              p_mu_below_0 = mean(e$mu < 0), rhat_max = max(sm[, "Rhat"]),
              n_eff_min = min(sm[, "n_eff"]), divergences = sum(get_divergent_iterations(fit)),
              draws = length(e$mu),
              provenance = list(R = R.version.string,
                                rstan = as.character(packageVersion("rstan")),
                                script = "tests/reference/stan_rates.R"))
  write(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE),
        file.path("tests/reference", paste0(name, ".stan.json")))
  cat(name, "rhat", res$rhat_max, "div", res$divergences, "\n")
}
