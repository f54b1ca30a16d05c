# Reference values for issue 20: single-arm GLMM (Stijnen et al. 2010), meta-regression,
# subgroup analyses, heterogeneity intervals, influence diagnostics, MH/Peto leave-one-out and
# cumulative analyses, BLUPs. R 4.2.2, metafor 3.8-1, metadat, lme4, jsonlite. Run from the
# repository root:
#   Rscript tests/reference/metafor_issue20.R   (writes tests/reference/metafor_issue20.json)
# Data: the shipped examples (examples/*.csv) and metadat datasets the package does not ship;
# for those the yi/vi (and moderators) used are written into the JSON beside the results.
suppressMessages({library(metafor); library(lme4); library(jsonlite)})
res <- list()

# --- 1. Single-arm binomial-normal GLMM: Stijnen, Hamza & Ozdemir (2010, Stat Med 29:3046),
# Table II, the catheter data (dat.nielweise2007) with each arm as single-arm proportions.
# Published: control arm (ci / n2i) -3.4964 / 0.2570 / 0.8124 (estimate / SE / tau^2);
# treatment arm (ai / n1i) -4.8121 / 0.3555 / 0.8265 (metafor's tests/testthat/
# test_analysis_example_stijnen2010.r). lme4 stops at max|grad| ~ 1e-3 on these data, so, as in
# metafor_extra.R, also maximise lme4's own nAGQ = 7 deviance tightly (nlminb) and take the SE
# from optimHess of that deviance.
refine <- function(formula, data) {
  dev <- glmer(formula, data = data, family = binomial, nAGQ = 7, devFunOnly = TRUE)
  fit <- suppressWarnings(glmer(formula, data = data, family = binomial, nAGQ = 7))
  p0 <- c(getME(fit, "theta"), fixef(fit))
  o <- nlminb(p0, dev, lower = c(0, rep(-Inf, length(p0) - 1)),
              control = list(eval.max = 10000, iter.max = 10000, rel.tol = 1e-15))
  V <- 2 * solve(optimHess(o$par, dev))
  list(est = unname(o$par[2]), se = sqrt(V[2, 2]), tau2 = unname(o$par[1]^2))
}
nw <- dat.nielweise2007
stijnen <- list()
for (arm in list(c("control", "ci", "n2i"), c("treatment", "ai", "n1i"))) {
  xi <- nw[[arm[2]]]; ni <- nw[[arm[3]]]
  g <- rma.glmm(measure = "PLO", xi = xi, ni = ni)
  d <- data.frame(events = xi, total = ni, study = factor(seq_along(xi)))
  stijnen[[arm[1]]] <- list(
    events = xi, total = ni,
    rma_glmm = list(est = c(g$beta), se = g$se, tau2 = g$tau2, k = g$k),
    refined = refine(cbind(events, total - events) ~ 1 + (1 | study), d))
}
stijnen$published <- list(control = list(est = -3.4964, se = 0.2570, tau2 = 0.8124),
                          treatment = list(est = -4.8121, se = 0.3555, tau2 = 0.8265))
res$stijnen2010 <- stijnen

res$provenance <- list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                       metadat = as.character(packageVersion("metadat")),
                       lme4 = as.character(packageVersion("lme4")),
                       script = "tests/reference/metafor_issue20.R")
writeLines(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"),
           "tests/reference/metafor_issue20.json")
