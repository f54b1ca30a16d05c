# The mixed-format example examples/bcg_mixed.csv and its metafor reference
# tests/reference/metafor_mixed.json. Run from the repository root:
#   Rscript tests/reference/make_bcg_mixed.R
# R 4.2.2, metafor 3.8-1, jsonlite.
#
# bcg_mixed is NOT a published mixed-format review: it is the shipped BCG counts
# (examples/bcg.csv, Colditz et al. 1994, metadat dat.bcg) with five trials converted to what
# a trial report that gives only an odds ratio would give: their escalc log odds ratio and its
# standard error, rounded to 4 decimals, with their counts blanked. (No published adjusted ORs
# exist for these trials; the conversion is named as such in examples/datasets.toml.)
#
# Reference: the inverse-variance rows on the mixed table, as bayesmeta computes them:
# escalc(measure = "OR") of the count rows (defaults: 0.5 added to all cells of a study with a
# zero cell) and the reported log ORs with se^2 as written, then rma(yi, vi, method = M) for M
# in EE, DL, REML (z test) and REML/DL with test = "knha", with predict(); the forest plot's
# weights(rma(yi, vi, method = "REML")) in percent.
suppressMessages({library(metafor); library(jsonlite)})
bcg <- read.csv("examples/bcg.csv", check.names = FALSE)
reported <- c("Ferguson & Simes 1949", "Hart & Sutherland 1977", "Vandiviere et al 1973",
              "Rosenthal et al 1961", "Comstock & Webster 1969")
es <- escalc(measure = "OR", ai = treatment_events, n1i = treatment_total,
             ci = control_events, n2i = control_total, data = bcg)
rep <- bcg$study %in% reported
out <- bcg[, c("study", "treatment_events", "treatment_total", "control_events",
               "control_total")]
out$log_or <- ifelse(rep, sprintf("%.4f", es$yi), "")
out$se <- ifelse(rep, sprintf("%.4f", sqrt(es$vi)), "")
for (col in c("treatment_events", "treatment_total", "control_events", "control_total"))
  out[[col]] <- ifelse(rep, "", as.character(out[[col]]))
out <- cbind(out, bcg[, c("ablat", "alloc", "year")])
write.csv(out, "examples/bcg_mixed.csv", row.names = FALSE, na = "")

yi <- ifelse(rep, as.numeric(out$log_or), es$yi)
vi <- ifelse(rep, as.numeric(out$se)^2, es$vi)
fit <- function(method, test = "z") {
  f <- rma(yi, vi, method = method, test = test)
  p <- predict(f)
  list(estimate = f$beta[1], se = f$se, ci_lb = f$ci.lb, ci_ub = f$ci.ub, tau2 = f$tau2,
       pi_lb = p$pi.lb, pi_ub = p$pi.ub, QE = f$QE, I2 = f$I2)
}
res <- list(
  dataset = "bcg_mixed", study = bcg$study, reported = reported, yi = yi, vi = vi,
  fixed_iv = fit("EE"), random_dl = fit("DL"), random_reml = fit("REML"),
  random_reml_hksj = fit("REML", "knha"), random_dl_hksj = fit("DL", "knha"),
  weights_reml = unname(weights(rma(yi, vi, method = "REML"))),
  provenance = list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                    script = "tests/reference/make_bcg_mixed.R"))
write(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE),
      "tests/reference/metafor_mixed.json")
