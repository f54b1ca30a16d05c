# Frequentist contrast-based network meta-analysis references (issue 23 item 5): metafor's
# multivariate random-effects model rma.mv, the model of bayesmeta/frequentist/network.py.
#   Per study: log ORs of every arm against the study's baseline arm (the reference treatment
#   if present, else the first of the treatments in the order reference, then sorted names),
#   escalc(measure = "OR") with add = 1/2, to = "all" for a study with any arm of 0 or all
#   events, to = "none" otherwise (one correction for every table of a study, so the shared
#   baseline's cells are the same in each); V block-diagonal, cov(y_ij, y_ik) = the shared
#   baseline's 1 / (x_b + add) + 1 / (n_b - x_b + add).
#   rma.mv(yi, V, mods = X, intercept = FALSE, random = ~ arm | study, struct = "CS",
#          rho = 1/2, method = M), X[i, t] = [arm = t] - [baseline = t] over the non-reference
#   treatments (the basic parameters d_t = log OR of t vs the reference), M in REML, ML, EE
#   (EE: rma.mv without random). optim BFGS with reltol = 1e-14 to put tau^2 at the optimum.
#   Pairwise contrasts d_y - d_x with SE from vcov(); QE, QEp; ll from logLik().
# Networks: metadat dat.hasselblad1998 (smoking cessation, 24 trials, TSD2's example; Hasselblad
# 1998, Med Decis Making 18:37) and dat.dong2013 (COPD inhaled drugs, 41 trials, deaths; Dong
# et al. 2013, Thorax 68:48; not shipped). Run from the repository root:
#   Rscript tests/reference/metafor_network.R
# writes tests/reference/metafor_network.json and the arm-level fixtures
# tests/frequentist/data/{hasselblad1998,dong2013}_network.csv.
suppressMessages({library(metafor); library(jsonlite)})

contrasts_of <- function(d, ref) {
  trts <- c(ref, sort(setdiff(unique(d$treatment), ref)))
  out <- list(); V <- list()
  for (s in unique(d$study)) {
    a <- d[d$study == s, ]; a <- a[order(match(a$treatment, trts)), ]
    add <- if (any(a$events == 0 | a$events == a$total)) 0.5 else 0
    b <- a[1, ]; rest <- a[-1, ]
    es <- escalc(measure = "OR", ai = rest$events, n1i = rest$total, ci = rep(b$events, nrow(rest)),
                 n2i = rep(b$total, nrow(rest)), add = add, to = if (add > 0) "all" else "none")
    cov <- 1 / (b$events + add) + 1 / (b$total - b$events + add)
    m <- matrix(cov, nrow(rest), nrow(rest)); diag(m) <- es$vi
    V[[length(V) + 1]] <- m
    out[[length(out) + 1]] <- data.frame(study = s, arm = rest$treatment, base = b$treatment,
                                         yi = as.numeric(es$yi), vi = es$vi)
  }
  dat <- do.call(rbind, out)
  X <- sapply(trts[-1], function(t) (dat$arm == t) - (dat$base == t))
  list(dat = dat, V = as.matrix(bdiag(V)), X = X, trts = trts)
}

fit <- function(cn, method) {
  ctl <- list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-14)
  res <- if (method == "EE") {
    rma.mv(cn$dat$yi, cn$V, mods = cn$X, intercept = FALSE, method = "REML")
  } else {
    rma.mv(cn$dat$yi, cn$V, mods = cn$X, intercept = FALSE, random = ~ arm | study,
           struct = "CS", rho = 1 / 2, data = cn$dat, method = method, control = ctl)
  }
  b <- as.numeric(coef(res)); vb <- vcov(res); trts <- cn$trts; K <- length(trts)
  full_b <- c(0, b); pairs <- list()
  for (x in 1:(K - 1)) for (y in (x + 1):K) {
    cvec <- numeric(K - 1)
    if (y > 1) cvec[y - 1] <- 1
    if (x > 1) cvec[x - 1] <- -1
    est <- full_b[y] - full_b[x]; se <- sqrt(as.numeric(t(cvec) %*% vb %*% cvec))
    pairs[[length(pairs) + 1]] <- list(treatment = trts[y], versus = trts[x], estimate = est,
                                       se = se, ci_lb = est - qnorm(0.975) * se,
                                       ci_ub = est + qnorm(0.975) * se)
  }
  list(method = method, treatments = trts, d = b, se = as.numeric(res$se),
       ci_lb = as.numeric(res$ci.lb), ci_ub = as.numeric(res$ci.ub), z = as.numeric(res$zval),
       p = as.numeric(res$pval), vcov = unname(vb), tau2 = if (method == "EE") 0 else res$tau2,
       QE = res$QE, QEp = res$QEp, k = res$k, ll = as.numeric(logLik(res)), pairwise = pairs)
}

hass <- dat.hasselblad1998
hass <- data.frame(study = paste(hass$authors, hass$year), treatment = hass$trt, events = hass$xi, total = hass$ni)
dong <- dat.dong2013
dong <- data.frame(study = paste0("study", dong$id), treatment = dong$treatment,
                   events = dong$death, total = dong$randomized)
write.csv(hass, "tests/frequentist/data/hasselblad1998_network.csv", row.names = FALSE)
write.csv(dong, "tests/frequentist/data/dong2013_network.csv", row.names = FALSE)
nets <- list(hasselblad1998 = list(d = hass, ref = "no_contact"),
             dong2013 = list(d = dong, ref = "Placebo"))
out <- list()
for (name in names(nets)) {
  cn <- contrasts_of(nets[[name]]$d, nets[[name]]$ref)
  out[[name]] <- list(reference = nets[[name]]$ref, yi = cn$dat$yi, vi = cn$dat$vi,
                      fits = lapply(c(REML = "REML", ML = "ML", EE = "EE"), function(m) fit(cn, m)))
  cat(name, "k", nrow(cn$dat), "tau2", out[[name]]$fits$REML$tau2, "d", out[[name]]$fits$REML$d, "\n")
}
out$provenance <- list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                       metadat = as.character(packageVersion("metadat")),
                       script = "tests/reference/metafor_network.R")
write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/reference/metafor_network.json")
