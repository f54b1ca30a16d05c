"""The terminal view of a network meta-analysis: it only renders what the analysis computed
(:class:`~bayesmeta.summaries.network.NetworkSummary` on a
:class:`~bayesmeta.workflows.network.NetworkResult`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.table import Table

if TYPE_CHECKING:
    from rich.console import Console

    from bayesmeta.workflows.network import NetworkResult


def _or(median: float, lower: float, upper: float) -> str:
    return f"{math.exp(median):.2f} ({math.exp(lower):.2f}, {math.exp(upper):.2f})"


def render_network(result: NetworkResult, console: Console) -> None:
    """The data line, the league table of odds ratios, the ranking table, tau and model fit."""
    data, s = result.data, result.summary
    level = f"{s.level:.0%}"
    kind = "fixed-effect" if result.common_effect else "random-effects"
    console.print(
        f"Network meta-analysis ({kind}, NICE DSU TSD2 binomial-logit model): {data.k} "
        f"studies, {data.n_arms} arms, {len(s.treatments)} treatments, "
        f"{int(data.total.sum())} patients; reference {s.reference}"
    )
    priors = result.priors
    tau_text = "" if result.common_effect else f", tau ~ {priors.tau}"
    console.print(f"Priors: d ~ {priors.mu}{tau_text}, study baselines ~ {priors.baseline}")
    league = Table(
        title=f"League table: odds ratio of the row treatment vs the column treatment, "
        f"posterior median ({level} CrI)",
        title_justify="left",
    )
    league.add_column("")
    for t in s.treatments:
        league.add_column(t, justify="right")
    for a in s.treatments:
        cells = []
        for b in s.treatments:
            if a == b:
                cells.append(a)
            else:
                est = s.league[(a, b)][0]
                cells.append(_or(est.median, est.lower, est.upper))
        league.add_row(a, *cells)
    console.print(league)
    ranks = Table(title=f"Ranking ({s.direction})", title_justify="left")
    for col in ("Treatment", "OR vs reference", "Predictive OR", "P(best)", "Mean rank", "SUCRA"):
        ranks.add_column(col, justify="left" if col == "Treatment" else "right")
    for t in sorted(s.treatments, key=lambda t: -s.sucra[t]):
        if t == s.reference:
            versus, predictive = "reference", ""
        else:
            est, pred = s.league[(t, s.reference)]
            versus = _or(est.median, est.lower, est.upper)
            predictive = f"({math.exp(pred.lower):.2f}, {math.exp(pred.upper):.2f})"
        ranks.add_row(
            t,
            versus,
            predictive,
            f"{s.p_best[t]:.3f}",
            f"{s.mean_rank[t]:.2f}",
            f"{s.sucra[t]:.3f}",
        )
    console.print(ranks)
    if s.tau is not None:
        console.print(
            f"Heterogeneity tau (log OR scale, shared by all comparisons): median "
            f"{s.tau.median:.3f} ({level} CrI {s.tau.lower:.3f}, {s.tau.upper:.3f})"
        )
    console.print(
        f"Model fit: residual deviance {s.resdev:.1f} ({s.n_arms} data points), pD "
        f"{s.p_d:.1f}, DIC {s.dic:.1f}"
    )
    if result.ume is not None:
        u = result.ume
        table = Table(
            title="Inconsistency check: consistency vs unrelated mean effects (UME) model "
            "(NICE DSU TSD4; a consistency DIC no larger than the UME's, with a similar "
            "residual deviance, shows no evidence of inconsistency)",
            title_justify="left",
        )
        for col in ("Model", "Residual deviance", "pD", "DIC"):
            table.add_column(col, justify="left" if col == "Model" else "right")
        table.add_row("consistency", f"{s.resdev:.1f}", f"{s.p_d:.1f}", f"{s.dic:.1f}")
        table.add_row("UME", f"{u.resdev:.1f}", f"{u.p_d:.1f}", f"{u.dic:.1f}")
        console.print(table)
        console.print(
            f"{s.n_arms} data points; DIC difference (consistency - UME) {s.dic - u.dic:.1f}"
        )
    freq = result.frequentist
    if freq is not None:
        table = Table(
            title=f"Frequentist contrast-based NMA ({freq.method}, as metafor's rma.mv): odds "
            f"ratio vs {freq.reference} ({freq.level:.0%} CI)",
            title_justify="left",
        )
        table.add_column("Treatment")
        table.add_column("OR vs reference", justify="right")
        table.add_column("p", justify="right")
        for c in freq.basic:
            table.add_row(c.treatment, _or(c.estimate, *c.ci), f"{c.p:.4f}")
        console.print(table)
        console.print(
            f"tau^2 {freq.tau2:.4f}; Q = {freq.q:.2f} on {freq.q_df} df (p = {freq.q_p:.4f}): "
            "heterogeneity and inconsistency together"
        )
    diag = result.fit.diagnostics
    if not diag.converged:
        console.print(f"NOT CONVERGED: {'; '.join(diag.problems)}", style="bold red")
    if result.ume is not None and not result.ume.fit.diagnostics.converged:
        problems = "; ".join(result.ume.fit.diagnostics.problems)
        console.print(f"UME model NOT CONVERGED: {problems}", style="bold red")
