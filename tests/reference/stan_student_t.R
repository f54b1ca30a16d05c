# Reference posteriors for Student-t random effects (--random-effects t), from Stan (rstan 2.21).
#   theta[i] = mu + tau * z[i], z[i] ~ Student-t(nu, 0, 1), nu ~ Gamma(shape 2, rate 0.1)
#   (Juarez & Steel 2010), mu ~ N(0, 10^2), tau ~ HalfNormal(0.5); theta_new = mu + tau * t_nu.
# Two likelihoods on examples/bcg.csv:
#   binomial-normal: logit p_c[i] = alpha[i], logit p_t[i] = alpha[i] + theta[i], alpha ~ N(0, 10^2)
#   normal-normal:   y[i] ~ N(theta[i], v[i]) on metafor's escalc(measure = "OR") log odds ratios
# 4 chains x 9,000 draws after 1,000 warm-up, adapt_delta = 0.95, seed 20261127, as the other
# Stan references (tests/reference/README.md). Run from the repository root:
#   Rscript tests/reference/stan_student_t.R
# writes tests/reference/stan_student_t.json.
suppressMessages({library(rstan); library(jsonlite); library(metafor)})
options(mc.cores = 2)
effects <- "
  real mu_sd; real tau_sd; real nu_shape; real nu_rate; }
parameters { real mu; real<lower=0> tau; real<lower=0> nu; vector[K] z; EXTRA }
transformed parameters { vector[K] theta = mu + tau * z; }
model { mu ~ normal(0, mu_sd); tau ~ normal(0, tau_sd); nu ~ gamma(nu_shape, nu_rate);
        z ~ student_t(nu, 0, 1); LIKELIHOOD }
generated quantities { real theta_new = mu + tau * student_t_rng(nu, 0, 1); }"
binomial <- paste0("data { int<lower=1> K; int yt[K]; int nt[K]; int yc[K]; int nc[K]; real alpha_sd;",
  sub("LIKELIHOOD", "alpha ~ normal(0, alpha_sd); yc ~ binomial_logit(nc, alpha);
       yt ~ binomial_logit(nt, alpha + theta);", sub("EXTRA", "vector[K] alpha;", effects)))
normal <- paste0("data { int<lower=1> K; vector[K] y; vector[K] v;",
  sub("LIKELIHOOD", "y ~ normal(theta, sqrt(v));", sub("EXTRA", "", effects)))
q <- function(x) list(mean = mean(x), median = median(x), q025 = unname(quantile(x, 0.025)),
                      q975 = unname(quantile(x, 0.975)), sd = sd(x))
d <- read.csv("examples/bcg.csv")
es <- escalc(measure = "OR", ai = treatment_events, n1i = treatment_total,
             ci = control_events, n2i = control_total, data = d)
priors <- list(mu_sd = 10, tau_sd = 0.5, nu_shape = 2, nu_rate = 0.1)
runs <- list(
  "binomial-normal" = list(code = binomial, data = c(list(K = nrow(d), yt = d$treatment_events,
    nt = d$treatment_total, yc = d$control_events, nc = d$control_total, alpha_sd = 10), priors)),
  "normal-normal" = list(code = normal, data = c(list(K = nrow(d), y = as.numeric(es$yi),
    v = as.numeric(es$vi)), priors)))
out <- list(dataset = "bcg",
            prior = list(mu = "normal(0, 10)", tau = "half-normal(0.5)", nu = "gamma(2, 0.1)",
                         baseline = "normal(0, 10)"),
            provenance = list(R = R.version.string, rstan = as.character(packageVersion("rstan")),
                              metafor = as.character(packageVersion("metafor")),
                              script = "tests/reference/stan_student_t.R"))
for (name in names(runs)) {
  m <- stan_model(model_code = runs[[name]]$code)
  fit <- sampling(m, data = runs[[name]]$data, chains = 4, iter = 10000, warmup = 1000,
                  seed = 20261127, refresh = 0, control = list(adapt_delta = 0.95))
  e <- extract(fit); sm <- summary(fit, pars = c("mu", "tau", "nu"))$summary
  out[[name]] <- list(mu = q(e$mu), tau = q(e$tau), nu = q(e$nu), theta_new = q(e$theta_new),
                      theta = lapply(seq_len(nrow(d)), function(i) q(e$theta[, i])),
                      p_mu_below_0 = mean(e$mu < 0), rhat_max = max(sm[, "Rhat"]),
                      n_eff_min = min(sm[, "n_eff"]),
                      divergences = sum(get_divergent_iterations(fit)), draws = length(e$mu))
  cat(name, "rhat", out[[name]]$rhat_max, "div", out[[name]]$divergences, "\n")
}
write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
      "tests/reference/stan_student_t.json")
