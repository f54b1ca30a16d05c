# Reference posteriors of TSD2's binomial-logit network meta-analysis (tests/reference/network.stan;
# NICE DSU TSD2, Dias et al. 2011/2016, programs 1(c) random effects and 1(b) fixed effect) on the
# shipped smoking-cessation network examples/hasselblad1998_network.csv (24 trials, 50 arms).
# Treatments coded as bayesmeta codes them: the reference (no_contact, the most connected, first
# in the file) as 1, the others in order of first appearance; each study's baseline arm is its
# lowest-coded treatment. Fits:
#   re_tsd2:  TSD2's priors  mu_i ~ N(0, 100^2), d_k ~ N(0, 100^2), tau ~ U(0, 5)
#   fe_tsd2:  the same, tau = 0
#   re_default: bayesmeta's defaults  mu_i ~ N(0, 10^2), d_k ~ N(0, 2.82^2), tau ~ HalfNormal(0.5)
# rstan 2.21, 4 chains x 9,000 draws after 1,000 warm-up, adapt_delta = 0.95, seed 20261127.
# Ranks: events are quitters (higher is better), rank 1 = the largest d. Run from the repository
# root:  Rscript tests/reference/stan_network.R   (writes tests/reference/hasselblad1998_network.stan.json)
suppressMessages({library(rstan); library(jsonlite)})
options(mc.cores = 2)
d <- read.csv("examples/hasselblad1998_network.csv", stringsAsFactors = FALSE)
trts <- unique(d$treatment)  # no_contact first
d$t <- match(d$treatment, trts)
studies <- unique(d$study)
d$s <- match(d$study, studies)
d <- d[order(d$s, d$t), ]
S <- length(studies); N <- nrow(d); T <- length(trts)
start <- match(seq_len(S), d$s); na <- as.vector(table(d$s))
q <- function(x) list(mean = mean(x), median = median(x), q025 = unname(quantile(x, 0.025)),
                      q975 = unname(quantile(x, 0.975)), sd = sd(x))
m <- stan_model("tests/reference/network.stan")
run <- function(fe, mu_sd, d_sd, half, tau_scale) {
  dl <- list(N = N, S = S, T = T, start = start, na = na, trt = d$t, r = d$events, n = d$total,
             fe = fe, mu_sd = mu_sd, d_sd = d_sd, tau_half_normal = half, tau_scale = tau_scale,
             tau_upper = if (half) 1e6 else tau_scale)
  fit <- sampling(m, data = dl, chains = 4, iter = 10000, warmup = 1000, seed = 20261127,
                  refresh = 0, control = list(adapt_delta = 0.95))
  e <- extract(fit)
  pars <- if (fe) c("d_raw", "mu") else c("d_raw", "mu", "tau")
  sm <- summary(fit, pars = pars)$summary
  D <- e$d  # draws x T
  rk <- t(apply(-D, 1, rank, ties.method = "first"))  # rank 1 = largest d (best)
  rank_prob <- lapply(seq_len(T), function(k) sapply(seq_len(T), function(j) mean(rk[, k] == j)))
  names(rank_prob) <- trts
  sucra <- sapply(rank_prob, function(p) sum(cumsum(p)[-T]) / (T - 1))
  pair <- list()
  for (a in seq_len(T)) for (b in seq_len(T)) if (a != b)
    pair[[paste(trts[a], "vs", trts[b])]] <- q(D[, a] - D[, b])
  rbar <- colMeans(e$rhat); r <- d$events; n <- d$total
  dev <- function(rh) 2 * sum(ifelse(r > 0, r * log(r / rh), 0) +
                              ifelse(n - r > 0, (n - r) * log((n - r) / (n - rh)), 0))
  dbar <- mean(e$resdev); pd <- dbar - dev(rbar)
  out <- list(d = setNames(lapply(2:T, function(k) q(D[, k])), trts[-1]),
              pairwise = pair, rank_prob = rank_prob, sucra = as.list(sucra),
              p_best = setNames(lapply(rank_prob, function(p) p[1]), trts),
              resdev = dbar, pD = pd, DIC = dbar + pd,
              d_new = setNames(lapply(2:T, function(k) q(e$d_new[, k])), trts[-1]),
              rhat_max = max(sm[, "Rhat"]), n_eff_min = min(sm[, "n_eff"]),
              divergences = sum(get_divergent_iterations(fit)), draws = nrow(D),
              priors = list(baseline = sprintf("normal(0, %g)", mu_sd), d = sprintf("normal(0, %g)", d_sd),
                            tau = if (fe) NULL else if (half) sprintf("half-normal(%g)", tau_scale)
                                  else sprintf("uniform(0, %g)", tau_scale)))
  if (!fe) out$tau <- q(e$tau)
  cat(if (fe) "FE" else "RE", "rhat", out$rhat_max, "n_eff", out$n_eff_min, "div", out$divergences,
      "resdev", dbar, "pD", pd, "\n")
  out
}
res <- list(dataset = "hasselblad1998_network", treatments = trts, reference = trts[1],
            studies = studies, arms = N,
            re_tsd2 = run(0, 100, 100, 0, 5), fe_tsd2 = run(1, 100, 100, 0, 5),
            re_default = run(0, 10, 2.82, 1, 0.5),
            provenance = list(R = R.version.string, rstan = as.character(packageVersion("rstan")),
                              script = "tests/reference/stan_network.R",
                              model = "tests/reference/network.stan",
                              sampling = "4 chains x 9000 draws after 1000 warm-up, adapt_delta 0.95, seed 20261127"))
write(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE),
      "tests/reference/hasselblad1998_network.stan.json")
