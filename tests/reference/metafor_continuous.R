# Reference values for continuous outcomes from means, SDs and group sizes (escalc + rma).
# Shipped: dat.normand1999 (examples/normand1999.csv; Normand SLT 1999, Stat Med 18:321-359,
# length of hospital stay, specialist vs routine stroke care, 9 studies).
# Unseen (test fixture only, not shipped): dat.curtis1998 (Curtis PS, Wang X 1998, Oecologia
# 113:299-313; woody plant biomass under elevated CO2, 102 comparisons; ROM is its measure).
# R 4.2.2, metafor 3.8-1, metadat, jsonlite. Run from the repository root:
#   Rscript tests/reference/metafor_continuous.R
suppressMessages({library(metafor); library(metadat); library(jsonlite)})
block <- function(r) {
  p <- predict(r)
  list(est = c(r$beta), se = r$se, ci_lb = r$ci.lb, ci_ub = r$ci.ub, pval = r$pval,
       tau2 = r$tau2, I2 = r$I2, H2 = r$H2, Q = r$QE, pi_lb = p$pi.lb, pi_ub = p$pi.ub)
}
analyse <- function(d) {
  out <- list()
  for (m in c("MD", "SMD", "ROM")) {
    es <- escalc(m, m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
                 data = d)
    out[[m]] <- list(
      yi = c(es$yi), vi = c(es$vi),
      iv_fixed = block(rma(yi, vi, data = es, method = "EE")),
      re_dl = block(rma(yi, vi, data = es, method = "DL")),
      re_reml = block(rma(yi, vi, data = es, method = "REML")),
      re_dl_hksj = block(rma(yi, vi, data = es, method = "DL", test = "knha")),
      re_reml_hksj = block(rma(yi, vi, data = es, method = "REML", test = "knha"))
    )
  }
  out
}
cols <- c("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")
normand <- dat.normand1999
curtis <- dat.curtis1998
curtis$study <- paste0(curtis$paper, "-", curtis$id)
out <- list(
  versions = list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                  metadat = as.character(packageVersion("metadat"))),
  normand1999 = c(list(data = as.list(normand[, c("source", cols)])), analyse(normand)),
  curtis1998 = c(list(data = as.list(curtis[, c("study", cols)])), analyse(curtis))
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "tests/reference/metafor_continuous.json")
