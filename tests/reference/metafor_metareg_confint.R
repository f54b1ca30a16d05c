# Confidence intervals of the residual tau^2 of meta-regressions (issue 20 item 3 with
# moderators): metafor's confint() of rma(yi, vi, mods = f, method = M) -- the generalised
# Q-profile interval of tau^2 with the I^2 and H^2 limits it implies -- and, for ML and REML,
# confint(type = "PL"). R 4.2.2, metafor 3.8-1, jsonlite. Run from the repository root:
#   Rscript tests/reference/metafor_metareg_confint.R
# (writes tests/reference/metafor_metareg_confint.json). The data are those of the "metareg"
# block of metafor_issue20.json (yi, vi and covariates of bcg and of the metadat datasets the
# package does not ship), read from that file.
suppressMessages({library(metafor); library(jsonlite)})
ref <- fromJSON("tests/reference/metafor_issue20.json", simplifyVector = TRUE)$metareg
METHODS <- c("DL", "REML", "ML", "PM", "EB", "HE", "SJ", "HS")
block <- function(ci) {
  r <- ci$random
  list(tau2 = unname(r["tau^2", ]), I2 = unname(r["I^2(%)", ]), H2 = unname(r["H^2", ]))
}
out <- list()
for (name in names(ref)) {
  d <- as.data.frame(ref[[name]]$covariates)
  d$yi <- ref[[name]]$yi; d$vi <- ref[[name]]$vi
  for (key in names(ref[[name]]$regressions)) {
    f <- as.formula(paste("~", gsub("\\+", " + ", key)))
    for (m in METHODS) {
      r <- rma(yi, vi, mods = f, data = d, method = m)
      entry <- list(tau2 = r$tau2, qprofile = block(confint(r)))
      if (m %in% c("ML", "REML")) entry$pl <- block(confint(r, type = "PL"))
      out[[name]][[key]][[m]] <- entry
    }
  }
}
write_json(out, "tests/reference/metafor_metareg_confint.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
