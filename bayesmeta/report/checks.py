"""The model checks on the terminal: a table per study and a line per check (computed in
:mod:`bayesmeta.summaries.checks`; this module only renders them)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from bayesmeta.summaries.checks import ModelChecks


def checks_rows(checks: ModelChecks) -> tuple[list[str], list[list[str]]] | None:
    """Columns and rows of the per-study table: statistic, posterior predictive p-values and,
    from draws, LOO-PIT and Pareto k (None when the posterior predictive checks were not run).
    The terminal and the report documents show the same rows."""
    ppc = checks.posterior_predictive
    if ppc is None:
        return None
    loo = ppc.elpd_loo is not None
    columns = ["Study", "Observed", "P(rep < obs)", "p (two-sided)"]
    columns += ["LOO-PIT", "Pareto k"] if loo else []
    rows = []
    for s in ppc.studies:
        row = [s.study, f"{s.observed:.3f}", f"{s.p_lower:.3f}", f"{s.p_value:.3f}"]
        rows.append(row + ([f"{s.loo_pit:.3f}", f"{s.pareto_k:.2f}"] if loo else []))
    return columns, rows


def checks_table(checks: ModelChecks) -> Table | None:
    """:func:`checks_rows` as a terminal table."""
    shown = checks_rows(checks)
    if shown is None:
        return None
    columns, rows = shown
    table = Table(title="Posterior predictive checks", title_justify="left", box=None)
    for j, column in enumerate(columns):
        table.add_column(column, justify="left" if j == 0 else "right")
    for row in rows:
        table.add_row(*row)
    return table


def checks_lines(checks: ModelChecks) -> list[str]:
    """One line per check: what it found, or why it was not run."""
    out = []
    for name, value in (
        ("Posterior predictive", checks.posterior_predictive),
        ("Prior predictive", checks.prior_predictive),
    ):
        key = name.lower().replace(" ", "_")
        text = value.line() if value is not None else f"not run: {checks.reasons[key]}"
        out.append(f"{name}: {text}")
    return out


def render_checks(checks: ModelChecks, console: Console) -> None:
    """Print the table and the lines."""
    table = checks_table(checks)
    if table is not None:
        console.print(table)
    for line in checks_lines(checks):
        console.print(line)
    console.print()
