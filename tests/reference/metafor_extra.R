# Extra reference values for bayesmeta's frequentist engine: edge cases, other measures,
# Harbord/Peters tests and tightly converged GLMM optima.
# R 4.2.2, metafor 3.8-1, lme4 1.1-31, jsonlite. Run from the repository root:
#   Rscript tests/reference/metafor_extra.R   (writes tests/reference/metafor_extra.json)
suppressMessages({library(metafor); library(lme4); library(jsonlite)})

fit_block <- function(r, pred = TRUE, ci = TRUE) {
  out <- list(est = c(r$beta), se = r$se, ci_lb = r$ci.lb, ci_ub = r$ci.ub, pval = r$pval,
              tau2 = r$tau2, I2 = r$I2, H2 = r$H2, Q = r$QE, Qp = r$QEp, k = r$k)
  if (pred) { p <- predict(r); out$pi_lb <- p$pi.lb; out$pi_ub <- p$pi.ub }
  if (ci) { ci <- confint(r)$random; out$tau2_lb <- ci["tau^2", "ci.lb"]; out$tau2_ub <- ci["tau^2", "ci.ub"] }
  out
}
safe <- function(expr) tryCatch(expr, error = function(e) list(error = conditionMessage(e)))

two_arm <- function(d) {
  es <- escalc("OR", ai = d$ai, n1i = d$n1i, ci = d$ci, n2i = d$n2i)
  out <- list(counts = d, yi = c(es$yi), vi = c(es$vi))
  out$mh <- safe(fit_block(rma.mh(ai = d$ai, n1i = d$n1i, ci = d$ci, n2i = d$n2i, measure = "OR"), FALSE, FALSE))
  out$peto <- safe(fit_block(rma.peto(ai = d$ai, n1i = d$n1i, ci = d$ci, n2i = d$n2i), FALSE, FALSE))
  out$iv_fixed <- fit_block(rma(es$yi, es$vi, method = "EE"), FALSE, FALSE)
  for (m in c("DL", "REML", "PM", "ML", "EB", "HE", "SJ", "HS"))
    out[[paste0("re_", tolower(m))]] <- safe(fit_block(rma(es$yi, es$vi, method = m)))
  for (m in c("DL", "REML"))
    out[[paste0("re_", tolower(m), "_hksj")]] <- safe(fit_block(rma(es$yi, es$vi, method = m, test = "knha")))
  if (length(es$yi) >= 3) {
    eg <- regtest(rma(es$yi, es$vi, method = "EE"), model = "lm")
    out$egger <- list(z = eg$zval, pval = eg$pval)
  }
  g <- safe(rma.glmm(measure = "OR", ai = d$ai, n1i = d$n1i, ci = d$ci, n2i = d$n2i, model = "UM.FS"))
  out$glmm_um_fs <- if (is.null(g$error)) list(est = c(g$beta), se = g$se, tau2 = g$tau2, k = g$k) else g
  out
}

# Hypothetical tables chosen to hit each edge case.
edge <- list(
  homogeneous = data.frame(ai = c(10, 12, 8, 15), n1i = c(100, 110, 90, 120),
                           ci = c(20, 22, 17, 28), n2i = c(100, 105, 95, 118)),
  k2 = data.frame(ai = c(4, 6), n1i = c(123, 306), ci = c(11, 29), n2i = c(139, 303)),
  zero_treatment_arm = data.frame(ai = c(0, 0, 0, 0), n1i = c(50, 60, 40, 80),
                                  ci = c(3, 5, 2, 6), n2i = c(50, 62, 41, 79)),
  one_zero_cell = data.frame(ai = c(0, 5, 8, 12, 3), n1i = c(40, 100, 120, 150, 60),
                             ci = c(4, 9, 10, 20, 6), n2i = c(42, 98, 118, 155, 61)),
  double_zero = data.frame(ai = c(0, 2, 5, 0, 7, 1), n1i = c(30, 80, 100, 25, 140, 60),
                           ci = c(0, 6, 9, 0, 12, 4), n2i = c(32, 78, 103, 27, 139, 58))
)
res <- list(edge = lapply(edge, two_arm))

read2 <- function(name) {
  d <- read.csv(file.path("examples", paste0(name, ".csv")))
  data.frame(ai = d$treatment_events, n1i = d$treatment_total, ci = d$control_events, n2i = d$control_total)
}

# Other measures on bcg: escalc RR and RD (vtype "LS"), DL fits.
b <- read2("bcg")
for (m in c("RR", "RD")) {
  es <- escalc(m, ai = b$ai, n1i = b$n1i, ci = b$ci, n2i = b$n2i)
  res[[paste0("bcg_", m)]] <- list(yi = c(es$yi), vi = c(es$vi), re_dl = fit_block(rma(es$yi, es$vi, method = "DL")))
}
es <- escalc("OR", ai = b$ai, n1i = b$n1i, ci = b$ci, n2i = b$n2i, to = "all")
res$bcg_OR_all <- list(yi = c(es$yi), vi = c(es$vi))

# Harbord (score) and Peters tests by hand (no 'meta' package here), as meta::metabias does.
small_study <- function(d) {
  d[] <- lapply(d, as.numeric); xt <- d$ai + d$ci; N <- d$n1i + d$n2i
  E <- xt * d$n1i / N; V <- xt * (N - xt) * d$n1i * d$n2i / (N^2 * (N - 1))
  pos <- V > 0
  Z <- (d$ai - E)[pos]; V <- V[pos]
  h <- summary(lm(I(Z / sqrt(V)) ~ sqrt(V)))$coefficients
  es <- escalc("OR", ai = d$ai, n1i = d$n1i, ci = d$ci, n2i = d$n2i)
  inf <- xt > 0 & xt < N
  w <- 1 / (1 / xt[inf] + 1 / (N - xt)[inf])
  p <- summary(lm(es$yi[inf] ~ I(1 / N[inf]), weights = w))$coefficients
  list(harbord = list(z = h[1, 3], pval = h[1, 4]), peters = list(z = p[2, 3], pval = p[2, 4]))
}
res$small_study <- lapply(setNames(nm = c("bcg", "li2007", "nielweise2007")), function(n) small_study(read2(n)))

# GLMM: rma.glmm's lme4 fit stops early on some data (lme4 warns "failed to converge"), so
# also maximise lme4's own nAGQ = 7 deviance function tightly (nlminb) and take the SE from
# optimHess of that deviance (full inverse, as lme4's vcov).
refine <- function(formula, data) {
  dev <- glmer(formula, data = data, family = binomial, nAGQ = 7, devFunOnly = TRUE)
  fit <- suppressWarnings(glmer(formula, data = data, family = binomial, nAGQ = 7))
  p0 <- c(getME(fit, "theta"), fixef(fit))
  o <- nlminb(p0, dev, lower = c(0, rep(-Inf, length(p0) - 1)),
              control = list(eval.max = 10000, iter.max = 10000, rel.tol = 1e-15))
  H <- optimHess(o$par, dev)
  V <- 2 * solve(H)
  list(est = unname(o$par[2]), se = sqrt(V[2, 2]), tau2 = unname(o$par[1]^2))
}
glmm_refined <- list()
for (n in c("bcg", "li2007", "nielweise2007")) {
  d <- read2(n); d <- d[!((d$ai == 0 & d$ci == 0) | (d$ai == d$n1i & d$ci == d$n2i)), ]
  k <- nrow(d)
  long <- data.frame(x = c(rbind(d$ai, d$ci)), n = c(rbind(d$n1i, d$n2i)),
                     g1 = rep(c(1, 0), k), g12 = rep(c(1 / 2, -1 / 2), k), study = factor(rep(seq_len(k), each = 2)))
  glmm_refined[[n]] <- refine(cbind(x, n - x) ~ -1 + g1 + study + (g12 - 1 | study), long)
}
p <- read.csv("examples/pritz1997_prop.csv")
p$study <- factor(seq_len(nrow(p)))
glmm_refined$pritz1997_prop <- refine(cbind(events, total - events) ~ 1 + (1 | study), p)
res$glmm_refined <- glmm_refined

res$provenance <- list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                       lme4 = as.character(packageVersion("lme4")), script = "tests/reference/metafor_extra.R")
writeLines(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"),
           "tests/reference/metafor_extra.json")
