"""Terminal report of an analysis: study table, posterior, frequentist table, diagnostics.

Ratios are shown on the odds-ratio scale (proportions for single-arm data); the JSON keeps
the model scale. Rendering only: every number comes from the result object.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from bayesmeta.io.counts import SingleArmData, TwoArmData
from bayesmeta.summaries.draws import inv_logit
from bayesmeta.workflows.analyze import AnalysisResult, reference_direction

FREQUENTIST_LABELS = {
    "mantel_haenszel": "Mantel-Haenszel (common)",
    "peto": "Peto (common)",
    "fixed_iv": "Inverse-variance (common)",
    "random_dl": "DerSimonian-Laird",
    "random_reml": "REML",
    "random_pm": "Paule-Mandel",
    "random_ml": "ML",
    "random_eb": "Empirical Bayes",
    "random_he": "Hedges",
    "random_sj": "Sidik-Jonkman",
    "random_hs": "Hunter-Schmidt",
    "random_reml_hksj": "REML + Hartung-Knapp",
    "random_dl_hksj": "DL + Hartung-Knapp",
    "glmm_um_fs": "Binomial-normal GLMM (ML)",
    "glmm": "Binomial-normal GLMM (ML)",
}


def _num(x: float | None, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    if abs(x) >= 1000:
        return f"{x:.0f}"
    return f"{x:.{digits}f}"


def _interval(lo: float | None, hi: float | None, digits: int = 2) -> str:
    return f"[{_num(lo, digits)}, {_num(hi, digits)}]"


def _p(p: float | None) -> str:
    if p is None or not math.isfinite(p):
        return "-"
    return "<0.0001" if p < 1e-4 else f"{p:.4f}"


def _prob(p: float) -> str:
    """A posterior probability to 4 decimals; beyond them, shown as a bound."""
    if p > 0.9999:
        return "> 0.9999"
    if p < 0.0001:
        return "< 0.0001"
    return f"{p:.4f}"


def scale_transform(scale: str) -> tuple[Callable[[Any], Any], str]:
    """How to show values of ``scale``: the back-transform and its label."""
    if scale == "log_odds_ratio":
        return np.exp, "OR"
    if scale == "logit_proportion":
        return inv_logit, "proportion"
    if scale.startswith("log_") and scale.endswith("ratio"):
        label = "".join(w[0] for w in scale.split("_")[1:]).upper()  # log_hazard_ratio -> HR
        return np.exp, label
    return (lambda x: x), scale


def _row_counts(result: AnalysisResult, row: dict[str, Any]) -> list[str]:
    if isinstance(result.data, TwoArmData):
        return [
            f"{row['treatment_events']}/{row['treatment_total']}",
            f"{row['control_events']}/{row['control_total']}",
        ]
    if isinstance(result.data, SingleArmData):
        return [f"{row['events']}/{row['total']}"]
    return []


def study_table(result: AnalysisResult) -> Table:
    """Counts, observed effect with 95% CI, shrunken (posterior) effect with 95% CrI."""
    fn, label = scale_transform(result.scale)
    table = Table(title="Studies", title_justify="left", box=None, pad_edge=False)
    table.add_column("Study")
    if isinstance(result.data, TwoArmData):
        table.add_column("Treatment", justify="right")
        table.add_column("Control", justify="right")
    elif isinstance(result.data, SingleArmData):
        table.add_column("Events", justify="right")
    table.add_column(f"Observed {label} [95% CI]", justify="right")
    table.add_column(f"Shrunken {label} [95% CrI]", justify="right")
    for row in result.studies():
        obs = row["observed"]
        if obs is None:
            observed = "not estimable"
        else:
            lo, hi = obs["ci95"]
            mark = "*" if obs["corrected"] else ""
            observed = f"{_num(fn(obs['estimate']))} {_interval(fn(lo), fn(hi))}{mark}"
        sh = row["shrunken"]
        if sh is None:
            shrunk = "not in the model (double zero)"
        else:
            lo, hi = sh["ci95"]
            shrunk = f"{_num(fn(sh['median']))} {_interval(fn(lo), fn(hi))}"
        table.add_row(str(row["study"]), *_row_counts(result, row), observed, shrunk)
    return table


def _summary_table(title: str) -> Table:
    table = Table(title=title, title_justify="left", box=None, pad_edge=False)
    for col in ("Quantity", "Median", "Mean", "SD", "95% CrI"):
        table.add_column(col, justify="left" if col == "Quantity" else "right")
    return table


def _add(table: Table, name: str, s: dict[str, Any], digits: int = 3, *extra: str) -> None:
    table.add_row(
        name,
        _num(s["median"], digits),
        _num(s["mean"], digits),
        _num(s["sd"], digits),
        _interval(*s["ci95"], digits),
        *extra,
    )
    if "hdi95" in s:
        table.add_row("", "", "", "95% HDI", _interval(*s["hdi95"], digits))


RATIO_BLOCKS = {
    "OR": ("odds_ratio", "predictive_odds_ratio"),
    "proportion": ("proportion", "predictive_proportion"),
}


def posterior_table(result: AnalysisResult) -> Table:
    """Pooled effect, heterogeneity, predictive effect and probabilities."""
    post = result.posterior.to_dict()
    _, label = scale_transform(result.scale)
    table = _summary_table("Posterior")
    pooled, predictive = RATIO_BLOCKS.get(label, (None, None))
    where = " at covariate means" if result.posterior.regression else ""
    if "mu" in post:
        if pooled in post:
            _add(table, f"Pooled {label}{where}", post[pooled])
        _add(table, f"Pooled mu ({result.scale}){where}", post["mu"])
    if "tau" in post:
        _add(table, "Heterogeneity SD, tau", post["tau"])
    if "theta_new" in post:
        if predictive in post:
            _add(table, f"{label} in a new study", post[predictive])
        _add(table, "theta_new (new study)", post["theta_new"])
    if "prob_mu_below_0" in post:
        below = "P(OR < 1)" if label == "OR" else "P(mu < 0)"
        table.add_row(below, _prob(post["prob_mu_below_0"]))
        table.add_row(below.replace("<", ">"), _prob(post["prob_mu_above_0"]))
    return table


def regression_table(result: AnalysisResult) -> Table:
    """Meta-regression coefficients on the model scale with P(coefficient < 0)."""
    table = _summary_table("Meta-regression (model scale; intercept at covariate value 0)")
    table.add_column("P(< 0)", justify="right")
    for name, s in result.posterior.regression["coefficients"].items():
        digits = 4 if abs(s["median"]) < 0.1 else 3
        _add(table, name, s, digits, _prob(s["prob_below_0"]))
    return table


def subgroup_table(result: AnalysisResult) -> Table:
    """Pooled effect and new-study interval per subgroup, then differences to the first."""
    fn, label = scale_transform(result.scale)
    sub = result.posterior.subgroups
    table = Table(
        title=f"Subgroups ({result.moderators.subgroup})",
        title_justify="left",
        box=None,
        pad_edge=False,
    )
    for col in (
        "Subgroup",
        f"{label} [95% CrI]",
        f"New study {label} [95% PrI]",
        "tau",
        "P(mu < 0)",
    ):
        table.add_column(col, justify="left" if col == "Subgroup" else "right")
    for level, b in sub["levels"].items():
        mu, new = b["mu"], b["theta_new"]
        tau = b.get("tau")
        table.add_row(
            level,
            f"{_num(fn(mu['median']))} {_interval(*(fn(v) for v in mu['ci95']))}",
            f"{_num(fn(new['median']))} {_interval(*(fn(v) for v in new['ci95']))}",
            _num(tau["median"], 3) if tau else "common",
            _prob(b["prob_mu_below_0"]),
        )
    return table


def subgroup_differences(result: AnalysisResult) -> list[str]:
    """One line per subgroup difference (against the first level), on the display scale."""
    fn, label = scale_transform(result.scale)
    what = f"ratio of {label}s" if fn is np.exp else "difference"
    lines = []
    for name, d in result.posterior.subgroups["differences"].items():
        a, b = name.split(" - ")
        lines.append(
            f"{a} vs {b}: {what} {_num(fn(d['median']))} "
            f"{_interval(*(fn(v) for v in d['ci95']))}, P(mu_{a} < mu_{b}) = "
            f"{_prob(d['prob_below_0'])}"
        )
    return lines


def frequentist_table(
    blocks: dict[str, Any], scale: str, methods: tuple[str, ...] | None = None
) -> Table:
    """The chosen frequentist estimates on the ratio scale with CI, p, tau^2, I^2, PI."""
    fn, label = scale_transform(scale)
    table = Table(title="Frequentist", title_justify="left", box=None, pad_edge=False)
    for col in ("Method", label, "95% CI", "p", "tau^2", "I^2 %", "95% PI"):
        table.add_column(col, justify="left" if col == "Method" else "right")
    for key in methods or tuple(blocks):
        block = blocks.get(key)
        if not isinstance(block, dict):
            continue
        name = FREQUENTIST_LABELS.get(key, key)
        if "skipped" in block:
            table.add_row(name, f"not estimable: {block['skipped']}", "", "", "", "", "")
            continue
        if "estimate" not in block:
            continue
        pi = block.get("pi95")
        table.add_row(
            name,
            _num(fn(block["estimate"])),
            _interval(*(fn(v) for v in block["ci95"])),
            _p(block.get("p")),
            _num(block.get("tau2"), 3),
            _num(block.get("i2"), 1),
            _interval(*(fn(v) for v in pi)) if pi else "-",
        )
    return table


def diagnostics_line(result: AnalysisResult) -> str:
    """One line: sampler, draws, R-hat, ESS, divergences, time, and the verdict."""
    d = result.diagnostics
    text = (
        f"{d.sampler} NUTS, {d.chains} chains x {d.draws} draws (tune {d.tune}, target accept "
        f"{d.target_accept}): R-hat max {d.rhat_max:.3f}, ESS bulk min {d.ess_bulk_min:.0f}, "
        f"tail min {d.ess_tail_min:.0f}, divergences {d.divergences}, {d.seconds:.1f} s"
        + (" (refitted once)" if d.refitted else "")
    )
    return text


def _comparison_line(c: dict[str, Any]) -> str:
    if c["method"] == "bayes_factor":
        return (
            f"Random vs common effect: log Bayes factor {c['log_bf_random_vs_common']:.2f} "
            "(exact marginal likelihoods; > 0 favours random effects)"
        )
    line = (
        f"Random vs common effect (PSIS-LOO): ELPD difference "
        f"{c['elpd_diff_random_minus_common']:.1f} (SE {c['se_diff']:.1f}; > 0 favours random)"
    )
    if c["studies_pareto_k_above_0_7"]:
        line += f"; unreliable: Pareto k > 0.7 for {c['studies_pareto_k_above_0_7']} study(ies)"
    return line


def _header(result: AnalysisResult, console: Console) -> None:
    info = result.data_dict()
    head = f"bayesmeta: {result.model} model ({result.engine}), {info['k']} studies"
    if "patients" in info:
        head += f", {info['patients']} patients"
    if isinstance(result.data, TwoArmData):
        head += f"; {info['k_zero_cell']} with a zero cell, {info['k_double_zero']} double-zero"
    console.print(head)
    if isinstance(result.data, TwoArmData) and info["k_zero_cell"]:
        if result.model == "binomial-normal":
            console.print("Zero cells are used as they are by the binomial model (no correction).")
        else:
            console.print(
                "Normal-normal model on escalc log odds ratios (0.5 added to zero cells)."
            )
    console.print(f"Effect: {reference_direction(result.data)}")
    priors = f"Priors: mu ~ {result.priors.mu}"
    if not result.common_effect:
        priors += f", tau ~ {result.priors.tau}"
    if result.model == "binomial-normal":
        priors += f", baselines ~ {result.priors.baseline}"
    if result.posterior.regression:
        priors += f", slopes ~ {result.moderators.prior_beta}"
    console.print(priors)


def _diagnostics(result: AnalysisResult, console: Console) -> None:
    d = result.diagnostics
    if d is None:
        console.print("Exact posterior by numerical integration (no sampling, no MCMC error).")
    elif d.converged:
        console.print(f"Diagnostics: OK. {diagnostics_line(result)}")
    else:
        console.print(
            f"[bold red]WARNING: NOT CONVERGED ({'; '.join(d.problems)}). "
            "Do not use these posterior numbers.[/bold red]"
        )
        console.print(f"Diagnostics: {diagnostics_line(result)}")


def render(
    result: AnalysisResult, console: Console, *, methods: tuple[str, ...] | None = None
) -> None:
    """Print the whole report."""
    _header(result, console)
    console.print()
    console.print(study_table(result))
    if any(o["corrected"] for o in result.observed.values()):
        console.print("* observed estimate with 0.5 added to each cell (zero cell)")
    console.print()
    if result.posterior.subgroups:
        console.print(subgroup_table(result))
        for line in subgroup_differences(result):
            console.print(line)
        console.print()
    if result.posterior.mu is not None or result.posterior.tau is not None:
        console.print(posterior_table(result))
        console.print()
    if result.posterior.regression:
        console.print(regression_table(result))
        console.print()
    if result.comparison:
        console.print(_comparison_line(result.comparison))
        console.print()
    console.print(frequentist_table(result.frequentist, result.scale, methods))
    console.print()
    _diagnostics(result, console)
