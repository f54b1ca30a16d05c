"""The Bayesian publication-bias ensemble on the terminal (it only reads the result)."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table

from bayesmeta.io.reported import RATIO_MEASURES
from bayesmeta.summaries.types import Summary
from bayesmeta.workflows.bias import BiasEnsemble

_COMPONENTS = (
    ("effect", "Effect"),
    ("heterogeneity", "Heterogeneity"),
    ("bias", "Publication bias"),
)


def _bf(log_bf: float) -> str:
    return f"{math.exp(log_bf):.3g}" if abs(log_bf) < 700 else f"e^{log_bf:.1f}"


def _line(name: str, s: Summary, ratio: bool) -> str:
    text = (
        f"{name}: median {s.median:.3f}, mean {s.mean:.3f}, {s.level:.0%} CrI "
        f"[{s.interval[0]:.3f}, {s.interval[1]:.3f}]"
    )
    if ratio:
        lo, hi = s.interval
        text += f"  (ratio {math.exp(s.median):.3f} [{math.exp(lo):.3f}, {math.exp(hi):.3f}])"
    return text


def render_bias(result: BiasEnsemble, console: Console, *, models: bool = False) -> None:
    """Components with inclusion Bayes factors, the averaged effects, the weight function;
    with ``models`` every model's probabilities."""
    console.print(
        f"Publication-bias ensemble: {len(result.models)} models (RoBMA-PSMA), k = {result.k}, "
        f"measure {result.measure}; expected direction of the effect: {result.direction}; "
        f"priors {result.priors.name}; each study's normal approximation (y, se)."
    )
    table = Table(title="Components", title_justify="left")
    for col in ("Component", "Prior prob.", "Posterior prob.", "Inclusion BF"):
        table.add_column(col, justify="left" if col == "Component" else "right")
    for key, label in _COMPONENTS:
        prior, post = result.component_probabilities(key)
        table.add_row(label, f"{prior:.3f}", f"{post:.3f}", _bf(result.log_inclusion_bf[key]))
    console.print(table)
    ratio = result.measure in RATIO_MEASURES
    console.print(_line("Model-averaged mu (bias-adjusted)", result.mu, ratio))
    if result.mu_conditional is not None:
        console.print(_line("  conditional on an effect", result.mu_conditional, ratio))
    console.print(_line("Unadjusted mu (models without bias)", result.unadjusted, ratio))
    console.print(_line("Model-averaged tau", result.tau, False))
    wf = result.weight_function
    edges = (0.0, *wf.cuts, 1.0)
    cells = ", ".join(
        f"p {a:g}-{b:g}: {m:.3f}" for a, b, m in zip(edges[:-1], edges[1:], wf.mean, strict=True)
    )
    console.print(f"Model-averaged weight function (one-sided p): {cells}")
    console.print(
        f"Largest quadrature error of a log marginal likelihood: {result.max_log_ml_error:.1e}"
    )
    if models:
        table = Table(title="Models", title_justify="left")
        for col in (
            "Effect",
            "Heterogeneity",
            "Bias",
            "Prior prob.",
            "log p(y | m)",
            "Post. prob.",
        ):
            table.add_column(col, justify="left" if col in ("Effect", "Bias") else "right")
        for r in result.models:
            table.add_row(
                "yes" if r.model.effect else "no",
                "random" if r.model.random else "common",
                r.model.bias.name,
                f"{r.prior:.4f}",
                f"{r.log_ml:.3f}",
                f"{r.posterior:.4g}",
            )
        console.print(table)
