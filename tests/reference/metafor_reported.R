# Reference values for reported effect sizes (yi, vi) in bayesmeta's frequentist engine.
# Data: Kacker RN (2004), Combining information from interlaboratory evaluations using a random
# effects model, Metrologia 41:132-136, Table 1 (9 laboratories' means and squared standard
# uncertainties), as kept in statsmodels' meta-analysis tests. R 4.2.2, metafor 3.8-1, jsonlite.
# Run from the repository root: Rscript tests/reference/metafor_reported.R
suppressMessages({library(metafor); library(jsonlite)})
yi <- c(61.0, 61.4, 62.21, 62.3, 62.34, 62.6, 62.7, 62.84, 65.9)
vi <- c(0.2025, 1.2100, 0.0900, 0.2025, 0.3844, 0.5625, 0.0676, 0.0225, 1.8225)
block <- function(r, pred = TRUE, ci = TRUE) {
  out <- list(est = c(r$beta), se = r$se, ci_lb = r$ci.lb, ci_ub = r$ci.ub, pval = r$pval,
              tau2 = r$tau2, I2 = r$I2, H2 = r$H2, Q = r$QE, Qp = r$QEp, k = r$k)
  if (pred) { p <- predict(r); out$pi_lb <- p$pi.lb; out$pi_ub <- p$pi.ub }
  if (ci) { c <- confint(r)$random; out$tau2_lb <- c["tau^2", "ci.lb"]; out$tau2_ub <- c["tau^2", "ci.ub"] }
  out
}
out <- list(
  data = list(study = paste("lab", 1:9), yi = yi, vi = vi),
  versions = list(R = R.version.string, metafor = as.character(packageVersion("metafor"))),
  iv_fixed = block(rma(yi, vi, method = "EE"), FALSE, FALSE)
)
for (m in c("DL", "REML", "PM", "ML", "EB", "HE", "SJ", "HS"))
  out[[paste0("re_", tolower(m))]] <- block(rma(yi, vi, method = m))
for (m in c("DL", "REML"))
  out[[paste0("re_", tolower(m), "_hksj")]] <- block(rma(yi, vi, method = m, test = "knha"))
eg <- regtest(rma(yi, vi, method = "EE"), model = "lm")
out$egger <- list(z = eg$zval, pval = eg$pval, df = eg$dfs)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/reference/metafor_reported.json")
