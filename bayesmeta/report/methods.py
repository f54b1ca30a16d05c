"""The words of a report: the methods paragraph, why each prior, the references, and the
ROBUST and BARG checklists filled from the analysis.

Everything here is generated from the analysis actually run (model, priors, engine, sampler
settings and diagnostics, software versions), so a methods section pasted from the report says
what was done. Prior justifications are those of ``docs/priors.md``; a prior that is not one of
bayesmeta's documented choices is reported as the analyst's, to be justified in the paper.

Checklists: ROBUST (Sung et al. 2005, J Clin Epidemiol 58:261), seven items for reporting a
Bayesian analysis of a clinical study; BARG (Kruschke 2021, Nat Hum Behav 5:1282), the
Bayesian analysis reporting guidelines, six steps. Each item names the report section that
answers it and what the analysis says; an item the report does not answer says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

from bayesmeta.frequentist.methods import METHODS
from bayesmeta.model.description import reference_direction
from bayesmeta.model.likelihoods import LIKELIHOODS
from bayesmeta.model.priors import Prior
from bayesmeta.report.format import percent
from bayesmeta.workflows.analyze import AnalysisResult
from bayesmeta.workflows.report import Analyses, NotRun

REFERENCES: dict[str, str] = {
    "smith1995": "Smith TC, Spiegelhalter DJ, Thomas A. Bayesian approaches to random-effects "
    "meta-analysis: a comparative study. Stat Med 1995;14(24):2685-2699.",
    "jackson2018": "Jackson D, Law M, Stijnen T, Viechtbauer W, White IR. A comparison of seven "
    "random-effects models for meta-analyses that estimate the summary odds ratio. Stat Med "
    "2018;37(7):1059-1085.",
    "hoffman2014": "Hoffman MD, Gelman A. The No-U-Turn sampler: adaptively setting path lengths "
    "in Hamiltonian Monte Carlo. J Mach Learn Res 2014;15:1593-1623.",
    "pymc2023": "Abril-Pla O, Andreani V, Carroll C, et al. PyMC: a modern, and comprehensive "
    "probabilistic programming framework in Python. PeerJ Comput Sci 2023;9:e1516.",
    "vehtari2021": "Vehtari A, Gelman A, Simpson D, Carpenter B, Bürkner PC. Rank-normalization, "
    "folding, and localization: an improved R-hat for assessing convergence of MCMC. Bayesian "
    "Anal 2021;16(2):667-718.",
    "sailynoja2022": "Säilynoja T, Bürkner PC, Vehtari A. Graphical test for discrete "
    "uniformity and its applications in goodness-of-fit evaluation and multiple sample "
    "comparison. Stat Comput 2022;32:32.",
    "rover2020": "Röver C. Bayesian random-effects meta-analysis using the bayesmeta R package. "
    "J Stat Softw 2020;93(6):1-51.",
    "higgins2009": "Higgins JPT, Thompson SG, Spiegelhalter DJ. A re-evaluation of random-effects "
    "meta-analysis. J R Stat Soc Ser A 2009;172(1):137-159.",
    "gunhan2020": "Günhan BK, Röver C, Friede T. Random-effects meta-analysis of few studies "
    "involving rare events. Res Synth Methods 2020;11(1):74-90.",
    "spiegelhalter2004": "Spiegelhalter DJ, Abrams KR, Myles JP. Bayesian approaches to clinical "
    "trials and health-care evaluation. Chichester: Wiley; 2004.",
    "friede2017": "Friede T, Röver C, Wandel S, Neuenschwander B. Meta-analysis of two studies "
    "in the presence of heterogeneity with applications in rare diseases. Biom J "
    "2017;59(4):658-671.",
    "rover2021": "Röver C, Bender R, Dias S, et al. On weakly informative prior distributions "
    "for the heterogeneity parameter in Bayesian random-effects meta-analysis. Res Synth "
    "Methods 2021;12(4):448-474.",
    "turner2015": "Turner RM, Jackson D, Wei Y, Thompson SG, Higgins JPT. Predictive "
    "distributions for between-study heterogeneity and simple methods for their application "
    "in Bayesian meta-analysis. Stat Med 2015;34(6):984-998.",
    "viechtbauer2010": "Viechtbauer W. Conducting meta-analyses in R with the metafor package. "
    "J Stat Softw 2010;36(3):1-48.",
    "mantel1959": "Mantel N, Haenszel W. Statistical aspects of the analysis of data from "
    "retrospective studies of disease. J Natl Cancer Inst 1959;22(4):719-748.",
    "dersimonian1986": "DerSimonian R, Laird N. Meta-analysis in clinical trials. Control Clin "
    "Trials 1986;7(3):177-188.",
    "hartung2001": "Hartung J, Knapp G. A refined method for the meta-analysis of controlled "
    "clinical trials with binary outcome. Stat Med 2001;20(24):3875-3889.",
    "higgins2002": "Higgins JPT, Thompson SG. Quantifying heterogeneity in a meta-analysis. "
    "Stat Med 2002;21(11):1539-1558.",
    "egger1997": "Egger M, Davey Smith G, Schneider M, Minder C. Bias in meta-analysis detected "
    "by a simple, graphical test. BMJ 1997;315(7109):629-634.",
    "harbord2006": "Harbord RM, Egger M, Sterne JAC. A modified test for small-study effects in "
    "meta-analyses of controlled trials with binary endpoints. Stat Med 2006;25(20):3443-3457.",
    "peters2006": "Peters JL, Sutton AJ, Jones DR, Abrams KR, Rushton L. Comparison of two "
    "methods to detect publication bias in meta-analysis. JAMA 2006;295(6):676-680.",
    "sterne2011": "Sterne JAC, Sutton AJ, Ioannidis JPA, et al. Recommendations for examining "
    "and interpreting funnel plot asymmetry in meta-analyses of randomised controlled trials. "
    "BMJ 2011;343:d4002.",
    "sung2005": "Sung L, Hayden J, Greenberg ML, Koren G, Feldman BM, Tomlinson GA. Seven items "
    "were identified for inclusion when reporting a Bayesian analysis of a clinical study. "
    "J Clin Epidemiol 2005;58(3):261-268.",
    "guyatt2013": "Guyatt GH, Oxman AD, Santesso N, et al. GRADE guidelines: 12. Preparing "
    "summary of findings tables-binary outcomes. J Clin Epidemiol 2013;66(2):158-172.",
    "kruschke2021": "Kruschke JK. Bayesian analysis reporting guidelines. Nat Hum Behav "
    "2021;5(10):1282-1291.",
    # the references only one likelihood cites, from its module
    **{k: v for lik in LIKELIHOODS.values() for k, v in lik.citations.items()},
}

# Justifications of bayesmeta's documented priors (docs/priors.md), by (parameter, prior text).
JUSTIFICATIONS: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("mu", "normal(0, 2.82)"): (
        "weakly informative: 95% of its mass on odds ratios between 1/250 and 250, excluding "
        "only implausibly huge effects, which stabilises sparse-data fits",
        ("gunhan2020",),
    ),
    ("tau", "half-normal(0.5)"): (
        "weakly informative for log odds ratios: median 0.34, 95% below 0.98, so it allows "
        "'fairly high' heterogeneity (tau 0.5 to 1) and rules out the extreme (above 1), with "
        "positive density at tau = 0",
        ("spiegelhalter2004", "friede2017", "rover2021"),
    ),
    ("baseline", "normal(0, 10)"): (
        "vague on the log-odds scale of the control-arm risks (nuisance parameters)",
        (),
    ),
    ("mu", "normal(0, 1.5)"): (
        "close to uniform on the proportion scale (its logistic transform is flat-topped "
        "between 0.05 and 0.95)",
        (),
    ),
    ("tau", "half-normal(1)"): (
        "proportions vary across populations more than relative effects do: twice the scale "
        "used for log odds ratios (median 0.67, 95% below 1.96)",
        (),
    ),
    ("tau", "half-cauchy(0.5)"): (
        "weakly informative with a heavy tail (median 0.5)",
        ("rover2021",),
    ),
    ("mu", "flat"): (
        "the improper uniform prior, the R bayesmeta package's default: no prior information "
        "on the pooled effect",
        ("rover2020",),
    ),
    ("tau", "uniform-improper"): (
        "the improper uniform prior on [0, inf), the R bayesmeta package's default (a proper "
        "posterior with at least 2 studies, 3 with a flat mu; its heavy tail makes the "
        "posterior mean of a ratio infinite)",
        ("rover2020",),
    ),
}


def cite(*keys: str) -> str:
    """``(Smith 1995; Jackson 2018)``-style citation of reference keys."""
    names = []
    for key in keys:
        author = REFERENCES[key].split(" ", 1)[0]
        names.append(f"{author} {key[-4:]}")
    return f"({'; '.join(names)})"


def justification(name: str, prior: Prior) -> tuple[str, tuple[str, ...]]:
    """Why ``prior`` was used for parameter ``name``, with the references that say so."""
    text = str(prior)
    if name == "tau" and text.startswith("turner("):
        return (
            "an informative empirical prior: the predictive distribution of heterogeneity for "
            "this outcome and comparison type from 14,886 Cochrane meta-analyses",
            ("turner2015",),
        )
    known = JUSTIFICATIONS.get((name, text))
    if known is not None:
        return known
    return ("chosen by the analyst (not one of bayesmeta's documented defaults); state its "
            "justification in the paper", ())  # fmt: skip


def software() -> dict[str, str]:
    """Versions of the software that produced the numbers and figures."""
    out = {}
    for package in ("bayesmeta", "pymc", "nutpie", "arviz", "numpy", "scipy", "matplotlib"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "not installed"
    return out


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of the methods section and the references it cites."""

    title: str
    text: str
    references: tuple[str, ...] = ()


def _model(result: AnalysisResult) -> Paragraph:
    scale = result.scale.name.replace("_", " ")
    family = result.spec.family
    text, refs = family.methods_text(result.data, scale), family.references
    if result.common_effect:
        text += " The common-effect variant fixes tau = 0, so every study shares mu."
    mods = result.moderators
    if mods is not None and mods.x is not None:
        text += (
            f" Covariates ({', '.join(mods.names)}) enter centred at their means, so mu is the "
            "effect at the average covariate values; their slopes have the prior "
            f"{mods.prior_beta}."
        )
    if mods is not None and mods.group is not None:
        tau = "its own tau" if mods.separate_tau else "a common tau"
        text += f" Each level of {mods.subgroup} has its own pooled effect mu and {tau}."
    text += (
        f" The pooled effect is mu on the {scale} scale; theta_new ~ N(mu, tau^2) is the "
        "effect in a new study, whose interval is the prediction interval."
    )
    return Paragraph("Model", text, (*refs, "higgins2009"))


def _priors(result: AnalysisResult) -> Paragraph:
    parts, refs = [], []
    for name in result.spec.prior_names:
        prior = getattr(result.priors, name)
        why, keys = justification(name, prior)
        label = {"mu": "mu", "tau": "tau", "baseline": "each study's baseline alpha_i"}[name]
        parts.append(f"{label} ~ {prior}: {why}{' ' + cite(*keys) if keys else ''}")
        refs += keys
    return Paragraph("Priors", "Priors: " + "; ".join(parts) + ".", tuple(refs))


def _computation(result: AnalysisResult) -> Paragraph:
    versions = software()
    if result.fit is None and result.spec.family.exact == "exact_binomial":
        text = (
            "The posterior was computed exactly by numerical integration (each study's "
            "likelihood integrated over its baseline and its effect, mu and tau on a "
            "two-dimensional quadrature grid); there is no Monte Carlo error in its quantiles."
        )
        return Paragraph("Computation", text, ())
    if result.fit is None:
        text = (
            "The posterior was computed exactly by numerical integration (mu analytically "
            "given tau, tau by adaptive quadrature), as in the R bayesmeta package; there is "
            "no Monte Carlo error in its quantiles."
        )
        return Paragraph("Computation", text, ("rover2020",))
    s, d = result.fit.settings, result.diagnostics
    text = (
        f"The posterior was sampled with the No-U-Turn sampler (NUTS) of nutpie "
        f"{versions['nutpie']} on models defined in PyMC {versions['pymc']} "
        f"{cite('hoffman2014', 'pymc2023')}: {s.chains} chains of {s.draws} draws after "
        f"{s.tune} tuning steps, target acceptance rate {s.target_accept:g}, random seed "
        f"{s.seed}."
    )
    if d.refitted:
        text += (
            " The first fit failed a convergence check, so it was refitted once with a target "
            "acceptance of 0.99 and twice the tuning; the numbers are from the refit."
        )
    text += (
        " Convergence was judged by the rank-normalised split R-hat (at most 1.01), bulk and "
        "tail effective sample sizes (at least 400) of mu, tau, each theta_i and theta_new, "
        f"and the absence of divergent transitions {cite('vehtari2021')}: maximum R-hat "
        f"{d.rhat_max:.3f}, minimum bulk ESS {d.ess_bulk_min:.0f}, minimum tail ESS "
        f"{d.ess_tail_min:.0f}, {d.divergences} divergent transition(s); "
        + ("all checks passed." if d.converged else f"NOT CONVERGED ({'; '.join(d.problems)}).")
    )
    return Paragraph("Computation", text, ("hoffman2014", "pymc2023", "vehtari2021"))


def _summaries(result: AnalysisResult) -> Paragraph:
    level = percent(result.level)
    scale = result.scale
    if scale.log_ratio:
        meaning = "the posterior probability that the pooled ratio is below 1"
    elif scale.unit_interval:
        meaning = "the posterior probability that the pooled proportion is below 0.5"
    else:
        meaning = "the posterior probability that the pooled effect is below 0"
    text = (
        f"We report posterior medians with {level} equal-tailed credible intervals (CrI), "
        f"{scale.below} ({meaning}) and the {level} prediction interval for the effect in a "
        "new study."
    )
    return Paragraph("Posterior summaries", text, ("higgins2009",))


def _absolute(result: AnalysisResult) -> list[Paragraph]:
    """How the absolute effects and the summary of findings were computed (none without)."""
    absolute = result.absolute
    if absolute is None:
        return []
    risks = ", ".join(e.baseline_text for e in absolute.effects if e.of == "pooled")
    text = (
        f"Absolute effects at control-group risks {risks} were computed from the posterior of "
        "the log odds ratio theta: the risk with treatment expit(logit(p0) + theta), the risk "
        "difference per 1,000 and the risk ratio, for the pooled effect (theta = mu) and for a "
        "new study (theta = theta_new), with medians and equal-tailed intervals; the number "
        "needed to treat is 1,000 over the median difference per 1,000."
    )
    if any(e.control_risk is not None for e in absolute.effects):
        text += (
            " The control risk 'studies' is the posterior predictive control risk of the "
            "model's study baselines, expit(alpha_J) with J a study drawn at random from those "
            "analysed."
        )
    if absolute.benefit is not None:
        text += (
            f" The probability of a clinically relevant benefit is the posterior probability "
            f"of {absolute.benefit.describe()} with treatment."
        )
    text += (
        " The summary-of-findings table follows GRADE; its certainty column is left for the "
        "reviewer to rate (risk of bias, inconsistency, indirectness, imprecision, publication "
        "bias)."
    )
    return [Paragraph("Absolute effects", text, ("guyatt2013",))]


def _frequentist(contents: Analyses) -> Paragraph:
    labels = [METHODS[m].label for m in contents.methods if m in METHODS]
    refs = ["viechtbauer2010", "higgins2002"]
    for name, key in (("mantel_haenszel", "mantel1959"), ("random_dl", "dersimonian1986")):
        if name in contents.methods:
            refs.append(key)
    if any("hksj" in m for m in contents.methods):
        refs.append("hartung2001")
    text = (
        f"For comparison we report frequentist estimates ({', '.join(labels)}), computed by "
        "bayesmeta and matched to R metafor, with Cochran's Q, I^2, the Q-profile interval of "
        "tau^2 and the prediction interval; study estimates follow escalc (0.5 added to the "
        "cells of a study with a zero cell). Study weights in the forest plot are those of the "
        "random-effects model, w_i = 1 / (v_i + tau^2), normalised."
    )
    result = contents.result
    if result.measure is not None and result.frequentist_scale.name != result.scale.name:
        scale = result.frequentist_scale
        text += (
            f" The frequentist estimates are on the {(scale.axis or scale.label).lower()} "
            f"scale (escalc's {result.measure}), the Bayesian model on the log odds ratio."
        )
    return Paragraph("Frequentist comparison", text, tuple(refs))


def _robustness(contents: Analyses) -> Paragraph:
    texts, refs = [], []
    if isinstance(contents.sensitivity, list):
        priors = ", ".join(str(r.prior) for r in contents.sensitivity)
        texts.append(
            f"Prior sensitivity: the model was refitted under each of these priors for tau, "
            f"with the same data, mu prior and seed: {priors}."
        )
    if not isinstance(contents.influence, NotRun):
        texts.append(
            "Influence: the model was refitted without each study in turn (same engine, "
            f"priors and seed), beside the frequentist leave-one-out fits "
            f"({contents.influence.method}, metafor's leave1out)."
        )
    texts.append(
        f"Small-study effects: funnel plot with Egger's regression test {cite('egger1997')}, "
        f"and for two-arm counts Harbord's {cite('harbord2006')} and Peters' "
        f"{cite('peters2006')} tests; with fewer than 10 studies these tests have little power "
        f"{cite('sterne2011')}."
    )
    refs += ["egger1997", "harbord2006", "peters2006", "sterne2011"]
    return Paragraph("Sensitivity and bias", " ".join(texts), tuple(refs))


def _software() -> Paragraph:
    versions = software()
    listed = ", ".join(f"{name} {v}" for name, v in versions.items())
    return Paragraph("Software", f"Software: {listed}.", ())


def methods(contents: Analyses) -> list[Paragraph]:
    """The methods section of the report of ``contents``, one paragraph per topic."""
    result = contents.result
    return [
        _model(result),
        _priors(result),
        _computation(result),
        _summaries(result),
        *_absolute(result),
        _frequentist(contents),
        _robustness(contents),
        _software(),
    ]


def references(paragraphs: list[Paragraph]) -> list[str]:
    """The references cited in ``paragraphs`` and by the checklists, in order of first use."""
    keys: list[str] = []
    for paragraph in paragraphs:
        keys += [k for k in paragraph.references if k not in keys]
    keys += [k for k in ("sailynoja2022", "sung2005", "kruschke2021") if k not in keys]
    return [REFERENCES[k] for k in keys]


@dataclass(frozen=True)
class Item:
    """One checklist item: guideline, item, status, the section that answers it (anchor and
    title) and what the analysis says."""

    guideline: str
    item: str
    status: str
    section: str
    title: str
    answer: str


REPORTED, PARTIAL, MISSING, NOT_APPLICABLE = "reported", "partly", "not reported", "n/a"


def checklist(contents: Analyses) -> list[Item]:
    """ROBUST (7 items) and BARG (by step) filled from ``contents``."""
    result = contents.result
    post, scale = result.posterior, result.scale
    level = percent(result.level)
    priors = prior_list(result)
    custom = any(
        "chosen by the analyst" in justification(n, getattr(result.priors, n))[0]
        for n in result.spec.prior_names
        if n != "baseline"
    )
    model = _model(result).text.split(". ")[0] + "."
    if isinstance(contents.sensitivity, list):
        rows = contents.sensitivity
        medians = [float(scale.show(r.mu.median)) for r in rows]
        sensitivity = (
            REPORTED,
            f"{len(rows)} priors for tau; pooled {scale.label} median from "
            f"{min(medians):.2f} to {max(medians):.2f}",
        )
    else:
        sensitivity = (MISSING, f"not run: {contents.sensitivity.reason}")
    if result.fit is not None:
        d, s = result.diagnostics, result.fit.settings
        technique = f"NUTS (nutpie), {s.chains} chains x {s.draws} draws, seed {s.seed}"
        convergence = (
            REPORTED,
            f"max R-hat {d.rhat_max:.3f}, {d.divergences} divergences"
            + ("" if d.converged else " - NOT CONVERGED"),
        )
        resolution = (REPORTED, f"min bulk ESS {d.ess_bulk_min:.0f}, tail {d.ess_tail_min:.0f}")
    else:
        technique = "exact numerical integration (no MCMC)"
        convergence = (NOT_APPLICABLE, "exact computation: no chains")
        resolution = (NOT_APPLICABLE, "exact computation: no Monte Carlo error in quantiles")
    if post.mu is not None and post.pooled is not None:
        centre = f"posterior median {scale.label} {post.pooled.median:.2f}"
        spread = (
            f"{level} CrI {post.pooled.interval[0]:.2f} to {post.pooled.interval[1]:.2f}; "
            f"SD of mu {post.mu.sd:.3f}"
        )
    elif post.mu is not None:
        centre = f"posterior median mu {post.mu.median:.3f}"
        spread = f"{level} CrI {post.mu.interval[0]:.3f} to {post.mu.interval[1]:.3f}"
    else:
        centre = "posterior medians per subgroup"
        spread = f"{level} CrIs per subgroup"
    comparison = (
        (REPORTED, "random vs common effect compared")
        if result.comparison is not None
        else (NOT_APPLICABLE, "no model comparison or Bayes factor used")
    )
    prior_check, posterior_check = _checks(result)
    averaged = not isinstance(contents.average, NotRun)
    if averaged:
        comparison = (REPORTED, "posterior model probabilities and inclusion Bayes factors "
                      "of the four models (exact marginal likelihoods)")  # fmt: skip
    robust, barg = "ROBUST", "BARG"
    return [
        Item(robust, "1. Prior distribution specified", REPORTED, "methods", "Methods", priors),
        Item(robust, "2. Prior distribution justified", _justified(custom),
             "methods", "Methods", _justified_text(result, custom)),
        Item(robust, "3. Sensitivity analysis of the prior", sensitivity[0], "sensitivity",
             "Prior sensitivity", sensitivity[1]),
        Item(robust, "4. Statistical model", REPORTED, "methods", "Methods", model),
        Item(robust, "5. Analytic technique (computation, software)", REPORTED, "diagnostics",
             "Diagnostics", technique),
        Item(robust, "6. Central tendency", REPORTED, "posterior", "Posterior", centre),
        Item(robust, "7. Standard deviation or credible interval", REPORTED, "posterior",
             "Posterior", spread),
        Item(barg, "1A. Data variables", REPORTED, "data", "Data",
             f"{result.data.k} studies; {reference_direction(result.data)}"),
        Item(barg, "1B. Likelihood function and parameters", REPORTED, "methods", "Methods",
             model),
        Item(barg, "1C. Prior distribution explained and justified", _justified(custom),
             "methods", "Methods", f"{priors}; {_justified_text(result, custom)}"),
        Item(barg, "1D. Formal specification", REPORTED, "methods", "Methods",
             "model equations in the methods paragraph; command and seed in Provenance"),
        Item(barg, "1E. Prior predictive check", prior_check[0], "model-checks",
             "Model checks", prior_check[1]),
        Item(barg, "2A. Software", REPORTED, "methods", "Methods",
             ", ".join(f"{k} {v}" for k, v in software().items() if k != "matplotlib")),
        Item(barg, "2B. MCMC chain convergence", convergence[0], "diagnostics", "Diagnostics",
             convergence[1]),
        Item(barg, "2C. MCMC chain resolution (ESS)", resolution[0], "diagnostics",
             "Diagnostics", resolution[1]),
        Item(barg, "3. Posterior predictive check", posterior_check[0], "model-checks",
             "Model checks", posterior_check[1]),
        Item(barg, "3. Posterior of the parameters summarised", REPORTED, "posterior",
             "Posterior", f"{centre}; {spread}; tau in Heterogeneity"),
        Item(barg, "3. Bayes factors and model probabilities", comparison[0],
             "average" if averaged else "posterior",
             "Model averaging" if averaged else "Posterior", comparison[1]),
        Item(barg, "4. Decisions and their criteria", PARTIAL, "posterior", "Posterior",
             f"{scale.below} reported; no decision threshold or ROPE applied"),
        Item(barg, "5. Sensitivity analysis", sensitivity[0], "sensitivity",
             "Prior sensitivity", sensitivity[1]),
        Item(barg, "6. Reproducibility", REPORTED, "provenance", "Provenance",
             "input SHA-256, full command line, seed and software versions"),
    ]  # fmt: skip


def _checks(result: AnalysisResult) -> tuple[tuple[str, str], tuple[str, str]]:
    """(status, answer) of the prior and posterior predictive items, from the model checks
    the analysis computed (an improper prior has no prior predictive: n/a)."""
    ran = result.checks
    if ran is None:
        missing = (MISSING, "not run: the model checks were not asked for (fit --checks)")
        return missing, missing
    prior = ran.prior_predictive
    if prior is not None:
        prior_item = (REPORTED, prior.line())
    elif result.spec.improper():
        prior_item = (NOT_APPLICABLE, ran.reasons["prior_predictive"])
    else:
        prior_item = (MISSING, f"not run: {ran.reasons['prior_predictive']}")
    ppc = ran.posterior_predictive
    if ppc is not None:
        return prior_item, (REPORTED, ppc.line())
    return prior_item, (MISSING, f"not run: {ran.reasons['posterior_predictive']}")


def prior_list(result: AnalysisResult) -> str:
    """``mu ~ normal(0, 2.82); tau ~ half-normal(0.5); baselines ~ normal(0, 10)``."""
    label = {"mu": "mu", "tau": "tau", "baseline": "baselines"}
    parts = [f"{label[name]} ~ {getattr(result.priors, name)}" for name in result.spec.prior_names]
    mods = result.moderators
    if mods is not None and mods.x is not None:
        parts.append(f"slopes ~ {mods.prior_beta}")
    return "; ".join(parts)


def _justified_text(result: AnalysisResult, custom: bool) -> str:
    keys: list[str] = []
    for name in (n for n in result.spec.prior_names if n != "baseline"):
        keys += [k for k in justification(name, getattr(result.priors, name))[1] if k not in keys]
    text = "each prior's reason is in the priors paragraph"
    if keys:
        text += f" {cite(*keys)}"
    if custom:
        text += "; a prior that is not a documented default needs the analyst's justification"
    return text


def _justified(custom: bool) -> str:
    """A custom prior is stated, but its justification is the analyst's to give."""
    return PARTIAL if custom else REPORTED
