# Reference values for the report's figures: random-effects study weights (the forest plot's
# weight column), Egger's regression line (the funnel plot), the pseudo-confidence region's
# centre, and REML leave-one-out fits (the influence plot), on the shipped examples.
# R 4.2.2, metafor 3.8-1, jsonlite. Run from the repository root:
#   Rscript tests/reference/metafor_report.R   (writes tests/reference/metafor_report.json)
suppressMessages({library(metafor); library(jsonlite)})

es_of <- function(name) {
  d <- read.csv(file.path("examples", paste0(name, ".csv")), check.names = FALSE)
  if ("events" %in% names(d)) {
    es <- escalc("PLO", xi = d$events, ni = d$total)
  } else {
    es <- escalc("OR", ai = d$treatment_events, n1i = d$treatment_total,
                 ci = d$control_events, n2i = d$control_total)
  }
  list(study = d$study, es = es)
}

one <- function(name) {
  x <- es_of(name); es <- x$es
  out <- list(study = x$study, yi = c(es$yi), vi = c(es$vi))
  for (m in c("REML", "DL")) {
    fit <- rma(es$yi, es$vi, method = m)
    # weights() of an rma.uni fit: 100 * w / sum(w) with w = 1 / (vi + tau2), in percent
    out[[paste0("weights_", tolower(m))]] <- unname(c(weights(fit)))
    out[[paste0("tau2_", tolower(m))]] <- fit$tau2
  }
  out$weights_ee <- unname(c(weights(rma(es$yi, es$vi, method = "EE"))))
  ee <- rma(es$yi, es$vi, method = "EE")
  out$ee_estimate <- c(ee$beta)
  reg <- regtest(ee, model = "lm")
  # Egger's line in funnel coordinates: yi = b0 + b1 * sei (weighted by 1 / vi)
  out$egger_line <- list(intercept = unname(coef(reg$fit)[1]), slope = unname(coef(reg$fit)[2]),
                         z = reg$zval, pval = reg$pval)
  l1o <- leave1out(rma(es$yi, es$vi, method = "REML"))
  out$leave1out_reml <- list(est = c(l1o$estimate), ci_lb = c(l1o$ci.lb), ci_ub = c(l1o$ci.ub),
                             tau2 = c(l1o$tau2))
  out
}

res <- lapply(setNames(nm = c("bcg", "li2007", "nielweise2007", "pritz1997_prop")), one)
res$provenance <- list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                       jsonlite = as.character(packageVersion("jsonlite")),
                       script = "tests/reference/metafor_report.R",
                       commands = paste("escalc(measure = 'OR' | 'PLO') defaults;",
                                        "weights(rma(yi, vi, method = 'REML' | 'DL' | 'EE'));",
                                        "coef(regtest(rma(yi, vi, method = 'EE'), model = 'lm')$fit);",
                                        "leave1out(rma(yi, vi, method = 'REML'))"))
writeLines(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"),
           "tests/reference/metafor_report.json")
