# Reference values for bayesmeta's publication-bias tools (bayesmeta/frequentist/bias.py):
# trim-and-fill, fail-safe N, the rank correlation test, PET/PEESE and selection models.
# R 4.2.2, metafor 3.8-1, metadat 1.2-0, numDeriv, jsonlite. Run from the repository root:
#   Rscript tests/reference/metafor_bias.R   (writes tests/reference/metafor_bias.json)
# Shipped examples: escalc(measure = "OR") defaults on examples/*.csv (two-arm files).
# Data the team did not ship (metadat): dat.hackshaw1998 (log OR of lung cancer and passive
# smoking, yi/vi as given), dat.molloy2014 (escalc("ZCOR", ri, ni): conscientiousness and
# medication adherence), dat.bangertdrowns2004 (standardized mean differences as given,
# writing-to-learn interventions; rows with a missing yi dropped).
suppressMessages({library(metafor); library(jsonlite)})

safe <- function(expr) tryCatch(expr, error = function(e) list(error = conditionMessage(e)))

fit <- function(r) list(est = c(r$beta), se = r$se, ci_lb = r$ci.lb, ci_ub = r$ci.ub,
                        pval = r$pval, tau2 = r$tau2, k = r$k)

trim <- function(r, estimator) {
  t <- trimfill(r, estimator = estimator)
  out <- c(fit(t), list(k0 = t$k0, se_k0 = t$se.k0, side = t$side,
                        p_k0 = if (is.na(t$p.k0)) NULL else t$p.k0))
  if (t$k0 > 0) { out$fill_yi <- c(t$yi[t$fill]); out$fill_vi <- c(t$vi[t$fill]) }
  out
}

limit <- function(yi, vi, predictor) {
  x <- if (predictor == "sei") sqrt(vi) else vi
  s <- coef(summary(lm(yi ~ x, weights = 1 / vi)))
  rt <- regtest(rma(yi, vi, method = "EE"), model = "lm", predictor = predictor)
  list(b0 = s[1, 1], se0 = s[1, 2], t0 = s[1, 3], p0 = s[1, 4],
       b1 = s[2, 1], se1 = s[2, 2], t1 = s[2, 3], p1 = s[2, 4], df = length(yi) - 2,
       regtest_est = rt$est, regtest_ci_lb = rt$ci.lb, regtest_ci_ub = rt$ci.ub)
}

# Selection models converged tightly (optim reltol 1e-12; integrate rel.tol 1e-10 for the beta
# model's normalising constants instead of its default 1.2e-4), so that the optimum and the
# numerical Hessian are metafor's to about 1e-6 rather than only to those tolerances.
tight <- list(reltol = 1e-12, intCtrl = list(rel.tol = 1e-10, subdivisions = 1000L))
sel <- function(r, type, steps = NULL, alternative = "greater") {
  s <- if (type == "stepfun") selmodel(r, type = type, steps = steps, alternative = alternative, control = tight)
       else selmodel(r, type = type, alternative = alternative, control = tight)
  list(est = c(s$beta), se = s$se, ci_lb = s$ci.lb, ci_ub = s$ci.ub, pval = s$pval,
       tau2 = s$tau2, se_tau2 = s$se.tau2, delta = s$delta, se_delta = s$se.delta,
       ll = s$ll, ll0 = s$ll0, LRT = s$LRT, LRTdf = s$LRTdf, LRTp = s$LRTp,
       ptable = if (is.data.frame(s$ptable)) s$ptable$k else NULL)
}

bias <- function(yi, vi) {
  out <- list(yi = c(yi), vi = c(vi))
  for (m in c("EE", "REML", "DL"))
    for (e in c("L0", "R0"))
      out[[paste("trimfill", m, e, sep = "_")]] <- safe(trim(rma(yi, vi, method = m), e))
  f <- fsn(yi, vi, type = "Rosenthal"); out$fsn_rosenthal <- list(fsnum = f$fsnum, pval = f$pval)
  f <- fsn(yi, type = "Orwin"); out$fsn_orwin <- list(fsnum = f$fsnum, meanes = f$meanes, target = f$target)
  f <- fsn(yi, type = "Orwin", target = 0.05 * sign(mean(yi)))
  out$fsn_orwin_target <- list(fsnum = f$fsnum, meanes = f$meanes, target = f$target)
  f <- fsn(yi, vi, type = "Rosenberg"); out$fsn_rosenberg <- list(fsnum = f$fsnum, pval = f$pval, meanes = f$meanes)
  rk <- ranktest(yi, vi); out$ranktest <- list(tau = unname(rk$tau), pval = rk$pval)
  out$pet <- limit(yi, vi, "sei"); out$peese <- limit(yi, vi, "vi")
  ml <- rma(yi, vi, method = "ML"); ee <- rma(yi, vi, method = "EE")
  for (alt in c("greater", "less")) {
    out[[paste0("sel_3psm_ml_", alt)]] <- safe(sel(ml, "stepfun", 0.025, alt))
    out[[paste0("sel_3psm_ee_", alt)]] <- safe(sel(ee, "stepfun", 0.025, alt))
    out[[paste0("sel_4psm_ml_", alt)]] <- safe(sel(ml, "stepfun", c(0.025, 0.5), alt))
    out[[paste0("sel_beta_ml_", alt)]] <- safe(sel(ml, "beta", alternative = alt))
  }
  out$sel_step2_ml_two.sided <- safe(sel(ml, "stepfun", c(0.05, 0.10), "two.sided"))
  out
}

res <- list(versions = list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                            metadat = as.character(packageVersion("metadat"))))
for (name in c("bcg", "hasselblad1998", "li2007", "nielweise2007")) {
  d <- read.csv(file.path("examples", paste0(name, ".csv")))
  es <- escalc("OR", ai = d$treatment_events, n1i = d$treatment_total,
               ci = d$control_events, n2i = d$control_total)
  res[[name]] <- bias(es$yi, es$vi)
}
res$hackshaw1998 <- bias(dat.hackshaw1998$yi, dat.hackshaw1998$vi)
m <- escalc("ZCOR", ri = dat.molloy2014$ri, ni = dat.molloy2014$ni)
res$molloy2014 <- bias(m$yi, m$vi)
b <- dat.bangertdrowns2004[!is.na(dat.bangertdrowns2004$yi), ]
res$bangertdrowns2004 <- bias(b$yi, b$vi)
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, null = "null", pretty = TRUE),
           "tests/reference/metafor_bias.json")
