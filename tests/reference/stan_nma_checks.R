# Stan references for network meta-analysis (issue 23): TSD2's random-effects consistency model
# (NICE DSU TSD2 program 1(c); Dias, Welton, Sutton, Ades 2011, updated 2016), its fixed-effect
# version, the unrelated mean effects (UME) model and node-splitting (Dias, Welton, Caldwell,
# Ades 2010, Stat Med 29:932) for every comparison with direct and indirect evidence, on the
# smoking-cessation network (metadat dat.hasselblad1998: 24 trials, 50 arms, 4 treatments;
# TSD2's example; Hasselblad 1998, Med Decis Making 18:37).
# One Stan program, tests/reference/nma.stan, fits all of them through a design matrix.
#   Priors (TSD2): study baselines mu_i ~ N(0, 100^2), every mean parameter ~ N(0, 100^2),
#   tau ~ U(0, 5); multi-arm random effects with covariance tau^2 / 2.
#   Treatments 1 no_contact (reference), 2 self_help, 3 ind_counseling, 4 grp_counseling
#   (TSD2's A-D). A study's baseline arm is its lowest-numbered treatment.
#   UME: one mean per observed (baseline, treatment) comparison, shared tau.
#   Node-split of x < y: in every study with both x and y the baseline is x, the y arm has the
#   direct mean d_dir, its other arms d_t - d_x (consistency); all other studies as the
#   consistency model. indirect = d_y - d_x, difference = d_dir - indirect, Bayesian p-value
#   2 min(P(diff > 0), P(diff < 0)). Split only where x and y stay connected without that
#   direct evidence (and the y-t links of the studies holding both).
#   Fit: resdev = sum of the arms' binomial deviance contributions (TSD2 eq. for binomial data);
#   Dbar its posterior mean; Dhat the deviance at the posterior mean of the fitted values
#   r_hat = n p (TSD2's pD for the binomial); pD = Dbar - Dhat; DIC = Dbar + pD. dhat_eta,
#   pd_eta, dic_eta: the same with Dhat at the posterior mean of the logits (WinBUGS's pD).
#   Ranks: rank 1 = the highest log odds of quitting (quitting is wanted), ties impossible.
# rstan 2.21; consistency models 4 chains x 8,000 iterations (1,000 warm-up), UME and splits
# 4 x 4,000 (1,000 warm-up); adapt_delta = 0.95, seed 20261204. Run from the repository root:
#   nice Rscript tests/reference/stan_nma_checks.R
# writes tests/reference/hasselblad1998_nma_checks.stan.json.
#   nice Rscript tests/reference/stan_nma_checks.R dong2013
# fits only the random-effects consistency model (4 x 4,000) to metadat dat.dong2013 (COPD,
# 41 trials, 99 arms, deaths; reference Placebo, the others in sorted order; not shipped) and
# writes tests/reference/dong2013_nma_checks.stan.json.
suppressMessages({library(rstan); library(jsonlite); library(metadat)})
options(mc.cores = 2)
seed <- 20261204
model <- stan_model("tests/reference/nma.stan")
quick <- nzchar(Sys.getenv("NMA_QUICK"))  # a smoke run: few draws, JSON to /tmp

network <- if (length(commandArgs(TRUE))) commandArgs(TRUE)[1] else "hasselblad1998"
if (network == "dong2013") {
  raw <- dat.dong2013
  trt_levels <- c("Placebo", sort(setdiff(unique(raw$treatment), "Placebo")))
  arms <- data.frame(study = raw$id, name = paste0("study", raw$id),
                     t = match(raw$treatment, trt_levels), r = raw$death, n = raw$randomized)
} else {
  trt_levels <- c("no_contact", "self_help", "ind_counseling", "grp_counseling")
  raw <- dat.hasselblad1998
  arms <- data.frame(study = raw$study, name = raw$authors, t = match(raw$trt, trt_levels),
                     r = raw$xi, n = raw$ni)
}
arms <- arms[order(arms$study, arms$t), ]
K <- length(trt_levels)

q <- function(x) list(mean = mean(x), sd = sd(x), median = median(x),
                      q025 = unname(quantile(x, 0.025)), q975 = unname(quantile(x, 0.975)))

# design: every study's baseline, its contrasts grouped by study, the design matrix X
design <- function(arms, kind, split = NULL) {
  studies <- unique(arms$study)
  pars <- if (kind == "ume") {
    pr <- do.call(rbind, lapply(studies, function(s) {
      tt <- arms$t[arms$study == s]; cbind(min(tt), tt[tt != min(tt)])
    }))
    pr <- unique(pr); pr[order(pr[, 1], pr[, 2]), , drop = FALSE]
  } else NULL
  P <- if (kind == "ume") nrow(pars) else K - 1 + (kind == "split")
  rows <- list(); arm_c <- integer(nrow(arms)); c_start <- integer(0); c_len <- integer(0)
  for (i in seq_along(studies)) {
    idx <- which(arms$study == studies[i]); tt <- arms$t[idx]
    b <- if (kind == "split" && all(split %in% tt)) split[1] else min(tt)
    c_start[i] <- length(rows) + 1; c_len[i] <- 0
    for (a in idx[tt != b]) {
      x <- numeric(P); t <- arms$t[a]
      if (kind == "ume") {
        x[which(pars[, 1] == b & pars[, 2] == t)] <- 1
      } else if (kind == "split" && all(split %in% tt) && t == split[2]) {
        x[P] <- 1
      } else {
        if (t > 1) x[t - 1] <- x[t - 1] + 1
        if (b > 1) x[b - 1] <- x[b - 1] - 1
      }
      rows[[length(rows) + 1]] <- x; arm_c[a] <- length(rows); c_len[i] <- c_len[i] + 1
    }
  }
  list(data = list(N_arm = nrow(arms), N_study = length(studies), N_c = length(rows), P = P,
                   r = arms$r, n = arms$n, study = match(arms$study, studies), arm_c = arm_c,
                   X = do.call(rbind, rows), c_start = c_start, c_len = c_len, M = max(c_len)),
       pars = pars)
}

run <- function(d, re, iter) {
  d$re <- re
  if (quick) iter <- 1300
  fit <- sampling(model, data = d, chains = 4, iter = iter, warmup = 1000, seed = seed,
                  refresh = 0, control = list(adapt_delta = 0.95))
  e <- extract(fit, pars = c("beta", "tau", "p", "resdev"))
  sm <- summary(fit, pars = c("beta", if (re == 1) "tau", "resdev"))$summary
  pbar <- colMeans(e$p); rhat <- d$n * pbar
  dev <- function(r, n, rh) 2 * (ifelse(r > 0, r * log(r / rh), 0) +
                                   ifelse(r < n, (n - r) * log((n - r) / (n - rh)), 0))
  dbar <- mean(e$resdev); dhat <- sum(dev(d$r, d$n, rhat))
  dhat_eta <- sum(dev(d$r, d$n, d$n * plogis(colMeans(qlogis(e$p)))))
  list(e = e, fit = list(resdev = q(e$resdev), dbar = dbar, dhat = dhat, pd = dbar - dhat,
                         dic = 2 * dbar - dhat, dhat_eta = dhat_eta, pd_eta = dbar - dhat_eta,
                         dic_eta = 2 * dbar - dhat_eta, data_points = d$N_arm),
       diagnostics = list(rhat_max = max(sm[, "Rhat"]), n_eff_min = min(sm[, "n_eff"]),
                          divergences = sum(get_divergent_iterations(fit)),
                          draws = length(e$resdev)))
}

connected <- function(edges, x, y) {
  reach <- x
  repeat {
    nb <- unique(c(edges[edges[, 1] %in% reach, 2], edges[edges[, 2] %in% reach, 1]))
    new <- setdiff(nb, reach); if (!length(new)) break; reach <- c(reach, new)
  }
  y %in% reach
}

consistency_block <- function(res, re) {
  d <- cbind(0, res$e$beta)
  out <- list(re = re, d = lapply(2:K, function(k) c(list(treatment = trt_levels[k]), q(d[, k]))),
              fit = res$fit, diagnostics = res$diagnostics)
  if (re == 1) out$tau <- q(res$e$tau)
  pairs <- list(); pred <- list()
  for (x in 1:(K - 1)) for (y in (x + 1):K) {
    lor <- d[, y] - d[, x]
    pairs[[length(pairs) + 1]] <- c(list(treatment = trt_levels[y], versus = trt_levels[x]),
                                    q(lor), list(or_median = exp(median(lor))))
    if (re == 1) {
      set.seed(seed + 10 * x + y)
      pred[[length(pred) + 1]] <- c(list(treatment = trt_levels[y], versus = trt_levels[x]),
                                    q(lor + res$e$tau * rnorm(length(lor))))
    }
  }
  out$pairwise_log_or <- pairs
  if (re == 1) out$predictive_log_or <- pred
  rk <- t(apply(-d, 1, rank))  # rank 1 = highest log odds (most quitting)
  probs <- sapply(1:K, function(j) colMeans(rk == j))  # [treatment, rank]
  out$rank_probabilities <- lapply(1:K, function(k) list(treatment = trt_levels[k],
                                                         by_rank = unname(probs[k, ])))
  out$p_best <- setNames(as.list(probs[, 1]), trt_levels)
  out$mean_rank <- setNames(as.list(colMeans(rk)), trt_levels)
  cum <- t(apply(probs, 1, cumsum))
  out$sucra <- setNames(as.list(rowSums(cum[, 1:(K - 1), drop = FALSE]) / (K - 1)), trt_levels)
  out
}

result <- list(
  dataset = paste0("dat.", network, " (metadat 1.2-0)"),
  treatments = trt_levels, reference = trt_levels[1],
  arms = lapply(seq_len(nrow(arms)), function(a) list(study = arms$study[a], name = arms$name[a],
                treatment = trt_levels[arms$t[a]], events = arms$r[a], total = arms$n[a])),
  prior = list(baseline = "normal(0, 100)", d = "normal(0, 100)", tau = "uniform(0, 5)"),
  ranking = "rank 1 = the highest log odds of quitting (events are quitters, a wanted outcome)")

dc <- design(arms, "consistency")$data
if (network == "dong2013") {  # the second network: the random-effects consistency model only
  result$ranking <- "rank 1 = the highest log odds of death (deaths are harmful: rank 1 is worst)"
  result$consistency_random <- consistency_block(run(dc, 1, 4000), 1)
  result$provenance <- list(R = R.version.string, rstan = as.character(packageVersion("rstan")),
                            stan_program = "tests/reference/nma.stan",
                            script = "tests/reference/stan_nma_checks.R dong2013", seed = seed)
  write(toJSON(result, auto_unbox = TRUE, digits = NA, pretty = TRUE),
        if (quick) "/tmp/nmax23_quick.json" else "tests/reference/dong2013_nma_checks.stan.json")
  quit(save = "no")
}
re_fit <- run(dc, 1, 8000)
result$consistency_random <- consistency_block(re_fit, 1)
cat("RE consistency done", format(Sys.time()), "\n")
result$consistency_fixed <- consistency_block(run(dc, 0, 8000), 0)
cat("FE consistency done", format(Sys.time()), "\n")

du <- design(arms, "ume"); ume <- run(du$data, 1, 4000)
result$ume_random <- list(
  d = lapply(seq_len(nrow(du$pars)), function(j)
    c(list(treatment = trt_levels[du$pars[j, 2]], versus = trt_levels[du$pars[j, 1]]),
      q(ume$e$beta[, j]))),
  tau = q(ume$e$tau), fit = ume$fit, diagnostics = ume$diagnostics)
cat("UME done", format(Sys.time()), "\n")

splits <- list()
for (x in 1:(K - 1)) for (y in (x + 1):K) {
  both <- unique(arms$study[arms$study %in% arms$study[arms$t == x] &
                              arms$study %in% arms$study[arms$t == y]])
  if (!length(both)) next
  edges <- do.call(rbind, lapply(unique(arms$study), function(s) {
    tt <- arms$t[arms$study == s]
    pr <- t(combn(tt, 2))
    if (s %in% both) pr <- pr[pr[, 1] != y & pr[, 2] != y, , drop = FALSE]
    pr
  }))
  if (!connected(edges, x, y)) next
  s <- run(design(arms, "split", c(x, y))$data, 1, 4000)
  dir <- s$e$beta[, K]
  ind <- (if (y > 1) s$e$beta[, y - 1] else 0) - (if (x > 1) s$e$beta[, x - 1] else 0)
  diff <- dir - ind
  splits[[length(splits) + 1]] <- list(
    treatment = trt_levels[y], versus = trt_levels[x], studies = both,
    direct = q(dir), indirect = q(ind), difference = q(diff),
    p_value = 2 * min(mean(diff > 0), mean(diff < 0)), tau = q(s$e$tau),
    fit = s$fit, diagnostics = s$diagnostics)
  cat("split", x, y, "done", format(Sys.time()), "\n")
}
result$node_splits <- splits
result$provenance <- list(R = R.version.string, rstan = as.character(packageVersion("rstan")),
                          metadat = as.character(packageVersion("metadat")),
                          stan_program = "tests/reference/nma.stan",
                          script = "tests/reference/stan_nma_checks.R", seed = seed,
                          adapt_delta = 0.95)
write(toJSON(result, auto_unbox = TRUE, digits = NA, pretty = TRUE),
      if (quick) "/tmp/nmax23_quick.json" else "tests/reference/hasselblad1998_nma_checks.stan.json")
cat("written\n")
