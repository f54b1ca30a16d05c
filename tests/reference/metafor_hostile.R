# Reference values for issue 22's numerically hostile reported effects (tests/frequentist/
# test_hostile_numbers.py). Made-up data, chosen to reach the edges of metafor's algorithms:
# - tiny: one study 1e10 times more precise than another (vi = 4e-12), still pooled;
# - stiff: k = 2 with variances 3e9 apart, where the textbook REML step cancels to 0/0
#   (bayesmeta hung before issue 22); metafor gives tau^2 = 0 with a warning;
# - stuck: REML Fisher scoring that metafor gives up on after 100 iterations.
# R 4.2.2, metafor 3.8-1, jsonlite. Run from the repository root:
#   Rscript tests/reference/metafor_hostile.R
suppressMessages({library(metafor); library(jsonlite)})
fit <- function(yi, vi, method) {
  r <- try(suppressWarnings(rma(yi, vi, method = method)), silent = TRUE)
  if (inherits(r, "try-error")) return(list(error = conditionMessage(attr(r, "condition"))))
  list(est = c(r$beta), se = r$se, tau2 = r$tau2)
}
tiny <- list(yi = c(0.1, 0.5, -0.2, 0.3, 0.6), vi = c(4e-12, 0.04, 0.05, 0.02, 0.1))
stiff <- list(yi = c(-4.124603898833988, 1.2173235970140484),
              vi = c(1.8673294441689288e-06, 5599.727694997371))
stuck <- list(yi = c(-4.3121108168912965, -5.139017862935662, 22.748639971748062,
                     13.202719781977382),
              vi = c(0.0036337379003658116, 9.160452641363369, 158.73093307212335,
                     160.6463472588966))
out <- list(versions = list(R = R.version.string,
                            metafor = as.character(packageVersion("metafor"))))
for (name in c("tiny", "stiff", "stuck")) {
  d <- get(name)
  fits <- list()
  for (m in c("DL", "REML", "ML", "PM", "EB", "HE", "SJ", "HS")) fits[[m]] <- fit(d$yi, d$vi, m)
  out[[name]] <- c(d, list(fits = fits))
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "tests/reference/metafor_hostile.json")
