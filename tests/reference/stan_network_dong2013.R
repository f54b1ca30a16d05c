# A second network, not shipped: R metadat dat.dong2013 (Dong et al. 2013, inhaled drugs for
# COPD, deaths; 41 trials, 99 arms, 6 treatments, arms and whole trials without deaths), written
# to tests/network/data/dong2013.csv (study = "Trial <id>", treatment, events = death,
# total = randomized), and TSD2's random-effects model (tests/reference/network.stan) with
# bayesmeta's default priors (mu_i ~ N(0, 10^2), d_k ~ N(0, 2.82^2), tau ~ HalfNormal(0.5)):
# vague baselines would let a trial without deaths drift. Reference Placebo (the most connected),
# others in order of first appearance; rstan 2.21, 4 chains x 9,000 draws after 1,000 warm-up,
# adapt_delta 0.95, seed 20261127. Deaths are harmful: rank 1 = the smallest d. Run from the
# repository root:  Rscript tests/reference/stan_network_dong2013.R
suppressMessages({library(rstan); library(jsonlite); library(metadat)})
options(mc.cores = 2)
raw <- dat.dong2013
d <- data.frame(study = paste("Trial", raw$id), treatment = raw$treatment, events = raw$death,
                total = raw$randomized)
write.csv(d, "tests/network/data/dong2013.csv", row.names = FALSE, quote = FALSE)
trts <- unique(c("Placebo", d$treatment))
d$t <- match(d$treatment, trts)
studies <- unique(d$study)
d$s <- match(d$study, studies)
d <- d[order(d$s, d$t), ]
S <- length(studies); N <- nrow(d); T <- length(trts)
start <- match(seq_len(S), d$s); na <- as.vector(table(factor(d$s, levels = seq_len(S))))
q <- function(x) list(mean = mean(x), median = median(x), q025 = unname(quantile(x, 0.025)),
                      q975 = unname(quantile(x, 0.975)), sd = sd(x))
m <- stan_model("tests/reference/network.stan")
dl <- list(N = N, S = S, T = T, start = start, na = na, trt = d$t, r = d$events, n = d$total,
           fe = 0, mu_sd = 10, d_sd = 2.82, tau_half_normal = 1, tau_scale = 0.5, tau_upper = 1e6)
fit <- sampling(m, data = dl, chains = 4, iter = 10000, warmup = 1000, seed = 20261127,
                refresh = 0, control = list(adapt_delta = 0.95))
e <- extract(fit)
sm <- summary(fit, pars = c("d_raw", "mu", "tau"))$summary
D <- e$d
rk <- t(apply(D, 1, rank, ties.method = "first"))  # rank 1 = smallest d (fewest deaths)
rank_prob <- lapply(seq_len(T), function(k) sapply(seq_len(T), function(j) mean(rk[, k] == j)))
names(rank_prob) <- trts
res <- list(dataset = "dong2013", treatments = trts, reference = trts[1], arms = N,
            d = setNames(lapply(2:T, function(k) q(D[, k])), trts[-1]), tau = q(e$tau),
            rank_prob = rank_prob, resdev = mean(e$resdev),
            rhat_max = max(sm[, "Rhat"]), n_eff_min = min(sm[, "n_eff"]),
            divergences = sum(get_divergent_iterations(fit)), draws = nrow(D),
            provenance = list(R = R.version.string, rstan = as.character(packageVersion("rstan")),
                              metadat = as.character(packageVersion("metadat")),
                              script = "tests/reference/stan_network_dong2013.R"))
write(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE),
      "tests/reference/dong2013_network.stan.json")
cat("rhat", res$rhat_max, "n_eff", res$n_eff_min, "div", res$divergences, "\n")
