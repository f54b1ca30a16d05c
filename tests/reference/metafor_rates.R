# Reference values for bayesmeta's incidence-rate-ratio (IRR) methods.
# R 4.2.2, metafor 3.8-1, metadat, lme4, jsonlite. Run from the repository root:
#   Rscript tests/reference/metafor_rates.R   (writes tests/reference/metafor_rates.json)
# Datasets: examples/nielweise2008.csv (metadat dat.nielweise2008, shipped) and metadat
# dat.hart1999 (warfarin vs placebo/control, strokes per patient-year; not shipped: the test
# fixture tests/frequentist/data/hart1999_rates.csv is written here), plus hypothetical tables
# with zero-event arms.
suppressMessages({library(metafor); library(metadat); library(lme4); library(jsonlite)})

fit_block <- function(r, pred = TRUE) {
  out <- list(est = c(r$beta), se = r$se, ci_lb = r$ci.lb, ci_ub = r$ci.ub, pval = r$pval,
              tau2 = r$tau2, I2 = r$I2, Q = r$QE, Qp = r$QEp, k = r$k)
  if (pred) { p <- predict(r); out$pi_lb <- p$pi.lb; out$pi_ub <- p$pi.ub }
  out
}

# rma.glmm's lme4 fit may stop early, so also maximise lme4's own nAGQ = 7 deviance function
# tightly (nlminb) and take the SE from optimHess of that deviance, as in metafor_extra.R.
refine <- function(d) {
  k <- nrow(d)
  long <- data.frame(x = c(rbind(d$x1i, d$x2i)), t = c(rbind(d$t1i, d$t2i)),
                     g1 = rep(c(1, 0), k), g12 = rep(c(1 / 2, -1 / 2), k),
                     study = factor(rep(seq_len(k), each = 2)))
  f <- x ~ -1 + g1 + study + offset(log(t)) + (g12 - 1 | study)
  dev <- glmer(f, data = long, family = poisson, nAGQ = 7, devFunOnly = TRUE)
  fit <- suppressWarnings(glmer(f, data = long, family = poisson, nAGQ = 7))
  p0 <- c(getME(fit, "theta"), fixef(fit))
  o <- nlminb(p0, dev, lower = c(0, rep(-Inf, length(p0) - 1)),
              control = list(eval.max = 10000, iter.max = 10000, rel.tol = 1e-15))
  V <- 2 * solve(optimHess(o$par, dev))
  list(est = unname(o$par[2]), se = sqrt(V[2, 2]), tau2 = unname(o$par[1]^2),
       deviance = o$objective)
}

rates <- function(d) {
  es <- escalc("IRR", x1i = d$x1i, t1i = d$t1i, x2i = d$x2i, t2i = d$t2i)
  out <- list(counts = d, yi = c(es$yi), vi = c(es$vi))
  out$mh <- fit_block(rma.mh(x1i = d$x1i, t1i = d$t1i, x2i = d$x2i, t2i = d$t2i,
                             measure = "IRR"), FALSE)
  out$iv_fixed <- fit_block(rma(es$yi, es$vi, method = "EE"), FALSE)
  for (m in c("DL", "REML"))
    out[[paste0("re_", tolower(m))]] <- fit_block(rma(es$yi, es$vi, method = m))
  for (m in c("DL", "REML"))
    out[[paste0("re_", tolower(m), "_hksj")]] <- fit_block(rma(es$yi, es$vi, method = m,
                                                               test = "knha"))
  g <- rma.glmm(measure = "IRR", x1i = d$x1i, t1i = d$t1i, x2i = d$x2i, t2i = d$t2i,
                model = "UM.FS")
  out$glmm_um_fs <- list(est = c(g$beta), se = g$se, tau2 = g$tau2, k = g$k)
  keep <- !(d$x1i == 0 & d$x2i == 0)  # rma.glmm leaves out studies without events
  out$glmm_refined <- refine(d[keep, ])
  out
}

n <- read.csv("examples/nielweise2008.csv")
niel <- data.frame(x1i = n$treatment_events, t1i = n$treatment_time,
                   x2i = n$control_events, t2i = n$control_time)
h <- dat.hart1999
hart <- data.frame(x1i = h$x1i, t1i = h$t1i, x2i = h$x2i, t2i = h$t2i)
dir.create("tests/frequentist/data", showWarnings = FALSE, recursive = TRUE)
write.csv(data.frame(study = paste(h$study, h$year), x1i = h$x1i, t1i = h$t1i, x2i = h$x2i,
                     t2i = h$t2i), "tests/frequentist/data/hart1999_rates.csv",
          row.names = FALSE, quote = FALSE)
zero_arm <- data.frame(x1i = c(0, 4, 9, 2, 0), t1i = c(800, 1200, 2500, 900, 400),
                       x2i = c(3, 7, 12, 0, 0), t2i = c(750, 1100, 2600, 950, 420))

res <- list(nielweise2008 = rates(niel), hart1999 = rates(hart), zero_arm = rates(zero_arm))
res$provenance <- list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                       metadat = as.character(packageVersion("metadat")),
                       lme4 = as.character(packageVersion("lme4")),
                       script = "tests/reference/metafor_rates.R")
writeLines(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"),
           "tests/reference/metafor_rates.json")
