# RoBMA-PSMA reference on the 13 BCG trials (log risk ratio, effect_direction = "negative").
# Provenance: R 4.2, metafor 3.8 (escalc), RoBMA 3.6.1 / BayesTools 0.2.22 / runjags 2.2.2-5
# installed from the cran/* GitHub mirrors, JAGS 4.3.1. Default (RoBMA-PSMA) priors on y, se
# input (prior_scale = "none", no transformation). Took 41 minutes of wall time here (2 shared
# cores, niced; 2482 s).
#   Rscript tests/reference/robma_bcg.R > tests/reference/robma_bcg.json
suppressPackageStartupMessages({library(metafor); library(RoBMA); library(jsonlite)})
dat <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
fit <- RoBMA(y = as.numeric(dat$yi), se = sqrt(as.numeric(dat$vi)), effect_direction = "negative",
             seed = 1, parallel = FALSE, silent = TRUE)
s <- summary(fit)
sm <- summary(fit, type = "models")
models <- lapply(fit$models, function(m) list(
  priors = lapply(m$priors, function(p) if (is.null(p)) NULL else print(p, silent = TRUE)),
  logml = m$marglik$logml,
  prior_prob = m$inference$prior_prob,
  post_prob = m$inference$post_prob))
desc <- vapply(fit$models, function(m) paste(vapply(names(m$priors), function(n)
  paste0(n, "=", paste(capture.output(print(m$priors[[n]], silent = FALSE)), collapse = "")),
  ""), collapse = "; "), "")
comp <- as.data.frame(s$components)
est <- as.data.frame(s$estimates)
out <- list(
  source = "RoBMA 3.6.1 RoBMA(y, se, effect_direction='negative', seed=1), dat.bcg log RR",
  yi = as.numeric(dat$yi), sei = sqrt(as.numeric(dat$vi)),
  components = list(names = rownames(comp), prior_prob = comp[["Prior prob."]],
                    post_prob = comp[["Post. prob."]], inclusion_BF = comp[["Inclusion BF"]]),
  estimates = list(names = rownames(est), mean = est$Mean, median = est$Median,
                   lower = est[["0.025"]], upper = est[["0.975"]]),
  models = list(description = desc,
                logml = vapply(fit$models, function(m) m$marglik$logml, 0),
                logml_error = vapply(fit$models, function(m) {
                  e <- tryCatch(bridgesampling::error_measures(m$marglik)$cv, error = function(e) NA)
                  if (is.null(e)) NA else as.numeric(e)}, 0),
                prior_prob = vapply(fit$models, function(m) m$inference$prior_prob, 0),
                post_prob = vapply(fit$models, function(m) m$inference$post_prob, 0)),
  runtime_note = "")
cat(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"))
