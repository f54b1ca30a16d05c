# Reference values for issue 20: single-arm GLMM (Stijnen et al. 2010), meta-regression,
# subgroup analyses, heterogeneity intervals, influence diagnostics, MH/Peto leave-one-out and
# cumulative analyses, BLUPs. R 4.2.2, metafor 3.8-1, metadat, lme4, jsonlite. Run from the
# repository root:
#   Rscript tests/reference/metafor_issue20.R   (writes tests/reference/metafor_issue20.json)
# Data: the shipped examples (examples/*.csv) and metadat datasets the package does not ship;
# for those the yi/vi (and moderators) used are written into the JSON beside the results.
suppressMessages({library(metafor); library(lme4); library(jsonlite)})
res <- list()
safe <- function(expr) tryCatch(expr, error = function(e) list(error = conditionMessage(e)))

# --- 1. Single-arm binomial-normal GLMM: Stijnen, Hamza & Ozdemir (2010, Stat Med 29:3046),
# Table II, the catheter data (dat.nielweise2007) with each arm as single-arm proportions.
# Published: control arm (ci / n2i) -3.4964 / 0.2570 / 0.8124 (estimate / SE / tau^2);
# treatment arm (ai / n1i) -4.8121 / 0.3555 / 0.8265 (metafor's tests/testthat/
# test_analysis_example_stijnen2010.r). lme4 stops at max|grad| ~ 1e-3 on these data, so, as in
# metafor_extra.R, also maximise lme4's own nAGQ = 7 deviance tightly (nlminb) and take the SE
# from optimHess of that deviance.
refine <- function(formula, data) {
  dev <- glmer(formula, data = data, family = binomial, nAGQ = 7, devFunOnly = TRUE)
  fit <- suppressWarnings(glmer(formula, data = data, family = binomial, nAGQ = 7))
  p0 <- c(getME(fit, "theta"), fixef(fit))
  o <- nlminb(p0, dev, lower = c(0, rep(-Inf, length(p0) - 1)),
              control = list(eval.max = 10000, iter.max = 10000, rel.tol = 1e-15))
  V <- 2 * solve(optimHess(o$par, dev))
  list(est = unname(o$par[2]), se = sqrt(V[2, 2]), tau2 = unname(o$par[1]^2))
}
nw <- dat.nielweise2007
stijnen <- list()
for (arm in list(c("control", "ci", "n2i"), c("treatment", "ai", "n1i"))) {
  xi <- nw[[arm[2]]]; ni <- nw[[arm[3]]]
  g <- rma.glmm(measure = "PLO", xi = xi, ni = ni)
  d <- data.frame(events = xi, total = ni, study = factor(seq_along(xi)))
  stijnen[[arm[1]]] <- list(
    events = xi, total = ni,
    rma_glmm = list(est = c(g$beta), se = g$se, tau2 = g$tau2, k = g$k),
    refined = refine(cbind(events, total - events) ~ 1 + (1 | study), d))
}
stijnen$published <- list(control = list(est = -3.4964, se = 0.2570, tau2 = 0.8124),
                          treatment = list(est = -4.8121, se = 0.3555, tau2 = 0.8265))
res$stijnen2010 <- stijnen

# --- 2. Meta-regression and subgroup analyses. Datasets: bcg (shipped; escalc OR defaults) and
# metadat's dat.hackshaw1998 (yi, vi as given), dat.molloy2014 (escalc ZCOR),
# dat.konstantopoulos2011 (yi, vi as given), dat.normand1999 (escalc MD).
METHODS <- c("DL", "REML", "ML", "PM", "EB", "HE", "SJ", "HS")
read2 <- function(name) {
  d <- read.csv(file.path("examples", paste0(name, ".csv")))
  data.frame(ai = d$treatment_events, n1i = d$treatment_total, ci = d$control_events, n2i = d$control_total)
}
bcg <- read.csv("examples/bcg.csv")
b <- read2("bcg")
es <- escalc("OR", ai = b$ai, n1i = b$n1i, ci = b$ci, n2i = b$n2i)
bcg$yi <- c(es$yi); bcg$vi <- c(es$vi)
mol <- escalc("ZCOR", ri = ri, ni = ni, data = dat.molloy2014)
nor <- escalc("MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = dat.normand1999)
sets <- list(
  bcg = list(d = bcg, cols = c("ablat", "year", "alloc"), mods = list("ablat", c("ablat", "year"), "alloc"), subgroups = "alloc"),
  hackshaw1998 = list(d = as.data.frame(dat.hackshaw1998), cols = c("year", "country", "design"),
                      mods = list("year", "design", c("year", "design")), subgroups = c("design", "country")),
  molloy2014 = list(d = as.data.frame(mol), cols = c("meanage", "quality", "design"),
                    mods = list("meanage", c("meanage", "quality"), "design"), subgroups = "design"),
  konstantopoulos2011 = list(d = as.data.frame(dat.konstantopoulos2011), cols = c("year", "district"),
                             mods = list("year"), subgroups = "district"),
  normand1999 = list(d = as.data.frame(nor), cols = c("source"), mods = list(), subgroups = character(0))
)
reg_block <- function(r) {
  out <- list(names = rownames(r$beta), est = c(r$beta), se = r$se, stat = r$zval, pval = r$pval,
              ci_lb = r$ci.lb, ci_ub = r$ci.ub, tau2 = r$tau2, se_tau2 = r$se.tau2,
              I2 = r$I2, H2 = r$H2, QM = r$QM, QMdf = r$QMdf, QMp = r$QMp,
              QE = r$QE, QEp = r$QEp, k = r$k, p = r$p)
  if (!is.null(r$R2)) out$R2 <- r$R2
  out
}
pooled_block <- function(r) list(est = c(r$beta), se = r$se, ci_lb = r$ci.lb, ci_ub = r$ci.ub,
                                 pval = r$pval, tau2 = r$tau2, I2 = r$I2, k = r$k)
metareg <- list()
for (name in names(sets)) {
  s <- sets[[name]]; d <- s$d
  out <- list(yi = c(d$yi), vi = c(d$vi), covariates = d[, s$cols, drop = FALSE], regressions = list(), subgroups = list())
  for (mods in s$mods) {
    f <- as.formula(paste("~", paste(mods, collapse = " + ")))
    key <- paste(mods, collapse = "+")
    for (m in METHODS) for (test in c("z", "knha"))
      out$regressions[[key]][[paste0(m, "_", test)]] <- safe(reg_block(rma(d$yi, d$vi, mods = f, data = d, method = m, test = test)))
  }
  for (g in s$subgroups) {
    lev <- levels(factor(d[[g]]))  # numbers sort as numbers, as the package orders levels
    sub <- list(levels = lev)
    fit_groups <- function(m, test) {
      fits <- lapply(setNames(nm = lev), function(l) {
        i <- as.character(d[[g]]) == l
        if (sum(i) == 1) rma(d$yi[i], d$vi[i], method = "EE") else rma(d$yi[i], d$vi[i], method = m, test = test)
      })
      est <- sapply(fits, function(r) c(r$beta)); se <- sapply(fits, function(r) r$se)
      qb <- rma(est, sei = se, method = "EE")
      list(levels = lapply(fits, pooled_block), Q = qb$QE, df = qb$k - 1, pval = qb$QEp)
    }
    sub$fixed <- fit_groups("EE", "z")
    for (m in METHODS) for (test in c("z", "knha")) {
      key <- paste0(m, "_", test)
      sub[[key]] <- safe(fit_groups(m, test))
      sub[[key]]$mixed <- safe(reg_block(rma(d$yi, d$vi, mods = ~ factor(d[[g]]), method = m, test = test)))
    }
    out$subgroups[[g]] <- sub
  }
  metareg[[name]] <- out
}
res$metareg <- metareg

# --- 3. Heterogeneity: se.tau2, confint() (Q-profile: tau^2, I^2, H^2), confint(type = "PL")
# for ML and REML, Hartung-Knapp for every estimator, and the PM tolerance as a control option.
# Shipped examples with escalc defaults (OR; PLO for pritz1997_prop) and metadat datasets.
p <- read.csv("examples/pritz1997_prop.csv")
het_sets <- list()
for (n in c("bcg", "li2007", "nielweise2007")) {
  d <- read2(n); e <- escalc("OR", ai = d$ai, n1i = d$n1i, ci = d$ci, n2i = d$n2i)
  het_sets[[n]] <- list(yi = c(e$yi), vi = c(e$vi))
}
e <- escalc("PLO", xi = p$events, ni = p$total)
het_sets$pritz1997_prop <- list(yi = c(e$yi), vi = c(e$vi))
het_sets$hackshaw1998 <- list(yi = dat.hackshaw1998$yi, vi = dat.hackshaw1998$vi)
het_sets$molloy2014 <- list(yi = c(mol$yi), vi = c(mol$vi))
het_sets$normand1999 <- list(yi = c(nor$yi), vi = c(nor$vi))
het_sets$konstantopoulos2011 <- list(yi = dat.konstantopoulos2011$yi, vi = dat.konstantopoulos2011$vi)
het <- list()
for (n in names(het_sets)) {
  y <- het_sets[[n]]$yi; v <- het_sets[[n]]$vi
  out <- list(yi = y, vi = v)
  for (m in METHODS) {
    r <- rma(y, v, method = m)
    ci <- confint(r)$random
    b <- list(tau2 = r$tau2, se_tau2 = r$se.tau2, tau2_lb = ci["tau^2", "ci.lb"], tau2_ub = ci["tau^2", "ci.ub"],
              I2 = r$I2, I2_lb = ci["I^2(%)", "ci.lb"], I2_ub = ci["I^2(%)", "ci.ub"],
              H2 = r$H2, H2_lb = ci["H^2", "ci.lb"], H2_ub = ci["H^2", "ci.ub"])
    if (m %in% c("ML", "REML")) {
      pl <- confint(r, type = "PL")$random
      b$tau2_pl_lb <- pl["tau^2", "ci.lb"]; b$tau2_pl_ub <- pl["tau^2", "ci.ub"]
    }
    h <- rma(y, v, method = m, test = "knha"); pr <- predict(h)
    b$knha <- list(est = c(h$beta), se = h$se, ci_lb = h$ci.lb, ci_ub = h$ci.ub, pval = h$pval,
                   pi_lb = pr$pi.lb, pi_ub = pr$pi.ub, tau2 = h$tau2)
    out[[m]] <- b
  }
  het[[n]] <- out
}
res$heterogeneity <- het
# The PM tolerance: rma(method = "PM", control = list(tol = 1e-12)) on bcg.
res$pm_tol <- list(tol = 1e-12, tau2 = rma(het_sets$bcg$yi, het_sets$bcg$vi, method = "PM", control = list(tol = 1e-12))$tau2,
                   tau2_default = rma(het_sets$bcg$yi, het_sets$bcg$vi, method = "PM")$tau2)

# --- 4. Influence diagnostics (influence()), Baujat (baujat()) and GOSH (gosh()) statistics.
inf_block <- function(r) {
  inf <- influence(r)
  list(rstudent = inf$inf$rstudent, dffits = inf$inf$dffits, cook_d = inf$inf$cook.d,
       cov_r = inf$inf$cov.r, tau2_del = inf$inf$tau2.del, QE_del = inf$inf$QE.del,
       hat = inf$inf$hat, weight = inf$inf$weight,
       dfbetas = unname(do.call(cbind, unclass(inf$dfbs)[seq_len(r$p)])), inf = inf$is.infl)
}
influence_ref <- list()
for (n in c("bcg", "hackshaw1998", "molloy2014", "normand1999")) {
  y <- het_sets[[n]]$yi; v <- het_sets[[n]]$vi
  out <- list(yi = y, vi = v)
  for (m in c("REML", "DL", "EE", "PM")) out[[paste0(m, "_z")]] <- inf_block(rma(y, v, method = m))
  out$REML_knha <- inf_block(rma(y, v, method = "REML", test = "knha"))
  out$DL_knha <- inf_block(rma(y, v, method = "DL", test = "knha"))
  pdf(NULL)
  for (m in c("EE", "REML")) out[[paste0("baujat_", m)]] <- as.list(baujat(rma(y, v, method = m)))
  dev.off()
  influence_ref[[n]] <- out
}
# with moderators: bcg ~ ablat, molloy2014 ~ meanage
influence_ref$bcg$mods_ablat_REML_z <- inf_block(rma(bcg$yi, bcg$vi, mods = ~ ablat, data = bcg, method = "REML"))
influence_ref$bcg$mods_ablat_REML_knha <- inf_block(rma(bcg$yi, bcg$vi, mods = ~ ablat, data = bcg, method = "REML", test = "knha"))
influence_ref$bcg$ablat <- bcg$ablat
influence_ref$molloy2014$mods_meanage_DL_z <- inf_block(rma(mol$yi, mol$vi, mods = ~ meanage, data = mol, method = "DL"))
influence_ref$molloy2014$meanage <- mol$meanage
res$influence <- influence_ref
gosh_ref <- list()
for (m in c("EE", "DL", "REML")) {
  g <- gosh(rma(nor$yi, nor$vi, method = m), progbar = FALSE)
  gosh_ref[[m]] <- list(k = g$res$k, QE = g$res$QE, I2 = g$res$I2, H2 = g$res$H2, tau2 = g$res$tau2, estimate = g$res$estimate)
}
res$gosh_normand1999 <- gosh_ref

# --- 5. Leave-one-out and cumulative analyses for Mantel-Haenszel and Peto
# (leave1out / cumul of rma.mh(measure = "OR") and rma.peto), in the data's order; and
# blup(rma(yi, vi, method = M, test = T)). Two-arm data: shipped bcg, li2007, nielweise2007 and
# metadat's dat.yusuf1985 (table 6: beta blockers after myocardial infarction, mortality).
seq_block <- function(r) list(est = c(r$estimate), se = r$se, ci_lb = r$ci.lb, ci_ub = r$ci.ub,
                              pval = r$pval, Q = r$Q, Qp = r$Qp, I2 = r$I2, H2 = r$H2, k = r$k)
yus <- dat.yusuf1985[dat.yusuf1985$table == "6", ]
yus <- yus[complete.cases(yus[, c("ai", "n1i", "ci", "n2i")]), ]  # metafor omits the incomplete table too
two <- list(bcg = read2("bcg"), li2007 = read2("li2007"), nielweise2007 = read2("nielweise2007"),
            yusuf1985 = data.frame(ai = yus$ai, n1i = yus$n1i, ci = yus$ci, n2i = yus$n2i))
sequential <- list()
for (n in names(two)) {
  d <- two[[n]]
  mh <- rma.mh(ai = d$ai, n1i = d$n1i, ci = d$ci, n2i = d$n2i, measure = "OR")
  pe <- rma.peto(ai = d$ai, n1i = d$n1i, ci = d$ci, n2i = d$n2i)
  sequential[[n]] <- list(counts = d,
    mh_loo = seq_block(suppressWarnings(leave1out(mh))), mh_cumul = seq_block(suppressWarnings(cumul(mh))),
    peto_loo = seq_block(suppressWarnings(leave1out(pe))), peto_cumul = seq_block(suppressWarnings(cumul(pe))))
}
res$sequential <- sequential
blups <- list()
for (n in c("bcg", "hackshaw1998", "normand1999")) {
  y <- het_sets[[n]]$yi; v <- het_sets[[n]]$vi
  out <- list(yi = y, vi = v)
  for (m in c("REML", "DL", "PM")) for (test in c("z", "knha")) {
    b <- blup(rma(y, v, method = m, test = test))
    out[[paste0(m, "_", test)]] <- list(pred = b$pred, se = b$se, pi_lb = b$pi.lb, pi_ub = b$pi.ub)
  }
  blups[[n]] <- out
}
res$blup <- blups

res$provenance <- list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                       metadat = as.character(packageVersion("metadat")),
                       lme4 = as.character(packageVersion("lme4")),
                       script = "tests/reference/metafor_issue20.R")
writeLines(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"),
           "tests/reference/metafor_issue20.json")
