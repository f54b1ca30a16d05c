# Reference values of bayesmeta classic --measure OR | RR | RD (tests/frequentist/test_measures.py).
# R 4.2.2, metafor 3.8-1, metadat 1.2-0, jsonlite. Run from the repository root:
#   Rscript tests/reference/metafor_measures.R
# It writes the unseen two-arm fixtures tests/frequentist/data/*.csv (copied from metadat, with
# their citations in tests/frequentist/data/README.md) and tests/reference/metafor_measures.json.
# Per dataset and measure: escalc(measure) defaults (add = 1/2 to all cells of a study with a
# zero cell, to = "only0", drop00 = FALSE, vtype = "LS"); rma.mh(measure) defaults (no
# correction of the estimate; Q over escalc with drop00 = TRUE); rma(yi, vi, method = M) for
# M in EE, DL, REML, PM, ML, EB, HE, SJ, HS with predict() (prediction interval) and confint()
# (Q-profile CI of tau^2); test = "knha" for DL and REML; leave1out() and cumul() (data order)
# of the DL fit; regtest(model = "lm") of the EE fit.
suppressMessages({library(metafor); library(jsonlite)})

fit_block <- function(r, pred = TRUE, ci = TRUE) {
  out <- list(est = c(r$beta), se = r$se, ci_lb = r$ci.lb, ci_ub = r$ci.ub, pval = r$pval,
              tau2 = r$tau2, I2 = r$I2, H2 = r$H2, Q = r$QE, Qp = r$QEp, k = r$k)
  if (pred) { p <- predict(r); out$pi_lb <- p$pi.lb; out$pi_ub <- p$pi.ub }
  if (ci) { ci <- confint(r)$random; out$tau2_lb <- ci["tau^2", "ci.lb"]; out$tau2_ub <- ci["tau^2", "ci.ub"] }
  out
}
safe <- function(expr) tryCatch(expr, error = function(e) list(error = conditionMessage(e)))
seq_block <- function(s) list(est = s$estimate, ci_lb = s$ci.lb, ci_ub = s$ci.ub, tau2 = s$tau2, I2 = s$I2)

measure_blocks <- function(d, m) {
  es <- escalc(m, ai = d$ai, n1i = d$n1i, ci = d$ci, n2i = d$n2i)
  out <- list(yi = c(es$yi), vi = c(es$vi))
  out$mh <- safe(fit_block(rma.mh(ai = d$ai, n1i = d$n1i, ci = d$ci, n2i = d$n2i, measure = m), FALSE, FALSE))
  out$iv_fixed <- fit_block(rma(es$yi, es$vi, method = "EE"), FALSE, FALSE)
  for (meth in c("DL", "REML", "PM", "ML", "EB", "HE", "SJ", "HS"))
    out[[paste0("re_", tolower(meth))]] <- safe(fit_block(rma(es$yi, es$vi, method = meth)))
  for (meth in c("DL", "REML"))
    out[[paste0("re_", tolower(meth), "_hksj")]] <- safe(fit_block(rma(es$yi, es$vi, method = meth, test = "knha")))
  dl <- rma(es$yi, es$vi, method = "DL")
  out$leave1out_dl <- seq_block(leave1out(dl))
  out$cumul_dl <- seq_block(cumul(dl))
  eg <- regtest(rma(es$yi, es$vi, method = "EE"), model = "lm")
  out$egger <- list(z = eg$zval, pval = eg$pval)
  out
}

counts <- function(study, ai, n1i, ci, n2i) {
  d <- data.frame(study = study, treatment_events = ai, treatment_total = n1i,
                  control_events = ci, control_total = n2i)
  d[complete.cases(d), ]
}
# Unseen data (not shipped with bayesmeta): metadat two-arm datasets.
unseen <- list(
  yusuf1985_table6 = with(subset(dat.yusuf1985, table == "6"), counts(trial, ai, n1i, ci, n2i)),
  egger2001 = with(dat.egger2001, counts(study, ai, n1i, ci, n2i)),
  collins1985a = with(dat.collins1985a, counts(trial, b.xti, nti, b.xci, nci))
)
for (name in names(unseen))
  write.csv(unseen[[name]], file.path("tests/frequentist/data", paste0(name, ".csv")), row.names = FALSE)

datasets <- c(setNames(file.path("examples", paste0(c("bcg", "li2007", "nielweise2007", "hasselblad1998"), ".csv")),
                       c("bcg", "li2007", "nielweise2007", "hasselblad1998")),
              setNames(file.path("tests/frequentist/data", paste0(names(unseen), ".csv")), names(unseen)))
res <- list(versions = list(R = as.character(getRversion()), metafor = as.character(packageVersion("metafor")),
                            metadat = as.character(packageVersion("metadat"))))
for (name in names(datasets)) {
  f <- read.csv(datasets[[name]])
  d <- data.frame(ai = f$treatment_events, n1i = f$treatment_total, ci = f$control_events, n2i = f$control_total)
  res[[name]] <- lapply(setNames(nm = c("OR", "RR", "RD")), function(m) measure_blocks(d, m))
}
write(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"), "tests/reference/metafor_measures.json")
cat("wrote tests/reference/metafor_measures.json\n")
