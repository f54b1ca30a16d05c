"""Terminal report of an analysis: study table, posterior, frequentist table, diagnostics.

Ratios are shown on the odds-ratio scale (proportions for single-arm data); the JSON keeps
the model scale. Rendering only: every number comes from the typed result.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bayesmeta.frequentist.classic import MetaRegressions, Subgroups
from bayesmeta.frequentist.metareg import MetaRegression, SubgroupFits
from bayesmeta.frequentist.methods import METHODS
from bayesmeta.frequentist.results import Estimate, PooledEstimate, Skipped
from bayesmeta.model.description import reference_direction
from bayesmeta.model.likelihoods import native
from bayesmeta.model.scales import Scale
from bayesmeta.report.format import interval, num, p_value, percent, probability
from bayesmeta.report.table import Table as TableModel
from bayesmeta.report.table import print_table, to_rich
from bayesmeta.report.table import table as table_model
from bayesmeta.summaries.types import Summary
from bayesmeta.workflows.analyze import AnalysisResult
from bayesmeta.workflows.average import ModelAverage
from bayesmeta.workflows.bayes_factors import BayesFactors
from bayesmeta.workflows.compare import BayesFactor, Comparison
from bayesmeta.workflows.sensitivity import SensitivityRow


def _shown(scale: Scale, s: Summary) -> str:
    """Median and interval of ``s`` on the shown scale: ``0.47 [0.31, 0.70]``."""
    lo, hi = s.interval
    return f"{num(scale.show(s.median))} {interval(scale.show(lo), scale.show(hi))}"


def study_rows(result: AnalysisResult) -> TableModel:
    """Counts, observed effect with CI, shrunken (posterior) effect with CrI; the note on
    zero-cell corrections when a study has one."""
    scale, level = result.scale, percent(result.level)
    show = scale.show
    family = native(result.data)
    columns = ["Study", *family.cell_titles]
    columns += [f"Observed {scale.label} [{level} CI]", f"Shrunken {scale.label} [{level} CrI]"]
    rows = []
    for i, name in enumerate(result.data.study):
        obs = result.observed.get(name)
        if obs is None:
            observed = "not estimable"
        else:
            lo, hi = obs.interval
            mark = "*" if obs.corrected else ""
            observed = f"{num(show(obs.estimate))} {interval(show(lo), show(hi))}{mark}"
        sh = result.posterior.theta.get(name)
        shrunk = "not in the model (double zero)" if sh is None else _shown(scale, sh)
        rows.append([str(name), *family.cells(result.data, i), observed, shrunk])
    notes = []
    if any(o.corrected for o in result.observed.values()):
        notes.append("* observed estimate with 0.5 added to each cell (zero cell)")
    return table_model(columns, rows, title="Studies", notes=notes)


def study_table(result: AnalysisResult) -> Table:
    """:func:`study_rows` as a rich table (without its note)."""
    return to_rich(study_rows(result))


def _summary_row(name: str, s: Summary, digits: int = 3, *extra: str) -> list[list[str]]:
    """A summary's row (median, mean, SD, interval, ``extra``), then its HDI's if it has one."""
    rows = [[name, num(s.median, digits), num(s.mean, digits), num(s.sd, digits),
             interval(*s.interval, digits), *extra]]  # fmt: skip
    if s.hdi is not None:
        rows.append(["", "", "", f"{percent(s.level)} HDI", interval(*s.hdi, digits)])
    return rows


SUMMARY_COLUMNS = ("Quantity", "Median", "Mean", "SD")


def posterior_rows(result: AnalysisResult) -> TableModel:
    """Pooled effect, heterogeneity, predictive effect and probabilities."""
    post, scale = result.posterior, result.scale
    rows: list[list[str]] = []
    where = " at covariate means" if post.coefficients else ""
    if post.mu is not None:
        if post.pooled is not None:
            rows += _summary_row(f"Pooled {scale.label}{where}", post.pooled)
        rows += _summary_row(f"Pooled mu ({scale.name}){where}", post.mu)
    if post.tau is not None:
        rows += _summary_row("Heterogeneity SD, tau", post.tau)
    if post.theta_new is not None:
        if post.predictive is not None:
            rows += _summary_row(f"{scale.label} in a new study", post.predictive)
        rows += _summary_row("theta_new (new study)", post.theta_new)
    if post.prob_mu_below_0 is not None:
        below = scale.below
        rows.append([below, probability(post.prob_mu_below_0)])
        rows.append([below.replace("<", ">"), probability(1.0 - post.prob_mu_below_0)])
    columns = [*SUMMARY_COLUMNS, f"{percent(result.level)} CrI"]
    return table_model(columns, rows, title="Posterior")


def posterior_table(result: AnalysisResult) -> Table:
    """:func:`posterior_rows` as a rich table."""
    return to_rich(posterior_rows(result))


def regression_rows(result: AnalysisResult) -> TableModel:
    """Meta-regression coefficients on the model scale with P(coefficient < 0)."""
    rows: list[list[str]] = []
    for name, s in (result.posterior.coefficients or {}).items():
        digits = 4 if abs(s.median) < 0.1 else 3
        rows += _summary_row(name, s, digits, probability(s.prob_below_0))
    columns = [*SUMMARY_COLUMNS, f"{percent(result.level)} CrI", "P(< 0)"]
    title = "Meta-regression (model scale; intercept at covariate value 0)"
    return table_model(columns, rows, title=title)


def regression_table(result: AnalysisResult) -> Table:
    """:func:`regression_rows` as a rich table."""
    return to_rich(regression_rows(result))


def subgroup_rows(result: AnalysisResult) -> TableModel:
    """Pooled effect and new-study interval per subgroup."""
    scale, level = result.scale, percent(result.level)
    columns = ["Subgroup", f"{scale.label} [{level} CrI]"]
    columns += [f"New study {scale.label} [{level} PrI]", "tau", "P(mu < 0)"]
    rows = [
        [
            name,
            _shown(scale, group.mu),
            _shown(scale, group.theta_new),
            num(group.tau.median, 3) if group.tau else "common",
            probability(group.prob_mu_below_0),
        ]
        for name, group in (result.posterior.subgroups or {}).items()
    ]
    return table_model(columns, rows, title=f"Subgroups ({result.moderators.subgroup})")


def subgroup_table(result: AnalysisResult) -> Table:
    """:func:`subgroup_rows` as a rich table."""
    return to_rich(subgroup_rows(result))


def subgroup_differences(result: AnalysisResult) -> list[str]:
    """One line per subgroup difference (against the first level), on the shown scale."""
    scale = result.scale
    what = f"ratio of {scale.label}s" if scale.log_ratio else "difference"
    lines = []
    for name, d in (result.posterior.differences or {}).items():
        a, b = name.split(" - ")
        lines.append(
            f"{a} vs {b}: {what} {_shown(scale, d.summary)}, P(mu_{a} < mu_{b}) = "
            f"{probability(d.summary.prob_below_0)}"
        )
    return lines


def frequentist_rows(
    estimates: Mapping[str, Estimate], scale: Scale, methods: Sequence[str] | None = None
) -> TableModel:
    """The chosen frequentist estimates on the shown scale with CI, p, tau^2, I^2, PI."""
    show = scale.show
    level = next((e.level for e in estimates.values() if isinstance(e, PooledEstimate)), 0.95)
    rows = []
    for key in methods or tuple(estimates):
        estimate = estimates.get(key)
        name = METHODS[key].label if key in METHODS else key
        if isinstance(estimate, Skipped):
            rows.append([name, f"not estimable: {estimate.reason}", "", "", "", "", ""])
            continue
        if not isinstance(estimate, PooledEstimate):
            continue
        pi = estimate.pi
        rows.append(
            [
                name,
                num(show(estimate.estimate), scale.digits),
                interval(*(show(v) for v in estimate.ci), scale.digits),
                "zero-width CI" if estimate.degenerate else p_value(estimate.p),
                num(estimate.tau2, 3 if scale.digits <= 3 else 6),
                num(estimate.i2, 1),
                interval(*(show(v) for v in pi), scale.digits) if pi else "-",
            ]
        )
    columns = ["Method", scale.label, f"{percent(level)} CI", "p", "tau^2", "I^2 %"]
    return table_model([*columns, f"{percent(level)} PI"], rows, title="Frequentist")


def frequentist_table(
    estimates: Mapping[str, Estimate], scale: Scale, methods: Sequence[str] | None = None
) -> Table:
    """:func:`frequentist_rows` as a rich table."""
    return to_rich(frequentist_rows(estimates, scale, methods))


def titled_table(title: str, columns: tuple[str, ...]) -> TableModel:
    """An empty table titled ``title``; the first two columns text (left), the rest numbers."""
    return table_model(list(columns), [], first_text=2, title=title)


def _df(fit: MetaRegression) -> str:
    return ", ".join(str(d) for d in fit.qm_df)


def regression_tables(
    regression: MetaRegressions, shown: tuple[str, ...], level: float
) -> tuple[TableModel, ...]:
    """The coefficients of the ``shown`` methods (model scale), every method's tests and the
    intervals of its residual tau^2, I^2 and H^2 (metafor ``confint``), when it has them."""
    coef = titled_table(
        f"Meta-regression on {', '.join(regression.covariates)} (coefficients on the model scale)",
        ("Method", "Coefficient", "Estimate", "SE", f"{percent(level)} CI", "p"),
    )
    tests = titled_table(
        "Meta-regression tests",
        ("Method", "QM (df)", "p", "QE (df)", "p", "tau^2", "I^2 %", "R^2 %"),
    )
    for name, fit in regression.fits.items():
        label = METHODS[name].label
        if isinstance(fit, Skipped):
            tests.add_row(label, f"not estimable: {fit.reason}", *[""] * 6)
            continue
        if name in shown:
            for j, coefficient in enumerate(fit.names):
                coef.add_row(
                    label if j == 0 else "",
                    coefficient,
                    num(fit.coef[j], 4),
                    num(fit.se[j], 4),
                    interval(*fit.ci[j], 4),
                    p_value(fit.p[j]),
                )
        tests.add_row(
            label,
            f"{num(fit.qm)} ({_df(fit)})",
            p_value(fit.qm_p),
            f"{num(fit.qe)} ({fit.qe_df})",
            p_value(fit.qe_p),
            num(fit.tau2, 4),
            num(fit.i2, 1),
            num(fit.r2, 1),
        )
    ci = f"{percent(level)} CI"
    spread = titled_table(
        "Meta-regression residual heterogeneity (Q-profile intervals; PL: profile likelihood)",
        ("Method", "tau^2", ci, "I^2 %", ci, "H^2", ci, f"tau^2 PL {ci}"),
    )
    for name, fit in regression.fits.items():
        if isinstance(fit, Skipped) or fit.tau2_ci is None:
            continue
        spread.add_row(
            METHODS[name].label,
            num(fit.tau2, 4),
            interval(*fit.tau2_ci, 4),
            num(fit.i2, 1),
            interval(*fit.i2_ci, 1) if fit.i2_ci is not None else "-",
            num(fit.h2, 2),
            interval(*fit.h2_ci, 2) if fit.h2_ci is not None else "-",
            interval(*fit.tau2_ci_pl, 4) if fit.tau2_ci_pl is not None else "-",
        )
    return (coef, tests, spread) if spread.rows else (coef, tests)


def subgroup_tables(
    subgroups: Subgroups, shown: tuple[str, ...], scale: Scale, level: float
) -> tuple[TableModel, TableModel]:
    """Each ``shown`` method's fit per subgroup and every method's test for differences."""
    show = scale.show
    fits = titled_table(
        f"Subgroups by {subgroups.by}",
        ("Method", "Subgroup", "k", scale.label, f"{percent(level)} CI", "tau^2", "I^2 %"),
    )
    tests = titled_table(
        "Test for subgroup differences",
        ("Method", "Q between (df)", "p", "Mixed-effects QM (one tau^2)", "p"),
    )
    for name, fit in subgroups.fits.items():
        label = METHODS[name].label
        if isinstance(fit, Skipped):
            tests.add_row(label, f"not estimable: {fit.reason}", "", "", "")
            continue
        assert isinstance(fit, SubgroupFits)
        if name in shown:
            for j, (group, pe) in enumerate(fit.levels.items()):
                fits.add_row(
                    label if j == 0 else "",
                    group,
                    str(pe.k),
                    num(show(pe.estimate)),
                    interval(*(show(v) for v in pe.ci)),
                    num(pe.tau2, 3),
                    num(pe.i2, 1),
                )
        mixed = fit.mixed_effects
        tests.add_row(
            label,
            f"{num(fit.between.q)} ({fit.between.df})",
            p_value(fit.between.p),
            f"{num(mixed.qm)} ({_df(mixed)})" if mixed else "-",
            p_value(mixed.qm_p) if mixed else "-",
        )
    return fits, tests


def diagnostics_line(result: AnalysisResult) -> str:
    """One line: sampler, draws, R-hat, ESS, divergences, time, and the verdict."""
    d = result.diagnostics
    return (
        f"{d.sampler} NUTS, {d.chains} chains x {d.draws} draws (tune {d.tune}, target accept "
        f"{d.target_accept}): R-hat max {d.rhat_max:.3f}, ESS bulk min {d.ess_bulk_min:.0f}, "
        f"tail min {d.ess_tail_min:.0f}, divergences {d.divergences}, {d.seconds:.1f} s"
        + (" (refitted once)" if d.refitted else "")
        + (
            f"; exact check: quantiles within {d.exact_check:.2f} posterior SD of the exact "
            "posterior"
            if d.exact_check is not None
            else ""
        )
    )


def bayes_factor_lines(bf: BayesFactors) -> list[str]:
    """The two Bayes factors with their hypotheses, then any note on the priors."""
    lines = [
        f"Bayes factor, effect: BF10 {bf.bf_effect:.4g} (log {bf.log_bf_effect:.2f}); "
        f"{bf.effect_hypotheses}",
        f"Bayes factor, heterogeneity: BF10 {bf.bf_heterogeneity:.4g} "
        f"(log {bf.log_bf_heterogeneity:.2f}); {bf.heterogeneity_hypotheses}",
    ]
    return lines + [f"Note: {note}" for note in bf.notes]


def render_average(avg: ModelAverage, console: Console) -> None:
    """Model averaging: the four models' probabilities, the inclusion Bayes factors, and the
    model-averaged posteriors of mu and tau (model scale)."""
    table = Table(title="Models", title_justify="left")
    for col in ("Model", "Prior prob.", "log p(y | model)", "Posterior prob."):
        table.add_column(col, justify="left" if col == "Model" else "right")
    for m in avg.log_ml:
        table.add_row(
            m.replace("_", ", "),
            f"{avg.prior_probabilities[m]:.3f}",
            f"{avg.log_ml[m]:.3f}",
            f"{avg.posterior_probabilities[m]:.4g}",
        )
    console.print(table)
    console.print(
        f"Inclusion Bayes factor, effect: {math.exp(avg.log_inclusion_bf_effect):.4g} "
        f"(log {avg.log_inclusion_bf_effect:.2f}); heterogeneity: "
        f"{_exp_text(avg.log_inclusion_bf_heterogeneity)} "
        f"(log {avg.log_inclusion_bf_heterogeneity:.2f})"
    )
    for name, s in (("mu", avg.mu), ("tau", avg.tau)):
        console.print(
            f"Model-averaged {name}: median {s.median:.3f}, mean {s.mean:.3f}, SD {s.sd:.3f}, "
            f"{s.level:.0%} CrI [{s.interval[0]:.3f}, {s.interval[1]:.3f}]"
        )


def _exp_text(x: float) -> str:
    return f"{math.exp(x):.4g}" if x < 709 else f"e^{x:.1f}"


def absolute_table(result: AnalysisResult) -> Table:
    """Treated risk, risk difference per 1,000, risk ratio and NNT at each control risk, for
    the pooled effect and a new study (posterior medians with equal-tailed intervals); the
    control risk from the studies with its interval; the probability of a benefit if asked."""
    level = percent(result.level)
    absolute = result.absolute
    benefit = absolute.benefit if absolute else None
    harmful = benefit is None or benefit.fewer
    table = Table(
        title="Absolute effects from the posterior (at each control-group risk)",
        title_justify="left",
        box=None,
        pad_edge=False,
    )
    columns = [
        "Control risk",
        "Effect",
        f"Treated risk [{level} CrI]",
        f"Difference per 1,000 [{level} CrI]",
        f"RR [{level} CrI]",
        "NNT (median)",
    ]
    if benefit is not None:
        columns.append(f"P({benefit.describe()})")
    for col in columns:
        table.add_column(col, justify="left" if col in ("Control risk", "Effect") else "right")
    for e in absolute.effects if absolute else ():
        rd, rr, risk = e.risk_difference_per_1000, e.risk_ratio, e.treated_risk
        nnt = e.nnt
        control = (
            num(e.baseline_risk, 3)
            if e.control_risk is None
            else (
                f"studies: {num(e.control_risk.median, 3)} {interval(*e.control_risk.interval, 3)}"
            )
        )
        row = [
            control,
            "pooled" if e.of == "pooled" else "new study",
            f"{num(risk.median, 3)} {interval(*risk.interval, 3)}",
            f"{num(rd.median, 1)} {interval(*rd.interval, 1)}",
            f"{num(rr.median)} {interval(*rr.interval)}",
            "-" if nnt is None else f"{e.nnt_label(harmful)} {math.ceil(nnt)}",
        ]
        if benefit is not None:
            row.append(probability(e.p_benefit))
        table.add_row(*row)
    if absolute is not None and any(e.control_risk is not None for e in absolute.effects):
        table.caption = (
            "studies: the posterior predictive control risk of the model's study baselines "
            "(a study drawn at random from those analysed), median and interval"
        )
        table.caption_justify = "left"
    return table


def posterior_measure_note(result: AnalysisResult) -> str:
    """Where the posterior's own RR or RD is (the absolute effects), or how to get it."""
    if result.measure not in ("RR", "RD"):
        return ""
    if result.absolute is None:
        return f"; give --baseline-risk for its {result.measure} from the posterior"
    where = (
        "at the trials' control risks ('studies')"
        if any(e.control_risk is not None for e in result.absolute.effects)
        else "at the control risks given"
    )
    return f"; its {result.measure} from the posterior, {where}, is in the absolute effects"


def comparison_line(c: Comparison) -> str:
    """Random against common effect in one line."""
    if isinstance(c, BayesFactor):
        return (
            f"Random vs common effect: log Bayes factor {c.log_bf_random_vs_common:.2f} "
            "(exact marginal likelihoods; > 0 favours random effects)"
        )
    line = (
        f"Random vs common effect (PSIS-LOO): ELPD difference "
        f"{c.elpd_diff_random_minus_common:.1f} (SE {c.se_diff:.1f}; > 0 favours random)"
    )
    if c.studies_pareto_k_above_0_7:
        line += f"; unreliable: Pareto k > 0.7 for {c.studies_pareto_k_above_0_7} study(ies)"
    return line


def _header(result: AnalysisResult, console: Console) -> None:
    info = result.data_dict()
    family = native(result.data)
    head = f"bayesmeta: {result.model} model ({result.engine}), {info['k']} studies"
    console.print(head + family.header(result.data, info))
    zero = family.zero_cell_line(info, family.name == result.model)
    if zero is not None:
        console.print(zero)
    console.print(f"Effect: {reference_direction(result.data)}")
    label = {"mu": "mu", "tau": "tau", "baseline": "baselines"}
    used = result.spec.priors_used()
    priors = "Priors: " + ", ".join(f"{label[n]} ~ {p}" for n, p in used.items() if p is not None)
    if result.posterior.coefficients:
        priors += f", slopes ~ {result.moderators.prior_beta}"
    console.print(priors)
    for warning in result.data.warnings:
        console.print(Text(f"Warning: {warning}", style="bold yellow"))


def _diagnostics(result: AnalysisResult, console: Console) -> None:
    d = result.diagnostics
    uninformative = _uninformative(result)
    if d is None:
        console.print("Exact posterior by numerical integration (no sampling, no MCMC error).")
    elif d.converged and uninformative:
        console.print(
            Text(
                "Diagnostics: the sampler converged, but the data carry no information on the "
                "effect (see the warning above): the posterior shows the prior, not a finding.",
                style="bold yellow",
            )
        )
        console.print(diagnostics_line(result))
    elif d.converged:
        console.print(f"Diagnostics: OK. {diagnostics_line(result)}")
    else:
        console.print(
            Text(
                f"WARNING: NOT CONVERGED ({'; '.join(d.problems)}). "
                "Do not use these posterior numbers.",
                style="bold red",
            )
        )
        console.print(f"Diagnostics: {diagnostics_line(result)}")


def _uninformative(result: AnalysisResult) -> bool:
    """The counts carry no information on the effect (or on one side of it)."""
    from bayesmeta.io.information import information_warnings

    data = result.data
    return native(data).checks_information and bool(information_warnings(data))


def render(
    result: AnalysisResult, console: Console, *, methods: Sequence[str] | None = None
) -> None:
    """Print the whole report."""
    _header(result, console)
    console.print()
    print_table(study_rows(result), console)
    console.print()
    post = result.posterior
    if post.subgroups:
        console.print(subgroup_table(result))
        for line in subgroup_differences(result):
            console.print(line)
        console.print()
    if post.mu is not None or post.tau is not None:
        console.print(posterior_table(result))
        console.print()
    if result.absolute is not None:
        console.print(absolute_table(result))
        console.print(
            "treated risk = expit(logit(control risk) + theta), theta = mu (pooled) or "
            "theta_new (a new study), over the posterior; NNT = 1000 / |median difference per "
            "1,000|, rounded up"
        )
        console.print()
    if post.coefficients:
        console.print(regression_table(result))
        console.print()
    if result.checks is not None:
        from bayesmeta.report.checks import render_checks

        render_checks(result.checks, console)
    if result.comparison is not None:
        console.print(comparison_line(result.comparison))
    if result.bayes_factors is not None:
        for line in bayes_factor_lines(result.bayes_factors):
            console.print(line)
        console.print()
    if result.measure is not None:
        fs, bs = result.frequentist_scale, result.scale
        console.print(
            f"Frequentist rows on the {(fs.axis or fs.label).lower()} ({fs.label}) scale "
            f"(--measure {result.measure}); the Bayesian posterior above is on the "
            f"{(bs.axis or bs.label).lower()} ({bs.label}) scale of the {result.model} model"
            f"{posterior_measure_note(result)}."
        )
    console.print(frequentist_table(result.frequentist, result.frequentist_scale, methods))
    console.print()
    shown = tuple(methods or result.frequentist)
    regression, groups = result.frequentist_meta_regression, result.frequentist_subgroups
    if regression is not None:  # the methods shown above, as fit shows them
        regression = replace(regression, fits={k: regression.fits[k] for k in shown
                                               if k in regression.fits})  # fmt: skip
        for table in regression_tables(regression, shown, result.level):
            print_table(table, console)
            console.print()
    if groups is not None:
        groups = replace(groups, fits={k: groups.fits[k] for k in shown if k in groups.fits})
        for table in subgroup_tables(groups, shown, result.scale, result.level):
            print_table(table, console)
            console.print()
    _diagnostics(result, console)


def sensitivity_table(rows: Sequence[SensitivityRow]) -> Table:
    """One row per tau prior: the pooled effect and tau under it (prior sensitivity)."""
    scale = rows[0].scale
    show = scale.show
    table = Table(
        title="Prior sensitivity: pooled effect and tau under each prior for tau",
        title_justify="left",
        box=None,
    )
    table.add_column("tau prior")
    level = percent(rows[0].mu.level)
    for column in (
        f"{scale.label} median",
        f"{level} CrI",
        scale.below,
        "tau median",
        f"tau {level} CrI",
        "converged",
    ):
        table.add_column(column, justify="right")
    for row in rows:
        lo, hi = (float(show(v)) for v in row.mu.interval)
        table.add_row(
            str(row.prior),
            f"{float(show(row.mu.median)):.3f}",
            f"{lo:.3f} to {hi:.3f}",
            f"{row.prob_mu_below_0:.3f}",
            f"{row.tau.median:.3f}",
            f"{row.tau.interval[0]:.3f} to {row.tau.interval[1]:.3f}",
            "yes" if row.converged else "NO",
        )
    return table
