# Reference values for continuous outcomes from means, SDs and group sizes (escalc + rma).
# Shipped: dat.normand1999 (examples/normand1999.csv; Normand SLT 1999, Stat Med 18:321-359,
# length of hospital stay, specialist vs routine stroke care, 9 studies).
# Unseen (test fixture only, not shipped): dat.curtis1998 (Curtis PS, Wang X 1998, Oecologia
# 113:299-313; woody plant biomass under elevated CO2, 102 comparisons; ROM is its measure).
# RevMan: outcome 1.2 of R meta's Fleiss1993.rm5 (tests/io/data/revman; Fleiss JL 1993, Stat
# Methods Med Res 2:121-145, mental health treatment and medical utilisation, 5 studies),
# MEAN_1, SD_1, TOTAL_1, MEAN_2, SD_2, TOTAL_2 copied from the file's CONT_DATA rows.
# R 4.2.2, metafor 3.8-1, metadat, jsonlite. Run from the repository root:
#   Rscript tests/reference/metafor_continuous.R
suppressMessages({library(metafor); library(metadat); library(jsonlite)})
block <- function(r) {
  p <- predict(r)
  list(est = c(r$beta), se = r$se, ci_lb = r$ci.lb, ci_ub = r$ci.ub, pval = r$pval,
       tau2 = r$tau2, I2 = r$I2, H2 = r$H2, Q = r$QE, pi_lb = p$pi.lb, pi_ub = p$pi.ub)
}
analyse <- function(d) {
  fleiss <- data.frame(
  study = c("Davis", "Florell", "Gruen", "Hart", "Wilson"),
  m1i = c(5.0, 4.9, 22.5, 12.5, 6.5), sd1i = c(4.7, 1.71, 3.44, 1.47, 0.76),
  n1i = c(13, 30, 35, 20, 8), m2i = c(6.5, 6.1, 24.9, 12.3, 7.38),
  sd2i = c(3.8, 2.3, 10.65, 1.66, 1.41), n2i = c(13, 50, 35, 20, 8))
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
fleiss <- data.frame(
  study = c("Davis", "Florell", "Gruen", "Hart", "Wilson"),
  m1i = c(5.0, 4.9, 22.5, 12.5, 6.5), sd1i = c(4.7, 1.71, 3.44, 1.47, 0.76),
  n1i = c(13, 30, 35, 20, 8), m2i = c(6.5, 6.1, 24.9, 12.3, 7.38),
  sd2i = c(3.8, 2.3, 10.65, 1.66, 1.41), n2i = c(13, 50, 35, 20, 8))
out <- list(
  versions = list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                  metadat = as.character(packageVersion("metadat"))),
  normand1999 = c(list(data = as.list(normand[, c("source", cols)])), analyse(normand)),
  curtis1998 = c(list(data = as.list(curtis[, c("study", cols)])), analyse(curtis)),
  fleiss1993_rm5 = c(list(data = as.list(fleiss)), analyse(fleiss))
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "tests/reference/metafor_continuous.json")
