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

from bayesmeta.analysis import AnalysisResult, reference_direction
from bayesmeta.data import StudyData, TwoArmData
from bayesmeta.summaries import inv_logit

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
    """A posterior probability; 0 and 1 from finite draws are shown as bounds."""
    if p >= 1.0:
        return "> 0.9999"
    if p <= 0.0:
        return "< 0.0001"
    return f"{p:.4f}"


def _transform(data: StudyData) -> tuple[Callable[[Any], Any], str]:
    if isinstance(data, TwoArmData):
        return np.exp, "OR"
    return inv_logit, "proportion"


def study_table(result: AnalysisResult) -> Table:
    """Counts, observed effect with 95% CI, shrunken (posterior) effect with 95% CrI."""
    fn, label = _transform(result.data)
    table = Table(title="Studies", title_justify="left", box=None, pad_edge=False)
    table.add_column("Study")
    if isinstance(result.data, TwoArmData):
        table.add_column("Treatment", justify="right")
        table.add_column("Control", justify="right")
    else:
        table.add_column("Events", justify="right")
    table.add_column(f"Observed {label} [95% CI]", justify="right")
    table.add_column(f"Shrunken {label} [95% CrI]", justify="right")
    for row in result.studies():
        obs = row["observed"]
        if obs is None:
            observed = "not estimable (double zero)"
        else:
            lo, hi = obs["ci95"]
            mark = "*" if obs["corrected"] else ""
            observed = f"{_num(fn(obs['estimate']))} {_interval(fn(lo), fn(hi))}{mark}"
        sh = row["shrunken"]
        shrunk = f"{_num(fn(sh['median']))} {_interval(fn(sh['ci95'][0]), fn(sh['ci95'][1]))}"
        if isinstance(result.data, TwoArmData):
            counts = [
                f"{row['treatment_events']}/{row['treatment_total']}",
                f"{row['control_events']}/{row['control_total']}",
            ]
        else:
            counts = [f"{row['events']}/{row['total']}"]
        table.add_row(str(row["study"]), *counts, observed, shrunk)
    return table


def posterior_table(result: AnalysisResult) -> Table:
    """Pooled effect, heterogeneity, predictive effect and probabilities."""
    post = result.posterior.to_dict()
    table = Table(title="Posterior", title_justify="left", box=None, pad_edge=False)
    for col in ("Quantity", "Median", "Mean", "SD", "95% CrI"):
        table.add_column(col, justify="left" if col == "Quantity" else "right")

    def add(name: str, s: dict[str, Any], digits: int = 3) -> None:
        table.add_row(
            name,
            _num(s["median"], digits),
            _num(s["mean"], digits),
            _num(s["sd"], digits),
            _interval(*s["ci95"], digits),
        )
        if "hdi95" in s:
            table.add_row("", "", "", "95% HDI", _interval(*s["hdi95"], digits))

    if isinstance(result.data, TwoArmData):
        add("Pooled OR, exp(mu)", post["odds_ratio"])
        add("Pooled log OR, mu", post["mu"])
        if "tau" in post:
            add("Heterogeneity SD, tau", post["tau"])
        add("OR in a new study", post["predictive_odds_ratio"])
        table.add_row("P(OR < 1)", _prob(post["prob_mu_below_0"]))
        table.add_row("P(OR > 1)", _prob(post["prob_mu_above_0"]))
    else:
        add("Pooled proportion", post["proportion"])
        add("Pooled logit, mu", post["mu"])
        if "tau" in post:
            add("Heterogeneity SD, tau", post["tau"])
        add("Proportion in a new study", post["predictive_proportion"])
    return table


def frequentist_table(
    blocks: dict[str, Any], data: StudyData, methods: tuple[str, ...] | None = None
) -> Table:
    """The chosen frequentist estimates on the ratio scale with CI, p, tau^2, I^2, PI."""
    fn, label = _transform(data)
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


def render(
    result: AnalysisResult, console: Console, *, methods: tuple[str, ...] | None = None
) -> None:
    """Print the whole report."""
    info = result.data_dict()
    head = f"bayesmeta: {result.model} model, {info['k']} studies, {info['patients']} patients"
    if isinstance(result.data, TwoArmData):
        head += f"; {info['k_zero_cell']} with a zero cell, {info['k_double_zero']} double-zero"
    console.print(head)
    if isinstance(result.data, TwoArmData) and info["k_zero_cell"]:
        console.print("Zero cells are used as they are by the binomial model (no correction).")
    console.print(f"Effect: {reference_direction(result.data)}")
    console.print(
        f"Priors: mu ~ {result.priors.mu}"
        + ("" if result.common_effect else f", tau ~ {result.priors.tau}")
        + (f", baselines ~ {result.priors.baseline}" if isinstance(result.data, TwoArmData) else "")
    )
    console.print()
    console.print(study_table(result))
    if any(o["corrected"] for o in result.observed.values()):
        console.print("* observed estimate with 0.5 added to each cell (zero cell)")
    console.print()
    console.print(posterior_table(result))
    console.print()
    console.print(frequentist_table(result.frequentist, result.data, methods))
    console.print()
    d = result.diagnostics
    if d.converged:
        console.print(f"Diagnostics: OK. {diagnostics_line(result)}")
    else:
        console.print(
            f"[bold red]WARNING: NOT CONVERGED ({'; '.join(d.problems)}). "
            "Do not use these posterior numbers.[/bold red]"
        )
        console.print(f"Diagnostics: {diagnostics_line(result)}")
