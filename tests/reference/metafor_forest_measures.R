# Reference values of the forest plot on --measure RR | RD (tests/workflows/test_forest_measure.py):
# the study weights (in percent) that the forest plot shows, weights(rma(yi, vi, method = M)) for
# M in REML, DL, EE, on escalc(measure) with its defaults (add = 1/2 to every cell of a study
# with a zero cell, to = "only0"), with the fits' tau2.
# R 4.2.2, metafor 3.8-1, jsonlite. Run from the repository root:
#   Rscript tests/reference/metafor_forest_measures.R
suppressMessages({library(metafor); library(jsonlite)})
out <- list(versions = list(R = paste(R.version$major, R.version$minor, sep = "."),
                            metafor = as.character(packageVersion("metafor"))))
for (name in c("egger2001", "yusuf1985_table6")) {
  d <- read.csv(file.path("tests", "frequentist", "data", paste0(name, ".csv")))
  for (m in c("RR", "RD")) {
    es <- escalc(m, ai = d$treatment_events, n1i = d$treatment_total,
                 ci = d$control_events, n2i = d$control_total)
    block <- list(study = d$study)
    for (meth in c("REML", "DL", "EE")) {
      r <- rma(es$yi, es$vi, method = meth)
      block[[tolower(meth)]] <- list(weights = unname(c(weights(r))), tau2 = r$tau2)
    }
    out[[name]][[m]] <- block
  }
}
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           file.path("tests", "reference", "metafor_forest_measures.json"))
